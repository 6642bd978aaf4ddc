package sim

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/pilotkit/pilot/robot/kin"
)

// worldTestIK solves for the tip at p pointing straight down.
func worldTestIK(t testing.TB, p kin.Vec3) kin.Joints {
	t.Helper()
	q, err := kin.IK(p, -math.Pi/2, kin.Joints{})
	if err != nil {
		t.Fatalf("kin.IK(%v, -π/2) error %v", p, err)
	}
	return q
}

func worldTestCube(t testing.TB, w *World, name string) Cube {
	t.Helper()
	for _, c := range w.Cubes() {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no cube %q in %v", name, w.Cubes())
	return Cube{}
}

func TestWorldResetDeterministic(t *testing.T) {
	layouts := map[string]int64{}
	for seed := range int64(30) {
		a, b := NewWorld(), NewWorld()
		a.SetJoints(kin.Joints{0.3, 0.2, 0.1, 0, 0}, 0.5) // arm state must not matter
		a.Reset(seed)
		b.Reset(seed)
		if !reflect.DeepEqual(a.Cubes(), b.Cubes()) {
			t.Fatalf("Reset(%d) cubes = %v and %v, want equal", seed, a.Cubes(), b.Cubes())
		}
		ac, ar := a.Zone()
		bc, br := b.Zone()
		if ac != bc || ar != br {
			t.Fatalf("Reset(%d) zone = %v %v and %v %v, want equal", seed, ac, ar, bc, br)
		}
		key, _ := json.Marshal(a.Snapshot().Cubes)
		if prev, dup := layouts[string(key)]; dup {
			t.Errorf("Reset(%d) gives the same cubes as Reset(%d)", seed, prev)
		}
		layouts[string(key)] = seed
	}
}

func TestWorldResetLayout(t *testing.T) {
	for seed := range int64(200) {
		w := NewWorld()
		w.Reset(seed)
		cubes := w.Cubes()
		if len(cubes) != 3 || cubes[0].Name != "red" || cubes[1].Name != "green" || cubes[2].Name != "blue" {
			t.Fatalf("Reset(%d) cubes = %v, want red, green, blue", seed, cubes)
		}
		for i, c := range cubes {
			if c.Held || c.Size <= 0 || c.Pos[2] != c.Size/2 {
				t.Fatalf("Reset(%d) cube %v: want resting on the table, not held", seed, c)
			}
			// Reachable: gripper straight down at the centre and above it.
			for _, h := range []float64{0, worldHover} {
				if _, err := kin.IK(c.Pos.Add(kin.Vec3{0, 0, h}), -math.Pi/2, kin.Joints{}); err != nil {
					t.Fatalf("Reset(%d) %s cube at %v: IK %g m above it: %v", seed, c.Name, c.Pos, h, err)
				}
			}
			for _, o := range cubes[i+1:] {
				if d := math.Hypot(c.Pos[0]-o.Pos[0], c.Pos[1]-o.Pos[1]); d < worldCubeGap {
					t.Fatalf("Reset(%d): %s and %s %g m apart, want at least %g", seed, c.Name, o.Name, d, worldCubeGap)
				}
			}
		}
		zc, zr := w.Zone()
		if zr != worldZoneRadius || zc[2] != 0 {
			t.Fatalf("Reset(%d) zone = %v, %g, want on the table with radius %g", seed, zc, zr, worldZoneRadius)
		}
		if d := math.Hypot(zc[0]-cubes[0].Pos[0], zc[1]-cubes[0].Pos[1]); d < worldZoneAway {
			t.Fatalf("Reset(%d) zone %g m from the red cube, want at least %g", seed, d, worldZoneAway)
		}
		for _, c := range cubes {
			if w.InZone(c.Name) {
				t.Fatalf("Reset(%d): %s cube starts in the zone", seed, c.Name)
			}
		}
		for _, h := range []float64{0, worldHover} {
			if _, err := kin.IK(kin.Vec3{zc[0], zc[1], worldCubeSize/2 + h}, -math.Pi/2, kin.Joints{}); err != nil {
				t.Fatalf("Reset(%d) zone at %v unreachable %g m above a cube's centre: %v", seed, zc, h, err)
			}
		}
	}
}

// TestWorldScriptedGrasp picks the red cube and puts it in the zone, the way
// a scripted expert would, for both ways the sim may close the gripper: to
// zero (the world stops the fingers) or to the limit GripperLimit reports.
func TestWorldScriptedGrasp(t *testing.T) {
	for _, closeTo := range []string{"zero", "limit"} {
		for seed := range int64(20) {
			w := NewWorld()
			w.Reset(seed)
			red := worldTestCube(t, w, "red")
			above := red.Pos.Add(kin.Vec3{0, 0, worldHover})

			w.SetJoints(worldTestIK(t, above), 1)
			if _, blocked := w.GripperLimit(); blocked {
				t.Fatalf("seed %d: GripperLimit blocked with the tip %g m above the cube", seed, worldHover)
			}
			w.SetJoints(worldTestIK(t, red.Pos), 1)
			if d := w.Tip().Dist(red.Pos); d > 1e-6 {
				t.Fatalf("seed %d: Tip() = %v, want the cube centre %v", seed, w.Tip(), red.Pos)
			}
			lim, blocked := w.GripperLimit()
			wantLim := red.Size / w.MaxOpening()
			if !blocked || math.Abs(lim-wantLim) > 1e-12 {
				t.Fatalf("seed %d: GripperLimit() = %g, %v, want %g, true", seed, lim, blocked, wantLim)
			}
			g := 0.0
			if closeTo == "limit" {
				g = lim
			}
			w.SetJoints(worldTestIK(t, red.Pos), g)
			if c := worldTestCube(t, w, "red"); !c.Held {
				t.Fatalf("seed %d, close to %s: red cube not held after closing", seed, closeTo)
			}
			if w.Opening() != wantLim {
				t.Fatalf("seed %d: Opening() = %g, want the cube width %g", seed, w.Opening(), wantLim)
			}
			if lim2, blocked2 := w.GripperLimit(); !blocked2 || lim2 != lim {
				t.Fatalf("seed %d: GripperLimit() while holding = %g, %v, want %g, true", seed, lim2, blocked2, lim)
			}

			// Lift: the cube follows the tip.
			w.SetJoints(worldTestIK(t, above), g)
			if c := worldTestCube(t, w, "red"); c.Pos.Dist(above) > 1e-6 || !c.Held {
				t.Fatalf("seed %d: lifted cube at %v (held %v), want %v", seed, c.Pos, c.Held, above)
			}
			// Carry to the zone, lower to just above the table, open.
			zc, _ := w.Zone()
			drop := kin.Vec3{zc[0], zc[1], red.Size/2 + 0.01}
			w.SetJoints(worldTestIK(t, drop.Add(kin.Vec3{0, 0, worldHover - 0.01})), g)
			w.SetJoints(worldTestIK(t, drop), g)
			if c := worldTestCube(t, w, "red"); c.Pos.Dist(drop) > 1e-6 {
				t.Fatalf("seed %d: carried cube at %v, want %v", seed, c.Pos, drop)
			}
			w.SetJoints(worldTestIK(t, drop), 1)
			c := worldTestCube(t, w, "red")
			want := kin.Vec3{zc[0], zc[1], red.Size / 2}
			if c.Held || c.Pos.Dist(want) > 1e-6 {
				t.Fatalf("seed %d: released cube = %+v, want resting at %v", seed, c, want)
			}
			if !w.InZone("red") {
				t.Fatalf("seed %d: InZone(red) = false with the cube at %v, zone %v", seed, c.Pos, zc)
			}
		}
	}
}

func TestWorldClosedFingersDoNotGrasp(t *testing.T) {
	w := NewWorld()
	w.Reset(1)
	red := worldTestCube(t, w, "red")
	q := worldTestIK(t, red.Pos)
	w.SetJoints(worldTestIK(t, red.Pos.Add(kin.Vec3{0, 0, worldHover})), 0)
	w.SetJoints(q, 0) // arrive closed: the cube is not between the fingers
	if _, blocked := w.GripperLimit(); blocked {
		t.Errorf("GripperLimit() blocked after arriving with closed fingers")
	}
	w.SetJoints(q, 0)
	if worldTestCube(t, w, "red").Held {
		t.Errorf("cube held after closing fingers that were never open around it")
	}
	// Opening narrower than the cube still does not fit around it.
	w.SetJoints(q, 0.5*red.Size/w.MaxOpening())
	if _, blocked := w.GripperLimit(); blocked {
		t.Errorf("GripperLimit() blocked with the fingers opened to half the cube's width")
	}
}

func TestWorldReleaseStacks(t *testing.T) {
	w := NewWorld()
	w.Reset(2)
	red, green := worldTestCube(t, w, "red"), worldTestCube(t, w, "green")
	w.SetJoints(worldTestIK(t, red.Pos), 1)
	w.SetJoints(worldTestIK(t, red.Pos), 0)
	over := green.Pos.Add(kin.Vec3{0.004, -0.003, 0.03})
	w.SetJoints(worldTestIK(t, over), 0)
	w.SetJoints(worldTestIK(t, over), 1)
	got := worldTestCube(t, w, "red")
	want := kin.Vec3{over[0], over[1], green.Size + red.Size/2}
	if got.Held || got.Pos.Dist(want) > 1e-9 {
		t.Fatalf("red released over green = %+v, want resting on it at %v", got, want)
	}
	// Picking up the bottom cube lets the top one fall to the table.
	w.SetJoints(worldTestIK(t, green.Pos.Add(kin.Vec3{0, 0, worldHover})), 1)
	if err := w.PlaceCube("red", kin.Vec3{0.3, 0.3, 0.2}); err != nil {
		t.Fatal(err)
	}
	if err := w.PlaceCube("red", green.Pos.Add(kin.Vec3{0, 0, 0.1})); err != nil {
		t.Fatal(err)
	}
	if got := worldTestCube(t, w, "red"); math.Abs(got.Pos[2]-(green.Size+red.Size/2)) > 1e-12 {
		t.Fatalf("PlaceCube(red above green) = %v, want on top of green", got.Pos)
	}
	w.SetJoints(worldTestIK(t, green.Pos), 1)
	w.SetJoints(worldTestIK(t, green.Pos), 0)
	if !worldTestCube(t, w, "green").Held {
		t.Fatalf("green not held")
	}
	if got := worldTestCube(t, w, "red"); math.Abs(got.Pos[2]-red.Size/2) > 1e-12 {
		t.Fatalf("red on top of the picked green = %v, want fallen to the table", got.Pos)
	}
}

func TestWorldTipContact(t *testing.T) {
	w := NewWorld()
	w.Reset(3)
	red := worldTestCube(t, w, "red")
	w.SetJoints(worldTestIK(t, red.Pos), 1)
	w.SetJoints(worldTestIK(t, red.Pos), 0)
	// Push the tip 2 cm below the table.
	under := kin.Vec3{red.Pos[0], red.Pos[1], -0.02}
	q, err := kin.IK(under, -math.Pi/2, kin.Joints{})
	if err != nil {
		t.Fatalf("kin.IK(%v) error %v", under, err)
	}
	w.SetJoints(q, 0)
	if !w.Contact() {
		t.Errorf("Contact() = false with the joints putting the tip at %v", kin.FK(q).Pos)
	}
	if tip := w.Tip(); tip[2] != 0 {
		t.Errorf("Tip() = %v, want it on the table", tip)
	}
	for _, c := range w.Cubes() {
		if c.Pos[2] < c.Size/2-1e-12 {
			t.Errorf("cube %s at %v, below the table", c.Name, c.Pos)
		}
	}
	w.SetJoints(worldTestIK(t, red.Pos), 0)
	if w.Contact() {
		t.Errorf("Contact() = true after lifting the tip back to %v", w.Tip())
	}
}

func TestWorldIgnoresNonFinite(t *testing.T) {
	w := NewWorld()
	before := w.Snapshot()
	w.SetJoints(kin.Joints{math.NaN()}, 0.5)
	w.SetJoints(kin.Joints{}, math.Inf(1))
	if after := w.Snapshot(); !reflect.DeepEqual(before, after) {
		t.Errorf("SetJoints with NaN/Inf changed the state: %+v, want %+v", after, before)
	}
}

func TestWorldSnapshotRestore(t *testing.T) {
	w := NewWorld()
	w.Reset(4)
	red := worldTestCube(t, w, "red")
	w.SetJoints(worldTestIK(t, red.Pos), 1)
	w.SetJoints(worldTestIK(t, red.Pos), 0)
	w.SetJoints(worldTestIK(t, red.Pos.Add(kin.Vec3{0, 0, 0.03})), 0)
	snap := w.Snapshot()
	data, err := json.Marshal(snap)
	if err != nil {
		t.Fatalf("json.Marshal(Snapshot()) error %v", err)
	}
	tip := w.Tip()

	// Changing the world, or the slice a snapshot returned, leaves the
	// snapshot alone.
	w.SetJoints(kin.Joints{}, 1)
	w.Reset(5)
	snap.Cubes[0].Name = "changed"
	snap.Cubes[0].Name = "red"

	var back WorldState
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatalf("json.Unmarshal error %v", err)
	}
	w.Restore(back)
	if got := w.Snapshot(); !reflect.DeepEqual(got, snap) {
		t.Fatalf("Restore(Snapshot()) = %+v, want %+v", got, snap)
	}
	if w.Tip() != tip {
		t.Errorf("Tip() after Restore = %v, want %v", w.Tip(), tip)
	}
	if !worldTestCube(t, w, "red").Held {
		t.Errorf("red not held after Restore")
	}
	// The world goes on from the restored state: opening drops the cube.
	w.SetJoints(w.Snapshot().Joints, 1)
	if c := worldTestCube(t, w, "red"); c.Held || math.Abs(c.Pos[2]-c.Size/2) > 1e-12 {
		t.Errorf("after Restore and opening, red = %+v, want resting on the table", c)
	}
	cubes := w.Cubes()
	cubes[0].Pos = kin.Vec3{9, 9, 9}
	if worldTestCube(t, w, "red").Pos == cubes[0].Pos {
		t.Errorf("Cubes() returned the world's own slice, want a copy")
	}
}

func TestWorldPlaceCubeAndZoneErrors(t *testing.T) {
	w := NewWorld()
	if err := w.PlaceCube("purple", kin.Vec3{0.2, 0, 0}); !errors.Is(err, errWorldUnknownCube) {
		t.Errorf("PlaceCube(purple) error %v, want errWorldUnknownCube", err)
	}
	if err := w.PlaceCube("red", kin.Vec3{math.NaN(), 0, 0}); err == nil {
		t.Errorf("PlaceCube(red, NaN) error nil, want an error")
	}
	if err := w.PlaceCube("red", kin.Vec3{0.2, 0.1, -0.3}); err != nil {
		t.Errorf("PlaceCube(red, below the table) error %v", err)
	}
	if c := worldTestCube(t, w, "red"); c.Pos != (kin.Vec3{0.2, 0.1, c.Size / 2}) {
		t.Errorf("PlaceCube(red, below the table) put it at %v, want on the table", c.Pos)
	}
	tests := []struct {
		centre kin.Vec3
		radius float64
	}{
		{kin.Vec3{0.2, 0, 0}, 0},
		{kin.Vec3{0.2, 0, 0}, -1},
		{kin.Vec3{0.2, 0, 0}, math.NaN()},
		{kin.Vec3{0.2, 0, 0}, math.Inf(1)},
		{kin.Vec3{math.Inf(-1), 0, 0}, 0.04},
	}
	for _, tc := range tests {
		if err := w.SetZone(tc.centre, tc.radius); err == nil {
			t.Errorf("SetZone(%v, %g) error nil, want an error", tc.centre, tc.radius)
		}
	}
	if err := w.SetZone(kin.Vec3{0.2, 0.1, 0.3}, 0.05); err != nil {
		t.Fatalf("SetZone error %v", err)
	}
	if c, r := w.Zone(); c != (kin.Vec3{0.2, 0.1, 0}) || r != 0.05 {
		t.Errorf("Zone() = %v, %g, want (0.2, 0.1, 0), 0.05", c, r)
	}
	if !w.InZone("red") || w.InZone("green") || w.InZone("purple") {
		t.Errorf("InZone red/green/purple = %v/%v/%v, want true/false/false", w.InZone("red"), w.InZone("green"), w.InZone("purple"))
	}
}

// worldCheckInvariants fails if cubes are below the table or inside each
// other, or more than one is held.
func worldCheckInvariants(t *testing.T, w *World) {
	t.Helper()
	held := 0
	cubes := w.Cubes()
	for i, c := range cubes {
		if c.Pos[2] < c.Size/2-1e-9 {
			t.Fatalf("cube %s at %v is below the table", c.Name, c.Pos)
		}
		if c.Held {
			held++
			continue
		}
		for _, o := range cubes[i+1:] {
			if o.Held || !worldOverlapXY(c, o) {
				continue
			}
			if math.Abs(c.Pos[2]-o.Pos[2]) < (c.Size+o.Size)/2-1e-9 {
				t.Fatalf("cubes %s %v and %s %v overlap", c.Name, c.Pos, o.Name, o.Pos)
			}
		}
	}
	if held > 1 {
		t.Fatalf("%d cubes held", held)
	}
	if w.Tip()[2] < 0 {
		t.Fatalf("Tip() = %v, below the table", w.Tip())
	}
}

// FuzzWorld drives a world with arbitrary operations and checks that it
// never panics and keeps its invariants.
func FuzzWorld(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20})
	f.Add([]byte("grasp the red cube and drop it on the green one, then again"))
	f.Add(make([]byte, 64))
	f.Fuzz(func(t *testing.T, data []byte) {
		w := NewWorld()
		w.Reset(int64(len(data)))
		names := [...]string{"red", "green", "blue", "none"}
		next := func() float64 {
			if len(data) < 2 {
				return 0
			}
			v := float64(binary.LittleEndian.Uint16(data)) / 65535
			data = data[2:]
			return v
		}
		for steps := 0; len(data) > 0 && steps < 200; steps++ {
			op := data[0] % 5
			data = data[1:]
			switch op {
			case 0: // move towards a cube and set the gripper
				c := w.Cubes()[int(next()*2.99)]
				p := c.Pos.Add(kin.Vec3{0.02 * (next() - 0.5), 0.02 * (next() - 0.5), 0.06*next() - 0.01})
				if q, err := kin.IK(p, -math.Pi/2, kin.Joints{}); err == nil {
					w.SetJoints(q, next())
				}
			case 1: // arbitrary joints, even outside the limits
				var q kin.Joints
				for i := range q {
					q[i] = (next() - 0.5) * 8
				}
				w.SetJoints(q, next()*1.4-0.2)
			case 2:
				_ = w.PlaceCube(names[int(next()*3.99)], kin.Vec3{next()*0.6 - 0.3, next()*0.6 - 0.3, next()*0.2 - 0.05})
			case 3:
				s := w.Snapshot()
				w.Reset(int64(next() * 100))
				w.Restore(s)
			case 4:
				w.GripperLimit()
				_ = w.SetZone(kin.Vec3{next(), next(), 0}, next())
			}
			worldCheckInvariants(t, w)
		}
	})
}
