package shopnn

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/policy/nn"
	"github.com/pilotkit/pilot/policy/ppo"
)

// BCConfig configures behaviour cloning.
type BCConfig struct {
	Epochs    int     // passes over the data (default 30)
	Minibatch int     // decisions per gradient step (default 64)
	LR        float64 // Adam's learning rate (default 1e-3)
	Gamma     float64 // discount of the value targets (default 0.99)
	Seed      int64
	// Progress, if set, is called after each epoch.
	Progress func(epoch int, loss, accuracy float64)
}

// BCStats are the last epoch's figures.
type BCStats struct {
	Decisions int     `json:"decisions"`
	Loss      float64 `json:"loss"`     // mean cross-entropy of the expert's choices
	Accuracy  float64 `json:"accuracy"` // share of decisions where the expert's choice scores best
}

// BC trains m to choose the demonstrations' candidates (cross-entropy over
// each page's candidates) and its value to predict their discounted
// returns.
func BC(ctx context.Context, m *Model, demos []Episode, cfg BCConfig) (BCStats, error) {
	if cfg.Epochs <= 0 {
		cfg.Epochs = 30
	}
	if cfg.Minibatch <= 0 {
		cfg.Minibatch = 64
	}
	if cfg.LR <= 0 {
		cfg.LR = 1e-3
	}
	if cfg.Gamma <= 0 {
		cfg.Gamma = 0.99
	}
	var data []*Decision
	var returns []float64
	for i := range demos {
		ds := demos[i].Decisions
		g := 0.0
		rs := make([]float64, len(ds))
		for t := len(ds) - 1; t >= 0; t-- {
			g = ds[t].Reward + cfg.Gamma*g
			rs[t] = g
		}
		for t := range ds {
			data = append(data, &ds[t])
			returns = append(returns, rs[t])
		}
	}
	if len(data) == 0 {
		return BCStats{}, errors.New("shopnn: behaviour cloning: no demonstrations")
	}
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0xbc))
	params := m.Params()
	opt := nn.NewAdam(params, cfg.LR)
	idx := make([]int, len(data))
	for i := range idx {
		idx[i] = i
	}
	var st BCStats
	for epoch := range cfg.Epochs {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		loss, correct := 0.0, 0
		for start := 0; start < len(idx); start += cfg.Minibatch {
			mb := idx[start:min(start+cfg.Minibatch, len(idx))]
			m.ZeroGrad()
			scale := 1 / float64(len(mb))
			for _, i := range mb {
				d := data[i]
				m.scoresGrad(&d.Page, func(z []float64) []float64 {
					lp := logSoftmax(z)
					loss -= lp[d.Chosen]
					if nn.Argmax(z) == d.Chosen {
						correct++
					}
					dz := make([]float64, len(z))
					for k := range z {
						dz[k] = scale * math.Exp(lp[k])
					}
					dz[d.Chosen] -= scale
					return dz
				})
				m.valueGrad(&d.Page, func(v float64) float64 { return 0.5 * scale * (v - returns[i]) })
			}
			nn.ClipGradNorm(params, 1)
			if name, bad := nn.HasNaN(params); bad {
				return st, fmt.Errorf("shopnn: behaviour cloning, epoch %d: %w in %s", epoch+1, ppo.ErrNaN, name)
			}
			opt.Step()
		}
		st = BCStats{Decisions: len(data), Loss: loss / float64(len(data)), Accuracy: float64(correct) / float64(len(data))}
		if cfg.Progress != nil {
			cfg.Progress(epoch+1, st.Loss, st.Accuracy)
		}
	}
	return st, nil
}

// PPOConfig configures PPO fine-tuning on the shop. The defaults follow
// CleanRL's ppo.py where the shop allows (its decisions are few and its
// reward comes at the end): γ 0.99, λ 0.95, clip 0.2, value clipping,
// entropy 0.01, value coefficient 0.5, gradient norm 0.5, 4 epochs,
// learning rate annealed to 0.
type PPOConfig struct {
	Updates     int     // default 40
	Episodes    int     // episodes per update (default 64)
	MaxSteps    int     // actions per episode (default MaxSteps)
	Gamma       float64 // default 0.99
	Lambda      float64 // default 0.95
	Clip        float64 // default 0.2
	EntCoef     float64 // default 0.01
	VFCoef      float64 // default 0.5
	KLCoef      float64 // KL(π ‖ reference) penalty (default 0.05; <0: none)
	LR          float64 // default 1e-4
	Epochs      int     // default 4
	Minibatch   int     // decisions per gradient step (default 64)
	MaxGradNorm float64 // default 0.5
	Seed        int64
	// Eval tasks are played greedily every EvalEvery updates (default 5)
	// and after the last; GreedyReturn in the stats is their success rate.
	Eval      []env.Task
	EvalEvery int
	// Progress, if set, is called after each update.
	Progress func(ppo.Stats)
}

func (c *PPOConfig) defaults() {
	set := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	if c.Updates <= 0 {
		c.Updates = 40
	}
	if c.Episodes <= 0 {
		c.Episodes = 64
	}
	if c.MaxSteps <= 0 {
		c.MaxSteps = MaxSteps
	}
	if c.Epochs <= 0 {
		c.Epochs = 4
	}
	if c.Minibatch <= 0 {
		c.Minibatch = 64
	}
	if c.EvalEvery <= 0 {
		c.EvalEvery = 5
	}
	set(&c.Gamma, 0.99)
	set(&c.Lambda, 0.95)
	set(&c.Clip, 0.2)
	set(&c.EntCoef, 0.01)
	set(&c.VFCoef, 0.5)
	set(&c.KLCoef, 0.05)
	set(&c.LR, 1e-4)
	set(&c.MaxGradNorm, 0.5)
}

// PPO fine-tunes m in place on the pool's envs (as many episodes at once
// as the pool has envs; the result does not depend on how many), on episodes of tasks drawn
// from train, with a KL penalty to ref (nil: no penalty), and returns the
// diagnostics of each update.
func PPO(ctx context.Context, pool *Pool, m, ref *Model, train []env.Task, cfg PPOConfig) ([]ppo.Stats, error) {
	cfg.defaults()
	if len(train) == 0 {
		return nil, errors.New("shopnn: ppo: no training tasks")
	}
	if cfg.KLCoef < 0 {
		ref = nil
	}
	params := m.Params()
	opt := nn.NewAdam(params, cfg.LR)
	taskRng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x5e1ec7))
	start := time.Now()
	var stats []ppo.Stats
	steps := 0
	for u := range cfg.Updates {
		opt.LR = cfg.LR * (1 - float64(u)/float64(cfg.Updates))
		tasks := make([]env.Task, cfg.Episodes)
		for i := range tasks {
			tasks[i] = train[taskRng.IntN(len(train))]
		}
		eps, err := pool.Run(ctx, cfg.Episodes, func(ctx context.Context, e env.Env, i int) (Episode, error) {
			a := NewAgent(m)
			a.Rng = episodeRng(cfg.Seed, u, i)
			return Play(ctx, e, tasks[i], a, cfg.MaxSteps)
		})
		if err != nil {
			return stats, fmt.Errorf("shopnn: ppo update %d: %w", u+1, err)
		}
		st := ppo.Stats{Update: u + 1, LR: opt.LR, Episodes: len(eps)}
		var batch []*Decision
		var adv, ret []float64
		epRet := 0.0
		for i := range eps {
			ep := &eps[i]
			steps += ep.Actions
			epRet += ep.Reward
			a, r := m.advantages(ep, ref, cfg)
			for t := range ep.Decisions {
				batch = append(batch, &ep.Decisions[t])
			}
			adv, ret = append(adv, a...), append(ret, r...)
		}
		st.EpisodeReturn = epRet / float64(len(eps))
		st.Steps = steps
		if err := m.update(batch, adv, ret, ref != nil, params, opt, cfg, &st); err != nil {
			return stats, fmt.Errorf("shopnn: ppo update %d: %w", u+1, err)
		}
		st.GreedyReturn = math.NaN()
		if len(cfg.Eval) > 0 && ((u+1)%cfg.EvalEvery == 0 || u+1 == cfg.Updates) {
			res, _, err := pool.Evaluate(ctx, m, cfg.Eval, cfg.MaxSteps)
			if err != nil {
				return stats, fmt.Errorf("shopnn: ppo update %d: evaluation: %w", u+1, err)
			}
			st.GreedyReturn = res.Success
		}
		st.Elapsed = time.Since(start)
		st.StepsPerSec = float64(steps) / st.Elapsed.Seconds()
		st.Warnings = warnings(st, stats)
		stats = append(stats, st)
		if cfg.Progress != nil {
			cfg.Progress(st)
		}
	}
	return stats, nil
}

// warnings says what a practitioner should look at after update st, given
// the updates before it: a KL blow-up every time, an entropy collapse the
// first time entropy falls under 0.01 (a cloned policy may start there:
// then PPO explores little).
func warnings(st ppo.Stats, before []ppo.Stats) []string {
	var w []string
	if st.ApproxKL > 0.05 {
		w = append(w, fmt.Sprintf("approximate KL %.3f > 0.05: the policy moves fast; lower the learning rate", st.ApproxKL))
	}
	collapsed := func(s ppo.Stats) bool { return s.Entropy < 0.01 }
	if collapsed(st) && !slices.ContainsFunc(before, collapsed) {
		w = append(w, fmt.Sprintf("entropy %.4f: the policy has collapsed to about one choice per page and explores little", st.Entropy))
	}
	return w
}

// advantages fills the episode's old log-probs, values and reference
// log-probs, and returns GAE advantages and returns per decision.
func (m *Model) advantages(ep *Episode, ref *Model, cfg PPOConfig) (adv, ret []float64) {
	ds := ep.Decisions
	for t := range ds {
		d := &ds[t]
		d.LogP = logSoftmax(m.Scores(&d.Page))[d.Chosen]
		d.Value = m.ValueOf(&d.Page)
		if ref != nil {
			d.Ref = logSoftmax(ref.Scores(&d.Page))
		}
	}
	next := 0.0
	if ep.Truncated && ep.Last != nil {
		next = m.ValueOf(ep.Last) // bootstrap on truncation, not on termination
	}
	adv, ret = make([]float64, len(ds)), make([]float64, len(ds))
	gae := 0.0
	for t := len(ds) - 1; t >= 0; t-- {
		delta := ds[t].Reward + cfg.Gamma*next - ds[t].Value
		gae = delta + cfg.Gamma*cfg.Lambda*gae
		adv[t], ret[t] = gae, gae+ds[t].Value
		next = ds[t].Value
	}
	return adv, ret
}

// update runs the PPO epochs over the batch.
func (m *Model) update(batch []*Decision, adv, ret []float64, useRef bool, params []*nn.Param, opt *nn.Adam, cfg PPOConfig, st *ppo.Stats) error {
	n := len(batch)
	if n == 0 {
		return nil
	}
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), uint64(st.Update)))
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	var pl, vl, ent, akl, rkl, clipped, gn float64
	var count, mbs int
	for range cfg.Epochs {
		rng.Shuffle(n, func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		for s := 0; s < n; s += cfg.Minibatch {
			mb := idx[s:min(s+cfg.Minibatch, n)]
			am, as := 0.0, 0.0
			for _, i := range mb {
				am += adv[i]
			}
			am /= float64(len(mb))
			for _, i := range mb {
				as += (adv[i] - am) * (adv[i] - am)
			}
			as = math.Sqrt(as / math.Max(1, float64(len(mb)-1)))
			m.ZeroGrad()
			scale := 1 / float64(len(mb))
			for _, i := range mb {
				d := batch[i]
				a := (adv[i] - am) / (as + 1e-8)
				m.scoresGrad(&d.Page, func(z []float64) []float64 {
					lp := logSoftmax(z)
					logRatio := lp[d.Chosen] - d.LogP
					ratio := math.Exp(logRatio)
					pg1, pg2 := -a*ratio, -a*clampF(ratio, 1-cfg.Clip, 1+cfg.Clip)
					dLogp := 0.0
					if pg1 >= pg2 {
						dLogp = -a * ratio
					}
					pl += math.Max(pg1, pg2)
					akl += (ratio - 1) - logRatio
					if math.Abs(ratio-1) > cfg.Clip {
						clipped++
					}
					h := 0.0
					for _, l := range lp {
						h -= math.Exp(l) * l
					}
					ent += h
					kl := 0.0
					if useRef {
						for k, l := range lp {
							kl += math.Exp(l) * (l - d.Ref[k])
						}
						rkl += kl
					}
					count++
					dz := make([]float64, len(z))
					for k, l := range lp {
						p := math.Exp(l)
						g := -dLogp * p                // d(pg)/dz via log π(a)
						g += cfg.EntCoef * p * (l + h) // −c·dH/dz
						if useRef {
							g += cfg.KLCoef * p * (l - d.Ref[k] - kl)
						}
						dz[k] = scale * g
					}
					dz[d.Chosen] += scale * dLogp
					return dz
				})
				m.valueGrad(&d.Page, func(v float64) float64 {
					vc := d.Value + clampF(v-d.Value, -cfg.Clip, cfg.Clip)
					l1, l2 := (v-ret[i])*(v-ret[i]), (vc-ret[i])*(vc-ret[i])
					vl += 0.5 * math.Max(l1, l2)
					if l1 >= l2 {
						return scale * cfg.VFCoef * (v - ret[i])
					}
					if math.Abs(v-d.Value) < cfg.Clip {
						return scale * cfg.VFCoef * (vc - ret[i])
					}
					return 0
				})
			}
			gn += nn.ClipGradNorm(params, cfg.MaxGradNorm)
			if name, bad := nn.HasNaN(params); bad {
				return fmt.Errorf("%w in %s", ppo.ErrNaN, name)
			}
			opt.Step()
			mbs++
		}
	}
	c := float64(count)
	st.PolicyLoss, st.ValueLoss, st.Entropy = pl/c, vl/c, ent/c
	st.ApproxKL, st.ClipFrac, st.GradNorm = akl/c, clipped/c, gn/float64(mbs)
	if useRef {
		st.RefKL = rkl / c
	}
	values := make([]float64, n)
	for i, d := range batch {
		values[i] = d.Value
	}
	st.ExplainedVar = ppo.ExplainedVariance(values, ret)
	s := slices.Clone(adv)
	sort.Float64s(s)
	st.AdvMean, st.AdvStd = ppo.MeanStd(adv)
	st.AdvP05, st.AdvP95 = s[int(0.05*float64(n-1))], s[int(0.95*float64(n-1))]
	return nil
}

func clampF(v, lo, hi float64) float64 { return math.Min(math.Max(v, lo), hi) }
