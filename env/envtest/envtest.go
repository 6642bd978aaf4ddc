// Package envtest checks that an environment keeps the env.Env contract,
// as testing/fstest.TestFS does for file systems and Gymnasium's check_env
// for Python environments.
//
// An environment's author calls Check from a test, with a fresh env and a
// task it can run:
//
//	func TestContract(t *testing.T) {
//		e := shop.New(...)
//		envtest.Check(t, e, env.Task{Instruction: "buy a usb-c cable"})
//	}
//
// Check drives the env through a few short episodes and reports, with
// t.Errorf or t.Fatalf, each contract point it breaks:
//
//   - the Spec names the env and its actions, without duplicates;
//   - Step before the first Reset fails with env.ErrNotReset;
//   - Reset returns a non-empty observation, also in the middle of an
//     episode and after one has finished;
//   - an idle action leaves the episode running;
//   - an unknown action is not a Go error: it comes back as
//     Observation.Error and the episode goes on;
//   - a finishing action sets Terminated (not Truncated), after which Step
//     fails with env.ErrEpisodeOver;
//   - under env.TimeLimit the env's episodes are truncated, not terminated;
//   - Close returns nil, twice, and Step and Reset after it fail with
//     env.ErrClosed.
//
// An env that implements env.Snapshotter is also checked for snapshots:
// after Restore, State.Observation is the observation of the snapshot, and
// the same actions give the same observations (text, URL, title, error,
// state and choices), rewards, flags and reasons as the first time, on
// each of two restores; a state from an earlier episode fails with
// env.ErrStaleState, one the env did not make with env.ErrForeignState,
// and Restore after Close with env.ErrClosed. The actions walk the
// observations' Choices (the first, then the second of the next, …), or
// repeat the idle action where there are none.
//
// Check needs an idle action, one that does not end the episode: by default
// noop() when the spec has noop, else the first of the reset observation's
// Choices. Pass Idle when neither fits. The termination checks need a
// finishing action: by default stop() when the spec has stop; pass Finish
// for another, or they are skipped with a log line.
//
// Check closes the env, also when it stops early. Each call gets its own
// context with a one-minute deadline, cancelled when the call returns: an env
// must not keep a call's context beyond the call.
package envtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/pilotkit/pilot/env"
)

// callTimeout bounds each Reset and Step that Check makes.
const callTimeout = time.Minute

// unknownName is the name of an action no env knows.
const unknownName = "no_such_action"

// An Option changes what Check does.
type Option func(*config)

type config struct {
	idle, finish *env.Action
	walk         []env.Action
}

// Walk sets the actions of the snapshot check's walk, taken in turn (one
// before the snapshot, then the steps replayed after each restore),
// instead of the observation's choices: for an env whose choices include
// a page that is not the same twice (a link off a closed network).
func Walk(actions ...env.Action) Option {
	return func(c *config) { c.walk = actions }
}

// Idle sets the action Check takes when it needs a step that does not end
// the episode.
func Idle(a env.Action) Option {
	return func(c *config) { c.idle = &a }
}

// Finish sets the action Check takes to end an episode: the env must answer
// it with Terminated.
func Finish(a env.Action) Option {
	return func(c *config) { c.finish = &a }
}

// Check runs e through the env.Env contract with task and reports every
// contract point it breaks on t. It closes e. See the package doc.
func Check(t testing.TB, e env.Env, task env.Task, opts ...Option) {
	t.Helper()
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	c := &checker{t: t, e: e, task: task}
	defer func() {
		if !c.closed {
			_ = e.Close() // stopped early; Close is checked on the normal path
		}
	}()

	spec := e.Spec()
	c.checkSpec(spec)
	c.checkStepBeforeReset(cfg.idle, spec)

	obs, err := c.reset(e)
	if err != nil {
		t.Fatalf("envtest: Reset(task %q) = %v, want nil: Reset must start an episode", task.ID, err)
	}
	if obs.Empty() {
		t.Errorf("envtest: Reset returned an empty observation, want Text, Images or State")
	}
	c.checkChoices(spec, obs)
	idle := c.idleAction(cfg.idle, spec, obs)

	c.checkIdle(e, idle, "the first step")
	c.checkUnknownAction()

	finish, ok := finishAction(cfg.finish, spec)
	if ok {
		c.checkFinish(idle, finish)
	} else {
		t.Logf("envtest: %s has no stop action and no envtest.Finish was given: skipping the termination checks", spec.Name)
	}
	c.checkTruncation(idle)
	snap, snapshots := e.(env.Snapshotter)
	if snapshots {
		c.checkSnapshot(snap, idle, cfg.walk)
	}
	c.checkClose(idle)
	if snapshots {
		c.checkRestoreClosed(snap)
	}
}

type checker struct {
	t      testing.TB
	e      env.Env
	task   env.Task
	closed bool
}

func (c *checker) reset(e env.Env) (env.Observation, error) {
	ctx, cancel := context.WithTimeout(c.t.Context(), callTimeout)
	defer cancel()
	return e.Reset(ctx, c.task)
}

func (c *checker) step(e env.Env, a env.Action) (env.Step, error) {
	ctx, cancel := context.WithTimeout(c.t.Context(), callTimeout)
	defer cancel()
	return e.Step(ctx, a)
}

// checkSpec checks that the spec names the env, its actions and their
// parameters, without duplicates.
func (c *checker) checkSpec(spec env.Spec) {
	c.t.Helper()
	if spec.Name == "" {
		c.t.Errorf("envtest: Spec().Name is empty, want the env's name, e.g. \"web\"")
	}
	seen := map[string]int{}
	for i, as := range spec.Actions {
		if as.Name == "" {
			c.t.Errorf("envtest: Spec().Actions[%d] has no name", i)
			continue
		}
		if j, ok := seen[as.Name]; ok {
			c.t.Errorf("envtest: Spec().Actions[%d] %q is listed twice (also at %d), want each action once", i, as.Name, j)
		}
		seen[as.Name] = i
		params := map[string]bool{}
		vectors := 0
		for k, p := range as.Params {
			switch {
			case p.Name == "":
				c.t.Errorf("envtest: Spec() action %q: Params[%d] has no name", as.Name, k)
			case params[p.Name]:
				c.t.Errorf("envtest: Spec() action %q: parameter %q is listed twice", as.Name, p.Name)
			}
			params[p.Name] = true
			switch p.Type {
			case env.String, env.Integer, env.Number:
			case env.Vector:
				vectors++
			default:
				c.t.Errorf("envtest: Spec() action %q: parameter %q has type %q, want %q, %q, %q or %q", as.Name, p.Name, p.Type, env.String, env.Integer, env.Number, env.Vector)
			}
		}
		if vectors > 1 {
			c.t.Errorf("envtest: Spec() action %q has %d vector parameters, want at most one (an Action carries one Vec)", as.Name, vectors)
		}
	}
}

// checkStepBeforeReset checks that Step before the first Reset fails with
// env.ErrNotReset.
func (c *checker) checkStepBeforeReset(idle *env.Action, spec env.Spec) {
	c.t.Helper()
	a := env.A("noop")
	if idle != nil {
		a = *idle
	} else if as, ok := spec.Action("noop"); ok {
		a = callOf(as)
	}
	_, err := c.step(c.e, a)
	if !errors.Is(err, env.ErrNotReset) {
		c.t.Errorf("envtest: Step(%v) before the first Reset = %v, want an error wrapping env.ErrNotReset", a, err)
	}
}

// checkChoices checks that the listed choices belong to the spec.
func (c *checker) checkChoices(spec env.Spec, obs env.Observation) {
	c.t.Helper()
	if len(spec.Actions) == 0 {
		return
	}
	for i, a := range obs.Choices {
		if err := spec.Validate(a); err != nil {
			c.t.Errorf("envtest: Reset observation: Choices[%d] = %v does not fit the spec: %v", i, a, err)
		}
	}
}

func (c *checker) idleAction(idle *env.Action, spec env.Spec, obs env.Observation) env.Action {
	c.t.Helper()
	if idle != nil {
		return *idle
	}
	if as, ok := spec.Action("noop"); ok {
		return callOf(as)
	}
	if len(obs.Choices) > 0 {
		return obs.Choices[0]
	}
	c.t.Fatalf("envtest: no idle action: %s has no noop action and its reset observation lists no Choices; pass envtest.Idle(a) with an action that does not end the episode", spec.Name)
	return env.Action{}
}

func finishAction(finish *env.Action, spec env.Spec) (env.Action, bool) {
	if finish != nil {
		return *finish, true
	}
	if as, ok := spec.Action("stop"); ok {
		return callOf(as), true
	}
	return env.Action{}, false
}

// callOf returns a call of as with "" for each required text argument:
// stop("") for stop(answer).
func callOf(as env.ActionSpec) env.Action {
	a := env.Action{Name: as.Name}
	for _, p := range as.Params {
		if !p.Optional && p.Type != env.Vector {
			a.Args = append(a.Args, "")
		}
	}
	return a
}

// checkIdle checks that the idle action leaves the episode running.
func (c *checker) checkIdle(e env.Env, idle env.Action, when string) {
	c.t.Helper()
	st, err := c.step(e, idle)
	if errors.Is(err, env.ErrEpisodeOver) {
		c.t.Fatalf("envtest: idle Step(%v) as %s = %v, want nil: Reset must start a fresh episode", idle, when, err)
	}
	if err != nil {
		c.t.Fatalf("envtest: idle Step(%v) as %s = %v, want nil (pass envtest.Idle with an action the env accepts)", idle, when, err)
	}
	if st.Done() {
		c.t.Fatalf("envtest: idle Step(%v) as %s ended the episode (terminated %v, truncated %v, reason %q), want it to go on (pass envtest.Idle with an action that does not end it)",
			idle, when, st.Terminated, st.Truncated, st.Reason)
	}
	if st.Obs.Empty() {
		c.t.Errorf("envtest: idle Step(%v) as %s returned an empty observation, want Text, Images or State", idle, when)
	}
}

// checkUnknownAction checks that a bad action is an observation, not a Go
// error.
func (c *checker) checkUnknownAction() {
	c.t.Helper()
	unknownAction := env.Action{Name: unknownName}
	st, err := c.step(c.e, unknownAction)
	if err != nil {
		c.t.Errorf("envtest: Step(%v) = %v, want no Go error: a bad action is part of the episode and comes back in Observation.Error", unknownAction, err)
		return
	}
	if st.Obs.Error == "" {
		c.t.Errorf("envtest: Step(%v) returned Observation.Error \"\", want the reason the action failed", unknownAction)
	}
	if st.Done() {
		c.t.Errorf("envtest: Step(%v) ended the episode (terminated %v, truncated %v), want it to go on so the agent can recover", unknownAction, st.Terminated, st.Truncated)
	}
}

// checkFinish checks termination: Reset in the middle of an episode, the
// finishing step, the refusal after it and a fresh episode after that.
func (c *checker) checkFinish(idle, finish env.Action) {
	c.t.Helper()
	obs, err := c.reset(c.e)
	if err != nil {
		c.t.Fatalf("envtest: Reset in the middle of an episode = %v, want nil: Reset must start a new episode at any time", err)
	}
	if obs.Empty() {
		c.t.Errorf("envtest: Reset in the middle of an episode returned an empty observation")
	}
	st, err := c.step(c.e, finish)
	if err != nil {
		c.t.Errorf("envtest: finishing Step(%v) = %v, want nil (pass envtest.Finish with an action that ends the episode)", finish, err)
		return
	}
	if !st.Terminated || st.Truncated {
		c.t.Errorf("envtest: finishing Step(%v) = terminated %v, truncated %v, want terminated and not truncated: the task ended, no limit cut it",
			finish, st.Terminated, st.Truncated)
	}
	if st.Done() {
		_, err = c.step(c.e, idle)
		if !errors.Is(err, env.ErrEpisodeOver) {
			c.t.Errorf("envtest: Step(%v) after the episode ended = %v, want an error wrapping env.ErrEpisodeOver", idle, err)
		}
	}
	obs, err = c.reset(c.e)
	if err != nil {
		c.t.Fatalf("envtest: Reset after a finished episode = %v, want nil", err)
	}
	if obs.Empty() {
		c.t.Errorf("envtest: Reset after a finished episode returned an empty observation")
	}
	c.checkIdle(c.e, idle, "the first step after a finished episode")
}

// checkTruncation checks that a limit outside the task truncates the env's
// episodes, with env.TimeLimit.
func (c *checker) checkTruncation(idle env.Action) {
	c.t.Helper()
	tl := env.TimeLimit(c.e, 2, 0)
	if _, err := c.reset(tl); err != nil {
		c.t.Fatalf("envtest: Reset under env.TimeLimit(e, 2, 0) = %v, want nil", err)
	}
	c.checkIdle(tl, idle, "step 1 of 2 under env.TimeLimit")
	st, err := c.step(tl, idle)
	if err != nil {
		c.t.Fatalf("envtest: idle Step(%v) as step 2 of 2 under env.TimeLimit = %v, want nil", idle, err)
	}
	if !st.Truncated || st.Terminated {
		c.t.Errorf("envtest: idle Step(%v) as step 2 of 2 under env.TimeLimit = terminated %v, truncated %v, want truncated and not terminated",
			idle, st.Terminated, st.Truncated)
	}
	if _, err := c.step(tl, idle); !errors.Is(err, env.ErrEpisodeOver) {
		c.t.Errorf("envtest: Step(%v) after truncation under env.TimeLimit = %v, want an error wrapping env.ErrEpisodeOver", idle, err)
	}
}

// checkClose checks that Close is idempotent and that the env refuses use
// after it.
func (c *checker) checkClose(idle env.Action) {
	c.t.Helper()
	c.closed = true
	if err := c.e.Close(); err != nil {
		c.t.Errorf("envtest: Close() = %v, want nil", err)
	}
	if err := c.e.Close(); err != nil {
		c.t.Errorf("envtest: second Close() = %v, want nil: Close must be idempotent", err)
	}
	if _, err := c.step(c.e, idle); !errors.Is(err, env.ErrClosed) {
		c.t.Errorf("envtest: Step(%v) after Close = %v, want an error wrapping env.ErrClosed", idle, err)
	}
	if _, err := c.reset(c.e); !errors.Is(err, env.ErrClosed) {
		c.t.Errorf("envtest: Reset after Close = %v, want an error wrapping env.ErrClosed", err)
	}
}

// snapSteps is how many steps the snapshot check replays after a restore.
const snapSteps = 3

// checkSnapshot checks Snapshot and Restore: the same steps after each of
// two restores, and the refusal of stale and foreign states.
func (c *checker) checkSnapshot(s env.Snapshotter, idle env.Action, walkWith []env.Action) {
	c.t.Helper()
	obs, err := c.reset(c.e)
	if err != nil {
		c.t.Fatalf("envtest: Reset before the snapshot check = %v, want nil", err)
	}
	walk := func(obs env.Observation, idle env.Action, i int) env.Action {
		if len(walkWith) > 0 {
			return walkWith[i%len(walkWith)]
		}
		return walkChoices(obs, idle, i)
	}
	// One step in, so that the state is not the reset's.
	a := walk(obs, idle, 0)
	st, err := c.step(c.e, a)
	if err != nil || st.Done() {
		c.t.Fatalf("envtest: Step(%v) before the snapshot = %v (done %v), want a step that goes on", a, err, st.Done())
	}
	obs = st.Obs
	ctx, cancel := context.WithTimeout(c.t.Context(), callTimeout)
	defer cancel()
	state, err := s.Snapshot(ctx)
	if errors.Is(err, env.ErrNoSnapshot) {
		c.t.Logf("envtest: skipping the snapshot checks: %v", err)
		return
	}
	if err != nil {
		c.t.Fatalf("envtest: Snapshot() = %v, want nil", err)
	}
	if d := obsDiff(state.Observation(), obs); d != "" {
		c.t.Errorf("envtest: State.Observation() differs from the observation when Snapshot was called: %s", d)
	}
	var (
		actions []env.Action
		first   []env.Step
	)
	for i := range snapSteps {
		a := walk(obs, idle, i+1)
		st, err := c.step(c.e, a)
		if err != nil {
			c.t.Fatalf("envtest: Step(%v) after the snapshot = %v, want nil", a, err)
		}
		actions, first = append(actions, a), append(first, st)
		if st.Done() {
			break
		}
		obs = st.Obs
	}
	for round := 1; round <= 2; round++ {
		if err := s.Restore(ctx, state); err != nil {
			c.t.Fatalf("envtest: Restore (%d) = %v, want nil", round, err)
		}
		for i, a := range actions {
			st, err := c.step(c.e, a)
			if err != nil {
				c.t.Fatalf("envtest: Step(%v), step %d after Restore (%d) = %v, want nil", a, i+1, round, err)
			}
			if d := stepDiff(st, first[i]); d != "" {
				c.t.Errorf("envtest: Step(%v), step %d after Restore (%d), differs from the step after the snapshot: %s", a, i+1, round, d)
			}
		}
	}
	if _, err := c.reset(c.e); err != nil {
		c.t.Fatalf("envtest: Reset after the snapshot check = %v, want nil", err)
	}
	if err := s.Restore(ctx, state); !errors.Is(err, env.ErrStaleState) {
		c.t.Errorf("envtest: Restore of a state from the episode before the last Reset = %v, want an error wrapping env.ErrStaleState", err)
	}
	if err := s.Restore(ctx, foreignState{}); !errors.Is(err, env.ErrForeignState) {
		c.t.Errorf("envtest: Restore of a state the env did not make = %v, want an error wrapping env.ErrForeignState", err)
	}
	if err := s.Restore(ctx, nil); !errors.Is(err, env.ErrForeignState) {
		c.t.Errorf("envtest: Restore(nil) = %v, want an error wrapping env.ErrForeignState", err)
	}
}

// checkRestoreClosed checks that Restore after Close fails with ErrClosed.
func (c *checker) checkRestoreClosed(s env.Snapshotter) {
	c.t.Helper()
	if _, err := s.Snapshot(c.t.Context()); !errors.Is(err, env.ErrClosed) && !errors.Is(err, env.ErrNoSnapshot) {
		c.t.Errorf("envtest: Snapshot() after Close = %v, want an error wrapping env.ErrClosed", err)
	}
	if err := s.Restore(c.t.Context(), foreignState{}); !errors.Is(err, env.ErrClosed) && !errors.Is(err, env.ErrNoSnapshot) {
		c.t.Errorf("envtest: Restore after Close = %v, want an error wrapping env.ErrClosed", err)
	}
}

// foreignState is a state no env made.
type foreignState struct{}

func (foreignState) Observation() env.Observation { return env.Observation{} }

// walkChoices returns the i-th action of the snapshot check's walk from
// obs: one of its choices, else idle.
func walkChoices(obs env.Observation, idle env.Action, i int) env.Action {
	if len(obs.Choices) == 0 {
		return idle
	}
	return obs.Choices[i%len(obs.Choices)]
}

// stepDiff says how two steps differ in what an agent sees, "" when not.
func stepDiff(got, want env.Step) string {
	switch {
	case got.Reward != want.Reward:
		return fmt.Sprintf("reward %v, want %v", got.Reward, want.Reward)
	case got.Terminated != want.Terminated || got.Truncated != want.Truncated:
		return fmt.Sprintf("terminated %v, truncated %v, want %v, %v", got.Terminated, got.Truncated, want.Terminated, want.Truncated)
	case got.Reason != want.Reason:
		return fmt.Sprintf("reason %q, want %q", got.Reason, want.Reason)
	}
	return obsDiff(got.Obs, want.Obs)
}

// obsDiff says how two observations differ, "" when they do not.
func obsDiff(got, want env.Observation) string {
	switch {
	case got.Text != want.Text:
		return "text:\n" + got.Text + "\nwant:\n" + want.Text
	case got.URL != want.URL:
		return fmt.Sprintf("URL %q, want %q", got.URL, want.URL)
	case got.Title != want.Title:
		return fmt.Sprintf("title %q, want %q", got.Title, want.Title)
	case got.Error != want.Error:
		return fmt.Sprintf("error %q, want %q", got.Error, want.Error)
	case !slices.Equal(got.State, want.State):
		return fmt.Sprintf("state %v, want %v", got.State, want.State)
	case !slices.EqualFunc(got.Choices, want.Choices, func(a, b env.Action) bool { return a.String() == b.String() }):
		return fmt.Sprintf("choices %v, want %v", got.Choices, want.Choices)
	}
	return ""
}
