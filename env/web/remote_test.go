package web

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pilotkit/pilot/env"
)

// TestLaunch: a browser that Launch started serves several Envs at once,
// each episode isolated; closing an Env leaves it running; stop ends it
// (and removes its profile: TestMain fails the run otherwise).
func TestLaunch(t *testing.T) {
	t.Parallel()
	srv := site(t)
	ws, stop, err := Launch(ctxT(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop() })
	if !strings.HasPrefix(ws, "ws://127.0.0.1:") || !strings.Contains(ws, "/devtools/browser/") {
		t.Errorf("Launch = %q, want ws://127.0.0.1:PORT/devtools/browser/ID", ws)
	}

	// Two Envs at once: a cookie set in one is seen by neither the other
	// nor the next episode of the same Env.
	envs := []*Env{newEnv(t, Options{BrowserURL: ws}), newEnv(t, Options{BrowserURL: ws})}
	var wg sync.WaitGroup
	for i, e := range envs {
		wg.Go(func() {
			obs, err := e.Reset(ctxT(t), env.Task{StartURL: srv.URL + "/cookie.html"})
			if err != nil {
				t.Errorf("env %d: Reset on the launched browser: %v", i, err)
				return
			}
			if e.BrowserPID() != 0 {
				t.Errorf("env %d: BrowserPID of an attached browser = %d, want 0", i, e.BrowserPID())
			}
			if !strings.Contains(obs.Text, "cookie: []") {
				t.Errorf("env %d: a cookie leaked into a new episode:\n%s", i, obs.Text)
			}
			a := env.A("click", idOf(t, obs, `button "Remember me"`))
			st, err := e.Step(ctxT(t), a)
			if err != nil || !strings.Contains(st.Obs.Text, "cookie: [visited=yes]") {
				t.Errorf("env %d: click on the launched browser: %v\n%s", i, err, st.Obs.Text)
			}
		})
	}
	wg.Wait()
	if obs, err := envs[0].Reset(ctxT(t), env.Task{StartURL: srv.URL + "/cookie.html"}); err != nil || !strings.Contains(obs.Text, "cookie: []") {
		t.Errorf("episodes on a launched browser are not isolated: %v\n%s", err, obs.Text)
	}

	// Closing an Env disconnects; the browser keeps running.
	if err := envs[0].Close(); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, Options{BrowserURL: ws})
	if _, err := e.Reset(ctxT(t), env.Task{StartURL: srv.URL + "/form.html"}); err != nil {
		t.Errorf("the browser did not survive Close of an env attached to it: %v", err)
	}

	if err := stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if err := stop(); err != nil {
		t.Errorf("second stop: %v", err)
	}
	_, err = e.Step(ctxT(t), env.A("noop"))
	for i := 0; err == nil && i < 50; i++ { // the loss takes a moment to be seen
		time.Sleep(20 * time.Millisecond)
		_, err = e.Step(ctxT(t), env.A("noop"))
	}
	if !errors.Is(err, ErrBrowserGone) {
		t.Errorf("Step on a stopped browser = %v, want ErrBrowserGone", err)
	}
	if _, err := e.Reset(ctxT(t), env.Task{}); err == nil || !strings.Contains(err.Error(), "attach to the browser at "+ws) {
		t.Errorf("Reset on a stopped browser = %v, want an error naming its address", err)
	}
}

func TestLaunchErrors(t *testing.T) {
	t.Parallel()
	if _, _, err := Launch(ctxT(t), Options{BrowserURL: "ws://127.0.0.1:1/devtools/browser/x"}); err == nil {
		t.Error("Launch with a BrowserURL succeeded")
	}
	if _, _, err := Launch(ctxT(t), Options{ChromePath: "/nonexistent/chromium"}); !errors.Is(err, ErrChromeNotFound) {
		t.Errorf("Launch without Chromium = %v, want ErrChromeNotFound", err)
	}
}

func TestRemoteBrowserUnreachable(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{BrowserURL: "ws://127.0.0.1:1/devtools/browser/x"})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := e.Reset(ctx, env.Task{})
	if err == nil || !strings.Contains(err.Error(), "attach to the browser at ws://127.0.0.1:1") {
		t.Errorf("Reset with no browser at the address = %v, want an error naming the address", err)
	}
	if _, err := New(Options{BrowserURL: "localhost:9222"}); err == nil {
		t.Error("New accepted a browser address without a scheme")
	}
}
