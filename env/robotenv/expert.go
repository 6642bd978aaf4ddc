package robotenv

import (
	"fmt"
	"math"
	"strconv"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/robot/kin"
)

// Expert is the scripted solver of both tasks: it reads the observation's
// State (see StateNames), plans with inverse kinematics and answers with
// skills. It keeps no memory between steps, so it recovers from whatever
// happened (a failed grasp, a dropped cube).
func Expert(kind string, obs env.Observation) (env.Action, error) {
	want := len(StateNames(kind))
	if len(obs.State) != want {
		return env.Action{}, fmt.Errorf("robot expert: the observation's state has %d values, want %d (%s task)", len(obs.State), want, kind)
	}
	s := obs.State
	tip := kin.Vec3{s[6], s[7], s[8]}
	if kind == Reach {
		target := kin.Vec3{s[9], s[10], s[11]}
		if dist(tip, target) > ReachTolerance/4 {
			return moveTo(target), nil
		}
		return env.A("stop"), nil
	}
	grip := s[5]
	red := kin.Vec3{s[9], s[10], s[11]}
	zone := kin.Vec3{s[12], s[13], CubeSize / 2}
	held := s[14] > 0.5
	const above, near = hoverHeight, 0.004
	if held {
		carry := kin.Vec3{zone[0], zone[1], CubeSize/2 + above}
		if xy(tip, zone) > near {
			if tip[2] < carry[2]-near {
				return moveTo(kin.Vec3{tip[0], tip[1], carry[2]}), nil // lift first
			}
			return moveTo(carry), nil
		}
		if tip[2] > zone[2]+near {
			return moveTo(kin.Vec3{zone[0], zone[1], zone[2] + 0.002}), nil
		}
		return env.A("open_gripper"), nil
	}
	if xy(red, zone) <= ZoneRadius && math.Abs(red[2]-CubeSize/2) <= restTolerance {
		return env.A("stop"), nil
	}
	hover := kin.Vec3{red[0], red[1], red[2] + above}
	if xy(tip, red) > near {
		if tip[2] < hover[2]-near {
			return moveTo(kin.Vec3{tip[0], tip[1], hover[2]}), nil // up before going across
		}
		return moveTo(hover), nil
	}
	if grip < 80 {
		if tip[2] < hover[2]-near {
			return moveTo(hover), nil // closed low without the cube: back up
		}
		return env.A("open_gripper"), nil
	}
	if tip[2] > red[2]+near {
		return moveTo(red), nil
	}
	return env.A("close_gripper"), nil
}

func moveTo(p kin.Vec3) env.Action {
	f := func(x float64) string { return strconv.FormatFloat(math.Round(x*10000)/10000, 'f', -1, 64) }
	return env.A("move_to", f(p[0]), f(p[1]), f(p[2]))
}
