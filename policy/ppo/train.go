package ppo

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"gonum.org/v1/gonum/mat"

	"github.com/pilotkit/pilot/policy/nn"
)

// Train runs PPO on cfg.NumEnvs envs from newEnv and returns the policy.
// It starts from start when given (fine-tuning), else from a fresh policy.
//
// newEnv makes env i (0 ≤ i ≤ NumEnvs; the last one evaluates); an error
// from it, or from an env's Reset or Step, stops training and is
// returned, with the result so far.
func Train(ctx context.Context, newEnv func(i int) (Env, error), start *Policy, cfg Config) (*Result, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x9e3779b97f4a7c15))
	p := start
	if p == nil {
		p = NewPolicy(cfg.ObsSize, cfg.Action, cfg.Hidden, rng)
	} else if p.ObsSize != cfg.ObsSize || p.Space != cfg.Action {
		return nil, fmt.Errorf("ppo: the starting policy takes %d observations and %+v actions, the config %d and %+v", p.ObsSize, p.Space, cfg.ObsSize, cfg.Action)
	}
	t := &trainer{cfg: cfg, p: p, rng: rng}
	if cfg.Action.Dim > 0 {
		t.logStd = &nn.Param{Name: "log_std", Value: p.LogStd, Grad: make([]float64, len(p.LogStd))}
	}
	t.params = p.params(t.logStd)
	t.opt = nn.NewAdam(t.params, cfg.LR)
	envs := make([]Env, cfg.NumEnvs)
	obs := make([][]float64, cfg.NumEnvs)
	for i := range envs {
		e, err := newEnv(i)
		if err != nil {
			return nil, fmt.Errorf("ppo: make env %d: %w", i, err)
		}
		envs[i] = e
		if obs[i], err = e.Reset(ctx, rng); err != nil {
			return nil, fmt.Errorf("ppo: reset env %d: %w", i, err)
		}
	}
	evalEnv, err := newEnv(cfg.NumEnvs)
	if err != nil {
		return nil, fmt.Errorf("ppo: make the evaluation env: %w", err)
	}
	t.alloc()
	res := &Result{Policy: p, FinalGreedy: math.NaN()}
	updates := cfg.TotalSteps / (cfg.NumEnvs * cfg.NumSteps)
	if updates < 1 {
		updates = 1
	}
	begin := time.Now()
	steps := 0
	epRet := make([]float64, cfg.NumEnvs)
	for u := 1; u <= updates; u++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		frac := 1.0
		if !cfg.NoAnnealLR {
			frac = 1 - float64(u-1)/float64(updates)
		}
		t.opt.LR = frac * cfg.LR
		if cfg.Curriculum != nil {
			cfg.Curriculum(float64(u-1) / float64(updates))
		}
		var finished []float64
		if !cfg.Sanity || u == 1 {
			var err error
			if finished, err = t.rollout(ctx, envs, obs, epRet); err != nil {
				return res, fmt.Errorf("ppo: update %d: %w", u, err)
			}
			steps += cfg.NumEnvs * cfg.NumSteps
		}
		st, err := t.update()
		st.Update, st.Steps, st.LR = u, steps, t.opt.LR
		st.Elapsed = time.Since(begin)
		st.StepsPerSec = float64(steps) / st.Elapsed.Seconds()
		st.EpisodeReturn, st.Episodes = mean(finished), len(finished)
		st.GreedyReturn = math.NaN()
		if err != nil {
			res.Stats = append(res.Stats, st)
			return res, fmt.Errorf("ppo: update %d (step %d): %w", u, steps, err)
		}
		if cfg.EvalEvery > 0 && (u%cfg.EvalEvery == 0 || u == updates) {
			if st.GreedyReturn, err = Evaluate(ctx, p, evalEnv, cfg.EvalEpisodes, rng); err != nil {
				return res, fmt.Errorf("ppo: evaluate after update %d: %w", u, err)
			}
			res.FinalGreedy = st.GreedyReturn
			if cfg.SolvedReturn > 0 && st.GreedyReturn >= cfg.SolvedReturn && res.SolvedAt == 0 {
				res.SolvedAt = steps
			}
		}
		st.Warnings = t.warnings(st)
		res.Stats = append(res.Stats, st)
		if cfg.OnUpdate != nil {
			cfg.OnUpdate(st)
		}
		if res.SolvedAt > 0 {
			break
		}
	}
	res.Steps, res.Elapsed = steps, time.Since(begin)
	return res, nil
}

// Evaluate plays n greedy episodes of env and returns the mean return.
func Evaluate(ctx context.Context, p *Policy, env Env, n int, rng *rand.Rand) (float64, error) {
	total := 0.0
	for i := 0; i < n; i++ {
		obs, err := env.Reset(ctx, rng)
		if err != nil {
			return 0, err
		}
		for steps := 0; steps < 100_000; steps++ {
			a, _ := p.Act(obs, true, rng)
			var r float64
			var term, trunc bool
			if obs, r, term, trunc, err = env.Step(ctx, a); err != nil {
				return 0, err
			}
			total += r
			if term || trunc {
				break
			}
		}
	}
	return total / float64(n), nil
}

type trainer struct {
	cfg    Config
	p      *Policy
	rng    *rand.Rand
	opt    *nn.Adam
	params []*nn.Param
	logStd *nn.Param

	// The rollout buffer, flattened as (step, env) → step*NumEnvs+env.
	obs      [][]float64
	acts     []Action
	logps    []float64
	values   []float64
	rewards  []float64
	dones    []bool // the episode ended after this step (terminated or truncated)
	advs     []float64
	returns  []float64
	firstEnt float64
	dStd     []float64
}

func (t *trainer) alloc() {
	n := t.cfg.NumEnvs * t.cfg.NumSteps
	t.obs = make([][]float64, n)
	t.acts = make([]Action, n)
	t.logps = make([]float64, n)
	t.values = make([]float64, n)
	t.rewards = make([]float64, n)
	t.dones = make([]bool, n)
	t.advs = make([]float64, n)
	t.returns = make([]float64, n)
	t.firstEnt = math.NaN()
	t.dStd = make([]float64, t.cfg.Action.Dim)
}

// rollout plays NumSteps steps on every env and computes GAE. It returns
// the returns of the episodes that ended.
func (t *trainer) rollout(ctx context.Context, envs []Env, obs [][]float64, epRet []float64) ([]float64, error) {
	c := t.cfg
	var finished []float64
	for s := 0; s < c.NumSteps; s++ {
		for e, env := range envs {
			i := s*c.NumEnvs + e
			t.obs[i] = obs[e]
			a, logp := t.p.Act(obs[e], false, t.rng)
			t.acts[i], t.logps[i], t.values[i] = a, logp, t.p.Value(obs[e])
			next, r, term, trunc, err := env.Step(ctx, a)
			if err != nil {
				return nil, err
			}
			epRet[e] += r
			if trunc && !term {
				// A time limit is not the end of the task: bootstrap.
				r += c.Gamma * t.p.Value(next)
			}
			t.rewards[i], t.dones[i] = r, term || trunc
			if term || trunc {
				finished = append(finished, epRet[e])
				epRet[e] = 0
				if next, err = env.Reset(ctx, t.rng); err != nil {
					return nil, err
				}
			}
			obs[e] = next
		}
	}
	// GAE(γ, λ), bootstrapped from the value of the next observations.
	for e := range envs {
		lastAdv := 0.0
		nextValue := t.p.Value(obs[e])
		for s := c.NumSteps - 1; s >= 0; s-- {
			i := s*c.NumEnvs + e
			nonTerminal := 1.0
			if t.dones[i] {
				nonTerminal = 0
			}
			delta := t.rewards[i] + c.Gamma*nextValue*nonTerminal - t.values[i]
			lastAdv = delta + c.Gamma*c.Lambda*nonTerminal*lastAdv
			t.advs[i] = lastAdv
			t.returns[i] = lastAdv + t.values[i]
			nextValue = t.values[i]
		}
	}
	return finished, nil
}

// update runs the epochs of minibatch gradient steps on the buffer.
func (t *trainer) update() (Stats, error) {
	c := t.cfg
	n := len(t.obs)
	mb := n / c.Minibatches
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	out := c.Action.Discrete
	if out == 0 {
		out = c.Action.Dim
	}
	x := mat.NewDense(mb, c.ObsSize, nil)
	dLogits := mat.NewDense(mb, out, nil)
	dV := mat.NewDense(mb, 1, nil)
	var st Stats
	var nUpd float64
	var kls, clips []float64
	grad := make([]float64, out)
	logp := make([]float64, out)
	refLogp := make([]float64, out)
	stop := false
	for epoch := 0; epoch < c.Epochs && !stop; epoch++ {
		t.rng.Shuffle(n, func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		for start := 0; start < n; start += mb {
			b := idx[start : start+mb]
			for r, i := range b {
				x.SetRow(r, t.obs[i])
			}
			// Advantages normalised per minibatch.
			am, as := meanStd(t.advs, b)
			for _, p := range t.params {
				clear(p.Grad)
			}
			logits := t.p.Actor.Forward(x)
			values := t.p.Critic.Forward(x)
			var pgLoss, vLoss, ent, approxKL, clipFrac, refKL float64
			for r, i := range b {
				adv := t.advs[i]
				if !c.NoNormAdv {
					adv = (adv - am) / (as + 1e-8)
				}
				row := logits.RawRowView(r)
				var newLogp, h float64
				if c.Action.Discrete > 0 {
					a := t.acts[i].Discrete
					newLogp = nn.CategoricalLogProb(row, a)
					h = nn.CategoricalEntropy(row)
				} else {
					newLogp = nn.GaussianLogProb(row, t.p.LogStd, t.acts[i].Continuous)
					h = nn.GaussianEntropy(t.p.LogStd)
				}
				logRatio := newLogp - t.logps[i]
				ratio := math.Exp(logRatio)
				approxKL += (ratio - 1) - logRatio
				if math.Abs(ratio-1) > c.ClipCoef {
					clipFrac++
				}
				un, cl := -adv*ratio, -adv*clamp(ratio, 1-c.ClipCoef, 1+c.ClipCoef)
				pgLoss += math.Max(un, cl)
				ent += h
				// d loss / d logp of this sample.
				dLogp := 0.0
				if un >= cl || (ratio >= 1-c.ClipCoef && ratio <= 1+c.ClipCoef) {
					dLogp = -adv * ratio / float64(mb)
				}
				gr := dLogits.RawRowView(r)
				for k := range gr {
					gr[k] = 0
				}
				if c.Action.Discrete > 0 {
					a := t.acts[i].Discrete
					nn.CategoricalLogProbGrad(row, a, grad)
					for k := range gr {
						gr[k] += dLogp * grad[k]
					}
					nn.CategoricalEntropyGrad(row, grad)
					for k := range gr {
						gr[k] -= c.EntCoef / float64(mb) * grad[k]
					}
					if c.Reference != nil && c.KLCoef > 0 {
						ref := c.Reference.Actor.Predict(t.obs[i])
						kl := categoricalKLGrad(row, ref, logp, refLogp, grad)
						refKL += kl
						for k := range gr {
							gr[k] += c.KLCoef / float64(mb) * grad[k]
						}
					}
				} else {
					dMean := grad
					for k := range dMean {
						dMean[k] = 0
					}
					dStd := t.dStd
					clear(dStd)
					nn.GaussianLogProbGrad(row, t.p.LogStd, t.acts[i].Continuous, dMean, dStd)
					for k := range gr {
						gr[k] += dLogp * dMean[k]
					}
					for k := range dStd {
						// Entropy of a Gaussian grows by 1 per unit log std.
						t.logStd.Grad[k] += dLogp*dStd[k] - c.EntCoef/float64(mb)
					}
					if c.Reference != nil && c.KLCoef > 0 {
						ref := c.Reference.Actor.Predict(t.obs[i])
						kl := gaussianKLGrad(row, t.p.LogStd, ref, c.Reference.LogStd, gr, t.logStd.Grad, c.KLCoef/float64(mb))
						refKL += kl
					}
				}
				// The value loss, clipped as CleanRL's.
				v := values.At(r, 0)
				ret := t.returns[i]
				dv := 0.0
				if c.NoClipVLoss {
					vLoss += 0.5 * (v - ret) * (v - ret)
					dv = (v - ret)
				} else {
					vc := t.values[i] + clamp(v-t.values[i], -c.ClipCoef, c.ClipCoef)
					lu, lc := (v-ret)*(v-ret), (vc-ret)*(vc-ret)
					vLoss += 0.5 * math.Max(lu, lc)
					switch {
					case lu >= lc:
						dv = v - ret
					case math.Abs(v-t.values[i]) < c.ClipCoef:
						dv = vc - ret
					}
				}
				dV.Set(r, 0, c.VFCoef*dv/float64(mb))
			}
			t.p.Actor.Backward(dLogits)
			t.p.Critic.Backward(dV)
			gn := nn.GradNorm(t.params)
			if name, bad := nn.HasNaN(t.params); bad || math.IsNaN(pgLoss) || math.IsNaN(vLoss) {
				return st, fmt.Errorf("%w: parameter %s (policy loss %v, value loss %v): lower the learning rate or check the env's rewards and observations", ErrNaN, name, pgLoss, vLoss)
			}
			nn.ClipGradNorm(t.params, c.MaxGradNorm)
			t.opt.Step()
			m := float64(mb)
			st.PolicyLoss += pgLoss / m
			st.ValueLoss += vLoss / m
			st.Entropy += ent / m
			st.GradNorm += gn
			st.RefKL += refKL / m
			kls = append(kls, approxKL/m)
			clips = append(clips, clipFrac/m)
			nUpd++
		}
		if c.TargetKL > 0 && kls[len(kls)-1] > c.TargetKL {
			stop = true
		}
	}
	st.PolicyLoss /= nUpd
	st.ValueLoss /= nUpd
	st.Entropy /= nUpd
	st.GradNorm /= nUpd
	st.RefKL /= nUpd
	st.ApproxKL = kls[len(kls)-1]
	st.ClipFrac = mean(clips)
	st.ExplainedVar = ExplainedVariance(t.values, t.returns)
	st.AdvMean, st.AdvStd = meanStd(t.advs, nil)
	sorted := slices.Clone(t.advs)
	sort.Float64s(sorted)
	st.AdvP05, st.AdvP95 = sorted[len(sorted)*5/100], sorted[len(sorted)*95/100]
	if math.IsNaN(t.firstEnt) {
		t.firstEnt = st.Entropy
	}
	return st, nil
}

// warnings flag what a practitioner watches for.
func (t *trainer) warnings(st Stats) []string {
	var w []string
	if !math.IsNaN(t.firstEnt) && t.cfg.Action.Discrete > 0 && st.Entropy < 0.1*t.firstEnt && st.Entropy < 0.05 {
		w = append(w, fmt.Sprintf("entropy collapse: %.3g, from %.3g at the start: the policy is almost deterministic; raise the entropy coefficient if it stopped improving", st.Entropy, t.firstEnt))
	}
	if st.ApproxKL > 0.2 {
		w = append(w, fmt.Sprintf("KL blow-up: approximate KL %.3g per update: lower the learning rate or set a target KL", st.ApproxKL))
	}
	if st.ClipFrac > 0.5 {
		w = append(w, fmt.Sprintf("%.0f%% of the ratios were clipped: the updates are too large", 100*st.ClipFrac))
	}
	return w
}

// categoricalKLGrad returns KL(p ‖ q) for logits z (p) and ref (q) and
// writes d KL / d z into dst: p_k (log p_k − log q_k − KL).
func categoricalKLGrad(z, ref, lp, lq, dst []float64) float64 {
	nn.LogSoftmax(z, lp)
	nn.LogSoftmax(ref, lq)
	kl := 0.0
	for k := range z {
		kl += math.Exp(lp[k]) * (lp[k] - lq[k])
	}
	for k := range z {
		dst[k] = math.Exp(lp[k]) * (lp[k] - lq[k] - kl)
	}
	return kl
}

// gaussianKLGrad returns KL(p ‖ q) of diagonal Gaussians (p: mean, logStd;
// q: refMean, refLogStd) and adds scale · its gradients into dMean and
// dLogStd.
func gaussianKLGrad(mean, logStd, refMean, refLogStd, dMean, dLogStd []float64, scale float64) float64 {
	kl := 0.0
	for k := range mean {
		s2, r2 := math.Exp(2*logStd[k]), math.Exp(2*refLogStd[k])
		d := mean[k] - refMean[k]
		kl += refLogStd[k] - logStd[k] + (s2+d*d)/(2*r2) - 0.5
		dMean[k] += scale * d / r2
		dLogStd[k] += scale * (-1 + s2/r2)
	}
	return kl
}

func clamp(v, lo, hi float64) float64 { return math.Min(math.Max(v, lo), hi) }

func mean(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// meanStd over v at idx (all of v when idx is nil); std is the unbiased
// one, as torch's .std().
func meanStd(v []float64, idx []int) (m, s float64) {
	n := len(v)
	at := func(k int) float64 { return v[k] }
	if idx != nil {
		n = len(idx)
		at = func(k int) float64 { return v[idx[k]] }
	}
	for k := 0; k < n; k++ {
		m += at(k)
	}
	m /= float64(n)
	for k := 0; k < n; k++ {
		d := at(k) - m
		s += d * d
	}
	if n > 1 {
		s /= float64(n - 1)
	}
	return m, math.Sqrt(s)
}

// MeanStd returns the mean and the unbiased standard deviation (torch's
// .std()) of v: the learners' one statistics helper (with
// ExplainedVariance), so that PPO's and the shop learner's diagnostics
// compare.
func MeanStd(v []float64) (mean, std float64) { return meanStd(v, nil) }

// ExplainedVariance is 1 − Var(returns − values) / Var(returns): how much
// of the returns the value function explains (1 is all, ≤ 0 none; NaN when
// the returns do not vary).
func ExplainedVariance(values, returns []float64) float64 {
	_, sr := meanStd(returns, nil)
	if sr == 0 {
		return math.NaN()
	}
	diff := make([]float64, len(values))
	for i := range diff {
		diff[i] = returns[i] - values[i]
	}
	_, sd := meanStd(diff, nil)
	return 1 - sd*sd/(sr*sr)
}
