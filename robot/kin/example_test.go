package kin_test

import (
	"fmt"
	"math"

	"github.com/pilotkit/pilot/robot/kin"
)

// Forward kinematics gives the gripper tip of a pose; inverse kinematics
// finds joints that put the tip back there, and refuses a target that is
// not a point.
func ExampleIK() {
	q := kin.Joints{0.3, -0.4, 0.6, 0.5, 0}
	tip := kin.FK(q).Pos
	sol, err := kin.IK(tip, 0, kin.Joints{})
	if err != nil {
		fmt.Println("unreachable:", err)
		return
	}
	fmt.Printf("tip error below 1 mm: %v\n", kin.FK(sol).Pos.Sub(tip).Norm() < 1e-3)
	_, err = kin.IK(kin.Vec3{math.NaN(), 0, 0}, 0, kin.Joints{})
	fmt.Println(err != nil)
	// Output:
	// tip error below 1 mm: true
	// true
}
