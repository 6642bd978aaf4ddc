package main

import (
	"fmt"
	"math"
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

// optFloat is a float flag that may be unset (NaN), shown in --help with
// no default rather than "(default NaN)".
type optFloat struct{ v *float64 }

func newOptFloat(p *float64) *optFloat {
	*p = math.NaN()
	return &optFloat{p}
}

func (o *optFloat) String() string {
	if o.v == nil || math.IsNaN(*o.v) {
		return ""
	}
	return strconv.FormatFloat(*o.v, 'g', -1, 64)
}

func (o *optFloat) Type() string { return "float" }

func (o *optFloat) Set(s string) error {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("want a number, such as 0.7")
	}
	*o.v = f
	return nil
}
