package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/pilotkit/pilot/agent"
	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/evals"
	"github.com/pilotkit/pilot/evals/serve"
	"github.com/pilotkit/pilot/evals/suites"
)

// serveFlags are the flags of pilot serve.
type serveFlags struct {
	obs                  obsFlags
	suite, split, engine string
	seed                 int64
	params               paramFlag
	screenshot           *choiceValue
	browser, port        string
	addr                 string
	maxSessions          int
	idle, stepTimeout    time.Duration
	maxSteps             int
	maxStepsSet          bool
	secrets              string
	verbose              bool
	taskFile             taskFileFlags
}

func newServeCmd() *cobra.Command {
	f := &serveFlags{screenshot: newChoice("none", "none", "png", "jpeg")}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve a suite's envs as JSON over HTTP on 127.0.0.1, for agents in any language",
		Long: `Serve the envs of a registered suite over HTTP on loopback, until Ctrl-C:
a client opens a session (its own env, reset on one of the suite's tasks),
steps it with actions in pilot's grammar (click("12")) or as a model's tool
calls, reads each observation as pilot prints it (images as URLs, or base64),
and closes it. GET /openapi.json describes every route; docs/serve.md has a
Python client.

pilot serve prints the address it listens on, on one line a script can read:
  pilot serve: listening on http://127.0.0.1:8765 (OpenAPI: http://127.0.0.1:8765/openapi.json)

Each session holds an env (in Chromium, a browser) until it is deleted or
has been idle for --idle; at most --max-sessions are open at once. Requests
on one session run one at a time (another gets 409). An episode is
truncated after --max-steps steps, as pilot run's.

Suites (pilot suites lists them with their task counts):
` + describeSuites(suites.Builtin()),
		Example: `  pilot serve --suite shop --engine lite
  pilot serve --suite shop --screenshot png --max-sessions 2 --addr 127.0.0.1:0
  pilot serve --suite cartpole --idle 2m
  pilot serve --tasks testdata/tasks/tasks.jsonl`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.maxStepsSet = cmd.Flags().Changed("max-steps")
			return f.run(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f.register(cmd.Flags())
	return cmd
}

func (f *serveFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.suite, "suite", "", "the suite to serve: "+suites.Builtin().Names()+" (required; see pilot suites)")
	fs.StringVar(&f.split, "split", "", "the suite's split (default the suite's first, such as test)")
	fs.StringVar(&f.engine, "engine", "", "what runs the envs (default the suite's first): chromium or lite for the shop; fast or serial for the robot suites")
	fs.Int64Var(&f.seed, "seed", 1, "seed of the suite (the shop's catalog and tasks, the robot's tasks)")
	fs.Var(&f.params, "param", "a suite's own option `NAME=VALUE` (repeatable; pilot suites lists them)")
	fs.Var(newParamAlias(&f.params, "dir"), "miniwob-dir", "the miniwob/html folder of a MiniWoB++ checkout, for --suite miniwob (the param dir)")
	f.taskFile.register(fs)
	fs.Var(f.screenshot, "screenshot", "add a screenshot to each observation: none, png or jpeg (chromium)")
	fs.StringVar(&f.browser, "browser", "", "attach the sessions to a running Chrome at `URL` instead of launching one each; a comma-separated list is a fleet, round robin")
	fs.StringVar(&f.port, "port", "", "serial `PORT` of a robot suite's arm (the serial engine)")
	fs.StringVar(&f.addr, "addr", "127.0.0.1:8765", "listen on `ADDR` (loopback only; port 0 picks a free one)")
	fs.IntVar(&f.maxSessions, "max-sessions", serve.DefaultMaxSessions, "sessions open at once at most (each one env: in Chromium, a browser)")
	fs.DurationVar(&f.idle, "idle", serve.DefaultIdleTimeout, "close a session no request touched for this long")
	fs.DurationVar(&f.stepTimeout, "step-timeout", serve.DefaultStepTimeout, "end a session whose env takes longer than this for one reset or step")
	fs.IntVar(&f.maxSteps, "max-steps", agent.DefaultMaxSteps, "truncate an episode after this many steps (0 for no limit; the suite's own default where it has one, such as cartpole's none)")
	fs.StringVar(&f.secrets, "secrets", "", "a `FILE` of NAME=VALUE secrets (besides $PILOT_SECRET_<NAME>): actions name them as <secret:NAME>, the env types the value, and observations show the placeholder")
	fs.BoolVarP(&f.verbose, "verbose", "v", false, "log each session opened and closed, and each request's route and status (never its body), on stderr")
	f.obs.register(fs)
}

// def finds the suite to serve: a registered one, or a task file's
// (--tasks FILE).
func (f *serveFlags) def(reg *evals.Registry) (evals.Def, error) {
	reg, err := f.taskFile.registry(&f.suite)
	if err != nil {
		return evals.Def{}, err
	}
	if f.suite == "" {
		return evals.Def{}, usagef("--suite (or --tasks FILE) is required: one of %s", reg.Names())
	}
	d, err := reg.Find(f.suite)
	if err != nil {
		return evals.Def{}, &usageError{err}
	}
	return d, nil
}

// validate checks the flags with the suite and returns its load options.
func (f *serveFlags) validate(d evals.Def) (evals.LoadOptions, error) {
	var o evals.LoadOptions
	if err := checkLoopback(f.addr); err != nil {
		return o, err
	}
	if err := f.obs.validate(); err != nil {
		return o, err
	}
	if !f.maxStepsSet && d.MaxSteps != 0 {
		f.maxSteps = max(d.MaxSteps, 0) // 0: no limit
	}
	switch {
	case f.maxSessions < 1:
		return o, usagef("--max-sessions %d: want 1 or more", f.maxSessions)
	case f.idle <= 0:
		return o, usagef("--idle %s: want a duration above 0, such as 10m", f.idle)
	case f.stepTimeout <= 0:
		return o, usagef("--step-timeout %s: want a duration above 0, such as 2m", f.stepTimeout)
	case f.maxSteps < 0:
		return o, usagef("--max-steps %d: want 0 (no limit) or more", f.maxSteps)
	case f.browser != "" && slices.ContainsFunc(strings.Split(f.browser, ","), func(u string) bool {
		return !hasAnyPrefix(strings.TrimSpace(u), "ws://", "wss://", "http://")
	}):
		return o, usagef("--browser %q: want ws://host:port/devtools/browser/… or http://host:port, or a comma-separated list of them", f.browser)
	}
	o = evals.LoadOptions{Split: f.split, Engine: f.engine, Seed: f.seed, PolicySeed: f.seed, BrowserURL: f.browser, Port: f.port, Obs: f.obs.options(), Params: maps.Clone(f.params)}
	o.MaxSteps = f.maxSteps
	if f.screenshot.val != "none" {
		o.Screenshot = f.screenshot.val
	}
	if err := d.Check(&o); err != nil {
		return o, &usageError{err}
	}
	return o, nil
}

// checkLoopback refuses an address that is not on loopback.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return usagef("--addr %q: want host:port, such as 127.0.0.1:8765", addr)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return usagef("--addr %q: pilot serve listens on loopback only (127.0.0.1): its sessions type into pages and move arms for whoever connects", addr)
	}
	return nil
}

func (f *serveFlags) run(ctx context.Context, stdout, stderr io.Writer) (err error) {
	d, err := f.def(suites.Builtin())
	if err != nil {
		return err
	}
	o, err := f.validate(d)
	if err != nil {
		return err
	}
	h := humanFlags{secrets: f.secrets} // its secrets, and no guard: the client is the agent
	secrets, err := h.loadSecrets()
	if err != nil {
		return err
	}
	level := slog.LevelWarn
	if f.verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	o.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if o.Judge, err = f.taskFile.openJudge(ctx, stderr); err != nil {
		return err
	}
	o.Secrets = secrets
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return fmt.Errorf("serve: %w (another pilot serve on the port? give --addr 127.0.0.1:0 for a free one)", err)
	}
	defer ln.Close() // when New fails; Serve closes it otherwise
	s, err := serve.New(ctx, serve.Options{
		Def: d, Load: o, MaxSessions: f.maxSessions, IdleTimeout: f.idle, StepTimeout: f.stepTimeout, MaxSteps: f.maxSteps, Logger: logger,
		Wrap: func(e env.Env) env.Env { return h.wrap(e, secrets, nil) },
	})
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "pilot serve: listening on %s (OpenAPI: %s/openapi.json)\n", base, base)
	fmt.Fprintf(stderr, "pilot serve: %s on %s, at most %d sessions, idle ones closed after %s; Ctrl-C stops it\n", d.Name+"/"+o.Split, o.Engine, f.maxSessions, f.idle)
	select {
	case err = <-served:
		err = fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
		// Let short requests finish; then Close ends the envs' calls that
		// remain, and their connections close.
		sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		if srv.Shutdown(sctx) != nil {
			_ = s.Close() // its error comes back below
			_ = srv.Close()
		}
		cancel()
		if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
			err = fmt.Errorf("serve: %w", serr)
		}
	}
	return errors.Join(err, s.Close())
}
