package kin

import (
	"math"
	"math/rand/v2"
	"testing"
)

// urdfJoint is one joint origin of so101_new_calib.urdf, copied verbatim
// (with its 3.14159 and CAD noise) as an independent reference for FK.
type urdfJoint struct{ xyz, rpy [3]float64 }

var urdfChain = [5]urdfJoint{
	{[3]float64{0.0388353, -8.97657e-09, 0.0624}, [3]float64{3.14159, 4.18253e-17, -3.14159}},  // shoulder_pan
	{[3]float64{-0.0303992, -0.0182778, -0.0542}, [3]float64{-1.5708, -1.5708, 0}},             // shoulder_lift
	{[3]float64{-0.11257, -0.028, 1.73763e-16}, [3]float64{-3.63608e-16, 8.74301e-16, 1.5708}}, // elbow_flex
	{[3]float64{-0.1349, 0.0052, 3.62355e-17}, [3]float64{4.02456e-15, 8.67362e-16, -1.5708}},  // wrist_flex
	{[3]float64{5.55112e-17, -0.0611, 0.0181}, [3]float64{1.5708, 0.0486795, 3.14159}},         // wrist_roll
}

var urdfTip = urdfJoint{[3]float64{-0.0079, -0.000218121, -0.0981274}, [3]float64{0, 3.14159, 0}} // gripper_frame_joint

type mat4 [4][4]float64

func (a mat4) mul(b mat4) mat4 {
	var c mat4
	for i := range 4 {
		for j := range 4 {
			for k := range 4 {
				c[i][j] += a[i][k] * b[k][j]
			}
		}
	}
	return c
}

// urdfTransform is the URDF origin transform: translate, then
// R = Rz(yaw)·Ry(pitch)·Rx(roll).
func urdfTransform(j urdfJoint) mat4 {
	sr, cr := math.Sincos(j.rpy[0])
	sp, cp := math.Sincos(j.rpy[1])
	sy, cy := math.Sincos(j.rpy[2])
	return mat4{
		{cy * cp, cy*sp*sr - sy*cr, cy*sp*cr + sy*sr, j.xyz[0]},
		{sy * cp, sy*sp*sr + cy*cr, sy*sp*cr - cy*sr, j.xyz[1]},
		{-sp, cp * sr, cp * cr, j.xyz[2]},
		{0, 0, 0, 1},
	}
}

func rotZ(q float64) mat4 { return urdfTransform(urdfJoint{rpy: [3]float64{0, 0, q}}) }

// urdfFK evaluates the raw URDF chain. It returns the joint origins (in our
// world frame: base_link moved back so the pan axis is at x = 0), the
// gripper_link frame and the tip position.
func urdfFK(q Joints) (origins [5]Vec3, gripper mat4, tip Vec3) {
	t := mat4{{1, 0, 0, -0.0388353}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}}
	for i, j := range urdfChain {
		t = t.mul(urdfTransform(j))
		origins[i] = Vec3{t[0][3], t[1][3], t[2][3]}
		t = t.mul(rotZ(q[i]))
	}
	tt := t.mul(urdfTransform(urdfTip))
	return origins, t, Vec3{tt[0][3], tt[1][3], tt[2][3]}
}

func randJoints(rng *rand.Rand) Joints {
	var q Joints
	for i, l := range Limits() {
		q[i] = l[0] + rng.Float64()*(l[1]-l[0])
	}
	return q
}

func TestGeometryConstants(t *testing.T) {
	tests := []struct {
		name      string
		got, want float64
	}{
		{"upperLen", upperLen, math.Hypot(upperR, upperZ)},
		{"foreLen", foreLen, math.Hypot(foreR, foreZ)},
		{"upperElev", upperElev, math.Atan2(upperZ, upperR)},
		{"foreElev", foreElev, math.Atan2(foreZ, foreR)},
	}
	for _, tc := range tests {
		if math.Abs(tc.got-tc.want) > 1e-15 {
			t.Errorf("%s = %.17g, want %.17g", tc.name, tc.got, tc.want)
		}
	}
}

func TestFKZero(t *testing.T) {
	// At the zero pose the arm plane is the x–z plane, the gripper is level
	// and wrist_roll = 0 sits 0.0486795 rad (the URDF's roll twist) away
	// from the roll that puts the tip offset straight down. From the URDF
	// origins:
	//   x = shoulder 0.0303992 + upper arm 0.028 + forearm 0.1349
	//       + wrist 0.0611 + gripper 0.0981274                 = 0.3525266
	//   y = shoulder −0.0182778 + wrist +0.0181
	//       + (−0.0079·sin(−0.0486795) − 0.000218121·cos(−0.0486795)) ≈ −0.0000112
	//   z = pan 0.0624 + 0.0542 + upper arm 0.11257 + forearm 0.0052
	//       + (−0.0079·cos(−0.0486795) + 0.000218121·sin(−0.0486795)) ≈ 0.2264688
	b := -0.0486795
	want := Vec3{
		0.0303992 + 0.028 + 0.1349 + 0.0611 + 0.0981274,
		-0.0182778 + 0.0181 + (-0.0079*math.Sin(b) - 0.000218121*math.Cos(b)),
		0.0624 + 0.0542 + 0.11257 + 0.0052 + (-0.0079*math.Cos(b) + 0.000218121*math.Sin(b)),
	}
	got := FK(Joints{})
	if got.Pos.Dist(want) > 1e-9 {
		t.Errorf("FK(0).Pos = %v, want %v", got.Pos, want)
	}
	if a := got.Approach(); a.Dist(Vec3{1, 0, 0}) > 1e-12 {
		t.Errorf("FK(0).Approach() = %v, want (1, 0, 0)", a)
	}
	// Hand check of the rounded figures in the comment above.
	if d := got.Pos.Dist(Vec3{0.3525266, -0.0000112, 0.2264688}); d > 1e-7 {
		t.Errorf("FK(0).Pos = %v, %.2g m from the hand-computed (0.3525266, -0.0000112, 0.2264688)", got.Pos, d)
	}
}

// TestFKMatchesURDF checks the reduced planar FK against the raw URDF
// transform chain at random joint angles.
func TestFKMatchesURDF(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		q := randJoints(rng)
		origins, g, tip := urdfFK(q)
		p := FK(q)
		if d := p.Pos.Dist(tip); d > 5e-6 {
			t.Fatalf("FK(%v).Pos = %v, want %v (URDF chain), off by %.2g m", q, p.Pos, tip, d)
		}
		// Approach is −z of gripper_link, opening is its x.
		wantA := Vec3{-g[0][2], -g[1][2], -g[2][2]}
		wantO := Vec3{g[0][0], g[1][0], g[2][0]}
		if d := p.Approach().Dist(wantA); d > 5e-5 {
			t.Fatalf("FK(%v).Approach() = %v, want %v", q, p.Approach(), wantA)
		}
		if d := p.Opening().Dist(wantO); d > 5e-5 {
			t.Fatalf("FK(%v).Opening() = %v, want %v", q, p.Opening(), wantO)
		}
		c := Chain(q)
		for i, idx := range []int{ChainPan, ChainShoulder, ChainElbow, ChainWrist, ChainRoll} {
			if d := c[idx].Dist(origins[i]); d > 5e-6 {
				t.Fatalf("Chain(%v)[%d] = %v, want %v (URDF %s origin)", q, idx, c[idx], origins[i], Names()[i])
			}
		}
		if c[ChainTip] != p.Pos {
			t.Fatalf("Chain(%v)[ChainTip] = %v, want FK %v", q, c[ChainTip], p.Pos)
		}
	}
}

func TestPoseIsRotation(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		q := randJoints(rng)
		p := FK(q)
		for i := range 3 {
			for j := range 3 {
				dot := 0.0
				for k := range 3 {
					dot += p.R[k][i] * p.R[k][j]
				}
				want := 0.0
				if i == j {
					want = 1
				}
				if math.Abs(dot-want) > 1e-12 {
					t.Fatalf("FK(%v).R columns %d·%d = %g, want %g", q, i, j, dot, want)
				}
			}
		}
		v := Vec3{rng.Float64(), rng.Float64(), rng.Float64()}
		if got := p.ToLocal(p.ToWorld(v)); got.Dist(v) > 1e-12 {
			t.Fatalf("ToLocal(ToWorld(%v)) = %v, want %v", v, got, v)
		}
	}
}

func TestNames(t *testing.T) {
	n := Names()
	seen := map[string]bool{}
	for _, s := range n {
		if s == "" || seen[s] {
			t.Errorf("Names() = %v, want six distinct non-empty names", n)
		}
		seen[s] = true
	}
	if n[0] != "shoulder_pan" || n[5] != "gripper" {
		t.Errorf("Names() = %v, want shoulder_pan first and gripper last", n)
	}
}

func TestReach(t *testing.T) {
	lo, hi := Reach()
	if math.Abs(hi-(upperLen+foreLen)) > 1e-12 {
		t.Errorf("Reach() max = %g, want upper arm + forearm %g", hi, upperLen+foreLen)
	}
	if !(lo > 0 && lo < hi) {
		t.Errorf("Reach() = %g, %g, want 0 < min < max", lo, hi)
	}
	// Every posture within the limits keeps the wrist within the reach,
	// and some come close to each end.
	rng := rand.New(rand.NewPCG(5, 6))
	near := [2]float64{math.Inf(1), math.Inf(1)}
	for range 5000 {
		q := randJoints(rng)
		c := Chain(q)
		d := c[ChainWrist].Dist(c[ChainShoulder])
		if d < lo-1e-12 || d > hi+1e-12 {
			t.Fatalf("Chain(%v): wrist %g m from shoulder, outside Reach() [%g, %g]", q, d, lo, hi)
		}
		near[0] = math.Min(near[0], d-lo)
		near[1] = math.Min(near[1], hi-d)
	}
	if near[0] > 0.01 || near[1] > 0.01 {
		t.Errorf("random postures came within %g m of Reach() min and %g m of max, want both < 0.01", near[0], near[1])
	}
}

func TestArmPlane(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for range 200 {
		q := randJoints(rng)
		fwd, left := ArmPlane(q)
		c := Chain(q)
		// The elbow, wrist and shoulder lie in one plane with normal left,
		// and the elbow→wrist link has no lateral component.
		if d := c[ChainWrist].Sub(c[ChainElbow]).Dot(left); math.Abs(d) > 1e-12 {
			t.Fatalf("ArmPlane(%v): elbow→wrist has lateral part %g, want 0", q, d)
		}
		if d := c[ChainShoulder].Dot(fwd); math.Abs(d-shoulderR) > 1e-12 {
			t.Fatalf("ArmPlane(%v): shoulder %g m forward, want %g", q, d, shoulderR)
		}
		if fwd.Cross(left).Dist(Vec3{0, 0, 1}) > 1e-12 {
			t.Fatalf("ArmPlane(%v) = %v, %v: forward×left is not up", q, fwd, left)
		}
	}
	// A positive pan turns the arm to its right (−y), as in the URDF.
	if fwd, _ := ArmPlane(Joints{0.5}); fwd[1] >= 0 {
		t.Errorf("ArmPlane(pan 0.5) forward = %v, want negative y", fwd)
	}
}
