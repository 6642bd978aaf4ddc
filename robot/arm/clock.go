package arm

import (
	"context"
	"time"
)

// Clock is the arm's sense of time: the wall clock on hardware, or a
// simulator's clock that advances the physics when the arm sleeps (the
// fast in-process mode).
type Clock interface {
	Now() time.Duration
	Sleep(ctx context.Context, d time.Duration) error
}

// WallClock returns a Clock of real time, counted from the call.
func WallClock() Clock { return wallClock{start: time.Now()} }

type wallClock struct{ start time.Time }

func (c wallClock) Now() time.Duration { return time.Since(c.start) }

func (c wallClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
