package envtest_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/pilotkit/pilot/env/envtest"
)

// checkTB is a testing.TB that prints what Check reports, so that the
// example can show it; in a test, pass the test's t.
type checkTB struct {
	testing.TB // not set: Check calls only the methods below
	failed     bool
}

func (c *checkTB) Helper()                    {}
func (c *checkTB) Context() context.Context   { return context.Background() }
func (c *checkTB) Logf(f string, args ...any) {}
func (c *checkTB) Errorf(f string, args ...any) {
	c.failed = true
	fmt.Printf(f+"\n", args...)
}
func (c *checkTB) Fatalf(f string, args ...any) {
	c.Errorf(f, args...)
	runtime.Goexit()
}

// Check an env against the env.Env contract: a lamp that keeps it, then
// one whose unknown actions are Go errors instead of observations.
func ExampleCheck() {
	for _, l := range []*lamp{{}, {unknownIsError: true}} {
		tb := &checkTB{}
		done := make(chan struct{})
		go func() { // Fatalf ends this goroutine, as it ends a test
			defer close(done)
			envtest.Check(tb, l, task)
		}()
		<-done
		fmt.Println("failed:", tb.failed)
	}
	// Output:
	// failed: false
	// envtest: Step(no_such_action()) = unknown action "no_such_action": lamp knows noop, toggle, stop, want no Go error: a bad action is part of the episode and comes back in Observation.Error
	// failed: true
}
