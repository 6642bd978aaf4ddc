package suites

import (
	"context"
	"fmt"
	"io"
	"maps"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/env/classic"
	"github.com/pilotkit/pilot/evals"
	"github.com/pilotkit/pilot/policy"
	"github.com/pilotkit/pilot/policy/ppo"
)

// Task seeds of the cartpole suite's splits.
const (
	cartPoleTestTasks  = 100
	cartPoleTrainTasks = 1000
)

// CartPole is CartPole-v1 (Gymnasium's dynamics) as a suite: each task is
// a start state (a seed), and an episode succeeds when the pole stays up
// for the 500 steps.
func CartPole() evals.Def {
	return evals.Def{
		Name:     "cartpole",
		Doc:      "CartPole-v1 (Gymnasium's dynamics): keep the pole up for 500 steps from a seeded start",
		Splits:   []string{"test", "train"},
		Engines:  []string{evals.EngineNative},
		MaxSteps: -1,
		Policy:   "expert",
		Load:     loadCartPole,
		Expert:   func(env.Task) policy.Policy { return cartPoleExpert() },
		Learn: &evals.Learner{
			Doc:   "PPO, or behaviour cloning (bc) of the PD expert",
			Algos: []string{"ppo", "bc"},
			Train: train("cartpole", func(f *trainRun, ctx context.Context, sum *evals.TrainResult, stderr io.Writer) error {
				if f.Algo == "bc" {
					return f.bc(ctx, sum, stderr)
				}
				return f.ppo(ctx, cartPolePPO, f.Dir, sum, stderr)
			}),
		},
		Trained: func(spec string) (func(env.Task) (policy.Policy, error), error) {
			p, err := ppoPolicy(spec, "cartpole")
			if err != nil {
				return nil, err
			}
			return func(env.Task) (policy.Policy, error) { return cartPolePolicy(p), nil }, nil
		},
	}
}

func loadCartPole(_ context.Context, o evals.LoadOptions) (*evals.Loaded, error) {
	n, base := cartPoleTestTasks, 3_000_000+o.Seed*cartPoleTestTasks
	if o.Split == "train" {
		n, base = cartPoleTrainTasks, 4_000_000+o.Seed*cartPoleTrainTasks
	}
	name := "cartpole/" + o.Split
	l := &evals.Loaded{
		Suite: evals.Suite{Name: name},
		NewEnv: func(context.Context, int) (env.Env, error) {
			return balance{classic.NewCartPole()}, nil
		},
	}
	for i := range n {
		l.Suite.Tasks = append(l.Suite.Tasks, env.Task{
			ID: fmt.Sprintf("cartpole-%s-%04d", o.Split, i), Suite: name, Seed: base + int64(i),
			Instruction: "keep the pole upright for 500 steps by pushing the cart left or right",
		})
	}
	return l, nil
}

// balance is CartPole-v1 as a task: reaching the 500-step limit (a
// truncation in Gymnasium) completes the task with success.
type balance struct{ *classic.CartPole }

func (b balance) Step(ctx context.Context, a env.Action) (env.Step, error) {
	st, err := b.CartPole.Step(ctx, a)
	if err != nil {
		return st, err
	}
	switch {
	case st.Truncated && st.Reason == classic.ReasonStepLimit:
		st.Truncated, st.Terminated = false, true
		st.Reason = "balanced for 500 steps"
		st.Info = withSuccess(st.Info, true)
	case st.Terminated:
		st.Info = withSuccess(st.Info, false)
	}
	return st, nil
}

func withSuccess(info map[string]any, ok bool) map[string]any {
	info = maps.Clone(info)
	if info == nil {
		info = map[string]any{}
	}
	info[env.InfoSuccess] = ok
	return info
}

// cartPoleAction is the env action of a discrete CartPole action.
func cartPoleAction(i int) env.Action {
	if i == classic.PushLeft {
		return env.Action{Name: classic.ActionPushLeft}
	}
	return env.Action{Name: classic.ActionPushRight}
}

// cartPoleExpert is the PD controller pilot train clones.
func cartPoleExpert() policy.Policy {
	return policy.Func(func(_ context.Context, in policy.Input) (policy.Decision, error) {
		if len(in.Obs.State) != 4 {
			return policy.Decision{}, fmt.Errorf("cartpole expert: the observation has %d state values, want 4", len(in.Obs.State))
		}
		return policy.Decision{Action: cartPoleAction(ppo.CartPoleExpert(in.Obs.State).Discrete)}, nil
	})
}

// cartPolePolicy plays a trained CartPole policy greedily.
func cartPolePolicy(p *ppo.Policy) policy.Policy {
	return policy.Func(func(_ context.Context, in policy.Input) (policy.Decision, error) {
		if len(in.Obs.State) != 4 {
			return policy.Decision{}, fmt.Errorf("nn cartpole policy: the observation has %d state values, want 4 (CartPole-v1)", len(in.Obs.State))
		}
		a, _ := p.Act(in.Obs.State, true, nil)
		return policy.Decision{Action: cartPoleAction(a.Discrete)}, nil
	})
}
