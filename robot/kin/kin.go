package kin

import "math"

// Joints are the five arm joint angles in radians, in the order of Names:
// shoulder_pan, shoulder_lift, elbow_flex, wrist_flex, wrist_roll. Zero is
// the calibration middle pose (the URDF zero of so101_new_calib).
type Joints [5]float64

// Pose is a position and an orientation.
//
// For the gripper tip (FK), Pos is the point between the fingertips and the
// columns of R are, in world coordinates: the approach direction (from the
// wrist towards the fingertips), the opening direction (from the fixed
// finger towards the moving jaw) and their cross product.
type Pose struct {
	Pos Vec3
	R   [3][3]float64
}

// Approach returns the first column of R: where the gripper points.
func (p Pose) Approach() Vec3 { return Vec3{p.R[0][0], p.R[1][0], p.R[2][0]} }

// Opening returns the second column of R: the direction in which the
// fingers open.
func (p Pose) Opening() Vec3 { return Vec3{p.R[0][1], p.R[1][1], p.R[2][1]} }

// ToWorld maps a point given in the pose's frame to world coordinates.
func (p Pose) ToWorld(local Vec3) Vec3 { return p.Pos.Add(mulMat(p.R, local)) }

// ToLocal maps a world point into the pose's frame; the inverse of ToWorld.
func (p Pose) ToLocal(world Vec3) Vec3 {
	d := world.Sub(p.Pos)
	return Vec3{
		p.R[0][0]*d[0] + p.R[1][0]*d[1] + p.R[2][0]*d[2],
		p.R[0][1]*d[0] + p.R[1][1]*d[1] + p.R[2][1]*d[2],
		p.R[0][2]*d[0] + p.R[1][2]*d[1] + p.R[2][2]*d[2],
	}
}

// Names returns the motor names of the SO-101 follower as LeRobot and the
// URDF call them: the five arm joints of Joints, then the gripper.
func Names() [6]string {
	return [6]string{"shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll", "gripper"}
}

// Indices into the slice that Chain returns.
const (
	ChainBase     = iota // on the table under the pan axis
	ChainPan             // top of the base, on the pan axis
	ChainShoulder        // shoulder_lift axis
	ChainElbow           // elbow_flex axis
	ChainWrist           // wrist_flex axis
	ChainRoll            // wrist_roll joint origin (the gripper's back)
	ChainTip             // the point between the fingertips
	chainLen
)

// armFrame is the vertical plane of the arm: e_r forward in it, e_n to its
// left (along the pitch axes), z up.
type armFrame struct{ er, en Vec3 }

func newArmFrame(pan float64) armFrame {
	// The pan axis points down (URDF rpy π,0,−π), so the arm's azimuth is −pan.
	s, c := math.Sincos(-pan)
	return armFrame{er: Vec3{c, s, 0}, en: Vec3{-s, c, 0}}
}

// at maps arm-plane coordinates (r, n, z) to the world.
func (f armFrame) at(r, n, z float64) Vec3 {
	return f.er.Scale(r).Add(f.en.Scale(n)).Add(Vec3{0, 0, z})
}

// tipCross returns the tip's offset across the gripper axis for a wrist
// roll: u along the arm-plane direction perpendicular to the gripper axis
// (up when the gripper is level) and n along the pitch axis.
func tipCross(roll float64) (u, n float64) {
	s, c := math.Sincos(roll - rollTwist)
	return tipX*c - tipY*s, tipX*s + tipY*c
}

// FK returns the pose of the gripper tip (the point between the
// fingertips) for joint angles q. It is the URDF chain, evaluated in the
// reduced planar form documented in geometry.go.
func FK(q Joints) Pose {
	pts, pose := chain(q)
	pose.Pos = pts[ChainTip]
	return pose
}

// Chain returns the points of the arm for drawing, indexed by the Chain*
// constants: base, top of the base, shoulder, elbow, wrist, wrist roll, tip.
func Chain(q Joints) []Vec3 {
	pts, _ := chain(q)
	return pts[:]
}

func chain(q Joints) ([chainLen]Vec3, Pose) {
	f := newArmFrame(q[0])
	a1 := upperElev - q[1]
	a2 := foreElev - q[1] - q[2]
	phi := -(q[1] + q[2] + q[3]) // gripper axis elevation
	er := shoulderR + upperLen*math.Cos(a1)
	ez := shoulderZ + upperLen*math.Sin(a1)
	wr := er + foreLen*math.Cos(a2)
	wz := ez + foreLen*math.Sin(a2)
	sp, cp := math.Sincos(phi)
	// Unit vectors in the arm plane: d along the gripper axis, u across it.
	dr, dz := cp, sp
	ur, uz := -sp, cp
	cu, cn := tipCross(q[4])
	rollN := shoulderN + wristN

	var pts [chainLen]Vec3
	pts[ChainBase] = Vec3{}
	pts[ChainPan] = Vec3{0, 0, panZ}
	pts[ChainShoulder] = f.at(shoulderR, shoulderN, shoulderZ)
	pts[ChainElbow] = f.at(er, shoulderN, ez)
	pts[ChainWrist] = f.at(wr, shoulderN, wz)
	pts[ChainRoll] = f.at(wr+wristLen*dr, rollN, wz+wristLen*dz)
	pts[ChainTip] = f.at(wr+gripLen*dr+cu*ur, rollN+cn, wz+gripLen*dz+cu*uz)

	approach := f.at(dr, 0, dz)
	u := f.at(ur, 0, uz)
	// The opening direction is gripper_link's x axis: u turned about the
	// gripper axis by roll − twist, towards the arm's left.
	so, co := math.Sincos(q[4] - rollTwist)
	open := u.Scale(co).Add(f.en.Scale(so))
	third := approach.Cross(open)
	var p Pose
	for i := range 3 {
		p.R[i][0], p.R[i][1], p.R[i][2] = approach[i], open[i], third[i]
	}
	return pts, p
}

// ArmPlane returns the horizontal unit vectors of the arm's vertical plane
// for joints q: forward (from the pan axis towards the arm) and left (along
// the shoulder, elbow and wrist axes). Only shoulder_pan matters.
func ArmPlane(q Joints) (forward, left Vec3) {
	f := newArmFrame(q[0])
	return f.er, f.en
}
