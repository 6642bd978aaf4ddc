package env

import (
	"errors"
	"strings"
	"testing"
)

func FuzzParseAction(f *testing.F) {
	for _, s := range []string{
		`click("12")`,
		`fill("7", "usb-c cable")`,
		`select_option("9", "black")`,
		`press("Enter")`,
		`scroll("down")`,
		`goto("https://example.com/a?b=1")`,
		`go_back()`,
		`stop("answer")`,
		`noop()`,
		`move_joints([0, 10.5, -3])`,
		`move_joints([])`,
		`grip("left", [1e-3, -0, +2.5E2])`,
		`click(12)`,
		`click('12')`,
		"  fill ( '7' ,\n\"two\nlines\" )  ",
		`fill("7", "say \"hi\" \\ \t \u00e9 \x41 \377 \U0001F600")`,
		`fill('7', 'it\'s "quoted"')`,
		`fill("7", "\xff\xfe")`,
		"fill(\"7\", \"\xff\")",
		"fill(\"7\", \"\\\n\")",
		`click("12"`,
		`click("12`,
		`click("12") x`,
		`click(,)`,
		`move_joints([0, NaN])`,
		`move_joints([1e999])`,
		`move_joints([0], "x")`,
		`move_joints([1 2`,
		``,
		`(`,
		`\`,
		`'`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAction(s)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("ParseAction(%q) = %v, want a *ParseError", s, err)
			}
			if pe.Pos < 0 || pe.Pos > len(s) {
				t.Fatalf("ParseAction(%q) error at byte %d, want a position in [0, %d]", s, pe.Pos, len(s))
			}
			if pe.Msg == "" {
				t.Fatalf("ParseAction(%q) error has no message", s)
			}
			return
		}
		if a.Name == "" {
			t.Fatalf("ParseAction(%q) = %#v, want an action with a name", s, a)
		}
		text := a.String()
		b, err := ParseAction(text)
		if err != nil {
			t.Fatalf("ParseAction(%q) = %v; ParseAction(%q) of its String() = %v, want it to parse", s, a, text, err)
		}
		if !b.Equal(a) {
			t.Fatalf("ParseAction(%q) = %#v; ParseAction(%q) of its String() = %#v, want Equal", s, a, text, b)
		}
	})
}

func FuzzEstimateTokens(f *testing.F) {
	f.Add("URL: http://127.0.0.1:8080/\n\n[1] button \"Buy now\"\n  StaticText \"$12.50 ünïcode ✓ 😀\"")
	f.Fuzz(func(t *testing.T, s string) {
		n := EstimateTokens(s)
		if n < 0 || s != "" && n == 0 && strings.TrimSpace(s) != "" {
			t.Fatalf("EstimateTokens(%q) = %d", s, n)
		}
		if n > 2*len(s)+1 {
			t.Fatalf("EstimateTokens(%q) = %d, more than two a byte", s, n)
		}
	})
}
