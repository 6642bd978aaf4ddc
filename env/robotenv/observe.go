package robotenv

import (
	"context"
	"fmt"
	"strings"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/robot/arm"
	"github.com/pilotkit/pilot/robot/kin"
)

// StateNames names the entries of Observation.State for a task kind:
// joints (degrees; gripper percent open), the tip (m), then the target
// (reach) or the red cube, the zone centre and whether the red cube is held
// (pick).
func StateNames(kind string) []string {
	n := []string{"shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll", "gripper", "tip_x", "tip_y", "tip_z"}
	if kind == Reach {
		return append(n, "target_x", "target_y", "target_z")
	}
	return append(n, "red_x", "red_y", "red_z", "zone_x", "zone_y", "held")
}

// observe reads the arm, the scene and the camera.
func (e *Env) observe(ctx context.Context, actErr string) (env.Observation, scene, error) {
	st, err := e.rig.Arm.Read(ctx)
	if err != nil {
		return env.Observation{}, scene{}, err
	}
	s := scene{Tip: kin.FK(userToJoints(st.Pos)).Pos, Gripper: st.Pos[len(st.Pos)-1], Zone: e.layout.Zone}
	if e.rig.Scene != nil {
		look, err := e.rig.Scene.Look(ctx)
		if err != nil {
			return env.Observation{}, scene{}, fmt.Errorf("robotenv: look at the scene: %w", err)
		}
		s.Cubes, s.Held, s.Known = look.Cubes, look.Held, look.Known
	}
	if !s.Known && e.opts.Task == Pick {
		// Hardware: the cubes are where the layout put them, until the
		// gripper closes on one (a stall short of closed).
		s.Cubes = e.layout.Cubes
		if e.goal != nil && e.goal[len(e.goal)-1] < 5 && s.Gripper > 8 {
			s.Held = "red"
		}
	}
	obs := env.Observation{Error: actErr}
	obs.State = append(obs.State, st.Pos...)
	obs.State = append(obs.State, s.Tip[:]...)
	if e.opts.Task == Reach {
		obs.State = append(obs.State, e.layout.Target[:]...)
	} else {
		red := s.Cubes["red"]
		held := 0.0
		if s.Held == "red" {
			held = 1
		}
		obs.State = append(obs.State, red[0], red[1], red[2], s.Zone[0], s.Zone[1], held)
	}
	if e.opts.Images && e.rig.Camera != nil {
		img, err := e.frame(ctx)
		if err != nil {
			return env.Observation{}, scene{}, fmt.Errorf("robotenv: camera: %w", err)
		}
		obs.Images = append(obs.Images, img)
	}
	obs.Text = e.text(st.Pos, s, actErr)
	return obs, s, nil
}

func (e *Env) text(pos []float64, s scene, actErr string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Task: %s\n", e.task.Instruction)
	if actErr != "" {
		fmt.Fprintf(&b, "Last action failed: %s\n", actErr)
	}
	fmt.Fprintf(&b, "Gripper tip at %s m, gripper %.0f%% open", v3(s.Tip), s.Gripper)
	if s.Held != "" {
		fmt.Fprintf(&b, ", holding the %s cube", s.Held)
	}
	b.WriteString(".\nJoints:")
	for i, j := range e.rig.Arm.Joints() {
		fmt.Fprintf(&b, " %s %.1f%s", j.Name, pos[i], map[bool]string{true: "%", false: "°"}[j.Gripper])
	}
	b.WriteString(".\n")
	if !e.rig.Arm.TorqueOn() {
		b.WriteString("Torque is off: the arm is limp (torque(\"on\") or any move holds it again).\n")
	}
	if e.opts.Task == Reach {
		fmt.Fprintf(&b, "Target at %s m, %.3f m away.\n", v3(e.layout.Target), dist(s.Tip, e.layout.Target))
	} else {
		for _, name := range []string{"red", "green", "blue"} {
			if p, ok := s.Cubes[name]; ok {
				fmt.Fprintf(&b, "%s cube (%.3f m edge) at %s m.\n", strings.ToUpper(name[:1])+name[1:], CubeSize, v3(p))
			}
		}
		if !s.Known {
			b.WriteString("(Cube positions are where the task placed them; no sensor tracks them on this rig.)\n")
		}
		fmt.Fprintf(&b, "Target zone: centre (%.3f, %.3f) m on the table, radius %.3f m.\n", s.Zone[0], s.Zone[1], ZoneRadius)
	}
	fmt.Fprintf(&b, "Frame: x forward, y left, z up from the table, in metres. Step %d of %d.", e.steps, e.opts.MaxSteps)
	return b.String()
}

func v3(p kin.Vec3) string { return fmt.Sprintf("(%.3f, %.3f, %.3f)", p[0], p[1], p[2]) }

// JointBox describes move_joints as a continuous action space, for
// planners that sample it (planner.Box): the most each target can move
// in one step at the default speeds (degrees; percent for the gripper),
// and the simulated arm's calibrated range of each. A real arm's own
// calibration may be narrower: the env clamps every target to it.
func JointBox() (maxStep, lo, hi []float64) {
	cal := SimCalibration()
	for _, j := range arm.SO101() {
		l, h := cal[j.Name].Limits(j)
		v := float64(DefaultJointSpeed)
		if j.Gripper {
			v = DefaultGripperSpeed
		}
		maxStep, lo, hi = append(maxStep, v*DefaultStepTime.Seconds()), append(lo, l), append(hi, h)
	}
	return maxStep, lo, hi
}
