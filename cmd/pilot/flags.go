package main

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

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

// obsFlags size a web observation for a model (web.ObsOptions).
type obsFlags struct {
	maxTokens int
	mode      string
	fullEvery int
}

func (f *obsFlags) register(fs *pflag.FlagSet) {
	fs.IntVar(&f.maxTokens, "obs-max-tokens", 0, "cut a web page's element tree to about `N` tokens (cl100k estimate), keeping what is in the viewport and nearest it; a line says what was left out (scroll to see it); 0 for the whole tree")
	fs.StringVar(&f.mode, "obs", "full", "what a web observation shows: full (the whole tree each step) or diff (what changed since the last step, the whole tree every --obs-full-every steps and after a navigation)")
	fs.IntVar(&f.fullEvery, "obs-full-every", 5, "with --obs diff: show the whole tree every `N` steps")
}

func (f *obsFlags) validate() error {
	if f.mode != "full" && f.mode != "diff" {
		return usagef("--obs %q: want full or diff", f.mode)
	}
	if f.fullEvery < 1 {
		return usagef("--obs-full-every %d: want 1 or more", f.fullEvery)
	}
	if err := f.options().Validate(); err != nil {
		return usagef("--obs-max-tokens: %v", err)
	}
	return nil
}

func (f *obsFlags) options() web.ObsOptions {
	return web.ObsOptions{MaxTokens: f.maxTokens, Diff: f.mode == "diff", FullEvery: f.fullEvery}
}
