package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pilotkit/pilot/env"
)

func rows(n int) string {
	var lines []string
	for i := range n {
		lines = append(lines, fmt.Sprintf("[%d] row", 2*i+1), fmt.Sprintf("  [%d] cell %q", 2*i+2, fmt.Sprintf("value %d", i)))
	}
	return strings.Join(lines, "\n")
}

func TestShaperCutsFromTheViewport(t *testing.T) {
	s := NewShaper(ObsOptions{MaxTokens: 300})
	tree := rows(500)
	got := s.Shape(tree, "u", 400, 419, 20)
	if n := env.EstimateTokens(got) + 20; n > 300 {
		t.Errorf("cut tree: %d tokens, want at most 300", n)
	}
	for i := 400; i <= 419; i++ {
		if !strings.Contains(got, strings.Split(tree, "\n")[i]) {
			t.Fatalf("the viewport's line %d is cut:\n%s", i, got)
		}
	}
	lines := strings.Split(got, "\n")
	if !strings.HasPrefix(lines[0], "(") || !strings.Contains(lines[0], `lines above`) || !strings.Contains(lines[0], `scroll("up")`) {
		t.Errorf("first line %q: want the note on what is above", lines[0])
	}
	if last := lines[len(lines)-1]; !strings.Contains(last, "lines below") || !strings.Contains(last, `scroll("down")`) {
		t.Errorf("last line %q: want the note on what is below", last)
	}
	// Under budget: the tree as it is.
	if small := rows(3); s.Shape(small, "u", 0, 1, 20) != small {
		t.Error("a tree within the budget was changed")
	}
}

func TestShaperDiff(t *testing.T) {
	s := NewShaper(ObsOptions{Diff: true, FullEvery: 3})
	a := "[1] button \"A\"\n[2] paragraph\n  StaticText \"x\"\n[3] link \"L\""
	b := "[1] button \"A\"\n[2] paragraph\n  StaticText \"y\"\n[3] link \"L\"\n[4] link \"M\""
	if got := s.Shape(a, "u", -1, -1, 0); got != a {
		t.Fatalf("first observation: %q, want the whole tree", got)
	}
	got := s.Shape(b, "u", -1, -1, 0)
	want := "  StaticText \"x\"\n+   StaticText \"y\"\n+ [4] link \"M\""
	if !strings.HasSuffix(got, "- "+want) {
		t.Errorf("diff:\n%s\nwant it to end with\n- %s", got, want)
	}
	if got := s.Shape(b, "u", -1, -1, 0); !strings.HasPrefix(got, "(no change") {
		t.Errorf("unchanged page: %q", got)
	}
	if got := s.Shape(b, "u", -1, -1, 0); got != b {
		t.Errorf("fourth observation (FullEvery 3): %q, want the whole tree", got)
	}
	if got := s.Shape(a, "other", -1, -1, 0); got != a {
		t.Errorf("after a navigation: %q, want the whole tree", got)
	}
}

func TestObsBudgetInChromium(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("/table", func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		b.WriteString("<!doctype html><title>Table</title><table>")
		for i := range 1000 {
			fmt.Fprintf(&b, "<tr><td>row %d</td><td><a href=\"/r/%d\">open %d</a></td></tr>", i, i, i)
		}
		b.WriteString("</table>")
		fmt.Fprint(w, b.String())
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	e := newEnv(t, Options{Obs: ObsOptions{MaxTokens: 800}})
	obs := reset(t, e, srv.URL+"/table")
	if n := env.EstimateTokens(obs.Text); n > 800 {
		t.Errorf("observation of %d tokens, budget 800", n)
	}
	has(t, obs, `link "open 0"`, `lines below`)
	lacks(t, obs, `link "open 500"`, `lines above`)
	for range 30 {
		obs = step(t, e, `scroll("down")`).Obs
	}
	has(t, obs, `lines above`, `scroll("up")`)
	lacks(t, obs, `link "open 0"`)
	if n := env.EstimateTokens(obs.Text); n > 800 {
		t.Errorf("after scrolling: %d tokens, budget 800", n)
	}
}

func TestObsOptionsRejected(t *testing.T) {
	for _, o := range []ObsOptions{{MaxTokens: -1}, {MaxTokens: 10}, {FullEvery: -2}} {
		if _, err := New(Options{Obs: o, BrowserURL: "ws://127.0.0.1:1/devtools/browser/x"}); err == nil {
			t.Errorf("New with %+v: no error", o)
		}
	}
}
