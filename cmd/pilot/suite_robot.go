package main

import (
	"context"
	"log/slog"
	"strings"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/env/robotenv"
	"github.com/pilotkit/pilot/evals"
	"github.com/pilotkit/pilot/policy"
	"github.com/pilotkit/pilot/policy/expert"
)

// Task seeds of the robot suites' splits: disjoint ranges, shifted by
// --seed.
const (
	robotTestTasks  = 100
	robotTrainTasks = 1000
)

// loadRobot returns a robot suite on simulated arms inside pilot (the fast
// mode: the servo protocol and physics without a serial port, simulated
// time), one per worker.
func loadRobot(kind string) func(ctx context.Context, f *evalFlags) (*loadedSuite, error) {
	return func(ctx context.Context, f *evalFlags) (*loadedSuite, error) {
		n, base := robotTestTasks, 1_000_000+f.seed*robotTestTasks
		if f.split == "train" {
			n, base = robotTrainTasks, f.seed*robotTrainTasks
		}
		tasks, err := robotenv.Tasks(kind, n, base)
		if err != nil {
			return nil, err
		}
		name := "robot:" + kind + "/" + f.split
		for i := range tasks {
			tasks[i].Suite = name
		}
		log := slog.New(slog.NewTextHandler(f.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		return &loadedSuite{
			suite: evals.Suite{Name: name, Tasks: tasks},
			newEnv: func(ctx context.Context, worker int) (env.Env, error) {
				rig, err := robotenv.NewFast(ctx, robotenv.RigOptions{Seed: f.seed + int64(worker), Logger: log})
				if err != nil {
					return nil, err
				}
				e, err := robotenv.New(rig, robotenv.Options{Task: kind, Images: f.screenshot.val != "none"})
				if err != nil {
					rig.Close()
					return nil, err
				}
				return e, nil
			},
		}, nil
	}
}

// newExpert is the expert of the suite: the shop's, the robot's or
// CartPole's PD controller.
func newExpert(s *loadedSuite, f *evalFlags, t env.Task) (policy.Policy, error) {
	switch {
	case strings.HasPrefix(s.suite.Name, "robot:"):
		return expert.Robot(), nil
	case strings.HasPrefix(s.suite.Name, "cartpole/"):
		return newCartPoleExpert(), nil
	}
	return newShopExpert(s, f, t)
}
