// Package suites registers pilot's own benchmark suites: shop (the
// WebShop-style store, in Chromium or lite), demo (four questions about a
// small mug shop), robot:reach and robot:pick (the simulated or a real
// SO-101), cartpole (CartPole-v1) and miniwob (the tasks of a MiniWoB++
// checkout).
//
// Builtin returns a registry that holds them all; pilot run, eval and
// suites read it. A new suite is one file here with a function that
// returns its evals.Def, and one line in Builtin.
package suites

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/pilotkit/pilot/env/web"
	"github.com/pilotkit/pilot/evals"
	"github.com/pilotkit/pilot/policy/nn"
)

// Builtin returns a registry of pilot's suites, in the order `pilot
// suites` lists them.
func Builtin() *evals.Registry {
	r := &evals.Registry{}
	for _, d := range []evals.Def{
		Shop(),
		Demo(),
		Robot("reach"),
		Robot("pick"),
		CartPole(),
		MiniWoB(),
	} {
		if err := r.Register(d); err != nil {
			panic(err) // a programming error in this package, caught by its tests
		}
	}
	return r
}

// newWeb makes worker's Chromium env for a suite served on 127.0.0.1:
// attached to the worker's browser of o.Browsers (round robin), else a
// browser of its own; its pages may load from the host 127.0.0.1 only
// (any port: the allowlist is by host), unless o.OpenNetwork.
func newWeb(o evals.LoadOptions, worker int) (*web.Env, error) {
	wo := web.Options{BrowserURL: o.WorkerBrowser(worker), Screenshot: o.Screenshot, Logger: o.Logger, Obs: o.Obs}
	if !o.OpenNetwork {
		wo.AllowDomains = []string{"127.0.0.1"}
	}
	e, err := web.New(wo)
	if err != nil {
		return nil, fmt.Errorf("start the browser: %w", err)
	}
	return e, nil
}

// bundleFile loads spec as a weights file when it names one ("runs/x/
// policy.nn", anything with a '/' or a '.'); ok is false for a shipped
// name.
func bundleFile(spec string) (b *nn.Bundle, ok bool, err error) {
	if _, statErr := os.Stat(spec); statErr != nil && !strings.ContainsAny(spec, "/.") {
		return nil, false, nil
	}
	b, err = nn.LoadBundle(spec)
	return b, true, err
}

// localServer serves h on a random port of 127.0.0.1.
type localServer struct {
	srv  *http.Server
	url  string
	done chan error
}

func serveLocal(ctx context.Context, h http.Handler) (*localServer, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &localServer{srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}, url: "http://" + ln.Addr().String(), done: make(chan error, 1)}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s, nil
}

// Close stops the server, waiting up to 5 s for requests in flight.
func (s *localServer) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if serr := <-s.done; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}
