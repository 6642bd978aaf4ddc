package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/spf13/pflag"

	"github.com/pilotkit/pilot/agent"
	"github.com/pilotkit/pilot/env"
	pweb "github.com/pilotkit/pilot/env/web"
	"github.com/pilotkit/pilot/evals"
	"github.com/pilotkit/pilot/planner"
	"github.com/pilotkit/pilot/policy"
	"github.com/pilotkit/pilot/policy/models"
	"github.com/pilotkit/pilot/tools"
)

// humanFlags say who answers the agent's questions.
type humanFlags struct {
	secrets string // --secrets FILE
	confirm string
	// userModel and userBase are --human model's model spec and base URL.
	userModel, userBase string
	kind                string
	addr                string
	timeout             time.Duration
	maxQ                int
	// guard is --guard; openNet --open-network (suites only).
	guard, openNet bool
	// unsure is --ask-when-unsure, unsureK --unsure-samples.
	unsure  float64
	unsureK int
	// irrev is --irreversible as written, rules as read by validate.
	irrev []string
	rules []pweb.GateRule
	fs    *pflag.FlagSet
}

func (h *humanFlags) register(fs *pflag.FlagSet) {
	h.fs = fs
	fs.StringVar(&h.kind, "human", "none", "who answers the agent's questions (ask_user, confirm), which the policy is then offered: none, terminal (stderr and stdin), web (a page on --human-addr), simulated (a rule-based user holding the task's hidden facts) or model (a simulated user played by --user-model)")
	fs.StringVar(&h.userModel, "user-model", "", "--human model: the model that plays the user, `PROVIDER:MODEL` as --model takes it")
	fs.StringVar(&h.userBase, "user-base-url", "", "--human model: the user model's OpenAI-compatible server")
	fs.StringVar(&h.addr, "human-addr", "127.0.0.1:0", "--human web: the page's `ADDR`, on loopback")
	fs.DurationVar(&h.timeout, "human-timeout", tools.DefaultTimeout, "--human terminal or web: how long a question waits for its answer")
	fs.IntVar(&h.maxQ, "max-questions", agent.DefaultMaxQuestions, "questions an episode may ask (past them a question gets no answer)")
	fs.StringVar(&h.confirm, "confirm", "never", "the gate before steps the env flags as irreversible (the shop's Buy Now and Place order; a page's Pay, Delete, …): never, auto (let them through, recorded in the step's gate) or always (ask the --human first; a refusal or no answer keeps the step from the env)")
	fs.BoolVar(&h.guard, "guard", true, "check each web action against the task before the page sees it: a goto off the task's sites, or a name or address the instruction does not give, is refused; text that departs from the instruction goes to the --confirm gate (--guard=false: none of it)")
	fs.BoolVar(&h.openNet, "open-network", false, "with --suite: let the suite's pages load from anywhere (by default a suite served on 127.0.0.1 loads from that host only, every other request blocked)")
	fs.Float64Var(&h.unsure, "ask-when-unsure", 0, "ask the --human when the policy is unsure: when its best candidate's probability is under this `P` (0..1; 0: never), once an episode; the candidates are the suite's scorer's (nn:) or the model's samples (--model)")
	fs.IntVar(&h.unsureK, "unsure-samples", 5, "--ask-when-unsure: candidates (a model's samples) per step")
	fs.StringArrayVar(&h.irrev, "irreversible", nil, "mark more web actions irreversible for the --confirm gate, as `KIND:PATTERN` (repeatable): url:GLOB (actions on pages whose URL matches, such as url:*/checkout*), button:TEXT (a click on a control whose label contains it), field:KIND (typing into a card-number, cvc or password field, or one whose label contains KIND)")
	fs.StringVar(&h.secrets, "secrets", "", "a `FILE` of NAME=VALUE secrets (besides $PILOT_SECRET_<NAME>): actions name them as <secret:NAME>, the env types the value, and every record keeps the placeholder")
}

// loadSecrets reads $PILOT_SECRET_* and --secrets.
func (h *humanFlags) loadSecrets() (env.Secrets, error) {
	s, err := env.LoadSecrets(os.Environ(), h.secrets)
	if err != nil {
		return nil, &usageError{err}
	}
	return s, nil
}

// wrapEnv wraps newEnv so that its envs type secrets (see
// env.WithSecrets) and, with --guard, check web actions against the task
// (web.Guard; hosts are the sites a goto may reach besides the task's).
func (h *humanFlags) wrapEnv(s env.Secrets, hosts []string, newEnv func(context.Context, int) (env.Env, error)) func(context.Context, int) (env.Env, error) {
	return func(ctx context.Context, worker int) (env.Env, error) {
		e, err := newEnv(ctx, worker)
		if err != nil {
			return nil, err
		}
		return h.wrap(e, s, hosts), nil
	}
}

// wrap is wrapEnv for one env.
func (h *humanFlags) wrap(e env.Env, s env.Secrets, hosts []string) env.Env {
	_, web := e.Spec().Action("goto")
	if len(s) > 0 || web {
		// A web env always: with no secrets set, a placeholder is still
		// refused, not typed into the page as it is. (Others keep their
		// own interfaces, such as a robot's env.Twinned.)
		e = env.WithSecrets(e, s)
	}
	if web && (h.guard || len(h.rules) > 0) {
		// Departures are for the gate: with no gate they would only keep
		// planners from searching.
		e = pweb.Guard(e, pweb.GuardOptions{Hosts: slices.Clone(hosts), Rules: h.rules, NoChecks: !h.guard, NoDepartures: !h.guard || h.confirm == "never"})
	}
	return e
}

// unsureName is how --ask-when-unsure appears beside the policy's name.
func (h *humanFlags) unsureName() string {
	if h.unsure == 0 {
		return ""
	}
	return fmt.Sprintf("+unsure(%g)", h.unsure)
}

// unsureOver wraps p so that it asks when unsure (planner.AskWhenUnsure),
// with --ask-when-unsure; the candidates are the suite's proposer for p
// (the shop's scorer), or a model policy's samples.
func (h *humanFlags) unsureOver(d evals.Def, p policy.Policy) (policy.Policy, error) {
	if h.unsure == 0 {
		return p, nil
	}
	var prop planner.Proposer
	if d.Plan != nil && d.Plan.Propose != nil {
		prop, _ = d.Plan.Propose(p)
	}
	if prop == nil {
		llm, ok := p.(*policy.LLMPolicy)
		if !ok {
			return nil, usagef("--ask-when-unsure reads how sure the policy is from its candidates: a --model policy's samples, or a suite's scorer (nn:shop); %T has none", p)
		}
		prop = planner.Samples(llm)
	}
	return planner.AskWhenUnsure(p, prop, planner.UnsureOptions{K: h.unsureK, Threshold: h.unsure}), nil
}

// unsureWrap is unsureOver for each policy of np.
func (h *humanFlags) unsureWrap(d evals.Def, np newPolicy) newPolicy {
	if h.unsure == 0 || np == nil {
		return np
	}
	return func(t env.Task) (policy.Policy, error) {
		p, err := np(t)
		if err != nil {
			return nil, err
		}
		return h.unsureOver(d, p)
	}
}

// validate checks the flags; workers is how many episodes run at once.
func (h *humanFlags) validate(workers int) error {
	h.rules = nil
	for _, s := range h.irrev {
		r, err := pweb.ParseGateRule(s)
		if err != nil {
			return usagef("--irreversible: %v", err)
		}
		h.rules = append(h.rules, r)
	}
	switch {
	case h.unsure < 0 || h.unsure >= 1:
		return usagef("--ask-when-unsure %g: want a probability in [0, 1): 0 never asks", h.unsure)
	case h.unsure > 0 && h.kind == "none":
		return usagef("--ask-when-unsure asks someone: give --human terminal, web, simulated or model")
	case h.unsureK < 2 || h.unsureK > 64:
		return usagef("--unsure-samples %d: want 2 to 64", h.unsureK)
	case h.unsure == 0 && h.fs.Changed("unsure-samples"):
		return usagef("--unsure-samples is for --ask-when-unsure")
	case h.unsure > 0 && h.fs.Lookup("planner") != nil && h.fs.Lookup("planner").Value.String() != "none":
		return usagef("--ask-when-unsure and --planner do not go together: the planner chooses from its own search")
	}
	if len(h.rules) > 0 && h.confirm == "never" {
		return usagef("--irreversible marks actions for the gate: give --confirm auto (record them) or always (ask first)")
	}
	switch h.confirm {
	case "never", "auto":
	case "always":
		if h.kind == "none" {
			return usagef("--confirm always asks someone: give --human terminal, web or simulated")
		}
	default:
		return usagef("--confirm %q: want never, auto or always", h.confirm)
	}
	switch h.kind {
	case "none":
		for _, name := range []string{"human-addr", "human-timeout", "max-questions", "user-model", "user-base-url"} {
			if h.fs.Changed(name) {
				return usagef("--%s is for a --human: give --human terminal, web or simulated", name)
			}
		}
		return nil
	case "terminal", "web", "simulated":
		if h.userModel != "" || h.userBase != "" {
			return usagef("--user-model and --user-base-url are for --human model")
		}
	case "model":
		if h.userModel == "" {
			return usagef("--human model needs --user-model PROVIDER:MODEL, the model that plays the user")
		}
		if _, _, err := models.Parse(h.userModel); err != nil {
			return usagef("--user-model: %v", err)
		}
	default:
		return usagef("--human %q: want none, terminal, web, simulated or model", h.kind)
	}
	switch {
	case h.kind == "terminal" && workers > 1:
		return usagef("--human terminal answers one episode at a time: run with --workers 1, or use --human web")
	case h.addr != "127.0.0.1:0" && h.kind != "web":
		return usagef("--human-addr is for --human web")
	case h.timeout <= 0:
		return usagef("--human-timeout %s: want more than 0", h.timeout)
	case h.maxQ < 0:
		return usagef("--max-questions %d: want 0 or more", h.maxQ)
	}
	host, _, err := net.SplitHostPort(h.addr)
	if err != nil {
		return usagef("--human-addr %q: want HOST:PORT, such as 127.0.0.1:8090", h.addr)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return usagef("--human-addr %q: the page answers for the agent, so it listens on loopback only (127.0.0.1)", h.addr)
	}
	return nil
}

// open returns the Human and what stops it (the web page's server).
func (h *humanFlags) open(stdin io.Reader, stderr io.Writer) (tools.Human, func() error, error) {
	none := func() error { return nil }
	switch h.kind {
	case "terminal":
		if stdin == nil {
			stdin = os.Stdin
		}
		return tools.NewTerminal(stdin, stderr, h.timeout), none, nil
	case "simulated":
		return tools.Simulated{}, none, nil
	case "model":
		m, err := models.Open(context.Background(), h.userModel, models.Options{BaseURL: h.userBase})
		if err != nil {
			return nil, nil, fmt.Errorf("--user-model: %w", err)
		}
		return tools.ModelUser{Model: m}, none, nil
	case "web":
		ln, err := net.Listen("tcp", h.addr)
		if err != nil {
			return nil, nil, fmt.Errorf("--human web: %w", err)
		}
		wh := tools.NewWebHuman(h.timeout)
		srv := &http.Server{Handler: wh, ReadHeaderTimeout: 10 * time.Second}
		done := make(chan error, 1)
		go func() { done <- srv.Serve(ln) }()
		fmt.Fprintf(stderr, "answer the agent's questions at http://%s/ (JSON: GET /questions, POST /answer)\n", ln.Addr())
		return wh, func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := srv.Shutdown(ctx)
			if serr := <-done; !errors.Is(serr, http.ErrServerClosed) {
				err = errors.Join(err, serr)
			}
			return err
		}, nil
	}
	return nil, none, nil
}

// apply sets the Human and the question budget of an episode's options.
func (h *humanFlags) apply(o *agent.Options, hu tools.Human) {
	switch h.confirm {
	case "auto":
		o.Confirm = agent.ConfirmAuto
	case "always":
		o.Confirm = agent.ConfirmAlways
	}
	if hu == nil {
		return
	}
	o.Human = hu
	o.MaxQuestions = h.maxQ
	if h.maxQ == 0 {
		o.MaxQuestions = -1
	}
}
