//go:build linux

package feetech

import (
	"context"
	"slices"
	"testing"
	"time"
)

// BenchmarkBusCycle is one control cycle of an SO-101 arm: SyncRead of
// Present_Position and SyncWrite of Goal_Position for six servos, against
// the in-test responder over a pseudo-terminal. It reports cycles/s and
// the 99th percentile cycle time.
func BenchmarkBusCycle(b *testing.B) {
	bus, _ := newTestBus(b, Options{}, arm...)
	ctx := context.Background()
	pos, goal := PresentPosition, GoalPosition
	times := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		vals, err := bus.SyncReadReg(ctx, pos, arm)
		if err != nil {
			b.Fatalf("SyncReadReg = %v", err)
		}
		for j := range vals {
			vals[j] = 1000 + (vals[j]+i)%2000
		}
		if err := bus.SyncWriteReg(ctx, goal, arm, vals); err != nil {
			b.Fatalf("SyncWriteReg = %v", err)
		}
		times = append(times, time.Since(t0))
	}
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(times)
	p99 := times[min(len(times)-1, len(times)*99/100)]
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "cycles/s")
	b.ReportMetric(float64(p99.Microseconds()), "p99-µs")
	if s := bus.Stats(); s.Retries != 0 {
		b.Errorf("Stats() = %+v, want no retries", s)
	}
}
