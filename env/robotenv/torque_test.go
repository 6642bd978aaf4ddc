package robotenv

import (
	"strings"
	"testing"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/robot/feetech"
	"github.com/pilotkit/pilot/robot/sim"
)

// torqueRead reads Torque_Enable from every servo over the bus: what the
// servos say, not what the arm believes.
func torqueRead(t *testing.T, e *Env) []int {
	t.Helper()
	var out []int
	for _, j := range e.rig.Arm.Joints() {
		v, err := e.rig.Bus.ReadReg(t.Context(), j.ID, feetech.TorqueEnable)
		if err != nil {
			t.Fatalf("read Torque_Enable of servo %d: %v", j.ID, err)
		}
		out = append(out, v)
	}
	return out
}

func TestTorqueAction(t *testing.T) {
	e := newFastEnv(t, Reach)
	obs, err := e.Reset(t.Context(), env.Task{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if why := e.Irreversible(obs, env.A("torque", "off")); !strings.Contains(why, "limp") {
		t.Errorf("torque off is not flagged for the gate: %q", why)
	}
	if why := e.Irreversible(obs, env.A("torque", "on")); why != "" {
		t.Errorf("torque on while it is on is flagged: %q", why)
	}
	st, err := e.Step(t.Context(), env.A("torque", "off"))
	if err != nil || st.Obs.Error != "" {
		t.Fatalf("torque off: %v, %q", err, st.Obs.Error)
	}
	if !strings.Contains(st.Obs.Text, "Torque is off") {
		t.Errorf("the observation does not say torque is off:\n%s", st.Obs.Text)
	}
	for i, v := range torqueRead(t, e) {
		if v != 0 {
			t.Errorf("servo %d reads Torque_Enable = %d after torque off", i+1, v)
		}
	}
	// While limp, turning it on and any move are flagged; a noop is not.
	for _, a := range []env.Action{env.A("torque", "on"), env.A("open_gripper"), env.A("home")} {
		if why := e.Irreversible(st.Obs, a); why == "" {
			t.Errorf("%s on a limp arm is not flagged", a)
		}
	}
	if why := e.Irreversible(st.Obs, env.A("noop")); why != "" {
		t.Errorf("a noop on a limp arm is flagged: %q", why)
	}
	// A noop leaves it limp and takes its time.
	t0 := e.rig.Arm.Clock().Now()
	if _, err := e.Step(t.Context(), env.A("noop")); err != nil {
		t.Fatal(err)
	}
	if v := torqueRead(t, e); v[0] != 0 {
		t.Errorf("a noop turned torque on: %v", v)
	}
	if dt := e.rig.Arm.Clock().Now() - t0; dt < e.opts.StepTime {
		t.Errorf("a limp noop took %v of the arm's clock, want a step (%v)", dt, e.opts.StepTime)
	}
	// Someone moves the limp arm (the shoulder by a few hundred steps):
	// turned on, it holds there, and noops do not drive it back.
	enc := e.rig.Sim.Encoders()
	enc[1] += 400
	e.rig.Sim.SetEncoders(enc)
	moved, err := e.rig.Arm.Read(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	st, err = e.Step(t.Context(), env.A("torque", "on"))
	if err != nil || st.Obs.Error != "" || strings.Contains(st.Obs.Text, "Torque is off") {
		t.Fatalf("torque on: %v, %q\n%s", err, st.Obs.Error, st.Obs.Text)
	}
	for i, v := range torqueRead(t, e) {
		if v != 1 {
			t.Errorf("servo %d reads Torque_Enable = %d after torque on", i+1, v)
		}
	}
	for range 5 {
		if _, err := e.Step(t.Context(), env.A("noop")); err != nil {
			t.Fatal(err)
		}
	}
	now, err := e.rig.Arm.Read(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if d := now.Pos[1] - moved.Pos[1]; d > 2 || d < -2 {
		t.Errorf("the shoulder went from %.1f° (where it was put) to %.1f° after torque on and noops: want it held there", moved.Pos[1], now.Pos[1])
	}
	if _, err := e.Step(t.Context(), env.A("torque", "off")); err != nil {
		t.Fatal(err)
	}
	q := append([]float64(nil), obs.State[:6]...)
	q[0] += 5
	if _, err := e.Step(t.Context(), env.Action{Name: "move_joints", Vec: q}); err != nil {
		t.Fatal(err)
	}
	if v := torqueRead(t, e); v[0] != 1 {
		t.Errorf("a move left torque off: %v", v)
	}
	if st, err := e.Step(t.Context(), env.A("torque", "sideways")); err != nil || st.Obs.Error == "" {
		t.Errorf("torque(sideways): %v, %q; want the step's error", err, st.Obs.Error)
	}
}

// A servo that keeps its torque: the step says which may still hold it,
// and the session goes on.
func TestTorqueOffNotConfirmed(t *testing.T) {
	e := newFastEnv(t, Reach)
	if _, err := e.Reset(t.Context(), env.Task{Seed: 3}); err != nil {
		t.Fatal(err)
	}
	if err := e.rig.Sim.SetFaults(sim.Faults{KeepTorque: []byte{2}}); err != nil {
		t.Fatal(err)
	}
	st, err := e.Step(t.Context(), env.A("torque", "off"))
	if err != nil {
		t.Fatalf("torque off with a servo that keeps torque ended the session: %v", err)
	}
	if !strings.Contains(st.Obs.Error, "torque may still be ON on servo 2") {
		t.Errorf("the step's error %q does not name servo 2", st.Obs.Error)
	}
	if v := torqueRead(t, e); v[1] != 1 || v[0] != 0 {
		t.Errorf("Torque_Enable read back %v: want servo 2 on, the others off", v)
	}
	// The next move engages every servo again.
	if _, err := e.Step(t.Context(), env.A("noop")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Step(t.Context(), env.A("open_gripper")); err != nil {
		t.Fatal(err)
	}
	for i, v := range torqueRead(t, e) {
		if v != 1 {
			t.Errorf("after a move, servo %d reads Torque_Enable = %d: want every servo engaged again", i+1, v)
		}
	}
}
