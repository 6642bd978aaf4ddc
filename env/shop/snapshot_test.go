package shop_test

import (
	"context"
	"strings"
	"testing"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/env/envtest"
	"github.com/pilotkit/pilot/env/shop"
	"github.com/pilotkit/pilot/env/web/lite"
)

const liteOrigin = "http://shop.test"

// newLiteShop returns the shop env over the lite browser, in-process.
func newLiteShop(t testing.TB) (*shop.Env, *shop.Store) {
	t.Helper()
	store, err := twinStore()
	if err != nil {
		t.Fatal(err)
	}
	return shop.NewEnv(lite.New(store, lite.Options{Origin: liteOrigin}), store, liteOrigin), store
}

func TestLiteConformance(t *testing.T) {
	t.Parallel()
	e, store := newLiteShop(t)
	tasks, _ := store.Tasks().Split("test")
	envtest.Check(t, e, store.EnvTask(tasks[0]))
}

// liteStep plays the action on the element whose line contains s.
func liteStep(t *testing.T, e *shop.Env, obs env.Observation, name, s string, args ...string) env.Step {
	t.Helper()
	id, ok := findID(obs.Text, s)
	if !ok {
		t.Fatalf("no element %q in:\n%s", s, obs.Text)
	}
	st, err := e.Step(t.Context(), env.A(name, append([]string{id}, args...)...))
	if err != nil {
		t.Fatalf("%s %q: %v", name, s, err)
	}
	if st.Obs.Error != "" {
		t.Fatalf("%s %q: %s", name, s, st.Obs.Error)
	}
	return st
}

// newChromiumShop returns the shop env over a pooled Chromium tab, on a
// store served on 127.0.0.1.
func newChromiumShop(t *testing.T) (*shop.Env, *shop.Store) {
	t.Helper()
	store, err := twinStore()
	if err != nil {
		t.Fatal(err)
	}
	base, stop, err := shop.ServeLocal(t.Context(), store)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return shop.NewEnv(shop.PooledWebForTest(t), store, base), store // not closed: the tab goes back to the pool
}

// A snapshot taken at the checkout brings back the store's side too: the
// order placed after it is unplaced by Restore, placed again with the same
// reward, and a snapshot from before Buy Now forgets what was chosen. In
// the lite browser the page is copied; in Chromium it is replayed (the
// checkout's five fills on the checkout page).
func TestSnapshotUndoesThePurchase(t *testing.T) {
	t.Parallel()
	t.Run("lite", func(t *testing.T) {
		t.Parallel()
		e, store := newLiteShop(t)
		defer e.Close()
		undoThePurchase(t, e, store)
	})
	t.Run("chromium", func(t *testing.T) {
		t.Parallel()
		e, store := newChromiumShop(t)
		undoThePurchase(t, e, store)
	})
}

func undoThePurchase(t *testing.T, e *shop.Env, store *shop.Store) {
	tasks, _ := store.Tasks().Split("test")
	task := tasks[1]
	obs, err := e.Reset(t.Context(), store.EnvTask(task))
	if err != nil {
		t.Fatal(err)
	}
	st := liteStep(t, e, obs, "fill", `searchbox "Search"`, searchWord(t, task))
	st = liteStep(t, e, st.Obs, "click", `button "Search"`)
	first := firstLink(t, st.Obs.Text)
	st = liteStep(t, e, st.Obs, "click", first)
	atItem, err := e.Snapshot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	itemObs := st.Obs
	st = liteStep(t, e, st.Obs, "click", `button "Buy Now"`)
	a := task.Goal.Address
	for _, f := range [][2]string{{"Full name", a.Name}, {"Street address", a.Street}, {"City", a.City}, {"State", a.State}, {"ZIP code", a.Zip}} {
		st = liteStep(t, e, st.Obs, "fill", `textbox "`+f[0]+`"`, f[1])
	}
	atCheckout, err := e.Snapshot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	checkoutObs := st.Obs
	placed := liteStep(t, e, st.Obs, "click", `button "Place order"`)
	if !placed.Terminated {
		t.Fatalf("the order did not end the episode:\n%s", placed.Obs.Text)
	}
	id := placed.Info["episode_id"].(string)

	for round := range 3 {
		if err := e.Restore(t.Context(), atCheckout); err != nil {
			t.Fatal(err)
		}
		if ep, _ := store.Episode(id); ep.Status != "active" {
			t.Fatalf("round %d: after Restore the store's episode is %q, want active", round, ep.Status)
		}
		if got := atCheckout.Observation().Text; got != checkoutObs.Text {
			t.Errorf("the checkout state's observation is not the checkout page:\n%s", got)
		}
		again := liteStep(t, e, checkoutObs, "click", `button "Place order"`)
		if !again.Terminated || again.Reward != placed.Reward || again.Obs.Text != placed.Obs.Text {
			t.Errorf("round %d: the order placed again: terminated %v, reward %v, want %v and the same page", round, again.Terminated, again.Reward, placed.Reward)
		}
	}
	if err := e.Restore(t.Context(), atItem); err != nil {
		t.Fatal(err)
	}
	// The checkout has nothing to show now: Buy Now was not pressed.
	loc := sessionPath.FindStringIndex(itemObs.URL)
	got, err := e.Step(t.Context(), env.A("goto", itemObs.URL[:loc[1]]+"checkout"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got.Obs.Text, "nothing to check out yet") {
		t.Errorf("after restoring the item page the checkout is not empty:\n%s", got.Obs.Text)
	}
	if _, err := e.Reset(t.Context(), store.EnvTask(task)); err != nil {
		t.Fatal(err)
	}
	if err := e.Restore(t.Context(), atItem); err == nil || !strings.Contains(err.Error(), "earlier episode") {
		t.Errorf("Restore after Reset = %v, want the state refused as from an earlier episode", err)
	}
}

// firstLink returns the text that finds the first result's link.
func firstLink(t *testing.T, text string) string {
	t.Helper()
	lines := strings.Split(text, "\n")
	for i, line := range lines {
		if strings.Contains(line, "] listitem") && i+1 < len(lines) {
			s := strings.TrimSpace(lines[i+1])
			return s[strings.Index(s, "]"):]
		}
	}
	t.Fatalf("no result in:\n%s", text)
	return ""
}

// BenchmarkSnapshotRestore is a snapshot and a restore of the shop in the
// lite browser, on a results page: the figure the planners pay per node.
func BenchmarkSnapshotRestore(b *testing.B) {
	e, store := newLiteShop(b)
	defer e.Close()
	tasks, _ := store.Tasks().Split("test")
	ctx := context.Background()
	obs, err := e.Reset(ctx, store.EnvTask(tasks[0]))
	if err != nil {
		b.Fatal(err)
	}
	id, _ := findID(obs.Text, `searchbox "Search"`)
	if _, err := e.Step(ctx, env.A("fill", id, "backpack")); err != nil {
		b.Fatal(err)
	}
	st, err := e.Step(ctx, env.A("press", "Enter"))
	if err != nil || !strings.Contains(st.Obs.URL, "search") {
		b.Fatalf("search: %v %s", err, st.Obs.URL)
	}
	b.ReportAllocs()
	for b.Loop() {
		s, err := e.Snapshot(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if err := e.Restore(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGate is the confirmation gate's check of one click on a
// results page (shop.Env.Irreversible): what --confirm adds to a step.
func BenchmarkGate(b *testing.B) {
	e, store := newLiteShop(b)
	defer e.Close()
	tasks, _ := store.Tasks().Split("test")
	obs, err := e.Reset(context.Background(), store.EnvTask(tasks[0]))
	if err != nil {
		b.Fatal(err)
	}
	id, _ := findID(obs.Text, `searchbox "Search"`)
	st, err := e.Step(context.Background(), env.A("fill", id, "mug"))
	if err != nil {
		b.Fatal(err)
	}
	id, _ = findID(st.Obs.Text, `button "Search"`)
	if st, err = e.Step(context.Background(), env.A("click", id)); err != nil {
		b.Fatal(err)
	}
	last := env.A("click", "999")
	for b.Loop() {
		if why := e.Irreversible(st.Obs, last); why != "" {
			b.Fatal(why)
		}
	}
}

// The shop flags Buy Now and Place order for the gate, nothing else.
func TestShopIrreversible(t *testing.T) {
	t.Parallel()
	e, store := newLiteShop(t)
	defer e.Close()
	tasks, _ := store.Tasks().Split("test")
	task := tasks[1]
	obs, err := e.Reset(t.Context(), store.EnvTask(task))
	if err != nil {
		t.Fatal(err)
	}
	flag := func(obs env.Observation, s string) string {
		id, ok := findID(obs.Text, s)
		if !ok {
			t.Fatalf("no %q in\n%s", s, obs.Text)
		}
		return e.Irreversible(obs, env.A("click", id))
	}
	st := liteStep(t, e, obs, "fill", `searchbox "Search"`, searchWord(t, task))
	if why := flag(st.Obs, `button "Search"`); why != "" {
		t.Errorf("Search flagged: %s", why)
	}
	st = liteStep(t, e, st.Obs, "click", `button "Search"`)
	st = liteStep(t, e, st.Obs, "click", firstLink(t, st.Obs.Text))
	if why := flag(st.Obs, `button "Buy Now"`); !strings.Contains(why, "Buy Now") {
		t.Errorf("Buy Now: %q, want it flagged", why)
	}
	st = liteStep(t, e, st.Obs, "click", `button "Buy Now"`)
	if why := flag(st.Obs, `button "Place order"`); !strings.Contains(why, "Place order") {
		t.Errorf("Place order: %q, want it flagged", why)
	}
	if why := e.Irreversible(st.Obs, env.A("press", "Enter")); why == "" {
		t.Error("Enter on the checkout page is not flagged")
	}
}
