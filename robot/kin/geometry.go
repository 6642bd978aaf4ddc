package kin

import "math"

// Link geometry of the SO-101 follower, in metres and radians.
//
// Source: Simulation/SO101/so101_new_calib.urdf in TheRobotStudio's
// SO-ARM100 repository (the base_link / shoulder_link / ... version with the
// gripper_frame_link tool frame). The joint origins there, parent frame
// first:
//
//	shoulder_pan   base_link→shoulder_link   xyz  0.0388353  0          0.0624   rpy  π      0          −π
//	shoulder_lift  shoulder→upper_arm        xyz −0.0303992 −0.0182778 −0.0542   rpy −π/2   −π/2        0
//	elbow_flex     upper_arm→lower_arm       xyz −0.11257   −0.028      0        rpy  0      0          π/2
//	wrist_flex     lower_arm→wrist           xyz −0.1349     0.0052     0        rpy  0      0         −π/2
//	wrist_roll     wrist→gripper             xyz  0         −0.0611     0.0181   rpy  π/2    0.0486795  π
//	gripper_frame  gripper→gripper_frame     xyz −0.0079    −0.000218121 −0.0981274 (fixed: the point between the fingertips)
//	gripper (jaw)  gripper→moving_jaw        xyz  0.0202     0.0188    −0.0234  (revolute, −0.174533..1.74533)
//
// Every joint turns about its local z. (The URDF writes π as 3.14159 and
// π/2 as 1.5708 and has CAD noise such as 1.7e-16 or −8.98e-09 m; those are
// taken as exact right angles and zeros here, which moves the tip by less
// than 2 µm.)
//
// Reduction. The shoulder_pan axis points straight down, so a positive pan
// turns the arm towards −y; the other frames put the shoulder_lift,
// elbow_flex and wrist_flex axes all parallel to the arm plane's normal
// (+y at zero pan), and a positive angle about that normal lowers the tip.
// In the arm plane (r forward from the pan axis, z up, n = lateral, to the
// arm's left) the URDF origins at the zero pose become:
//
//	shoulder_lift axis S = (r 0.0303992, z 0.0624+0.0542 = 0.1166), n −0.0182778
//	elbow axis         E = S + (0.028, 0.11257)   upper arm 0.11600 m at 76.03° elevation
//	wrist_flex axis    W = E + (0.1349, 0.0052)   forearm   0.13500 m at 2.21° elevation
//	wrist_roll origin  R = W + 0.0611 along the gripper axis, n +0.0181 (so R sits at n −0.0001778)
//	tip                T = R + 0.0981274 along the gripper axis
//	                         + (−0.0079, −0.000218121) across it, turned by wrist_roll − 0.0486795
//
// The lateral offsets (n) lie along the pitch axes, so they do not change
// the planar geometry; only the tip's small lateral offset shifts the pan
// angle (handled exactly in IK). The base_link origin is taken to lie on
// the table (the base's underside), 0.0388353 m behind the pan axis, so the
// pan axis meets the table at this package's origin.
const (
	panZ      = 0.0624    // top of the base: shoulder_pan joint origin
	shoulderR = 0.0303992 // shoulder_lift axis, forward of the pan axis
	shoulderZ = panZ + 0.0542
	shoulderN = -0.0182778
	upperR    = 0.028 // elbow relative to shoulder at zero
	upperZ    = 0.11257
	foreR     = 0.1349 // wrist_flex relative to elbow at zero
	foreZ     = 0.0052
	wristLen  = 0.0611 // wrist_flex axis to wrist_roll origin, along the gripper axis
	wristN    = 0.0181
	rollTwist = 0.0486795 // wrist_roll origin pitch: the roll zero is turned by this much
	tipX      = -0.0079   // gripper_frame origin in gripper_link: across the gripper axis
	tipY      = -0.000218121
	tipLen    = 0.0981274 // ... and along it (−z of gripper_link)

	// Jaw pivot in gripper_link, for the finger length.
	jawX = 0.0202
	jawZ = -0.0234
)

// Derived planar lengths and zero-pose elevations (TestGeometryConstants
// recomputes them from the origins above).
const (
	upperLen  = 0.11600002112068773  // |S→E| = hypot(upperR, upperZ)
	foreLen   = 0.13500018518505816  // |E→W| = hypot(foreR, foreZ)
	upperElev = 1.3270094336147999   // atan2(upperZ, upperR): elevation of S→E at zero
	foreElev  = 0.038527996842138437 // atan2(foreZ, foreR): elevation of E→W at zero
	gripLen   = wristLen + tipLen    // W to tip, along the gripper axis
)

// Limits returns the joint limits in radians, lower then upper, in the
// order of Joints. They are the <limit> tags of so101_new_calib.urdf.
func Limits() [5][2]float64 {
	return [5][2]float64{
		{-1.91986, 1.91986}, // shoulder_pan
		{-1.74533, 1.74533}, // shoulder_lift
		{-1.69, 1.69},       // elbow_flex
		{-1.65806, 1.65806}, // wrist_flex
		{-2.74385, 2.84121}, // wrist_roll
	}
}

// GripperLimits returns the range of the gripper's moving jaw in radians
// (URDF joint "gripper"; 0 is closed, 1.74533 = 100° wide open).
func GripperLimits() [2]float64 { return [2]float64{-0.174533, 1.74533} }

// JawLength returns the distance in metres from the moving jaw's pivot to
// the point between the fingertips (the URDF jaw origin to the
// gripper_frame origin): about 0.0798 m. The fingertip gap at jaw angle θ
// is about JawLength()·sin θ.
func JawLength() float64 { return math.Hypot(jawX-tipX, jawZ+tipLen) }
