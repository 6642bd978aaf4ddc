package expert

import (
	"context"
	"fmt"
	"strings"

	"github.com/pilotkit/pilot/env/robotenv"

	"github.com/pilotkit/pilot/policy"
)

// Robot returns the scripted solver of the robot tasks (robot:reach,
// robot:pick): inverse kinematics over the observation's state, answering
// with skills. It knows the task from the env's spec name.
func Robot() policy.Policy {
	return policy.Func(func(_ context.Context, in policy.Input) (policy.Decision, error) {
		kind, ok := strings.CutPrefix(in.Spec.Name, "robot:")
		if !ok {
			return policy.Decision{}, fmt.Errorf("robot expert: env %q is not a robot task (robot:reach or robot:pick)", in.Spec.Name)
		}
		a, err := robotenv.Expert(kind, in.Obs)
		if err != nil {
			return policy.Decision{}, err
		}
		return policy.Decision{Action: a}, nil
	})
}
