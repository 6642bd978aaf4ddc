package lite

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
)

// webURL is a URL as Chromium parses and shows it: a small WHATWG-style
// parser, because net/url resolves and re-escapes paths differently (it
// escapes '|' and drops an empty fragment, for instance).
type webURL struct {
	scheme   string // lower case, without ':'
	host     string // host[:port] (lower case, no default port); http(s) only
	userinfo string
	path     string // escaped; "/…" for http(s), opaque otherwise
	query    string
	hasQuery bool
	frag     string
	hasFrag  bool
}

var errBadURL = errors.New("not a valid URL")

func special(scheme string) bool { return scheme == "http" || scheme == "https" }

func (u webURL) isHTTP() bool { return special(u.scheme) }

// String serializes u.
func (u webURL) String() string {
	var b strings.Builder
	b.WriteString(u.scheme)
	b.WriteByte(':')
	if special(u.scheme) {
		b.WriteString("//")
		if u.userinfo != "" {
			b.WriteString(u.userinfo)
			b.WriteByte('@')
		}
		b.WriteString(u.host)
	}
	b.WriteString(u.path)
	if u.hasQuery {
		b.WriteByte('?')
		b.WriteString(u.query)
	}
	if u.hasFrag {
		b.WriteByte('#')
		b.WriteString(u.frag)
	}
	return b.String()
}

// origin is scheme://host[:port] for http(s) URLs, "" otherwise.
func (u webURL) origin() string {
	if !special(u.scheme) {
		return ""
	}
	return u.scheme + "://" + u.host
}

// requestURI is the path and query sent to the server.
func (u webURL) requestURI() string {
	if u.hasQuery {
		return u.path + "?" + u.query
	}
	return u.path
}

// withoutFragment returns u without its fragment.
func (u webURL) withoutFragment() webURL {
	u.frag, u.hasFrag = "", false
	return u
}

// std returns u as a net/url URL.
func (u webURL) std() (*url.URL, error) { return url.Parse(u.String()) }

func (u webURL) isBlank() bool { return u.scheme == "about" && u.path == "blank" }

var blankURL = webURL{scheme: "about", path: "blank"}

// parseURL parses an absolute URL.
func parseURL(s string) (webURL, error) { return resolveURL(nil, s) }

// resolveURL parses ref relative to base (nil: ref must be absolute), as a
// browser resolves a link.
func resolveURL(base *webURL, ref string) (webURL, error) {
	ref = strings.TrimFunc(ref, func(r rune) bool { return r <= 0x20 })
	if strings.ContainsAny(ref, "\t\n\r") {
		ref = strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(ref)
	}
	var r webURL
	s := ref
	if i := strings.IndexByte(s, '#'); i >= 0 {
		r.frag, r.hasFrag = s[i+1:], true
		s = s[:i]
	}
	if i := schemeEnd(s); i > 0 {
		r.scheme = asciiLower(s[:i])
		s = s[i+1:]
	}
	if r.scheme != "" && !special(r.scheme) {
		// javascript:, mailto:, about:, data: … are kept as they are.
		if i := strings.IndexByte(s, '?'); i >= 0 && r.scheme != "javascript" && r.scheme != "data" {
			r.query, r.hasQuery = s[i+1:], true
			s = s[:i]
		}
		r.path = s
		return r, nil
	}
	if i := strings.IndexByte(s, '?'); i >= 0 {
		r.query, r.hasQuery = s[i+1:], true
		s = s[:i]
	}
	s = strings.ReplaceAll(s, "\\", "/")
	relative := r.scheme == ""
	if r.scheme != "" && base != nil && base.scheme == r.scheme && !strings.HasPrefix(s, "/") {
		relative = true // http:foo against an http base is a path
	}
	switch {
	case !relative:
		s = strings.TrimLeft(s, "/")
		fallthrough
	case strings.HasPrefix(s, "//"):
		s = strings.TrimLeft(s, "/")
		if r.scheme == "" {
			if base == nil || !special(base.scheme) {
				return webURL{}, errBadURL
			}
			r.scheme = base.scheme
		}
		end := strings.IndexByte(s, '/')
		if end < 0 {
			end = len(s)
		}
		auth := s[:end]
		if i := strings.LastIndexByte(auth, '@'); i >= 0 {
			r.userinfo, auth = auth[:i], auth[i+1:]
		}
		h, err := normalizeHost(r.scheme, auth)
		if err != nil {
			return webURL{}, err
		}
		r.host = h
		r.path = removeDots(s[end:])
	default:
		if base == nil || !special(base.scheme) {
			return webURL{}, errBadURL
		}
		r.scheme, r.host, r.userinfo = base.scheme, base.host, base.userinfo
		switch {
		case strings.HasPrefix(s, "/"):
			r.path = removeDots(s)
		case s == "":
			r.path = base.path
			if !r.hasQuery {
				r.query, r.hasQuery = base.query, base.hasQuery
			}
		default:
			dir := base.path[:strings.LastIndexByte(base.path, '/')+1]
			r.path = removeDots(dir + s)
		}
	}
	r.path = escapeSet(r.path, pathSet)
	if r.hasQuery {
		r.query = escapeSet(r.query, querySet)
	}
	if r.hasFrag {
		r.frag = escapeSet(r.frag, fragmentSet)
	}
	if _, err := r.std(); err != nil {
		return webURL{}, errBadURL
	}
	return r, nil
}

// schemeEnd returns the index of the ':' that ends a scheme at the start
// of s, or -1.
func schemeEnd(s string) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		case c == ':' && i > 0:
			return i
		default:
			return -1
		}
	}
	return -1
}

// normalizeHost lower-cases a host and drops the scheme's default port.
func normalizeHost(scheme, h string) (string, error) {
	h = asciiLower(h)
	host, port := h, ""
	if strings.HasPrefix(h, "[") {
		end := strings.IndexByte(h, ']')
		if end < 0 {
			return "", errBadURL
		}
		host = h[:end+1]
		if rest := h[end+1:]; rest != "" {
			if rest[0] != ':' {
				return "", errBadURL
			}
			port = rest[1:]
		}
	} else if i := strings.LastIndexByte(h, ':'); i >= 0 {
		host, port = h[:i], h[i+1:]
	}
	if host == "" || strings.ContainsAny(host, " <>\"^`{|}%/\\?#@:") && !strings.HasPrefix(host, "[") {
		return "", errBadURL
	}
	if port != "" {
		if !isDigits(port) {
			return "", errBadURL
		}
		n, err := strconv.Atoi(port)
		if err != nil || n > 65535 {
			return "", errBadURL
		}
		port = strconv.Itoa(n)
	}
	if port == "" || scheme == "http" && port == "80" || scheme == "https" && port == "443" {
		return host, nil
	}
	return host + ":" + port, nil
}

// removeDots removes the . and .. segments of an absolute path.
func removeDots(p string) string {
	if p == "" {
		return "/"
	}
	segs := strings.Split(p, "/")[1:]
	out := make([]string, 0, len(segs))
	for i, s := range segs {
		last := i == len(segs)-1
		switch asciiLower(s) {
		case ".", "%2e":
			if last {
				out = append(out, "")
			}
		case "..", ".%2e", "%2e.", "%2e%2e":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "")
			}
		default:
			out = append(out, s)
		}
	}
	return "/" + strings.Join(out, "/")
}

// Percent-encode sets, beyond C0 controls and non-ASCII: WHATWG URL's, and
// Chromium's for the path (it also encodes '|' and '^').
const (
	pathSet     = " \"<>`{}|^"
	querySet    = " \"<>'"
	fragmentSet = " \"<>`"
)

// escapeSet percent-encodes the bytes of s that are controls, non-ASCII or
// in set. Outside the query, a '%' that starts no escape becomes %25
// (Chromium keeps it; Go's URL parser would refuse it).
func escapeSet(s, set string) string {
	strict := set != querySet
	bad := func(i int) bool {
		c := s[i]
		return c < 0x20 || c >= 0x7f || strings.IndexByte(set, c) >= 0 || strict && c == '%' && !(i+2 < len(s) && isHex(s[i+1:i+3]))
	}
	need := false
	for i := 0; i < len(s); i++ {
		if bad(i) {
			need = true
			break
		}
	}
	if !need {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if bad(i) {
			b.WriteByte('%')
			b.WriteByte("0123456789ABCDEF"[c>>4])
			b.WriteByte("0123456789ABCDEF"[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// ---- forms -----------------------------------------------------------------

// formEntry is one name-value pair of a form's data set.
type formEntry struct {
	name, value string
	file        bool // a file input (with no file chosen)
}

// urlencode is the application/x-www-form-urlencoded serializer.
func urlencode(entries []formEntry) string {
	var b strings.Builder
	for i, e := range entries {
		if i > 0 {
			b.WriteByte('&')
		}
		encodeComponent(&b, crlf(e.name))
		b.WriteByte('=')
		encodeComponent(&b, crlf(e.value))
	}
	return b.String()
}

func encodeComponent(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ':
			b.WriteByte('+')
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '*' || c == '-' || c == '.' || c == '_':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte("0123456789ABCDEF"[c>>4])
			b.WriteByte("0123456789ABCDEF"[c&15])
		}
	}
}

// crlf turns every line break into CR LF, as form submission does.
func crlf(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.ReplaceAll(normalizeNewlines(s), "\n", "\r\n")
}
