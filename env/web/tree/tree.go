// Package tree reads the element tree of a web observation's text, as
// env/web and env/web/lite write it (see docs/observation.md): lines of
// `[id] role "name" state…` for elements and `StaticText "…"` for text,
// two spaces of indent a level. The experts read pages with it, and the
// guard and the gates read the element an action names.
package tree

import (
	"encoding/json"
	"strings"
)

// Node is one line of the tree: an element (ID set) or a text (ID "" and
// Role "StaticText").
type Node struct {
	Depth int
	ID    string
	Role  string
	Name  string
	State string // what follows the name: value="…", checked, focused, …
}

// Checked reports whether the element's state says checked.
func (n Node) Checked() bool { return n.Has("checked") }

// Has reports whether the element's state has the word w ("focused",
// "disabled").
func (n Node) Has(w string) bool {
	for _, f := range strings.Fields(n.State) {
		if f == w {
			return true
		}
	}
	return false
}

// Value returns the element's value="…" state, if any.
func (n Node) Value() string {
	i := strings.Index(n.State, `value=`)
	if i < 0 {
		return ""
	}
	s, _ := unquoteJSON(n.State[i+len("value="):])
	return s
}

// Parse reads the tree of an observation's text: the lines after the
// header. Lines it cannot read are skipped.
func Parse(text string) []Node {
	var nodes []Node
	body := text
	if i := strings.Index(text, "\n\n"); i >= 0 {
		body = text[i+2:]
	}
	for _, line := range strings.Split(body, "\n") {
		trimmed := strings.TrimLeft(line, " ")
		if n, ok := parseNode(trimmed); ok {
			n.Depth = (len(line) - len(trimmed)) / 2
			nodes = append(nodes, n)
		}
	}
	return nodes
}

// Line returns the line (trimmed) of the element id, without reading the
// rest of the tree; ok is false when there is none.
func Line(text, id string) (string, bool) {
	prefix := "[" + id + "] "
	for line := range strings.SplitSeq(text, "\n") {
		if l := strings.TrimLeft(line, " "); strings.HasPrefix(l, prefix) {
			return l, true
		}
	}
	return "", false
}

// Element returns the element id of an observation's text.
func Element(text, id string) (Node, bool) {
	l, ok := Line(text, id)
	if !ok {
		return Node{}, false
	}
	return parseNode(l)
}

// Focused returns the focused element of an observation's text.
func Focused(text string) (Node, bool) {
	for line := range strings.SplitSeq(text, "\n") {
		l := strings.TrimLeft(line, " ")
		if strings.HasPrefix(l, "[") && strings.Contains(l, " focused") {
			if n, ok := parseNode(l); ok && n.Has("focused") {
				return n, true
			}
		}
	}
	return Node{}, false
}

func parseNode(s string) (Node, bool) {
	var n Node
	if strings.HasPrefix(s, "StaticText ") {
		name, _ := unquoteJSON(s[len("StaticText "):])
		return Node{Role: "StaticText", Name: name}, true
	}
	if !strings.HasPrefix(s, "[") {
		return n, false
	}
	end := strings.IndexByte(s, ']')
	if end < 0 {
		return n, false
	}
	n.ID = s[1:end]
	rest := strings.TrimPrefix(s[end+1:], " ")
	role, after, _ := strings.Cut(rest, " ")
	n.Role = role
	if strings.HasPrefix(after, `"`) {
		name, tail := unquoteJSON(after)
		n.Name = name
		after = tail
	}
	n.State = strings.TrimSpace(after)
	return n, true
}

// unquoteJSON reads a JSON string at the start of s and returns it and the
// rest of s.
func unquoteJSON(s string) (string, string) {
	if !strings.HasPrefix(s, `"`) {
		return "", s
	}
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			var out string
			if err := json.Unmarshal([]byte(s[:i+1]), &out); err != nil {
				return "", s
			}
			return out, s[i+1:]
		}
	}
	return "", s
}
