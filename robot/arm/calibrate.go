package arm

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pilotkit/pilot/robot/feetech"
)

// CalibrateSteps are the two moments of a calibration where a person moves
// the arm by hand.
type CalibrateSteps struct {
	// Middle returns once the arm is in the middle of every joint's range
	// (torque is off).
	Middle func() error
	// Sweep returns once every joint has been moved through its range. It
	// calls update as often as it likes (50 Hz is good): each call reads
	// the positions and widens the ranges, and returns the calibration so
	// far.
	Sweep func(update func() (Calibration, error)) error
}

// MinRange is the smallest span, in steps, a swept joint must show.
const MinRange = 100

// Calibrate calibrates an arm as LeRobot does. It turns torque off (and
// reads it back: a servo that does not confirm it is a *TorqueError, and
// steps.Middle is never called), clears
// the homing offsets and limits, and waits for steps.Middle; the homing
// offset of each joint then makes that pose read 2047 (Homing_Offset =
// present − 2047). During steps.Sweep it records each joint's smallest and
// largest position; full-turn joints get 0..4095. It writes the offsets and
// limits to the servos' EEPROM and returns the calibration (the caller
// saves it). Torque stays off.
func Calibrate(ctx context.Context, bus Bus, joints []Joint, steps CalibrateSteps) (Calibration, error) {
	if err := checkJoints(joints); err != nil {
		return nil, err
	}
	ids := jointIDs(joints)
	var missing []string
	for _, j := range joints {
		if err := bus.Ping(ctx, j.ID); err != nil && !isServoErr(err) {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			missing = append(missing, fmt.Sprintf("servo %d (%s)", j.ID, j.Name))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("calibrate: no answer from %s: check power, IDs and baud; `pilot robot scan` lists what answers", strings.Join(missing, ", "))
	}
	write := func(id byte, r feetech.Register, v int) error {
		if err := bus.WriteReg(ctx, id, r, v); err != nil && !isServoErr(err) {
			return fmt.Errorf("calibrate: write %s = %d to servo %d: %w", r, v, id, err)
		}
		return nil
	}
	names := make([]string, len(joints))
	for i, j := range joints {
		names[i] = j.Name
	}
	// The person is about to take the arm in hand: torque off, read back.
	if err := torqueOff(ctx, bus, ids, names); err != nil {
		return nil, fmt.Errorf("calibrate: %w", err)
	}
	for _, id := range ids {
		for _, w := range []struct {
			reg feetech.Register
			v   int
		}{{feetech.Lock, 0}, {feetech.HomingOffset, 0}, {feetech.MinPositionLimit, 0}, {feetech.MaxPositionLimit, Resolution - 1}} {
			if err := write(id, w.reg, w.v); err != nil {
				return nil, err
			}
		}
	}
	if err := steps.Middle(); err != nil {
		return nil, err
	}
	present := func() ([]int, error) {
		p, err := bus.SyncReadReg(ctx, feetech.PresentPosition, ids)
		if err != nil && !isServoErr(err) {
			return nil, fmt.Errorf("calibrate: read positions: %w", err)
		}
		return p, nil
	}
	mid, err := present()
	if err != nil {
		return nil, err
	}
	cal := Calibration{}
	for i, j := range joints {
		off := mid[i] - (Resolution/2 - 1)
		if off < -maxHomingOffset || off > maxHomingOffset {
			return nil, fmt.Errorf("calibrate: %s reads %d in the middle pose: its homing offset %d does not fit 11 bits (±%d); turn the joint a little off the encoder's seam and calibrate again", j.Name, mid[i], off, maxHomingOffset)
		}
		if err := write(j.ID, feetech.HomingOffset, off); err != nil {
			return nil, err
		}
		cal[j.Name] = JointCal{ID: int(j.ID), HomingOffset: off, RangeMin: Resolution, RangeMax: -1}
	}
	update := func() (Calibration, error) {
		p, err := present()
		if err != nil {
			return nil, err
		}
		for i, j := range joints {
			c := cal[j.Name]
			c.RangeMin, c.RangeMax = min(c.RangeMin, p[i]), max(c.RangeMax, p[i])
			cal[j.Name] = c
		}
		return cal, nil
	}
	if _, err := update(); err != nil {
		return nil, err
	}
	if err := steps.Sweep(update); err != nil {
		return nil, err
	}
	var narrow []string
	for _, j := range joints {
		c := cal[j.Name]
		if j.FullTurn {
			c.RangeMin, c.RangeMax = 0, Resolution-1
			cal[j.Name] = c
			continue
		}
		if c.RangeMax-c.RangeMin < MinRange {
			narrow = append(narrow, fmt.Sprintf("%s (%d steps)", j.Name, c.RangeMax-c.RangeMin))
		}
	}
	if len(narrow) > 0 {
		return nil, fmt.Errorf("calibrate: %s barely moved during the sweep: move every joint through its whole range and calibrate again", strings.Join(narrow, ", "))
	}
	if err := cal.Validate(joints); err != nil {
		return nil, errors.Join(errors.New("calibrate: the result is not valid"), err)
	}
	for _, j := range joints {
		c := cal[j.Name]
		if err := write(j.ID, feetech.MinPositionLimit, c.RangeMin); err != nil {
			return nil, err
		}
		if err := write(j.ID, feetech.MaxPositionLimit, c.RangeMax); err != nil {
			return nil, err
		}
	}
	return cal, nil
}
