package lite

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/env/web"
)

func TestHooksLite(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/start", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "who", Value: "alice", Path: "/"})
		fmt.Fprint(w, `<!doctype html><title>start</title><a href="/done">Finish</a>`)
	})
	mux.HandleFunc("/done", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><title>done</title><p id=msg>All done</p>`)
	})
	mux.HandleFunc("/who", func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie("who")
		if err != nil {
			http.Error(w, "who?", http.StatusForbidden)
			return
		}
		fmt.Fprintf(w, "<p>%s</p>", c.Value)
	})
	b := New(mux, Options{Origin: "http://site.test"})
	ctx := context.Background()
	task := env.Task{ID: "t", StartURL: "http://site.test/start"}

	_, err := b.ResetWith(ctx, task, web.Hooks{Setup: "core.start()"})
	if err == nil || !strings.Contains(err.Error(), "runs no JavaScript: run it on the chromium engine") {
		t.Errorf("a setup script on lite: %v", err)
	}

	var fetched string
	scorer := func(ctx context.Context, p web.Page, turn web.Turn) (web.Score, error) {
		if _, err := p.Evaluate(ctx, "1"); !errors.Is(err, web.ErrNoScript) {
			return web.Score{}, fmt.Errorf("Evaluate on lite: %v", err)
		}
		html, err := p.HTML(ctx)
		if err != nil {
			return web.Score{}, err
		}
		_, body, err := p.Fetch(ctx, "/who")
		if err != nil {
			return web.Score{}, err
		}
		fetched = body
		done := strings.Contains(html, `<p id="msg">All done</p>`)
		return web.Score{Reward: map[bool]float64{true: 1}[done], Done: done, Reason: "the page says all done"}, nil
	}
	obs, err := b.ResetWith(ctx, task, web.Hooks{Reward: scorer})
	if err != nil {
		t.Fatal(err)
	}
	st, err := b.Step(ctx, env.A("noop"))
	if err != nil || st.Done() || st.Reward != 0 {
		t.Fatalf("noop: %v %+v", err, st)
	}
	if fetched != "<p>alice</p>" {
		t.Errorf("fetch with the episode's cookies gave %q", fetched)
	}
	id := strings.TrimPrefix(strings.Fields(lineWith(t, obs.Text, "Finish"))[0], "[")
	st, err = b.Step(ctx, env.A("click", strings.TrimSuffix(id, "]")))
	if err != nil || !st.Terminated || st.Reward != 1 || st.Reason != "the page says all done" {
		t.Fatalf("click Finish: %v %+v", err, st)
	}

	failing := func(context.Context, web.Page, web.Turn) (web.Score, error) {
		return web.Score{}, errors.New("the check broke")
	}
	if _, err := b.ResetWith(ctx, task, web.Hooks{Reward: failing}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Step(ctx, env.A("noop")); !errors.Is(err, env.ErrEvaluate) || !strings.Contains(err.Error(), "after step 0: the check broke") {
		t.Errorf("a failing scorer: %v", err)
	}
	if _, err := b.Step(ctx, env.A("noop")); !errors.Is(err, env.ErrEpisodeOver) {
		t.Errorf("after the scorer failed: %v", err)
	}
}

func lineWith(t *testing.T, text, s string) string {
	t.Helper()
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			return strings.TrimSpace(l)
		}
	}
	t.Fatalf("no line with %q in\n%s", s, text)
	return ""
}
