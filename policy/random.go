package policy

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/pilotkit/pilot/env"
)

// Random returns a policy that picks uniformly among the observation's
// Choices, using its own generator seeded with seed: the same seed and the
// same observations give the same actions.
//
// When the environment lists no choices, it returns noop() if the spec has
// a noop action, and an error otherwise.
//
// The policy is not safe for concurrent use: give each episode running in
// parallel its own Random.
func Random(seed int64) Policy { return RandomWith(seed, nil) }

// RandomWith is Random with more candidates: at each step it picks
// uniformly among the observation's Choices and what extra returns for
// the input (drawing with rng when it needs to), such as fill actions
// with words of the instruction for a page's search box: a suite whose
// tasks need typed text gets a random baseline that can type. extra may
// be nil.
func RandomWith(seed int64, extra func(in Input, rng *rand.Rand) []env.Action) Policy {
	return &random{rng: rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15)), extra: extra}
}

type random struct {
	rng   *rand.Rand
	extra func(Input, *rand.Rand) []env.Action
}

func (r *random) Act(ctx context.Context, in Input) (Decision, error) {
	if err := ctx.Err(); err != nil {
		return Decision{}, err
	}
	choices := in.Obs.Choices
	if r.extra != nil {
		choices = append(choices[:len(choices):len(choices)], r.extra(in, r.rng)...)
	}
	n := len(choices)
	if n == 0 {
		if hasAction(in.Spec, "noop") {
			return Decision{Action: env.A("noop"), Thought: "no choices listed: noop"}, nil
		}
		return Decision{}, fmt.Errorf("random policy: env %q lists no choices in its observation and has no noop action; use a policy that writes its own actions", in.Spec.Name)
	}
	i := r.rng.IntN(n)
	return Decision{
		Action:  choices[i],
		Thought: fmt.Sprintf("random choice %d of %d", i+1, n),
	}, nil
}
