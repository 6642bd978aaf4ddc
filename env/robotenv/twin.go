package robotenv

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/robot/kin"
	"github.com/pilotkit/pilot/robot/sim"
)

var _ env.Twinned = (*Env)(nil)

// Twin returns the env's simulated twin: a fast-engine env of the same
// task and timing, which a planner (planner.NewCEM) resets with the
// episode's task, puts in the state of each observation (Follow) and
// forks, where the env itself, an arm on a serial port, cannot go back in
// time. The env owns the twin and closes it with itself; every call
// returns the same twin.
func (e *Env) Twin(ctx context.Context) (env.Twin, error) {
	if e.closed {
		return nil, env.ErrClosed
	}
	if e.twin != nil {
		return e.twin, nil
	}
	rig, err := NewFast(ctx, RigOptions{Arm: e.rig.armOpts})
	if err != nil {
		return nil, fmt.Errorf("robotenv: the twin's simulator: %w", err)
	}
	o := e.opts
	o.Images, o.MaxSteps = false, -1
	t, err := New(rig, o)
	if err != nil {
		return nil, errors.Join(err, rig.Close())
	}
	e.twin = &twin{t}
	return e.twin, nil
}

// twin is a fast-engine Env that follows another env's observations.
type twin struct{ *Env }

// Follow puts the twin's arm at the observed joints and the red cube
// where it was seen, held or not, and makes the observed joints the
// servos' goals.
func (t *twin) Follow(ctx context.Context, obs env.Observation) error {
	kind := t.opts.Task
	if want := len(StateNames(kind)); len(obs.State) != want {
		return fmt.Errorf("robotenv: twin: the observation's state has %d values, want %d (%s task)", len(obs.State), want, kind)
	}
	for i, v := range obs.State {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("robotenv: twin: %s is %v in the observation", StateNames(kind)[i], v)
		}
	}
	if !t.started {
		return env.ErrNotReset
	}
	pos := append([]float64(nil), obs.State[:6]...)
	s := t.rig.Sim
	if kind == Pick {
		red := kin.Vec3{obs.State[9], obs.State[10], obs.State[11]}
		held := obs.State[14] > 0.5
		now := lookOf(s.Scene())
		twinHeld := now.Held == "red"
		open := append([]float64(nil), pos...)
		open[5] = 100
		switch {
		case held && !twinHeld, !held && twinHeld:
			// Open the fingers (a held cube falls), put the cube where
			// it was seen, then close them as observed: on the cube
			// when the real gripper holds it.
			s.SetEncoders(encoders(open))
			if err := s.Arrange(map[string]kin.Vec3{"red": red}, kin.Vec3{}, 0); err != nil {
				return fmt.Errorf("robotenv: twin: %w", err)
			}
		case !held && dist(now.Cubes["red"], red) > 0.001:
			if err := s.Arrange(map[string]kin.Vec3{"red": red}, kin.Vec3{}, 0); err != nil {
				return fmt.Errorf("robotenv: twin: %w", err)
			}
		}
	}
	s.SetEncoders(encoders(pos))
	if _, err := t.rig.Arm.Step(ctx, pos); err != nil {
		return fmt.Errorf("robotenv: twin: hold the observed pose: %w", err)
	}
	t.goal = pos
	o, sc, err := t.observe(ctx, "")
	if err != nil {
		return fmt.Errorf("robotenv: twin: %w", err)
	}
	t.last, t.phi, t.over, t.steps = o, potential(kind, t.layout, sc), false, 0
	return nil
}

// encoders converts the simulated arm's joints (degrees from the
// calibration pose; the gripper in percent open) to its encoders.
func encoders(pos []float64) [sim.NumServos]int {
	var e [sim.NumServos]int
	for i := range 5 {
		e[i] = sim.JointEncoder(i, pos[i]*math.Pi/180)
	}
	lo, hi := sim.GripperEncoder(0), sim.GripperEncoder(1)
	e[5] = lo + int(math.Round(math.Max(0, math.Min(100, pos[5]))/100*float64(hi-lo)))
	return e
}
