package agent

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/policy/cache"
)

// Observer is told of each event of an episode as it happens: the reset,
// every step and the end. Run calls observers synchronously, in the order
// of Options.Observers, so a slow observer slows the loop.
//
// An observer that returns an error ends the episode: Run stops, tells
// every observer of the end, and returns the error. Observers must not
// change the trajectory, except that one which stores images may fill in
// the ImageRef.Path of the record at hand.
type Observer interface {
	OnEvent(ctx context.Context, ev Event) error
}

// ObserverFunc adapts an ordinary function to the Observer interface.
type ObserverFunc func(ctx context.Context, ev Event) error

// OnEvent calls f(ctx, ev).
func (f ObserverFunc) OnEvent(ctx context.Context, ev Event) error { return f(ctx, ev) }

// EventKind says what happened.
type EventKind int

// The events of an episode, in the order they come: one EventReset, an
// EventStep per step, one EventEnd.
const (
	EventReset EventKind = iota + 1
	EventStep
	EventEnd
)

func (k EventKind) String() string {
	switch k {
	case EventReset:
		return "reset"
	case EventStep:
		return "step"
	case EventEnd:
		return "end"
	}
	return "EventKind(" + strconv.Itoa(int(k)) + ")"
}

// Event is one thing that happened in an episode. Its pointers are valid
// only during the OnEvent call: copy what you keep.
type Event struct {
	Kind EventKind
	// Traj is the trajectory so far; at EventEnd, complete.
	Traj *Trajectory
	// Step is the record of the step just taken (EventStep only).
	Step *StepRecord
	// Obs is the full observation, images included: the reset's at
	// EventReset, the step's at EventStep, nil at EventEnd.
	Obs *env.Observation
	// Err is the error Run is about to return (EventEnd only).
	Err error
}

// Progress returns an observer that prints a line per step to w,
//
//	step 3  click("12")  reward 0  (12ms env, 0ms policy)
//
// with "  error: …" appended when the observation carries an error,
// "  warning: the same action changed nothing (N in a row)" when the
// policy repeats an action that leaves the observation as it was
// (StepRecord.Unchanged), and a
// line at the end,
//
//	done: terminated, reward 1, 4 steps, 1.2s
//
// which names the reason when there is one, and the error when Run failed.
// Write errors are returned, and so end the episode.
func Progress(w io.Writer) Observer {
	return ObserverFunc(func(_ context.Context, ev Event) error {
		var b strings.Builder
		switch ev.Kind {
		case EventStep:
			s := ev.Step
			if s.Tool != nil && s.Tool.Answer != nil {
				fmt.Fprintf(&b, "step %d  %s  answer (%s, %s): %s", s.Index, s.ActionText, s.Tool.Answer.By, ms(s.Tool.Wait), oneLine(s.Tool.Answer.String()))
				break
			}
			fmt.Fprintf(&b, "step %d  %s  reward %s  (%s env, %s policy)", s.Index, s.ActionText,
				formatFloat(s.Reward), ms(s.EnvTime), ms(s.PolicyTime))
			if s.Obs.Error != "" {
				b.WriteString("  error: ")
				b.WriteString(oneLine(s.Obs.Error))
			}
			if g := s.Gate; g != nil {
				verdict := "approved"
				if !g.Approved {
					verdict = "refused"
				}
				fmt.Fprintf(&b, "  gate: %s (%s, %s)", verdict, g.By, oneLine(g.Answer))
			}
			if s.Meta[cache.Key] == cache.Hit {
				b.WriteString("  (from the cache)")
			}
			if s.Unchanged > 0 {
				fmt.Fprintf(&b, "  warning: the same action changed nothing (%d in a row)", s.Unchanged)
			}
		case EventEnd:
			t := ev.Traj
			b.WriteString("done: ")
			switch {
			case ev.Err != nil:
				b.WriteString("error: " + oneLine(ev.Err.Error()))
			case t.Terminated:
				b.WriteString("terminated")
			case t.Truncated:
				b.WriteString("truncated")
			default:
				b.WriteString("stopped")
			}
			if t.Reason != "" && ev.Err == nil {
				b.WriteString(" (" + oneLine(t.Reason) + ")")
			}
			fmt.Fprintf(&b, ", reward %s, %d steps, %s", formatFloat(t.Reward), len(t.Steps), human(t.Duration))
			if hits, misses := cacheCounts(t); hits+misses > 0 {
				fmt.Fprintf(&b, ", %d from the cache, %d from the policy", hits, misses)
			}
		default:
			return nil
		}
		b.WriteByte('\n')
		_, err := io.WriteString(w, b.String())
		return err
	})
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', 6, 64) }

func ms(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) + "ms" }

// human prints short durations in milliseconds and longer ones to a tenth
// of a second: 12ms, 1.2s, 1m3.4s.
func human(d time.Duration) string {
	if d < time.Second {
		return ms(d)
	}
	return d.Round(100 * time.Millisecond).String()
}

func oneLine(s string) string {
	if strings.ContainsAny(s, "\r\n") {
		s = strings.Join(strings.Fields(s), " ")
	}
	return s
}

// cacheCounts counts the steps of t that policy/cache replayed and those
// its policy chose.
func cacheCounts(t *Trajectory) (hits, misses int) {
	for _, s := range t.Steps {
		switch s.Meta[cache.Key] {
		case cache.Hit:
			hits++
		case cache.Miss:
			misses++
		}
	}
	return hits, misses
}
