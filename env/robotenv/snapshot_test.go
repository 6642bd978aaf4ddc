package robotenv

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/robot/sim"
)

// expertSteps plays the expert for n steps (or to the end) from obs.
func expertSteps(t *testing.T, e *Env, obs env.Observation, n int) []env.Step {
	t.Helper()
	var out []env.Step
	for range n {
		a, err := Expert(Pick, obs)
		if err != nil {
			t.Fatalf("Expert: %v", err)
		}
		st, err := e.Step(t.Context(), a)
		if err != nil {
			t.Fatalf("Step(%v): %v", a, err)
		}
		out = append(out, st)
		if st.Done() {
			break
		}
		obs = st.Obs
	}
	return out
}

// TestSnapshotUndoesTheGrasp snapshots a pick before the grasp, plays the
// expert to success, restores and plays it again: the same steps, to the
// same success, and the simulator's cube is back on the table after the
// restore.
func TestSnapshotUndoesTheGrasp(t *testing.T) {
	e := newFastEnv(t, Pick)
	obs, err := e.Reset(t.Context(), env.Task{Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	steps := expertSteps(t, e, obs, 2)
	obs = steps[len(steps)-1].Obs
	state, err := e.Snapshot(t.Context())
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	before := e.rig.Sim.Scene()
	first := expertSteps(t, e, obs, 40)
	last := first[len(first)-1]
	if last.Reason != "success" {
		t.Fatalf("the expert ended %q after the snapshot, want success", last.Reason)
	}
	for round := 1; round <= 2; round++ {
		if err := e.Restore(t.Context(), state); err != nil {
			t.Fatalf("Restore (%d): %v", round, err)
		}
		if got := e.rig.Sim.Scene(); !reflect.DeepEqual(got, before) {
			t.Fatalf("the scene after Restore (%d) = %+v, want %+v", round, got, before)
		}
		again := expertSteps(t, e, state.Observation(), 40)
		if !reflect.DeepEqual(again, first) {
			t.Fatalf("after Restore (%d) the expert's %d steps differ from the %d after the snapshot", round, len(again), len(first))
		}
	}
}

// TestSnapshotOfMoveJoints checks the continuous control a planner
// samples: the same joint targets from a restored state give the same
// observations and rewards, bit for bit.
func TestSnapshotOfMoveJoints(t *testing.T) {
	e := newFastEnv(t, Reach)
	obs, err := e.Reset(t.Context(), env.Task{Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	state, err := e.Snapshot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	play := func() []env.Step {
		var out []env.Step
		q := append([]float64(nil), obs.State[:6]...)
		for i := range 6 {
			q[0] += 10
			q[2] -= 5 * float64(i%2)
			q[5] -= 15
			st, err := e.Step(t.Context(), env.Action{Name: "move_joints", Vec: append([]float64(nil), q...)})
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, st)
		}
		return out
	}
	first := play()
	if err := e.Restore(t.Context(), state); err != nil {
		t.Fatal(err)
	}
	if again := play(); !reflect.DeepEqual(again, first) {
		t.Fatalf("move_joints after Restore differs:\n%+v\nwant\n%+v", again, first)
	}
}

func TestSnapshotRefusals(t *testing.T) {
	e := newFastEnv(t, Reach)
	if _, err := e.Snapshot(t.Context()); !errors.Is(err, env.ErrNotReset) {
		t.Errorf("Snapshot before Reset = %v, want env.ErrNotReset", err)
	}
	other := newFastEnv(t, Reach)
	for _, x := range []*Env{e, other} {
		if _, err := x.Reset(t.Context(), env.Task{Seed: 1}); err != nil {
			t.Fatal(err)
		}
	}
	st, err := other.Snapshot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Restore(t.Context(), st); !errors.Is(err, env.ErrForeignState) {
		t.Errorf("Restore of another env's state = %v, want env.ErrForeignState", err)
	}
	if err := e.rig.Sim.Restore(nil); !errors.Is(err, sim.ErrForeignState) {
		t.Errorf("sim.Restore(nil) = %v, want sim.ErrForeignState", err)
	}
	mine, err := e.Snapshot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Reset(t.Context(), env.Task{Seed: 2}); err != nil {
		t.Fatal(err)
	}
	if err := e.Restore(t.Context(), mine); !errors.Is(err, env.ErrStaleState) {
		t.Errorf("Restore after Reset = %v, want env.ErrStaleState", err)
	}
	e.Close()
	if err := e.Restore(t.Context(), mine); !errors.Is(err, env.ErrClosed) {
		t.Errorf("Restore after Close = %v, want env.ErrClosed", err)
	}
}

// BenchmarkSnapshotRestore is a snapshot and a restore of the fast
// engine's pick episode: what CEM pays per sampled sequence.
func BenchmarkSnapshotRestore(b *testing.B) {
	rig, err := NewFast(context.Background(), RigOptions{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	e, err := New(rig, Options{Task: Pick})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	if _, err := e.Reset(context.Background(), env.Task{Seed: 1}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		st, err := e.Snapshot(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if err := e.Restore(context.Background(), st); err != nil {
			b.Fatal(err)
		}
	}
}

func TestIrreversibleLargeMoves(t *testing.T) {
	e := newFastEnv(t, Reach)
	obs, err := e.Reset(t.Context(), env.Task{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	q := append([]float64(nil), obs.State[:6]...)
	small, large := append([]float64(nil), q...), append([]float64(nil), q...)
	small[0] += 10
	large[1] += 60
	tip := obs.State[6:9]
	for _, c := range []struct {
		a    env.Action
		want bool
	}{
		{env.Action{Name: "move_joints", Vec: small}, false},
		{env.Action{Name: "move_joints", Vec: large}, true},
		{moveTo([3]float64{tip[0] + 0.02, tip[1], tip[2]}), false},
		{moveTo([3]float64{tip[0], tip[1] + 0.3, tip[2]}), true},
		{env.A("noop"), false},
		{env.A("home"), false}, // the episode starts at home
	} {
		if got := e.Irreversible(obs, c.a); (got != "") != c.want {
			t.Errorf("Irreversible(%v) = %q, want flagged %v", c.a, got, c.want)
		}
	}
	// Home from far away is a large move.
	far := obs
	far.State = append([]float64(nil), obs.State...)
	far.State[1] += 70
	if got := e.Irreversible(far, env.A("home")); got == "" {
		t.Errorf("home from 70 degrees away is not flagged")
	}
}
