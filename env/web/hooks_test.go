package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pilotkit/pilot/env"
)

// hookSite serves the pages of the hooks tests.
func hookSite(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/counter", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><title>x</title>
<script>document.title = window.__initRan ? 'init ran first' : 'no init';</script>
<p id=q>the page's own words</p>
<button onclick="window.clicks = (window.clicks || 0) + 1">Press</button>`)
	})
	mux.HandleFunc("/other", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><title>other</title><p>elsewhere</p>`)
	})
	mux.HandleFunc("/data", func(w http.ResponseWriter, r *http.Request) {
		c, _ := r.Cookie("who")
		who := "nobody"
		if c != nil {
			who = c.Value
		}
		fmt.Fprintf(w, `<!doctype html><title>data</title><p class=who>%s</p>`, who)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// clicksScorer rewards half a point a press and ends the episode at two.
func clicksScorer(ctx context.Context, p Page, t Turn) (Score, error) {
	v, err := p.Evaluate(ctx, "({clicks: window.clicks || 0, url: location.pathname})")
	if err != nil {
		return Score{}, err
	}
	var s struct {
		Clicks int
		URL    string
	}
	if err := json.Unmarshal(v, &s); err != nil {
		return Score{}, err
	}
	ok := s.Clicks >= 2
	return Score{Reward: float64(s.Clicks) / 2, Done: ok, Success: &ok, Reason: "pressed twice", Info: map[string]any{"clicks": s.Clicks, "path": s.URL}}, nil
}

func TestHooksInitSetupReward(t *testing.T) {
	t.Parallel()
	srv := hookSite(t)
	e := newEnv(t, Options{})
	ctx := ctxT(t)
	h := Hooks{
		Init:        []string{"window.__initRan = true"},
		Setup:       "document.getElementById('q').textContent = 'Press the button twice'; new Promise(r => setTimeout(() => r(1), 20))",
		Instruction: "({utterance: document.getElementById('q').textContent})",
		Reward:      clicksScorer,
	}
	obs, err := e.ResetWith(ctx, env.Task{ID: "press", Instruction: "from the task", StartURL: srv.URL + "/counter"}, h)
	if err != nil {
		t.Fatal(err)
	}
	if obs.Title != "init ran first" {
		t.Errorf("title %q: the init script did not run before the page's own", obs.Title)
	}
	if !strings.Contains(obs.Text, "Press the button twice") {
		t.Errorf("the first observation does not show the setup's change:\n%s", obs.Text)
	}
	if got := e.Brief(); got != "Press the button twice" {
		t.Errorf("Brief() = %q", got)
	}
	id := idOf(t, obs, `button "Press"`)
	st := step(t, e, fmt.Sprintf("click(%q)", id))
	if st.Reward != 0.5 || st.Done() || st.Info["clicks"] != 1 || st.Info[env.InfoSuccess] != false {
		t.Fatalf("after one press: reward %v done %v info %v", st.Reward, st.Done(), st.Info)
	}
	st = step(t, e, fmt.Sprintf("click(%q)", id))
	if st.Reward != 1 || !st.Terminated || st.Reason != "pressed twice" || st.Info[env.InfoSuccess] != true {
		t.Fatalf("after two presses: reward %v terminated %v reason %q info %v", st.Reward, st.Terminated, st.Reason, st.Info)
	}
	if _, err := e.Step(ctx, env.A("noop")); !errors.Is(err, env.ErrEpisodeOver) {
		t.Errorf("a step after the page ended the episode: %v", err)
	}
	// The next episode, without hooks, has none of them.
	obs, err = e.Reset(ctx, env.Task{StartURL: srv.URL + "/counter", Answer: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if obs.Title != "no init" || e.Brief() != "" {
		t.Errorf("the hooks stayed: title %q brief %q", obs.Title, e.Brief())
	}
	if st := step(t, e, `stop("x")`); st.Reward != 1 {
		t.Errorf("without hooks the answer scores stop: reward %v", st.Reward)
	}
}

func TestHooksFaults(t *testing.T) {
	t.Parallel()
	srv := hookSite(t)
	e := newEnv(t, Options{})
	ctx := ctxT(t)
	task := env.Task{ID: "f", Instruction: "press", StartURL: srv.URL + "/counter"}
	eval := func(expr string) Scorer {
		return func(ctx context.Context, p Page, _ Turn) (Score, error) {
			_, err := p.Evaluate(ctx, expr)
			return Score{}, err
		}
	}
	for _, c := range []struct {
		name, expr, want string
	}{
		{"throws", "nope()", "threw ReferenceError: nope is not defined"},
		{"busy", "for (;;) {}", "kept the page busy past 1s"},
		{"never settles", "new Promise(() => {})", "did not return within 1s"},
	} {
		if _, err := e.ResetWith(ctx, task, Hooks{Reward: eval(c.expr), Timeout: time.Second}); err != nil {
			t.Fatalf("%s: reset: %v", c.name, err)
		}
		_, err := e.Step(ctx, env.A("noop"))
		if !errors.Is(err, env.ErrEvaluate) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: step error %v, want ErrEvaluate saying %q", c.name, err, c.want)
		}
		if _, err := e.Step(ctx, env.A("noop")); !errors.Is(err, env.ErrEpisodeOver) {
			t.Errorf("%s: the episode goes on after its evaluator failed: %v", c.name, err)
		}
	}
	for _, c := range []struct {
		name string
		h    Hooks
		want string
	}{
		{"setup navigates", Hooks{Setup: "location.href = '/other'"}, "navigated away from " + srv.URL + "/counter"},
		{"setup throws", Hooks{Setup: "throw new Error('no seed')"}, "setup: throw new Error('no seed') threw Error: no seed"},
		{"setup never returns", Hooks{Setup: "new Promise(() => {})", Timeout: time.Second}, "did not return within 1s"},
		{"no instruction", Hooks{Instruction: "42"}, `gave 42: want a string or an object with a string "utterance"`},
	} {
		_, err := e.ResetWith(ctx, task, c.h)
		if !errors.Is(err, env.ErrEvaluate) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: reset error %v, want ErrEvaluate saying %q", c.name, err, c.want)
		}
	}
	// The env is whole after every fault.
	if _, err := e.ResetWith(ctx, task, Hooks{Reward: clicksScorer}); err != nil {
		t.Fatal(err)
	}
	if st := step(t, e, "noop()"); st.Reward != 0 || st.Done() {
		t.Errorf("after the faults: reward %v done %v", st.Reward, st.Done())
	}
}

func TestHooksPageReads(t *testing.T) {
	t.Parallel()
	srv := hookSite(t)
	e := newEnv(t, Options{})
	ctx := ctxT(t)
	var got struct {
		url, html, fetched string
		status             int
	}
	read := func(ctx context.Context, p Page, _ Turn) (Score, error) {
		var err error
		got.url = p.URL()
		if got.html, err = p.HTML(ctx); err != nil {
			return Score{}, err
		}
		got.status, got.fetched, err = p.Fetch(ctx, "/data")
		return Score{}, err
	}
	_, err := e.ResetWith(ctx, env.Task{StartURL: srv.URL + "/counter"}, Hooks{Setup: "document.cookie = 'who=alice'", Reward: read})
	if err != nil {
		t.Fatal(err)
	}
	step(t, e, "noop()")
	if got.url != srv.URL+"/counter" || !strings.Contains(got.html, `<p id="q">the page's own words</p>`) {
		t.Errorf("URL %q, HTML:\n%s", got.url, got.html)
	}
	if got.status != 200 || !strings.Contains(got.fetched, `<p class=who>alice</p>`) {
		t.Errorf("fetch: %d %q: want the page fetched with the episode's cookie", got.status, got.fetched)
	}
}
