package sim_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/pilotkit/pilot/robot/feetech"
	"github.com/pilotkit/pilot/robot/serial"
	"github.com/pilotkit/pilot/robot/sim"
)

// BenchmarkCycle is one control cycle of an SO-101 as pilot's arm layer
// runs it: a sync read of the six present positions and a sync write of six
// goals, through the real bus client (robot/feetech over go.bug.st/serial)
// to the simulator on a pseudo-terminal. "raw" answers as fast as it can;
// "wire" paces the bytes as a 1 Mbaud bus would: 88 bytes a cycle, so at
// most 1,136 cycles/s.
func BenchmarkCycle(b *testing.B) {
	for _, bc := range []struct {
		name string
		wire bool
	}{{"raw", false}, {"wire", true}} {
		b.Run(bc.name, func(b *testing.B) {
			s, err := sim.New(sim.Options{WireTiming: bc.wire})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			p, err := s.ServePTY(ctx)
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			port, err := serial.Open(p.Path(), serial.Config{})
			if err != nil {
				b.Fatal(err)
			}
			bus := feetech.NewBus(port, feetech.Options{})
			defer bus.Close()
			ids := sim.DefaultIDs()
			pos, goal := feetech.PresentPosition, feetech.GoalPosition
			if err := bus.SyncWriteReg(ctx, feetech.TorqueEnable, ids, []int{1, 1, 1, 1, 1, 1}); err != nil {
				b.Fatal(err)
			}
			goals := [][]int{{2000, 2000, 2000, 2000, 2000, 2500}, {2100, 2100, 2100, 2100, 2100, 2600}}
			times := make([]time.Duration, 0, 1<<16)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				if _, err := bus.SyncReadReg(ctx, pos, ids); err != nil {
					b.Fatal(err)
				}
				if err := bus.SyncWriteReg(ctx, goal, ids, goals[i%2]); err != nil {
					b.Fatal(err)
				}
				if len(times) < cap(times) {
					times = append(times, time.Since(t0))
				}
			}
			b.StopTimer()
			slices.Sort(times)
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cycles/s")
			b.ReportMetric(float64(times[len(times)*99/100].Microseconds()), "p99-µs")
			b.ReportMetric(float64(times[len(times)/2].Microseconds()), "p50-µs")
			if st := bus.Stats(); st.Retries > 0 {
				b.ReportMetric(float64(st.Retries), "retries")
			}
		})
	}
}
