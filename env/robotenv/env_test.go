package robotenv

import (
	"context"
	"testing"
	"time"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/env/envtest"
	"github.com/pilotkit/pilot/robot/arm"
	"github.com/pilotkit/pilot/robot/sim"
)

func newFastEnv(t *testing.T, kind string) *Env {
	t.Helper()
	ctx := context.Background()
	rig, err := NewFast(ctx, RigOptions{Seed: 1})
	if err != nil {
		t.Fatalf("NewFast: %v", err)
	}
	e, err := New(rig, Options{Task: kind})
	if err != nil {
		rig.Close()
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// solve runs the expert on one task and returns the last step.
func solve(t *testing.T, e *Env, kind string, seed int64) (env.Step, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	obs, err := e.Reset(ctx, env.Task{Seed: seed})
	if err != nil {
		t.Fatalf("Reset(seed %d): %v", seed, err)
	}
	for i := 1; ; i++ {
		a, err := Expert(kind, obs)
		if err != nil {
			t.Fatalf("Expert: %v", err)
		}
		st, err := e.Step(ctx, a)
		if err != nil {
			t.Fatalf("seed %d step %d %v: %v", seed, i, a, err)
		}
		t.Logf("seed %d step %d %v → reward %.3f err %q info %v", seed, i, a, st.Reward, st.Obs.Error, st.Info)
		if st.Done() {
			return st, i
		}
		obs = st.Obs
	}
}

func TestExpertSolvesReachFast(t *testing.T) {
	e := newFastEnv(t, Reach)
	for seed := int64(1); seed <= 5; seed++ {
		st, n := solve(t, e, Reach, seed)
		if !st.Terminated || st.Reason != "success" {
			t.Errorf("reach seed %d: ended %q after %d steps, want success", seed, st.Reason, n)
		}
	}
}

func TestExpertSolvesPickFast(t *testing.T) {
	e := newFastEnv(t, Pick)
	for seed := int64(1); seed <= 5; seed++ {
		st, n := solve(t, e, Pick, seed)
		if !st.Terminated || st.Reason != "success" {
			t.Errorf("pick seed %d: ended %q after %d steps, want success", seed, st.Reason, n)
		}
	}
}

func TestContractFast(t *testing.T) {
	for _, kind := range []string{Reach, Pick} {
		t.Run(kind, func(t *testing.T) {
			rig, err := NewFast(context.Background(), RigOptions{Seed: 2})
			if err != nil {
				t.Fatal(err)
			}
			e, err := New(rig, Options{Task: kind, Images: true})
			if err != nil {
				rig.Close()
				t.Fatal(err)
			}
			envtest.Check(t, e, env.Task{Seed: 3})
		})
	}
}

// A cube held for long does not trip the gripper's overload protection:
// the gripper eases off once it has closed.
func TestLongHoldKeepsTheCube(t *testing.T) {
	e := newFastEnv(t, Pick)
	e.opts.MaxSteps = 200
	ctx := context.Background()
	obs, err := e.Reset(ctx, env.Task{Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; obs.State[14] < 0.5; i++ {
		if i == 10 {
			t.Fatal("the expert did not grasp the cube in 10 steps")
		}
		a, err := Expert(Pick, obs)
		if err != nil {
			t.Fatal(err)
		}
		st, err := e.Step(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		obs = st.Obs
	}
	for i := 0; i < 100; i++ { // 10 s of simulated time
		st, err := e.Step(ctx, env.A("noop"))
		if err != nil {
			t.Fatalf("noop %d while holding: %v", i, err)
		}
		if st.Obs.State[14] < 0.5 {
			t.Fatalf("the cube fell after %d noops (%.1f s): %s", i, float64(i)*DefaultStepTime.Seconds(), st.Obs.Text)
		}
	}
	h, err := e.rig.Arm.Health(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if load := h.Load[5]; load > 20 || load < -20 {
		t.Errorf("gripper load %.1f%% while holding, want a light grip", load)
	}
}

// A noisy bus (lost and damaged replies) is retried under the arm: the
// task still succeeds, and the retries are counted.
func TestPickOnANoisyBus(t *testing.T) {
	rig, err := NewFast(context.Background(), RigOptions{Seed: 3, Faults: sim.Faults{DropRate: 0.01, CorruptRate: 0.01}})
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(rig, Options{Task: Pick})
	if err != nil {
		rig.Close()
		t.Fatal(err)
	}
	defer e.Close()
	for seed := int64(1); seed <= 3; seed++ {
		if st, n := solve(t, e, Pick, seed); st.Reason != "success" {
			t.Errorf("pick seed %d on a noisy bus ended %q after %d steps, want success", seed, st.Reason, n)
		}
	}
	st := rig.Bus.Stats()
	if st.Retries == 0 || st.Timeouts == 0 || st.Corrupt == 0 {
		t.Errorf("bus stats %+v: want dropped (timeouts) and corrupt replies retried", st)
	}
}

// move_joints goes through the safety layer: a target past a joint's limit
// is clamped (and reported), and a step moves no faster than JointSpeed.
func TestMoveJointsIsPacedAndClamped(t *testing.T) {
	e := newFastEnv(t, Reach)
	ctx := context.Background()
	obs, err := e.Reset(ctx, env.Task{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	target := append([]float64(nil), obs.State[:6]...)
	target[0] = 500 // far past shoulder_pan's limit
	st, err := e.Step(ctx, env.Action{Name: "move_joints", Vec: target})
	if err != nil {
		t.Fatal(err)
	}
	moved := st.Obs.State[0] - obs.State[0]
	if max := DefaultJointSpeed * DefaultStepTime.Seconds() * 1.1; moved <= 0 || moved > max {
		t.Errorf("shoulder_pan moved %.1f° in one 0.1 s step, want (0, %.1f°]", moved, max)
	}
	clamps, _ := st.Info["clamps"].([]arm.Clamp)
	found := false
	for _, c := range clamps {
		found = found || (c.Joint == "shoulder_pan" && c.Why == "calibrated range")
	}
	if !found {
		t.Errorf("Info[clamps] = %v, want shoulder_pan clamped to its calibrated range", st.Info["clamps"])
	}
	_, hi := e.rig.Arm.Limits()
	for i := 0; i < 40; i++ {
		if st, err = e.Step(ctx, env.Action{Name: "move_joints", Vec: target}); err != nil {
			t.Fatal(err)
		}
	}
	if got := st.Obs.State[0]; got > hi[0]+0.1 {
		t.Errorf("shoulder_pan reached %.1f°, past its limit %.1f°", got, hi[0])
	}
}
