package ppo

import (
	"context"
	"math/rand/v2"

	"github.com/pilotkit/pilot/env/classic"
)

// CartPole is Gymnasium's CartPole-v1 (env/classic) as a learner's Env:
// two discrete actions, four state variables.
type CartPole struct{ c *classic.CartPole }

// NewCartPole returns a CartPole learner env.
func NewCartPole() *CartPole { return &CartPole{c: classic.NewCartPole()} }

var _ Env = (*CartPole)(nil)

// Reset starts an episode.
func (e *CartPole) Reset(ctx context.Context, rng *rand.Rand) ([]float64, error) {
	s := e.c.ResetState(rng)
	return s[:], ctx.Err()
}

// Step pushes the cart left (0) or right (1).
func (e *CartPole) Step(ctx context.Context, a Action) ([]float64, float64, bool, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, false, false, err
	}
	s, r, term, trunc := e.c.StepState(a.Discrete)
	return s[:], r, term, trunc, nil
}

// CartPoleConfig is a configuration that solves CartPole-v1 (a greedy
// return of 475 over 20 episodes) well within 150,000 steps on this
// machine's seeds; CleanRL's defaults need about 500,000.
func CartPoleConfig(seed int64) Config {
	return Config{
		ObsSize: 4, Action: Space{Discrete: 2},
		TotalSteps: 150_000, NumEnvs: 8, NumSteps: 128, Minibatches: 4, Epochs: 10,
		LR: 2.5e-3, Gamma: 0.99, Lambda: 0.95, ClipCoef: 0.2, EntCoef: 0.01, VFCoef: 0.5, MaxGradNorm: 0.5,
		Seed: seed, EvalEvery: 2, EvalEpisodes: 20, SolvedReturn: 475,
	}
}

// CartPoleExpert is a PD controller on the pole's angle and the cart's
// position that balances CartPole for the 500 steps: the expert of
// behaviour cloning.
func CartPoleExpert(obs []float64) Action {
	if obs[2]+0.5*obs[3]+0.01*obs[0]+0.1*obs[1] > 0 {
		return Action{Discrete: 1}
	}
	return Action{Discrete: 0}
}
