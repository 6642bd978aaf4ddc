package planner

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/env/web/tree"
	"github.com/pilotkit/pilot/policy"
)

// UnsureOptions configure AskWhenUnsure.
type UnsureOptions struct {
	// K is how many candidates the proposer gives at each step; 0 means 5.
	K int
	// Threshold: the policy asks when its best candidate's prior is
	// below it; 0 means 0.5.
	Threshold float64
	// MaxAsks bounds the questions of an episode; 0 means 1.
	MaxAsks int
}

// AskWhenUnsure wraps a policy so that it asks the user when it is
// unsure. At each step a proposer gives the candidates with their priors
// (k samples of a model policy, the scorer's softmax, a policy's samples:
// see Samples, FromPolicy); the best one's prior is the step's confidence,
// recorded in Decision.Meta["confidence"]. Below the threshold, while
// questions are left and the env offers ask_user (the agent has someone
// to ask), it asks which of the candidates the user wants ("Which do you
// want: color navy, color gray or size small?") instead of acting; else
// the wrapped policy acts. The answer reaches the policy in its history
// (policy.Turn.Answer).
//
// A proposer that branches (Brancher) follows the path the policy takes,
// as a planner's would. The confidence is the proposer's and the action
// the policy's: for a model, K samples then one answer, which need not be
// the samples' favourite (and a sample that was no valid action does not
// count in the priors: see policy.Candidate.Prob).
func AskWhenUnsure(p policy.Policy, prop Proposer, opts UnsureOptions) policy.Policy {
	if opts.K <= 0 {
		opts.K = 5
	}
	if opts.Threshold <= 0 {
		opts.Threshold = 0.5
	}
	if opts.MaxAsks <= 0 {
		opts.MaxAsks = 1
	}
	return &unsure{p: p, root: prop, prop: prop, opts: opts}
}

type unsure struct {
	p          policy.Policy
	root, prop Proposer
	opts       UnsureOptions
	asks       int
}

func (u *unsure) ResetEpisode(t env.Task) {
	if r, ok := u.p.(policy.Resetter); ok {
		r.ResetEpisode(t)
	}
	if r, ok := u.root.(Resetter); ok {
		r.ResetEpisode(t)
	}
	u.prop, u.asks = u.root, 0
}

func (u *unsure) Act(ctx context.Context, in policy.Input) (policy.Decision, error) {
	cands, usage, err := u.prop.Propose(ctx, in, u.opts.K)
	if err != nil {
		return policy.Decision{Usage: usage}, fmt.Errorf("ask when unsure: propose: %w", err)
	}
	if len(cands) == 0 {
		// Nothing to read a confidence from: the policy acts, and no
		// confidence is recorded.
		d, err := u.p.Act(ctx, in)
		d.Usage = d.Usage.Add(usage)
		return d, err
	}
	conf := min(max(cands[0].Prior, 0), 1)
	_, canAsk := in.Spec.Action("ask_user")
	if conf < u.opts.Threshold && canAsk && u.asks < u.opts.MaxAsks && len(cands) > 1 {
		if q := question(in.Obs, cands); q != "" {
			u.asks++
			return policy.Decision{
				Action:  env.A("ask_user", q),
				Thought: fmt.Sprintf("unsure: the best candidate has %.2f, under %.2f", conf, u.opts.Threshold),
				Usage:   usage,
				Meta:    map[string]any{"confidence": conf, "unsure": true},
			}, nil
		}
	}
	d, err := u.p.Act(ctx, in)
	d.Usage = d.Usage.Add(usage)
	if err != nil {
		return d, err
	}
	meta := maps.Clone(d.Meta)
	if meta == nil {
		meta = map[string]any{}
	}
	meta["confidence"] = conf
	d.Meta = meta
	if b, ok := u.prop.(Brancher); ok {
		for _, c := range cands {
			if len(c.Actions) > 0 && c.Actions[0].String() == d.Action.String() {
				u.prop = b.Branch(c)
				break
			}
		}
	}
	return d, nil
}

// question asks which of the candidates the user wants, naming each by
// what it acts on: the element's label, after its group's ("color
// navy"); "" when the candidates name nothing to choose between.
func question(obs env.Observation, cands []Candidate) string {
	var opts []string
	seen := map[string]bool{}
	for _, c := range cands {
		if len(c.Actions) == 0 {
			continue
		}
		s := describe(obs, c.Actions[0])
		if s == "" || seen[s] {
			continue
		}
		seen[s] = true
		opts = append(opts, strconv.Quote(s))
		if len(opts) == 3 {
			break
		}
	}
	if len(opts) < 2 {
		return ""
	}
	last := len(opts) - 1
	return "I am not sure what you want here. Which do you want: " + strings.Join(opts[:last], ", ") + " or " + opts[last] + "?"
}

// describe names what a acts on: for an action on an element of a web
// page, its label and its group's; else the action's text.
func describe(obs env.Observation, a env.Action) string {
	if a.Name == "fill" {
		return a.Arg(1)
	}
	if a.Name != "click" {
		return a.String()
	}
	nodes := tree.Parse(obs.Text)
	for i, n := range nodes {
		if n.ID != a.Arg(0) {
			continue
		}
		depth := n.Depth
		for j := i - 1; j >= 0; j-- {
			up := nodes[j]
			if up.Depth >= depth {
				continue
			}
			depth = up.Depth
			if (up.Role == "group" || up.Role == "radiogroup") && up.Name != "" {
				return up.Name + " " + n.Name
			}
		}
		return n.Name
	}
	return ""
}
