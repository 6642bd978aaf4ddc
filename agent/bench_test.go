package agent_test

import (
	"context"
	"strings"
	"testing"

	"github.com/pilotkit/pilot/agent"
	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/policy"
)

// canned is an env that answers every step with the same observation and
// ends the episode after n steps: it costs next to nothing, so a benchmark
// over it measures the loop.
type canned struct {
	n, i int
	obs  env.Observation
}

func (c *canned) Spec() env.Spec { return env.Spec{Name: "canned"} }
func (c *canned) Reset(context.Context, env.Task) (env.Observation, error) {
	c.i = 0
	return c.obs, nil
}
func (c *canned) Step(context.Context, env.Action) (env.Step, error) {
	c.i++
	return env.Step{Obs: c.obs, Terminated: c.i >= c.n}, nil
}
func (c *canned) Close() error { return nil }

type cannedPolicy struct{ d policy.Decision }

func (p cannedPolicy) Act(context.Context, policy.Input) (policy.Decision, error) { return p.d, nil }

// BenchmarkRunOverhead measures what the loop costs per step, without the
// env and the policy (both return canned values).
func BenchmarkRunOverhead(b *testing.B) {
	const steps = 100
	p := cannedPolicy{policy.Decision{Action: env.A("click", "12"), Usage: policy.Usage{PromptTokens: 100}}}
	for _, bc := range []struct {
		name string
		text string
		opts agent.Options
	}{
		{"obs=100B", strings.Repeat("x", 100), agent.Options{MaxSteps: -1}},
		{"obs=16KiB", strings.Repeat("[12] button \"Buy\"\n", 16<<10/18), agent.Options{MaxSteps: -1}},
		{"obs=100B/budgets", strings.Repeat("x", 100), agent.Options{MaxSteps: steps + 1, MaxTime: 1 << 40, StepTimeout: 1 << 40, MaxTokens: 1 << 40, MaxCostUSD: 1}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e := &canned{n: steps, obs: env.Observation{Text: bc.text}}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := agent.Run(ctx, e, task, p, bc.opts); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*steps), "ns/step")
		})
	}
}
