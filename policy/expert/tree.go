package expert

import "github.com/pilotkit/pilot/env/web/tree"

// Node is one line of a web observation's element tree (see
// docs/observation.md and env/web/tree).
type Node = tree.Node

// ParseTree reads the element tree of a web observation's text
// (tree.Parse).
func ParseTree(text string) []Node { return tree.Parse(text) }

// FindNode returns the first node of nodes with role and name, or nil.
func FindNode(nodes []Node, role, name string) *Node { return find(nodes, role, name) }
