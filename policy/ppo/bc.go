package ppo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/pilotkit/pilot/policy/nn"
)

// Sample is one (observation, expert action) pair.
type Sample struct {
	Obs    []float64
	Action Action
}

// BCConfig configures behaviour cloning.
type BCConfig struct {
	Epochs      int     // default 20
	Batch       int     // default 64
	LR          float64 // default 1e-3
	MaxGradNorm float64 // default 0.5
	Seed        int64
}

// BCStats report a behaviour-cloning run.
type BCStats struct {
	// Loss per epoch: cross-entropy (discrete) or mean squared error of
	// the mean (continuous).
	Loss []float64
	// Accuracy is the share of samples whose greedy action is the
	// expert's (discrete), after training; NaN for continuous.
	Accuracy float64
}

// BC trains p's actor to imitate data: the warm start of PPO fine-tuning.
// The critic is untouched.
func BC(ctx context.Context, p *Policy, data []Sample, cfg BCConfig) (BCStats, error) {
	if len(data) == 0 {
		return BCStats{}, errors.New("bc: no samples: record the expert's episodes first")
	}
	for i, s := range data {
		if len(s.Obs) != p.ObsSize {
			return BCStats{}, fmt.Errorf("bc: sample %d has %d observations, the policy takes %d", i, len(s.Obs), p.ObsSize)
		}
		if p.Space.Discrete > 0 && (s.Action.Discrete < 0 || s.Action.Discrete >= p.Space.Discrete) {
			return BCStats{}, fmt.Errorf("bc: sample %d has action %d, the policy has %d", i, s.Action.Discrete, p.Space.Discrete)
		}
		if p.Space.Dim > 0 && len(s.Action.Continuous) != p.Space.Dim {
			return BCStats{}, fmt.Errorf("bc: sample %d has an action of %d values, want %d", i, len(s.Action.Continuous), p.Space.Dim)
		}
	}
	if cfg.Epochs == 0 {
		cfg.Epochs = 20
	}
	if cfg.Batch == 0 {
		cfg.Batch = 64
	}
	if cfg.LR == 0 {
		cfg.LR = 1e-3
	}
	if cfg.MaxGradNorm == 0 {
		cfg.MaxGradNorm = 0.5
	}
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0xbc))
	params := p.Actor.Params()
	opt := nn.NewAdam(params, cfg.LR)
	out := p.Space.Discrete
	if out == 0 {
		out = p.Space.Dim
	}
	idx := make([]int, len(data))
	for i := range idx {
		idx[i] = i
	}
	grad := make([]float64, out)
	var st BCStats
	for ep := 0; ep < cfg.Epochs; ep++ {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		total := 0.0
		for start := 0; start < len(idx); start += cfg.Batch {
			b := idx[start:min(start+cfg.Batch, len(idx))]
			x := mat.NewDense(len(b), p.ObsSize, nil)
			for r, i := range b {
				x.SetRow(r, data[i].Obs)
			}
			for _, q := range params {
				clear(q.Grad)
			}
			y := p.Actor.Forward(x)
			d := mat.NewDense(len(b), out, nil)
			m := float64(len(b))
			for r, i := range b {
				row, dr := y.RawRowView(r), d.RawRowView(r)
				if p.Space.Discrete > 0 {
					a := data[i].Action.Discrete
					total -= nn.CategoricalLogProb(row, a)
					nn.CategoricalLogProbGrad(row, a, grad)
					for k := range dr {
						dr[k] = -grad[k] / m
					}
				} else {
					for k := range dr {
						e := row[k] - data[i].Action.Continuous[k]
						total += e * e
						dr[k] = 2 * e / m
					}
				}
			}
			p.Actor.Backward(d)
			if name, bad := nn.HasNaN(params); bad {
				return st, fmt.Errorf("bc: %w in %s: lower the learning rate", ErrNaN, name)
			}
			nn.ClipGradNorm(params, cfg.MaxGradNorm)
			opt.Step()
		}
		st.Loss = append(st.Loss, total/float64(len(data)))
	}
	st.Accuracy = math.NaN()
	if p.Space.Discrete > 0 {
		right := 0
		for _, s := range data {
			if a, _ := p.Act(s.Obs, true, rng); a.Discrete == s.Action.Discrete {
				right++
			}
		}
		st.Accuracy = float64(right) / float64(len(data))
	}
	return st, nil
}

// Collect plays episodes of env with expert and records what it saw and
// did: behaviour cloning's data.
func Collect(ctx context.Context, env Env, expert func(obs []float64) Action, episodes int, rng *rand.Rand) ([]Sample, error) {
	var data []Sample
	for ep := 0; ep < episodes; ep++ {
		obs, err := env.Reset(ctx, rng)
		if err != nil {
			return data, err
		}
		for {
			a := expert(obs)
			data = append(data, Sample{Obs: obs, Action: a})
			var term, trunc bool
			if obs, _, term, trunc, err = env.Step(ctx, a); err != nil {
				return data, err
			}
			if term || trunc {
				break
			}
		}
	}
	return data, nil
}
