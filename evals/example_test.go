package evals_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/env/classic"
	"github.com/pilotkit/pilot/evals"
	"github.com/pilotkit/pilot/policy"
)

// Register a suite once and open it by name, as pilot run and pilot eval
// do: name, splits, engines, tasks, an env per worker, an expert.
func ExampleRegistry() {
	reg := &evals.Registry{}
	err := reg.Register(evals.Def{
		Name:    "balance",
		Doc:     "CartPole-v1 from ten seeded starts",
		Splits:  []string{"test"},
		Engines: []string{evals.EngineNative},
		Load: func(_ context.Context, o evals.LoadOptions) (*evals.Loaded, error) {
			l := &evals.Loaded{
				Suite:  evals.Suite{Name: "balance/" + o.Split},
				NewEnv: func(context.Context, int) (env.Env, error) { return classic.NewCartPole(), nil },
			}
			for i := range 10 {
				l.Suite.Tasks = append(l.Suite.Tasks, env.Task{ID: "balance-" + strconv.Itoa(i), Seed: o.Seed + int64(i)})
			}
			return l, nil
		},
		Expert: func(env.Task) policy.Policy { return policy.Random(1) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	d, err := reg.Find("balance")
	if err != nil {
		fmt.Println(err)
		return
	}
	l, err := d.Open(context.Background(), evals.LoadOptions{Seed: 7})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(l.Suite.Name, len(l.Suite.Tasks), l.Suite.Tasks[0].Seed)
	_, err = reg.Find("balanse")
	fmt.Println(err)
	_, err = d.Open(context.Background(), evals.LoadOptions{Engine: evals.EngineLite})
	fmt.Println(err)
	// Output:
	// balance/test 10 7
	// unknown suite "balanse": want one of balance
	// suite balance does not run on engine "lite": it runs on native
}

// Run a suite's episodes on two workers and read the report; every
// episode's trajectory lands in the run directory as it ends.
func ExampleRun() {
	dir, err := os.MkdirTemp("", "pilot-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	var suite evals.Suite
	for i := range 20 {
		suite.Tasks = append(suite.Tasks, env.Task{ID: fmt.Sprintf("cartpole-%02d", i), Seed: int64(i)})
	}
	suite.Name = "cartpole/example"
	// A policy that pushes at random keeps the pole up for about 20 steps.
	rep, err := evals.Run(context.Background(), suite, evals.Config{
		Workers: 2,
		NewEnv:  func(context.Context, int) (env.Env, error) { return classic.NewCartPole(), nil },
		NewPolicy: func(t env.Task) (policy.Policy, error) {
			r := rand.New(rand.NewPCG(uint64(t.Seed), 1))
			return policy.Func(func(context.Context, policy.Input) (policy.Decision, error) {
				if r.IntN(2) == 0 {
					return policy.Decision{Action: env.A(classic.ActionPushLeft)}, nil
				}
				return policy.Decision{Action: env.A(classic.ActionPushRight)}, nil
			}), nil
		},
		RunDir: filepath.Join(dir, "run"),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	_, statErr := os.Stat(filepath.Join(dir, "run", evals.EpisodesDir, "cartpole-00", "trajectory.jsonl"))
	fmt.Println(rep.Episodes, rep.Errors, rep.MeanSteps > 5 && rep.MeanSteps < 100, statErr == nil)
	// Output: 20 0 true true
}
