package kin

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func withinLimits(q Joints) bool {
	for i, l := range Limits() {
		if !(q[i] >= l[0] && q[i] <= l[1]) {
			return false
		}
	}
	return true
}

// TestIKRoundTrip: FK(IK(p)) == p for points that some posture within the
// limits reaches, with the pitch and wrist roll of that posture.
func TestIKRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for range 5000 {
		q := randJoints(rng)
		p := FK(q).Pos
		pitch := wrapAngle(-(q[1] + q[2] + q[3]))
		seed := randJoints(rng)
		seed[4] = q[4]
		got, err := IK(p, pitch, seed)
		if err != nil {
			t.Fatalf("IK(%v, %g, %v) error %v, want the solution near %v", p, pitch, seed, err, q)
		}
		if !withinLimits(got) {
			t.Fatalf("IK(%v, %g) = %v, outside Limits %v", p, pitch, got, Limits())
		}
		if d := FK(got).Pos.Dist(p); d > 1e-6 {
			t.Fatalf("FK(IK(%v, %g)) = %v, %.2g m off, want within 1e-6", p, pitch, FK(got).Pos, d)
		}
		if d := math.Abs(wrapAngle(-(got[1] + got[2] + got[3]) - pitch)); d > 1e-9 {
			t.Fatalf("IK(%v, %g) = %v with pitch %g, want %g", p, pitch, got, -(got[1] + got[2] + got[3]), pitch)
		}
		if got[4] != q[4] {
			t.Fatalf("IK(...).wrist_roll = %g, want the seed's %g", got[4], q[4])
		}
	}
}

// TestIKPointingDown covers the case pick-and-place uses: points on a grid
// over the table, gripper straight down.
func TestIKPointingDown(t *testing.T) {
	n := 0
	for x := 0.08; x <= 0.30; x += 0.02 {
		for y := -0.25; y <= 0.25; y += 0.025 {
			for _, z := range []float64{0.0125, 0.05, 0.1} {
				p := Vec3{x, y, z}
				q, err := IK(p, -math.Pi/2, Joints{})
				if err != nil {
					if !errors.Is(err, ErrUnreachable) {
						t.Fatalf("IK(%v, -π/2) error %v, want nil or ErrUnreachable", p, err)
					}
					continue
				}
				n++
				if d := FK(q).Pos.Dist(p); d > 1e-6 || !withinLimits(q) {
					t.Fatalf("IK(%v, -π/2) = %v: FK %v (%.2g m off), within limits %v", p, q, FK(q).Pos, d, withinLimits(q))
				}
				if a := FK(q).Approach(); a.Dist(Vec3{0, 0, -1}) > 1e-9 {
					t.Fatalf("IK(%v, -π/2) = %v points %v, want (0, 0, -1)", p, q, a)
				}
			}
		}
	}
	if n < 200 {
		t.Errorf("IK pointing down reached %d grid points, want at least 200", n)
	}
	// The workspace a pick task needs is inside: 0.12–0.25 m ahead at table height.
	for _, p := range []Vec3{{0.12, 0, 0.0125}, {0.25, 0, 0.0125}, {0.15, 0.15, 0.0125}, {0.15, -0.15, 0.0125}} {
		if _, err := IK(p, -math.Pi/2, Joints{}); err != nil {
			t.Errorf("IK(%v, -π/2) error %v, want a solution", p, err)
		}
	}
}

// TestIKSeedPicksNearest: seeded with a posture that reaches the target,
// IK returns that posture (of the up to four, it is the nearest).
func TestIKSeedPicksNearest(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for range 1000 {
		q := randJoints(rng)
		got, err := IK(FK(q).Pos, wrapAngle(-(q[1] + q[2] + q[3])), q)
		if err != nil {
			t.Fatalf("IK(FK(%v)) error %v", q, err)
		}
		for i := range q {
			if math.Abs(got[i]-q[i]) > 1e-9 {
				t.Fatalf("IK(FK(q), pitch, seed q) = %v, want q = %v", got, q)
			}
		}
	}
}

func TestIKUnreachable(t *testing.T) {
	tests := []struct {
		name      string
		target    Vec3
		pitch     float64
		wantJoint string // "" when the distance alone rules it out
	}{
		{"far ahead", Vec3{0.6, 0, 0.1}, -math.Pi / 2, ""},
		{"beyond down reach", Vec3{0.28, 0, 0.02}, -math.Pi / 2, ""},
		{"high above", Vec3{0.1, 0, 0.9}, 0, ""},
		{"pointing up from low", Vec3{0.2, 0, 0.05}, math.Pi / 2, ""},
		{"too close to the shoulder", Vec3{0.2, 0, 0.1}, 0, ""},
		{"behind, past the pan limit", Vec3{-0.1, -0.2, 0.02}, -math.Pi / 2, "shoulder_pan"},
		{"behind, past the elbow limit", Vec3{-0.2, 0, 0.02}, -math.Pi / 2, "elbow_flex"},
		{"far below the table", Vec3{0.2, 0, -1}, -math.Pi / 2, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := IK(tc.target, tc.pitch, Joints{})
			if !errors.Is(err, ErrUnreachable) {
				t.Fatalf("IK(%v, %g) = %v, %v, want ErrUnreachable", tc.target, tc.pitch, q, err)
			}
			var ue *UnreachableError
			if !errors.As(err, &ue) {
				t.Fatalf("IK(%v, %g) error %T, want *UnreachableError", tc.target, tc.pitch, err)
			}
			if ue.Joint != tc.wantJoint {
				t.Errorf("IK(%v, %g) blocked by %q, want %q (%v)", tc.target, tc.pitch, ue.Joint, tc.wantJoint, err)
			}
			lo, hi := Reach()
			if ue.Min != lo || ue.Max != hi || !strings.Contains(err.Error(), "reach") {
				t.Errorf("IK(%v, %g) error %q, want it to give the reach %.3f–%.3f", tc.target, tc.pitch, err, lo, hi)
			}
			if tc.wantJoint == "" && ue.Dist >= lo && ue.Dist <= hi {
				t.Errorf("IK(%v, %g): Dist %g within reach [%g, %g], want outside", tc.target, tc.pitch, ue.Dist, lo, hi)
			}
		})
	}
}

func TestIKInvalid(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	tests := []struct {
		target Vec3
		pitch  float64
	}{
		{Vec3{nan, 0, 0}, 0},
		{Vec3{0.2, inf, 0}, 0},
		{Vec3{0.2, 0, 0.1}, nan},
		{Vec3{0.2, 0, 0.1}, -inf},
	}
	for _, tc := range tests {
		if _, err := IK(tc.target, tc.pitch, Joints{}); !errors.Is(err, ErrInvalid) {
			t.Errorf("IK(%v, %g) error %v, want ErrInvalid", tc.target, tc.pitch, err)
		}
	}
	// A non-finite seed is ignored, not an error.
	q, err := IK(Vec3{0.2, 0, 0.05}, -math.Pi/2, Joints{nan, inf, 0, 0, nan})
	if err != nil || !withinLimits(q) {
		t.Errorf("IK with a NaN seed = %v, %v, want a solution within limits", q, err)
	}
}

func FuzzIK(f *testing.F) {
	f.Add(0.2, 0.0, 0.05, -math.Pi/2, 0.0, 0.0)
	f.Add(0.35, 0.0, 0.22, 0.0, 0.0, 0.3)
	f.Add(0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
	f.Add(-0.2, 0.1, 0.3, 3.0, 1.0, -2.0)
	f.Add(1e300, -1e300, 1e-300, 1e10, 5.0, 9.0)
	f.Add(0.0, -0.0001778, 0.3, -1.0, 0.0, 0.0)
	f.Fuzz(func(t *testing.T, x, y, z, pitch, seedLift, seedRoll float64) {
		target := Vec3{x, y, z}
		seed := Joints{0, seedLift, 0, 0, seedRoll}
		q, err := IK(target, pitch, seed)
		if err != nil {
			if !errors.Is(err, ErrUnreachable) && !errors.Is(err, ErrInvalid) {
				t.Fatalf("IK(%v, %g) error %v, want ErrUnreachable or ErrInvalid", target, pitch, err)
			}
			if err.Error() == "" {
				t.Fatalf("IK(%v, %g): empty error message", target, pitch)
			}
			return
		}
		if !withinLimits(q) {
			t.Fatalf("IK(%v, %g) = %v, outside Limits", target, pitch, q)
		}
		if d := FK(q).Pos.Dist(target); d > 1e-6 {
			t.Fatalf("FK(IK(%v, %g)) = %v, %.2g m off", target, pitch, FK(q).Pos, d)
		}
		if a := FK(q).Approach(); math.Abs(a[2]-math.Sin(pitch)) > 1e-6 {
			t.Fatalf("IK(%v, %g) = %v points %v, want elevation sin %g", target, pitch, q, a, math.Sin(pitch))
		}
	})
}
