package planner_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/pilotkit/pilot/agent"
	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/env/envtest"
	"github.com/pilotkit/pilot/planner"
)

// valley is a toy continuous env with a known optimum and a trap: a point
// on a line starts at 0 and is moved by move(x) to x (at most 0.5 a
// step). Its shaping reward pulls it toward 1, where nothing happens; the
// goal is x ≤ -1, which ends the episode with reward 5.
type valley struct {
	x       float64
	nan     bool // rewards are NaN
	started bool
	over    bool
	closed  bool
	epoch   int
	steps   int
}

func (v *valley) Spec() env.Spec {
	return env.Spec{Name: "valley", Modalities: []string{"state"}, Actions: []env.ActionSpec{
		{Name: "move", Doc: "move to x", Params: []env.Param{{Name: "x", Type: env.Vector, Doc: "the new position"}}},
		{Name: "stop", Doc: "end the episode"},
	}}
}

func (v *valley) obs() env.Observation {
	return env.Observation{Text: fmt.Sprintf("x = %.4f", v.x), State: []float64{v.x}}
}

func (v *valley) phi() float64 { return -0.1 * math.Abs(v.x-1) }

func (v *valley) Reset(context.Context, env.Task) (env.Observation, error) {
	if v.closed {
		return env.Observation{}, env.ErrClosed
	}
	v.x, v.started, v.over, v.steps = 0, true, false, 0
	v.epoch++
	return v.obs(), nil
}

func (v *valley) Step(_ context.Context, a env.Action) (env.Step, error) {
	switch {
	case v.closed:
		return env.Step{}, env.ErrClosed
	case !v.started:
		return env.Step{}, env.ErrNotReset
	case v.over:
		return env.Step{}, env.ErrEpisodeOver
	}
	v.steps++
	st := env.Step{}
	before := v.phi()
	switch {
	case a.Name == "stop":
		st.Terminated, st.Reason = true, "stopped"
	case a.Name == "move" && len(a.Vec) == 1:
		v.x += math.Max(-0.5, math.Min(0.5, a.Vec[0]-v.x))
		st.Reward = v.phi() - before
		if v.x <= -1 {
			st.Reward += 5
			st.Terminated, st.Reason = true, "success"
			st.Info = map[string]any{env.InfoSuccess: true}
		}
	default:
		st.Obs.Error = "move needs one value"
	}
	if v.nan {
		st.Reward = math.NaN()
	}
	if !st.Terminated && v.steps >= 30 {
		st.Truncated, st.Reason = true, "step limit"
	}
	v.over = st.Done()
	err := st.Obs.Error
	st.Obs = v.obs()
	st.Obs.Error = err
	return st, nil
}

func (v *valley) Close() error { v.closed = true; return nil }

type valleyState struct {
	v            *valley
	x            float64
	epoch, steps int
	over         bool
	obs          env.Observation
}

func (s valleyState) Observation() env.Observation { return s.obs }

func (v *valley) Snapshot(context.Context) (env.State, error) {
	if v.closed {
		return nil, env.ErrClosed
	}
	return valleyState{v: v, x: v.x, epoch: v.epoch, steps: v.steps, over: v.over, obs: v.obs()}, nil
}

func (v *valley) Restore(_ context.Context, s env.State) error {
	st, ok := s.(valleyState)
	switch {
	case v.closed:
		return env.ErrClosed
	case !ok || st.v != v:
		return env.ErrForeignState
	case st.epoch != v.epoch:
		return env.ErrStaleState
	}
	v.x, v.steps, v.over = st.x, st.steps, st.over
	return nil
}

// valleyBox is move's vector, 0.5 a step within [-3, 3].
func valleyBox() planner.Box {
	return planner.Box{
		Action:  "move",
		Start:   func(o env.Observation) ([]float64, error) { return []float64{o.State[0]}, nil },
		MaxStep: []float64{0.5}, Low: []float64{-3}, High: []float64{3},
	}
}

// remoteValley is a valley that cannot save its state but has a twin: a
// valley that follows its observations.
type remoteValley struct {
	real     valley
	twin     *followingValley
	twinUsed int
}

func (r *remoteValley) Spec() env.Spec { return r.real.Spec() }
func (r *remoteValley) Reset(ctx context.Context, t env.Task) (env.Observation, error) {
	return r.real.Reset(ctx, t)
}
func (r *remoteValley) Step(ctx context.Context, a env.Action) (env.Step, error) {
	return r.real.Step(ctx, a)
}
func (r *remoteValley) Close() error { return r.real.Close() }
func (r *remoteValley) Twin(context.Context) (env.Twin, error) {
	r.twinUsed++
	if r.twin == nil {
		r.twin = &followingValley{}
	}
	return r.twin, nil
}

type followingValley struct {
	valley
	follows int
}

func (f *followingValley) Follow(_ context.Context, obs env.Observation) error {
	if len(obs.State) != 1 {
		return errors.New("want one value")
	}
	f.x, f.over = obs.State[0], false
	f.follows++
	return nil
}

func TestValleyKeepsTheContract(t *testing.T) {
	envtest.Check(t, &valley{}, env.Task{}, envtest.Idle(env.Action{Name: "move", Vec: []float64{0.1}}))
}

func TestCEMFindsTheGoalPastTheTrap(t *testing.T) {
	p, err := planner.NewCEM(valleyBox(), planner.CEMOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	v := &valley{}
	traj, err := agent.Run(t.Context(), v, env.Task{}, p, agent.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !traj.Success {
		t.Fatalf("CEM ended %q at x = %v after %d steps, want the goal x ≤ -1", traj.Reason, v.x, len(traj.Steps))
	}
	if len(traj.Steps) > 4 {
		t.Errorf("CEM took %d steps to the goal, want the 2 or 3 it needs", len(traj.Steps))
	}
	rec, ok := traj.Steps[0].Meta["search"].(*planner.CEMRecord)
	if !ok {
		t.Fatalf("Meta[search] = %T, want *planner.CEMRecord", traj.Steps[0].Meta["search"])
	}
	want := planner.DefaultIterations * planner.DefaultSamples
	if rec.Model != "env" || !rec.Oracle || rec.Sequences != want || rec.EnvSteps == 0 || len(rec.EliteMeans) != planner.DefaultIterations {
		t.Errorf("record %+v: want model env, oracle, %d sequences, env steps and one elite mean per iteration", rec, want)
	}
}

// With a horizon of one step CEM is greedy: it follows the shaping to the
// trap and never reaches the goal.
func TestCEMWithoutLookaheadFallsInTheTrap(t *testing.T) {
	p, err := planner.NewCEM(valleyBox(), planner.CEMOptions{Seed: 1, Horizon: 1})
	if err != nil {
		t.Fatal(err)
	}
	v := &valley{}
	traj, err := agent.Run(t.Context(), v, env.Task{}, p, agent.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if traj.Success || math.Abs(v.x-1) > 0.1 {
		t.Fatalf("greedy CEM ended %q at x = %v, want the trap at 1", traj.Reason, v.x)
	}
}

func TestCEMPlansInTheTwin(t *testing.T) {
	p, err := planner.NewCEM(valleyBox(), planner.CEMOptions{Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	r := &remoteValley{}
	traj, err := agent.Run(t.Context(), r, env.Task{}, p, agent.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !traj.Success {
		t.Fatalf("CEM in the twin ended %q at x = %v, want the goal", traj.Reason, r.real.x)
	}
	rec := traj.Steps[0].Meta["search"].(*planner.CEMRecord)
	if rec.Model != "twin" || rec.Oracle {
		t.Errorf("record model %q oracle %v, want twin and no oracle", rec.Model, rec.Oracle)
	}
	if r.twin.follows != len(traj.Steps) || r.twinUsed != 1 {
		t.Errorf("the twin followed %d times and was asked for %d times in %d steps, want once a step and asked once", r.twin.follows, r.twinUsed, len(traj.Steps))
	}
}

func TestCEMBadInput(t *testing.T) {
	box := valleyBox()
	bad := []struct {
		name string
		box  func(b *planner.Box)
		opts planner.CEMOptions
		want string
	}{
		{"no action", func(b *planner.Box) { b.Action = "" }, planner.CEMOptions{}, "no action"},
		{"no start", func(b *planner.Box) { b.Start = nil }, planner.CEMOptions{}, "no Start"},
		{"no dims", func(b *planner.Box) { b.MaxStep, b.Low, b.High = nil, nil, nil }, planner.CEMOptions{}, "no dimensions"},
		{"lows", func(b *planner.Box) { b.Low = nil }, planner.CEMOptions{}, "one of each"},
		{"NaN step", func(b *planner.Box) { b.MaxStep = []float64{math.NaN()} }, planner.CEMOptions{}, "MaxStep"},
		{"empty range", func(b *planner.Box) { b.Low = []float64{3} }, planner.CEMOptions{}, "Low < High"},
		{"horizon", nil, planner.CEMOptions{Horizon: -1}, "horizon"},
		{"samples", nil, planner.CEMOptions{Samples: 1}, "2 or more"},
		{"iterations", nil, planner.CEMOptions{Iterations: -2}, "iterations"},
		{"elites", nil, planner.CEMOptions{Samples: 4, Elites: 5}, "elites"},
		{"momentum", nil, planner.CEMOptions{Momentum: 1}, "momentum"},
		{"discount", nil, planner.CEMOptions{Discount: math.NaN()}, "discount"},
	}
	for _, c := range bad {
		b := box
		if c.box != nil {
			c.box(&b)
		}
		_, err := planner.NewCEM(b, c.opts)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: NewCEM = %v, want an error about %q", c.name, err, c.want)
		}
	}
}

func TestCEMFaults(t *testing.T) {
	run := func(e env.Env) error {
		p, err := planner.NewCEM(valleyBox(), planner.CEMOptions{Samples: 4, Iterations: 1})
		if err != nil {
			t.Fatal(err)
		}
		_, err = agent.Run(t.Context(), e, env.Task{}, p, agent.Options{})
		return err
	}
	if err := run(&valley{nan: true}); err == nil || !strings.Contains(err.Error(), "must be finite") {
		t.Errorf("a NaN reward: %v, want an error that the reward must be finite", err)
	}
	err := run(&noSnapValley{})
	if !errors.Is(err, env.ErrNoSnapshot) || !strings.Contains(err.Error(), "twin") {
		t.Errorf("an env without snapshots or twin: %v, want env.ErrNoSnapshot and a word about a twin", err)
	}
	var ae *agent.Error
	if !errors.As(err, &ae) || ae.Phase != agent.PhasePolicy {
		t.Errorf("the error %v is not the policy's (agent.PhasePolicy)", err)
	}
}

// noSnapValley is a valley that cannot save its state and has no twin.
type noSnapValley struct{ remoteValley }

func (*noSnapValley) Twin() {} // not env.Twinned's
