package policy

import (
	"context"
	"fmt"
	"strings"

	"github.com/pilotkit/pilot/env/robotenv"
)

// RobotExpert returns the scripted solver of the robot tasks (robot:reach,
// robot:pick): inverse kinematics over the observation's state, answering
// with skills. It knows the task from the env's spec name.
func RobotExpert() Policy {
	return Func(func(_ context.Context, in Input) (Decision, error) {
		kind, ok := strings.CutPrefix(in.Spec.Name, "robot:")
		if !ok {
			return Decision{}, fmt.Errorf("robot expert: env %q is not a robot task (robot:reach or robot:pick)", in.Spec.Name)
		}
		a, err := robotenv.Expert(kind, in.Obs)
		if err != nil {
			return Decision{}, err
		}
		return Decision{Action: a}, nil
	})
}
