package env

import (
	"context"
	"errors"
	"testing"
	"time"
)

// fakeClock is a clock that moves only when told.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

// outcome is what a step should come back with.
type outcome struct {
	terminated, truncated bool
	reason                string
}

func outcomeOf(st Step) outcome { return outcome{st.Terminated, st.Truncated, st.Reason} }

func TestTimeLimit(t *testing.T) {
	noop, stop := A("noop"), A("stop")
	running := outcome{}
	tests := []struct {
		name     string
		maxSteps int
		maxTime  time.Duration
		tick     time.Duration // the clock moves this much per step
		actions  []Action
		want     []outcome
	}{
		{
			name:     "step limit",
			maxSteps: 3,
			actions:  []Action{noop, noop, noop},
			want:     []outcome{running, running, {false, true, "step limit 3 reached"}},
		},
		{
			name:     "step limit of 1",
			maxSteps: 1,
			actions:  []Action{noop},
			want:     []outcome{{false, true, "step limit 1 reached"}},
		},
		{
			name:     "terminated on the limit step stays terminated",
			maxSteps: 2,
			actions:  []Action{noop, stop},
			want:     []outcome{running, {true, false, "stopped"}},
		},
		{
			name:     "terminated before the limit",
			maxSteps: 5,
			actions:  []Action{noop, stop},
			want:     []outcome{running, {true, false, "stopped"}},
		},
		{
			name:    "time limit",
			maxTime: 2 * time.Minute,
			tick:    time.Minute,
			actions: []Action{noop, noop},
			want:    []outcome{running, {false, true, "time limit 2m0s reached"}},
		},
		{
			name:     "time limit before step limit",
			maxSteps: 10,
			maxTime:  time.Second,
			tick:     time.Second,
			actions:  []Action{noop},
			want:     []outcome{{false, true, "time limit 1s reached"}},
		},
		{
			name:     "step limit before time limit",
			maxSteps: 2,
			maxTime:  time.Hour,
			tick:     time.Minute,
			actions:  []Action{noop, noop},
			want:     []outcome{running, {false, true, "step limit 2 reached"}},
		},
		{
			name:    "no limits",
			tick:    time.Hour,
			actions: []Action{noop, noop, noop, noop, noop},
			want:    []outcome{running, running, running, running, running},
		},
		{
			name:     "a bad action counts as a step",
			maxSteps: 2,
			actions:  []Action{A("jump"), noop},
			want:     []outcome{running, {false, true, "step limit 2 reached"}},
		},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &fakeClock{t: time.Unix(1000, 0)}
			e := TimeLimit(newCounter(), tt.maxSteps, tt.maxTime)
			e.(*timeLimit).now = clock.now
			// Two episodes: the limits start afresh on Reset.
			for episode := range 2 {
				if _, err := e.Reset(ctx, Task{}); err != nil {
					t.Fatalf("Reset() = %v", err)
				}
				for i, a := range tt.actions {
					clock.advance(tt.tick)
					st, err := e.Step(ctx, a)
					if err != nil {
						t.Fatalf("episode %d: Step(%v) #%d = %v", episode, a, i+1, err)
					}
					if got := outcomeOf(st); got != tt.want[i] {
						t.Errorf("episode %d: Step(%v) #%d = %+v, want %+v", episode, a, i+1, got, tt.want[i])
					}
				}
			}
		})
	}
}

func TestTimeLimitRefusesStepAfterDone(t *testing.T) {
	ctx := context.Background()
	c := newCounter()
	e := TimeLimit(c, 1, 0)
	if _, err := e.Reset(ctx, Task{}); err != nil {
		t.Fatalf("Reset() = %v", err)
	}
	if st, err := e.Step(ctx, A("noop")); err != nil || !st.Truncated {
		t.Fatalf("Step(noop()) = %+v, %v, want truncated", st, err)
	}
	// The inner counter is not over: the refusal must come from the wrapper.
	_, err := e.Step(ctx, A("noop"))
	if !errors.Is(err, ErrEpisodeOver) {
		t.Errorf("Step(noop()) after truncation = %v, want an error wrapping ErrEpisodeOver", err)
	}
	if c.steps != 1 {
		t.Errorf("inner env stepped %d times, want 1: a refused step must not reach it", c.steps)
	}
	if _, err := e.Reset(ctx, Task{}); err != nil {
		t.Fatalf("Reset() after truncation = %v", err)
	}
	if _, err := e.Step(ctx, A("noop")); err != nil {
		t.Errorf("Step(noop()) after a new Reset = %v, want nil", err)
	}
}

func TestTimeLimitStepBeforeReset(t *testing.T) {
	c := newCounter()
	e := TimeLimit(c, 5, time.Minute)
	_, err := e.Step(context.Background(), A("noop"))
	if !errors.Is(err, ErrNotReset) {
		t.Errorf("Step(noop()) before Reset = %v, want an error wrapping ErrNotReset", err)
	}
	if c.steps != 0 {
		t.Errorf("inner env stepped %d times, want 0", c.steps)
	}
}

func TestTimeLimitFailedReset(t *testing.T) {
	ctx := context.Background()
	c := newCounter()
	e := TimeLimit(c, 5, 0)
	if _, err := e.Reset(ctx, Task{}); err != nil {
		t.Fatalf("Reset() = %v", err)
	}
	c.resetErr = errBoom
	if _, err := e.Reset(ctx, Task{}); !errors.Is(err, errBoom) {
		t.Fatalf("Reset() = %v, want the inner error %v", err, errBoom)
	}
	if _, err := e.Step(ctx, A("noop")); !errors.Is(err, ErrNotReset) {
		t.Errorf("Step(noop()) after a failed Reset = %v, want an error wrapping ErrNotReset", err)
	}
}

func TestTimeLimitPassesStepErrors(t *testing.T) {
	e := TimeLimit(newCounter(), 1, 0)
	if _, err := e.Reset(context.Background(), Task{}); err != nil {
		t.Fatalf("Reset() = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Step(ctx, A("noop")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Step(noop()) with a cancelled context = %v, want context.Canceled", err)
	}
	// The failed step did not count: the next one is the first.
	st, err := e.Step(context.Background(), A("noop"))
	if err != nil || !st.Truncated {
		t.Errorf("Step(noop()) = %+v, %v, want the first step, truncated by the limit of 1", st, err)
	}
}

func TestTimeLimitClose(t *testing.T) {
	ctx := context.Background()
	c := newCounter()
	e := TimeLimit(c, 5, 0)
	if got := e.Spec().Name; got != "counter" {
		t.Errorf("Spec().Name = %q, want the inner %q", got, "counter")
	}
	if _, err := e.Reset(ctx, Task{}); err != nil {
		t.Fatalf("Reset() = %v", err)
	}
	for i := range 2 {
		if err := e.Close(); err != nil {
			t.Errorf("Close() #%d = %v, want nil", i+1, err)
		}
	}
	if c.closes == 0 {
		t.Errorf("Close() did not close the inner env")
	}
	if _, err := e.Step(ctx, A("noop")); !errors.Is(err, ErrClosed) {
		t.Errorf("Step(noop()) after Close = %v, want an error wrapping ErrClosed", err)
	}
	if _, err := e.Reset(ctx, Task{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Reset() after Close = %v, want an error wrapping ErrClosed", err)
	}
}

func TestRecordStats(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{t: time.Unix(1000, 0)}
	c := newCounter()
	e := RecordStats(c)
	e.now = clock.now

	if got := e.Stats(); got != (Stats{}) {
		t.Errorf("Stats() before any episode = %+v, want zero", got)
	}
	episodes := []struct {
		actions []Action
		want    Stats
	}{
		{[]Action{A("add", "2"), A("noop"), A("add", "3"), A("stop")}, Stats{Return: 5, Length: 4, Duration: 4 * time.Second}},
		{[]Action{A("add", "-1"), A("stop")}, Stats{Return: -1, Length: 2, Duration: 2 * time.Second}},
	}
	for n, ep := range episodes {
		clock.advance(time.Hour) // time between episodes does not count
		if _, err := e.Reset(ctx, Task{}); err != nil {
			t.Fatalf("Reset() = %v", err)
		}
		for i, a := range ep.actions {
			clock.advance(time.Second)
			st, err := e.Step(ctx, a)
			if err != nil {
				t.Fatalf("episode %d: Step(%v) = %v", n, a, err)
			}
			last := i == len(ep.actions)-1
			got, ok := st.Info["episode"]
			switch {
			case !last && ok:
				t.Errorf("episode %d: Step(%v).Info[episode] = %v before the end, want none", n, a, got)
			case last && got != ep.want:
				t.Errorf("episode %d: Step(%v).Info[episode] = %v, want %+v", n, a, got, ep.want)
			}
			if st.Info["count"] == nil {
				t.Errorf("episode %d: Step(%v).Info = %v, want the inner env's count kept", n, a, st.Info)
			}
			if _, ok := c.info["episode"]; ok {
				t.Fatalf("episode %d: the inner env's Info map was changed: %v", n, c.info)
			}
			if !last && n > 0 && e.Stats() != episodes[n-1].want {
				t.Errorf("episode %d: Stats() during the episode = %+v, want the last finished %+v", n, e.Stats(), episodes[n-1].want)
			}
		}
		if got := e.Stats(); got != ep.want {
			t.Errorf("episode %d: Stats() = %+v, want %+v", n, got, ep.want)
		}
	}
}

func TestRecordStatsNilInfo(t *testing.T) {
	ctx := context.Background()
	c := newCounter()
	c.info = nil
	e := RecordStats(c)
	if _, err := e.Reset(ctx, Task{}); err != nil {
		t.Fatalf("Reset() = %v", err)
	}
	st, err := e.Step(ctx, A("noop"))
	if err != nil || st.Info != nil {
		t.Errorf("Step(noop()) = %+v, %v, want nil Info before the end", st, err)
	}
	st, err = e.Step(ctx, A("stop"))
	if err != nil {
		t.Fatalf("Step(stop()) = %v", err)
	}
	got, ok := st.Info["episode"].(Stats)
	if !ok || got.Length != 2 {
		t.Errorf("Step(stop()).Info = %v, want episode Stats of length 2", st.Info)
	}
}

func TestRecordStatsOverTimeLimit(t *testing.T) {
	ctx := context.Background()
	e := RecordStats(TimeLimit(newCounter(), 3, 0))
	if _, err := e.Reset(ctx, Task{}); err != nil {
		t.Fatalf("Reset() = %v", err)
	}
	var st Step
	for _, a := range []Action{A("add", "1"), A("add", "1"), A("add", "1")} {
		var err error
		if st, err = e.Step(ctx, a); err != nil {
			t.Fatalf("Step(%v) = %v", a, err)
		}
	}
	if !st.Truncated {
		t.Fatalf("third Step = %+v, want truncated", st)
	}
	got := e.Stats()
	if got.Return != 3 || got.Length != 3 {
		t.Errorf("Stats() after truncation = %+v, want return 3, length 3", got)
	}
	if st.Info["episode"] != got {
		t.Errorf("final Step.Info[episode] = %v, want %+v", st.Info["episode"], got)
	}
	// A refused step leaves the stats alone.
	if _, err := e.Step(ctx, A("add", "1")); !errors.Is(err, ErrEpisodeOver) {
		t.Errorf("Step(add(1)) after truncation = %v, want ErrEpisodeOver", err)
	}
	if e.Stats() != got {
		t.Errorf("Stats() after a refused step = %+v, want %+v", e.Stats(), got)
	}
}

func TestRecordStatsForwards(t *testing.T) {
	ctx := context.Background()
	c := newCounter()
	e := RecordStats(c)
	if got := e.Spec().Name; got != "counter" {
		t.Errorf("Spec().Name = %q, want the inner %q", got, "counter")
	}
	if _, err := e.Step(ctx, A("noop")); !errors.Is(err, ErrNotReset) {
		t.Errorf("Step(noop()) before Reset = %v, want the inner ErrNotReset", err)
	}
	task := Task{ID: "t1", Instruction: "count"}
	if _, err := e.Reset(ctx, task); err != nil || c.lastReset.ID != "t1" {
		t.Errorf("Reset(%+v) = %v, inner got %+v, want the task passed on", task, err, c.lastReset)
	}
	if err := e.Close(); err != nil || c.closes != 1 {
		t.Errorf("Close() = %v, inner closed %d times, want nil, 1", err, c.closes)
	}
	if _, err := e.Reset(ctx, task); !errors.Is(err, ErrClosed) {
		t.Errorf("Reset() after Close = %v, want the inner ErrClosed", err)
	}
}
