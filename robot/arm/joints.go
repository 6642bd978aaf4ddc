// Package arm drives a robot arm of Feetech STS servos, the SO-100/SO-101
// follower arms: named joints, a calibration in the units a person reads
// (degrees; the gripper in percent open), and a safety layer that nothing
// above it can bypass.
//
// Safety, in the order a command meets it:
//   - goals are clamped to the calibrated range of each joint, and the
//     clamp is logged; a goal outside it is never sent;
//   - each command moves a joint at most MaxRelativeTarget from where it is
//     now (LeRobot's max_relative_target);
//   - a watchdog holds position (or turns torque off) when no command
//     arrives in time;
//   - temperature, load and the servos' status bits are read and acted on:
//     an overloaded joint holds where it is, an overheating servo turns all
//     torque off and stops the arm;
//   - once the bus fails (the port disappears, a servo stops answering),
//     the arm stops commanding and every later call returns the fault;
//   - Close turns torque off, whatever state the arm is in, and reads it
//     back from every servo: one that does not confirm is named in a
//     *TorqueError, never reported as off.
package arm

import "fmt"

// Joint is one servo of the arm.
type Joint struct {
	Name string
	ID   byte
	// FullTurn joints (wrist_roll) use the whole 0..4095 turn.
	FullTurn bool
	// Gripper joints are read and commanded in percent open, 0..100;
	// the others in degrees from the middle of their calibrated range.
	Gripper bool
}

// Unit is the unit of the joint's values: "deg" or "%".
func (j Joint) Unit() string {
	if j.Gripper {
		return "%"
	}
	return "deg"
}

// SO101 returns the joints of the SO-100/SO-101 follower arm, bus IDs 1–6.
func SO101() []Joint {
	return []Joint{
		{Name: "shoulder_pan", ID: 1},
		{Name: "shoulder_lift", ID: 2},
		{Name: "elbow_flex", ID: 3},
		{Name: "wrist_flex", ID: 4},
		{Name: "wrist_roll", ID: 5, FullTurn: true},
		{Name: "gripper", ID: 6, Gripper: true},
	}
}

func jointIDs(js []Joint) []byte {
	ids := make([]byte, len(js))
	for i, j := range js {
		ids[i] = j.ID
	}
	return ids
}

func checkJoints(js []Joint) error {
	if len(js) == 0 {
		return fmt.Errorf("arm: no joints")
	}
	seenID := map[byte]string{}
	seenName := map[string]bool{}
	for _, j := range js {
		if j.Name == "" {
			return fmt.Errorf("arm: joint with ID %d has no name", j.ID)
		}
		if j.ID > 0xFC {
			return fmt.Errorf("arm: joint %s: ID %d is above the highest servo ID 252", j.Name, j.ID)
		}
		if other, ok := seenID[j.ID]; ok {
			return fmt.Errorf("arm: joints %s and %s share ID %d", other, j.Name, j.ID)
		}
		if seenName[j.Name] {
			return fmt.Errorf("arm: two joints are named %s", j.Name)
		}
		seenID[j.ID] = j.Name
		seenName[j.Name] = true
	}
	return nil
}
