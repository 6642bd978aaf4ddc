package classic

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/pilotkit/pilot/env"
)

// BenchmarkStepState is one step of the fast path, under the balancing
// policy so that episodes run long, with a reset at each end.
func BenchmarkStepState(b *testing.B) {
	c := NewCartPole()
	rng := rand.New(rand.NewPCG(1, 2))
	o := c.ResetState(rng)
	b.ReportAllocs()
	for b.Loop() {
		var term, trunc bool
		o, _, term, trunc = c.StepState(pd(o))
		if term || trunc {
			o = c.ResetState(rng)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
}

// BenchmarkStep is one step through env.Env: the observation with its
// text, state slice and choices.
func BenchmarkStep(b *testing.B) {
	ctx := context.Background()
	c := NewCartPole()
	obs, err := c.Reset(ctx, env.Task{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	var o [4]float64
	copy(o[:], obs.State)
	acts := [2]env.Action{env.A(ActionPushLeft), env.A(ActionPushRight)}
	seed := int64(1)
	b.ReportAllocs()
	for b.Loop() {
		st, err := c.Step(ctx, acts[pd(o)])
		if err != nil {
			b.Fatal(err)
		}
		copy(o[:], st.Obs.State)
		if st.Done() {
			seed++
			if obs, err = c.Reset(ctx, env.Task{Seed: seed}); err != nil {
				b.Fatal(err)
			}
			copy(o[:], obs.State)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
}
