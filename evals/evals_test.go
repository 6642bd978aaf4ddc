package evals_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pilotkit/pilot/agent"
	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/evals"
	"github.com/pilotkit/pilot/policy"
)

// fakeConfig returns a config that runs fake envs into a fresh directory,
// and the counter of envs open.
func fakeConfig(t *testing.T, workers int) (evals.Config, *atomic.Int32) {
	t.Helper()
	open := new(atomic.Int32)
	plays := new(sync.Map)
	return evals.Config{
		Workers: workers,
		NewEnv: func(context.Context, int) (env.Env, error) {
			open.Add(1)
			return &fakeEnv{open: open, plays: plays}, nil
		},
		NewPolicy: noop,
		Agent:     agent.Options{MaxSteps: 5, PolicyName: "noop"},
		RunDir:    filepath.Join(t.TempDir(), "run"),
	}, open
}

func readResults(t *testing.T, dir string) []evals.Result {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, evals.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := evals.ReadResults(f)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func ids(rs []evals.Result) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = r.TaskID
	}
	return strings.Join(s, " ")
}

// TestRunMix runs a known mix of outcomes and checks every number of the
// report, the results file and the episode directories.
func TestRunMix(t *testing.T) {
	suite := evals.Suite{Name: "fake/test", Tasks: []env.Task{
		task("t0", "win", 2),
		task("t1", "win", 4),
		task("t2", "lose", 1),
		task("t3", "half", 3),
		task("t4", "crash", 2), // an error: the worker goes on
		task("t5", "long", 0),  // truncated at MaxSteps 5
		task("t6", "win", 1),
		task("t7", "crash", 1),
	}}
	cfg, open := fakeConfig(t, 3)
	var progress bytes.Buffer
	cfg.Progress = &progress
	rep, err := evals.Run(t.Context(), suite, cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	// Steps: 2+4+1+3+1+5+1+0 = 17 (a crashing step is not recorded);
	// rewards 1+1+0+0.5+0+0+1+0 = 3.5.
	// The two errors are not scored: success 3 of 6, rewards 3.5 and
	// steps 2+4+1+3+5+1 = 16 of the 6.
	want := evals.Report{Suite: "fake/test", Policy: "noop", Planned: 8, Episodes: 8, Scored: 6, Complete: true, Successes: 3, Errors: 2,
		ErrorKinds:  map[string]int{evals.KindBackend: 2},
		SuccessRate: 3.0 / 6, MeanReward: 3.5 / 6, MeanSteps: 16.0 / 6, Workers: 3, RunDir: cfg.RunDir,
		HiddenEpisodes: 6} // the fake tasks keep their script in Task.Hidden
	want.CI95Low, want.CI95High = evals.Wilson(3, 6, evals.Z95)
	got := *rep
	got.Results, got.Start, got.Duration, got.EpisodesPerMinute = nil, time.Time{}, 0, 0
	if got.EnvP50 <= 0 || got.EnvP95 < got.EnvP50 || got.PolicyP50 <= 0 || got.PolicyP95 < got.PolicyP50 {
		t.Errorf("step latencies env %s/%s, policy %s/%s; want p50 > 0 and p95 ≥ p50", got.EnvP50, got.EnvP95, got.PolicyP50, got.PolicyP95)
	}
	got.EnvP50, got.EnvP95, got.PolicyP50, got.PolicyP95 = 0, 0, 0, 0
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("report = %+v\nwant     %+v", got, want)
	}
	if rep.Duration <= 0 || math.Abs(rep.EpisodesPerMinute-8/rep.Duration.Minutes()) > 1e-9 || rep.Start.IsZero() {
		t.Errorf("duration %s, episodes/min %g, start %v; want > 0, 8 per duration, set", rep.Duration, rep.EpisodesPerMinute, rep.Start)
	}
	if got, want := ids(rep.Results), "t0 t1 t2 t3 t4 t5 t6 t7"; got != want {
		t.Errorf("report results %s; want suite order %s", got, want)
	}
	byID := map[string]evals.Result{}
	for _, r := range rep.Results {
		byID[r.TaskID] = r
	}
	if r := byID["t4"]; r.Error == "" || !strings.Contains(r.Error, errCrash.Error()) || r.Success || r.Steps != 1 ||
		r.Outcome != evals.OutcomeError || r.ErrorKind != evals.KindBackend || r.Attempt != 1 {
		t.Errorf("crashed episode = %+v; want the error (backend), 1 step, no success, 1 attempt", r)
	}
	if r := byID["t5"]; !r.Truncated || r.Terminated || r.Reason != "step limit 5 reached" || r.Steps != 5 {
		t.Errorf("long episode = %+v; want truncated at step limit 5", r)
	}
	if r := byID["t3"]; r.Success || r.Reward != 0.5 || r.Return != 0.5 || !r.Terminated || r.Error != "" {
		t.Errorf("half episode = %+v; want reward 0.5, no success", r)
	}
	if r := byID["t1"]; !r.Success || r.Steps != 4 || r.Duration <= 0 || r.Worker < 0 || r.Worker > 2 {
		t.Errorf("win episode = %+v; want success in 4 steps, a duration, worker 0–2", r)
	}

	// The results file holds the same results, in the order they ended.
	lines := readResults(t, cfg.RunDir)
	if len(lines) != 8 {
		t.Fatalf("%s holds %d results, want 8", evals.ResultsFile, len(lines))
	}
	for _, l := range lines {
		if fmt.Sprint(l) != fmt.Sprint(byID[l.TaskID]) {
			t.Errorf("results line %+v\nwant the report's %+v", l, byID[l.TaskID])
		}
	}
	// Every episode has its trajectory.
	for _, tk := range suite.Tasks {
		f, err := os.Open(filepath.Join(cfg.RunDir, evals.EpisodesDir, tk.ID, agent.TrajectoryFile))
		if err != nil {
			t.Errorf("episode %s: %v", tk.ID, err)
			continue
		}
		traj, err := agent.ReadJSONL(f)
		f.Close()
		if err != nil || traj.Task.ID != tk.ID || len(traj.Steps) != byID[tk.ID].Steps || traj.Policy != "noop" {
			t.Errorf("episode %s trajectory: %v, %v; want task %s with %d steps by noop", tk.ID, traj, err, tk.ID, byID[tk.ID].Steps)
		}
	}
	// report.json is the summary.
	b, err := os.ReadFile(filepath.Join(cfg.RunDir, evals.ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`"suite": "fake/test"`, `"episodes": 8`, `"successes": 3`, `"errors": 2`, `"success_rate": 0.5`, `"planned": 8`, `"complete": true`, `"backend": 2`, `"run_dir": `} {
		if !bytes.Contains(b, []byte(s)) {
			t.Errorf("%s lacks %s:\n%s", evals.ReportFile, s, b)
		}
	}
	if bytes.Contains(b, []byte("t0")) {
		t.Errorf("%s holds per-episode results; want the summary only:\n%s", evals.ReportFile, b)
	}
	if n := open.Load(); n != 0 {
		t.Errorf("%d envs left open; want every worker to close its env", n)
	}

	// Progress: a header, a line per episode, errors under their line.
	out := progress.String()
	lineRE := regexp.MustCompile(`(?m)^\[[1-8]/8\] t[0-7]  (success|fail|error|truncated) +reward \d\.\d\d  \d steps  \S+  \(w[0-2]\)  [0-3]/[1-8] ok  \S+/min$`)
	if n := len(lineRE.FindAllString(out, -1)); n != 8 || !strings.HasPrefix(out, "running 8 episodes of fake/test on 3 workers; results in "+cfg.RunDir+"\n") ||
		strings.Count(out, "    error (backend): ") != 2 || !strings.Contains(out, "[8/8]") {
		t.Errorf("progress has %d episode lines matching %s; want 8, a header, 2 error lines:\n%s", n, lineRE, out)
	}
}

// TestResultsWrittenAsEpisodesEnd checks that each episode's line is in
// the results file before the next episode starts.
func TestResultsWrittenAsEpisodesEnd(t *testing.T) {
	var tasks []env.Task
	for i := range 5 {
		tasks = append(tasks, task(fmt.Sprintf("e%d", i), "win", 1))
	}
	cfg, _ := fakeConfig(t, 1)
	var (
		mu   sync.Mutex
		seen []string
	)
	cfg.NewEnv = func(context.Context, int) (env.Env, error) {
		return &fakeEnv{onReset: func(tk env.Task) {
			b, _ := os.ReadFile(filepath.Join(cfg.RunDir, evals.ResultsFile))
			mu.Lock()
			seen = append(seen, fmt.Sprintf("%s:%d", tk.ID, bytes.Count(b, []byte("\n"))))
			mu.Unlock()
		}}, nil
	}
	if _, err := evals.Run(t.Context(), evals.Suite{Name: "fake", Tasks: tasks}, cfg); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(seen, " "), "e0:0 e1:1 e2:2 e3:3 e4:4"; got != want {
		t.Errorf("lines in the results file at each reset: %s; want %s", got, want)
	}
}

func TestRunWorkersAndEpisodes(t *testing.T) {
	tasks := []env.Task{task("a", "win", 1), task("b", "lose", 1), task("c", "win", 1)}
	tests := []struct {
		workers, episodes int
		wantWorkers       int
		wantIDs           string
		wantProgress      string
	}{
		{8, 0, 3, "a b c", "on 3 workers"},
		{0, 0, 1, "a b c", "on 1 workers"},
		{2, 2, 2, "a b", "running 2 episodes"},
		{1, 1, 1, "a", "running 1 episodes"},
		{4, 10, 3, "a b c", "suite fake has 3 tasks: running 3 episodes, not 10\n"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("workers %d episodes %d", tt.workers, tt.episodes), func(t *testing.T) {
			cfg, open := fakeConfig(t, tt.workers)
			made := new(atomic.Int32)
			newEnv := cfg.NewEnv
			cfg.NewEnv = func(ctx context.Context, w int) (env.Env, error) {
				made.Add(1)
				return newEnv(ctx, w)
			}
			cfg.Episodes = tt.episodes
			var progress bytes.Buffer
			cfg.Progress = &progress
			rep, err := evals.Run(t.Context(), evals.Suite{Name: "fake", Tasks: tasks}, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Workers != tt.wantWorkers || int(made.Load()) != tt.wantWorkers || ids(rep.Results) != tt.wantIDs || open.Load() != 0 {
				t.Errorf("Run(workers %d, episodes %d): %d workers, %d envs made, %d open, results %q; want %d, %d, 0, %q",
					tt.workers, tt.episodes, rep.Workers, made.Load(), open.Load(), ids(rep.Results), tt.wantWorkers, tt.wantWorkers, tt.wantIDs)
			}
			if !strings.Contains(progress.String(), tt.wantProgress) {
				t.Errorf("progress lacks %q:\n%s", tt.wantProgress, progress.String())
			}
		})
	}
}

// TestRunCancel cancels a run while two episodes block: Run returns
// promptly with the episodes that finished, and no goroutine outlives it.
func TestRunCancel(t *testing.T) {
	before := runtime.NumGoroutine()
	tasks := []env.Task{task("q0", "win", 1), task("q1", "lose", 2), task("q2", "win", 1)}
	for i := range 20 {
		tasks = append(tasks, task(fmt.Sprintf("b%02d", i), "block", 1))
	}
	cfg, open := fakeConfig(t, 2)
	blocked := make(chan string, 2)
	cfg.NewEnv = func(context.Context, int) (env.Env, error) {
		open.Add(1)
		return &fakeEnv{open: open, blocked: blocked}, nil
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	type ran struct {
		rep *evals.Report
		err error
	}
	done := make(chan ran, 1)
	go func() {
		rep, err := evals.Run(ctx, evals.Suite{Name: "fake", Tasks: tasks}, cfg)
		done <- ran{rep, err}
	}()
	for range 2 { // both workers are stuck in an episode
		select {
		case <-blocked:
		case <-time.After(10 * time.Second):
			t.Fatal("no episode blocked within 10s")
		}
	}
	cancel()
	var r ran
	select {
	case r = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return within 5s of the cancellation")
	}
	if !errors.Is(r.err, context.Canceled) || !strings.Contains(r.err.Error(), "stopped after 3 of 23 episodes") {
		t.Errorf("Run error = %v; want context.Canceled and how many episodes finished", r.err)
	}
	if r.rep == nil || r.rep.Episodes != 3 || ids(r.rep.Results) != "q0 q1 q2" || r.rep.Successes != 2 {
		t.Fatalf("report after cancel = %+v; want the 3 finished episodes", r.rep)
	}
	if got := ids(readResults(t, cfg.RunDir)); len(got) != len("q0 q1 q2") || strings.Contains(got, "b") {
		t.Errorf("results file after cancel holds %q; want q0, q1, q2 only", got)
	}
	if _, err := os.Stat(filepath.Join(cfg.RunDir, evals.ReportFile)); err != nil {
		t.Errorf("no report after cancel: %v", err)
	}
	if n := open.Load(); n != 0 {
		t.Errorf("%d envs left open after cancel", n)
	}
	// Every goroutine Run started has stopped.
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines after Run, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestNewEnvFails(t *testing.T) {
	errNoBrowser := errors.New("no browser here")
	cfg, open := fakeConfig(t, 3)
	newEnv := cfg.NewEnv
	cfg.NewEnv = func(ctx context.Context, w int) (env.Env, error) {
		if w == 1 {
			return nil, errNoBrowser
		}
		return newEnv(ctx, w)
	}
	tasks := []env.Task{task("a", "win", 1), task("b", "win", 1), task("c", "win", 1)}
	rep, err := evals.Run(t.Context(), evals.Suite{Name: "fake", Tasks: tasks}, cfg)
	if !errors.Is(err, errNoBrowser) || !strings.Contains(err.Error(), "eval: worker 1: make its env: ") {
		t.Errorf("Run with a failing NewEnv: error %v; want it to name worker 1 and wrap the cause", err)
	}
	if rep == nil || open.Load() != 0 {
		t.Errorf("Run with a failing NewEnv: report %v, %d envs open; want a report and every env closed", rep, open.Load())
	}
}

func TestNewPolicyFails(t *testing.T) {
	cfg, _ := fakeConfig(t, 2)
	cfg.NewPolicy = func(tk env.Task) (policy.Policy, error) {
		if tk.ID == "b" {
			return nil, errors.New("no plan for b")
		}
		return noop(tk)
	}
	tasks := []env.Task{task("a", "win", 1), task("b", "win", 1), task("c", "win", 1)}
	rep, err := evals.Run(t.Context(), evals.Suite{Name: "fake", Tasks: tasks}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Episodes != 3 || rep.Successes != 2 || rep.Errors != 1 || rep.Results[1].Error != "make the policy: no plan for b" {
		t.Errorf("report = %+v; want 3 episodes, 2 successes, b an error naming the policy", rep)
	}
}

// failStore fails on its second result.
type failStore struct{ n int }

func (s *failStore) Add(evals.Result) error {
	if s.n++; s.n == 2 {
		return errors.New("disk full")
	}
	return nil
}
func (s *failStore) Close() error { return nil }

func TestStoreFails(t *testing.T) {
	cfg, open := fakeConfig(t, 1)
	cfg.Store = &failStore{}
	tasks := []env.Task{task("a", "win", 1), task("b", "win", 1), task("c", "win", 1)}
	rep, err := evals.Run(t.Context(), evals.Suite{Name: "fake", Tasks: tasks}, cfg)
	if err == nil || !strings.Contains(err.Error(), "eval: store the result of b: disk full") || rep.Episodes != 1 || open.Load() != 0 {
		t.Errorf("Run with a failing store = %v episodes, %v; want 1 episode and the store's error naming b", rep.Episodes, err)
	}
}

func TestRunDirHoldsRun(t *testing.T) {
	cfg, _ := fakeConfig(t, 1)
	s := evals.Suite{Name: "fake", Tasks: []env.Task{task("a", "win", 1)}}
	if _, err := evals.Run(t.Context(), s, cfg); err != nil {
		t.Fatal(err)
	}
	_, err := evals.Run(t.Context(), s, cfg)
	if !errors.Is(err, os.ErrExist) || !strings.Contains(err.Error(), "choose another run directory") {
		t.Errorf("second Run in the same directory: %v; want os.ErrExist and what to do", err)
	}
}

func TestConfigErrors(t *testing.T) {
	good := []env.Task{task("a", "win", 1)}
	tests := []struct {
		name  string
		edit  func(*evals.Config)
		tasks []env.Task
		want  string
	}{
		{"no env", func(c *evals.Config) { c.NewEnv = nil }, good, "Config.NewEnv is nil"},
		{"no policy", func(c *evals.Config) { c.NewPolicy = nil }, good, "Config.NewPolicy is nil"},
		{"no dir", func(c *evals.Config) { c.RunDir = "" }, good, "Config.RunDir is empty"},
		{"negative workers", func(c *evals.Config) { c.Workers = -1 }, good, "-1 workers"},
		{"negative episodes", func(c *evals.Config) { c.Episodes = -2 }, good, "-2 episodes"},
		{"no tasks", func(*evals.Config) {}, nil, `suite "fake" has no tasks`},
		{"no id", func(*evals.Config) {}, []env.Task{{Instruction: "x"}}, "task 0: the task has no id"},
		{"slash", func(*evals.Config) {}, []env.Task{task("a/b", "win", 1)}, `task id "a/b": want letters`},
		{"dots", func(*evals.Config) {}, []env.Task{task("..", "win", 1)}, `task id "..": want letters`},
		{"twice", func(*evals.Config) {}, []env.Task{task("a", "win", 1), task("a", "win", 1)}, `task id "a" comes twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, _ := fakeConfig(t, 1)
			tt.edit(&cfg)
			rep, err := evals.Run(t.Context(), evals.Suite{Name: "fake", Tasks: tt.tasks}, cfg)
			if rep != nil || err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Run() = %v, %v; want no report and an error containing %q", rep, err, tt.want)
			}
		})
	}
}

func TestDefaultRunDir(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	tests := []struct{ suite, want string }{
		{"shop/test", "runs/shop-test-20260304-050607"},
		{"demo", "runs/demo-20260304-050607"},
		{"", "runs/suite-20260304-050607"},
	}
	for _, tt := range tests {
		if got := evals.DefaultRunDir(tt.suite, at); got != filepath.FromSlash(tt.want) {
			t.Errorf("DefaultRunDir(%q) = %q, want %q", tt.suite, got, tt.want)
		}
	}
}

// TestPolicyPanics: a policy that panics fails its episode, not the run.
func TestPolicyPanics(t *testing.T) {
	cfg, _ := fakeConfig(t, 2)
	cfg.NewPolicy = func(tk env.Task) (policy.Policy, error) {
		if tk.ID == "b" {
			return policy.Func(func(context.Context, policy.Input) (policy.Decision, error) { panic("index out of range") }), nil
		}
		return noop(tk)
	}
	tasks := []env.Task{task("a", "win", 1), task("b", "win", 1), task("c", "win", 1)}
	rep, err := evals.Run(t.Context(), evals.Suite{Name: "fake", Tasks: tasks}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Episodes != 3 || rep.Successes != 2 || rep.Errors != 1 || !strings.Contains(rep.Results[1].Error, "panic in episode b: index out of range") {
		t.Errorf("report = %+v; want 3 episodes, 2 successes, b an error naming the panic", rep)
	}
}

// An episode whose browser dies is played again, up to Config.Retries
// times: one that crashes once succeeds on its second attempt, one that
// crashes three times ends in an error after its three attempts; every
// attempt is stored and the errored ones keep their trajectories.
func TestRunRetries(t *testing.T) {
	suite := evals.Suite{Name: "fake/test", Tasks: []env.Task{flaky("once", 1), task("ok", "win", 1), flaky("always", 3)}}
	cfg, _ := fakeConfig(t, 2)
	cfg.Retries = 2
	st := &attemptStore{}
	cfg.Store = st
	var progress bytes.Buffer
	cfg.Progress = &progress
	rep, err := evals.Run(t.Context(), suite, cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if rep.Episodes != 3 || rep.Scored != 2 || rep.Successes != 2 || rep.Errors != 1 || rep.Retries != 3 || rep.ErrorKinds[evals.KindBackend] != 1 || !rep.Complete {
		t.Errorf("report = %+v; want 2 of 2 scored successes, 1 error (backend), 3 retries", rep)
	}
	byID := map[string]evals.Result{}
	for _, r := range rep.Results {
		byID[r.TaskID] = r
	}
	if r := byID["once"]; !r.Success || r.Attempt != 2 || r.Outcome != evals.OutcomeSuccess {
		t.Errorf("once = %+v; want a success on attempt 2", r)
	}
	if r := byID["always"]; r.Success || r.Attempt != 3 || r.Outcome != evals.OutcomeError || r.ErrorKind != evals.KindBackend {
		t.Errorf("always = %+v; want an error (backend) after attempt 3", r)
	}
	if got := attemptsOf(st.attempts); got != "always-1 always-2 once-1" {
		t.Errorf("stored attempts %s; want always-1 always-2 once-1", got)
	}
	if len(st.final) != 3 {
		t.Errorf("stored %d final results, want 3", len(st.final))
	}
	for _, a := range []string{"once-1", "always-1", "always-2"} {
		if _, err := os.Stat(filepath.Join(cfg.RunDir, evals.AttemptsDir, a, agent.TrajectoryFile)); err != nil {
			t.Errorf("the trajectory of attempt %s: %v", a, err)
		}
	}
	if n := strings.Count(progress.String(), ": playing it again"); n != 3 {
		t.Errorf("progress has %d retry lines, want 3:\n%s", n, progress.String())
	}
}

// A retry waits behind the episodes already queued: on one worker, an
// episode whose first attempt errors is played again after the others, so
// an outage that broke it has time to pass.
func TestRunRetriesLast(t *testing.T) {
	suite := evals.Suite{Name: "fake/test", Tasks: []env.Task{flaky("once", 1), task("b", "win", 1), task("c", "win", 1)}}
	cfg, _ := fakeConfig(t, 1)
	cfg.Retries = 1
	st := &attemptStore{}
	cfg.Store = st
	rep, err := evals.Run(t.Context(), suite, cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if rep.Successes != 3 || rep.Retries != 1 {
		t.Errorf("report = %+v; want 3 successes after 1 retry", rep)
	}
	var order []string
	for _, r := range st.final {
		order = append(order, r.TaskID)
	}
	if got := strings.Join(order, " "); got != "b c once" {
		t.Errorf("episodes ended in the order %s; want b c once (the retry last)", got)
	}
	if got := rep.Results[0].TaskID; got != "once" {
		t.Errorf("the report lists %s first; want the planned order, once first", got)
	}
}

// attemptStore keeps what Run stores, in memory.
type attemptStore struct {
	mu              sync.Mutex
	final, attempts []evals.Result
}

func (s *attemptStore) Add(r evals.Result) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.final = append(s.final, r)
	return nil
}

func (s *attemptStore) AddAttempt(r evals.Result) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts = append(s.attempts, r)
	return nil
}

func (s *attemptStore) Close() error { return nil }

func attemptsOf(rs []evals.Result) string {
	var out []string
	for _, r := range rs {
		out = append(out, fmt.Sprintf("%s-%d", r.TaskID, r.Attempt))
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

// A resume (Config.Done) plays only the episodes without a final result,
// replaces what an interrupted one left in its directory, and reports the
// done ones with the new ones.
func TestRunResume(t *testing.T) {
	suite := evals.Suite{Name: "fake/test", Tasks: []env.Task{task("a", "win", 1), task("b", "lose", 1), task("c", "win", 2)}}
	cfg, _ := fakeConfig(t, 1)
	st := &attemptStore{}
	cfg.Store = st
	cfg.Done = []evals.Result{{TaskID: "a", Outcome: evals.OutcomeSuccess, Success: true, Reward: 1, Steps: 1, Attempt: 1}}
	// What a killed process left of c: a partial trajectory.
	partial := filepath.Join(cfg.RunDir, evals.EpisodesDir, "c")
	if err := os.MkdirAll(partial, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(partial, "stale"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := evals.Run(t.Context(), suite, cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := ids(rep.Results); got != "a b c" || rep.Successes != 2 || rep.Planned != 3 || !rep.Complete {
		t.Errorf("report %s, %d successes, %d planned; want a b c, 2, 3", got, rep.Successes, rep.Planned)
	}
	if got := ids(st.final); got != "b c" {
		t.Errorf("stored %s; want b c only (a was done)", got)
	}
	if _, err := os.Stat(filepath.Join(partial, "stale")); !os.IsNotExist(err) {
		t.Errorf("the partial trajectory of c is still there: %v", err)
	}
	cfg.Done = []evals.Result{{TaskID: "zz"}}
	if _, err := evals.Run(t.Context(), suite, cfg); err == nil || !strings.Contains(err.Error(), `episode "zz", which is not among the 3 planned`) {
		t.Errorf("Run with a done result of another task = %v; want it refused", err)
	}
}

func TestClassify(t *testing.T) {
	api := &policy.APIError{Status: 503, Err: errors.New("overloaded")}
	tests := []struct {
		name          string
		err           error
		success       bool
		outcome, kind string
	}{
		{"success", nil, true, evals.OutcomeSuccess, ""},
		{"failure", nil, false, evals.OutcomeFailure, ""},
		{"no valid action", &agent.Error{Phase: agent.PhasePolicy, Step: 3, Err: fmt.Errorf("x: %w", policy.ErrNoAction)}, false, evals.OutcomeFailure, ""},
		{"browser gone", &agent.Error{Phase: agent.PhaseEnv, Step: 2, Err: fmt.Errorf("x: %w", errCrash)}, false, evals.OutcomeError, evals.KindBackend},
		{"browser gone at reset", &agent.Error{Phase: agent.PhaseReset, Step: -1, Err: errCrash}, false, evals.OutcomeError, evals.KindBackend},
		{"step timeout", &agent.Error{Phase: agent.PhasePolicy, Err: fmt.Errorf("%w: x", agent.ErrStepTimeout)}, false, evals.OutcomeError, evals.KindTimeout},
		{"model API", &agent.Error{Phase: agent.PhasePolicy, Err: fmt.Errorf("x: %w", api)}, false, evals.OutcomeError, evals.KindModelAPI},
		{"bad response", fmt.Errorf("x: %w", policy.ErrBadResponse), false, evals.OutcomeError, evals.KindModelAPI},
		{"reset", &agent.Error{Phase: agent.PhaseReset, Step: -1, Err: errors.New("no such page")}, false, evals.OutcomeError, evals.KindEnvSetup},
		{"step", &agent.Error{Phase: agent.PhaseEnv, Err: errors.New("odd")}, false, evals.OutcomeError, evals.KindEnv},
		{"recorder", &agent.Error{Phase: agent.PhaseObserver, Err: errors.New("disk full")}, false, evals.OutcomeError, evals.KindRecorder},
		{"evaluator", &agent.Error{Phase: agent.PhaseEnv, Step: 4, Err: fmt.Errorf("web: step noop(): %w: after step 4: x threw TypeError", env.ErrEvaluate)}, false, evals.OutcomeError, evals.KindEvaluate},
		{"step timeout while scoring", &agent.Error{Phase: agent.PhaseEnv, Err: fmt.Errorf("%w: %w", env.ErrEvaluate, context.DeadlineExceeded)}, false, evals.OutcomeError, evals.KindTimeout},
		{"judge's API", &agent.Error{Phase: agent.PhaseEnv, Err: fmt.Errorf("%w: the judge model: %w", env.ErrEvaluate, api)}, false, evals.OutcomeError, evals.KindModelAPI},
		{"browser gone while scoring", &agent.Error{Phase: agent.PhaseEnv, Err: fmt.Errorf("%w: %w", env.ErrEvaluate, errCrash)}, false, evals.OutcomeError, evals.KindBackend},
		{"setup", &agent.Error{Phase: agent.PhaseReset, Step: -1, Err: fmt.Errorf("%w: setup navigated away", env.ErrEvaluate)}, false, evals.OutcomeError, evals.KindEvaluate},
		{"policy", errors.New("make the policy: no plan"), false, evals.OutcomeError, evals.KindPolicy},
	}
	for _, tt := range tests {
		o, k := evals.Classify(tt.err, tt.success)
		if o != tt.outcome || k != tt.kind {
			t.Errorf("%s: Classify(%v) = %s, %s; want %s, %s", tt.name, tt.err, o, k, tt.outcome, tt.kind)
		}
	}
}

// Config.Repeat plays every task K times as episodes of their own, each
// with the policy of its repeat, and the report has pass^k.
func TestRunRepeat(t *testing.T) {
	suite := evals.Suite{Name: "fake/test", Tasks: []env.Task{task("a", "win", 1), task("b", "lose", 1)}}
	cfg, _ := fakeConfig(t, 2)
	cfg.Repeat = 3
	var mu sync.Mutex
	made := map[string]bool{}
	cfg.NewPolicyRepeat = func(tk env.Task, repeat int) (policy.Policy, error) {
		mu.Lock()
		made[fmt.Sprintf("%s/%d", tk.ID, repeat)] = true
		mu.Unlock()
		return noop(tk)
	}
	rep, err := evals.Run(t.Context(), suite, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Planned != 6 || rep.Episodes != 6 || rep.Successes != 3 || len(made) != 6 {
		t.Errorf("report %+v, policies made %v; want 6 episodes, 3 successes, a policy per repeat", rep, made)
	}
	var keys []string
	for _, r := range rep.Results {
		keys = append(keys, r.Key())
	}
	if got := strings.Join(keys, " "); got != "a.r1 b.r1 a.r2 b.r2 a.r3 b.r3" && got != "a b a.r2 b.r2 a.r3 b.r3" {
		t.Errorf("episodes %s; want each task's first repeat, then the second, then the third", got)
	}
	if r := rep.Results[2]; r.TaskID != "a" || r.Repeat != 2 || r.Episode != "a.r2" {
		t.Errorf("third episode %+v; want task a, repeat 2", r)
	}
	if _, err := os.Stat(filepath.Join(cfg.RunDir, evals.EpisodesDir, "b.r3", agent.TrajectoryFile)); err != nil {
		t.Errorf("the trajectory of b's third repeat: %v", err)
	}
	if fmt.Sprint(rep.PassK) != "[0.5 0.5 0.5]" {
		t.Errorf("pass^k = %v; want 0.5 for each k (a always, b never)", rep.PassK)
	}
}

// τ-bench's estimator: a task with c successes of n repeats counts
// C(c,k)/C(n,k) for pass^k; errors are not repeats.
func TestPassK(t *testing.T) {
	var rs []evals.Result
	add := func(id string, repeat int, outcome string) {
		rs = append(rs, evals.Result{TaskID: id, Repeat: repeat, Outcome: outcome, Success: outcome == evals.OutcomeSuccess})
	}
	for i, o := range []string{"success", "failure", "success", "failure"} { // 2 of 4
		add("x", i+1, o)
	}
	for i := range 4 { // 4 of 4
		add("y", i+1, evals.OutcomeSuccess)
	}
	add("z", 1, evals.OutcomeSuccess) // 2 of 2 scored: its other two were errors
	add("z", 2, evals.OutcomeSuccess)
	add("z", 3, evals.OutcomeError)
	add("z", 4, evals.OutcomeError)
	rep := evals.Summarize("s", len(rs), rs)
	// k=1: (2/4 + 1 + 1)/3; k=2: (1/6 + 1 + 1)/3; k=3: (0 + 1)/2 (z has
	// only 2 scored); k=4: (0 + 1)/2.
	want := []float64{(0.5 + 2) / 3, (1.0/6 + 2) / 3, 0.5, 0.5}
	if len(rep.PassK) != 4 {
		t.Fatalf("pass^k = %v, want 4 values", rep.PassK)
	}
	for i := range want {
		if math.Abs(rep.PassK[i]-want[i]) > 1e-12 {
			t.Errorf("pass^%d = %g, want %g", i+1, rep.PassK[i], want[i])
		}
	}
}

func TestWorkerBrowser(t *testing.T) {
	o := evals.LoadOptions{BrowserURL: "ws://a:1/x, ws://b:2/y,ws://c:3/z"}
	for w, want := range []string{"ws://a:1/x", "ws://b:2/y", "ws://c:3/z", "ws://a:1/x"} {
		if got := o.WorkerBrowser(w); got != want {
			t.Errorf("WorkerBrowser(%d) = %q, want %q", w, got, want)
		}
	}
	if got := (evals.LoadOptions{}).WorkerBrowser(3); got != "" {
		t.Errorf("WorkerBrowser without a list = %q", got)
	}
}
