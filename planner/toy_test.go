package planner_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pilotkit/pilot/env"
)

// tree is a toy env with a known optimum: from the root, each step takes
// one of the branches a, b, c, …; after depth steps the episode ends with
// the leaf's reward. Along the way each step earns its shaping reward,
// and the branch that earns the most at first (the trap) leads nowhere.
type tree struct {
	branches, depth int
	// leaf is the final reward of a path such as "aab"; shaping the
	// reward of the step that made a path.
	leaf, shaping func(path string) float64

	path    string
	started bool
	over    bool
	closed  bool
	epoch   int
	steps   int // env steps taken, searched ones included
	lastErr string
}

// trapTree is a tree of 3 branches and depth 3: the optimum "cab" earns 1,
// every other leaf 0; the first step "a" earns 0.9 of shaping, "c" 0.1.
func trapTree() *tree {
	return &tree{
		branches: 3, depth: 3,
		leaf: func(p string) float64 {
			if p == "cab" {
				return 1
			}
			return 0
		},
		shaping: func(p string) float64 {
			switch p {
			case "a":
				return 0.9
			case "b":
				return 0.5
			case "c":
				return 0.1
			}
			return 0
		},
	}
}

func (t *tree) Spec() env.Spec {
	s := env.Spec{Name: "tree", Modalities: []string{"text"}}
	for i := range t.branches {
		s.Actions = append(s.Actions, env.ActionSpec{Name: string(rune('a' + i)), Doc: "take branch " + string(rune('a'+i))})
	}
	return s
}

func (t *tree) obs() env.Observation {
	o := env.Observation{Text: fmt.Sprintf("at %q", t.path), Error: t.lastErr}
	if !t.over {
		for i := range t.branches {
			o.Choices = append(o.Choices, env.Action{Name: string(rune('a' + i))})
		}
	}
	return o
}

func (t *tree) Reset(ctx context.Context, task env.Task) (env.Observation, error) {
	if t.closed {
		return env.Observation{}, env.ErrClosed
	}
	t.path, t.started, t.over, t.lastErr = "", true, false, ""
	t.epoch++
	return t.obs(), nil
}

func (t *tree) Step(ctx context.Context, a env.Action) (env.Step, error) {
	switch {
	case t.closed:
		return env.Step{}, env.ErrClosed
	case !t.started:
		return env.Step{}, env.ErrNotReset
	case t.over:
		return env.Step{}, env.ErrEpisodeOver
	}
	t.steps++
	if err := t.Spec().Validate(a); err != nil {
		t.lastErr = err.Error()
		return env.Step{Obs: t.obs()}, nil
	}
	t.lastErr = ""
	t.path += a.Name
	st := env.Step{Reward: t.shaping(t.path)}
	if len(t.path) == t.depth {
		t.over = true
		st.Terminated, st.Reward, st.Reason = true, t.leaf(t.path), "a leaf"
		st.Info = map[string]any{env.InfoSuccess: st.Reward == 1}
	}
	st.Obs = t.obs()
	return st, nil
}

func (t *tree) Close() error { t.closed = true; return nil }

type treeState struct {
	t        *tree
	epoch    int
	path     string
	over     bool
	lastErr  string
	observed env.Observation
}

func (s *treeState) Observation() env.Observation { return s.observed }

func (t *tree) Snapshot(ctx context.Context) (env.State, error) {
	if t.closed {
		return nil, env.ErrClosed
	}
	return &treeState{t: t, epoch: t.epoch, path: t.path, over: t.over, lastErr: t.lastErr, observed: t.obs()}, nil
}

func (t *tree) Restore(ctx context.Context, st env.State) error {
	s, ok := st.(*treeState)
	switch {
	case t.closed:
		return env.ErrClosed
	case !ok || s.t != t:
		return env.ErrForeignState
	case s.epoch != t.epoch:
		return env.ErrStaleState
	}
	t.path, t.over, t.lastErr = s.path, s.over, s.lastErr
	return nil
}

// corridor is a toy env: positions 0..length, left() and right(), the
// episode ends with reward 1 at the far end. Position is the state.
type corridor struct {
	length  int
	pos     int
	started bool
	over    bool
	closed  bool
	epoch   int
}

func (c *corridor) Spec() env.Spec {
	return env.Spec{Name: "corridor", Modalities: []string{"text", "state"}, Actions: []env.ActionSpec{
		{Name: "left", Doc: "one step left"}, {Name: "right", Doc: "one step right"},
	}}
}

func (c *corridor) obs() env.Observation {
	o := env.Observation{Text: "at " + strings.Repeat(".", c.pos) + "*" + strings.Repeat(".", c.length-c.pos), State: []float64{float64(c.pos)}}
	if !c.over {
		o.Choices = []env.Action{{Name: "left"}, {Name: "right"}}
	}
	return o
}

func (c *corridor) Reset(ctx context.Context, task env.Task) (env.Observation, error) {
	if c.closed {
		return env.Observation{}, env.ErrClosed
	}
	c.pos, c.started, c.over = 0, true, false
	c.epoch++
	return c.obs(), nil
}

func (c *corridor) Step(ctx context.Context, a env.Action) (env.Step, error) {
	switch {
	case c.closed:
		return env.Step{}, env.ErrClosed
	case !c.started:
		return env.Step{}, env.ErrNotReset
	case c.over:
		return env.Step{}, env.ErrEpisodeOver
	}
	switch a.Name {
	case "left":
		c.pos = max(0, c.pos-1)
	case "right":
		c.pos++
	default:
		o := c.obs()
		o.Error = "unknown action " + a.Name
		return env.Step{Obs: o}, nil
	}
	st := env.Step{}
	if c.pos == c.length {
		c.over = true
		st.Terminated, st.Reward, st.Reason = true, 1, "the end of the corridor"
	}
	st.Obs = c.obs()
	return st, nil
}

func (c *corridor) Close() error { c.closed = true; return nil }

type corridorState struct {
	c     *corridor
	epoch int
	pos   int
	over  bool
	obs   env.Observation
}

func (s *corridorState) Observation() env.Observation { return s.obs }

func (c *corridor) Snapshot(ctx context.Context) (env.State, error) {
	if c.closed {
		return nil, env.ErrClosed
	}
	return &corridorState{c: c, epoch: c.epoch, pos: c.pos, over: c.over, obs: c.obs()}, nil
}

func (c *corridor) Restore(ctx context.Context, st env.State) error {
	s, ok := st.(*corridorState)
	switch {
	case c.closed:
		return env.ErrClosed
	case !ok || s.c != c:
		return env.ErrForeignState
	case s.epoch != c.epoch:
		return env.ErrStaleState
	}
	c.pos, c.over = s.pos, s.over
	return nil
}

// noSnap is an env without snapshots.
type noSnap struct{ corridor }

func (n *noSnap) Snapshot() {} // not env.Snapshotter's

var errValue = errors.New("the value server is down")
