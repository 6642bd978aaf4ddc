package envtest_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/env/envtest"
)

// lamp is a tiny env that keeps the contract unless one of its faults is
// set. The observation says whether a lamp is on; toggle() flips it,
// noop() does nothing and stop() ends the episode.
type lamp struct {
	// Faults.
	noName             bool // Spec().Name is ""
	duplicateAction    bool // toggle is listed twice
	noNoop             bool // no noop action; the observation lists Choices
	noStop             bool // no stop action
	stepBeforeReset    bool // Step before Reset works
	resetFails         bool // Reset returns an error
	emptyObs           bool // Reset returns an empty observation
	idleEnds           bool // noop terminates the episode
	unknownIsError     bool // an unknown action is a Go error
	unknownSilent      bool // an unknown action leaves Observation.Error empty
	stopTruncates      bool // stop sets Truncated, not Terminated
	stepAfterOver      bool // Step after the end works
	overSurvivesReset  bool // Reset does not start a fresh episode after the end
	closeNotIdempotent bool // the second Close fails
	usableAfterClose   bool // Step and Reset after Close work

	on, started, over, closed bool
	closes                    int
}

func (l *lamp) Spec() env.Spec {
	s := env.Spec{Name: "lamp", Modalities: []string{"text"}}
	if l.noName {
		s.Name = ""
	}
	if !l.noNoop {
		s.Actions = append(s.Actions, env.ActionSpec{Name: "noop", Doc: "Do nothing."})
	}
	s.Actions = append(s.Actions, env.ActionSpec{Name: "toggle", Doc: "Flip the lamp."})
	if l.duplicateAction {
		s.Actions = append(s.Actions, env.ActionSpec{Name: "toggle", Doc: "Flip the lamp again."})
	}
	if !l.noStop {
		s.Actions = append(s.Actions, env.ActionSpec{Name: "stop", Doc: "End the episode.", Params: []env.Param{
			{Name: "answer", Type: env.String, Optional: true},
		}})
	}
	return s
}

func (l *lamp) obs(errText string) env.Observation {
	o := env.Observation{Text: fmt.Sprintf("lamp on: %v", l.on), Error: errText}
	if l.noNoop {
		o.Choices = []env.Action{env.A("toggle")}
	}
	return o
}

func (l *lamp) Reset(ctx context.Context, t env.Task) (env.Observation, error) {
	if l.closed && !l.usableAfterClose {
		return env.Observation{}, fmt.Errorf("lamp: reset: %w", env.ErrClosed)
	}
	if l.resetFails {
		return env.Observation{}, errors.New("lamp: reset: no power")
	}
	l.on, l.started = false, true
	if !l.overSurvivesReset {
		l.over = false
	}
	if l.emptyObs {
		return env.Observation{}, nil
	}
	return l.obs(""), nil
}

func (l *lamp) Step(ctx context.Context, a env.Action) (env.Step, error) {
	switch {
	case l.closed && !l.usableAfterClose:
		return env.Step{}, fmt.Errorf("lamp: step: %w", env.ErrClosed)
	case !l.started && !l.stepBeforeReset:
		return env.Step{}, fmt.Errorf("lamp: step: %w", env.ErrNotReset)
	case l.over && !l.stepAfterOver:
		return env.Step{}, fmt.Errorf("lamp: step: %w", env.ErrEpisodeOver)
	}
	if err := ctx.Err(); err != nil {
		return env.Step{}, fmt.Errorf("lamp: step: %w", err)
	}
	if err := l.Spec().Validate(a); err != nil {
		switch {
		case l.unknownIsError:
			return env.Step{}, err
		case l.unknownSilent:
			return env.Step{Obs: l.obs("")}, nil
		}
		return env.Step{Obs: l.obs(err.Error())}, nil
	}
	switch a.Name {
	case "toggle":
		l.on = !l.on
	case "stop":
		l.over = true
		st := env.Step{Obs: l.obs(""), Terminated: !l.stopTruncates, Truncated: l.stopTruncates, Reason: "stopped"}
		if l.on {
			st.Reward = 1
		}
		return st, nil
	case "noop":
		if l.idleEnds {
			l.over = true
			return env.Step{Obs: l.obs(""), Terminated: true}, nil
		}
	}
	return env.Step{Obs: l.obs("")}, nil
}

func (l *lamp) Close() error {
	l.closes++
	if l.closed && l.closeNotIdempotent {
		return errors.New("lamp: already closed")
	}
	l.closed = true
	return nil
}

var task = env.Task{ID: "lamp-1", Instruction: "turn the lamp on and stop"}

// snapLamp is a lamp with snapshots, right unless one of its faults is set.
type snapLamp struct {
	*lamp
	restoreNothing bool // Restore returns nil and changes nothing
	staleWorks     bool // a state from an earlier episode restores
	foreignWorks   bool // any state restores
	wrongObs       bool // State.Observation is not the snapshot's

	episode int
}

type lampState struct {
	l       *snapLamp
	episode int
	on      bool
	obs     env.Observation
}

func (s *lampState) Observation() env.Observation { return s.obs }

func (l *snapLamp) Reset(ctx context.Context, t env.Task) (env.Observation, error) {
	l.episode++
	return l.lamp.Reset(ctx, t)
}

func (l *snapLamp) Snapshot(ctx context.Context) (env.State, error) {
	if l.closed {
		return nil, env.ErrClosed
	}
	obs := l.obs("")
	if l.wrongObs {
		obs.Text += " (or so)"
	}
	return &lampState{l: l, episode: l.episode, on: l.on, obs: obs}, nil
}

func (l *snapLamp) Restore(ctx context.Context, st env.State) error {
	s, ok := st.(*lampState)
	switch {
	case l.closed:
		return env.ErrClosed
	case (!ok || s.l != l) && !l.foreignWorks:
		return env.ErrForeignState
	case !ok:
		return nil
	case s.episode != l.episode && !l.staleWorks:
		return env.ErrStaleState
	}
	if !l.restoreNothing {
		l.on, l.over = s.on, false
	}
	return nil
}

func TestCheckPasses(t *testing.T) {
	tests := []struct {
		name string
		e    env.Env
		opts []envtest.Option
	}{
		{"default actions", &lamp{}, nil},
		{"idle from the choices", &lamp{noNoop: true}, nil},
		{"no stop: termination skipped", &lamp{noStop: true}, nil},
		{"explicit idle and finish", &lamp{}, []envtest.Option{envtest.Idle(env.A("toggle")), envtest.Finish(env.A("stop", "on"))}},
		{"under RecordStats", env.RecordStats(&lamp{}), nil},
		{"under a roomy TimeLimit", env.TimeLimit(&lamp{}, 100, 0), nil},
		{"with snapshots", &snapLamp{lamp: &lamp{noNoop: true}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			envtest.Check(t, tt.e, task, tt.opts...)
		})
	}
}

// The snapshot section finds each fault of a lamp's snapshots.
func TestCheckFailsSnapshots(t *testing.T) {
	tests := []struct {
		name string
		e    *snapLamp
		want string
	}{
		{"restore does nothing", &snapLamp{restoreNothing: true}, "after Restore (1), differs from the step after the snapshot: text:"},
		{"stale state restores", &snapLamp{staleWorks: true}, "want an error wrapping env.ErrStaleState"},
		{"foreign state restores", &snapLamp{foreignWorks: true}, "Restore of a state the env did not make = <nil>, want an error wrapping env.ErrForeignState"},
		{"wrong observation", &snapLamp{wrongObs: true}, "State.Observation() differs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.e.lamp = &lamp{noNoop: true}
			r := runCheck(t, tt.e)
			if !r.Failed() || !strings.Contains(r.report(), tt.want) {
				t.Errorf("Check(%s) reported:\n%s\nwant a failure containing %q", tt.name, r.report(), tt.want)
			}
		})
	}
}

func TestCheckLogsSkippedTermination(t *testing.T) {
	r := runCheck(t, &lamp{noStop: true})
	if r.Failed() {
		t.Fatalf("Check(lamp without stop) failed: %s", r.report())
	}
	if !strings.Contains(strings.Join(r.logs, "\n"), "skipping the termination checks") {
		t.Errorf("Check(lamp without stop) logged %q, want a note that the termination checks were skipped", r.logs)
	}
}

func TestCheckFails(t *testing.T) {
	tests := []struct {
		name string
		e    *lamp
		opts []envtest.Option
		want string // part of a reported failure
	}{
		{"spec without a name", &lamp{noName: true}, nil, "Spec().Name is empty"},
		{"spec with a duplicate action", &lamp{duplicateAction: true}, nil, `"toggle" is listed twice`},
		{"step before reset", &lamp{stepBeforeReset: true}, nil, "before the first Reset = <nil>, want an error wrapping env.ErrNotReset"},
		{"reset fails", &lamp{resetFails: true}, nil, "Reset(task \"lamp-1\") = lamp: reset: no power, want nil"},
		{"empty observation", &lamp{emptyObs: true}, nil, "Reset returned an empty observation"},
		{"no idle action", &lamp{noNoop: true, emptyObs: true}, nil, "pass envtest.Idle"},
		{"idle ends the episode", &lamp{idleEnds: true}, nil, "ended the episode"},
		{"unknown action is a Go error", &lamp{unknownIsError: true}, nil, "want no Go error: a bad action is part of the episode"},
		{"unknown action without Observation.Error", &lamp{unknownSilent: true}, nil, "Observation.Error \"\""},
		{"finish truncates", &lamp{stopTruncates: true}, nil, "want terminated and not truncated"},
		{"finish does not end", &lamp{}, []envtest.Option{envtest.Finish(env.A("toggle"))}, "want terminated and not truncated"},
		{"step after the end", &lamp{stepAfterOver: true}, nil, "after the episode ended = <nil>, want an error wrapping env.ErrEpisodeOver"},
		{"no fresh episode after the end", &lamp{overSurvivesReset: true}, nil, "want nil: Reset must start a fresh episode"},
		{"close not idempotent", &lamp{closeNotIdempotent: true}, nil, "second Close() = lamp: already closed, want nil"},
		{"usable after close", &lamp{usableAfterClose: true}, nil, "after Close = <nil>, want an error wrapping env.ErrClosed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCheck(t, tt.e, tt.opts...)
			if !r.Failed() {
				t.Fatalf("Check(%s) passed, want a failure containing %q", tt.name, tt.want)
			}
			if !strings.Contains(r.report(), tt.want) {
				t.Errorf("Check(%s) reported:\n%s\nwant a failure containing %q", tt.name, r.report(), tt.want)
			}
			if tt.e.closes == 0 {
				t.Errorf("Check(%s) did not close the env", tt.name)
			}
		})
	}
}

// runCheck runs envtest.Check against e with a recorder in place of t, in
// its own goroutine so that Fatal can stop it as it stops a test.
func runCheck(t *testing.T, e env.Env, opts ...envtest.Option) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		envtest.Check(r, e, task, opts...)
	}()
	<-done
	return r
}

// recorder is a testing.TB that records failures and logs instead of
// reporting them. The embedded TB (the real test) serves the methods it does
// not override, such as Context.
type recorder struct {
	testing.TB

	mu       sync.Mutex
	failures []string
	logs     []string
	failed   bool
}

func (r *recorder) Helper() {}

func (r *recorder) fail(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = true
	if msg != "" {
		r.failures = append(r.failures, msg)
	}
}

func (r *recorder) Fail()                             { r.fail("") }
func (r *recorder) FailNow()                          { r.fail(""); runtime.Goexit() }
func (r *recorder) Error(args ...any)                 { r.fail(fmt.Sprint(args...)) }
func (r *recorder) Errorf(format string, args ...any) { r.fail(fmt.Sprintf(format, args...)) }
func (r *recorder) Fatal(args ...any)                 { r.Error(args...); runtime.Goexit() }
func (r *recorder) Fatalf(format string, args ...any) { r.Errorf(format, args...); runtime.Goexit() }
func (r *recorder) Skip(args ...any)                  { r.Log(args...); runtime.Goexit() }
func (r *recorder) Skipf(format string, args ...any)  { r.Logf(format, args...); runtime.Goexit() }
func (r *recorder) SkipNow()                          { runtime.Goexit() }

func (r *recorder) Log(args ...any) { r.Logf("%s", fmt.Sprint(args...)) }

func (r *recorder) Logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs = append(r.logs, fmt.Sprintf(format, args...))
}

func (r *recorder) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}

func (r *recorder) report() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.failures, "\n")
}
