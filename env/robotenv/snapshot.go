package robotenv

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/robot/arm"
	"github.com/pilotkit/pilot/robot/sim"
)

var _ env.Snapshotter = (*Env)(nil)

// state is a saved episode of the fast engine: the simulator (servos,
// time, world), the arm's record and the task's progress.
type state struct {
	e       *Env
	epoch   uint64
	sim     *sim.State
	arm     arm.Memo
	obs     env.Observation
	over    bool
	steps   int
	phi     float64
	goal    []float64
	started bool
}

func (s *state) Observation() env.Observation { return s.obs }

// errSerialSnapshot says why an arm on a serial port cannot be forked.
func (e *Env) errSerialSnapshot() error {
	return fmt.Errorf("robotenv: %w: an arm on a serial port (a real one, or `pilot robot sim` in another process) cannot go back in time; "+
		"the fast engine can (--engine fast), and planner.NewCEM plans for a serial arm in a simulated twin (robotenv.NewTwin)", env.ErrNoSnapshot)
}

// Snapshot saves the episode's state. Only the fast engine (NewFast) can:
// on a serial port it fails with env.ErrNoSnapshot. It copies a few
// kilobytes and takes microseconds.
func (e *Env) Snapshot(ctx context.Context) (env.State, error) {
	switch {
	case e.closed:
		return nil, env.ErrClosed
	case e.rig.Sim == nil:
		return nil, e.errSerialSnapshot()
	case !e.started:
		return nil, env.ErrNotReset
	}
	ss, err := e.rig.Sim.Snapshot()
	if err != nil {
		return nil, fmt.Errorf("robotenv: snapshot: %w", err)
	}
	return &state{e: e, epoch: e.epoch, sim: ss, arm: e.rig.Arm.Memo(), obs: e.last, over: e.over, steps: e.steps,
		phi: e.phi, goal: append([]float64(nil), e.goal...), started: e.started}, nil
}

// Restore brings back a state that Snapshot returned in this episode.
func (e *Env) Restore(ctx context.Context, s env.State) error {
	st, ok := s.(*state)
	switch {
	case e.closed:
		return env.ErrClosed
	case !ok || st == nil || st.e != e:
		return fmt.Errorf("robotenv: restore: %w", env.ErrForeignState)
	case st.epoch != e.epoch:
		return fmt.Errorf("robotenv: restore: %w", env.ErrStaleState)
	}
	if err := e.rig.Sim.Restore(st.sim); err != nil {
		return fmt.Errorf("robotenv: restore: %w", err)
	}
	if err := e.rig.Arm.SetMemo(st.arm); err != nil {
		return fmt.Errorf("robotenv: restore: %w", err)
	}
	e.last, e.over, e.steps, e.phi, e.started = st.obs, st.over, st.steps, st.phi, st.started
	e.goal = append(e.goal[:0], st.goal...)
	return nil
}

var _ env.Irreversible = (*Env)(nil)

// Large moves, for the confirmation gate: a move of a joint by more than
// LargeJointMove degrees in one move_joints or home, of the gripper by
// more than LargeJointMove points in one move_joints, open_gripper or
// close_gripper, or of the tip by more than LargeTipMove metres in one
// move_to, is flagged (on a real arm a wrong
// large move can knock things over, and no restore takes it back).
const (
	LargeJointMove = 45.0
	LargeTipMove   = 0.15
)

// Irreversible flags a change of torque (and any move of a limp arm,
// which turns torque on again) and large moves (see LargeJointMove).
func (e *Env) Irreversible(obs env.Observation, a env.Action) string {
	limp := !e.rig.Arm.TorqueOn()
	switch {
	case a.Name == "torque" && a.Arg(0) == "off" && !limp:
		return "torque off: the arm goes limp and falls where nothing holds it"
	case a.Name == "torque" && a.Arg(0) == "on" && limp:
		return "torque on: the servos hold the arm where it is, with force"
	case limp && a.Name != "torque" && a.Name != "noop" && a.Name != "stop":
		return a.Name + " turns torque on again on a limp arm: the servos hold and move with force"
	case len(obs.State) < 9:
		return ""
	}
	switch a.Name {
	case "open_gripper", "close_gripper":
		want := 100.0
		if a.Name == "close_gripper" {
			want = 0
		}
		if len(obs.State) > 5 && math.Abs(want-obs.State[5]) > LargeJointMove {
			return fmt.Sprintf("a large move: the gripper by %.0f (more than %.0f) in one step", math.Abs(want-obs.State[5]), LargeJointMove)
		}
	case "move_joints", "home":
		goal := a.Vec
		if a.Name == "home" {
			goal = e.home[:min(len(e.home), 5)] // the gripper keeps its opening
		}
		for i, v := range goal {
			if i < 5 && i < len(obs.State) && math.Abs(v-obs.State[i]) > LargeJointMove {
				return fmt.Sprintf("a large move: joint %d by %.0f (more than %.0f) in one step", i+1, math.Abs(v-obs.State[i]), LargeJointMove)
			}
		}
		if a.Name == "move_joints" && len(goal) > 5 && len(obs.State) > 5 && math.Abs(goal[5]-obs.State[5]) > LargeJointMove {
			return fmt.Sprintf("a large move: the gripper by %.0f (more than %.0f) in one step", math.Abs(goal[5]-obs.State[5]), LargeJointMove)
		}
	case "move_to":
		var p [3]float64
		for i := range p {
			f, err := strconv.ParseFloat(strings.TrimSpace(a.Arg(i)), 64)
			if err != nil {
				return ""
			}
			p[i] = f
		}
		d := math.Sqrt((p[0]-obs.State[6])*(p[0]-obs.State[6]) + (p[1]-obs.State[7])*(p[1]-obs.State[7]) + (p[2]-obs.State[8])*(p[2]-obs.State[8]))
		if d > LargeTipMove {
			return fmt.Sprintf("a large move: the tip %.2f m (more than %.2f m)", d, LargeTipMove)
		}
	}
	return ""
}
