package ppo_test

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/pilotkit/pilot/policy/ppo"
)

// Train CartPole-v1 with PPO for a few updates and compare the greedy
// return before and after. The same seed gives the same run.
func ExampleTrain() {
	ctx := context.Background()
	cfg := ppo.CartPoleConfig(1)
	cfg.TotalSteps = 8 * 128 * 12 // twelve updates of 8 envs × 128 steps
	cfg.EvalEvery = 0

	newEnv := func(int) (ppo.Env, error) { return ppo.NewCartPole(), nil }
	rng := rand.New(rand.NewPCG(2, 2))
	start := ppo.NewPolicy(cfg.ObsSize, cfg.Action, []int{64, 64}, rand.New(rand.NewPCG(1, 1)))
	before, err := ppo.Evaluate(ctx, start, ppo.NewCartPole(), 10, rng)
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := ppo.Train(ctx, newEnv, start.Clone(), cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	after, err := ppo.Evaluate(ctx, res.Policy, ppo.NewCartPole(), 10, rng)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(res.Stats), "updates; the greedy return at least doubled:", after >= 2*before)
	// Output: 12 updates; the greedy return at least doubled: true
}
