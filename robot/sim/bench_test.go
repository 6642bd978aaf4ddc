package sim

import (
	"context"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/pilotkit/pilot/robot/feetech"
	"github.com/pilotkit/pilot/robot/serial"
	"golang.org/x/sys/unix"
)

// BenchmarkSimHandle is the simulator's cost of one control cycle
// in-process: a sync read of six positions and a sync write of six goals,
// 1 ms of physics apart.
func BenchmarkSimHandle(b *testing.B) {
	s, err := New(Options{})
	if err != nil {
		b.Fatalf("New: %v", err)
	}
	sr := syncReadFrame(regPosition, armIDs)
	s.Handle(syncWriteFrame(b, regTorqueEnable, armIDs, []int{1, 1, 1, 1, 1, 1}), 0)
	goals := [][]byte{
		syncWriteFrame(b, regGoal, armIDs, []int{2000, 2000, 2000, 2000, 2000, 2500}),
		syncWriteFrame(b, regGoal, armIDs, []int{2100, 2100, 2100, 2100, 2100, 2600}),
	}
	b.ReportAllocs()
	var now time.Duration
	for i := 0; b.Loop(); i++ {
		now += time.Millisecond
		if out := s.Handle(sr, now); len(out) != 6*8 {
			b.Fatalf("sync read answered %d bytes, want 48", len(out))
		}
		s.Handle(goals[i%2], now)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cycles/s")
}

// BenchmarkPortCycle is the same cycle through the in-process port.
func BenchmarkPortCycle(b *testing.B) {
	s, _ := New(Options{})
	p, clk := s.Port(), s.Clock()
	sr := syncReadFrame(regPosition, armIDs)
	sw := syncWriteFrame(b, regGoal, armIDs, []int{2000, 2000, 2000, 2000, 2000, 2500})
	buf := make([]byte, 64)
	b.ReportAllocs()
	for b.Loop() {
		p.Write(sr)
		if n, _ := p.Read(buf); n != 48 {
			b.Fatalf("read %d bytes, want 48", n)
		}
		p.Write(sw)
		clk.Sleep(context.Background(), time.Millisecond)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cycles/s")
}

// BenchmarkPTYCycle is a raw control cycle over a real pseudo-terminal,
// as a bus client does it: write a sync read of six positions, read the
// six statuses, write a sync write of six goals. It reports cycles/s and
// the 99th percentile cycle in µs. With wire timing the line alone takes
// 88 bytes × 10 µs = 0.88 ms a cycle (1136 cycles/s).
func BenchmarkPTYCycle(b *testing.B) {
	for _, wire := range []bool{false, true} {
		name := "raw"
		if wire {
			name = "wire"
		}
		b.Run(name, func(b *testing.B) {
			s, err := New(Options{WireTiming: wire})
			if err != nil {
				b.Fatalf("New: %v", err)
			}
			defer s.Close()
			p, err := s.ServePTY(context.Background())
			if err != nil {
				b.Fatalf("ServePTY: %v", err)
			}
			port, err := serial.Open(p.Path(), serial.Config{ReadTimeout: time.Second})
			if err != nil {
				b.Fatalf("serial.Open: %v", err)
			}
			defer port.Close()
			sr := syncReadFrame(regPosition, armIDs)
			sw := syncWriteFrame(b, regGoal, armIDs, []int{2048, 2048, 2048, 2048, 2048, 2162})
			buf := make([]byte, 256)
			lat := make([]time.Duration, 0, 1<<16)
			for b.Loop() {
				t0 := time.Now()
				if _, err := port.Write(sr); err != nil {
					b.Fatalf("write: %v", err)
				}
				got := 0
				for got < 48 {
					n, err := port.Read(buf[got:])
					if err != nil || n == 0 {
						b.Fatalf("read after %d of 48 bytes: %d, %v", got, n, err)
					}
					got += n
				}
				if _, _, err := feetech.ScanFrame(buf[:got], feetech.StatusKind); err != nil {
					b.Fatalf("status: %v", err)
				}
				if _, err := port.Write(sw); err != nil {
					b.Fatalf("write: %v", err)
				}
				lat = append(lat, time.Since(t0))
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cycles/s")
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99_µs")
		})
	}
}

// BenchmarkWaitUntil measures the pacing of wire timing: how late
// waitUntil returns for targets 80 µs apart (a status of a sync read at 1
// Mbaud), on a thread set up as the pty server sets up its own.
func BenchmarkWaitUntil(b *testing.B) {
	done := make(chan struct{})
	go func() { // a goroutine of its own: its locked thread ends with it
		defer close(done)
		runtime.LockOSThread()
		unix.Prctl(unix.PR_SET_TIMERSLACK, 1, 0, 0, 0)
		start := time.Now()
		target := time.Duration(0)
		late := make([]time.Duration, 0, 1<<16)
		for b.Loop() {
			target += 80 * time.Microsecond
			if now := time.Since(start); target < now {
				target = now + 80*time.Microsecond
			}
			waitUntil(start, target)
			late = append(late, time.Since(start)-target)
		}
		slices.Sort(late)
		b.ReportMetric(float64(late[len(late)/2].Nanoseconds())/1e3, "late_p50_µs")
		b.ReportMetric(float64(late[len(late)*99/100].Nanoseconds())/1e3, "late_p99_µs")
	}()
	<-done
}
