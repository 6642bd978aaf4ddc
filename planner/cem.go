package planner

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/policy"
)

// Box is a continuous action space for CEM: an env action whose argument
// is a vector (robotenv's move_joints), changed by at most MaxStep per
// step and kept within [Low, High].
type Box struct {
	// Action is the env action that takes the vector.
	Action string
	// Start returns the vector that holds still in obs (the arm's present
	// joint positions); a sampled sequence's vectors are Start plus the
	// running sum of its changes.
	Start func(obs env.Observation) ([]float64, error)
	// MaxStep is the largest change of each entry in one step.
	MaxStep []float64
	// Low and High bound each entry.
	Low, High []float64
}

func (b Box) check() error {
	n := len(b.MaxStep)
	switch {
	case b.Action == "":
		return errors.New("planner: the box has no action: name the env action that takes the vector (move_joints)")
	case b.Start == nil:
		return errors.New("planner: the box has no Start: CEM needs the vector that holds still")
	case n == 0:
		return errors.New("planner: the box has no dimensions (MaxStep is empty)")
	case len(b.Low) != n || len(b.High) != n:
		return fmt.Errorf("planner: the box has %d steps, %d lows and %d highs: want one of each per dimension", n, len(b.Low), len(b.High))
	}
	for i := range n {
		if !(b.MaxStep[i] > 0) || math.IsInf(b.MaxStep[i], 0) || !(b.Low[i] < b.High[i]) || math.IsInf(b.Low[i], 0) || math.IsInf(b.High[i], 0) {
			return fmt.Errorf("planner: box dimension %d: want 0 < MaxStep < ∞ and Low < High, finite; got %v, [%v, %v]", i, b.MaxStep[i], b.Low[i], b.High[i])
		}
	}
	return nil
}

// CEMOptions configure NewCEM. The zero value takes the defaults.
type CEMOptions struct {
	// Horizon is the length of a sampled sequence, in steps (8).
	Horizon int
	// Samples is the number of sequences per iteration (32).
	Samples int
	// Elites is how many of the best sequences the refit keeps
	// (Samples/8, at least 2).
	Elites int
	// Iterations is the number of refits per committed step (3).
	Iterations int
	// Momentum is the old mean and spread's weight in a refit, 0..1
	// (0.1).
	Momentum float64
	// Discount weighs a sequence's rewards: γ^t (0.98), so that of two
	// sequences reaching the goal the sooner wins.
	Discount float64
	// Seed seeds the sampling.
	Seed uint64
}

// Defaults of CEMOptions.
const (
	DefaultHorizon    = 8
	DefaultSamples    = 32
	DefaultIterations = 3
)

func (o *CEMOptions) check() error {
	switch {
	case o.Horizon < 0:
		return fmt.Errorf("planner: horizon %d: want 1 or more steps (0 for %d)", o.Horizon, DefaultHorizon)
	case o.Samples < 0:
		return fmt.Errorf("planner: %d samples: want 2 or more sequences per iteration (0 for %d)", o.Samples, DefaultSamples)
	case o.Iterations < 0:
		return fmt.Errorf("planner: %d iterations: want 1 or more (0 for %d)", o.Iterations, DefaultIterations)
	case o.Elites < 0:
		return fmt.Errorf("planner: %d elites: want 1 or more", o.Elites)
	case o.Momentum < 0 || o.Momentum >= 1 || math.IsNaN(o.Momentum):
		return fmt.Errorf("planner: momentum %v: want 0 ≤ momentum < 1", o.Momentum)
	case o.Discount < 0 || o.Discount > 1 || math.IsNaN(o.Discount):
		return fmt.Errorf("planner: discount %v: want 0 < discount ≤ 1 (0 for 0.98)", o.Discount)
	}
	if o.Horizon == 0 {
		o.Horizon = DefaultHorizon
	}
	if o.Samples == 0 {
		o.Samples = DefaultSamples
	}
	if o.Samples < 2 {
		return fmt.Errorf("planner: %d samples: want 2 or more sequences per iteration", o.Samples)
	}
	if o.Iterations == 0 {
		o.Iterations = DefaultIterations
	}
	if o.Elites == 0 {
		o.Elites = max(2, o.Samples/8)
	}
	if o.Elites > o.Samples {
		return fmt.Errorf("planner: %d elites of %d samples: want at most as many elites as samples", o.Elites, o.Samples)
	}
	if o.Momentum == 0 {
		o.Momentum = 0.1
	}
	if o.Discount == 0 {
		o.Discount = 0.98
	}
	return nil
}

// CEM is model-predictive control by the cross-entropy method: before
// each committed step it samples sequences of vectors in a Box from a
// Gaussian, plays each from a snapshot of the env (or of its twin), keeps
// the elites by discounted reward, refits the Gaussian to them, and
// commits the first vector of the best sequence found. The next step
// starts from the mean shifted by one step. It needs no policy.
//
// In an env that saves its state (robotenv's fast engine) the reward it
// plans with is the env's own: results are marked as an oracle's. With a
// twin, it is the twin's prediction of the real env's reward.
type CEM struct {
	box  Box
	opts CEMOptions
	rng  *rand.Rand
	e    env.Env
	mean [][]float64 // warm start: the last refit's mean, shifted
	task env.Task
	twin env.Twin // reset for this episode, nil until then
}

var (
	_ policy.Policy   = (*CEM)(nil)
	_ policy.EnvUser  = (*CEM)(nil)
	_ policy.Resetter = (*CEM)(nil)
)

// NewCEM returns a CEM planner over box.
func NewCEM(box Box, opts CEMOptions) (*CEM, error) {
	if err := box.check(); err != nil {
		return nil, err
	}
	if err := opts.check(); err != nil {
		return nil, err
	}
	return &CEM{box: box, opts: opts, rng: rand.New(rand.NewPCG(opts.Seed, 0xce4))}, nil
}

// UseEnv sets the env CEM acts on.
func (c *CEM) UseEnv(e env.Env) { c.e = e }

// ResetEpisode forgets the warm start.
func (c *CEM) ResetEpisode(t env.Task) { c.mean, c.task, c.twin = nil, t, nil }

// CEMRecord is what one committed step's CEM did, in its decision's
// Meta["search"].
type CEMRecord struct {
	Planner    string        `json:"planner"` // "cem"
	Model      string        `json:"model"`   // "env" or "twin"
	Oracle     bool          `json:"oracle,omitempty"`
	Iterations int           `json:"iterations"`
	Sequences  int           `json:"sequences"`
	EnvSteps   int           `json:"env_steps"`
	Best       float64       `json:"best"`        // the best sequence's discounted reward
	EliteMeans []float64     `json:"elite_means"` // the elites' mean reward, per iteration
	Spread     float64       `json:"spread"`      // the final deviation, relative to MaxStep, averaged
	Wall       time.Duration `json:"wall_ns"`
}

// Act plans from the current state and returns the first vector of the
// best sequence. The env is in the state it was when Act returns.
func (c *CEM) Act(ctx context.Context, in policy.Input) (policy.Decision, error) {
	if c.e == nil {
		return policy.Decision{}, errors.New("planner cem: no env to plan in: agent.Run gives it (the planner is a policy.EnvUser); call UseEnv first")
	}
	start := time.Now()
	rec := CEMRecord{Planner: "cem", Model: "env", Oracle: true}
	model, snap, root, err := c.model(ctx, in)
	if err != nil {
		return policy.Decision{}, err
	}
	if model != c.e {
		rec.Model, rec.Oracle = "twin", false
	}
	x0, err := c.box.Start(in.Obs)
	if err != nil {
		return policy.Decision{}, fmt.Errorf("planner cem: %w", err)
	}
	d, h := len(c.box.MaxStep), c.opts.Horizon
	if len(x0) != d {
		return policy.Decision{}, fmt.Errorf("planner cem: the start vector has %d entries, the box %d", len(x0), d)
	}
	mean := c.warmMean(d, h)
	sd := make([][]float64, h)
	for t := range sd {
		sd[t] = make([]float64, d)
		for i := range sd[t] {
			sd[t][i] = c.box.MaxStep[i] / 2
		}
	}
	type sample struct {
		delta [][]float64
		ret   float64
	}
	var best sample
	best.ret = math.Inf(-1)
	samples := make([]sample, c.opts.Samples)
	for it := range c.opts.Iterations {
		for k := range samples {
			s := &samples[k]
			s.delta = c.draw(mean, sd, s.delta, it == 0 && k == 0, it == 0 && k == 1)
			ret, n, err := c.play(ctx, model, snap, root, x0, s.delta)
			rec.EnvSteps += n
			rec.Sequences++
			if rerr := snap.Restore(ctx, root); rerr != nil && err == nil {
				err = fmt.Errorf("restore the state planned from: %w", rerr)
			}
			if err != nil {
				return policy.Decision{}, fmt.Errorf("planner cem: %w", err)
			}
			s.ret = ret
			if ret > best.ret {
				best = sample{delta: clone2(s.delta), ret: ret}
			}
		}
		slices.SortStableFunc(samples, func(a, b sample) int { return cmpDesc(a.ret, b.ret) })
		elites := samples[:c.opts.Elites]
		var em float64
		for _, e := range elites {
			em += e.ret
		}
		rec.EliteMeans = append(rec.EliteMeans, em/float64(len(elites)))
		for t := range h {
			for i := range d {
				var m, v float64
				for _, e := range elites {
					m += e.delta[t][i]
				}
				m /= float64(len(elites))
				for _, e := range elites {
					v += (e.delta[t][i] - m) * (e.delta[t][i] - m)
				}
				v = math.Sqrt(v / float64(len(elites)))
				mo := c.opts.Momentum
				mean[t][i] = mo*mean[t][i] + (1-mo)*m
				sd[t][i] = max(mo*sd[t][i]+(1-mo)*v, c.box.MaxStep[i]/50)
			}
		}
		rec.Iterations++
	}
	for i := range d {
		rec.Spread += sd[0][i] / c.box.MaxStep[i] / float64(d)
	}
	rec.Best = best.ret
	// Warm start: the refit mean, one step on.
	c.mean = append(mean[1:], make([]float64, d))
	x := c.box.next(x0, best.delta[0])
	rec.Wall = time.Since(start)
	a := env.Action{Name: c.box.Action, Vec: x}
	thought := fmt.Sprintf("cem: best of %d sequences (%d steps ahead) earns %.3f", rec.Sequences, h, best.ret)
	return policy.Decision{Action: a, Thought: thought, Meta: map[string]any{"search": &rec, "value": best.ret}}, nil
}

// model returns where to plan and the state to plan from: the env, or
// the twin following it.
func (c *CEM) model(ctx context.Context, in policy.Input) (env.Env, env.Snapshotter, env.State, error) {
	snap, err := env.Snapshots(c.e)
	if err == nil {
		var root env.State
		if root, err = snap.Snapshot(ctx); err == nil {
			return c.e, snap, root, nil
		}
	}
	if !errors.Is(err, env.ErrNoSnapshot) {
		return nil, nil, nil, fmt.Errorf("planner cem: snapshot the state to plan from: %w", err)
	}
	if c.twin == nil {
		tw, ok := c.e.(env.Twinned)
		if !ok {
			return nil, nil, nil, fmt.Errorf("planner cem: %w; and it has no simulated twin to plan in (env.Twinned)", err)
		}
		t, err := tw.Twin(ctx)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("planner cem: the env's twin: %w", err)
		}
		if _, err := t.Reset(ctx, c.task); err != nil {
			return nil, nil, nil, fmt.Errorf("planner cem: reset the twin: %w", err)
		}
		c.twin = t
	}
	if err := c.twin.Follow(ctx, in.Obs); err != nil {
		return nil, nil, nil, fmt.Errorf("planner cem: put the twin in the env's state: %w", err)
	}
	root, err := c.twin.Snapshot(ctx)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("planner cem: snapshot the twin: %w", err)
	}
	return c.twin, c.twin, root, nil
}

// warmMean is the mean to start from: the last step's shifted, or zero.
func (c *CEM) warmMean(d, h int) [][]float64 {
	m := make([][]float64, h)
	for t := range m {
		m[t] = make([]float64, d)
		if t < len(c.mean) && len(c.mean[t]) == d {
			copy(m[t], c.mean[t])
		}
	}
	return m
}

// draw samples a sequence of changes into buf: the mean itself, all
// zeros (hold still), or Gaussian around the mean, clipped to MaxStep.
func (c *CEM) draw(mean, sd, buf [][]float64, asMean, zero bool) [][]float64 {
	if len(buf) != len(mean) {
		buf = make([][]float64, len(mean))
	}
	for t := range mean {
		if len(buf[t]) != len(mean[t]) {
			buf[t] = make([]float64, len(mean[t]))
		}
		for i := range mean[t] {
			v := 0.0
			switch {
			case asMean:
				v = mean[t][i]
			case zero:
			default:
				v = mean[t][i] + sd[t][i]*c.rng.NormFloat64()
			}
			lim := c.box.MaxStep[i]
			buf[t][i] = math.Max(-lim, math.Min(lim, v))
		}
	}
	return buf
}

// next is x moved by delta, within the box.
func (b Box) next(x, delta []float64) []float64 {
	out := make([]float64, len(x))
	for i := range x {
		out[i] = math.Max(b.Low[i], math.Min(b.High[i], x[i]+delta[i]))
	}
	return out
}

// play plays one sequence from root and returns its discounted reward.
func (c *CEM) play(ctx context.Context, e env.Env, snap env.Snapshotter, root env.State, x0 []float64, delta [][]float64) (float64, int, error) {
	if err := snap.Restore(ctx, root); err != nil {
		return 0, 0, fmt.Errorf("restore the state planned from: %w", err)
	}
	x := x0
	ret, g := 0.0, 1.0
	for t, d := range delta {
		x = c.box.next(x, d)
		st, err := e.Step(ctx, env.Action{Name: c.box.Action, Vec: x})
		if err != nil {
			return 0, t, fmt.Errorf("step %d of a sampled sequence: %w", t+1, err)
		}
		if math.IsNaN(st.Reward) || math.IsInf(st.Reward, 0) {
			return 0, t + 1, fmt.Errorf("step %d of a sampled sequence earned %v: the env's reward must be finite", t+1, st.Reward)
		}
		ret += g * st.Reward
		g *= c.opts.Discount
		if st.Done() {
			return ret, t + 1, nil
		}
	}
	return ret, len(delta), nil
}

func clone2(v [][]float64) [][]float64 {
	out := make([][]float64, len(v))
	for i := range v {
		out[i] = slices.Clone(v[i])
	}
	return out
}

func cmpDesc(a, b float64) int {
	switch {
	case a > b:
		return -1
	case a < b:
		return 1
	}
	return 0
}
