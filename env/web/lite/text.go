package lite

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// isJSSpace reports whether r matches JavaScript's \s (and what
// String.prototype.trim removes).
func isJSSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff:
		return true
	}
	return 0x2000 <= r && r <= 0x200a
}

// hasNonBlank is /\S/.test(s).
func hasNonBlank(s string) bool {
	for _, r := range s {
		if !isJSSpace(r) {
			return true
		}
	}
	return false
}

// clean is pilot.js's clean(s) without a limit: JavaScript whitespace
// collapsed to single spaces, trimmed.
func clean(s string) string {
	if isClean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if isJSSpace(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// isClean reports whether clean(s) == s: no whitespace but single spaces
// between words.
func isClean(s string) bool {
	prevSpace := true
	for i := 0; i < len(s); {
		c := s[i]
		if c < 0x80 {
			switch {
			case c == ' ':
				if prevSpace {
					return false
				}
				prevSpace = true
			case c >= '\t' && c <= '\r':
				return false
			default:
				prevSpace = false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if isJSSpace(r) {
			return false
		}
		prevSpace = false
		i += size
	}
	return !prevSpace || s == ""
}

// q is pilot.js's q(clean(s, max)): s cleaned, cut to max UTF-16 code
// units with an ellipsis (max 0: no limit), as a JSON string literal.
func q(s string, max int) string {
	var b strings.Builder
	writeQ(&b, s, max)
	return b.String()
}

// writeQ writes q(s, max) to b. A cut through a surrogate pair leaves its
// high half, which JSON.stringify writes as an escape, as Chromium does.
func writeQ(b *strings.Builder, s string, max int) {
	s = clean(s)
	lone := rune(-1)
	cut := false
	if max > 0 && len(s) > max { // a UTF-16 unit takes at least one byte of UTF-8
		units := 0
		for i, r := range s {
			w := 1
			if r >= 0x10000 {
				w = 2
			}
			if units+w > max {
				if w == 2 && units+1 == max {
					lone = 0xd800 + ((r - 0x10000) >> 10)
				}
				s = s[:i]
				cut = true
				break
			}
			units += w
		}
	}
	b.Grow(len(s) + 8)
	b.WriteByte('"')
	writeJSONBody(b, s)
	if lone >= 0 {
		b.WriteString(`\u`)
		b.WriteString(strconv.FormatInt(int64(lone), 16))
	}
	if cut {
		b.WriteString("…")
	}
	b.WriteByte('"')
}

// writeJSONBody writes s as the inside of a JSON string, escaped as
// JSON.stringify does it. Invalid UTF-8 becomes U+FFFD, byte by byte.
func writeJSONBody(b *strings.Builder, s string) {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x80 {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b.WriteString(s[start:i])
				b.WriteString("\ufffd")
				i++
				start = i
				continue
			}
			i += size
			continue
		}
		if c >= 0x20 && c != '"' && c != '\\' {
			i++
			continue
		}
		b.WriteString(s[start:i])
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteString(`\u00`)
			b.WriteByte("0123456789abcdef"[c>>4])
			b.WriteByte("0123456789abcdef"[c&15])
		}
		i++
		start = i
	}
	b.WriteString(s[start:])
}

// textCollector gathers text as pilot.js's textOf does, and stops early
// once the text is certainly longer than limit after clean (limit
// non-space characters), since only that much of it is ever shown.
type textCollector struct {
	b     strings.Builder
	chars int // non-space runes so far
	limit int // 0: no limit
}

func (t *textCollector) full() bool { return t.limit > 0 && t.chars > t.limit }

func (t *textCollector) add(s string) {
	if t.full() {
		return
	}
	t.b.WriteString(s)
	if t.limit > 0 {
		for _, r := range s {
			if !isJSSpace(r) {
				t.chars++
			}
		}
	}
}

// textOf is pilot.js's textOf: an element's text nodes, with spaces at
// element boundaries, cleaned. limit > 0 may drop text past limit
// characters (the result is then longer than limit).
func textOf(n *html.Node, limit int) string { return textOfSkip(n, limit, false) }

// labelSkip are the elements a label's text leaves out (pilot.js's
// LABEL_SKIP): a select inside its label is named by the label's words.
func labelSkip(n *html.Node) bool {
	switch htmlEl(n) {
	case atom.Select, atom.Textarea, atom.Datalist, atom.Option:
		return true
	}
	return false
}

// textOfSkip is pilot.js's textOf(el, skipControls).
func textOfSkip(n *html.Node, limit int, skipControls bool) string {
	t := textCollector{limit: limit}
	if childElementCount(n) == 0 {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.TextNode {
				t.add(c.Data)
			}
		}
		return clean(t.b.String())
	}
	var rec func(n *html.Node)
	rec = func(n *html.Node) {
		for c := n.FirstChild; c != nil && !t.full(); c = c.NextSibling {
			switch {
			case c.Type == html.TextNode:
				t.add(c.Data)
			case c.Type == html.ElementNode && !skipped(c) && !(skipControls && labelSkip(c)):
				t.add(" ")
				rec(c)
				t.add(" ")
			}
		}
	}
	rec(n)
	return clean(t.b.String())
}
