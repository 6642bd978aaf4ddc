package shopnn

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/policy"
	"github.com/pilotkit/pilot/policy/expert"
)

// Agent plays the shop with a Model: on each page it reads the candidates,
// scores them and takes the best (or samples, when Rng is set), then
// carries the candidate's actions out over the next steps (a search is a
// fill and a click; an order fills the address fields and clicks). It keeps
// per-episode state: use one per episode, or let agent.Run reset it.
type Agent struct {
	Model *Model
	// Rng, when set, samples candidates from the softmax instead of taking
	// the best one.
	Rng *rand.Rand

	goals expert.Goals
	mem   Memory
	queue []env.Action

	onChoice func(p Page, k int) // Play's recorder
}

var (
	_ policy.Policy   = (*Agent)(nil)
	_ policy.Resetter = (*Agent)(nil)
)

// NewAgent returns a greedy Agent over m.
func NewAgent(m *Model) *Agent { return &Agent{Model: m} }

// ResetEpisode forgets the episode.
func (a *Agent) ResetEpisode(env.Task) {
	a.goals, a.mem, a.queue = expert.Goals{}, Memory{}, nil
}

// Act returns the next action: the next of the chosen candidate's
// actions, or a new choice.
func (a *Agent) Act(ctx context.Context, in policy.Input) (policy.Decision, error) {
	if err := ctx.Err(); err != nil {
		return policy.Decision{}, err
	}
	if in.Obs.Error != "" {
		a.queue = nil // the plan met an error: look again
	}
	if len(a.queue) > 0 {
		act := a.queue[0]
		a.queue = a.queue[1:]
		return policy.Decision{Action: act, Thought: "continue"}, nil
	}
	goal, _ := a.goals.Of(in.Task.Instruction, in.History) // what the user answered joins the goal
	p := Read(goal, in.Obs.Text, &a.mem)
	z := a.Model.Scores(&p)
	k := choose(z, a.Rng)
	c := p.Cands[k]
	if a.onChoice != nil {
		a.onChoice(p, k)
	}
	a.mem.Note(c)
	a.queue = append(a.queue[:0], c.Actions[1:]...)
	lp := logSoftmax(z)
	return policy.Decision{
		Action:  c.Actions[0],
		Thought: fmt.Sprintf("%s page: %s %q (p=%.2f of %d)", p.Kind, c.Kind, c.Text, math.Exp(lp[k]), len(p.Cands)),
		Meta:    map[string]any{"page": p.Kind, "choice": c.Kind, "prob": math.Exp(lp[k]), "candidates": len(p.Cands)},
	}, nil
}

// choose returns the best candidate, or a sample when rng is set.
func choose(z []float64, rng *rand.Rand) int {
	if rng != nil {
		return sample(z, rng)
	}
	best := 0
	for i, v := range z {
		if v > z[best] {
			best = i
		}
	}
	return best
}

func sample(z []float64, rng *rand.Rand) int {
	lp := logSoftmax(z)
	u := rng.Float64()
	for i, l := range lp {
		u -= math.Exp(l)
		if u <= 0 {
			return i
		}
	}
	return len(z) - 1
}
