package suites

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/env/robotenv"
	"github.com/pilotkit/pilot/evals"
	"github.com/pilotkit/pilot/planner"
	"github.com/pilotkit/pilot/policy"
	"github.com/pilotkit/pilot/policy/expert"
	"github.com/pilotkit/pilot/policy/ppo"
	"github.com/pilotkit/pilot/robot/arm"
)

// Task seeds of the robot suites' splits: disjoint ranges, shifted by the
// seed.
const (
	robotTestTasks  = 100
	robotTrainTasks = 1000
)

// Robot is a task of env/robotenv (robotenv.Reach or robotenv.Pick) on a
// simulated SO-101 inside pilot (the fast engine: the servo protocol and
// physics without a serial port, simulated time), or on a serial port
// (a real arm, or `pilot robot sim`).
func Robot(kind string) evals.Def {
	d := evals.Def{
		Name:    "robot:" + kind,
		Splits:  []string{"test", "train"},
		Engines: []string{evals.EngineFast, evals.EngineSerial},
		Params: []evals.Param{
			{Name: "calibration", Doc: "serial engine: the calibration file of a real arm (default: the one `pilot robot calibrate` saved)"},
			{Name: "camera", Doc: "serial engine: a real arm's camera: a device index, a video file or a URL (needs a build with -tags gocv)"},
			{Name: "max_relative_target", Doc: "the most one command may move a joint, in degrees (gripper: percent)", Check: checkMaxRelative},
		},
		Policy: "expert",
		Load: func(ctx context.Context, o evals.LoadOptions) (*evals.Loaded, error) {
			return loadRobot(ctx, kind, o)
		},
		Expert: func(env.Task) policy.Policy { return expert.Robot() },
		Plan:   &evals.Planning{Engines: []string{evals.EngineFast}, Box: jointBox()},
	}
	switch kind {
	case robotenv.Reach:
		d.Doc = "move a simulated SO-101's gripper to a point"
		d.Trained, d.Shipped = reachTrained, []string{"reach"}
		d.Learn = &evals.Learner{
			Doc:   "PPO on the fast engine, then greedy success in the fast mode and through the serial path (a simulator on a pseudo-terminal)",
			Algos: []string{"ppo"},
			Train: train(d.Name, func(f *trainRun, ctx context.Context, sum *evals.TrainResult, stderr io.Writer) error {
				return f.ppo(ctx, reachPPO, f.Dir, sum, stderr)
			}),
		}
	case robotenv.Pick:
		d.Doc = "put the red cube in the target zone with a simulated SO-101"
	}
	return d
}

// jointBox is move_joints as CEM samples it: six joint targets, each
// moved at most as far as the joint travels in one step.
func jointBox() *planner.Box {
	step, lo, hi := robotenv.JointBox()
	return &planner.Box{
		Action: "move_joints",
		Start: func(obs env.Observation) ([]float64, error) {
			if len(obs.State) < len(step) {
				return nil, fmt.Errorf("the observation has %d state values, want the %d joints first", len(obs.State), len(step))
			}
			return slices.Clone(obs.State[:len(step)]), nil
		},
		MaxStep: step, Low: lo, High: hi,
	}
}

func checkMaxRelative(v string) error {
	if f, err := strconv.ParseFloat(v, 64); err != nil || !(f > 0) || math.IsInf(f, 0) {
		return fmt.Errorf("want more than 0 degrees")
	}
	return nil
}

func loadRobot(_ context.Context, kind string, o evals.LoadOptions) (*evals.Loaded, error) {
	n, base := robotTestTasks, 1_000_000+o.Seed*robotTestTasks
	if o.Split == "train" {
		n, base = robotTrainTasks, o.Seed*robotTrainTasks
	}
	tasks, err := robotenv.Tasks(kind, n, base)
	if err != nil {
		return nil, err
	}
	name := "robot:" + kind + "/" + o.Split
	for i := range tasks {
		tasks[i].Suite = name
	}
	ao := arm.Options{}
	if v, ok := o.Params["max_relative_target"]; ok {
		if err := checkMaxRelative(v); err != nil {
			return nil, fmt.Errorf("suite %s: max_relative_target %q: %w", name, v, err)
		}
		ao.MaxRelativeTarget, _ = strconv.ParseFloat(v, 64)
	}
	if o.Engine != evals.EngineSerial {
		for _, k := range []string{"calibration", "camera"} {
			if _, ok := o.Params[k]; ok {
				return nil, fmt.Errorf("suite %s: %s is for a real arm on the serial engine (give a port), not %s", name, k, o.Engine)
			}
		}
	}
	return &evals.Loaded{
		Suite: evals.Suite{Name: name, Tasks: tasks},
		NewEnv: func(ctx context.Context, worker int) (env.Env, error) {
			ro := robotenv.RigOptions{
				Seed:            o.Seed + int64(worker),
				CalibrationPath: o.Params["calibration"],
				Camera:          o.Params["camera"],
				Arm:             ao,
				Logger:          o.Logger,
			}
			var rig *robotenv.Rig
			var err error
			if o.Engine == evals.EngineSerial {
				if worker > 0 {
					return nil, fmt.Errorf("one arm on %s: run the serial engine with one worker", o.Port)
				}
				rig, err = robotenv.Dial(ctx, o.Port, ro)
			} else {
				rig, err = robotenv.NewFast(ctx, ro)
			}
			if err != nil {
				return nil, err
			}
			e, err := robotenv.New(rig, robotenv.Options{Task: kind, Images: o.Screenshot != ""})
			if err != nil {
				return nil, errors.Join(err, rig.Close())
			}
			return e, nil
		},
	}, nil
}

// reachTrained opens a reach policy: "reach" (shipped) or a file.
func reachTrained(spec string) (func(env.Task) (policy.Policy, error), error) {
	p, err := ppoPolicy(spec, "robot:reach")
	if err != nil {
		return nil, err
	}
	return func(env.Task) (policy.Policy, error) { return ppo.ReachPolicy(p), nil }, nil
}

// ppoPolicy opens a PPO policy trained on suite: shipped by name, or a
// file.
func ppoPolicy(spec, suite string) (*ppo.Policy, error) {
	b, isFile, err := bundleFile(spec)
	if err != nil {
		return nil, err
	}
	var p *ppo.Policy
	var meta map[string]string
	if isFile {
		p, meta, err = ppo.FromBundle(b, spec)
	} else {
		p, meta, err = ppo.LoadShipped(spec)
	}
	if err != nil {
		return nil, err
	}
	if meta["env"] != suite {
		return nil, fmt.Errorf("%s was trained on %q, not suite %s", spec, meta["env"], suite)
	}
	return p, nil
}
