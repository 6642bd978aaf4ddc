// Package webtest holds test helpers for code that drives the web
// environment: a check that no browser outlives the tests, one browser
// that a package's tests share, and a pool of Envs on it.
//
// It does not import env/web (whose own tests use it); a package passes
// web.Launch to Browser.
package webtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// ProfilePattern matches the browser profile directories that env/web
// creates (in $PILOT_PROFILE_DIR, else /dev/shm or the temporary
// directory) and removes on Close.
const ProfilePattern = "pilot-chrome-*"

// Main runs the tests, stops the shared browser (see Browser), and fails
// the run when the tests leave a browser profile directory or a browser
// process behind: an Env that was not closed, or a Close that did not
// clean up. Call it from TestMain: func TestMain(m *testing.M) { webtest.Main(m) }.
//
// It points PILOT_PROFILE_DIR at a directory of this test binary's own, so
// that the packages go test runs in parallel do not see each other's
// browsers.
func Main(m *testing.M) {
	dir, err := os.MkdirTemp("", "pilot-test-profiles-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, "webtest:", err)
		os.Exit(1)
	}
	os.Setenv("PILOT_PROFILE_DIR", dir)
	code := m.Run()
	if err := closePools(); err != nil {
		fmt.Fprintln(os.Stderr, "webtest:", err)
		code = 1
	}
	if err := stopShared(); err != nil {
		fmt.Fprintln(os.Stderr, "webtest: stop the shared browser:", err)
		code = 1
	}
	if code == 0 {
		left, _ := filepath.Glob(filepath.Join(dir, ProfilePattern))
		for _, d := range left {
			fmt.Fprintf(os.Stderr, "leaked browser profile directory %s: close every web.Env\n", d)
			code = 1
		}
		// A browser's helpers can take a moment to follow it out.
		var procs []process
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			if procs = processesUnder(dir); len(procs) == 0 || time.Now().After(deadline) {
				break
			}
		}
		for _, p := range procs {
			fmt.Fprintf(os.Stderr, "leaked browser process %s: close every web.Env\n", p)
			code = 1
		}
	}
	for _, p := range processesUnder(dir) {
		p.kill() // they are this binary's own: their profiles are in dir
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// A Launcher starts a browser and returns its DevTools address and a func
// that stops it, as web.Launch does:
//
//	func(ctx context.Context) (string, func() error, error) { return web.Launch(ctx, web.Options{}) }
type Launcher func(ctx context.Context) (url string, stop func() error, err error)

// LaunchTimeout bounds the start of the shared browser.
const LaunchTimeout = time.Minute

var shared struct {
	mu   sync.Mutex
	url  string
	stop func() error
	err  error
	done bool // launched, or failed to
}

// Browser returns the DevTools address of the test binary's shared
// browser, for web.Options.BrowserURL: the first call starts it with
// launch, later calls return the same address (or the same error), and Main
// stops it when the tests end. Each Env attached to it runs its episodes in
// browser contexts of their own, so tests that share it may run in
// parallel.
//
// Tests about the browser's own life (a crash, a profile removed on Close,
// a missing Chromium) launch their own instead.
func Browser(launch Launcher) (string, error) {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if !shared.done {
		ctx, cancel := context.WithTimeout(context.Background(), LaunchTimeout)
		shared.url, shared.stop, shared.err = launch(ctx)
		cancel()
		shared.done = true
	}
	return shared.url, shared.err
}

func stopShared() error {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.stop == nil {
		return nil
	}
	err := shared.stop()
	shared.stop = nil
	return err
}

// A Pool lends values, such as web.Envs on the shared browser, to tests
// that run in parallel: Get returns an idle one or makes a new one, and
// takes it back when the test ends; Main closes them all when the tests
// end. An Env that serves one test after another uses the tab it opens in
// the background for its next episode, and the tests cost the browser no
// more than one Env per test running at a time.
//
// The values must be alike: a Pool is for the tests that need an Env with
// the same options, and each test starts with Reset.
type Pool[E interface{ Close() error }] struct {
	create func() (E, error)

	mu   sync.Mutex
	idle []E
	all  []E
}

// NewPool returns a pool whose new values create returns.
func NewPool[E interface{ Close() error }](create func() (E, error)) *Pool[E] {
	return &Pool[E]{create: create}
}

// Get returns a value for t, given back to the pool when t ends, or the
// error of making one.
func (p *Pool[E]) Get(t testing.TB) (E, error) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		e := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		t.Cleanup(func() { p.put(e) })
		return e, nil
	}
	p.mu.Unlock()
	e, err := p.create()
	if err != nil {
		return e, err
	}
	p.mu.Lock()
	if len(p.all) == 0 {
		pools.Lock()
		pools.close = append(pools.close, p.close)
		pools.Unlock()
	}
	p.all = append(p.all, e)
	p.mu.Unlock()
	t.Cleanup(func() { p.put(e) })
	return e, nil
}

func (p *Pool[E]) put(e E) {
	p.mu.Lock()
	p.idle = append(p.idle, e)
	p.mu.Unlock()
}

// close closes every value the pool made.
func (p *Pool[E]) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	for _, e := range p.all {
		errs = append(errs, e.Close())
	}
	p.all, p.idle = nil, nil
	return errors.Join(errs...)
}

// pools are the Pools that made values: Main closes them.
var pools struct {
	sync.Mutex
	close []func() error
}

func closePools() error {
	pools.Lock()
	defer pools.Unlock()
	var errs []error
	for _, c := range pools.close {
		errs = append(errs, c())
	}
	pools.close = nil
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close the pooled envs: %w", err)
	}
	return nil
}
