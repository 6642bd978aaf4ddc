// Package agent runs the loop that drives an environment with a policy:
// observe, let the policy act, step the environment, record, repeat, under
// budgets of steps, wall time, tokens and money.
//
// Run is the loop. It returns a Trajectory, the record of the episode, and
// tells Observers about each event as it happens: Progress prints a line
// per step, Recorder writes the episode to a directory.
//
// The caller owns the environment: Run never closes it. The session it holds
// (a browser, a serial port) lives on the caller's context; the deadlines Run
// puts on single calls (Options.StepTimeout) never end it.
package agent

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/policy"
	"github.com/pilotkit/pilot/tools"
)

// DefaultMaxSteps is the step limit when Options.MaxSteps is 0.
const DefaultMaxSteps = 50

// Phase is the part of an episode an Error comes from.
type Phase string

// The phases of an episode.
const (
	PhaseReset    Phase = "reset"    // the env's Reset
	PhasePolicy   Phase = "policy"   // the policy's Act
	PhaseEnv      Phase = "env"      // the env's Step
	PhaseObserver Phase = "observer" // an observer (a recorder that cannot write)
	PhaseHuman    Phase = "human"    // a Human answering a tool call
)

// DefaultMaxQuestions is the question budget when Options.MaxQuestions is
// 0.
const DefaultMaxQuestions = 5

// An Error is what Run returns when the episode could not run to its end
// for a reason other than a cancelled context: the phase that failed, at
// which step (-1 for the reset), and why. Harnesses tell faults of the
// infrastructure from the policy's with it (errors.As), and the cause
// underneath with errors.Is (env.ErrBackendLost, ErrStepTimeout, a model
// API's error).
type Error struct {
	Phase Phase
	Step  int
	Err   error // its message names the phase and the step
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// ErrStepTimeout is wrapped by the error Run returns when the policy or the
// environment takes longer than Options.StepTimeout on one step.
var ErrStepTimeout = errors.New("step timeout")

// errTimeLimit is the cause of a call cut short by Options.MaxTime.
var errTimeLimit = errors.New("time limit")

// Options configure Run. The zero value runs up to DefaultMaxSteps steps
// with no other budget.
type Options struct {
	// MaxSteps ends the episode, truncated, after this many steps: 0 means
	// DefaultMaxSteps, a negative value means no limit.
	MaxSteps int
	// MaxTime ends the episode, truncated, when this much wall time has
	// passed since Run began, cutting short a policy call or env step in
	// flight (through its context). 0 means no limit.
	MaxTime time.Duration
	// StepTimeout bounds each policy call and each env.Step separately,
	// through a context derived from Run's. When one runs over, Run returns
	// the trajectory so far and an error wrapping ErrStepTimeout (and the
	// call's own error) that names the step. The env is left open:
	// the caller may reset it and run another episode. 0 means no limit.
	StepTimeout time.Duration
	// MaxTokens and MaxCostUSD end the episode, truncated, once the
	// policy's summed Usage reaches them. 0 means no limit.
	MaxTokens  int
	MaxCostUSD float64
	// RunBudget, shared by the episodes of a run, ends them all,
	// truncated, once their policies together spent it. Nil: none.
	RunBudget *Budget
	// PolicyName is recorded in the trajectory.
	PolicyName string
	// DropObsText leaves observation text out of the records (their
	// SHA256 digest stays), to keep large trajectories small.
	DropObsText bool
	// Observers are told of every event, in order, synchronously.
	Observers []Observer
	// Human answers the policy's tool calls (tools.AskUser, tools.Confirm);
	// when set, the policy's spec offers the tools (tools.Specs) beside
	// the env's actions. Nil: no tools.
	Human tools.Human
	// MaxQuestions bounds the questions (ask_user and confirm) of an
	// episode: past it a question gets no answer, recorded as such. 0
	// means DefaultMaxQuestions; negative, none may be asked.
	MaxQuestions int
	// Confirm is the gate before the actions the env flags as
	// irreversible (env.Irreversible: the shop's Buy Now and Place order,
	// a web page's "Pay"): ConfirmNever (the zero value) lets them
	// through; ConfirmAuto lets them through and records each in its
	// step's Gate; ConfirmAlways asks the Human first, and a refusal or
	// no answer keeps the action from the env. The gate's questions do
	// not count against MaxQuestions.
	Confirm ConfirmMode
}

// ConfirmMode is Options.Confirm.
type ConfirmMode string

// Gate modes.
const (
	ConfirmNever  ConfirmMode = ""
	ConfirmAuto   ConfirmMode = "auto"
	ConfirmAlways ConfirmMode = "always"
)

// Run plays one episode of task on e with p.
//
// It resets e (after giving p the env, when p is a policy.EnvUser such as
// a planner, and calling its ResetEpisode, when p is a policy.Resetter),
// then loops: p.Act, e.Step, record, tell the observers;
// until the env reports the episode terminated or truncated, or a budget in
// opts ends it (then the trajectory is Truncated with a Reason such as
// "step limit 50 reached").
//
// Errors end the episode: a failed Reset, a policy or env error, a step
// timeout, an observer's error, or ctx being done. Run then returns the
// trajectory so far, with its Error set, and the error, wrapped, naming the
// step. The trajectory is never nil. Run relies on the policy and the env
// honouring ctx to return promptly when it is cancelled.
//
// Once Reset has succeeded, every observer gets the end event, whatever
// happened.
func Run(ctx context.Context, e env.Env, task env.Task, p policy.Policy, opts Options) (*Trajectory, error) {
	r := runner{opts: opts, e: e, p: p, start: time.Now()}
	if r.opts.MaxSteps == 0 {
		r.opts.MaxSteps = DefaultMaxSteps
	}
	if opts.MaxTime > 0 {
		r.deadline = r.start.Add(opts.MaxTime)
	}
	spec := e.Spec()
	r.traj = &Trajectory{Task: task, Env: spec.Name, Policy: opts.PolicyName, Start: r.start.UTC()}
	if opts.Confirm == ConfirmAlways && opts.Human == nil {
		return r.traj, r.finish(ctx, &Error{Phase: PhaseReset, Step: -1, Err: errors.New("agent: Options.Confirm always asks a Human before irreversible steps: give Options.Human")})
	}
	if opts.Human != nil {
		ts, err := tools.WithTools(spec)
		if err != nil {
			return r.traj, r.finish(ctx, &Error{Phase: PhaseReset, Step: -1, Err: fmt.Errorf("agent: %w", err)})
		}
		spec = ts
		if r.opts.MaxQuestions == 0 {
			r.opts.MaxQuestions = DefaultMaxQuestions
		}
	}

	if eu, ok := p.(policy.EnvUser); ok {
		eu.UseEnv(e)
	}
	if rp, ok := p.(policy.Resetter); ok {
		rp.ResetEpisode(task)
	}
	r.started = true
	obs, err := r.reset(ctx, task)
	if err != nil {
		// The observers hear of the episode's end (a recorder writes the
		// task and the error), not of a reset that did not happen.
		return r.traj, r.finish(ctx, err)
	}
	if b, ok := e.(env.Briefer); ok {
		// The page drew the instruction as the episode began (MiniWoB).
		if s := b.Brief(); s != "" {
			task.Instruction = s
			r.traj.Task.Instruction = s
		}
	}
	r.traj.Reset = recordObs(&obs, !opts.DropObsText)
	err = r.notify(ctx, Event{Kind: EventReset, Traj: r.traj, Obs: &obs})
	if err != nil {
		err = &Error{Phase: PhaseObserver, Step: -1, Err: fmt.Errorf("agent: after reset: %w", err)}
	} else {
		err = r.loop(ctx, task, spec, obs)
	}
	return r.traj, r.finish(ctx, err)
}

type runner struct {
	opts     Options
	e        env.Env
	p        policy.Policy
	start    time.Time
	deadline time.Time // zero when there is no time limit
	traj     *Trajectory
	started  bool // the policy heard of the episode (ResetEpisode): it hears of its end
}

func (r *runner) reset(ctx context.Context, task env.Task) (env.Observation, error) {
	cctx := ctx
	if !r.deadline.IsZero() {
		var cancel context.CancelFunc
		cctx, cancel = context.WithDeadlineCause(ctx, r.deadline, errTimeLimit)
		defer cancel()
	}
	obs, err := r.e.Reset(cctx, task)
	if err == nil {
		return obs, nil
	}
	switch {
	case ctx.Err() != nil:
		return obs, fmt.Errorf("agent: cancelled during reset: %w", ctx.Err())
	case cctx.Err() != nil:
		return obs, &Error{Phase: PhaseReset, Step: -1, Err: fmt.Errorf("agent: reset did not finish within the time limit %s (raise Options.MaxTime): %w", r.opts.MaxTime, err)}
	}
	return obs, &Error{Phase: PhaseReset, Step: -1, Err: fmt.Errorf("agent: reset %s for task %q: %w", r.traj.Env, task.ID, err)}
}

func (r *runner) loop(ctx context.Context, task env.Task, spec env.Spec, obs env.Observation) error {
	var history []policy.Turn
	keepText := !r.opts.DropObsText
	for i := 0; ; i++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("agent: cancelled before step %d: %w", i, err)
		}
		if r.budgetSpent(i) {
			return nil
		}

		// The policy.
		in := policy.Input{Task: task, Spec: spec, Obs: obs, Step: i, History: history[:len(history):len(history)]}
		t0 := time.Now()
		cctx, cancel := r.callCtx(ctx)
		d, err := r.p.Act(cctx, in)
		cancel()
		t1 := time.Now()
		if errors.Is(err, policy.ErrDone) && ctx.Err() == nil {
			// The policy has nothing more to do (a replay at the end of
			// its list): the episode ends here, truncated, as a budget
			// would end it, with no action the policy did not choose.
			r.traj.Truncated, r.traj.Terminated = true, false
			r.traj.Reason = "the policy had no more actions: " + err.Error()
			return nil
		}
		if err != nil {
			return r.callError(ctx, cctx, i, PhasePolicy, "the policy", err)
		}
		if d.Action.Name == "" {
			return &Error{Phase: PhasePolicy, Step: i, Err: fmt.Errorf("agent: step %d: the policy returned no action (Decision.Action.Name is empty)", i)}
		}

		// A tool, or the environment.
		var (
			st   env.Step
			call *ToolCall
		)
		var gate *Gate
		if r.opts.Human != nil && tools.Is(d.Action.Name) {
			if st, call, err = r.tool(ctx, task, spec, obs, i, d.Action); err != nil {
				return err
			}
		} else if gate, err = r.gate(ctx, task, obs, i, d.Action); err != nil {
			return err
		} else if gate != nil && !gate.Approved {
			st = env.Step{Obs: obs}
			st.Obs.Error = "not done: " + gate.Answer + " (the gate asked before an irreversible step: " + gate.Why + ")"
		} else {
			cctx, cancel = r.callCtx(ctx)
			st, err = r.e.Step(cctx, d.Action)
			cancel()
			if err != nil {
				return r.callError(ctx, cctx, i, PhaseEnv, "env step "+d.Action.String(), err)
			}
		}
		t2 := time.Now()

		// Record.
		r.traj.Steps = append(r.traj.Steps, StepRecord{
			Index:      i,
			ActionText: d.Action.String(),
			Action:     d.Action,
			Thought:    d.Thought,
			Reward:     st.Reward,
			Terminated: st.Terminated,
			Truncated:  st.Truncated,
			Reason:     st.Reason,
			Obs:        recordObs(&st.Obs, keepText),
			PolicyTime: t1.Sub(t0),
			EnvTime:    t2.Sub(t1),
			Usage:      d.Usage,
			Meta:       d.Meta,
			Info:       st.Info,
			Tool:       call,
			Gate:       gate,
		})
		rec := &r.traj.Steps[len(r.traj.Steps)-1]
		if n := len(r.traj.Steps); n > 1 {
			if prev := r.traj.Steps[n-2]; prev.ActionText == rec.ActionText && prev.Obs.SHA256 == rec.Obs.SHA256 {
				rec.Unchanged = prev.Unchanged + 1
			}
		}
		t := r.traj
		t.Return += st.Reward
		t.Reward = st.Reward
		t.Usage = t.Usage.Add(d.Usage)
		if r.opts.RunBudget != nil {
			r.opts.RunBudget.Add(d.Usage)
		}
		t.Terminated, t.Truncated, t.Reason = st.Terminated, st.Truncated, st.Reason
		turn := policy.Turn{Action: d.Action, Error: st.Obs.Error, Reward: st.Reward}
		if call != nil && call.Answer != nil {
			turn.Answer = call.Answer.String()
		}
		history = append(history, turn)
		obs = st.Obs

		if err := r.notify(ctx, Event{Kind: EventStep, Traj: t, Step: rec, Obs: &obs}); err != nil {
			return &Error{Phase: PhaseObserver, Step: i, Err: fmt.Errorf("agent: step %d: %w", i, err)}
		}
		if st.Done() {
			return nil
		}
	}
}

// budgetSpent reports whether a budget ends the episode before step i, and
// marks the trajectory truncated when it does.
func (r *runner) budgetSpent(i int) bool {
	t := r.traj
	switch {
	case r.opts.MaxSteps > 0 && i >= r.opts.MaxSteps:
		t.Reason = "step limit " + strconv.Itoa(r.opts.MaxSteps) + " reached"
	case !r.deadline.IsZero() && !time.Now().Before(r.deadline):
		t.Reason = "time limit " + r.opts.MaxTime.String() + " reached"
	case r.opts.MaxTokens > 0 && t.Usage.Tokens() >= r.opts.MaxTokens:
		t.Reason = fmt.Sprintf("token budget %d spent (%d tokens used)", r.opts.MaxTokens, t.Usage.Tokens())
	case r.opts.MaxCostUSD > 0 && t.Usage.CostUSD >= r.opts.MaxCostUSD:
		t.Reason = fmt.Sprintf("cost budget $%.4g spent ($%.4g used)", r.opts.MaxCostUSD, t.Usage.CostUSD)
	case r.opts.RunBudget != nil && r.opts.RunBudget.exhausted() != "":
		t.Reason = r.opts.RunBudget.exhausted()
	default:
		return false
	}
	t.Truncated = true
	return true
}

func noCancel() {}

// callCtx returns the context for one policy call or env step: ctx with the
// earlier of the step deadline and the time limit.
func (r *runner) callCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	if r.opts.StepTimeout <= 0 && r.deadline.IsZero() {
		return ctx, noCancel
	}
	var (
		d     time.Time
		cause error
	)
	if r.opts.StepTimeout > 0 {
		d, cause = time.Now().Add(r.opts.StepTimeout), ErrStepTimeout
	}
	if !r.deadline.IsZero() && (d.IsZero() || r.deadline.Before(d)) {
		d, cause = r.deadline, errTimeLimit
	}
	return context.WithDeadlineCause(ctx, d, cause)
}

// callError turns the error of a policy call or env step into what Run
// returns: nil when the time limit cut the call short (the episode is then
// truncated), an error naming the step otherwise.
func (r *runner) callError(ctx, cctx context.Context, i int, phase Phase, what string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("agent: step %d: cancelled during %s: %w", i, what, ctx.Err())
	}
	if cctx.Err() != nil {
		switch context.Cause(cctx) {
		case errTimeLimit:
			r.traj.Truncated = true
			r.traj.Reason = fmt.Sprintf("time limit %s reached during step %d (%s cut short)", r.opts.MaxTime, i, what)
			return nil
		case ErrStepTimeout:
			return &Error{Phase: phase, Step: i, Err: fmt.Errorf("agent: step %d: %w: %s took longer than %s (raise Options.StepTimeout, or find what hangs): %w",
				i, ErrStepTimeout, what, r.opts.StepTimeout, err)}
		}
	}
	return &Error{Phase: phase, Step: i, Err: fmt.Errorf("agent: step %d: %s: %w", i, what, err)}
}

// notify tells every observer of ev and returns their errors, joined.
func (r *runner) notify(ctx context.Context, ev Event) error {
	var errs []error
	for i, o := range r.opts.Observers {
		if err := o.OnEvent(ctx, ev); err != nil {
			errs = append(errs, fmt.Errorf("observer %d (%s): %w", i, ev.Kind, err))
		}
	}
	return errors.Join(errs...)
}

// finish completes the trajectory, tells the observers the episode ended
// and returns err joined with their errors.
func (r *runner) finish(ctx context.Context, err error) error {
	t := r.traj
	t.Duration = time.Since(r.start)
	t.Success = t.Terminated && len(t.Steps) > 0 && t.Reward >= 1
	if n := len(t.Steps); n > 0 {
		// An env that shapes its rewards says itself whether the task
		// succeeded.
		if v, ok := t.Steps[n-1].Info[env.InfoSuccess].(bool); ok {
			t.Success = t.Terminated && v
		}
	}
	if pe, ok := r.p.(policy.Ender); ok && r.started {
		if perr := pe.EndEpisode(ctx, t.Success && err == nil); perr != nil {
			err = errors.Join(err, &Error{Phase: PhasePolicy, Step: len(t.Steps), Err: fmt.Errorf("agent: at the end: %w", perr)})
		}
	}
	if err != nil {
		t.Error = err.Error()
	}
	if oerr := r.notify(ctx, Event{Kind: EventEnd, Traj: t, Err: err}); oerr != nil {
		oerr = &Error{Phase: PhaseObserver, Step: len(t.Steps), Err: fmt.Errorf("agent: at the end: %w", oerr)}
		if err == nil {
			t.Error = oerr.Error()
		}
		err = errors.Join(err, oerr)
	}
	return err
}
