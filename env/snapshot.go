package env

import (
	"context"
	"errors"
	"strconv"
	"strings"
)

// Snapshotter is implemented by environments whose state can be saved and
// brought back: planners (package planner) search with it, trying actions
// from a state and returning to it, where others replay the episode from
// its start.
//
// Snapshot saves the state of the running episode: everything that
// decides what the next steps observe and earn, and whether the episode is
// over. Restore brings the env back to a state that Snapshot returned in
// the same episode: the observation, rewards and flags of the steps that
// follow are those that followed the snapshot. A state may be restored
// any number of times, in any order, and stays valid until the next Reset
// or Close; it is opaque to callers.
//
// Restore of a state from another env fails with an error wrapping
// ErrForeignState; from an earlier episode (the env was reset since) or
// after Close, with ErrStaleState or ErrClosed. An env that cannot bring
// a state back exactly (a site that answers the same request differently)
// fails with ErrNotRestorable and says what differed.
type Snapshotter interface {
	Snapshot(ctx context.Context) (State, error)
	Restore(ctx context.Context, s State) error
}

// State is an environment's saved state, as Snapshotter.Snapshot returns
// it. Only the env that made it reads it.
type State interface {
	// Observation is what the env showed when the state was saved: what
	// the agent sees again after Restore.
	Observation() Observation
}

// Errors of Restore. Environments wrap them so errors.Is works.
var (
	ErrForeignState  = errors.New("the state was saved by another environment: restore a state in the env that made it")
	ErrStaleState    = errors.New("the state is from an earlier episode: the env was reset since, and a state lasts one episode")
	ErrNotRestorable = errors.New("the state could not be brought back exactly")
	ErrNoSnapshot    = errors.New("the environment cannot save its state (it does not implement env.Snapshotter)")
)

// Snapshots returns e's Snapshotter, or an error wrapping ErrNoSnapshot
// that names the env.
func Snapshots(e Env) (Snapshotter, error) {
	if s, ok := e.(Snapshotter); ok {
		return s, nil
	}
	return nil, &noSnapshotError{name: e.Spec().Name}
}

type noSnapshotError struct{ name string }

func (e *noSnapshotError) Error() string {
	return "env " + e.name + ": " + ErrNoSnapshot.Error() + ": search needs an env that can; run it without a planner"
}
func (e *noSnapshotError) Unwrap() error { return ErrNoSnapshot }

// A Twin is a simulation of an env that cannot save its state (an arm on
// a serial port), which a planner plans in instead: reset with the
// episode's task, put in the state each observation of the real env shows
// (Follow), then forked with Snapshot and Restore. What it predicts is a
// model's prediction, not the real env's outcome.
type Twin interface {
	Env
	Snapshotter
	// Follow makes the twin's state the one obs of the real env shows,
	// as far as obs tells it.
	Follow(ctx context.Context, obs Observation) error
}

// Twinned is implemented by envs that can make a Twin of themselves. The
// env owns the twin: its Close closes the twin.
type Twinned interface {
	Twin(ctx context.Context) (Twin, error)
}

// A Replayer is a Snapshotter whose Restore replays actions on a world it
// does not own (a website): what an action did out there (an order sent,
// a message posted) no restore undoes. Replayed reports that it is one.
// Planners do not explore the actions an Irreversible env flags in it.
type Replayer interface {
	Replayed() bool
}

// Irreversible is implemented by envs that can tell an action whose
// effect may outlast a restore (placing an order, deleting, paying):
// Irreversible returns why, for a taken where obs was observed, or ""
// for an action that is safe to try.
type Irreversible interface {
	Irreversible(obs Observation, a Action) string
}

// departurePrefix begins the reason Departure writes.
const departurePrefix = "departs from the task: "

// Departure is the Irreversible reason for an action that departs from
// the task's instruction: it brings in words the instruction does not
// have (a search for another product, a text the user never asked for).
// A simulated user reads them back with DepartureWords.
func Departure(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = strconv.Quote(w)
	}
	verb := " are"
	if len(words) == 1 {
		verb = " is"
	}
	return departurePrefix + strings.Join(q, ", ") + verb + " not in its instruction"
}

// DepartureWords returns the words of a Departure reason (the whole of
// why, as Irreversible gave it), and false when why is not one. Read the
// reason apart from any text that quotes the action: what an action types
// could otherwise pass for a reason.
func DepartureWords(why string) ([]string, bool) {
	rest, ok := strings.CutPrefix(why, departurePrefix)
	if !ok {
		return nil, false
	}
	var words []string
	for {
		w, err := strconv.QuotedPrefix(rest)
		if err != nil {
			return nil, false
		}
		u, _ := strconv.Unquote(w)
		words = append(words, u)
		rest = rest[len(w):]
		if next, ok := strings.CutPrefix(rest, ", "); ok {
			rest = next
			continue
		}
		break
	}
	if rest != " is not in its instruction" && rest != " are not in its instruction" {
		return nil, false
	}
	return words, true
}
