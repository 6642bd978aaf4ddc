package planner_test

import (
	"context"
	"strings"
	"testing"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/planner"
	"github.com/pilotkit/pilot/policy"
)

// fixedProposer proposes the same candidates, and counts its branches.
type fixedProposer struct {
	cands    []planner.Candidate
	branched *[]string
}

func (f fixedProposer) Propose(context.Context, policy.Input, int) ([]planner.Candidate, policy.Usage, error) {
	return f.cands, policy.Usage{}, nil
}

func (f fixedProposer) Branch(c planner.Candidate) planner.Proposer {
	*f.branched = append(*f.branched, c.String())
	return f
}

const itemPage = `URL: http://shop/item

[8] form
  [9] group "color"
    [10] legend "color"
    [11] radio "navy"
    [12] radio "gray"
  [15] group "size"
    [17] radio "small"
  [22] button "Buy Now"`

func TestAskWhenUnsure(t *testing.T) {
	spec := env.Spec{Name: "web", Actions: []env.ActionSpec{{Name: "click"}, {Name: "ask_user"}}}
	unsure := []planner.Candidate{
		{Actions: []env.Action{env.A("click", "11")}, Prior: 0.4},
		{Actions: []env.Action{env.A("click", "12")}, Prior: 0.35},
		{Actions: []env.Action{env.A("click", "17")}, Prior: 0.25},
	}
	var branched []string
	inner := policy.Func(func(context.Context, policy.Input) (policy.Decision, error) {
		return policy.Decision{Action: env.A("click", "12")}, nil
	})
	p := planner.AskWhenUnsure(inner, fixedProposer{cands: unsure, branched: &branched}, planner.UnsureOptions{Threshold: 0.5})
	in := policy.Input{Spec: spec, Obs: env.Observation{Text: itemPage}}
	d, err := p.Act(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if d.Action.Name != "ask_user" || !strings.Contains(d.Action.Arg(0), `"color navy", "color gray" or "size small"`) || d.Meta["confidence"] != 0.4 {
		t.Fatalf("unsure: %s %v; want a question naming the options with their groups, confidence 0.4", d.Action, d.Meta)
	}
	// One question an episode: then the policy acts, its confidence
	// recorded, and the proposer follows the path taken.
	d, err = p.Act(context.Background(), in)
	if err != nil || d.Action.String() != `click("12")` || d.Meta["confidence"] != 0.4 || d.Meta["unsure"] != nil {
		t.Fatalf("second unsure step: %s %v %v; want the policy's action with its confidence", d.Action, d.Meta, err)
	}
	if len(branched) != 1 || branched[0] != `click("12")` {
		t.Errorf("branches %v; want the proposer to follow click(12)", branched)
	}
	// A new episode asks again; an env with no one to ask never does.
	p.(policy.Resetter).ResetEpisode(env.Task{})
	if d, _ := p.Act(context.Background(), in); d.Action.Name != "ask_user" {
		t.Errorf("after a reset: %s, want a question", d.Action)
	}
	noAsk := in
	noAsk.Spec = env.Spec{Name: "web", Actions: []env.ActionSpec{{Name: "click"}}}
	q := planner.AskWhenUnsure(inner, fixedProposer{cands: unsure, branched: &branched}, planner.UnsureOptions{})
	if d, _ := q.Act(context.Background(), noAsk); d.Action.Name == "ask_user" {
		t.Errorf("asked with no ask_user in the spec")
	}
	// Sure: it acts.
	sure := []planner.Candidate{{Actions: []env.Action{env.A("click", "22")}, Prior: 0.9}, {Actions: []env.Action{env.A("click", "11")}, Prior: 0.1}}
	r := planner.AskWhenUnsure(inner, fixedProposer{cands: sure, branched: &branched}, planner.UnsureOptions{})
	if d, _ := r.Act(context.Background(), in); d.Action.Name == "ask_user" || d.Meta["confidence"] != 0.9 {
		t.Errorf("sure: %s %v; want the policy's action, confidence 0.9", d.Action, d.Meta)
	}
}
