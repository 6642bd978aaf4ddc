package main

import (
	"errors"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func TestCheckStartURL(t *testing.T) {
	tests := []struct {
		url     string
		serving bool
		ok      bool
	}{
		{"", false, true},
		{"https://example.com/a?b=c", false, true},
		{"http://127.0.0.1:8080/", false, true},
		{"file:///tmp/page.html", false, true},
		{"/page.html", true, true},
		{"page.html", true, true},
		{"https://example.com/", true, true},
		{"/page.html", false, false},
		{"example.com", false, false},
		{"localhost:8080/x", false, false},
		{"//example.com/x", true, false},
		{"http:///x", false, false},
		{"javascript:alert(1)", false, false},
		{"http://[::1", false, false},
	}
	for _, tt := range tests {
		err := checkStartURL(tt.url, tt.serving)
		if (err == nil) != tt.ok || err != nil && !errors.As(err, new(*usageError)) {
			t.Errorf("checkStartURL(%q, serving %v) = %v; want ok %v, else a usage error", tt.url, tt.serving, err, tt.ok)
		}
	}
}

func TestViewportValue(t *testing.T) {
	tests := []struct {
		in   string
		want viewportValue // zero: an error
	}{
		{"1280x800", viewportValue{1280, 800}},
		{"800X600", viewportValue{800, 600}},
		{"100x8000", viewportValue{100, 8000}},
		{"abc", viewportValue{}},
		{"1280", viewportValue{}},
		{"1280x", viewportValue{}},
		{"99x800", viewportValue{}},
		{"1280x8001", viewportValue{}},
		{"-5x800", viewportValue{}},
	}
	for _, tt := range tests {
		var v viewportValue
		err := v.Set(tt.in)
		if v != tt.want || (err == nil) != (tt.want != viewportValue{}) {
			t.Errorf("Set(%q) = %v, %v; want %v", tt.in, v, err, tt.want)
		}
	}
}

func TestResolveURL(t *testing.T) {
	tests := []struct{ ref, want string }{
		{"", "http://127.0.0.1:5/"},
		{"/a.html", "http://127.0.0.1:5/a.html"},
		{"a.html?x=1", "http://127.0.0.1:5/a.html?x=1"},
		{"https://example.com/", "https://example.com/"},
	}
	for _, tt := range tests {
		if got := resolveURL("http://127.0.0.1:5", tt.ref); got != tt.want {
			t.Errorf("resolveURL(base, %q) = %q, want %q", tt.ref, got, tt.want)
		}
	}
}

// TestHelpHasNoNaN walks every command: no flag's help shows a default
// a user cannot type back, such as "(default NaN)".
func TestHelpHasNoNaN(t *testing.T) {
	var walk func(c *cobra.Command)
	n := 0
	walk = func(c *cobra.Command) {
		n++
		if u := c.LocalFlags().FlagUsages(); strings.Contains(u, "NaN") {
			t.Errorf("pilot %s --help shows NaN:\n%s", c.CommandPath(), u)
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(newRootCmd(io.Discard, io.Discard))
	if n < 10 {
		t.Fatalf("walked %d commands, want the whole tree", n)
	}
}

func TestOptFloat(t *testing.T) {
	var v float64
	o := newOptFloat(&v)
	if o.String() != "" || !math.IsNaN(v) {
		t.Fatalf("unset: String %q, v %v", o.String(), v)
	}
	for _, bad := range []string{"", "x", "NaN", "Inf", "1e400"} {
		if err := o.Set(bad); err == nil {
			t.Errorf("Set(%q) = nil, want an error", bad)
		}
	}
	if err := o.Set("0.7"); err != nil || v != 0.7 || o.String() != "0.7" {
		t.Fatalf("Set(0.7): err %v, v %v, String %q", err, v, o.String())
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://me:secret@127.0.0.1:11434/v1": "http://me:xxxxx@127.0.0.1:11434/v1",
		"http://127.0.0.1:11434/v1":           "http://127.0.0.1:11434/v1",
		"shop":                                "shop",
		"http://me@host/v1":                   "http://me@host/v1",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
