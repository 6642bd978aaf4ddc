package robotenv

import (
	"context"
	"testing"

	"github.com/pilotkit/pilot/env"
)

// BenchmarkFastStep is one env step of continuous control in the fast
// in-process mode: move_joints for 0.1 s of simulated time, which is five
// 50 Hz control cycles through the arm's safety layer, the Feetech protocol
// and the servo physics, and an observation (no image).
func BenchmarkFastStep(b *testing.B) {
	rig, err := NewFast(context.Background(), RigOptions{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	e, err := New(rig, Options{Task: Reach, MaxSteps: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	obs, err := e.Reset(ctx, env.Task{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	targets := [][]float64{append([]float64(nil), obs.State[:6]...), append([]float64(nil), obs.State[:6]...)}
	targets[1][0] += 20
	targets[1][2] -= 15
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		st, err := e.Step(ctx, env.Action{Name: "move_joints", Vec: targets[i/10%2]})
		if err != nil {
			b.Fatal(err)
		}
		if st.Done() {
			b.StopTimer()
			if _, err := e.Reset(ctx, env.Task{Seed: int64(i)}); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
	b.ReportMetric(float64(b.N)*DefaultStepTime.Seconds()/b.Elapsed().Seconds(), "sim-s/s")
}
