package planner_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/pilotkit/pilot/agent"
	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/env/web"
	"github.com/pilotkit/pilot/env/web/webtest"
	"github.com/pilotkit/pilot/planner"
)

func TestMain(m *testing.M) { webtest.Main(m) }

// A best-first search on a page of a real site replays its restores, so
// it does not try the page's "Place order": the site receives no order,
// and the search record says what it left out and why.
func TestSearchLeavesIrreversibleActionsAlone(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	orders := 0
	mux := http.NewServeMux()
	mux.HandleFunc("/shop", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><html><head><title>Shop</title></head><body><form method="post" action="/placed"><button>Place order</button></form><a href="/about">About us</a></body></html>`)
	})
	mux.HandleFunc("/placed", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		orders++
		mu.Unlock()
		fmt.Fprint(w, `<!doctype html><html><head><title>Thanks</title></head><body>Order placed</body></html>`)
	})
	mux.HandleFunc("/about", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><html><head><title>About</title></head><body>We sell mugs. <a href="/shop">Back</a></body></html>`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	u, err := webtest.Browser(func(ctx context.Context) (string, func() error, error) { return web.Launch(ctx, web.Options{}) })
	if errors.Is(err, web.ErrChromeNotFound) {
		t.Skipf("no Chromium: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	e, err := web.New(web.Options{BrowserURL: u})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	p, err := planner.NewBestFirst(planner.Choices{}, planner.Oracle{}, planner.Options{Depth: 2, Budget: 6})
	if err != nil {
		t.Fatal(err)
	}
	traj, err := agent.Run(t.Context(), e, env.Task{StartURL: srv.URL + "/shop"}, p, agent.Options{MaxSteps: 1})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if orders != 0 {
		t.Fatalf("the search placed %d orders on the site", orders)
	}
	rec, ok := traj.Steps[0].Meta["search"].(*planner.Record)
	if !ok || len(rec.Skipped) == 0 || !strings.Contains(strings.Join(rec.Skipped, "\n"), `button "Place order"`) || !strings.Contains(rec.Skipped[0], "not explored") {
		t.Fatalf("the search record's skipped = %q, want the order button, not explored", rec.Skipped)
	}
	if rec.EnvSteps == 0 {
		t.Errorf("the search took no env step: it explored nothing at all")
	}
}
