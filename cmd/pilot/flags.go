package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/pilotkit/pilot/env/web"
)

// choiceValue is a string flag that takes one of a fixed set of values.
type choiceValue struct {
	val     string
	choices []string
	// prefixes are further values' prefixes, such as "nn:".
	prefixes []string
}

func newChoice(def string, choices ...string) *choiceValue {
	return &choiceValue{val: def, choices: choices}
}

func (c *choiceValue) String() string { return c.val }
func (c *choiceValue) Type() string {
	t := strings.Join(c.choices, "|")
	for _, p := range c.prefixes {
		t += "|" + p + "…"
	}
	return t
}

func (c *choiceValue) Set(s string) error {
	if !slices.Contains(c.choices, s) && !slices.ContainsFunc(c.prefixes, func(p string) bool { return strings.HasPrefix(s, p) && len(s) > len(p) }) {
		all := strings.Join(c.choices, ", ")
		for _, p := range c.prefixes {
			all += ", " + p + "…"
		}
		return fmt.Errorf("want one of %s", all)
	}
	c.val = s
	return nil
}

// Viewport bounds, as env/web accepts them.
const (
	minViewport = 100
	maxViewport = 8000
)

// viewportValue is a WIDTHxHEIGHT flag.
type viewportValue web.Size

func (v *viewportValue) String() string { return fmt.Sprintf("%dx%d", v.W, v.H) }
func (v *viewportValue) Type() string   { return "WxH" }

func (v *viewportValue) Set(s string) error {
	ws, hs, ok := strings.Cut(strings.ToLower(s), "x")
	w, werr := strconv.Atoi(ws)
	h, herr := strconv.Atoi(hs)
	if !ok || werr != nil || herr != nil {
		return fmt.Errorf("want WIDTHxHEIGHT in pixels, such as 1280x800")
	}
	if w < minViewport || h < minViewport || w > maxViewport || h > maxViewport {
		return fmt.Errorf("want between %dx%d and %dx%d", minViewport, minViewport, maxViewport, maxViewport)
	}
	*v = viewportValue{W: w, H: h}
	return nil
}
