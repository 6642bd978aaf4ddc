package shop

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/env/envtest"
	"github.com/pilotkit/pilot/env/web"
	"github.com/pilotkit/pilot/env/web/webtest"
)

// TestMain fails the run when a test leaks a browser profile directory
// or process, and stops the browser that the tests share.
func TestMain(m *testing.M) { webtest.Main(m) }

// launch starts the test binary's one browser (webtest.Browser), which
// the tests that drive Chromium share, so that they can run in parallel.
func launch(ctx context.Context) (string, func() error, error) {
	return web.Launch(ctx, web.Options{})
}

// webEnvs are web.Envs on the shared browser, lent to one test after
// another.
var webEnvs = webtest.NewPool(func() (*web.Env, error) {
	u, err := webtest.Browser(launch)
	if err != nil {
		return nil, err
	}
	return web.New(web.Options{BrowserURL: u})
})

// SharedBrowserForTest is the address of the test binary's one browser,
// for external tests (shop_test) that need a web.Env of their own
// options; it skips t without Chromium.
func SharedBrowserForTest(t *testing.T) string {
	t.Helper()
	u, err := webtest.Browser(launch)
	skipWithoutChromium(t, err)
	return u
}

// pooledWeb returns a web.Env of webEnvs for t; it skips t without
// Chromium. It goes back to the pool when t ends: do not close it, nor a
// shop Env over it.
func pooledWeb(t *testing.T) *web.Env {
	t.Helper()
	w, err := webEnvs.Get(t)
	skipWithoutChromium(t, err)
	return w
}

// PooledWebForTest is pooledWeb for the package's external tests
// (shop_test).
func PooledWebForTest(t *testing.T) *web.Env { t.Helper(); return pooledWeb(t) }

func skipWithoutChromium(t *testing.T, err error) {
	t.Helper()
	if errors.Is(err, web.ErrChromeNotFound) {
		t.Skipf("no Chromium: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// serveStore serves the shared store on 127.0.0.1 until t ends.
func serveStore(t *testing.T) (*Store, string) {
	t.Helper()
	st, err := testStore()
	if err != nil {
		t.Fatal(err)
	}
	base, stop, err := ServeLocal(t.Context(), st)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return st, base
}

// newShopEnv returns a shop Env over a pooled web.Env, on the shared
// store served on 127.0.0.1.
func newShopEnv(t *testing.T) (*Env, *Store) {
	t.Helper()
	st, base := serveStore(t)
	return NewEnv(pooledWeb(t), st, base), st
}

func TestEnvConformance(t *testing.T) {
	t.Parallel()
	st, base := serveStore(t)
	// An Env of its own, not a pooled one: envtest.Check closes it.
	u, err := webtest.Browser(launch)
	skipWithoutChromium(t, err)
	w, err := web.New(web.Options{BrowserURL: u})
	if err != nil {
		t.Fatal(err)
	}
	e := NewEnv(w, st, base)
	tasks, _ := st.Tasks().Split("test")
	envtest.Check(t, e, st.EnvTask(tasks[0]))
}

// idOf returns the id of the first element line of the observation that
// contains s.
func idOf(t *testing.T, obs env.Observation, s string) string {
	t.Helper()
	for _, line := range strings.Split(obs.Text, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") && strings.Contains(line, s) {
			return line[1:strings.Index(line, "]")]
		}
	}
	t.Fatalf("no element line containing %q in:\n%s", s, obs.Text)
	return ""
}

type episodeRun struct {
	t   *testing.T
	e   *Env
	obs env.Observation
	st  env.Step
}

func (r *episodeRun) do(a env.Action) {
	r.t.Helper()
	if r.st.Done() {
		r.t.Fatalf("%s: the episode already ended (%s)", a, r.st.Reason)
	}
	ctx, cancel := context.WithTimeout(r.t.Context(), time.Minute)
	defer cancel()
	st, err := r.e.Step(ctx, a)
	if err != nil {
		r.t.Fatalf("Step(%s): %v", a, err)
	}
	if st.Obs.Error != "" {
		r.t.Fatalf("Step(%s): observation error %q", a, st.Obs.Error)
	}
	// env/web has been seen (rarely, under -race and load) to observe a
	// page that a form post's redirect had committed but not yet parsed:
	// look again once.
	if !st.Done() && strings.Contains(st.Obs.Text, "(the page is empty)") {
		r.t.Logf("Step(%s) observed an empty page at %s: looking again", a, st.Obs.URL)
		if st, err = r.e.Step(ctx, env.A("noop")); err != nil {
			r.t.Fatalf("Step(noop): %v", err)
		}
	}
	r.st, r.obs = st, st.Obs
}

func (r *episodeRun) click(s string) { r.t.Helper(); r.do(env.A("click", idOf(r.t, r.obs, s))) }

func (r *episodeRun) fill(s, text string) {
	r.t.Helper()
	r.do(env.A("fill", idOf(r.t, r.obs, s), text))
}

// shop plays one episode of task by hand: search the target's title, open
// it, choose options, buy, fill the address, place the order.
func shopByHand(t *testing.T, e *Env, st *Store, task Task, opts map[string]string) env.Step {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	obs, err := e.Reset(ctx, st.EnvTask(task))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(obs.Text, "Instruction: "+task.Instruction) {
		t.Fatalf("the start page does not show the instruction:\n%s", obs.Text)
	}
	p, _ := st.Catalog().Product(task.Goal.TargetID)
	r := &episodeRun{t: t, e: e, obs: obs}
	r.fill(`searchbox "Search"`, p.Title)
	r.click(`button "Search"`)
	r.click(`link "` + p.Title + `"`)
	if !strings.Contains(r.obs.Text, `heading "`+p.Title+`" level=1`) {
		t.Fatalf("not on the item page:\n%s", r.obs.Text)
	}
	for _, v := range opts {
		r.click(`radio "` + v + `"`)
	}
	r.click(`button "Buy Now"`)
	a := task.Goal.Address
	r.fill(`textbox "Full name"`, a.Name)
	r.fill(`textbox "Street address"`, a.Street)
	r.fill(`textbox "City"`, a.City)
	r.fill(`textbox "State"`, a.State)
	r.fill(`textbox "ZIP code"`, a.Zip)
	r.click(`button "Place order"`)
	if !strings.Contains(r.obs.Text, `heading "Thank you for your order" level=1`) {
		t.Errorf("not on the done page:\n%s", r.obs.Text)
	}
	if !r.st.Terminated || r.st.Truncated {
		t.Errorf("placing the order: terminated %v, truncated %v, want terminated", r.st.Terminated, r.st.Truncated)
	}
	if _, err := e.Step(ctx, env.A("noop")); !errors.Is(err, env.ErrEpisodeOver) {
		t.Errorf("Step after the order = %v, want env.ErrEpisodeOver", err)
	}
	return r.st
}

// TestEnvEndToEnd drives a real browser through search, item, options,
// Buy Now and checkout: the goal's options earn reward 1, a wrong option
// one constraint less.
func TestEnvEndToEnd(t *testing.T) {
	t.Parallel()
	e, st := newShopEnv(t)
	tasks, _ := st.Tasks().Split("test")
	var task Task
	for _, tk := range tasks {
		if len(tk.Goal.Options) > 0 {
			task = tk
			break
		}
	}
	g := task.Goal

	right := shopByHand(t, e, st, task, g.Options)
	b, ok := right.Info["breakdown"].(Breakdown)
	if right.Reward != 1 || !ok || b.Matched != b.Constraints {
		t.Errorf("the goal's options: reward %v, breakdown %+v, want 1", right.Reward, right.Info["breakdown"])
	}

	// Change one option to another value of its group.
	p, _ := st.Catalog().Product(g.TargetID)
	wrong := map[string]string{}
	var changed string
	for name, v := range g.Options {
		wrong[name] = v
		if changed != "" {
			continue
		}
		for _, grp := range p.Options {
			if grp.Name != name {
				continue
			}
			for _, other := range grp.Values {
				if other != v {
					wrong[name], changed = other, name
					break
				}
			}
		}
	}
	partial := shopByHand(t, e, st, task, wrong)
	b, _ = partial.Info["breakdown"].(Breakdown)
	want := float64(b.Constraints-1) / float64(b.Constraints)
	if partial.Reward != want || b.Options[changed] {
		t.Errorf("a wrong %s: reward %v, breakdown %+v, want %v", changed, partial.Reward, b, want)
	}
}

func TestEnvStopAndErrors(t *testing.T) {
	t.Parallel()
	e, st := newShopEnv(t)
	ctx := t.Context()
	if _, err := e.Reset(ctx, env.Task{ID: "nope", Instruction: "buy a thing"}); err == nil || !strings.Contains(err.Error(), "pilot shop tasks") {
		t.Errorf("Reset(unknown task) = %v, want an error saying how to list the tasks", err)
	}
	if _, err := e.Step(ctx, env.A("noop")); !errors.Is(err, env.ErrNotReset) {
		t.Errorf("Step after a failed Reset = %v, want env.ErrNotReset", err)
	}
	tasks, _ := st.Tasks().Split("dev")
	if _, err := e.Reset(ctx, st.EnvTask(tasks[0])); err != nil {
		t.Fatal(err)
	}
	s, err := e.Step(ctx, env.A("stop", "done"))
	if err != nil || !s.Terminated || s.Reward != 0 || s.Reason != "stopped without buying" {
		t.Errorf("stop() = %+v, %v; want terminated with reward 0, stopped without buying", s, err)
	}
	if spec := e.Spec(); spec.Name != "shop" || len(spec.Actions) == 0 {
		t.Errorf("Spec() = %+v, want the web actions under the name shop", spec)
	}
}
