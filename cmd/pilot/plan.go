package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/evals"
	"github.com/pilotkit/pilot/planner"
	"github.com/pilotkit/pilot/policy"
)

// planFlags are the planner's flags of pilot run and pilot eval.
type planFlags struct {
	planner     string
	value       string
	depth       int
	branch      int
	budget      int
	envSteps    int
	rollout     int
	commitPath  bool
	explore     float64
	consistency float64
	judgeN      int
	reflect     bool
	seed        int64 // cem's sampling seed: the policy seed
	horizon     int
	samples     int
	iterations  int
	fs          *pflag.FlagSet
}

// treeFlags and cemFlags are the flags of the tree searches and of CEM.
var (
	treeFlags = []string{"value", "depth", "branch", "budget", "env-steps", "rollout", "commit-path", "explore", "consistency", "judge-samples", "reflect"}
	cemFlags  = []string{"horizon", "samples", "iterations"}
)

func (p *planFlags) register(fs *pflag.FlagSet) {
	p.fs = fs
	fs.StringVar(&p.planner, "planner", "none", "search before each step: none, bfs (best-first tree search, Koh et al.), mcts (Monte Carlo tree search, LATS), both on an env with snapshots (the shop, copied in lite and replayed in Chromium; cartpole; robot in fast mode); or cem (the cross-entropy method over the arm's joint targets, from no policy; a serial arm plans in a simulated twin)")
	fs.StringVar(&p.value, "value", "", "the planner's value function: oracle (the env's reward, with --rollout: for ablations only), judge (the --model judges each state), or the suite's own (the shop: heuristic, critic); default the suite's heuristic")
	fs.IntVar(&p.depth, "depth", planner.DefaultDepth, "the planner's depth: candidates along a searched path")
	fs.IntVar(&p.branch, "branch", planner.DefaultBranch, "the planner's branching: candidates per expanded state")
	fs.IntVar(&p.budget, "budget", planner.DefaultBudget, "value calls per committed step (MCTS: iterations)")
	fs.IntVar(&p.envSteps, "env-steps", 0, "env steps per committed step's search, rollouts included (0: 50 per value call)")
	fs.IntVar(&p.rollout, "rollout", 0, "--value oracle: play the proposer's favourite this many candidates from each state and take the final reward")
	fs.BoolVar(&p.commitPath, "commit-path", false, "play the whole best path found before searching again")
	fs.Float64Var(&p.explore, "explore", 1, "mcts: the UCT exploration constant")
	fs.Float64Var(&p.consistency, "consistency", 0, "mcts: weight of the proposer's prior in a state's value (LATS's self-consistency), 0..1")
	fs.IntVar(&p.judgeN, "judge-samples", 1, "--value judge: answers averaged per state")
	fs.BoolVar(&p.reflect, "reflect", true, "mcts with --model: reflect on each attempt that fails in the search and show the lessons in later prompts (LATS); --reflect=false turns it off")
	fs.IntVar(&p.horizon, "horizon", planner.DefaultHorizon, "cem: steps per sampled sequence")
	fs.IntVar(&p.samples, "samples", planner.DefaultSamples, "cem: sequences sampled per iteration")
	fs.IntVar(&p.iterations, "iterations", planner.DefaultIterations, "cem: refits per committed step")
}

// on reports whether a planner was asked for.
func (p *planFlags) on() bool { return p.planner != "none" }

// validate refuses planner flags that cannot work, before anything runs.
// engine is the --engine given ("" for the suite's default).
func (p *planFlags) validate(d evals.Def, engine string) error {
	switch p.planner {
	case "none":
		for _, name := range treeFlags {
			if p.fs.Changed(name) {
				return usagef("--%s is a planner flag: give --planner bfs or mcts with it", name)
			}
		}
		for _, name := range cemFlags {
			if p.fs.Changed(name) {
				return usagef("--%s is a flag of --planner cem", name)
			}
		}
		return nil
	case "cem":
		return p.validateCEM(d)
	case "bfs", "mcts":
		for _, name := range cemFlags {
			if p.fs.Changed(name) {
				return usagef("--%s is a flag of --planner cem, not %s", name, p.planner)
			}
		}
	default:
		return usagef("--planner %q: want none, bfs, mcts or cem", p.planner)
	}
	switch {
	case p.depth < 1:
		return usagef("--depth %d: want 1 or more candidates along a path", p.depth)
	case p.branch < 1:
		return usagef("--branch %d: want 1 or more candidates per state", p.branch)
	case p.budget < 1:
		return usagef("--budget %d: want 1 or more value calls per step", p.budget)
	case p.envSteps < 0:
		return usagef("--env-steps %d: want 1 or more (0: 50 per value call)", p.envSteps)
	case p.rollout < 0:
		return usagef("--rollout %d: want 0 or more candidates", p.rollout)
	case p.rollout > 0 && p.value != "oracle":
		return usagef("--rollout is for --value oracle: a rollout reads the env's reward")
	case p.judgeN < 1:
		return usagef("--judge-samples %d: want 1 or more", p.judgeN)
	}
	if engine == "" && len(d.Engines) > 0 {
		engine = d.Engines[0]
	}
	if d.Plan != nil && len(d.Plan.Engines) > 0 && !slices.Contains(d.Plan.Engines, engine) {
		return usagef("--planner on suite %s needs an engine whose envs save their state: --engine %s (not %s)", d.Name, strings.Join(d.Plan.Engines, " or "), engine)
	}
	values := p.valueNames(d)
	if p.value == "" {
		if !slices.Contains(values, "heuristic") {
			return usagef("--planner %s on %s: give --value, one of %s", p.planner, suiteWord(d), strings.Join(values, ", "))
		}
		p.value = "heuristic"
	}
	if !slices.Contains(values, p.value) {
		return usagef("--value %q: %s has %s", p.value, suiteWord(d), strings.Join(values, ", "))
	}
	return nil
}

// validateCEM checks the flags of --planner cem.
func (p *planFlags) validateCEM(d evals.Def) error {
	for _, name := range treeFlags {
		if p.fs.Changed(name) {
			return usagef("--%s is a flag of --planner bfs and mcts; cem plans with the env's reward (--horizon, --samples, --iterations)", name)
		}
	}
	switch {
	case d.Plan == nil || d.Plan.Box == nil:
		return usagef("--planner cem samples continuous actions, and %s has none: use --planner bfs or mcts", suiteWord(d))
	case p.fs.Changed("policy") || p.fs.Lookup("model") != nil && p.fs.Changed("model"):
		return usagef("--planner cem plans from no policy: drop --policy and --model")
	case p.horizon < 1:
		return usagef("--horizon %d: want 1 or more steps", p.horizon)
	case p.samples < 2:
		return usagef("--samples %d: want 2 or more sequences", p.samples)
	case p.iterations < 1:
		return usagef("--iterations %d: want 1 or more", p.iterations)
	}
	p.value = "reward"
	return nil
}

// suiteWord names what is searched: "suite shop", or "a page of --url".
func suiteWord(d evals.Def) string {
	if d.Name == "" {
		return "a page of --url"
	}
	return "suite " + d.Name
}

func (p *planFlags) valueNames(d evals.Def) []string {
	names := []string{"oracle", "judge"}
	if d.Plan != nil {
		names = append(names, slices.Sorted(maps.Keys(d.Plan.Values))...)
	}
	return names
}

// name is how the planner appears beside the policy's name: "+bfs(heuristic)".
func (p *planFlags) name() string {
	if !p.on() {
		return ""
	}
	if p.planner == "cem" {
		return "cem"
	}
	return "+" + p.planner + "(" + p.value + ")"
}

// wrap makes each policy of np the proposer of a planner.
func (p *planFlags) wrap(d evals.Def, np newPolicy) newPolicy {
	if !p.on() || np == nil {
		return np
	}
	return func(t env.Task) (policy.Policy, error) {
		base, err := np(t)
		if err != nil {
			return nil, err
		}
		return p.planOver(d, base, 0)
	}
}

// planOver returns the planner over base; repeat (0 for none) shifts
// CEM's sampling seed, as it does a random policy's.
func (p *planFlags) planOver(d evals.Def, base policy.Policy, repeat int) (policy.Policy, error) {
	if !p.on() {
		return base, nil
	}
	if p.planner == "cem" {
		c, err := planner.NewCEM(*d.Plan.Box, planner.CEMOptions{Horizon: p.horizon, Samples: p.samples, Iterations: p.iterations, Seed: uint64(p.seed + int64(max(repeat-1, 0)))})
		if err != nil {
			return nil, fmt.Errorf("--planner cem: %w", err)
		}
		return c, nil
	}
	var prop planner.Proposer
	if d.Plan != nil && d.Plan.Propose != nil {
		prop, _ = d.Plan.Propose(base)
	}
	llm, isLLM := base.(*policy.LLMPolicy)
	if prop == nil {
		if isLLM {
			prop = planner.Samples(llm)
		} else {
			prop = planner.FromPolicy(base, p.branch)
		}
	}
	var v planner.Value
	switch p.value {
	case "oracle":
		v = planner.Oracle{Rollout: p.rollout}
	case "judge":
		if !isLLM {
			return nil, usagef("--value judge asks the policy's model: give --model")
		}
		v = planner.Judge{Model: llm.Model(), Samples: p.judgeN}
	default:
		def, ok := d.Plan.Values[p.value]
		if !ok {
			return nil, usagef("--value %q: suite %s has %s", p.value, d.Name, strings.Join(p.valueNames(d), ", "))
		}
		var err error
		if v, err = def.Make(base); err != nil {
			return nil, &usageError{err}
		}
	}
	opts := planner.Options{Depth: p.depth, Branch: p.branch, Budget: p.budget, MaxEnvSteps: p.envSteps, CommitPath: p.commitPath, Explore: p.explore, Consistency: p.consistency, NoReflect: !p.reflect}
	if p.explore == 0 {
		opts.Explore = 1e-9 // 0 means the default in Options: pure exploitation asked for
	}
	var (
		pl  *planner.Planner
		err error
	)
	if p.planner == "bfs" {
		pl, err = planner.NewBestFirst(prop, v, opts)
	} else {
		pl, err = planner.NewMCTS(prop, v, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("--planner %s: %w", p.planner, err)
	}
	return pl, nil
}
