package expert

import (
	"encoding/json"
	"strings"
)

// Node is one line of a web observation's element tree (see
// docs/observation.md): an element `[id] role "name" state…` or a text
// `StaticText "…"` (ID "" and Role "StaticText").
type Node struct {
	Depth int
	ID    string
	Role  string
	Name  string
	State string // what follows the name: value="…", checked, focused, …
}

// Checked reports whether the element's state says checked.
func (n Node) Checked() bool {
	for _, f := range strings.Fields(n.State) {
		if f == "checked" {
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

// ParseTree reads the element tree of a web observation's text: the lines
// after the header. Lines it cannot read are skipped.
func ParseTree(text string) []Node {
	var nodes []Node
	body := text
	if i := strings.Index(text, "\n\n"); i >= 0 {
		body = text[i+2:]
	}
	for _, line := range strings.Split(body, "\n") {
		trimmed := strings.TrimLeft(line, " ")
		depth := (len(line) - len(trimmed)) / 2
		if n, ok := parseNode(trimmed); ok {
			n.Depth = depth
			nodes = append(nodes, n)
		}
	}
	return nodes
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

// FindNode returns the first node of nodes with role and name, or nil.
func FindNode(nodes []Node, role, name string) *Node { return find(nodes, role, name) }
