package policy_test

import (
	"context"
	"strings"
	"testing"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/policy"
)

func TestNoisy(t *testing.T) {
	in := policy.Input{Obs: env.Observation{Choices: []env.Action{env.A("click", "1"), env.A("click", "2"), env.A("click", "3")}}}
	always := policy.Func(func(context.Context, policy.Input) (policy.Decision, error) {
		return policy.Decision{Action: env.A("stop")}, nil
	})
	for _, c := range []struct {
		eps      float64
		min, max int // mistakes of 1,000 steps
	}{{0, 0, 0}, {1, 1000, 1000}, {0.3, 240, 360}} {
		p, err := policy.Noisy(always, c.eps, 7)
		if err != nil {
			t.Fatal(err)
		}
		mistakes := 0
		for range 1000 {
			d, err := p.Act(t.Context(), in)
			if err != nil {
				t.Fatal(err)
			}
			if d.Action.Name == "click" {
				mistakes++
				if !strings.Contains(d.Thought, "random mistake") {
					t.Errorf("a mistake's thought %q does not say so", d.Thought)
				}
			}
		}
		if mistakes < c.min || mistakes > c.max {
			t.Errorf("ε = %v: %d mistakes in 1,000 steps, want %d..%d", c.eps, mistakes, c.min, c.max)
		}
	}
	for _, eps := range []float64{-0.1, 1.5} {
		if _, err := policy.Noisy(always, eps, 1); err == nil {
			t.Errorf("Noisy(ε = %v) = nil error, want a refusal", eps)
		}
	}
}
