package arm_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/pilotkit/pilot/robot/arm"
	"github.com/pilotkit/pilot/robot/feetech"
	"github.com/pilotkit/pilot/robot/serial"
	"github.com/pilotkit/pilot/robot/sim"
)

// The calibration a person does, rehearsed on the simulator as `pilot
// robot calibrate` meets it: the servos on a real pseudo-terminal, the
// hand moves through the simulator's control server (sim.Remote, POST
// /encoders), the result saved, written to the servos' EEPROM (kept
// across a power cycle) and accepted by arm.Open.
func TestCalibrateOnTheSimulatorEndToEnd(t *testing.T) {
	s, err := sim.New(sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p, err := s.ServePTY(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	srv := httptest.NewServer(sim.ControlHandler(s))
	defer srv.Close()
	hand := sim.Remote{URL: srv.URL}
	port, err := serial.Open(p.Path(), serial.Config{})
	if err != nil {
		t.Fatal(err)
	}
	// A loaded machine can hold the simulator's replies up for a second
	// and more: short attempts, many of them.
	bus := feetech.NewBus(port, feetech.Options{Timeout: 250 * time.Millisecond, Retries: 15})
	defer bus.Close()

	// The arm starts with torque on, as a person finds it after a run.
	for _, j := range arm.SO101() {
		if err := bus.WriteReg(ctx, j.ID, feetech.TorqueEnable, 1); err != nil {
			t.Fatal(err)
		}
	}
	mid := [6]int{2100, 1990, 2048, 2200, 3000, 2300}
	// The sweep: each joint to one end, then the other, a few poses on
	// the way, as a hand moves them (wrist_roll is full-turn).
	sweep := [][6]int{
		{1800, 1700, 1500, 1900, 2000, 2100},
		{1500, 1200, 1000, 1100, 100, 2000},
		{2400, 2500, 2600, 2600, 3900, 2800},
		{2700, 2900, 3100, 3000, 4000, 3300},
		mid,
	}
	lo, hi := sweep[1], sweep[3]
	var middleAsked, sweepAsked bool
	cal, err := arm.Calibrate(ctx, bus, arm.SO101(), arm.CalibrateSteps{
		Middle: func() error {
			middleAsked = true
			// Torque is off now (read back): the hand moves the joints.
			for _, j := range arm.SO101() {
				if got := reg(t, bus, j.ID, feetech.TorqueEnable); got != 0 {
					t.Errorf("%s Torque_Enable = %d when asked for the middle pose, want 0", j.Name, got)
				}
			}
			return hand.SetEncoders(ctx, mid)
		},
		Sweep: func(update func() (arm.Calibration, error)) error {
			sweepAsked = true
			for _, e := range sweep {
				if err := hand.SetEncoders(ctx, e); err != nil {
					return err
				}
				if _, err := update(); err != nil {
					return err
				}
			}
			return nil
		},
	})
	if err != nil {
		t.Fatalf("Calibrate on the simulator: %v", err)
	}
	if !middleAsked || !sweepAsked {
		t.Fatalf("Calibrate asked for the middle pose %v, the sweep %v; want both", middleAsked, sweepAsked)
	}
	if got, err := hand.Encoders(ctx); err != nil || got != mid {
		t.Errorf("GET /encoders after the sweep = %v, %v; want the middle pose %v (torque off: the joints stay where the hand left them)", got, err, mid)
	}
	for i, j := range arm.SO101() {
		c := cal[j.Name]
		if want := mid[i] - 2047; c.HomingOffset != want {
			t.Errorf("%s homing_offset = %d, want %d", j.Name, c.HomingOffset, want)
		}
		wantMin, wantMax := lo[i]-c.HomingOffset, hi[i]-c.HomingOffset
		if j.FullTurn {
			wantMin, wantMax = 0, arm.Resolution-1
		}
		if c.RangeMin != wantMin || c.RangeMax != wantMax {
			t.Errorf("%s range = %d..%d, want %d..%d", j.Name, c.RangeMin, c.RangeMax, wantMin, wantMax)
		}
		if got := reg(t, bus, j.ID, feetech.PresentPosition); got != 2047 {
			t.Errorf("%s reads %d in the middle pose after calibration, want 2047", j.Name, got)
		}
	}

	path := filepath.Join(t.TempDir(), "so101_follower.json")
	if err := cal.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := arm.LoadCalibration(path, arm.SO101())
	if err != nil {
		t.Fatal(err)
	}
	// The calibration is in EEPROM: it survives switching the arm off,
	// and Open accepts it without writing anything.
	s.PowerCycle()
	a, err := arm.Open(ctx, bus, back, arm.Options{Watchdog: -1})
	if err != nil {
		t.Fatalf("Open with the fresh calibration after a power cycle: %v", err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}
