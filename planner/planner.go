// Package planner searches over an environment's states before the agent
// commits an action. A planner wraps what proposes actions (a policy's
// samples, a neural scorer's top-k, the env's listed choices) and a value
// function, and is itself a policy.Policy: agent.Run, pilot run and pilot
// eval drive it like any other policy.
//
// The envs pilot owns save and restore their state (env.Snapshotter), so a
// planner forks them where Koh et al. (2024), LATS and Agent Q had to
// replay actions from the start:
//
//	p, err := planner.NewBestFirst(proposer, planner.Oracle{}, planner.Options{})
//	traj, err := agent.Run(ctx, e, task, p, agent.Options{})
//
// BestFirst is the best-first tree search of Koh et al. (depth 4,
// branching 5, 20 value calls per committed step, stop at value 1); MCTS
// is LATS's Monte Carlo tree search with UCT. Each committed step records
// its search (Record) in the decision's Meta["search"].
package planner

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/policy"
)

// A Candidate is one way to go on from a state: an action, or a short
// sequence of them that belong together (a search is a fill and a click).
type Candidate struct {
	Actions []env.Action
	// Prior is how much the proposer favours it, in [0, 1].
	Prior   float64
	Thought string
	// Data is the proposer's own, for its Branch.
	Data any
}

func (c Candidate) String() string {
	s := ""
	for i, a := range c.Actions {
		if i > 0 {
			s += "; "
		}
		s += a.String()
	}
	return s
}

// A Proposer lists candidates at a state of the search: up to k, the
// most favoured first.
type Proposer interface {
	Propose(ctx context.Context, in policy.Input, k int) ([]Candidate, policy.Usage, error)
}

// A Brancher is a Proposer with a memory of the path (the items it opened,
// the searches it ran): the planner keeps one per search node, made by
// Branch from the parent's after it took c.
type Brancher interface {
	Proposer
	Branch(c Candidate) Proposer
}

// A Resetter is a Proposer that keeps per-episode state.
type Resetter interface {
	ResetEpisode(t env.Task)
}

// A Leaf is a state of the search, as a value function sees it.
type Leaf struct {
	Task env.Task
	Spec env.Spec
	Obs  env.Observation
	// History is the episode's turns and the path's, oldest first.
	History []policy.Turn
	// Reward is the last step's; Return sums the path's.
	Reward, Return float64
	// Done is set when the episode ended on the path; Success when it
	// ended in success (env.InfoSuccess, else a final reward of 1).
	Done, Success bool
	Depth         int

	rollout func(ctx context.Context, steps int) (Rollout, error)
}

// A Rollout is how a greedy play from a leaf ended.
type Rollout struct {
	Reward   float64 // the last step's
	Done     bool
	Success  bool
	EnvSteps int
}

// Rollout plays the proposer's favourite candidate from the leaf for up
// to steps candidates, and brings the env back to the leaf. It is what an
// oracle value reads: it uses the env's reward.
func (l Leaf) Rollout(ctx context.Context, steps int) (Rollout, error) {
	if l.rollout == nil {
		return Rollout{}, errors.New("planner: this leaf cannot roll out (it was not made by a planner)")
	}
	return l.rollout(ctx, steps)
}

// A Value scores a leaf: about 1 for a state from which the task
// succeeds (or has), about 0 for a failure.
type Value interface {
	Value(ctx context.Context, l Leaf) (Estimate, error)
}

// An Estimate is a value and what it cost.
type Estimate struct {
	V     float64
	Usage policy.Usage
	// Oracle is set by values that read the env's reward, which an agent
	// deployed for real does not have: results with it are ablations.
	Oracle bool
	// EnvSteps counts the steps a rollout took.
	EnvSteps int
}

// Options are the budgets and limits of a planner. The zero value takes
// the defaults of Koh et al.
type Options struct {
	// Depth bounds the length of a searched path, in candidates (4).
	Depth int
	// Branch is how many candidates a node is expanded with (5).
	Branch int
	// Budget is the number of value calls per committed step (20); an
	// MCTS's iterations.
	Budget int
	// MaxEnvSteps bounds the env steps of one committed step's search,
	// rollouts included (0: 50 × Budget).
	MaxEnvSteps int
	// StopAt ends the search early once a leaf is valued at least this
	// (1); a negative value never.
	StopAt float64
	// CommitPath plays the whole best path before searching again,
	// instead of its first candidate, while the observations are those
	// the search saw.
	CommitPath bool
	// Explore is MCTS's exploration constant (1).
	Explore float64
	// Consistency mixes the proposer's prior into an MCTS node's value:
	// (1-w)·value + w·prior, LATS's self-consistency (0).
	Consistency float64
	// NoReflect turns off MCTS's reflections: with a proposer that is a
	// Reflector (a model's samples), each attempt that ends in failure
	// in the search is reflected on, and the last MaxReflections lessons
	// go into later prompts of the episode (LATS).
	NoReflect bool
}

// MaxReflections is how many lessons an episode's prompts carry.
const MaxReflections = 3

// A Reflector says what went wrong in a failed attempt: a lesson for the
// proposer's later prompts (policy.Input.Reflections).
type Reflector interface {
	Reflect(ctx context.Context, in policy.Input, tried []env.Action, outcome string) (string, policy.Usage, error)
}

// Defaults of Options.
const (
	DefaultDepth  = 4
	DefaultBranch = 5
	DefaultBudget = 20
	DefaultStopAt = 1.0
)

// check fills in the defaults and refuses what cannot be searched.
func (o *Options) check() error {
	switch {
	case o.Depth < 0:
		return fmt.Errorf("planner: depth %d: want 1 or more (0 for %d)", o.Depth, DefaultDepth)
	case o.Branch < 0:
		return fmt.Errorf("planner: branching %d: want 1 or more (0 for %d)", o.Branch, DefaultBranch)
	case o.Budget < 0:
		return fmt.Errorf("planner: budget %d: want 1 or more value calls per step (0 for %d)", o.Budget, DefaultBudget)
	case o.MaxEnvSteps < 0:
		return fmt.Errorf("planner: %d env steps: want 1 or more (0 for 50 per value call)", o.MaxEnvSteps)
	case o.Consistency < 0 || o.Consistency > 1 || math.IsNaN(o.Consistency):
		return fmt.Errorf("planner: consistency %v: want 0..1", o.Consistency)
	case o.Explore < 0 || math.IsNaN(o.Explore):
		return fmt.Errorf("planner: exploration %v: want 0 or more", o.Explore)
	}
	if o.Depth == 0 {
		o.Depth = DefaultDepth
	}
	if o.Branch == 0 {
		o.Branch = DefaultBranch
	}
	if o.Budget == 0 {
		o.Budget = DefaultBudget
	}
	if o.MaxEnvSteps == 0 {
		o.MaxEnvSteps = 50 * o.Budget
	}
	if o.StopAt == 0 {
		o.StopAt = DefaultStopAt
	}
	if o.Explore == 0 {
		o.Explore = 1
	}
	return nil
}

// ErrBudget is wrapped by the error of a search that ran out of env steps
// before it valued a single candidate.
var ErrBudget = errors.New("planner: the search's env-step budget ran out before any candidate was valued")

// Record is what one committed step's search did, in its decision's
// Meta["search"].
type Record struct {
	Planner    string        `json:"planner"`
	Nodes      []NodeRecord  `json:"nodes"`
	Path       []int         `json:"path"` // node ids from the root to the chosen leaf
	EnvSteps   int           `json:"env_steps"`
	ValueCalls int           `json:"value_calls"`
	ModelCalls int           `json:"model_calls"`
	Wall       time.Duration `json:"wall_ns"`
	Oracle     bool          `json:"oracle,omitempty"`
	Stopped    string        `json:"stopped"` // why the search ended
	// Reflections are the lessons drawn in this search (MCTS with a
	// model's samples).
	Reflections []string `json:"reflections,omitempty"`
	// Skipped lists candidates not explored, and why.
	Skipped []string `json:"skipped,omitempty"`
}

// NodeRecord is one node of a search tree.
type NodeRecord struct {
	ID     int    `json:"id"`
	Parent int    `json:"parent"` // -1 for the root
	Depth  int    `json:"depth"`
	Action string `json:"action,omitempty"` // the candidate taken from the parent
	// First is the candidate's first action, when it has several
	// ("fill(…); click(…)"): what a policy answers at the parent.
	First  string  `json:"first,omitempty"`
	Prior  float64 `json:"prior,omitempty"`
	Value  float64 `json:"value"`
	Valued bool    `json:"valued"`
	Visits int     `json:"visits,omitempty"`
	Reward float64 `json:"reward,omitempty"`
	Done   bool    `json:"done,omitempty"`
	Error  string  `json:"error,omitempty"` // the observation's error after it
}

// node is a state in a search tree.
type node struct {
	id, parent, depth int
	cand              Candidate
	state             env.State
	obs               env.Observation
	history           []policy.Turn
	reward, ret       float64
	done, success     bool
	prop              Proposer
	children          []int
	value             float64
	valued            bool
	lessonsAt         int // the search's reflections when it was expanded
	visits            int
	wsum              float64
	expanded          bool
	// steps are the actions from the parent and the observation each
	// gave: what a committed path expects to see again.
	steps []planStep
}

type planStep struct {
	action env.Action
	obs    string // the observation's text after it
}

// search is the state one committed step's search shares.
type search struct {
	ctx   context.Context
	e     env.Env
	snap  env.Snapshotter
	in    policy.Input
	opts  Options
	value Value
	nodes []*node
	rec   Record
	usage policy.Usage
	start time.Time
	// lessons are the episode's reflections, shown to the proposer;
	// reflected counts those drawn in this search.
	lessons   *[]string
	reflected int
}

func (s *search) add(n *node) *node {
	n.id = len(s.nodes)
	s.nodes = append(s.nodes, n)
	return n
}

// input is what a proposer sees at n.
func (s *search) input(n *node) policy.Input {
	in := s.in
	in.Obs, in.History, in.Step = n.obs, n.history, s.in.Step+len(n.history)-len(s.in.History)
	if s.lessons != nil && len(*s.lessons) > 0 {
		in.Reflections = slices.Clone(*s.lessons)
	}
	return in
}

// propose asks n's proposer for up to k candidates to explore: in an env
// that replays its restores (env.Replayer), not those whose first action
// the env flags as irreversible, which are listed in the record's
// Skipped.
func (s *search) propose(n *node, k int) ([]Candidate, error) {
	cands, err := s.proposeAll(n, k)
	if err != nil {
		return nil, err
	}
	r, replays := s.e.(env.Replayer)
	ir, flags := s.e.(env.Irreversible)
	if !replays || !flags || !r.Replayed() {
		return cands, nil
	}
	out := cands[:0:0]
	for _, c := range cands {
		if len(c.Actions) == 0 {
			out = append(out, c) // expand refuses it
			continue
		}
		if why := ir.Irreversible(n.obs, c.Actions[0]); why != "" {
			s.rec.Skipped = append(s.rec.Skipped, fmt.Sprintf("%s: %s, and this env's restores replay requests to the site, which keeps what they did: not explored", c, why))
			continue
		}
		out = append(out, c)
	}
	return out, nil
}

// proposeAll asks n's proposer for up to k candidates.
func (s *search) proposeAll(n *node, k int) ([]Candidate, error) {
	cands, u, err := n.prop.Propose(s.ctx, s.input(n), k)
	s.usage = s.usage.Add(u)
	if u.Tokens() > 0 || u.Latency > 0 {
		s.rec.ModelCalls++
	}
	if err != nil {
		return nil, fmt.Errorf("planner: propose at depth %d: %w", n.depth, err)
	}
	if len(cands) > k {
		cands = cands[:k]
	}
	return cands, nil
}

func (s *search) stepsLeft() int { return s.opts.MaxEnvSteps - s.rec.EnvSteps }

// expand takes c from n and returns the child, with the env in the
// child's state; nil when the env-step budget ran out first.
func (s *search) expand(n *node, c Candidate) (*node, error) {
	if len(c.Actions) == 0 {
		return nil, fmt.Errorf("planner: the proposer gave a candidate with no action at depth %d", n.depth)
	}
	if s.stepsLeft() < len(c.Actions) {
		return nil, nil
	}
	if err := s.snap.Restore(s.ctx, n.state); err != nil {
		return nil, fmt.Errorf("planner: restore the state at depth %d: %w", n.depth, err)
	}
	child := &node{parent: n.id, depth: n.depth + 1, cand: c, obs: n.obs, ret: n.ret, history: slices.Clip(n.history)}
	for _, a := range c.Actions {
		st, err := s.e.Step(s.ctx, a)
		s.rec.EnvSteps++
		if err != nil {
			return nil, fmt.Errorf("planner: step %s while searching: %w", a, err)
		}
		child.obs = st.Obs
		child.reward, child.ret = st.Reward, child.ret+st.Reward
		child.history = append(child.history, policy.Turn{Action: a, Error: st.Obs.Error, Reward: st.Reward})
		child.steps = append(child.steps, planStep{action: a, obs: st.Obs.Text})
		if st.Done() {
			child.done = true
			child.success = st.Terminated && st.Reward >= 1
			if v, ok := st.Info[env.InfoSuccess].(bool); ok {
				child.success = st.Terminated && v
			}
			break
		}
		if st.Obs.Error != "" {
			break // the rest of the candidate was planned for another page
		}
	}
	child.prop = n.prop
	if b, ok := n.prop.(Brancher); ok {
		child.prop = b.Branch(c)
	}
	if !child.done {
		st, err := s.snap.Snapshot(s.ctx)
		if err != nil {
			return nil, fmt.Errorf("planner: snapshot at depth %d: %w", child.depth, err)
		}
		child.state = st
	}
	s.add(child)
	n.children = append(n.children, child.id)
	return child, nil
}

// reflect, after an attempt that ended in failure at n, asks the
// proposer what went wrong, when it is a Reflector and reflections are
// on, and keeps the lesson for the episode's later prompts.
func (s *search) reflect(n *node) error {
	r, ok := n.prop.(Reflector)
	if !ok || s.opts.NoReflect || s.lessons == nil || !n.done || n.success {
		return nil
	}
	var tried []env.Action
	for m := n; m.id != 0; m = s.nodes[m.parent] {
		for i := len(m.steps) - 1; i >= 0; i-- {
			tried = append(tried, m.steps[i].action)
		}
	}
	slices.Reverse(tried)
	outcome := fmt.Sprintf("the episode ended without success (last reward %.3g)", n.reward)
	if n.obs.Error != "" {
		outcome += "; the last action failed: " + n.obs.Error
	}
	if t := strings.TrimSpace(n.obs.Text); t != "" {
		if len(t) > 500 {
			t = t[:500] + "…"
		}
		outcome += "; the last observation: " + t
	}
	lesson, u, err := r.Reflect(s.ctx, s.input(s.nodes[0]), tried, outcome)
	s.usage = s.usage.Add(u)
	s.rec.ModelCalls++
	if err != nil {
		return fmt.Errorf("planner: reflect on a failed attempt: %w", err)
	}
	*s.lessons = append(*s.lessons, lesson)
	if len(*s.lessons) > MaxReflections {
		*s.lessons = (*s.lessons)[len(*s.lessons)-MaxReflections:]
	}
	s.rec.Reflections = append(s.rec.Reflections, lesson)
	s.reflected++
	return nil
}

// evaluate values n, which the env is in.
func (s *search) evaluate(n *node) error {
	l := Leaf{Task: s.in.Task, Spec: s.in.Spec, Obs: n.obs, History: n.history, Reward: n.reward, Return: n.ret, Done: n.done, Success: n.success, Depth: n.depth}
	l.rollout = func(ctx context.Context, steps int) (Rollout, error) { return s.rollout(n, steps) }
	est, err := s.value.Value(s.ctx, l)
	s.rec.ValueCalls++
	s.usage = s.usage.Add(est.Usage)
	s.rec.EnvSteps += est.EnvSteps
	if est.Usage.Tokens() > 0 {
		s.rec.ModelCalls++
	}
	if err != nil {
		return fmt.Errorf("planner: value at depth %d: %w", n.depth, err)
	}
	if math.IsNaN(est.V) || math.IsInf(est.V, 0) {
		return fmt.Errorf("planner: value at depth %d is %v: a value function must return a finite number", n.depth, est.V)
	}
	if est.Oracle {
		s.rec.Oracle = true
	}
	n.value, n.valued = est.V, true
	return nil
}

// rollout plays n's proposer's favourite from n for up to steps
// candidates, counting its env steps in the Rollout (not in the record:
// evaluate adds what the value reports), and leaves the env in n's state.
func (s *search) rollout(n *node, steps int) (Rollout, error) {
	var r Rollout
	if n.done {
		return Rollout{Reward: n.reward, Done: true, Success: n.success}, nil
	}
	defer func() { _ = s.snap.Restore(s.ctx, n.state) }()
	if err := s.snap.Restore(s.ctx, n.state); err != nil {
		return r, fmt.Errorf("planner: restore for a rollout: %w", err)
	}
	cur := &node{obs: n.obs, history: slices.Clip(n.history), prop: n.prop, depth: n.depth}
	for range steps {
		cands, err := s.propose(cur, 1)
		if err != nil {
			return r, err
		}
		if len(cands) == 0 {
			return r, nil
		}
		c := cands[0]
		for _, a := range c.Actions {
			if s.rec.EnvSteps+r.EnvSteps >= s.opts.MaxEnvSteps {
				return r, nil
			}
			st, err := s.e.Step(s.ctx, a)
			r.EnvSteps++
			if err != nil {
				return r, fmt.Errorf("planner: step %s in a rollout: %w", a, err)
			}
			cur.obs = st.Obs
			cur.history = append(cur.history, policy.Turn{Action: a, Error: st.Obs.Error, Reward: st.Reward})
			r.Reward = st.Reward
			if st.Done() {
				r.Done = true
				r.Success = st.Terminated && st.Reward >= 1
				if v, ok := st.Info[env.InfoSuccess].(bool); ok {
					r.Success = st.Terminated && v
				}
				return r, nil
			}
			if st.Obs.Error != "" {
				break
			}
		}
		if b, ok := cur.prop.(Brancher); ok {
			cur.prop = b.Branch(c)
		}
	}
	return r, nil
}

// finish fills in the record's nodes and path to leaf.
func (s *search) finish(leaf *node, stopped string) {
	s.rec.Stopped = stopped
	s.rec.Wall = time.Since(s.start)
	for _, n := range s.nodes {
		r := NodeRecord{ID: n.id, Parent: n.parent, Depth: n.depth, Prior: n.cand.Prior, Value: n.value, Valued: n.valued, Visits: n.visits, Reward: n.reward, Done: n.done, Error: n.obs.Error}
		if n.id == 0 {
			r.Parent, r.Error = -1, ""
		} else {
			r.Action = n.cand.String()
			if len(n.cand.Actions) > 1 {
				r.First = n.cand.Actions[0].String()
			}
		}
		s.rec.Nodes = append(s.rec.Nodes, r)
	}
	for n := leaf; n != nil; {
		s.rec.Path = append([]int{n.id}, s.rec.Path...)
		if n.id == 0 {
			break
		}
		n = s.nodes[n.parent]
	}
}

// pathTo lists the nodes from the root's child to n.
func (s *search) pathTo(n *node) []*node {
	var path []*node
	for n != nil && n.id != 0 {
		path = append([]*node{n}, path...)
		n = s.nodes[n.parent]
	}
	return path
}
