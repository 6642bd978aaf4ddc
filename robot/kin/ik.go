package kin

import (
	"errors"
	"fmt"
	"math"
)

// ErrUnreachable is the error that IK wraps when no joint angles within
// Limits put the tip at the target with the requested pitch.
var ErrUnreachable = errors.New("kin: target unreachable")

// ErrInvalid is the error that IK wraps when the target, pitch or seed is
// not finite.
var ErrInvalid = errors.New("kin: invalid IK input")

// UnreachableError tells why IK found no solution. errors.Is(err,
// ErrUnreachable) holds for it.
type UnreachableError struct {
	Target Vec3
	Pitch  float64
	// Dist is the distance from the shoulder_lift axis to the wrist_flex
	// axis that the target needs (the smallest over the candidate arm
	// postures); Min and Max are Reach().
	Dist, Min, Max float64
	// Joint is set when the distance is within reach but a joint limit
	// forbids every posture: the joint of the closest posture, its angle
	// and its limits.
	Joint string
	Angle float64
	Limit [2]float64
}

func (e *UnreachableError) Error() string {
	head := fmt.Sprintf("kin: IK to (%.3f, %.3f, %.3f) m with pitch %.1f°", e.Target[0], e.Target[1], e.Target[2], e.Pitch*180/math.Pi)
	if e.Joint != "" {
		return fmt.Sprintf("%s: %s would be %.3f rad, outside its limits [%.3f, %.3f] (wrist %.3f m from the shoulder, reach %.3f–%.3f m); try another pitch or a target nearer the middle of the workspace",
			head, e.Joint, e.Angle, e.Limit[0], e.Limit[1], e.Dist, e.Min, e.Max)
	}
	return fmt.Sprintf("%s: the wrist would be %.3f m from the shoulder, reach is %.3f–%.3f m; move the target or change the pitch",
		head, e.Dist, e.Min, e.Max)
}

// Unwrap returns ErrUnreachable.
func (e *UnreachableError) Unwrap() error { return ErrUnreachable }

// Reach returns the smallest and largest distance from the shoulder_lift
// axis to the wrist_flex axis that the upper arm and forearm can span
// within the elbow_flex limits. The gripper adds GripLength beyond the
// wrist.
func Reach() (min, max float64) {
	lim := Limits()[2]
	// The span depends on the angle between the links, rel = δ0 − q2: it
	// is largest at rel = 0 and shrinks monotonically away from it.
	lo, hi := elbowRel(lim[1]), elbowRel(lim[0])
	a, b := linkSpan(lo), linkSpan(hi)
	min, max = math.Min(a, b), math.Max(a, b)
	if lo <= 0 && hi >= 0 {
		max = linkSpan(0)
	}
	return min, max
}

// GripLength returns the distance in metres from the wrist_flex axis to the
// tip along the gripper axis.
func GripLength() float64 { return gripLen }

// elbowRel is the angle from the upper arm to the forearm for an elbow_flex
// angle.
func elbowRel(q2 float64) float64 { return foreElev - upperElev - q2 }

func linkSpan(rel float64) float64 {
	return math.Sqrt(upperLen*upperLen + foreLen*foreLen + 2*upperLen*foreLen*math.Cos(rel))
}

// IK returns joint angles that put the gripper tip at target with the
// gripper axis at pitch radians from horizontal (−π/2 points straight
// down, 0 level, positive up). wrist_roll is taken from seed (clamped to
// its limits), since it turns the fingers without moving the tip much; the
// tip's small offset from the roll axis is accounted for exactly.
//
// The solution is analytic: the pan angle from the target's bearing, then
// the wrist_flex axis placed back from the target along the pitch, then a
// two-link solve for shoulder_lift and elbow_flex, and wrist_flex taking up
// the remaining pitch. Of the up to four postures (reaching forward or
// over the back, elbow up or down) those within Limits are kept and the
// one nearest seed is returned. Otherwise the error wraps ErrUnreachable
// (an *UnreachableError) or ErrInvalid.
func IK(target Vec3, pitch float64, seed Joints) (Joints, error) {
	if !target.IsFinite() || math.IsNaN(pitch) || math.IsInf(pitch, 0) {
		return Joints{}, fmt.Errorf("%w: target %v, pitch %v must be finite", ErrInvalid, target, pitch)
	}
	lim := Limits()
	roll := seed[4]
	if math.IsNaN(roll) || math.IsInf(roll, 0) {
		roll = 0
	}
	roll = math.Max(lim[4][0], math.Min(lim[4][1], roll))
	cu, cn := tipCross(roll)
	nTip := shoulderN + wristN + cn // the tip's lateral offset from the pan axis plane

	rmin, rmax := Reach()
	best := Joints{}
	bestCost := math.Inf(1)
	found := false
	ue := &UnreachableError{Target: target, Pitch: pitch, Dist: math.Inf(1), Min: rmin, Max: rmax}
	worst := math.Inf(1) // smallest limit violation seen, for the error

	// Horizontally the tip sits r ahead of the pan axis in the arm plane
	// and nTip to its side, so r² = x² + y² − nTip². A target closer to the
	// axis than nTip (0.2 mm) has no bearing; it is still measured below.
	h2 := target[0]*target[0] + target[1]*target[1] - nTip*nTip
	noBearing := h2 < 0
	h2 = math.Max(h2, 0)
	sp, cp := math.Sincos(pitch)
	phi := math.Atan2(sp, cp) // pitch reduced to (−π, π] without losing precision
	bearing := math.Atan2(target[1], target[0])
	for _, rs := range [2]float64{1, -1} {
		r := rs * math.Sqrt(h2)
		psi := bearing - math.Atan2(nTip, r)
		q0 := wrapAngle(-psi)
		// Wrist axis in the arm plane, back from the tip along the gripper.
		wr := r - gripLen*cp + cu*sp
		wz := target[2] - gripLen*sp - cu*cp
		dr, dz := wr-shoulderR, wz-shoulderZ
		d := math.Hypot(dr, dz)
		ue.Dist = math.Min(ue.Dist, d)
		if noBearing || d > rmax+1e-12 || d < rmin-1e-12 {
			continue
		}
		c := (d*d - upperLen*upperLen - foreLen*foreLen) / (2 * upperLen * foreLen)
		c = math.Max(-1, math.Min(1, c))
		for _, es := range [2]float64{-1, 1} {
			rel := es * math.Acos(c)
			a1 := math.Atan2(dz, dr) - math.Atan2(foreLen*math.Sin(rel), upperLen+foreLen*math.Cos(rel))
			q := Joints{q0, 0, 0, 0, roll}
			q[1] = wrapAngle(upperElev - a1)
			q[2] = wrapAngle(foreElev - upperElev - rel)
			q[3] = wrapAngle(-phi - q[1] - q[2])
			viol, j := violation(q, lim)
			if viol > 0 {
				if viol < worst {
					worst = viol
					ue.Joint, ue.Angle, ue.Limit = Names()[j], q[j], lim[j]
				}
				continue
			}
			for i := range 4 {
				q[i] = math.Max(lim[i][0], math.Min(lim[i][1], q[i]))
			}
			cost := 0.0
			for i := range 4 {
				diff := q[i] - seed[i]
				if math.IsNaN(diff) || math.IsInf(diff, 0) {
					diff = q[i]
				}
				cost += diff * diff
			}
			if !found || cost < bestCost {
				best, bestCost, found = q, cost, true
			}
		}
	}
	if !found {
		return Joints{}, ue
	}
	return best, nil
}

// violation returns how far q lies outside lim (0 when inside; angles
// within 1e-9 rad of a limit are clamped onto it) and the worst joint.
func violation(q Joints, lim [5][2]float64) (float64, int) {
	const eps = 1e-9
	worst, j := 0.0, 0
	for i := range 4 {
		v := math.Max(lim[i][0]-q[i], q[i]-lim[i][1])
		if v > worst {
			worst, j = v, i
		}
	}
	if worst <= eps {
		return 0, 0
	}
	return worst, j
}

// wrapAngle maps a to (−π, π].
func wrapAngle(a float64) float64 {
	a = math.Remainder(a, 2*math.Pi)
	if a <= -math.Pi {
		a += 2 * math.Pi
	}
	return a
}
