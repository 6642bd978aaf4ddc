package cache_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/pilotkit/pilot/agent"
	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/env/web/lite"
	"github.com/pilotkit/pilot/policy"
	"github.com/pilotkit/pilot/policy/cache"
)

// site is a sign-up form; v changes the thanks page's wording.
func site(v *atomic.Value) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `<!doctype html><title>Sign up</title><form action="/thanks"><input name="name" aria-label="Name"><input type="date" name="born" aria-label="Born"><button>Sign up</button></form>`)
	})
	mux.HandleFunc("/thanks", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><title>Thanks</title><p>%s, %s: code %s-%s</p>`, v.Load(), r.FormValue("name"), strings.ToUpper(r.FormValue("name")), r.FormValue("born"))
	})
	return mux
}

// scripted reads the page as a model would and counts its calls.
type scripted struct{ calls int }

func (s *scripted) Act(_ context.Context, in policy.Input) (policy.Decision, error) {
	s.calls++
	t := in.Obs.Text
	switch {
	case strings.Contains(t, `textbox "Name" value=""`):
		return policy.Decision{Action: env.A("fill", "2", "ADA"), Usage: policy.Usage{PromptTokens: 100}}, nil
	case strings.Contains(t, `textbox "Born" value=""`):
		return policy.Decision{Action: env.A("fill", "3", "1815-12-10")}, nil
	case strings.Contains(t, "Title: Sign up"):
		return policy.Decision{Action: env.A("click", "4")}, nil
	}
	i := strings.Index(t, "code ")
	return policy.Decision{Action: env.A("stop", strings.TrimSuffix(t[i+5:], `"`))}, nil
}

func episode(t *testing.T, h http.Handler, p policy.Policy) *agent.Trajectory {
	t.Helper()
	b := lite.New(h, lite.Options{})
	defer b.Close()
	task := env.Task{ID: "signup", Instruction: "sign ADA up", StartURL: "http://127.0.0.1:8080/", Answer: "ADA-1815-12-10"}
	traj, err := agent.Run(t.Context(), b, task, p, agent.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !traj.Success {
		t.Fatalf("the episode failed: %s", traj.Reason)
	}
	return traj
}

func hits(traj *agent.Trajectory) (n int) {
	for _, s := range traj.Steps {
		if s.Meta[cache.Key] == cache.Hit {
			n++
		}
	}
	return n
}

func TestReplayWithoutTheModel(t *testing.T) {
	dir := t.TempDir()
	var words atomic.Value
	words.Store("Welcome")
	h := site(&words)
	model := &scripted{}
	p, err := cache.New(model, dir)
	if err != nil {
		t.Fatal(err)
	}
	first := episode(t, h, p)
	if model.calls != 4 || hits(first) != 0 {
		t.Fatalf("first run: %d model calls, %d cached steps; want 4 and 0", model.calls, hits(first))
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) != 1 {
		t.Fatalf("cache files: %v, want one", files)
	}
	model.calls = 0
	second := episode(t, h, p)
	if model.calls != 0 || hits(second) != 4 {
		t.Fatalf("rerun: %d model calls, %d cached steps; want 0 and 4", model.calls, hits(second))
	}
	if u := second.Usage; u.Tokens() != 0 {
		t.Errorf("rerun usage %+v, want none", u)
	}
	// The thanks page changes: the cache replays up to it, the model
	// answers from there, and the cache takes the new episode.
	words.Store("Hello")
	model.calls = 0
	third := episode(t, h, p)
	if model.calls != 1 || hits(third) != 3 {
		t.Fatalf("changed page: %d model calls, %d cached steps; want 1 and 3", model.calls, hits(third))
	}
	model.calls = 0
	if fourth := episode(t, h, p); model.calls != 0 || hits(fourth) != 4 {
		t.Fatalf("after the update: %d model calls, %d cached steps; want 0 and 4", model.calls, hits(fourth))
	}
}

func TestFailuresAreNotStored(t *testing.T) {
	dir := t.TempDir()
	var words atomic.Value
	words.Store("Welcome")
	b := lite.New(site(&words), lite.Options{})
	defer b.Close()
	p, _ := cache.New(&scripted{}, dir)
	task := env.Task{ID: "signup", StartURL: "http://127.0.0.1:8080/", Answer: "wrong"}
	traj, err := agent.Run(t.Context(), b, task, p, agent.Options{})
	if err != nil || traj.Success {
		t.Fatalf("run: %v, success %v; want a failed episode", err, traj.Success)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "*.json")); len(files) != 0 {
		t.Errorf("a failed episode was stored: %v", files)
	}
}

func TestDamagedFileIsNotReplayed(t *testing.T) {
	dir := t.TempDir()
	var words atomic.Value
	words.Store("Welcome")
	h := site(&words)
	model := &scripted{}
	p, _ := cache.New(model, dir)
	episode(t, h, p)
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	for _, garbage := range []string{"{", `{"version":1,"steps":[{"obs":"x","action":"click(\"2\")"}]}`, `{"version":1,"steps":[{"obs":"` + strings.Repeat("a", 64) + `","action":"click(("}]}`, `{"version":9}`} {
		if err := os.WriteFile(files[0], []byte(garbage), 0o644); err != nil {
			t.Fatal(err)
		}
		model.calls = 0
		traj := episode(t, h, p)
		if model.calls != 4 {
			t.Errorf("cache file %q: %d model calls, want 4 (nothing replayed)", garbage, model.calls)
		}
		if msg, _ := traj.Steps[0].Meta["cache_error"].(string); !strings.Contains(msg, files[0]) {
			t.Errorf("cache file %q: first step's cache_error %q, want one naming the file", garbage, msg)
		}
	}
}

func TestDigestIgnoresPortsAndScroll(t *testing.T) {
	a := env.Observation{Text: "URL: http://127.0.0.1:4000/x\nTitle: T\nScroll: 0 of 900 px\n\n[1] link \"http://127.0.0.1:4000/y\""}
	b := env.Observation{Text: "URL: http://127.0.0.1:5111/x\nTitle: T\nScroll: 300 of 900 px\n\n[1] link \"http://127.0.0.1:5111/y\""}
	c := env.Observation{Text: "URL: http://127.0.0.1:5111/x\nTitle: T\n\n[1] link \"other\""}
	if cache.Digest(a) != cache.Digest(b) {
		t.Error("the same page on another port (and scrolled) has another digest")
	}
	if cache.Digest(a) == cache.Digest(c) {
		t.Error("different pages have the same digest")
	}
}

func FuzzCacheFile(f *testing.F) {
	f.Add([]byte(`{"version":1,"steps":[{"obs":"` + strings.Repeat("a", 64) + `","action":"click(\"2\")"}]}`))
	f.Add([]byte("{"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		task := env.Task{ID: "x"}
		p, _ := cache.New(policy.Func(func(context.Context, policy.Input) (policy.Decision, error) {
			return policy.Decision{Action: env.A("noop")}, nil
		}), dir)
		p.ResetEpisode(task) // learn the file name
		if err := os.WriteFile(p.Path(), data, 0o644); err != nil {
			t.Fatal(err)
		}
		// Loading never panics, and Act always answers.
		p.ResetEpisode(task)
		if _, err := p.Act(t.Context(), policy.Input{Obs: env.Observation{Text: "x"}}); err != nil {
			t.Fatal(err)
		}
	})
}
