package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/pilotkit/pilot/env"
)

// Hooks are what a benchmark adds to an episode: scripts that run in its
// pages, the instruction the page draws, and a reward the page gives
// after every step. Env.ResetWith takes them; WithHooks makes an env that
// gives each task its own.
type Hooks struct {
	// Init are scripts that run in every document of the episode before
	// the document's own scripts (a seeded Math.random, a stubbed clock).
	Init []string
	// Setup runs once in the start page after it has loaded, before the
	// first observation; a promise it returns is awaited. It must leave
	// the page where it is: a setup that navigates elsewhere fails the
	// Reset (start the episode at the other URL instead).
	Setup string
	// Instruction, when set, is an expression evaluated after Setup whose
	// value is the episode's instruction: a string, or an object with a
	// string "utterance" (MiniWoB's core.getUtterance()). Brief returns
	// it.
	Instruction string
	// Reward, when set, scores every step: its Score is the step's reward
	// and ends the episode when it says Done. Without it a task's Answer
	// scores stop as before.
	Reward Scorer
	// Timeout bounds Setup, Instruction and every evaluation in the page
	// a Scorer makes; default 5s. A script that does not return by then
	// (an endless loop, a promise that never settles) is an evaluation
	// error.
	Timeout time.Duration
}

// DefaultHookTimeout is Hooks.Timeout's default.
const DefaultHookTimeout = 5 * time.Second

func (h Hooks) timeout() time.Duration {
	if h.Timeout > 0 {
		return h.Timeout
	}
	return DefaultHookTimeout
}

// empty reports whether h changes nothing of an episode.
func (h Hooks) empty() bool {
	return len(h.Init) == 0 && h.Setup == "" && h.Instruction == "" && h.Reward == nil
}

// Scripted reports whether h runs JavaScript of its own in the page
// (Init, Setup or Instruction): the lite engine cannot.
func (h Hooks) Scripted() bool {
	return len(h.Init) > 0 || h.Setup != "" || h.Instruction != ""
}

// A Scorer reads the page after a step and says what the step earned.
// An error is the evaluator's (an expression that threw or did not
// return): the episode ends with it, wrapping env.ErrEvaluate.
type Scorer func(ctx context.Context, p Page, t Turn) (Score, error)

// Turn is what a Scorer is told of the step it scores.
type Turn struct {
	// Step counts the episode's steps from 0.
	Step int
	// Action is the step's action.
	Action env.Action
	// Stopped says the agent stopped (the stop action): the last chance
	// to score the episode. Answer is stop's argument.
	Stopped bool
	Answer  string
	// Obs is the observation after the step.
	Obs env.Observation
}

// Score is a step's reward as a Scorer gives it.
type Score struct {
	Reward float64
	// Done ends the episode (terminated).
	Done bool
	// Success, when set, says whether the task succeeded (recorded as
	// Info[env.InfoSuccess]); without it a final reward of 1 is success.
	Success *bool
	// Reason says why the episode ended, when Done.
	Reason string
	// Info is added to the step's Info.
	Info map[string]any
}

// Page is a web episode's page as a Scorer reads it. Both engines
// provide it: Chromium evaluates JavaScript; lite, which runs none,
// answers Evaluate with ErrNoScript.
type Page interface {
	// URL is the address of the page shown.
	URL() string
	// Evaluate runs a JavaScript expression in the page and returns its
	// value as JSON (null for undefined); a promise is awaited. It is
	// bounded by the hooks' Timeout.
	Evaluate(ctx context.Context, expr string) (json.RawMessage, error)
	// HTML is the page's document as it is now, serialised.
	HTML(ctx context.Context) (string, error)
	// Fetch gets another page of the site the way the episode would (its
	// cookies), without leaving the page shown: its status and body.
	Fetch(ctx context.Context, url string) (status int, body string, err error)
}

// ErrNoScript is returned by the lite engine's Page.Evaluate: it runs no
// JavaScript.
var ErrNoScript = errors.New("the lite engine runs no JavaScript: evaluate the page on the chromium engine")

// HookedEnv is an env that takes hooks for an episode: *Env and the lite
// engine's *lite.Browser.
type HookedEnv interface {
	env.Env
	ResetWith(ctx context.Context, t env.Task, h Hooks) (env.Observation, error)
}

// WithHooks returns an env that resets e with the hooks that hooks gives
// each task (nil Init, Setup and Reward: none). Close closes e. The
// wrapper keeps e's gate (env.Irreversible) and its brief (env.Briefer);
// it hides its snapshots, which do not replay hooks.
func WithHooks(e HookedEnv, hooks func(env.Task) Hooks) env.Env {
	return &hooked{inner: e, hooks: hooks}
}

type hooked struct {
	inner HookedEnv
	hooks func(env.Task) Hooks
}

func (h *hooked) Spec() env.Spec { return h.inner.Spec() }
func (h *hooked) Reset(ctx context.Context, t env.Task) (env.Observation, error) {
	return h.inner.ResetWith(ctx, t, h.hooks(t))
}
func (h *hooked) Step(ctx context.Context, a env.Action) (env.Step, error) {
	return h.inner.Step(ctx, a)
}
func (h *hooked) Close() error { return h.inner.Close() }

// Brief is the instruction the page gave, "" when the task's stands.
func (h *hooked) Brief() string {
	if b, ok := h.inner.(env.Briefer); ok {
		return b.Brief()
	}
	return ""
}

// Irreversible is the inner env's gate.
func (h *hooked) Irreversible(obs env.Observation, a env.Action) string {
	if g, ok := h.inner.(env.Irreversible); ok {
		return g.Irreversible(obs, a)
	}
	return ""
}

// ApplyScore sets st's reward and end from s (used by both engines).
func ApplyScore(st *env.Step, s Score) {
	st.Reward = s.Reward
	if len(s.Info) > 0 || s.Success != nil {
		if st.Info == nil {
			st.Info = map[string]any{}
		}
		for k, v := range s.Info {
			st.Info[k] = v
		}
		if s.Success != nil {
			st.Info[env.InfoSuccess] = *s.Success
		}
	}
	if s.Done && !st.Terminated {
		st.Terminated = true
		st.Reason = s.Reason
		if st.Reason == "" {
			st.Reason = "the task's evaluator ended the episode"
		}
	}
}

// ScoreError wraps a Scorer's error as the episode's evaluation error.
func ScoreError(step int, err error) error {
	if errors.Is(err, env.ErrEvaluate) {
		return err
	}
	return fmt.Errorf("%w: after step %d: %w", env.ErrEvaluate, step, err)
}

// ResetWith starts an episode as Reset does, with h: its Init scripts
// are installed before the start URL opens, Setup runs once it has
// loaded, Instruction is read, and h.Reward scores every step.
func (e *Env) ResetWith(ctx context.Context, t env.Task, h Hooks) (env.Observation, error) {
	return e.reset(ctx, t, h)
}

// Brief returns the instruction the episode's page gave (Hooks.
// Instruction), "" when there is none.
func (e *Env) Brief() string {
	if e.ep == nil {
		return ""
	}
	return e.ep.brief
}

var _ env.Briefer = (*Env)(nil)

// installInit adds h's Init scripts to the episode's tab, for every
// document it loads from now on.
func (e *Env) installInit(ctx context.Context, h Hooks) error {
	if len(h.Init) == 0 {
		return nil
	}
	return runBounded(ctx, e.ep.ctx, func(c context.Context) error {
		for i, src := range h.Init {
			if _, err := chromedp.Call(c, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: src}); err != nil {
				return fmt.Errorf("install init script %d: %w", i+1, err)
			}
		}
		return nil
	})
}

// runSetup waits for the start page's load, runs h.Setup and reads
// h.Instruction; it returns the page's address before the setup (""
// without one), which the first observation must still show. A setup
// that throws, does not return or navigates elsewhere is an error
// wrapping env.ErrEvaluate.
func (e *Env) runSetup(ctx context.Context, h Hooks) (string, error) {
	ep := e.ep
	if h.Setup == "" && h.Instruction == "" {
		return "", nil
	}
	deadline := time.Now().Add(e.opts.SettleTimeout)
	loaded, err := ep.state.waitFor(ctx, deadline, func(s pageSnapshot) bool { return !s.loading })
	if err != nil {
		return "", err
	}
	if !loaded {
		// Not the task's fault: a slow site (a retry may load it).
		return "", fmt.Errorf("the start page did not finish loading within %s, so its setup did not run: raise web.Options.SettleTimeout for a slow site", e.opts.SettleTimeout)
	}
	raw, err := e.evaluate(ctx, "location.href", h.timeout())
	if err != nil {
		return "", fmt.Errorf("%w: read the start page's address: %w", env.ErrEvaluate, err)
	}
	var before string
	_ = json.Unmarshal(raw, &before)
	if h.Setup != "" {
		if _, err := e.evaluate(ctx, h.Setup, h.timeout()); err != nil {
			if contextGone(err) {
				return "", fmt.Errorf("%w: the setup script navigated away from %s: a setup must leave the page where it is (start the task at the other URL instead)", env.ErrEvaluate, before)
			}
			return "", fmt.Errorf("%w: setup: %w", env.ErrEvaluate, err)
		}
	}
	if h.Instruction != "" {
		v, err := e.evaluate(ctx, h.Instruction, h.timeout())
		if err != nil {
			return "", fmt.Errorf("%w: read the instruction: %w", env.ErrEvaluate, err)
		}
		s, err := instructionOf(v)
		if err != nil {
			return "", fmt.Errorf("%w: the instruction expression %s: %w", env.ErrEvaluate, clip(h.Instruction, 80), err)
		}
		ep.brief = s
	}
	return before, nil
}

// sameDocument compares two addresses without their fragments.
func sameDocument(a, b string) bool {
	a, _, _ = strings.Cut(a, "#")
	b, _, _ = strings.Cut(b, "#")
	return a == b
}

// errSetupNavigated is the error of a setup that left the start page.
func errSetupNavigated(from, to string) error {
	return fmt.Errorf("%w: the setup script navigated away from %s to %s: a setup must leave the page where it is (start the task at the other URL instead)", env.ErrEvaluate, from, to)
}

// instructionOf reads an instruction: a string, or an object with a
// string "utterance".
func instructionOf(v json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		if strings.TrimSpace(s) == "" {
			return "", errors.New("gave an empty instruction")
		}
		return strings.TrimSpace(s), nil
	}
	var o struct {
		Utterance *string `json:"utterance"`
	}
	if err := json.Unmarshal(v, &o); err == nil && o.Utterance != nil && strings.TrimSpace(*o.Utterance) != "" {
		return strings.TrimSpace(*o.Utterance), nil
	}
	return "", fmt.Errorf("gave %s: want a string or an object with a string \"utterance\"", clip(string(v), 80))
}

// evaluate runs expr in the page's main world and returns its value as
// JSON, awaiting a promise, within bound. When it has not returned by
// then, pilot asks the page for a trivial value: a page that cannot answer
// is running a script that does not yield, which pilot stops; one that
// answers is waiting on a promise that has not settled.
func (e *Env) evaluate(ctx context.Context, expr string, bound time.Duration) (json.RawMessage, error) {
	r, err := e.evalOnce(ctx, expr, bound)
	var ex *chromedp.ExceptionError
	switch {
	case err == nil:
	case ctx.Err() == nil && errors.Is(err, errEvalTimeout):
		if _, perr := e.evalOnce(ctx, "1", stuckGrace); perr != nil && ctx.Err() == nil {
			if terr := e.terminate(ctx); terr != nil {
				return nil, fmt.Errorf("%s kept the page busy past %s, and pilot could not stop it: %w", clip(oneLine(expr), 80), bound, terr)
			}
			return nil, fmt.Errorf("%s kept the page busy past %s: pilot stopped it", clip(oneLine(expr), 80), bound)
		}
		return nil, fmt.Errorf("%s did not return within %s", clip(oneLine(expr), 80), bound)
	case errors.As(err, &ex):
		msg := ex.Text
		if ex.Exception != nil && ex.Exception.Description != "" {
			msg, _, _ = strings.Cut(ex.Exception.Description, "\n")
		}
		return nil, fmt.Errorf("%s threw %s", clip(oneLine(expr), 80), msg)
	default:
		return nil, err
	}
	switch {
	case r != nil && r.UnserializableValue != "":
		return nil, fmt.Errorf("%s gave %s, which is not JSON", clip(oneLine(expr), 80), r.UnserializableValue)
	case r == nil || r.Type == runtime.RemoteObjectTypeUndefined || len(r.Value) == 0:
		return json.RawMessage("null"), nil
	case len(r.Value) > MaxEvalBytes:
		return nil, fmt.Errorf("%s gave %d MiB of JSON: more than the %d MiB an evaluation may return", clip(oneLine(expr), 80), len(r.Value)>>20, MaxEvalBytes>>20)
	}
	return json.RawMessage(r.Value), nil
}

// evalOnce is one Runtime.evaluate, bounded; its error wraps
// errEvalTimeout when the bound ended it.
func (e *Env) evalOnce(ctx context.Context, expr string, bound time.Duration) (*runtime.RemoteObject, error) {
	cctx, cancel := context.WithTimeoutCause(ctx, bound, errEvalTimeout)
	defer cancel()
	var r *runtime.RemoteObject
	err := runBounded(cctx, e.ep.ctx, func(c context.Context) error {
		var err error
		r, err = chromedp.Run(c, chromedp.Evaluate[*runtime.RemoteObject](expr, chromedp.EvalAwaitPromise, func(p *runtime.EvaluateParams) {
			p.ReturnByValue = new(true)
		}))
		return err
	})
	var ex *chromedp.ExceptionError
	if err != nil && !errors.As(err, &ex) && ctx.Err() == nil && context.Cause(cctx) == errEvalTimeout {
		return nil, fmt.Errorf("%w: %w", errEvalTimeout, err)
	}
	return r, err
}

var errEvalTimeout = errors.New("the evaluation did not return in time")

// MaxEvalBytes bounds the JSON an evaluation in the page returns (a
// page's HTML included).
const MaxEvalBytes = 32 << 20

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// webPage is the episode's page as a Scorer reads it.
type webPage struct {
	e     *Env
	url   string
	bound time.Duration
}

func (p *webPage) URL() string { return p.url }

func (p *webPage) Evaluate(ctx context.Context, expr string) (json.RawMessage, error) {
	return p.e.evaluate(ctx, expr, p.bound)
}

// htmlExpr serialises the document without pilot's own attributes.
// The controls' current state goes into the copy's attributes (what the
// agent typed, checked and chose), except passwords' values.
const htmlExpr = `(() => {
  const root = document.documentElement;
  if (!root) return '';
  const c = root.cloneNode(true);
  const sel = 'input, textarea, option';
  const src = root.querySelectorAll(sel), dst = c.querySelectorAll(sel);
  for (let i = 0; i < src.length && i < dst.length; i++) {
    const s = src[i], d = dst[i];
    if (s.tagName === 'OPTION') { s.selected ? d.setAttribute('selected', '') : d.removeAttribute('selected'); continue; }
    if (s.tagName === 'TEXTAREA') { d.textContent = s.value; continue; }
    const type = (s.type || '').toLowerCase();
    if (type === 'checkbox' || type === 'radio') { s.checked ? d.setAttribute('checked', '') : d.removeAttribute('checked'); continue; }
    if (type === 'password') { d.removeAttribute('value'); continue; }
    if (type !== 'file') d.setAttribute('value', s.value);
  }
  for (const el of c.querySelectorAll('[data-pilot-id]')) el.removeAttribute('data-pilot-id');
  return c.outerHTML;
})()`

func (p *webPage) HTML(ctx context.Context) (string, error) {
	v, err := p.e.evaluate(ctx, htmlExpr, p.bound)
	if err != nil {
		return "", err
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", fmt.Errorf("read the page's HTML: %w", err)
	}
	return s, nil
}

func (p *webPage) Fetch(ctx context.Context, u string) (int, string, error) {
	expr := "fetch(" + jsArgs(u) + ", {credentials: 'include'}).then(async r => ({status: r.status, body: await r.text()}))"
	v, err := p.e.evaluate(ctx, expr, p.bound)
	if err != nil {
		return 0, "", fmt.Errorf("fetch %s: %w", u, err)
	}
	var r struct {
		Status int    `json:"status"`
		Body   string `json:"body"`
	}
	if err := json.Unmarshal(v, &r); err != nil {
		return 0, "", fmt.Errorf("fetch %s: %w", u, err)
	}
	return r.Status, r.Body, nil
}

// score runs the episode's Scorer after a step.
func (e *Env) score(ctx context.Context, st *env.Step, a env.Action, step int) error {
	h := e.ep.hooks
	if h.Reward == nil {
		return nil
	}
	t := Turn{Step: step, Action: a, Obs: st.Obs}
	if a.Name == "stop" {
		t.Stopped, t.Answer = true, a.Arg(0)
	}
	s, err := h.Reward(ctx, &webPage{e: e, url: st.Obs.URL, bound: h.timeout()}, t)
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return fmt.Errorf("score step %d: %w", step, ctx.Err()) // the caller's deadline, not the task's fault
	case !e.b.alive() || e.ep.ctx.Err() != nil:
		return e.fail(ctx, "score", err)
	default:
		return ScoreError(step, err)
	}
	ApplyScore(st, s)
	return nil
}
