package sim

import (
	"context"
	"time"
)

// Clock is the simulator's time for the fast mode: Sleep runs the physics
// for d at once instead of waiting.
type Clock struct{ s *Sim }

// Clock returns the simulator's clock.
func (s *Sim) Clock() *Clock { return &Clock{s: s} }

// Now is the simulated time since New.
func (c *Clock) Now() time.Duration { return c.s.Now() }

// Sleep advances the simulation by d (no real waiting) and returns nil, or
// ctx's error without advancing when ctx is done.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.s.Advance(d)
	return nil
}
