package robotenv

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/robot/sim"
)

// Reset homes until the joints read home back, and fails naming a joint
// that cannot get there (jammed 41° away, as the wrist was on a real arm)
// instead of starting the episode from the wrong pose. Simulated time:
// the homing timeout passes in no wall time.
func TestResetChecksThatTheArmIsHome(t *testing.T) {
	e := newFastEnv(t, Reach)
	ctx := context.Background()
	s := e.rig.Sim
	// The wrist is turned 41° by hand and jammed there.
	enc := s.Encoders()
	enc[4] = 2048 + int(math.Round(41*4096/360.0))
	if err := s.SetFaults(sim.Faults{Jammed: []byte{5}}); err != nil {
		t.Fatal(err)
	}
	s.SetEncoders(enc)
	start := e.rig.Arm.Clock().Now()
	_, err := e.Reset(ctx, env.Task{Seed: 1})
	if err == nil {
		t.Fatal("Reset with wrist_roll jammed 41° from home = nil error, want it to fail")
	}
	t.Log(err)
	for _, want := range []string{"reset: wrist_roll is 41° from home after 6s", "check that nothing blocks it", "HomeTimeout"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Reset error %q does not say %q", err, want)
		}
	}
	for _, other := range []string{"shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "gripper"} {
		if strings.Contains(err.Error(), other) {
			t.Errorf("Reset error %q names %s, which got home", err, other)
		}
	}
	if took := e.rig.Arm.Clock().Now() - start; took < DefaultHomeTimeout || took > DefaultHomeTimeout+DefaultHomeTimeout/2 {
		t.Errorf("failed homing took %v of clock time, want about HomeTimeout %v", took, DefaultHomeTimeout)
	}
	// Freed, the next Reset brings every joint home, read back.
	if err := s.SetFaults(sim.Faults{}); err != nil {
		t.Fatal(err)
	}
	obs, err := e.Reset(ctx, env.Task{Seed: 1})
	if err != nil {
		t.Fatalf("Reset once the wrist is free: %v", err)
	}
	st, err := e.rig.Arm.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	home := append([]float64(nil), e.home...)
	home[len(home)-1] = 100 // Reset opens the gripper
	for i, j := range e.rig.Arm.Joints() {
		if d := math.Abs(st.Pos[i] - home[i]); d > DefaultHomeTolerance {
			t.Errorf("%s at %.1f after Reset, %.1f from home %.1f (tolerance %v)", j.Name, st.Pos[i], d, home[i], DefaultHomeTolerance)
		}
	}
	if obs.Text == "" {
		t.Error("Reset's observation has no text")
	}
}

func TestNewRejectsBadHoming(t *testing.T) {
	rig, err := NewFast(context.Background(), RigOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer rig.Close()
	for _, o := range []Options{{Task: Reach, HomeTolerance: -1}, {Task: Reach, HomeTolerance: math.NaN()}, {Task: Reach, HomeTimeout: -1}} {
		if _, err := New(rig, o); err == nil || !strings.Contains(err.Error(), "Home") {
			t.Errorf("New(%+v) = %v, want an error about the homing option", o, err)
		}
	}
}
