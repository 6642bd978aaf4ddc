package policy

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/pilotkit/pilot/env"
)

// Noisy returns p with mistakes: at each step, with probability eps, one
// of the observation's Choices drawn uniformly replaces p's action, a
// weak policy made to measure (planners are benchmarked on "the expert
// with ε-random mistakes"). p is asked at every step, mistakes included,
// so its own state follows the episode; its per-episode state is reset
// as p's is. The same seed gives the same mistakes.
func Noisy(p Policy, eps float64, seed int64) (Policy, error) {
	if math.IsNaN(eps) || eps < 0 || eps > 1 {
		return nil, fmt.Errorf("policy: mistake rate %v: want 0..1", eps)
	}
	return &noisy{p: p, eps: eps, rng: rand.New(rand.NewPCG(uint64(seed), 0xe95))}, nil
}

type noisy struct {
	p   Policy
	eps float64
	rng *rand.Rand
}

func (n *noisy) ResetEpisode(t env.Task) {
	if r, ok := n.p.(Resetter); ok {
		r.ResetEpisode(t)
	}
}

func (n *noisy) Act(ctx context.Context, in Input) (Decision, error) {
	d, err := n.p.Act(ctx, in)
	if err != nil {
		return d, err
	}
	if c := in.Obs.Choices; len(c) > 0 && n.rng.Float64() < n.eps {
		a := c[n.rng.IntN(len(c))]
		d.Thought = fmt.Sprintf("a random mistake (ε = %g) instead of %s", n.eps, d.Action)
		d.Action = a
	}
	return d, nil
}
