package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/pflag"

	"github.com/pilotkit/pilot/agent"
	"github.com/pilotkit/pilot/env/robotenv"
	"github.com/pilotkit/pilot/policy"
	"github.com/pilotkit/pilot/policy/expert"
	"github.com/pilotkit/pilot/robot/arm"
)

// robotRunFlags are pilot run's robot flags.
type robotRunFlags struct {
	env               *choiceValue
	port, calibration string
	camera            string
	images            bool
	maxRelative       float64
}

func (r *robotRunFlags) register(fs *pflag.FlagSet) {
	r.env = newChoice("web", "web", "robot:reach", "robot:pick")
	fs.Var(r.env, "env", "the environment: web, robot:reach or robot:pick")
	fs.StringVar(&r.port, "port", "", "robot: serial `PORT` of the arm (a real one, or the path `pilot robot sim` prints); empty runs a simulated arm inside pilot")
	fs.StringVar(&r.calibration, "calibration", "", "robot: calibration `FILE` of a real arm (default: the one `pilot robot calibrate` saved)")
	fs.StringVar(&r.camera, "camera", "", "robot: camera of a real arm: a device index, a video file or a URL (needs a build with -tags gocv)")
	fs.BoolVar(&r.images, "images", false, "robot: put a camera frame in every observation")
	fs.Float64Var(&r.maxRelative, "max-relative-target", arm.DefaultMaxRelativeTarget, "robot: the most one command may move a joint, in degrees (gripper: percent)")
}

func (f *runFlags) validateRobot() error {
	if f.url != "" || f.serve != "" || f.browser != "" {
		return usagef("--url, --serve and --browser are for the web; --env %s drives a robot", f.robot.env.val)
	}
	if f.model.spec != "" {
		f.policy.val = "model"
	}
	switch {
	case f.policy.val == "model":
	case f.policy.val == "replay" && f.actions == "":
		return usagef("--policy replay needs --actions FILE; --policy expert solves the robot tasks")
	case f.policy.val == "random":
		return usagef("--policy random picks among a page's choices; a robot task has none: use expert or replay")
	case f.task != "":
		return usagef("--task: a robot task's instruction comes from the task (%s) and --seed", f.robot.env.val)
	case f.maxSteps < 0 || f.maxTime < 0 || f.stepTimeout < 0:
		return usagef("--max-steps, --max-time and --step-timeout must be 0 (no limit) or more")
	case !(f.robot.maxRelative > 0):
		return usagef("--max-relative-target %v: want more than 0 degrees", f.robot.maxRelative)
	}
	return nil
}

// robotEpisode opens the arm (or a simulator), runs one task and turns
// torque off at the end, whatever happened.
func (f *runFlags) robotEpisode(ctx context.Context, res *runResult, log, stderr io.Writer) (err error) {
	kind := f.robot.env.val[len("robot:"):]
	var p policy.Policy
	if f.policy.val == "expert" {
		p = expert.Robot()
	} else if p, err = f.makePolicy(ctx, stderr); err != nil {
		return err
	}
	tasks, err := robotenv.Tasks(kind, 1, f.seed)
	if err != nil {
		return err
	}
	task := tasks[0]
	res.Task = task.Instruction
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ro := robotenv.RigOptions{
		Seed:            f.seed,
		CalibrationPath: f.robot.calibration,
		Camera:          f.robot.camera,
		Arm:             arm.Options{MaxRelativeTarget: f.robot.maxRelative},
		Logger:          logger,
	}
	var rig *robotenv.Rig
	if f.robot.port == "" {
		fmt.Fprintln(log, "no --port: a simulated SO-101 runs inside pilot")
		rig, err = robotenv.NewFast(ctx, ro)
	} else {
		res.URL = f.robot.port
		fmt.Fprintf(log, "arm on %s\n", f.robot.port)
		rig, err = robotenv.Dial(ctx, f.robot.port, ro)
	}
	if err != nil {
		return fmt.Errorf("open the arm: %w", err)
	}
	maxSteps := f.maxSteps
	if maxSteps == 0 {
		maxSteps = -1 // no limit, as for the agent
	}
	e, err := robotenv.New(rig, robotenv.Options{Task: kind, Images: f.robot.images || f.screenshot.val != "none" || f.model.wantsImages(), MaxSteps: maxSteps})
	if err != nil {
		rig.Close()
		return err
	}
	defer func() { err = joinErr(err, "close the arm", e.Close()) }()
	traj, err := agent.Run(ctx, e, task, p, f.agentOptions(log))
	return f.report(traj, err, res, log)
}
