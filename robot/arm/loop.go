package arm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// ErrDone ends a Loop from its control function without an error.
var ErrDone = errors.New("loop done")

// ControlFunc decides the goal of one control cycle from the present state.
// Returning ErrDone ends the loop after nothing is sent.
type ControlFunc func(s State) ([]float64, error)

// LoopStats measure a control loop.
type LoopStats struct {
	Cycles   int
	Period   time.Duration // the target period
	Elapsed  time.Duration // clock time from the first cycle to the end
	Overruns int           // cycles that took longer than the period
	// Jitter is how late each cycle started against its schedule.
	JitterP50, JitterP99, JitterMax time.Duration
	// Cycle is how long the read, decide and write of a cycle took.
	CycleP50, CycleP99, CycleMax time.Duration
}

// Rate is the achieved cycles per second.
func (s LoopStats) Rate() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Cycles) / s.Elapsed.Seconds()
}

func (s LoopStats) String() string {
	return fmt.Sprintf("%d cycles at %.1f Hz (target %.1f Hz); cycle p50 %v p99 %v; start jitter p50 %v p99 %v max %v; %d overruns",
		s.Cycles, s.Rate(), float64(time.Second)/float64(s.Period), s.CycleP50, s.CycleP99, s.JitterP50, s.JitterP99, s.JitterMax, s.Overruns)
}

// Loop runs control cycles at hz on the arm's clock until fn returns
// ErrDone or an error, or ctx ends. Cycles are scheduled on a fixed grid
// (a late cycle does not shift the next ones); a cycle that overruns its
// period is counted and the next one starts at once.
func (a *Arm) Loop(ctx context.Context, hz float64, fn ControlFunc) (st LoopStats, err error) {
	if !(hz > 0 && hz <= 10000) {
		return LoopStats{}, fmt.Errorf("arm: loop rate %v Hz: want 0 < hz ≤ 10000", hz)
	}
	period := time.Duration(float64(time.Second) / hz)
	st.Period = period
	var jitter, cycle []time.Duration
	start := a.clock.Now()
	next := start
	defer func() {
		st.Elapsed = a.clock.Now() - start
		st.JitterP50, st.JitterP99, st.JitterMax = percentiles(jitter)
		st.CycleP50, st.CycleP99, st.CycleMax = percentiles(cycle)
	}()
	for {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		begin := a.clock.Now()
		jitter = append(jitter, max(0, begin-next))
		done := false
		_, err := a.cycle(ctx, func(s State) ([]float64, error) {
			g, err := fn(s)
			if errors.Is(err, ErrDone) {
				done = true
			}
			return g, err
		})
		took := a.clock.Now() - begin
		cycle = append(cycle, took)
		if done {
			return st, nil
		}
		if err != nil {
			return st, err
		}
		st.Cycles++
		next += period
		if now := a.clock.Now(); now > next {
			st.Overruns++
			next = now
			continue
		}
		if err := a.clock.Sleep(ctx, next-a.clock.Now()); err != nil {
			return st, err
		}
	}
}

func percentiles(d []time.Duration) (p50, p99, mx time.Duration) {
	if len(d) == 0 {
		return 0, 0, 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	at := func(q float64) time.Duration { return s[min(len(s)-1, int(q*float64(len(s))))] }
	return at(0.5), at(0.99), s[len(s)-1]
}
