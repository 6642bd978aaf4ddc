package robotenv

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/robot/kin"
)

// Task kinds.
const (
	Reach = "reach" // move the gripper tip to a target point
	Pick  = "pick"  // put the red cube in the target zone
)

// Geometry of the tasks, in metres.
const (
	ReachTolerance = 0.02  // the tip within this of the target is success
	CubeSize       = 0.025 // edge of a cube
	ZoneRadius     = 0.04  // the target zone's radius
	restTolerance  = 0.006 // a cube resting on the table is this close to CubeSize/2
)

// Layout is where things are at the start of an episode.
type Layout struct {
	Target kin.Vec3            `json:"target,omitempty"` // reach
	Cubes  map[string]kin.Vec3 `json:"cubes,omitempty"`  // pick: red, green, blue cube centres
	Zone   kin.Vec3            `json:"zone,omitempty"`   // pick: the zone's centre on the table
}

// NewLayout draws the layout of a task kind from seed: the same seed gives
// the same layout. Every point is inside the arm's comfortable reach.
func NewLayout(kind string, seed int64) (Layout, error) {
	r := rand.New(rand.NewPCG(uint64(seed), 0x5eed))
	switch kind {
	case Reach:
		for {
			p := polar(r, 0.10, 0.22, 0.02, 0.09)
			if reachableDown(p) {
				return Layout{Target: p}, nil
			}
		}
	case Pick:
		l := Layout{Cubes: map[string]kin.Vec3{}}
		for {
			l.Zone = polar(r, 0.10, 0.22, 0, 0)
			if reachableDown(kin.Vec3{l.Zone[0], l.Zone[1], CubeSize / 2}) && reachableDown(kin.Vec3{l.Zone[0], l.Zone[1], CubeSize/2 + hoverHeight}) {
				break
			}
		}
		var placed []kin.Vec3
		for _, name := range []string{"red", "green", "blue"} {
			for {
				p := polar(r, 0.10, 0.22, CubeSize/2, CubeSize/2)
				ok := reachableDown(p) && reachableDown(kin.Vec3{p[0], p[1], p[2] + hoverHeight}) && xy(p, l.Zone) > ZoneRadius+CubeSize*1.5
				for _, q := range placed {
					ok = ok && xy(p, q) > CubeSize*3
				}
				if ok {
					l.Cubes[name] = p
					placed = append(placed, p)
					break
				}
			}
		}
		return l, nil
	}
	return Layout{}, fmt.Errorf("robot task %q is unknown: want %q or %q", kind, Reach, Pick)
}

// hoverHeight is how far above a cube the expert lines the gripper up.
const hoverHeight = 0.05

// reachableDown reports whether the tip can reach p pointing straight down.
func reachableDown(p kin.Vec3) bool {
	_, err := kin.IK(p, -math.Pi/2, kin.Joints{})
	return err == nil
}

// polar draws a point in front of the arm: radius in [r0, r1], azimuth
// within ±50°, height in [z0, z1].
func polar(r *rand.Rand, r0, r1, z0, z1 float64) kin.Vec3 {
	rad := r0 + r.Float64()*(r1-r0)
	az := (r.Float64()*2 - 1) * 50 * math.Pi / 180
	return kin.Vec3{rad * math.Cos(az), rad * math.Sin(az), z0 + r.Float64()*(z1-z0)}
}

func xy(a, b kin.Vec3) float64 { return math.Hypot(a[0]-b[0], a[1]-b[1]) }

func dist(a, b kin.Vec3) float64 {
	return math.Sqrt((a[0]-b[0])*(a[0]-b[0]) + (a[1]-b[1])*(a[1]-b[1]) + (a[2]-b[2])*(a[2]-b[2]))
}

// Instruction is the task's text for a model.
func Instruction(kind string, l Layout) string {
	if kind == Reach {
		return fmt.Sprintf("Move the gripper tip to the point (%.3f, %.3f, %.3f) m and hold it there.", l.Target[0], l.Target[1], l.Target[2])
	}
	return "Put the red cube in the yellow target zone."
}

// Tasks returns n tasks of a kind, seeds seed, seed+1, …; their IDs name
// the seed so that a run can be repeated.
func Tasks(kind string, n int, seed int64) ([]env.Task, error) {
	var ts []env.Task
	for i := 0; i < n; i++ {
		s := seed + int64(i)
		l, err := NewLayout(kind, s)
		if err != nil {
			return nil, err
		}
		ts = append(ts, env.Task{
			ID:          fmt.Sprintf("%s-%d", kind, s),
			Suite:       "robot:" + kind,
			Instruction: Instruction(kind, l),
			Seed:        s,
		})
	}
	return ts, nil
}

// scene is the ground truth an episode is judged on.
type scene struct {
	Tip     kin.Vec3
	Gripper float64 // percent open
	Held    string  // the cube between the fingers, "" for none
	Cubes   map[string]kin.Vec3
	Zone    kin.Vec3
	Known   bool // cube positions are known (a simulator); false on hardware
}

// potential is the shaping potential Φ: the reward of a step is
// Φ(after) − Φ(before), plus 1 on success (Ng et al.'s potential-based
// shaping keeps the optimal policy).
func potential(kind string, l Layout, s scene) float64 {
	if kind == Reach {
		return -dist(s.Tip, l.Target)
	}
	red, ok := s.Cubes["red"]
	if !ok {
		return 0
	}
	if s.Held == "red" {
		return 0.25 - xy(red, s.Zone) - math.Max(0, red[2]-CubeSize/2)*0.5
	}
	return -dist(s.Tip, red) - xy(red, s.Zone)
}

// success reports whether the task is done in scene s.
func success(kind string, l Layout, s scene) bool {
	if kind == Reach {
		return dist(s.Tip, l.Target) <= ReachTolerance
	}
	red, ok := s.Cubes["red"]
	return ok && s.Known && s.Held == "" && xy(red, s.Zone) <= ZoneRadius && math.Abs(red[2]-CubeSize/2) <= restTolerance
}
