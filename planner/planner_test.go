package planner_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/pilotkit/pilot/agent"
	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/env/envtest"
	"github.com/pilotkit/pilot/planner"
	"github.com/pilotkit/pilot/policy"
)

func TestToyEnvsKeepTheContract(t *testing.T) {
	envtest.Check(t, trapTree(), env.Task{})
	envtest.Check(t, &corridor{length: 1}, env.Task{}, envtest.Finish(env.A("right")))
}

// shaped values a leaf by its last step's reward: what makes the trap a
// trap for a greedy search.
var shaped = planner.Heuristic{Name: "shaping", F: func(l planner.Leaf) float64 { return l.Reward }}

// progress values the corridor by the position.
var progress = planner.Heuristic{Name: "position", F: func(l planner.Leaf) float64 {
	if l.Done {
		return 1
	}
	return l.Obs.State[0] / 10
}}

type planned struct {
	name string
	make func(planner.Proposer, planner.Value, planner.Options) (*planner.Planner, error)
}

var planners = []planned{{"bfs", planner.NewBestFirst}, {"mcts", planner.NewMCTS}}

func run(t *testing.T, e env.Env, p policy.Policy) *agent.Trajectory {
	t.Helper()
	traj, err := agent.Run(t.Context(), e, env.Task{ID: "toy"}, p, agent.Options{MaxSteps: 30})
	if err != nil {
		t.Fatalf("agent.Run: %v", err)
	}
	return traj
}

func actions(traj *agent.Trajectory) string {
	var s []string
	for _, st := range traj.Steps {
		s = append(s, st.Action.Name)
	}
	return strings.Join(s, "")
}

// Both planners find the trap tree's one good leaf, behind the step that
// earns least at first, within the default budget: with the oracle (the
// leaves' rewards) and with the misleading shaping as value.
func TestPlannersFindTheOptimum(t *testing.T) {
	for _, pl := range planners {
		for _, v := range []struct {
			name string
			v    planner.Value
		}{{"oracle", planner.Oracle{}}, {"shaping", shaped}} {
			t.Run(pl.name+"/"+v.name, func(t *testing.T) {
				e := trapTree()
				p, err := pl.make(planner.Choices{}, v.v, planner.Options{Budget: 40, Depth: 3})
				if err != nil {
					t.Fatal(err)
				}
				traj := run(t, e, p)
				if got := actions(traj); got != "cab" || !traj.Success {
					t.Errorf("%s took %q (success %v), want the optimum cab", pl.name, got, traj.Success)
				}
				rec, ok := traj.Steps[0].Meta["search"].(*planner.Record)
				if !ok {
					t.Fatalf("step 0 has no search record: %v", traj.Steps[0].Meta)
				}
				if rec.ValueCalls == 0 || rec.ValueCalls > 40 || rec.EnvSteps == 0 || len(rec.Nodes) < 2 || rec.Path[0] != 0 {
					t.Errorf("record = %d value calls, %d env steps, %d nodes, path %v; want a search within 40 value calls", rec.ValueCalls, rec.EnvSteps, len(rec.Nodes), rec.Path)
				}
				if rec.Oracle != (v.name == "oracle") {
					t.Errorf("record marks oracle %v with the %s value", rec.Oracle, v.name)
				}
			})
		}
	}
}

// Without search, taking the step that earns most falls in the trap.
func TestGreedyFallsInTheTrap(t *testing.T) {
	greedy := policy.Func(func(ctx context.Context, in policy.Input) (policy.Decision, error) {
		return policy.Decision{Action: env.A("a")}, nil
	})
	if traj := run(t, trapTree(), greedy); traj.Success {
		t.Fatalf("greedy succeeded: the trap is no trap")
	}
}

// A budget too small to see the leaves still moves: both planners walk
// the corridor to its end with the position as value, one committed step
// per search.
func TestPlannersWalkTheCorridor(t *testing.T) {
	for _, pl := range planners {
		t.Run(pl.name, func(t *testing.T) {
			p, err := pl.make(planner.Choices{}, progress, planner.Options{Budget: 6, Depth: 2, Branch: 2})
			if err != nil {
				t.Fatal(err)
			}
			traj := run(t, &corridor{length: 6}, p)
			if !traj.Success || len(traj.Steps) != 6 {
				t.Errorf("%s: success %v in %d steps (%s), want the end in 6", pl.name, traj.Success, len(traj.Steps), actions(traj))
			}
		})
	}
}

// With CommitPath the whole best path is played from one search.
func TestCommitPath(t *testing.T) {
	p, err := planner.NewBestFirst(planner.Choices{}, planner.Oracle{}, planner.Options{Budget: 40, Depth: 3, CommitPath: true})
	if err != nil {
		t.Fatal(err)
	}
	e := trapTree()
	traj := run(t, e, p)
	if actions(traj) != "cab" {
		t.Fatalf("took %q, want cab", actions(traj))
	}
	if _, ok := traj.Steps[1].Meta["search"].(*planner.Record); ok {
		t.Errorf("step 1 searched again; want it to follow the committed path")
	}
}

// The oracle with rollouts sees the corridor's end from afar.
func TestOracleRollout(t *testing.T) {
	right := planner.Proposer(rightFirst{})
	p, err := planner.NewBestFirst(right, planner.Oracle{Rollout: 10}, planner.Options{Budget: 2, Depth: 1, Branch: 2})
	if err != nil {
		t.Fatal(err)
	}
	traj := run(t, &corridor{length: 4}, p)
	rec := traj.Steps[0].Meta["search"].(*planner.Record)
	if !traj.Success || rec.Nodes[1].Value != 1 || !rec.Oracle {
		t.Errorf("success %v, first child's value %v (oracle %v); want the rollout to reach the end", traj.Success, rec.Nodes[1].Value, rec.Oracle)
	}
}

// rightFirst proposes right() before left().
type rightFirst struct{}

func (rightFirst) Propose(ctx context.Context, in policy.Input, k int) ([]planner.Candidate, policy.Usage, error) {
	c := []planner.Candidate{{Actions: []env.Action{env.A("right")}, Prior: 0.6}, {Actions: []env.Action{env.A("left")}, Prior: 0.4}}
	return c[:min(k, 2)], policy.Usage{}, nil
}

func TestBadOptions(t *testing.T) {
	for _, o := range []planner.Options{{Budget: -1}, {Depth: -2}, {Branch: -1}, {Consistency: 2}, {Explore: math.NaN()}} {
		if _, err := planner.NewBestFirst(planner.Choices{}, planner.Oracle{}, o); err == nil || !strings.Contains(err.Error(), "want") {
			t.Errorf("NewBestFirst(%+v) = %v, want an error saying what is wanted", o, err)
		}
	}
	if _, err := planner.NewMCTS(nil, planner.Oracle{}, planner.Options{}); err == nil {
		t.Errorf("NewMCTS without a proposer = nil error")
	}
	if _, err := planner.NewMCTS(planner.Choices{}, nil, planner.Options{}); err == nil {
		t.Errorf("NewMCTS without a value = nil error")
	}
}

// A value that fails or says NaN fails the step: an error of the run, not
// a value of 0.
func TestValueErrors(t *testing.T) {
	for name, v := range map[string]planner.Value{
		"error": planner.Heuristic{Name: "down", F: nil},
		"nan":   planner.Heuristic{Name: "nan", F: func(planner.Leaf) float64 { return math.NaN() }},
	} {
		for _, pl := range planners {
			p, err := pl.make(planner.Choices{}, v, planner.Options{})
			if err != nil {
				t.Fatal(err)
			}
			_, err = agent.Run(t.Context(), trapTree(), env.Task{}, p, agent.Options{})
			var ae *agent.Error
			if !errors.As(err, &ae) || ae.Phase != agent.PhasePolicy || !strings.Contains(err.Error(), "value at depth 1") {
				t.Errorf("%s with a value that fails (%s): %v, want a policy error naming the value", pl.name, name, err)
			}
		}
	}
}

// An env without snapshots is refused with what to do.
func TestNoSnapshots(t *testing.T) {
	p, err := planner.NewBestFirst(planner.Choices{}, progress, planner.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = agent.Run(t.Context(), &noSnap{corridor{length: 3}}, env.Task{}, p, agent.Options{})
	if !errors.Is(err, env.ErrNoSnapshot) || !strings.Contains(err.Error(), "without a planner") {
		t.Errorf("a planner on an env without snapshots: %v, want env.ErrNoSnapshot and what to do", err)
	}
	// And outside agent.Run, with no env at all.
	p, err = planner.NewMCTS(planner.Choices{}, progress, planner.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Act(t.Context(), policy.Input{}); err == nil || !strings.Contains(err.Error(), "UseEnv") {
		t.Errorf("Act without an env = %v, want an error naming UseEnv", err)
	}
}
