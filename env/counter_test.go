package env

import (
	"context"
	"errors"
	"fmt"
	"strconv"
)

// counter is a tiny deterministic env for tests. The observation is a
// count; add(n) adds n to it and earns reward n, noop() does nothing and
// stop() ends the episode. It keeps the contract: ErrNotReset,
// ErrEpisodeOver and ErrClosed, and a bad action comes back as
// Observation.Error.
type counter struct {
	info      map[string]any // reused on every step, as some envs do; nil: no Info
	resetErr  error          // returned by Reset when set
	count     int
	started   bool
	over      bool
	closed    bool
	steps     int // calls that reached the episode
	closes    int
	lastReset Task
}

func newCounter() *counter { return &counter{info: map[string]any{}} }

func (c *counter) Spec() Spec {
	return Spec{
		Name: "counter",
		Actions: []ActionSpec{
			{Name: "noop", Doc: "Do nothing."},
			{Name: "add", Doc: "Add n to the count.", Params: []Param{{Name: "n", Type: Integer}}},
			{Name: "stop", Doc: "End the episode.", Params: []Param{{Name: "answer", Type: String, Optional: true}}},
		},
		Modalities: []string{"text"},
	}
}

func (c *counter) obs(errText string) Observation {
	return Observation{Text: fmt.Sprintf("count=%d", c.count), Error: errText}
}

func (c *counter) Reset(ctx context.Context, t Task) (Observation, error) {
	if c.closed {
		return Observation{}, fmt.Errorf("counter: reset: %w", ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return Observation{}, fmt.Errorf("counter: reset: %w", err)
	}
	if c.resetErr != nil {
		c.started = false
		return Observation{}, c.resetErr
	}
	c.count, c.started, c.over, c.lastReset = 0, true, false, t
	return c.obs(""), nil
}

func (c *counter) Step(ctx context.Context, a Action) (Step, error) {
	switch {
	case c.closed:
		return Step{}, fmt.Errorf("counter: step: %w", ErrClosed)
	case !c.started:
		return Step{}, fmt.Errorf("counter: step: %w", ErrNotReset)
	case c.over:
		return Step{}, fmt.Errorf("counter: step: %w", ErrEpisodeOver)
	}
	if err := ctx.Err(); err != nil {
		return Step{}, fmt.Errorf("counter: step: %w", err)
	}
	c.steps++
	if err := c.Spec().Validate(a); err != nil {
		return c.step(0, err.Error()), nil
	}
	switch a.Name {
	case "add":
		n, _ := strconv.Atoi(a.Arg(0))
		c.count += n
		return c.step(float64(n), ""), nil
	case "stop":
		c.over = true
		st := c.step(0, "")
		st.Terminated, st.Reason = true, "stopped"
		return st, nil
	}
	return c.step(0, ""), nil
}

func (c *counter) step(reward float64, errText string) Step {
	st := Step{Obs: c.obs(errText), Reward: reward}
	if c.info != nil {
		c.info["count"] = c.count
		st.Info = c.info
	}
	return st
}

func (c *counter) Close() error {
	c.closed = true
	c.closes++
	return nil
}

var _ Env = (*counter)(nil)

var errBoom = errors.New("boom")
