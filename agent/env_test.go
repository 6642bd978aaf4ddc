package agent_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/pilotkit/pilot/env"
)

// counter is a tiny deterministic env: inc() adds one to a count,
// stop("n") ends the episode with reward 1 when n is the task's Answer.
// Hooks make it fail, block or sleep at chosen steps.
type counter struct {
	count, steps int
	started      bool
	done         bool
	closed       bool

	images  bool            // observations carry an image
	shaped  bool            // stop's reward is not 0/1: Info says success
	sleep   time.Duration   // each Step sleeps this long
	failAt  int             // Step with this 0-based index fails (-1: never)
	blockAt int             // Step with this index blocks until ctx is done (-1: never)
	blocked chan<- struct{} // told when a Step blocks, if set
	mu      sync.Mutex      // guards blockAt, changed between runs by tests
}

var errBroken = errors.New("the test env broke")

func newCounter() *counter { return &counter{failAt: -1, blockAt: -1} }

var _ env.Env = (*counter)(nil)

func (c *counter) Spec() env.Spec {
	return env.Spec{Name: "counter", Modalities: []string{"text"}, Actions: []env.ActionSpec{
		{Name: "inc", Doc: "add one"},
		{Name: "stop", Doc: "answer", Params: []env.Param{{Name: "answer", Type: env.Integer}}},
	}}
}

func (c *counter) obs(errText string) env.Observation {
	o := env.Observation{
		Text:    "count " + strconv.Itoa(c.count),
		URL:     "mem://counter",
		Title:   "Counter",
		Error:   errText,
		State:   []float64{float64(c.count)},
		Choices: []env.Action{env.A("inc"), env.A("stop", strconv.Itoa(c.count))},
	}
	if c.images {
		o.Images = []env.Image{{MIME: "image/jpeg", Data: []byte("jpeg" + strconv.Itoa(c.count)), W: 2, H: 1}}
	}
	return o
}

func (c *counter) Reset(ctx context.Context, t env.Task) (env.Observation, error) {
	if c.closed {
		return env.Observation{}, env.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return env.Observation{}, err
	}
	c.count, c.steps, c.started, c.done = 0, 0, true, false
	return c.obs(""), nil
}

func (c *counter) Step(ctx context.Context, a env.Action) (env.Step, error) {
	switch {
	case c.closed:
		return env.Step{}, env.ErrClosed
	case !c.started:
		return env.Step{}, env.ErrNotReset
	case c.done:
		return env.Step{}, env.ErrEpisodeOver
	}
	i := c.steps
	c.steps++
	c.mu.Lock()
	block := i == c.blockAt
	c.mu.Unlock()
	if block {
		if c.blocked != nil {
			c.blocked <- struct{}{}
		}
		<-ctx.Done()
		return env.Step{}, ctx.Err()
	}
	if c.sleep > 0 {
		select {
		case <-time.After(c.sleep):
		case <-ctx.Done():
			return env.Step{}, ctx.Err()
		}
	}
	if i == c.failAt {
		return env.Step{}, errBroken
	}
	switch a.Name {
	case "inc":
		c.count++
		return env.Step{Obs: c.obs("")}, nil
	case "stop":
		c.done = true
		if c.shaped {
			ok := a.Arg(0) == strconv.Itoa(c.count)
			r := 0.5 // a right answer with a shaped reward below 1
			if !ok {
				r = 1.5 // a wrong one above it
			}
			return env.Step{Obs: c.obs(""), Reward: r, Terminated: true, Info: map[string]any{env.InfoSuccess: ok}}, nil
		}
		if a.Arg(0) == strconv.Itoa(c.count) {
			return env.Step{Obs: c.obs(""), Reward: 1, Terminated: true, Reason: "right answer"}, nil
		}
		return env.Step{Obs: c.obs(""), Terminated: true, Reason: "wrong answer"}, nil
	}
	return env.Step{Obs: c.obs("no action " + a.Name + ": use inc or stop")}, nil
}

func (c *counter) Close() error { c.closed = true; return nil }
