package evals_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/policy"
)

// fakeEnv is an in-memory deterministic env. A task says what its episode
// does in Hidden["do"], after Hidden["steps"] steps (default 1):
//
//	win    terminated, reward 1
//	lose   terminated, reward 0
//	half   terminated, reward 0.5
//	crash  Step fails, as when the browser dies
//	block  Step blocks until its context is done
//	long   never ends: the agent's step limit truncates it
//	flaky  crashes as crash in its first Hidden["crashes"] plays (counted
//	       in plays, shared by the workers), then wins
type fakeEnv struct {
	task   env.Task
	steps  int
	live   bool
	closed bool

	// onReset, when set, runs at the start of each Reset.
	onReset func(env.Task)
	// blocked, when set, is told each time a Step blocks.
	blocked chan<- string
	// open counts the envs made and not yet closed, across workers.
	open *atomic.Int32
	// plays counts the plays of each flaky task, across workers.
	plays *sync.Map
}

var errCrash = env.BackendLost("the fake browser died")

func (e *fakeEnv) Spec() env.Spec {
	return env.Spec{Name: "fake", Modalities: []string{"text"}, Actions: []env.ActionSpec{{Name: "noop"}}}
}

func (e *fakeEnv) Reset(ctx context.Context, t env.Task) (env.Observation, error) {
	if e.closed {
		return env.Observation{}, env.ErrClosed
	}
	if e.onReset != nil {
		e.onReset(t)
	}
	if err := ctx.Err(); err != nil {
		return env.Observation{}, err
	}
	e.task, e.steps, e.live = t, 0, true
	return env.Observation{Text: "task " + t.ID}, nil
}

func (e *fakeEnv) Step(ctx context.Context, a env.Action) (env.Step, error) {
	switch {
	case e.closed:
		return env.Step{}, env.ErrClosed
	case !e.live:
		return env.Step{}, env.ErrEpisodeOver
	}
	e.steps++
	obs := env.Observation{Text: fmt.Sprintf("task %s step %d", e.task.ID, e.steps)}
	n, err := strconv.Atoi(e.task.Hidden["steps"])
	if err != nil {
		n = 1
	}
	if e.steps < n {
		return env.Step{Obs: obs}, nil
	}
	st := env.Step{Obs: obs, Terminated: true, Reason: e.task.Hidden["do"]}
	switch e.task.Hidden["do"] {
	case "win":
		st.Reward = 1
	case "lose":
	case "half":
		st.Reward = 0.5
	case "crash":
		e.live = false
		return env.Step{}, errCrash
	case "block":
		if e.blocked != nil {
			e.blocked <- e.task.ID
		}
		<-ctx.Done()
		return env.Step{}, ctx.Err()
	case "long":
		return env.Step{Obs: obs}, nil
	case "flaky":
		v, _ := e.plays.LoadOrStore(e.task.ID, new(atomic.Int32))
		crashes, _ := strconv.Atoi(e.task.Hidden["crashes"])
		if int(v.(*atomic.Int32).Add(1)) <= crashes {
			e.live = false
			return env.Step{}, errCrash
		}
		st.Reward = 1
	default:
		return env.Step{}, fmt.Errorf("fake env: task %s: unknown do %q", e.task.ID, e.task.Hidden["do"])
	}
	e.live = false
	return st, nil
}

func (e *fakeEnv) Close() error {
	if !e.closed {
		e.closed = true
		if e.open != nil {
			e.open.Add(-1)
		}
	}
	return nil
}

// task makes a fake task.
func task(id, do string, steps int) env.Task {
	return env.Task{ID: id, Suite: "fake", Instruction: do, Hidden: map[string]string{"do": do, "steps": strconv.Itoa(steps)}}
}

// flaky makes a task whose first crashes plays crash, as when its browser
// dies, and whose next ones win.
func flaky(id string, crashes int) env.Task {
	t := task(id, "flaky", 1)
	t.Hidden["crashes"] = strconv.Itoa(crashes)
	return t
}

// noop is the policy of every fake episode.
func noop(env.Task) (policy.Policy, error) {
	return policy.Func(func(ctx context.Context, _ policy.Input) (policy.Decision, error) {
		if err := ctx.Err(); err != nil {
			return policy.Decision{}, err
		}
		return policy.Decision{Action: env.A("noop")}, nil
	}), nil
}
