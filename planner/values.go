package planner

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/policy"
)

// Oracle values a state by the env's own reward: an ended episode by its
// success (1) or its last reward, any other state by a greedy rollout of
// the proposer for up to Rollout candidates (0: none, value 0). It reads
// what a deployed agent cannot know, the reward of the hidden goal, so its
// estimates are marked Oracle: for ablations and upper bounds only.
type Oracle struct {
	Rollout int
}

// Value implements Value.
func (o Oracle) Value(ctx context.Context, l Leaf) (Estimate, error) {
	if o.Rollout < 0 {
		return Estimate{}, fmt.Errorf("oracle: rollout of %d candidates: want 0 or more", o.Rollout)
	}
	if l.Done {
		return Estimate{V: outcome(l.Success, l.Reward), Oracle: true}, nil
	}
	if o.Rollout == 0 {
		return Estimate{Oracle: true}, nil
	}
	r, err := l.Rollout(ctx, o.Rollout)
	est := Estimate{Oracle: true, EnvSteps: r.EnvSteps}
	if err != nil {
		return est, err
	}
	if r.Done {
		est.V = outcome(r.Success, r.Reward)
	}
	return est, nil
}

func outcome(success bool, reward float64) float64 {
	if success {
		return 1
	}
	return math.Max(0, math.Min(reward, 1))
}

// Heuristic is a value computed from what the agent sees, such as the
// shop's match of the page against the instruction.
type Heuristic struct {
	Name string
	F    func(l Leaf) float64
}

// Value implements Value.
func (h Heuristic) Value(ctx context.Context, l Leaf) (Estimate, error) {
	if h.F == nil {
		return Estimate{}, fmt.Errorf("heuristic %q has no function", h.Name)
	}
	return Estimate{V: h.F(l)}, nil
}

// Judge values a state by asking a model whether the task succeeded (1),
// is on track (0.5) or failed (0), averaged over Samples answers (1):
// Koh et al.'s value function. A model call that fails is an error of the
// step, never a value of 0.
type Judge struct {
	Model   policy.Model
	Options policy.LLMOptions
	Samples int
}

// Value implements Value.
func (j Judge) Value(ctx context.Context, l Leaf) (Estimate, error) {
	if j.Model == nil {
		return Estimate{}, errors.New("judge: no model")
	}
	n := max(j.Samples, 1)
	var est Estimate
	in := policy.Input{Task: l.Task, Spec: l.Spec, Obs: l.Obs, History: l.History, Step: len(l.History)}
	for range n {
		v, err := policy.Judge(ctx, j.Model, in, j.Options)
		est.Usage = est.Usage.Add(v.Usage)
		if err != nil {
			return est, err
		}
		est.V += v.Score / float64(n)
	}
	return est, nil
}

// Choices proposes the observation's listed choices (env.Observation
// Choices), in order, with equal priors: for envs that list their actions
// (CartPole, the toy trees) and no policy at all.
type Choices struct{}

// Propose implements Proposer.
func (Choices) Propose(ctx context.Context, in policy.Input, k int) ([]Candidate, policy.Usage, error) {
	var out []Candidate
	for _, a := range in.Obs.Choices {
		if len(out) == k {
			break
		}
		out = append(out, Candidate{Actions: []env.Action{a}, Prior: 1 / float64(len(in.Obs.Choices))})
	}
	return out, policy.Usage{}, nil
}

// FromPolicy proposes the distinct actions of Samples calls of a policy's
// Act (k when 0), the most frequent first, the frequency as prior: for a
// stochastic policy that keeps no state of its own between calls (an LLM
// policy at temperature > 0 uses its own sampling: Samples).
func FromPolicy(p policy.Policy, samples int) Proposer {
	return &fromPolicy{p: p, samples: samples}
}

type fromPolicy struct {
	p       policy.Policy
	samples int
}

func (f *fromPolicy) ResetEpisode(t env.Task) {
	if r, ok := f.p.(policy.Resetter); ok {
		r.ResetEpisode(t)
	}
}

func (f *fromPolicy) Propose(ctx context.Context, in policy.Input, k int) ([]Candidate, policy.Usage, error) {
	n := f.samples
	if n <= 0 {
		n = k
	}
	var (
		u     policy.Usage
		out   []Candidate
		index = map[string]int{}
	)
	for range n {
		d, err := f.p.Act(ctx, in)
		u = u.Add(d.Usage)
		if errors.Is(err, policy.ErrDone) {
			break
		}
		if err != nil {
			return nil, u, err
		}
		key := d.Action.String()
		if i, ok := index[key]; ok {
			out[i].Prior += 1 / float64(n)
			continue
		}
		index[key] = len(out)
		out = append(out, Candidate{Actions: []env.Action{d.Action}, Prior: 1 / float64(n), Thought: d.Thought})
	}
	sortByPrior(out)
	if len(out) > k {
		out = out[:k]
	}
	return out, u, nil
}

// Samples proposes k samples of an LLM policy's answer in one call where
// the provider allows it (policy.LLMPolicy.Candidates).
func Samples(p *policy.LLMPolicy) Proposer { return samples{p} }

type samples struct{ p *policy.LLMPolicy }

// Reflect asks the model what went wrong (policy.LLMPolicy.Reflect).
func (s samples) Reflect(ctx context.Context, in policy.Input, tried []env.Action, outcome string) (string, policy.Usage, error) {
	return s.p.Reflect(ctx, in, tried, outcome)
}

func (s samples) Propose(ctx context.Context, in policy.Input, k int) ([]Candidate, policy.Usage, error) {
	cs, _, u, err := s.p.Candidates(ctx, in, k)
	if err != nil {
		return nil, u, err
	}
	out := make([]Candidate, len(cs))
	for i, c := range cs {
		out[i] = Candidate{Actions: []env.Action{c.Action}, Prior: c.Prob, Thought: c.Thought}
	}
	return out, u, nil
}

// sortByPrior orders candidates by prior, highest first, keeping the
// order of equal ones.
func sortByPrior(cs []Candidate) {
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && cs[j].Prior > cs[j-1].Prior; j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
}
