package arm_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pilotkit/pilot/robot/arm"
	"github.com/pilotkit/pilot/robot/feetech"
	"github.com/pilotkit/pilot/robot/sim"
)

// torqueError returns the *arm.TorqueError in err, failing the test
// without one.
func torqueError(t *testing.T, what string, err error) *arm.TorqueError {
	t.Helper()
	var te *arm.TorqueError
	if !errors.As(err, &te) {
		t.Fatalf("%s = %v, want a *arm.TorqueError", what, err)
	}
	return te
}

// Servos that lose every torque-off write are named by Close, which
// never claims the arm is limp; the others are off.
func TestCloseReportsTorqueStillOn(t *testing.T) {
	r := openFast(t, sim.Options{}, arm.Options{})
	if err := r.sim.SetFaults(sim.Faults{KeepTorque: []byte{2, 5}}); err != nil {
		t.Fatal(err)
	}
	err := r.arm.Close()
	te := torqueError(t, "Close with servos 2 and 5 keeping torque", err)
	if !slices.Equal(te.IDs, []byte{2, 5}) || !slices.Equal(te.Joints, []string{"shoulder_lift", "wrist_roll"}) {
		t.Errorf("TorqueError IDs %v joints %v, want [2 5] [shoulder_lift wrist_roll]", te.IDs, te.Joints)
	}
	for _, want := range []string{"torque may still be ON on servos 2 (shoulder_lift), 5 (wrist_roll)", "servo 2 reads Torque_Enable = 1", "3 attempts", "unplug the servos' power"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Close error %q does not say %q", err, want)
		}
	}
	for _, j := range arm.SO101() {
		want := 0
		if j.ID == 2 || j.ID == 5 {
			want = 1
		}
		if got := reg(t, r.bus, j.ID, feetech.TorqueEnable); got != want {
			t.Errorf("%s Torque_Enable = %d after Close, want %d", j.Name, got, want)
		}
	}
}

// A torque-off lost on the wire once or twice is written again until the
// servo reads back 0: Close succeeds, and it is true.
func TestCloseRetriesALostTorqueOff(t *testing.T) {
	r := openFast(t, sim.Options{}, arm.Options{})
	if err := r.sim.SetFaults(sim.Faults{KeepTorque: []byte{3}, KeepTorqueTimes: arm.TorqueOffAttempts - 1}); err != nil {
		t.Fatal(err)
	}
	if err := r.arm.Close(); err != nil {
		t.Fatalf("Close with servo 3 losing %d torque-offs = %v, want nil", arm.TorqueOffAttempts-1, err)
	}
	for _, j := range arm.SO101() {
		if got := reg(t, r.bus, j.ID, feetech.TorqueEnable); got != 0 {
			t.Errorf("%s Torque_Enable = %d after Close, want 0", j.Name, got)
		}
	}
}

// A servo whose read-back never comes cannot be confirmed: its torque
// is reported as possibly on, even though the write reached it.
func TestCloseCannotConfirmASilentServo(t *testing.T) {
	r := openFast(t, sim.Options{}, arm.Options{})
	if err := r.sim.SetFaults(sim.Faults{Silent: 4}); err != nil {
		t.Fatal(err)
	}
	err := r.arm.Close()
	te := torqueError(t, "Close with servo 4 silent", err)
	if !slices.Equal(te.IDs, []byte{4}) {
		t.Errorf("TorqueError IDs = %v, want [4]", te.IDs)
	}
	if !errors.Is(err, feetech.ErrNoStatus) || !strings.Contains(err.Error(), "servo 4 (wrist_flex)") {
		t.Errorf("Close error = %v, want it to name servo 4 (wrist_flex) and wrap ErrNoStatus", err)
	}
}

// The same over a real pseudo-terminal: the torque-off and its read-back
// go over the wire.
func TestCloseReportsTorqueStillOnOverSerial(t *testing.T) {
	r, _ := openSerial(t, sim.Options{}, arm.Options{Watchdog: -1})
	if err := r.sim.SetFaults(sim.Faults{KeepTorque: []byte{6}}); err != nil {
		t.Fatal(err)
	}
	te := torqueError(t, "Close over serial with the gripper keeping torque", r.arm.Close())
	if !slices.Equal(te.IDs, []byte{6}) || !slices.Equal(te.Joints, []string{"gripper"}) {
		t.Errorf("TorqueError IDs %v joints %v, want [6] [gripper]", te.IDs, te.Joints)
	}
}

// A fault that stops the arm says torque is off only when it read it
// back; otherwise the error names the servos that may still hold.
func TestStopSaysWhetherTorqueIsOff(t *testing.T) {
	ctx := context.Background()
	for _, keep := range [][]byte{nil, {1}} {
		r := openFast(t, sim.Options{}, arm.Options{})
		st, err := r.arm.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.sim.SetFaults(sim.Faults{KeepTorque: keep, Silent: 3}); err != nil {
			t.Fatal(err)
		}
		_, err = r.arm.Step(ctx, st.Pos)
		if !errors.Is(err, arm.ErrStopped) {
			t.Fatalf("Step with servo 3 silent = %v, want ErrStopped", err)
		}
		// Servo 3 cannot confirm either way.
		te := torqueError(t, "the fault of an arm stopped with servo 3 silent", err)
		want := append(slices.Clone(keep), 3)
		if !slices.Equal(te.IDs, want) {
			t.Errorf("KeepTorque %v: TorqueError IDs = %v, want %v", keep, te.IDs, want)
		}
		if strings.Contains(err.Error(), "torque is off") {
			t.Errorf("KeepTorque %v: fault %q claims torque is off", keep, err)
		}
		if err := r.sim.SetFaults(sim.Faults{}); err != nil {
			t.Fatal(err)
		}
	}
	// A dead bus confirms nothing.
	r := openFast(t, sim.Options{}, arm.Options{})
	r.sim.Close()
	_, err := r.arm.Step(ctx, make([]float64, 6))
	if !errors.Is(err, arm.ErrStopped) {
		t.Fatalf("Step on a closed simulator = %v, want ErrStopped", err)
	}
	if te := torqueError(t, "the fault of an arm whose bus died", err); len(te.IDs) != 6 {
		t.Errorf("TorqueError IDs = %v, want all six (nothing can be read back)", te.IDs)
	}
}

// Calibration takes torque off before the person moves the arm, and does
// not ask them to when a servo keeps it.
func TestCalibrateRefusesWhenTorqueStaysOn(t *testing.T) {
	s, err := sim.New(sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	bus := feetech.NewBus(s.Port(), feetech.Options{Timeout: 2 * time.Millisecond})
	if err := bus.WriteReg(context.Background(), 4, feetech.TorqueEnable, 1); err != nil {
		t.Fatal(err)
	}
	if err := s.SetFaults(sim.Faults{KeepTorque: []byte{4}}); err != nil {
		t.Fatal(err)
	}
	asked := false
	_, err = arm.Calibrate(context.Background(), bus, arm.SO101(), arm.CalibrateSteps{
		Middle: func() error { asked = true; return nil },
		Sweep:  func(func() (arm.Calibration, error)) error { return nil },
	})
	te := torqueError(t, "Calibrate with servo 4 keeping torque", err)
	if !slices.Equal(te.IDs, []byte{4}) || !strings.HasPrefix(err.Error(), "calibrate: ") {
		t.Errorf("Calibrate = %v (IDs %v), want a calibrate: error naming servo 4", err, te.IDs)
	}
	if asked {
		t.Error("Calibrate asked for the middle pose with servo 4's torque on")
	}
}
