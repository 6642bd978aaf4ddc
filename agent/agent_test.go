package agent_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pilotkit/pilot/agent"
	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/policy"
)

var task = env.Task{ID: "t1", Suite: "unit", Instruction: "count to two and stop"}

func acts(texts ...string) []env.Action {
	out := make([]env.Action, len(texts))
	for i, s := range texts {
		a, err := env.ParseAction(s)
		if err != nil {
			panic(err)
		}
		out[i] = a
	}
	return out
}

// always returns a policy that always plays a and reports usage u.
func always(a env.Action, u policy.Usage) policy.Policy {
	return policy.Func(func(ctx context.Context, in policy.Input) (policy.Decision, error) {
		return policy.Decision{Action: a, Usage: u}, ctx.Err()
	})
}

func TestRunEnds(t *testing.T) {
	tests := []struct {
		name       string
		opts       agent.Options
		p          policy.Policy
		steps      int
		terminated bool
		truncated  bool
		success    bool
		reason     string // a regexp
	}{
		{"right stop", agent.Options{}, policy.Replay(acts(`inc()`, `inc()`, `stop("2")`)), 3, true, false, true, "^right answer$"},
		{"wrong stop", agent.Options{}, policy.Replay(acts(`inc()`, `stop("5")`)), 2, true, false, false, "^wrong answer$"},
		{"step limit", agent.Options{MaxSteps: 5}, always(env.A("inc"), policy.Usage{}), 5, false, true, false, "^step limit 5 reached$"},
		{"default step limit", agent.Options{}, always(env.A("inc"), policy.Usage{}), agent.DefaultMaxSteps, false, true, false, "^step limit 50 reached$"},
		{"token budget", agent.Options{MaxTokens: 250}, always(env.A("inc"), policy.Usage{PromptTokens: 90, CompletionTokens: 10}), 3, false, true, false,
			`^token budget 250 spent \(300 tokens used\)$`},
		{"cost budget", agent.Options{MaxCostUSD: 0.05}, always(env.A("inc"), policy.Usage{CostUSD: 0.02}), 3, false, true, false,
			`^cost budget \$0\.05 spent \(\$0\.06 used\)$`},
		{"env ends before the budget", agent.Options{MaxSteps: 2}, policy.Replay(acts(`inc()`, `stop("1")`)), 2, true, false, true, "^right answer$"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			traj, err := agent.Run(context.Background(), newCounter(), task, tt.p, tt.opts)
			if err != nil {
				t.Fatalf("Run() error = %v", err)
			}
			got := fmt.Sprintf("%d steps, terminated %v, truncated %v, success %v", len(traj.Steps), traj.Terminated, traj.Truncated, traj.Success)
			want := fmt.Sprintf("%d steps, terminated %v, truncated %v, success %v", tt.steps, tt.terminated, tt.truncated, tt.success)
			if got != want || !regexp.MustCompile(tt.reason).MatchString(traj.Reason) {
				t.Errorf("Run() = %s, reason %q; want %s, reason matching %s", got, traj.Reason, want, tt.reason)
			}
		})
	}
}

func TestSuccessFromInfo(t *testing.T) {
	for _, tt := range []struct {
		plan []string
		want bool
	}{{[]string{"inc()", "stop(1)"}, true}, {[]string{"inc()", "stop(3)"}, false}} {
		c := newCounter()
		c.shaped = true
		traj, err := agent.Run(context.Background(), c, task, policy.Replay(acts(tt.plan...)), agent.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if traj.Success != tt.want {
			t.Errorf("%v: Success = %v (final reward %v), want %v from Info[%q]", tt.plan, traj.Success, traj.Reward, tt.want, env.InfoSuccess)
		}
	}
}

// A run budget is shared: the second episode starts with what the first
// spent, and ends when the two together reach it.
func TestRunBudget(t *testing.T) {
	b := &agent.Budget{MaxCostUSD: 0.10}
	p := always(env.A("inc"), policy.Usage{CostUSD: 0.02, PromptTokens: 10})
	first, err := agent.Run(context.Background(), newCounter(), task, p, agent.Options{MaxSteps: 3, RunBudget: b})
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Steps) != 3 || first.Reason != "step limit 3 reached" {
		t.Fatalf("first episode: %d steps, %q; want 3 steps, the step limit", len(first.Steps), first.Reason)
	}
	second, err := agent.Run(context.Background(), newCounter(), task, p, agent.Options{MaxSteps: 10, RunBudget: b})
	if err != nil {
		t.Fatal(err)
	}
	if len(second.Steps) != 2 || !second.Truncated || !strings.HasPrefix(second.Reason, "run cost budget $0.1 spent") {
		t.Errorf("second episode: %d steps, truncated %v, %q; want 2 steps, truncated by the run budget", len(second.Steps), second.Truncated, second.Reason)
	}
	if s := b.Spent(); s.PromptTokens != 50 {
		t.Errorf("Budget.Spent() = %+v, want 50 prompt tokens over 5 steps", s)
	}
}

func TestRunRecords(t *testing.T) {
	var resets []env.Task
	var inputs []policy.Input
	p := struct {
		policy.Policy
		policy.Resetter
	}{
		policy.Func(func(ctx context.Context, in policy.Input) (policy.Decision, error) {
			inputs = append(inputs, in)
			a := []env.Action{env.A("inc"), env.A("oops"), env.A("stop", "1")}[in.Step]
			return policy.Decision{Action: a, Thought: "step " + fmt.Sprint(in.Step), Usage: policy.Usage{PromptTokens: 10, CostUSD: 0.5},
				Meta: map[string]any{"model": "m"}}, nil
		}),
		resetterFunc(func(t env.Task) { resets = append(resets, t) }),
	}
	traj, err := agent.Run(context.Background(), newCounter(), task, p, agent.Options{PolicyName: "scripted"})
	if err != nil {
		t.Fatal(err)
	}
	if len(resets) != 1 || resets[0].ID != task.ID {
		t.Errorf("ResetEpisode calls = %v, want one with task %s", resets, task.ID)
	}
	if traj.Env != "counter" || traj.Policy != "scripted" || traj.Task.ID != "t1" || traj.Start.IsZero() || traj.Duration <= 0 {
		t.Errorf("Run() header = env %q policy %q task %q start %v duration %v", traj.Env, traj.Policy, traj.Task.ID, traj.Start, traj.Duration)
	}
	if traj.Return != 1 || traj.Reward != 1 || !traj.Success || traj.Error != "" {
		t.Errorf("Run() = return %v reward %v success %v error %q; want 1, 1, true, \"\"", traj.Return, traj.Reward, traj.Success, traj.Error)
	}
	if want := (policy.Usage{PromptTokens: 30, CostUSD: 1.5}); traj.Usage != want {
		t.Errorf("Run() usage = %+v, want %+v", traj.Usage, want)
	}
	if traj.Reset.Text != "count 0" || traj.Reset.SHA256 == "" || traj.Reset.URL != "mem://counter" {
		t.Errorf("Run() reset record = %+v", traj.Reset)
	}
	s := traj.Steps[1]
	if s.Index != 1 || s.ActionText != `oops()` || s.Thought != "step 1" || s.Obs.Error == "" || s.Meta["model"] != "m" || s.Usage.PromptTokens != 10 {
		t.Errorf("step 1 record = %+v", s)
	}
	if traj.Steps[0].Obs.SHA256 == traj.Reset.SHA256 || traj.Steps[0].Obs.SHA256 != traj.Steps[1].Obs.SHA256 {
		t.Errorf("obs digests: reset %s, step 0 %s, step 1 %s; want a change then the same", traj.Reset.SHA256, traj.Steps[0].Obs.SHA256, traj.Steps[1].Obs.SHA256)
	}
	// The policy sees the step index, the latest observation and the history.
	last := inputs[2]
	if last.Step != 2 || last.Obs.Text != "count 1" || len(last.History) != 2 || last.History[1].Error == "" || !last.History[0].Action.Equal(env.A("inc")) || last.Spec.Name != "counter" {
		t.Errorf("policy input at step 2 = %+v", last)
	}
	if len(inputs[0].History) != 0 {
		t.Errorf("policy input at step 0 has history %v, want none", inputs[0].History)
	}
}

type resetterFunc func(env.Task)

func (f resetterFunc) ResetEpisode(t env.Task) { f(t) }

func TestDropObsText(t *testing.T) {
	traj, err := agent.Run(context.Background(), newCounter(), task, policy.Replay(acts(`stop("0")`)), agent.Options{DropObsText: true})
	if err != nil {
		t.Fatal(err)
	}
	if traj.Reset.Text != "" || traj.Steps[0].Obs.Text != "" || traj.Steps[0].Obs.SHA256 == "" {
		t.Errorf("with DropObsText: reset %+v, step %+v; want no text but a digest", traj.Reset, traj.Steps[0].Obs)
	}
}

func TestRunErrors(t *testing.T) {
	errPolicy := errors.New("the model is down")
	failing := policy.Func(func(ctx context.Context, in policy.Input) (policy.Decision, error) {
		if in.Step == 2 {
			return policy.Decision{}, errPolicy
		}
		return policy.Decision{Action: env.A("inc")}, nil
	})
	tests := []struct {
		name    string
		env     func() *counter
		p       policy.Policy
		target  error
		msg     string
		steps   int
		resetOK bool
		phase   agent.Phase
		at      int // the step of the agent.Error
	}{
		{"policy error", newCounter, failing, errPolicy, "agent: step 2: the policy: the model is down", 2, true, agent.PhasePolicy, 2},
		{"env error", func() *counter { c := newCounter(); c.failAt = 1; return c }, always(env.A("inc"), policy.Usage{}), errBroken,
			`agent: step 1: env step inc(): the test env broke`, 1, true, agent.PhaseEnv, 1},
		{"no action", newCounter, always(env.Action{}, policy.Usage{}), nil, "agent: step 0: the policy returned no action", 0, true, agent.PhasePolicy, 0},
		{"reset error", func() *counter { c := newCounter(); c.closed = true; return c }, always(env.A("inc"), policy.Usage{}), env.ErrClosed,
			"agent: reset counter for task \"t1\": environment is closed", 0, false, agent.PhaseReset, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var events []agent.EventKind
			obs := agent.ObserverFunc(func(_ context.Context, ev agent.Event) error { events = append(events, ev.Kind); return nil })
			traj, err := agent.Run(context.Background(), tt.env(), task, tt.p, agent.Options{Observers: []agent.Observer{obs}})
			if err == nil || (tt.target != nil && !errors.Is(err, tt.target)) || !strings.HasPrefix(err.Error(), tt.msg) {
				t.Fatalf("Run() error = %v; want one wrapping %v starting %q", err, tt.target, tt.msg)
			}
			var ae *agent.Error
			if !errors.As(err, &ae) || ae.Phase != tt.phase || ae.Step != tt.at {
				t.Errorf("Run() error = %#v; want an *agent.Error of phase %s at step %d", err, tt.phase, tt.at)
			}
			if traj == nil || len(traj.Steps) != tt.steps || traj.Error != err.Error() {
				t.Fatalf("Run() trajectory = %+v; want %d steps and Error %q", traj, tt.steps, err)
			}
			if tt.resetOK && (len(events) == 0 || events[len(events)-1] != agent.EventEnd) {
				t.Errorf("events = %v; want the end event last", events)
			}
			if !tt.resetOK && (len(events) != 1 || events[0] != agent.EventEnd) {
				t.Errorf("events = %v; want only the end when Reset fails", events)
			}
		})
	}
}

func TestTimeLimit(t *testing.T) {
	t.Run("between steps", func(t *testing.T) {
		c := newCounter()
		c.sleep = 5 * time.Millisecond
		traj, err := agent.Run(context.Background(), c, task, always(env.A("inc"), policy.Usage{}), agent.Options{MaxTime: 100 * time.Millisecond, MaxSteps: -1})
		if err != nil || !traj.Truncated || !strings.HasPrefix(traj.Reason, "time limit 100ms reached") || len(traj.Steps) == 0 {
			t.Errorf("Run() = truncated %v, reason %q, %d steps, %v; want truncated by the time limit", traj.Truncated, traj.Reason, len(traj.Steps), err)
		}
	})
	t.Run("during a step", func(t *testing.T) {
		c := newCounter()
		c.blockAt = 1
		start := time.Now()
		traj, err := agent.Run(context.Background(), c, task, always(env.A("inc"), policy.Usage{}), agent.Options{MaxTime: 200 * time.Millisecond, StepTimeout: time.Minute})
		want := "time limit 200ms reached during step 1 (env step inc() cut short)"
		if err != nil || !traj.Truncated || traj.Reason != want || len(traj.Steps) != 1 {
			t.Errorf("Run() = truncated %v, reason %q, %d steps, %v; want truncated, %q, 1 step", traj.Truncated, traj.Reason, len(traj.Steps), err, want)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Run() took %v, want about 200ms", d)
		}
	})
}

func TestCancel(t *testing.T) {
	blocked := make(chan struct{})
	c := newCounter()
	c.blockAt = 2
	c.blocked = blocked
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-blocked
		cancel()
	}()
	start := time.Now()
	traj, err := agent.Run(ctx, c, task, always(env.A("inc"), policy.Usage{}), agent.Options{})
	wg.Wait()
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "step 2") {
		t.Errorf("Run() error = %v; want context.Canceled at step 2", err)
	}
	if len(traj.Steps) != 2 {
		t.Errorf("Run() kept %d steps, want 2", len(traj.Steps))
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Run() took %v to return after cancel", d)
	}
}

func TestStepTimeout(t *testing.T) {
	t.Run("env", func(t *testing.T) {
		c := newCounter()
		c.blockAt = 1
		ctx := context.Background()
		traj, err := agent.Run(ctx, c, task, always(env.A("inc"), policy.Usage{}), agent.Options{StepTimeout: 100 * time.Millisecond})
		if !errors.Is(err, agent.ErrStepTimeout) || !strings.HasPrefix(err.Error(), "agent: step 1: step timeout: env step inc() took longer than 100ms") {
			t.Fatalf("Run() error = %v; want a step timeout at step 1", err)
		}
		if len(traj.Steps) != 1 || traj.Truncated || traj.Terminated {
			t.Errorf("Run() trajectory = %d steps, truncated %v, terminated %v; want 1 step, neither", len(traj.Steps), traj.Truncated, traj.Terminated)
		}
		// The session survives: same env, same ctx, a new episode.
		if c.closed || ctx.Err() != nil {
			t.Fatalf("after a step timeout: env closed %v, ctx %v; want both alive", c.closed, ctx.Err())
		}
		c.mu.Lock()
		c.blockAt = -1
		c.mu.Unlock()
		traj, err = agent.Run(ctx, c, task, policy.Replay(acts(`inc()`, `stop("1")`)), agent.Options{StepTimeout: time.Second})
		if err != nil || !traj.Success {
			t.Errorf("second Run() = success %v, %v; want a successful episode", traj.Success, err)
		}
	})
	t.Run("policy", func(t *testing.T) {
		slow := policy.Func(func(ctx context.Context, in policy.Input) (policy.Decision, error) {
			<-ctx.Done()
			return policy.Decision{}, fmt.Errorf("model call: %w", ctx.Err())
		})
		_, err := agent.Run(context.Background(), newCounter(), task, slow, agent.Options{StepTimeout: 10 * time.Millisecond})
		if !errors.Is(err, agent.ErrStepTimeout) || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "step 0: step timeout: the policy took longer than 10ms") {
			t.Errorf("Run() error = %v; want a step timeout of the policy at step 0", err)
		}
	})
}

func TestObservers(t *testing.T) {
	var log []string
	mk := func(name string) agent.Observer {
		return agent.ObserverFunc(func(_ context.Context, ev agent.Event) error {
			s := name + " " + ev.Kind.String()
			if ev.Kind == agent.EventStep {
				s += fmt.Sprint(" ", ev.Step.Index, " ", ev.Obs.Text)
			}
			if ev.Kind == agent.EventEnd {
				s += fmt.Sprint(" ", len(ev.Traj.Steps), " ", ev.Err)
			}
			log = append(log, s)
			return nil
		})
	}
	_, err := agent.Run(context.Background(), newCounter(), task, policy.Replay(acts(`inc()`, `stop("1")`)),
		agent.Options{Observers: []agent.Observer{mk("a"), mk("b")}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a reset", "b reset", "a step 0 count 1", "b step 0 count 1", "a step 1 count 1", "b step 1 count 1", "a end 2 <nil>", "b end 2 <nil>"}
	if !reflect.DeepEqual(log, want) {
		t.Errorf("events = %q\nwant %q", log, want)
	}
}

func TestObserverError(t *testing.T) {
	errFull := errors.New("disk full")
	var ends int
	obs := agent.ObserverFunc(func(_ context.Context, ev agent.Event) error {
		switch {
		case ev.Kind == agent.EventStep && ev.Step.Index == 1:
			return errFull
		case ev.Kind == agent.EventEnd:
			ends++
		}
		return nil
	})
	traj, err := agent.Run(context.Background(), newCounter(), task, always(env.A("inc"), policy.Usage{}), agent.Options{Observers: []agent.Observer{obs}})
	if !errors.Is(err, errFull) || !strings.HasPrefix(err.Error(), "agent: step 1: observer 0 (step): disk full") {
		t.Errorf("Run() error = %v; want the observer's error at step 1", err)
	}
	if len(traj.Steps) != 2 || ends != 1 {
		t.Errorf("Run() = %d steps, %d end events; want 2 and 1", len(traj.Steps), ends)
	}
}

func TestRecorder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run", "ep1")
	c := newCounter()
	c.images = true
	rec := agent.NewRecorder(dir)
	traj, err := agent.Run(context.Background(), c, task, policy.Replay(acts(`inc()`, `inc()`, `stop("2")`)),
		agent.Options{Observers: []agent.Observer{rec}, PolicyName: "replay"})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, agent.TrajectoryFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	back, err := agent.ReadJSONL(f)
	if err != nil {
		t.Fatalf("ReadJSONL(recorded) error = %v", err)
	}
	if !reflect.DeepEqual(back, traj) {
		t.Errorf("recorded trajectory differs from Run's:\n got %+v\nwant %+v", back, traj)
	}
	wantPaths := map[string]string{
		traj.Reset.Images[0].Path:        "jpeg0",
		traj.Steps[0].Obs.Images[0].Path: "jpeg1",
		traj.Steps[2].Obs.Images[0].Path: "jpeg2",
	}
	if traj.Steps[0].Obs.Images[0].Path != "images/step-0000-0.jpg" || traj.Reset.Images[0].Path != "images/reset-0.jpg" {
		t.Errorf("image paths: reset %q, step 0 %q; want images/reset-0.jpg, images/step-0000-0.jpg", traj.Reset.Images[0].Path, traj.Steps[0].Obs.Images[0].Path)
	}
	for rel, want := range wantPaths {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil || string(b) != want {
			t.Errorf("image %s = %q, %v; want %q", rel, b, err, want)
		}
	}
	// One Recorder records one episode.
	_, err = agent.Run(context.Background(), c, task, policy.Replay(acts(`stop("0")`)), agent.Options{Observers: []agent.Observer{rec}})
	if err == nil || !strings.Contains(err.Error(), "already holds an episode") {
		t.Errorf("second Run() with the same Recorder error = %v; want one saying it already holds an episode", err)
	}
}

func TestRecorderWriteError(t *testing.T) {
	// A file where the directory should be: the Recorder cannot create it.
	base := t.TempDir()
	blocker := filepath.Join(base, "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	rec := agent.NewRecorder(filepath.Join(blocker, "ep"))
	traj, err := agent.Run(context.Background(), newCounter(), task, always(env.A("inc"), policy.Usage{}), agent.Options{Observers: []agent.Observer{rec}})
	if err == nil || !strings.Contains(err.Error(), "recorder: create the record directory") || len(traj.Steps) != 0 {
		t.Errorf("Run() = %d steps, %v; want no steps and the recorder's error", len(traj.Steps), err)
	}
}

func TestProgress(t *testing.T) {
	var buf bytes.Buffer
	p := agent.Progress(&buf)
	ctx := context.Background()
	steps := []agent.StepRecord{
		{Index: 3, ActionText: `click("12")`, EnvTime: 12 * time.Millisecond, PolicyTime: 300 * time.Microsecond},
		{Index: 4, ActionText: `click("99")`, Reward: 0.5, EnvTime: 2 * time.Millisecond, Obs: agent.ObsRecord{Error: "no element with id 99"}},
	}
	for i := range steps {
		if err := p.OnEvent(ctx, agent.Event{Kind: agent.EventStep, Step: &steps[i]}); err != nil {
			t.Fatal(err)
		}
	}
	ends := []agent.Event{
		{Kind: agent.EventEnd, Traj: &agent.Trajectory{Terminated: true, Reward: 1, Steps: make([]agent.StepRecord, 4), Duration: 1234 * time.Millisecond}},
		{Kind: agent.EventEnd, Traj: &agent.Trajectory{Truncated: true, Reason: "step limit 50 reached", Steps: make([]agent.StepRecord, 50), Duration: 62 * time.Second}},
		{Kind: agent.EventEnd, Traj: &agent.Trajectory{Steps: make([]agent.StepRecord, 2), Duration: 15 * time.Millisecond}, Err: errors.New("agent: step 2: the policy: down")},
	}
	for _, ev := range append([]agent.Event{{Kind: agent.EventReset}}, ends...) {
		if err := p.OnEvent(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	want := `step 3  click("12")  reward 0  (12ms env, 0ms policy)
step 4  click("99")  reward 0.5  (2ms env, 0ms policy)  error: no element with id 99
done: terminated, reward 1, 4 steps, 1.2s
done: truncated (step limit 50 reached), reward 0, 50 steps, 1m2s
done: error: agent: step 2: the policy: down, reward 0, 2 steps, 15ms
`
	if got := buf.String(); got != want {
		t.Errorf("Progress wrote\n%s\nwant\n%s", got, want)
	}
}

func TestProgressRun(t *testing.T) {
	var buf bytes.Buffer
	_, err := agent.Run(context.Background(), newCounter(), task, policy.Replay(acts(`inc()`, `stop("1")`)), agent.Options{Observers: []agent.Observer{agent.Progress(&buf)}})
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^step 0  inc\(\)  reward 0  \(\d+ms env, \d+ms policy\)
step 1  stop\("1"\)  reward 1  \(\d+ms env, \d+ms policy\)
done: terminated \(right answer\), reward 1, 2 steps, \d+ms
$`)
	if !re.MatchString(buf.String()) {
		t.Errorf("Progress wrote\n%s\nwant lines matching\n%s", buf.String(), re)
	}
}

// TestReplayEndsWithoutStop: a replay that runs out ends the episode,
// truncated, and adds no stop("") the list did not hold.
func TestReplayEndsWithoutStop(t *testing.T) {
	task := env.Task{ID: "t", Answer: "2"}
	traj, err := agent.Run(context.Background(), newCounter(), task, policy.Replay(acts(`inc()`, `inc()`)), agent.Options{})
	if err != nil {
		t.Fatalf("Run() error = %v", err)
	}
	var got []string
	for _, s := range traj.Steps {
		got = append(got, s.ActionText)
	}
	if strings.Join(got, " ") != "inc() inc()" || !traj.Truncated || traj.Terminated || !strings.Contains(traj.Reason, "no more actions") {
		t.Errorf("steps %q, truncated %v, terminated %v, reason %q; want the two inc() only, truncated because the policy had no more actions", got, traj.Truncated, traj.Terminated, traj.Reason)
	}
}

// TestUnchangedRepeats: an action repeated without changing the
// observation is counted and shown as a warning in the step line.
func TestUnchangedRepeats(t *testing.T) {
	var buf bytes.Buffer
	traj, err := agent.Run(context.Background(), newCounter(), env.Task{ID: "t", Answer: "1"},
		policy.Replay(acts(`jump()`, `jump()`, `jump()`, `inc()`, `inc()`)), agent.Options{Observers: []agent.Observer{agent.Progress(&buf)}})
	if err != nil {
		t.Fatalf("Run() error = %v", err)
	}
	var got []int
	for _, s := range traj.Steps {
		got = append(got, s.Unchanged)
	}
	if want := []int{0, 1, 2, 0, 0}; !slices.Equal(got, want) {
		t.Errorf("Unchanged per step = %v, want %v (inc() changes the count)", got, want)
	}
	if !strings.Contains(buf.String(), "warning: the same action changed nothing (2 in a row)") {
		t.Errorf("progress lines lack the warning:\n%s", buf.String())
	}
}

// An episode whose reset fails still leaves a trajectory: the task and the
// error.
func TestRecorderResetFails(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ep")
	c := newCounter()
	c.closed = true
	_, err := agent.Run(context.Background(), c, task, always(env.A("inc"), policy.Usage{}), agent.Options{Observers: []agent.Observer{agent.NewRecorder(dir)}})
	if err == nil {
		t.Fatal("Run on a closed env: no error")
	}
	f, err := os.Open(filepath.Join(dir, agent.TrajectoryFile))
	if err != nil {
		t.Fatalf("no trajectory after a failed reset: %v", err)
	}
	defer f.Close()
	traj, err := agent.ReadJSONL(f)
	if err != nil || traj.Task.ID != task.ID || len(traj.Steps) != 0 || !strings.Contains(traj.Error, "environment is closed") {
		t.Errorf("trajectory %+v, %v; want the task, no steps, the reset's error", traj, err)
	}
}
