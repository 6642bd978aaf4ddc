package planner

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/policy"
)

// Planner is a policy that searches before each committed step. Make one
// with NewBestFirst or NewMCTS. It is a policy.EnvUser: agent.Run gives it
// the episode's env, which must be an env.Snapshotter. Like most policies
// it keeps per-episode state: use one per episode at a time.
type Planner struct {
	name  string
	base  Proposer
	value Value
	opts  Options
	algo  func(s *search, root *node) (*node, string, error)

	e       env.Env
	prop    Proposer   // the proposer of the current state, for a Brancher
	plan    []planStep // the committed path's steps
	pos     int        // the index in plan of the next action to play
	props   []Proposer // the proposer after each step of plan
	lessons []string   // the episode's reflections (MCTS)
}

var (
	_ policy.Policy   = (*Planner)(nil)
	_ policy.EnvUser  = (*Planner)(nil)
	_ policy.Resetter = (*Planner)(nil)
)

func newPlanner(name string, p Proposer, v Value, opts Options, algo func(*search, *node) (*node, string, error)) (*Planner, error) {
	if p == nil {
		return nil, errors.New("planner: no proposer: give what lists the candidate actions (planner.Choices{}, planner.FromPolicy, a model's samples)")
	}
	if v == nil {
		return nil, errors.New("planner: no value function: give one (planner.Oracle{}, planner.Heuristic, planner.Judge)")
	}
	if err := opts.check(); err != nil {
		return nil, err
	}
	return &Planner{name: name, base: p, value: v, opts: opts, algo: algo, prop: p}, nil
}

// Name is "bfs" or "mcts".
func (p *Planner) Name() string { return p.name }

// UseEnv sets the env the planner searches in.
func (p *Planner) UseEnv(e env.Env) { p.e = e }

// ResetEpisode forgets the committed plan and the proposer's path.
func (p *Planner) ResetEpisode(t env.Task) {
	p.plan, p.pos, p.props, p.prop, p.lessons = nil, 0, nil, p.base, nil
	if r, ok := p.base.(Resetter); ok {
		r.ResetEpisode(t)
	}
}

// Act searches from the current state and returns the first action of
// the best path found; with Options.CommitPath, it plays the rest of that
// path first while the observations are those the search saw. The env is
// back in the state it was in when Act returns.
func (p *Planner) Act(ctx context.Context, in policy.Input) (policy.Decision, error) {
	if p.e == nil {
		return policy.Decision{}, errors.New("planner: no env to search in: agent.Run gives it (the planner is a policy.EnvUser); call UseEnv first")
	}
	if p.pos > 0 && p.pos < len(p.plan) && in.Obs.Text == p.plan[p.pos-1].obs {
		st := p.plan[p.pos]
		p.prop = p.props[p.pos]
		p.pos++
		return policy.Decision{Action: st.action, Thought: "the searched path goes on", Meta: map[string]any{"search": map[string]any{"planner": p.name, "planned": true}}}, nil
	}
	p.plan, p.pos, p.props = nil, 0, nil
	snap, err := env.Snapshots(p.e)
	if err != nil {
		return policy.Decision{}, fmt.Errorf("planner %s: %w", p.name, err)
	}
	rootState, err := snap.Snapshot(ctx)
	if err != nil {
		return policy.Decision{}, fmt.Errorf("planner %s: snapshot the state to search from: %w", p.name, err)
	}
	s := &search{ctx: ctx, e: p.e, snap: snap, in: in, opts: p.opts, value: p.value, start: time.Now(), lessons: &p.lessons}
	s.rec.Planner = p.name
	root := s.add(&node{parent: -1, state: rootState, obs: in.Obs, history: in.History, prop: p.prop})
	leaf, stopped, err := p.algo(s, root)
	if rerr := snap.Restore(ctx, rootState); rerr != nil && err == nil {
		err = fmt.Errorf("planner %s: restore the state searched from: %w", p.name, rerr)
	}
	if err != nil {
		return policy.Decision{Usage: s.usage}, fmt.Errorf("planner %s: %w", p.name, err)
	}
	if leaf == nil {
		// Nothing was valued (the env-step budget is smaller than a
		// candidate): take the proposer's favourite unsearched.
		cands, err := s.proposeAll(root, 1)
		if err != nil {
			return policy.Decision{Usage: s.usage}, fmt.Errorf("planner %s: %w", p.name, err)
		}
		if len(cands) == 0 {
			return policy.Decision{Usage: s.usage}, fmt.Errorf("planner %s: the proposer has no candidate at the current state", p.name)
		}
		s.finish(root, stopped+"; nothing valued: the proposer's first candidate, unsearched")
		c := cands[0]
		for _, a := range c.Actions {
			p.plan = append(p.plan, planStep{action: a})
		}
		p.queue(c, root)
		return p.decide(s, c.Actions[0], "unsearched: "+c.String(), 0)
	}
	s.finish(leaf, stopped)
	path := s.pathTo(leaf)
	if !p.opts.CommitPath {
		path = path[:1]
	}
	for _, n := range path {
		for _, st := range n.steps {
			p.plan = append(p.plan, st)
			p.props = append(p.props, n.prop)
		}
	}
	p.pos = 1
	if len(p.props) > 0 {
		p.prop = p.props[0]
	}
	first := path[0]
	return p.decide(s, p.plan[0].action, fmt.Sprintf("%s: best of %d nodes has value %.3g; takes %s", p.name, len(s.nodes), leaf.value, first.cand), leaf.value)
}

// queue sets the plan of an unsearched candidate.
func (p *Planner) queue(c Candidate, root *node) {
	next := root.prop
	if b, ok := root.prop.(Brancher); ok {
		next = b.Branch(c)
	}
	p.props = make([]Proposer, len(p.plan))
	for i := range p.props {
		p.props[i] = next
	}
	p.pos, p.prop = len(p.plan), next // no expected observations: search again next step
	if len(p.plan) > 1 {
		p.plan = p.plan[:1]
	}
}

func (p *Planner) decide(s *search, a env.Action, thought string, v float64) (policy.Decision, error) {
	rec := s.rec
	return policy.Decision{Action: a, Thought: thought, Usage: s.usage, Meta: map[string]any{"search": &rec, "value": v}}, nil
}
