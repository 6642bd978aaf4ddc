package env

import (
	"context"
	"fmt"
	"maps"
	"time"
)

// TimeLimit returns e with its episodes cut short after maxSteps steps or
// maxTime of wall time since Reset returned, whichever comes first; a limit
// of 0 is no limit. The step that reaches a limit comes back with Truncated
// set and Reason saying which limit, unless the inner env already ended the
// episode on that step. Like Gymnasium's TimeLimit, it refuses a Step after
// the episode is over (ErrEpisodeOver) and before the first Reset
// (ErrNotReset), and after Close (ErrClosed).
//
// The wrapper hides the optional interfaces e implements but its brief
// (Briefer).
func TimeLimit(e Env, maxSteps int, maxTime time.Duration) Env {
	return &timeLimit{inner: e, maxSteps: maxSteps, maxTime: maxTime, now: time.Now}
}

type timeLimit struct {
	inner    Env
	maxSteps int
	maxTime  time.Duration
	now      func() time.Time // time.Now; tests replace it

	reset  bool // a Reset succeeded, so an episode exists
	done   bool // the episode is over
	closed bool
	steps  int
	start  time.Time
}

func (w *timeLimit) Spec() Spec { return w.inner.Spec() }

// Brief is the inner env's (Briefer).
func (w *timeLimit) Brief() string {
	if b, ok := w.inner.(Briefer); ok {
		return b.Brief()
	}
	return ""
}

func (w *timeLimit) Reset(ctx context.Context, t Task) (Observation, error) {
	if w.closed {
		return Observation{}, fmt.Errorf("time limit: reset: %w", ErrClosed)
	}
	// Until the inner Reset succeeds there is no episode to step in.
	w.reset, w.done = false, false
	obs, err := w.inner.Reset(ctx, t)
	if err != nil {
		return obs, err
	}
	w.reset, w.steps, w.start = true, 0, w.now()
	return obs, nil
}

func (w *timeLimit) Step(ctx context.Context, a Action) (Step, error) {
	switch {
	case w.closed:
		return Step{}, fmt.Errorf("time limit: step %s: %w", a, ErrClosed)
	case !w.reset:
		return Step{}, fmt.Errorf("time limit: step %s: %w", a, ErrNotReset)
	case w.done:
		return Step{}, fmt.Errorf("time limit: step %s: %w", a, ErrEpisodeOver)
	}
	st, err := w.inner.Step(ctx, a)
	if err != nil {
		return st, err
	}
	w.steps++
	if !st.Done() {
		switch {
		case w.maxSteps > 0 && w.steps >= w.maxSteps:
			st.Truncated = true
			st.Reason = fmt.Sprintf("step limit %d reached", w.maxSteps)
		case w.maxTime > 0 && w.now().Sub(w.start) >= w.maxTime:
			st.Truncated = true
			st.Reason = fmt.Sprintf("time limit %s reached", w.maxTime)
		}
	}
	w.done = st.Done()
	return st, nil
}

func (w *timeLimit) Close() error {
	w.closed = true
	return w.inner.Close()
}

// StatsEnv is an Env that keeps episode statistics, as Gymnasium's
// RecordEpisodeStatistics does. Make one with RecordStats.
type StatsEnv struct {
	inner Env
	now   func() time.Time // time.Now; tests replace it

	ret   float64
	steps int
	start time.Time
	last  Stats
}

// RecordStats returns e wrapped so that the final step of each episode
// carries the episode's Stats in Info["episode"], and Stats returns the last
// finished episode's. The duration runs from the end of Reset to the end of
// the final step. Contract errors (Step before Reset, after the end, after
// Close) are left to e.
//
// The wrapper hides any optional interfaces e implements.
func RecordStats(e Env) *StatsEnv {
	return &StatsEnv{inner: e, now: time.Now}
}

// Stats returns the statistics of the last finished episode, or the zero
// Stats (Length 0) when none has finished yet. Like the Env methods, it is
// not safe to call while another goroutine steps the env.
func (s *StatsEnv) Stats() Stats { return s.last }

// Spec returns the inner env's spec.
func (s *StatsEnv) Spec() Spec { return s.inner.Spec() }

// Reset starts a new episode and its statistics.
func (s *StatsEnv) Reset(ctx context.Context, t Task) (Observation, error) {
	obs, err := s.inner.Reset(ctx, t)
	if err != nil {
		return obs, err
	}
	s.ret, s.steps, s.start = 0, 0, s.now()
	return obs, nil
}

// Step steps the inner env and counts the step. On the final step it puts
// the episode's Stats in a copy of the step's Info under "episode".
func (s *StatsEnv) Step(ctx context.Context, a Action) (Step, error) {
	st, err := s.inner.Step(ctx, a)
	if err != nil {
		return st, err
	}
	s.ret += st.Reward
	s.steps++
	if st.Done() {
		s.last = Stats{Return: s.ret, Length: s.steps, Duration: s.now().Sub(s.start)}
		// Copy: the inner env may reuse its Info map from step to step.
		info := make(map[string]any, len(st.Info)+1)
		maps.Copy(info, st.Info)
		info["episode"] = s.last
		st.Info = info
	}
	return st, nil
}

// Close closes the inner env.
func (s *StatsEnv) Close() error { return s.inner.Close() }

var (
	_ Env = (*timeLimit)(nil)
	_ Env = (*StatsEnv)(nil)
)
