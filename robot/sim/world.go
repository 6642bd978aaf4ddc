package sim

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/pilotkit/pilot/robot/kin"
)

const (
	worldCubeSize   = 0.025 // m, edge of the standard cubes
	worldZoneRadius = 0.04  // m
	worldGraspTol   = 0.6   // of a cube's size, per axis, tip to centre
	worldOpenEps    = 0.002 // opening fraction tolerance for "closed on the cube"
	worldHover      = 0.04  // m above a cube's centre that Reset also checks reachable
	worldCubeGap    = 0.06  // m, least centre distance between cubes at Reset
	worldZoneAway   = 0.10  // m, least distance of the zone from the red cube
	worldMaxTries   = 10000 // sampling attempts per object in Reset
)

// worldMaxOpening is the gap between the fingertips with the gripper fully
// open, in metres: the moving jaw is about kin.JawLength() ≈ 0.080 m long
// and opens to the URDF's upper limit of 100°, which leaves
// 0.080·sin 100° ≈ 0.079 m between the fingertips.
func worldMaxOpening() float64 {
	return kin.JawLength() * math.Sin(kin.GripperLimits()[1])
}

// Cube is one cube of the world.
type Cube struct {
	Name  string
	Color color.RGBA
	Pos   kin.Vec3 // centre, m
	Size  float64  // edge, m
	Held  bool     // grasped, following the gripper tip
}

// WorldState is a plain copy of everything a World holds, for planners
// that search over states: JSON-encodable, restored exactly by Restore.
type WorldState struct {
	Joints     kin.Joints
	Gripper    float64  // commanded opening fraction, 0 closed .. 1 open
	Opening    float64  // actual opening fraction: at least the width of a cube held or blocking the fingers
	Cubes      []Cube   `json:",omitempty"`
	ZoneCentre kin.Vec3 // on the table
	ZoneRadius float64
	HeldOffset kin.Vec3 // the held cube's centre in the tip's frame (kin.Pose.ToLocal)
	Contact    bool     // the joints put the tip below the table
}

// World is the simulator's small world: a table (the plane z = 0,
// unbounded for physics) with a few cubes and a target zone, and the SO-101
// arm standing on it with its pan axis at the origin (robot/kin's frame: x
// forward, y left, z up, metres). It is not safe for concurrent use; the
// Sim guards it with its mutex. Render also reuses scratch buffers kept in
// the World.
//
// Physics, kept simple on purpose:
//   - A cube lies between the fingers when the tip (the point between the
//     fingertips) is within 0.6 × the cube's size of its centre along each
//     axis and the fingers were open wider than the cube when it got there.
//   - Closing the fingers on such a cube stops them at its width
//     (GripperLimit) and grasps it: it is Held and follows the tip rigidly,
//     keeping its offset in the gripper frame. Cubes are never rotated.
//   - Opening the fingers wider than the cube releases it; it falls straight
//     down onto the table or onto the highest cube whose footprint overlaps
//     its own, and stays there. Cubes that are not held always rest like
//     that (a cube on top of one that is picked up falls too); they never
//     sink into the table or into each other. A held cube supports nothing.
//   - Fingers closing with no cube between them, or moving through a cube,
//     do not push it: there is no collision between the arm and the cubes.
//   - The tip cannot go below the table: if the joints would put it there,
//     Tip reports it on the table and Contact reports true; a held cube stays
//     on or above the table.
type World struct {
	s   WorldState
	tip kin.Pose // FK of s.Joints with the tip lifted onto the table

	renderZ []float32 // depth buffer, reused across Render calls
}

// NewWorld returns a world reset with seed 0, the arm at the zero pose and
// the gripper closed.
func NewWorld() *World {
	w := &World{}
	w.updateTip()
	w.Reset(0)
	return w
}

// worldCubeSpecs are the cubes Reset places, in order.
func worldCubeSpecs() [3]Cube {
	return [3]Cube{
		{Name: "red", Color: color.RGBA{R: 215, G: 35, B: 35, A: 255}, Size: worldCubeSize},
		{Name: "green", Color: color.RGBA{R: 35, G: 165, B: 60, A: 255}, Size: worldCubeSize},
		{Name: "blue", Color: color.RGBA{R: 35, G: 75, B: 215, A: 255}, Size: worldCubeSize},
	}
}

// Reset places a red, a green and a blue cube (2.5 cm) at random spots on
// the table, 0.11–0.25 m in front of the arm, that the gripper reaches
// pointing straight down both at the cube's centre and 4 cm above it, with
// centres at least 6 cm apart; and the target zone (radius 4 cm, its centre
// reachable like a cube's) at least 10 cm from the red cube and clear of
// all cubes. The layout depends only on seed. The arm keeps its pose; a
// held cube is let go.
func (w *World) Reset(seed int64) {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5eed_c0be))
	specs := worldCubeSpecs()
	w.s.Cubes = w.s.Cubes[:0]
	for i, c := range specs {
		c.Pos = worldSample(rng, func(p kin.Vec3) bool {
			p[2] = c.Size / 2
			if !worldReachableDown(p) || !worldReachableDown(p.Add(kin.Vec3{0, 0, worldHover})) {
				return false
			}
			for _, o := range w.s.Cubes {
				if math.Hypot(p[0]-o.Pos[0], p[1]-o.Pos[1]) < worldCubeGap {
					return false
				}
			}
			return true
		}, worldFallback(i))
		c.Pos[2] = c.Size / 2
		w.s.Cubes = append(w.s.Cubes, c)
	}
	red := w.s.Cubes[0].Pos
	w.s.ZoneRadius = worldZoneRadius
	w.s.ZoneCentre = worldSample(rng, func(p kin.Vec3) bool {
		if math.Hypot(p[0]-red[0], p[1]-red[1]) < worldZoneAway {
			return false
		}
		for _, o := range w.s.Cubes {
			if math.Hypot(p[0]-o.Pos[0], p[1]-o.Pos[1]) < worldZoneRadius+o.Size {
				return false
			}
		}
		p[2] = worldCubeSize / 2
		return worldReachableDown(p) && worldReachableDown(p.Add(kin.Vec3{0, 0, worldHover}))
	}, worldFallback(len(specs)))
	w.s.ZoneCentre[2] = 0
	w.s.HeldOffset = kin.Vec3{}
	w.s.Opening = w.s.Gripper
	w.settle()
}

// worldSample draws table points in front of the arm (0.11–0.25 m from the
// pan axis, within ±52° of straight ahead) until ok accepts one, or returns
// fallback after worldMaxTries.
func worldSample(rng *rand.Rand, ok func(kin.Vec3) bool, fallback kin.Vec3) kin.Vec3 {
	for range worldMaxTries {
		r := 0.11 + 0.14*rng.Float64()
		b := (2*rng.Float64() - 1) * 0.9
		p := kin.Vec3{r * math.Cos(b), r * math.Sin(b), 0}
		if ok(p) {
			return p
		}
	}
	return fallback
}

// worldFallback is a fixed layout used only if sampling fails.
func worldFallback(i int) kin.Vec3 {
	spots := [...]kin.Vec3{{0.18, 0.08, 0}, {0.2, -0.02, 0}, {0.16, -0.12, 0}, {0.22, 0.16, 0}}
	return spots[i%len(spots)]
}

// worldReachableDown reports whether the gripper can put its tip at p
// pointing straight down.
func worldReachableDown(p kin.Vec3) bool {
	_, err := kin.IK(p, -math.Pi/2, kin.Joints{})
	return err == nil
}

// MaxOpening returns the gap between the fingertips, in metres, when the
// gripper is fully open (opening fraction 1).
func (w *World) MaxOpening() float64 { return worldMaxOpening() }

// SetJoints moves the arm to q with the gripper open by the fraction
// gripper (0 closed .. 1 fully open, MaxOpening between the fingertips) and
// runs the grasp physics. Non-finite values are ignored (the world keeps
// its previous state).
func (w *World) SetJoints(q kin.Joints, gripper float64) {
	for _, v := range q {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return
		}
	}
	if math.IsNaN(gripper) || math.IsInf(gripper, 0) {
		return
	}
	gripper = math.Max(0, math.Min(1, gripper))
	prevOpening := w.s.Opening
	w.s.Joints = q
	w.s.Gripper = gripper
	w.updateTip()

	if h := w.held(); h >= 0 {
		c := &w.s.Cubes[h]
		width := c.Size / worldMaxOpening()
		if gripper > width+worldOpenEps {
			c.Held = false
			w.s.HeldOffset = kin.Vec3{}
			w.s.Opening = gripper
			w.settle()
			return
		}
		w.s.Opening = width
		c.Pos = w.tip.ToWorld(w.s.HeldOffset)
		c.Pos[2] = math.Max(c.Pos[2], c.Size/2)
		return
	}
	w.s.Opening = gripper
	i := w.between(prevOpening)
	if i < 0 {
		return
	}
	c := &w.s.Cubes[i]
	width := c.Size / worldMaxOpening()
	if gripper > width+worldOpenEps {
		return
	}
	// The fingers close on the cube.
	w.s.Opening = width
	c.Held = true
	w.s.HeldOffset = w.tip.ToLocal(c.Pos)
	w.settle()
}

// updateTip recomputes the tip pose from the joints, lifting it onto the
// table when the joints would put it below.
func (w *World) updateTip() {
	w.tip = kin.FK(w.s.Joints)
	w.s.Contact = w.tip.Pos[2] < 0
	if w.s.Contact {
		w.tip.Pos[2] = 0
	}
}

// held returns the index of the held cube, or -1.
func (w *World) held() int {
	for i, c := range w.s.Cubes {
		if c.Held {
			return i
		}
	}
	return -1
}

// between returns the cube that lies between the fingertips, given the
// opening fraction the fingers had when they got there, or -1. Of several,
// the nearest to the tip wins.
func (w *World) between(opening float64) int {
	best, bestD := -1, math.Inf(1)
	for i, c := range w.s.Cubes {
		if c.Held || opening*worldMaxOpening() < c.Size-worldOpenEps*worldMaxOpening() {
			continue
		}
		d := c.Pos.Sub(w.tip.Pos)
		tol := worldGraspTol * c.Size
		if math.Abs(d[0]) > tol || math.Abs(d[1]) > tol || math.Abs(d[2]) > tol {
			continue
		}
		if n := d.Norm(); n < bestD {
			best, bestD = i, n
		}
	}
	return best
}

// settle lets every cube that is not held fall straight down onto the
// table or onto the highest cube below it whose footprint overlaps its
// own. Cubes are settled from the lowest centre up, so stacks keep their
// order and cubes never end up inside each other.
func (w *World) settle() {
	order := make([]int, 0, len(w.s.Cubes))
	for i, c := range w.s.Cubes {
		if !c.Held {
			order = append(order, i)
		}
	}
	sort.SliceStable(order, func(a, b int) bool {
		return w.s.Cubes[order[a]].Pos[2] < w.s.Cubes[order[b]].Pos[2]
	})
	for k, i := range order {
		c := &w.s.Cubes[i]
		floor := 0.0
		for _, j := range order[:k] {
			o := w.s.Cubes[j]
			if worldOverlapXY(*c, o) {
				floor = math.Max(floor, o.Pos[2]+o.Size/2)
			}
		}
		c.Pos[2] = floor + c.Size/2
	}
}

func worldOverlapXY(a, b Cube) bool {
	h := (a.Size+b.Size)/2 - 1e-9
	return math.Abs(a.Pos[0]-b.Pos[0]) < h && math.Abs(a.Pos[1]-b.Pos[1]) < h
}

// GripperLimit reports whether a cube stops the fingers from closing: if
// one is held or lies between the open fingers, min is its width as an
// opening fraction and blocked is true; otherwise 0, false.
func (w *World) GripperLimit() (min float64, blocked bool) {
	i := w.held()
	if i < 0 {
		i = w.between(w.s.Opening)
	}
	if i < 0 {
		return 0, false
	}
	return w.s.Cubes[i].Size / worldMaxOpening(), true
}

// Tip returns the point between the fingertips (never below the table).
func (w *World) Tip() kin.Vec3 { return w.tip.Pos }

// Contact reports whether the joints would put the tip below the table
// (the tip is shown resting on it instead).
func (w *World) Contact() bool { return w.s.Contact }

// Joints returns the arm's joint angles and the commanded opening fraction.
func (w *World) Joints() (kin.Joints, float64) { return w.s.Joints, w.s.Gripper }

// Opening returns the actual opening fraction of the fingers: the
// commanded one, or the width of the cube they are closed on.
func (w *World) Opening() float64 { return w.s.Opening }

// Cubes returns a copy of the cubes.
func (w *World) Cubes() []Cube { return append([]Cube(nil), w.s.Cubes...) }

// Zone returns the target zone: a disc on the table.
func (w *World) Zone() (centre kin.Vec3, radius float64) { return w.s.ZoneCentre, w.s.ZoneRadius }

// InZone reports whether the named cube rests (not held) with its centre
// over the target zone.
func (w *World) InZone(name string) bool {
	i := w.cubeIndex(name)
	if i < 0 {
		return false
	}
	c := w.s.Cubes[i]
	return !c.Held && math.Hypot(c.Pos[0]-w.s.ZoneCentre[0], c.Pos[1]-w.s.ZoneCentre[1]) <= w.s.ZoneRadius
}

// SetZone moves the target zone; the centre's height is ignored.
func (w *World) SetZone(centre kin.Vec3, radius float64) error {
	if !centre.IsFinite() || !(radius > 0) || math.IsInf(radius, 0) {
		return fmt.Errorf("sim: SetZone(%v, %v): want a finite centre and a positive finite radius", centre, radius)
	}
	centre[2] = 0
	w.s.ZoneCentre, w.s.ZoneRadius = centre, radius
	return nil
}

// errWorldUnknownCube is wrapped by PlaceCube for a name the world lacks.
var errWorldUnknownCube = errors.New("no such cube")

// PlaceCube puts the named cube with its centre at pos; if that is in the
// air (or inside another cube) it falls straight down like a released
// cube. A held cube is let go first.
func (w *World) PlaceCube(name string, pos kin.Vec3) error {
	i := w.cubeIndex(name)
	if i < 0 {
		names := make([]string, len(w.s.Cubes))
		for k, c := range w.s.Cubes {
			names[k] = c.Name
		}
		return fmt.Errorf("sim: PlaceCube(%q): %w; the world has %v", name, errWorldUnknownCube, names)
	}
	if !pos.IsFinite() {
		return fmt.Errorf("sim: PlaceCube(%q, %v): the position must be finite", name, pos)
	}
	c := &w.s.Cubes[i]
	if c.Held {
		c.Held = false
		w.s.HeldOffset = kin.Vec3{}
	}
	c.Pos = pos
	c.Pos[2] = math.Max(pos[2], c.Size/2)
	w.settle()
	return nil
}

func (w *World) cubeIndex(name string) int {
	for i, c := range w.s.Cubes {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// Snapshot returns a copy of the world's state.
func (w *World) Snapshot() WorldState {
	s := w.s
	s.Cubes = w.Cubes()
	return s
}

// Restore sets the world to a state that Snapshot returned.
func (w *World) Restore(s WorldState) {
	w.s = s
	w.s.Cubes = append([]Cube(nil), s.Cubes...)
	w.updateTip()
}
