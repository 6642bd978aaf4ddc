package lite

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// MaxBodyBytes bounds a response body: a larger page fails to load.
const MaxBodyBytes = 8 << 20

// maxRedirects is Chromium's limit on redirects of one navigation.
const maxRedirects = 20

// userAgent is what the lite browser calls itself.
const userAgent = "Mozilla/5.0 (compatible; pilot-lite/1.0; +https://github.com/pilotkit/pilot)"

// request is one navigation request.
type request struct {
	method   string // GET or POST
	url      webURL
	body     []byte
	ctype    string // the body's Content-Type
	referrer string
}

// response is the final response of a navigation, after redirects.
type response struct {
	url    webURL
	status int
	header http.Header
	body   []byte
}

// loadError says why a navigation did not load a page; the agent reads it.
type loadError struct {
	refused bool // the URL is outside the allowed origin
	text    string
}

func (e *loadError) message() string {
	if e.refused {
		return "navigation refused: " + e.text
	}
	return "the page did not load: " + e.text
}

// fetch sends req to the handler and follows redirects. A loadError is
// the agent's; a Go error is the caller's context ending.
func (b *Browser) fetch(ctx context.Context, jar *cookies, req request) (*response, *loadError, error) {
	for redirects := 0; ; redirects++ {
		if msg := b.checkURL(req.url); msg != "" {
			return nil, &loadError{refused: true, text: msg}, nil
		}
		resp, lerr, err := b.serve(ctx, jar, req)
		if err != nil || lerr != nil {
			return nil, lerr, err
		}
		loc := resp.header.Get("Location")
		switch resp.status {
		case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		default:
			return resp, nil, nil
		}
		if loc == "" {
			return resp, nil, nil
		}
		if redirects >= maxRedirects {
			return nil, &loadError{text: "net::ERR_TOO_MANY_REDIRECTS"}, nil
		}
		next, err := resolveURL(&req.url, loc)
		if err != nil {
			return nil, &loadError{text: "net::ERR_INVALID_REDIRECT"}, nil
		}
		if !next.isHTTP() {
			return nil, &loadError{text: "net::ERR_UNSAFE_REDIRECT"}, nil
		}
		if !next.hasFrag && req.url.hasFrag {
			next.frag, next.hasFrag = req.url.frag, true
		}
		if resp.status == http.StatusSeeOther || req.method == http.MethodPost && resp.status <= http.StatusFound {
			req.method, req.body, req.ctype = http.MethodGet, nil, ""
		}
		req.url = next
	}
}

// serve runs the handler on one request.
func (b *Browser) serve(ctx context.Context, jar *cookies, req request) (*response, *loadError, error) {
	u, err := req.url.std()
	if err != nil {
		return nil, &loadError{text: "net::ERR_INVALID_URL"}, nil
	}
	uri := req.url.requestURI()
	ru, err := url.ParseRequestURI(uri)
	if err != nil {
		return nil, &loadError{text: "net::ERR_INVALID_URL"}, nil
	}
	hr := &http.Request{
		Method:     req.method,
		URL:        ru,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     http.Header{},
		Host:       req.url.host,
		RemoteAddr: "127.0.0.1:1",
		RequestURI: uri,
		Body:       http.NoBody,
	}
	if req.url.scheme == "https" {
		hr.TLS = &tls.ConnectionState{Version: tls.VersionTLS13, HandshakeComplete: true, ServerName: u.Hostname()}
	}
	h := hr.Header
	h.Set("User-Agent", userAgent)
	h.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	h.Set("Accept-Language", "en-US,en;q=0.9")
	if req.referrer != "" {
		h.Set("Referer", req.referrer)
	}
	if req.body != nil {
		hr.Body = io.NopCloser(bytes.NewReader(req.body))
		hr.ContentLength = int64(len(req.body))
		body := req.body
		hr.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		h.Set("Content-Type", req.ctype)
	}
	if req.method == http.MethodPost {
		origin := "null"
		if r, err := parseURL(req.referrer); err == nil && r.isHTTP() {
			origin = r.origin()
		}
		h.Set("Origin", origin)
	}
	for _, c := range jar.Cookies(u) {
		hr.AddCookie(c)
	}
	hr = hr.WithContext(ctx)

	rec := &recorder{header: http.Header{}}
	p := runHandler(b.h, rec, hr)
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", req.method, req.url, err)
	}
	if p != nil {
		if errors.Is(asError(p), http.ErrAbortHandler) {
			return nil, &loadError{text: "net::ERR_EMPTY_RESPONSE (the handler aborted the response)"}, nil
		}
		return nil, &loadError{text: fmt.Sprintf("net::ERR_EMPTY_RESPONSE (the handler panicked: %v)", p)}, nil
	}
	if rec.overflow {
		return nil, &loadError{text: fmt.Sprintf("the response of %s is larger than %d MiB, the lite browser's limit", req.url, MaxBodyBytes>>20)}, nil
	}
	if !rec.wrote {
		rec.WriteHeader(http.StatusOK)
	}
	hdr := rec.sent
	if cs := (&http.Response{Header: hdr}).Cookies(); len(cs) > 0 {
		jar.SetCookies(u, cs)
	}
	body := rec.body.Bytes()
	if _, set := hdr["Content-Type"]; !set && len(body) > 0 {
		hdr.Set("Content-Type", http.DetectContentType(body))
	}
	return &response{url: req.url, status: rec.status, header: hdr, body: body}, nil, nil
}

func asError(p any) error {
	if err, ok := p.(error); ok {
		return err
	}
	return nil
}

// runHandler serves one request and returns what the handler panicked
// with, if it did.
func runHandler(h http.Handler, w http.ResponseWriter, r *http.Request) (p any) {
	defer func() { p = recover() }()
	h.ServeHTTP(w, r)
	return nil
}

// errBodyTooLarge is what a handler's Write gets past MaxBodyBytes.
var errBodyTooLarge = errors.New("lite: response body too large")

// recorder is the http.ResponseWriter the handler writes to: it keeps the
// status, the headers as they were when the status was written, and up
// to MaxBodyBytes of body.
type recorder struct {
	header   http.Header
	sent     http.Header
	status   int
	wrote    bool
	body     bytes.Buffer
	overflow bool
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.wrote {
		return
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		return // an informational response; the final one follows
	}
	r.status, r.wrote = code, true
	r.sent = r.header.Clone()
}

func (r *recorder) Write(p []byte) (int, error) {
	if !r.wrote {
		if _, set := r.header["Content-Type"]; !set && r.body.Len() == 0 && len(p) > 0 {
			r.header.Set("Content-Type", http.DetectContentType(p))
		}
		r.WriteHeader(http.StatusOK)
	}
	if room := MaxBodyBytes - r.body.Len(); len(p) > room {
		r.body.Write(p[:max(room, 0)])
		r.overflow = true
		return max(room, 0), errBodyTooLarge
	}
	return r.body.Write(p)
}

// Flush is a no-op: the response is read when the handler returns.
func (r *recorder) Flush() {}

// docKind says what a browser does with a response: show it as HTML, as
// text, or not at all (a download, an empty 204).
type docKind int

const (
	kindStay docKind = iota
	kindHTML
	kindText
)

func kindOf(resp *response) docKind {
	if resp.status == http.StatusNoContent || resp.status == http.StatusResetContent {
		return kindStay
	}
	if cd := resp.header.Get("Content-Disposition"); strings.HasPrefix(strings.ToLower(strings.TrimSpace(cd)), "attachment") {
		return kindStay
	}
	ct := resp.header.Get("Content-Type")
	if ct == "" {
		return kindHTML
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(strings.Split(ct, ";")[0]))
	}
	switch {
	case mt == "text/html" || mt == "application/xhtml+xml":
		return kindHTML
	case strings.HasPrefix(mt, "text/") || mt == "application/json" || mt == "application/javascript" ||
		mt == "application/xml" || strings.HasSuffix(mt, "+json") || strings.HasSuffix(mt, "+xml"):
		return kindText
	}
	return kindStay
}
