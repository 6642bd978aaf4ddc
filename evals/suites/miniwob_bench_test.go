package suites_test

import (
	"context"
	"testing"
	"time"

	"github.com/pilotkit/pilot/agent"
	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/env/web"
	"github.com/pilotkit/pilot/evals"
	"github.com/pilotkit/pilot/evals/suites"
)

// BenchmarkMiniWoBStep is a step (noop) on a MiniWoB-protocol page with
// the protocol's evaluator read after it (hooks), and without it (plain):
// the difference is the evaluator's overhead per step.
func BenchmarkMiniWoBStep(b *testing.B) {
	for _, mode := range []string{"hooks", "plain"} {
		b.Run(mode, func(b *testing.B) {
			l, err := suites.MiniWoB().Open(context.Background(), evals.LoadOptions{Seed: 1, Params: map[string]string{"dir": miniwobDir, "tasks": "click-button", "seeds": "1"}})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			ctx := context.Background()
			task := l.Suite.Tasks[0]
			var e env.Env
			if mode == "hooks" {
				if e, err = l.NewEnv(ctx, 0); err != nil {
					b.Fatal(err)
				}
			} else {
				w, err := web.New(web.Options{AllowDomains: []string{"127.0.0.1"}})
				if err != nil {
					b.Fatal(err)
				}
				e = w
			}
			defer e.Close()
			if _, err := e.Reset(ctx, task); err != nil {
				b.Fatal(err)
			}
			for range 20 { // warm up
				if _, err := e.Step(ctx, env.A("noop")); err != nil {
					b.Fatal(err)
				}
			}
			times := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				t0 := time.Now()
				st, err := e.Step(ctx, env.A("noop"))
				if err != nil || st.Done() {
					b.Fatalf("noop: %v %+v", err, st)
				}
				times = append(times, time.Since(t0))
			}
			b.StopTimer()
			reportMedian(b, times)
		})
	}
}

// BenchmarkMiniWoBEpisodes plays whole episodes of the protocol's test
// tasks with the expert, one worker: steps/s and episodes/min.
func BenchmarkMiniWoBEpisodes(b *testing.B) {
	l, err := suites.MiniWoB().Open(context.Background(), evals.LoadOptions{Seed: 1, Params: map[string]string{"dir": miniwobDir, "seeds": "10"}})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	e, err := l.NewEnv(ctx, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	steps := 0
	b.ResetTimer()
	t0 := time.Now()
	for i := range b.N {
		task := l.Suite.Tasks[i%len(l.Suite.Tasks)]
		traj, err := agent.Run(ctx, e, task, suites.MiniWoB().Expert(task), agent.Options{MaxSteps: 10})
		if err != nil || traj.Return != 1 {
			b.Fatalf("%s: %v return %v", task.ID, err, traj.Return)
		}
		steps += len(traj.Steps)
	}
	el := time.Since(t0)
	b.ReportMetric(float64(steps)/el.Seconds(), "steps/s")
	b.ReportMetric(float64(b.N)/el.Minutes(), "episodes/min")
}

func reportMedian(b *testing.B, times []time.Duration) {
	if len(times) == 0 {
		return
	}
	s := append([]time.Duration(nil), times...)
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	b.ReportMetric(float64(s[len(s)/2].Microseconds())/1000, "ms/step-median")
}
