// Package kin is the kinematics of the SO-101 follower arm: forward
// kinematics of the gripper tip, the joint chain for drawing, and an
// analytic inverse kinematics for a target point and gripper pitch.
//
// Frame: x forward, y left, z up, in metres, with the origin on the table
// directly under the shoulder_pan axis. Joint angles are radians, zero at
// the "middle" pose of LeRobot's new calibration (the URDF zero of
// so101_new_calib.urdf): upper arm raised, forearm and gripper level and
// pointing forward. Signs follow the URDF: a positive shoulder_pan turns the
// arm to its right (towards -y); positive shoulder_lift, elbow_flex and
// wrist_flex all lower the tip.
//
// The geometry comes from so101_new_calib.urdf of TheRobotStudio's
// SO-ARM100 repository (Simulation/SO101); see geometry.go for the numbers
// and how the 3-D joint origins reduce to a planar chain.
package kin
