package arm

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pilotkit/pilot/robot/feetech"
)

// TorqueOffAttempts is how many times a torque-off is written and read
// back before the servos that still do not read Torque_Enable = 0 are
// reported in a *TorqueError.
const TorqueOffAttempts = 3

// TorqueError says that torque-off could not be confirmed: after
// TorqueOffAttempts writes of Torque_Enable = 0, the servos in IDs still
// read back 1, or did not answer the read-back. Their torque may still be
// on: the arm can move or hold with force. Detect it with errors.As:
//
//	var te *arm.TorqueError
//	if errors.As(err, &te) { /* tell the user to unplug the servos' power */ }
type TorqueError struct {
	IDs    []byte   // servos whose torque may still be on, in joint order
	Joints []string // their joints, the same order
	Err    error    // what the read-backs said, per servo (errors.Join)
}

func (e *TorqueError) Error() string {
	names := make([]string, len(e.IDs))
	for i, id := range e.IDs {
		names[i] = fmt.Sprint(id)
		if i < len(e.Joints) && e.Joints[i] != "" {
			names[i] += " (" + e.Joints[i] + ")"
		}
	}
	servos := "servo "
	if len(e.IDs) > 1 {
		servos = "servos "
	}
	msg := fmt.Sprintf("arm: torque may still be ON on %s%s: Torque_Enable did not read back 0 after %d attempts",
		servos, strings.Join(names, ", "), TorqueOffAttempts)
	if e.Err != nil {
		msg += " (" + strings.ReplaceAll(e.Err.Error(), "\n", "; ") + ")"
	}
	return msg + ": keep clear of the arm and unplug the servos' power supply"
}

func (e *TorqueError) Unwrap() error { return e.Err }

// torqueOff turns torque off on the servos ids and reads it back: it
// writes Torque_Enable = 0 with one broadcast packet (it reaches the live
// servos even when one is dead), reads Torque_Enable from each servo, and
// tries again, up to TorqueOffAttempts times, for those that did not read
// back 0. It returns nil only when every servo read back 0, and otherwise a
// *TorqueError naming the others. names are the servos' joints, for the
// error.
func torqueOff(ctx context.Context, bus Bus, ids []byte, names []string) error {
	pending := append([]byte(nil), ids...)
	why := map[byte]error{}
	for attempt := 0; attempt < TorqueOffAttempts && len(pending) > 0; attempt++ {
		if ctx.Err() != nil {
			break
		}
		if err := bus.SyncWriteReg(ctx, feetech.TorqueEnable, pending, make([]int, len(pending))); err != nil {
			// The read-back below says which servos it reached.
			for _, id := range pending {
				why[id] = fmt.Errorf("write: %w", err)
			}
		}
		var still []byte
		for _, id := range pending {
			v, err := bus.ReadReg(ctx, id, feetech.TorqueEnable)
			switch {
			case err != nil && !isServoErr(err):
				why[id] = fmt.Errorf("servo %d: read-back: %w", id, err)
				still = append(still, id)
			case v != 0:
				why[id] = fmt.Errorf("servo %d reads Torque_Enable = %d", id, v)
				still = append(still, id)
			default:
				delete(why, id)
			}
		}
		pending = still
	}
	if len(pending) == 0 {
		return nil
	}
	te := &TorqueError{IDs: pending}
	var errs []error
	for _, id := range pending {
		name := ""
		for i, x := range ids {
			if x == id && i < len(names) {
				name = names[i]
			}
		}
		te.Joints = append(te.Joints, name)
		errs = append(errs, why[id])
	}
	if ctx.Err() != nil {
		errs = append(errs, ctx.Err())
	}
	te.Err = errors.Join(errs...)
	return te
}

// ErrNotEngaged is wrapped by Engage's error when a servo did not read
// back Torque_Enable = 1.
var ErrNotEngaged = errors.New("torque did not read back on")

// Relax turns torque off on every servo and reads it back (see
// TorqueOffAttempts): the arm goes limp, falls under its own weight where
// nothing holds it (the simulator has no gravity: there it stays), and a
// person can move it by hand. The next Step turns torque on again on
// every servo, holding where the arm is first, and so does Engage. Relax
// returns nil only when every servo read back torque off, and a
// *TorqueError naming the others otherwise; the watchdog still watches
// those.
func (a *Arm) Relax(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.usable(); err != nil {
		return err
	}
	a.lastCommand, a.tripped = a.clock.Now(), false
	err := a.torqueOffAll(ctx)
	if err != nil {
		// Some servos went limp: the next command engages them all again.
		// energized stays set, so that the watchdog watches the others.
		a.torqueOn = false
	}
	return err
}

// Engage turns torque on, each goal first set to the present position so
// that the arm does not jump, and reads Torque_Enable back from every
// servo: it returns nil only when every one reads 1, and an error
// wrapping ErrNotEngaged naming the others otherwise (the arm then counts
// as limp). It checks the servos' health first, as a Step does.
func (a *Arm) Engage(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.usable(); err != nil {
		return err
	}
	if err := a.healthLocked(ctx, false); err != nil {
		return err
	}
	a.lastCommand, a.tripped = a.clock.Now(), false
	if err := a.torqueOnHolding(ctx); err != nil {
		return a.stopLocked(ctx, err)
	}
	var off []string
	for i, id := range a.ids {
		v, err := a.bus.ReadReg(ctx, id, feetech.TorqueEnable)
		if err != nil && !isServoErr(err) {
			return fmt.Errorf("arm: torque on: read back %s: %w", a.name(i), err)
		}
		if v != 1 {
			off = append(off, a.name(i))
		}
	}
	if len(off) > 0 {
		a.torqueOn = false
		return fmt.Errorf("arm: torque on: %s read back Torque_Enable = 0: the servo may be faulty or its power off: %w", strings.Join(off, ", "), ErrNotEngaged)
	}
	return nil
}

// TorqueOn reports whether the arm holds torque, as last set (and, for a
// torque-off, read back).
func (a *Arm) TorqueOn() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.torqueOn
}
