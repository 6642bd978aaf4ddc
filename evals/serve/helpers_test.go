package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/env/web/webtest"
	"github.com/pilotkit/pilot/evals"
	"github.com/pilotkit/pilot/evals/suites"
)

func TestMain(m *testing.M) { webtest.Main(m) }

// shopLite serves the shop on the lite engine with a small catalog.
func shopLite(t *testing.T, o Options) (*Server, *httptest.Server) {
	t.Helper()
	o.Def = suites.Shop()
	o.Load = evals.LoadOptions{Engine: evals.EngineLite, Seed: 1, Params: map[string]string{"products": "300"}}
	return start(t, o)
}

// start makes the server of o and serves it on 127.0.0.1; the test's
// cleanup stops both.
func start(t *testing.T, o Options) (*Server, *httptest.Server) {
	t.Helper()
	s, err := New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(func() {
		hs.Close()
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s, hs
}

// call sends a JSON request (body nil: none) and returns the status and
// the body.
func call(t *testing.T, method, url string, body any) (int, []byte) {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out
}

// callOK is call that wants the status and decodes the answer into v.
func callOK(t *testing.T, want int, method, url string, body, v any) {
	t.Helper()
	code, out := call(t, method, url, body)
	if code != want {
		t.Fatalf("%s %s = %d %s, want %d", method, url, code, out, want)
	}
	if v != nil {
		if err := json.Unmarshal(out, v); err != nil {
			t.Fatalf("%s %s: %v in %s", method, url, err, out)
		}
	}
}

// errorText returns the error of an error answer, failing the test when
// the body is not {"error": "..."}.
func errorText(t *testing.T, body []byte) string {
	t.Helper()
	var e map[string]any
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body %q is not JSON: %v", body, err)
	}
	msg, ok := e["error"].(string)
	if !ok || msg == "" || len(e) != 1 {
		t.Fatalf("error body %s: want {\"error\": \"...\"}", body)
	}
	return msg
}

// fakeEnv is an env whose actions say how it behaves: noop() steps,
// stop() ends the episode with reward 1, fail() is a Go error, wait()
// blocks until release is closed or the context ends, snap() carries an
// image.
type fakeEnv struct {
	release <-chan struct{}
	entered chan<- struct{} // gets a value when wait() starts; may be nil
	closes  *atomic.Int32
	steps   int
	closed  bool
}

var fakeSpec = env.Spec{Name: "fake", Modalities: []string{"text", "image"}, Actions: []env.ActionSpec{
	{Name: "noop", Doc: "Do nothing."},
	{Name: "say", Doc: "Say something.", Params: []env.Param{{Name: "text", Type: env.String, Doc: "what"}}},
	{Name: "stop", Doc: "End the episode."},
	{Name: "fail", Doc: "A Go error."},
	{Name: "wait", Doc: "Block."},
	{Name: "snap", Doc: "An image."},
}}

func (f *fakeEnv) Spec() env.Spec { return fakeSpec }

func (f *fakeEnv) Reset(ctx context.Context, t env.Task) (env.Observation, error) {
	if f.closed {
		return env.Observation{}, env.ErrClosed
	}
	f.steps = 0
	return env.Observation{Text: "start of " + t.ID}, nil
}

func (f *fakeEnv) Step(ctx context.Context, a env.Action) (env.Step, error) {
	if f.closed {
		return env.Step{}, env.ErrClosed
	}
	f.steps++
	obs := env.Observation{Text: fmt.Sprintf("step %d: %s", f.steps, a)}
	if err := fakeSpec.Validate(a); err != nil {
		obs.Error = err.Error()
		return env.Step{Obs: obs}, nil
	}
	switch a.Name {
	case "stop":
		return env.Step{Obs: obs, Reward: 1, Terminated: true, Reason: "stopped"}, nil
	case "fail":
		return env.Step{}, fmt.Errorf("fake: step %s: %w", a, env.BackendLost("the fake backend is gone"))
	case "wait":
		if f.entered != nil {
			f.entered <- struct{}{}
		}
		select {
		case <-f.release:
		case <-ctx.Done():
			return env.Step{}, fmt.Errorf("fake: wait: %w", ctx.Err())
		}
	case "snap":
		obs.Images = []env.Image{{MIME: "image/png", Data: []byte("\x89PNG fake"), W: 2, H: 1}}
	}
	return env.Step{Obs: obs, Info: map[string]any{"n": f.steps}}, nil
}

func (f *fakeEnv) Close() error {
	if !f.closed {
		f.closed = true
		f.closes.Add(1)
	}
	return nil
}

// fakeSuite is a loaded suite of fake envs.
type fakeSuite struct {
	release chan struct{}
	entered chan struct{}
	made    atomic.Int32
	closes  atomic.Int32
	closed  atomic.Bool
	once    sync.Once
}

func newFake() *fakeSuite {
	return &fakeSuite{release: make(chan struct{}), entered: make(chan struct{}, 16)}
}

func (fs *fakeSuite) loaded() *evals.Loaded {
	return &evals.Loaded{
		Suite: evals.Suite{Name: "fake/test", Tasks: []env.Task{{ID: "t0", Instruction: "do t0", Answer: "secret answer"}, {ID: "t1", Instruction: "do t1"}}},
		NewEnv: func(ctx context.Context, worker int) (env.Env, error) {
			fs.made.Add(1)
			return &fakeEnv{release: fs.release, entered: fs.entered, closes: &fs.closes}, nil
		},
		Close: func() error {
			if fs.closed.Swap(true) {
				return errors.New("Loaded.Close called twice")
			}
			return nil
		},
	}
}

// unblock lets every wait() go on.
func (fs *fakeSuite) unblock() { fs.once.Do(func() { close(fs.release) }) }

// fakeServer serves a fake suite; the clock starts at a fixed time and
// moves only when the test moves it.
func fakeServer(t *testing.T, o Options) (*Server, *httptest.Server, *fakeSuite, *clock) {
	t.Helper()
	fs := newFake()
	t.Cleanup(fs.unblock) // before the server's cleanup (LIFO)
	c := &clock{t: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
	o.Loaded = fs.loaded()
	o.Def = evals.Def{Name: "fake"}
	if o.Now == nil {
		o.Now = c.now
	}
	if o.JanitorEvery == 0 {
		o.JanitorEvery = time.Hour // tests call expire, or set it
	}
	s, hs := start(t, o)
	return s, hs, fs, c
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
