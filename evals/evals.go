// Package evals runs a suite of tasks as episodes in parallel and reports
// how a policy did: success rate with a 95% interval, mean reward, mean
// steps, throughput.
//
// Run owns a fixed pool of workers. Each worker holds one environment
// (for the web, one browser; each episode then gets its own browser
// context) and plays the tasks dealt to it, in suite order, one at a time.
// Everything lands in a run directory as it happens:
//
//	RUNDIR/results.jsonl                       one Result a line, written as each episode ends
//	RUNDIR/episodes/<task-id>/trajectory.jsonl the episode, step by step (agent.Recorder)
//	RUNDIR/episodes/<task-id>/images/…         its screenshots, when the env takes them
//	RUNDIR/report.json                         the Report (without the per-episode results)
//
// so a run that is killed keeps every episode that finished.
package evals

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pilotkit/pilot/agent"
	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/policy"
)

// Files and directories of a run directory.
const (
	ResultsFile = "results.jsonl"
	ReportFile  = "report.json"
	EpisodesDir = "episodes"
	AttemptsDir = "attempts"
)

// Suite is a named list of tasks, such as "shop/test".
type Suite struct {
	Name  string
	Tasks []env.Task
}

// Config configures Run.
type Config struct {
	// Workers is how many episodes run at once, each worker on its own
	// env; default 1. Run starts no more workers than there are episodes.
	Workers int
	// Episodes is how many tasks of the suite to run, from the first; 0
	// means all. More than the suite holds runs each task once (and says
	// so on Progress).
	Episodes int
	// NewEnv makes worker's environment (worker counts from 0). Run calls
	// it once per worker, when the worker starts, and the worker closes
	// the env when it stops. An error fails the whole run.
	NewEnv func(ctx context.Context, worker int) (env.Env, error)
	// NewPolicy makes the policy of one episode. An error is recorded as
	// that episode's error; the run goes on.
	NewPolicy func(task env.Task) (policy.Policy, error)
	// Agent are the options of every episode. Run adds a Recorder to a
	// copy of Observers for each episode; the observers given here are
	// shared by episodes running in parallel, so they must be safe for
	// concurrent use. Set DropObsText to keep large trajectories small.
	Agent agent.Options
	// RunDir is the run directory; Run creates it. It must not hold a
	// run already (a results file). DefaultRunDir gives a fresh name.
	RunDir string
	// Store keeps the results; default a JSONL store writing
	// RunDir/results.jsonl. Run closes it.
	Store Store
	// Progress, when set, gets a line per finished episode.
	Progress io.Writer
	// Retries is how many times an episode that ended in an error (Result
	// Outcome "error": a dead browser, a model API down, a timeout) is
	// played again from scratch before its error is final; 0 never.
	// A retry waits behind the episodes already queued, on whichever
	// worker is free: an outage that broke one attempt would likely
	// break another made at once on the same worker.
	// Every attempt goes to the Store (AttemptStore) and the trajectory of
	// an attempt that was retried moves to RUNDIR/attempts/<task-id>-<n>.
	Retries int
	// Done are the final results of an earlier process of the same run
	// (a resume): Run plays only the tasks that have none, replacing what
	// an interrupted episode left in its directory, and reports the done
	// episodes with the new ones. The Store must not hold them twice:
	// Run does not Add them again.
	Done []Result
	// DoneRetries counts the attempts that earlier processes of the run
	// played again (a resume): the report's Retries adds them.
	DoneRetries int
	// Manifest, when set, is how to reproduce the run; it goes into
	// report.json.
	Manifest *Manifest
	// Repeat plays every task this many times (0 means 1): the repeats
	// of a task are episodes of their own (EpisodeKey), with the policy
	// that NewPolicyRepeat makes for the repeat, and the report adds
	// pass^k (Report.PassK).
	Repeat int
	// Shard, when set (N > 1), plays only the I-th of N disjoint slices
	// of the planned episodes: every N-th, from the I-th (1-based), so
	// that the slices are alike. runstore.Merge joins the shards' runs.
	Shard Shard
	// NewPolicyRepeat, when set, makes the policy of a task's repeat
	// (1..Repeat) in place of NewPolicy: a policy seed per repeat.
	NewPolicyRepeat func(task env.Task, repeat int) (policy.Policy, error)
	// Missed, when set, names what a failed episode missed
	// (Result.Missed), from its result (its Info): the suite's Def.Missed.
	Missed func(Result) []string
	// Tags, when set, labels each scored episode's result (Result.Tags)
	// from its result and trajectory: the suite's Def.Tags.
	Tags func(Result) []string
}

// A FinishStore is a Store that records the end of a process's run: Run
// calls Finish with the report (Interrupted when it stopped early) before
// Close.
type FinishStore interface {
	Store
	Finish(rep *Report) error
}

// An AttemptStore is a Store that also keeps the attempts of an episode
// that were retried (Config.Retries): Run calls AddAttempt for each, and
// Add for the final result only.
type AttemptStore interface {
	Store
	AddAttempt(r Result) error
}

// DefaultRunDir returns runs/<suite>-<YYYYmmdd-HHMMSS> for a run of
// suite started at t, with characters other than letters, digits, '-',
// '_' and '.' in the suite's name (such as the '/' of "shop/test")
// replaced by '-'.
func DefaultRunDir(suite string, t time.Time) string {
	return filepath.Join("runs", SafeName(suite)+"-"+t.Format("20060102-150405"))
}

// SafeName is s with every character other than letters, digits, '-',
// '_' and '.' replaced by '-': a name for a file or directory ("suite" for
// an empty s).
func SafeName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r == '.' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' {
			return r
		}
		return '-'
	}, s)
	if s == "" {
		return "suite"
	}
	return s
}

// Run plays the suite's tasks (the first cfg.Episodes of them) as
// episodes on cfg.Workers workers and returns the report.
//
// An episode whose agent.Run fails (a dead browser, a step timeout, a
// policy error) is recorded as a Result with Error set, and its worker
// goes on with the next task: an env that lost its session is expected to
// start a new one on the next Reset, as env/web does. A failing NewEnv or
// Store fails the whole run.
//
// When ctx is cancelled, Run starts no new episode, abandons those in
// flight (they are not recorded), waits for its workers to stop and
// returns promptly with the report of the episodes that finished and an
// error wrapping ctx's. Whenever it got as far as starting workers, Run
// returns a report (and writes report.json), also with an error.
func Run(ctx context.Context, s Suite, cfg Config) (*Report, error) {
	tasks, err := prepare(s, &cfg)
	if err == nil {
		if err = os.MkdirAll(cfg.RunDir, 0o755); err != nil {
			err = fmt.Errorf("eval: create the run directory: %w", err)
		}
	}
	if err != nil {
		if cfg.Store != nil {
			err = errors.Join(err, cfg.Store.Close())
		}
		return nil, err
	}
	store := cfg.Store
	if store == nil {
		if store, err = CreateJSONL(filepath.Join(cfg.RunDir, ResultsFile)); err != nil {
			return nil, fmt.Errorf("eval: %w", err)
		}
	}
	r := &runner{cfg: cfg, store: store, total: len(tasks), start: time.Now()}
	done := make(map[string]Result, len(cfg.Done))
	for _, d := range cfg.Done {
		done[d.Key()] = d
	}
	for i, ep := range tasks {
		d, ok := done[ep.key]
		if !ok {
			r.todo = append(r.todo, i)
			continue
		}
		r.results = append(r.results, indexed{i, d})
		if d.Success {
			r.successes++
		}
	}
	r.tasks = tasks
	r.more = sync.NewCond(&r.qmu)
	for _, i := range r.todo {
		r.queue = append(r.queue, job{i, 1})
	}
	workers := min(cfg.Workers, len(r.todo))
	if cfg.Progress != nil {
		for _, ep := range tasks {
			r.idWidth = max(r.idWidth, len(ep.key))
		}
		if cfg.Episodes > len(s.Tasks) {
			fmt.Fprintf(cfg.Progress, "suite %s has %d tasks: running %d episodes, not %d\n", s.Name, len(s.Tasks), len(s.Tasks), cfg.Episodes)
		}
		if len(cfg.Done) > 0 {
			fmt.Fprintf(cfg.Progress, "resuming: %d of %d episodes are done; running the other %d on %d workers; results in %s\n", len(cfg.Done), len(tasks), len(r.todo), workers, cfg.RunDir)
		} else {
			fmt.Fprintf(cfg.Progress, "running %d episodes of %s on %d workers; results in %s\n", len(tasks), s.Name, workers, cfg.RunDir)
		}
	}

	// Workers take the next task, in suite order, when they are free;
	// the retries of errored episodes come after the rest.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopWaking := context.AfterFunc(wctx, func() {
		r.qmu.Lock()
		defer r.qmu.Unlock()
		r.more.Broadcast()
	})
	defer stopWaking()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			if err := r.work(wctx, w); err != nil {
				r.fail(err)
				cancel()
			}
		})
	}
	wg.Wait()

	rep := r.report(s.Name, workers, r.fatal != nil || ctx.Err() != nil)
	errs := []error{r.fatal}
	if r.fatal == nil && ctx.Err() != nil {
		errs = append(errs, fmt.Errorf("eval: stopped after %d of %d episodes: %w", rep.Episodes, len(tasks), ctx.Err()))
	}
	errs = append(errs, r.closeErrs...)
	if fs, ok := store.(FinishStore); ok {
		if err := fs.Finish(rep); err != nil {
			errs = append(errs, fmt.Errorf("eval: record the end of the run: %w", err))
		}
	}
	if err := store.Close(); err != nil {
		errs = append(errs, fmt.Errorf("eval: close the results store: %w", err))
	}
	if err := rep.writeFile(filepath.Join(cfg.RunDir, ReportFile)); err != nil {
		errs = append(errs, fmt.Errorf("eval: %w", err))
	}
	return rep, errors.Join(errs...)
}

// prepare checks cfg, fills in its defaults and returns the tasks to run.
func prepare(s Suite, cfg *Config) ([]Episode, error) {
	switch {
	case cfg.NewEnv == nil:
		return nil, errors.New("eval: Config.NewEnv is nil: give a function that makes a worker's env")
	case cfg.NewPolicy == nil:
		return nil, errors.New("eval: Config.NewPolicy is nil: give a function that makes an episode's policy")
	case cfg.RunDir == "":
		return nil, errors.New("eval: Config.RunDir is empty: give a directory for the results (DefaultRunDir makes a name)")
	case cfg.Workers < 0:
		return nil, fmt.Errorf("eval: %d workers: want 1 or more (0 for 1)", cfg.Workers)
	case cfg.Retries < 0:
		return nil, fmt.Errorf("eval: %d retries: want 0 or more", cfg.Retries)
	case cfg.Episodes < 0:
		return nil, fmt.Errorf("eval: %d episodes: want 1 or more (0 for every task)", cfg.Episodes)
	case cfg.Repeat < 0:
		return nil, fmt.Errorf("eval: repeat %d: want 1 or more (0 for 1)", cfg.Repeat)
	case len(s.Tasks) == 0:
		return nil, fmt.Errorf("eval: suite %q has no tasks", s.Name)
	}
	if cfg.Workers == 0 {
		cfg.Workers = 1
	}
	seen := make(map[string]bool, len(s.Tasks))
	for i, t := range s.Tasks {
		if err := checkTaskID(t.ID); err != nil {
			return nil, fmt.Errorf("eval: suite %q, task %d: %w", s.Name, i, err)
		}
		if seen[t.ID] {
			return nil, fmt.Errorf("eval: suite %q: task id %q comes twice: results and episode directories are named by task id", s.Name, t.ID)
		}
		seen[t.ID] = true
	}
	n := len(s.Tasks)
	if cfg.Episodes > 0 && cfg.Episodes < n {
		n = cfg.Episodes
	}
	planned := Plan(s.Tasks[:n], cfg.Repeat)
	if cfg.Shard.N > 1 {
		if cfg.Shard.I < 1 || cfg.Shard.I > cfg.Shard.N {
			return nil, fmt.Errorf("eval: shard %s: want 1..%d of %d", cfg.Shard, cfg.Shard.N, cfg.Shard.N)
		}
		planned = cfg.Shard.Of(planned)
		if len(planned) == 0 {
			return nil, fmt.Errorf("eval: shard %s of %d episodes has none: use fewer shards", cfg.Shard, n*max(cfg.Repeat, 1))
		}
	}
	index := make(map[string]bool, len(planned))
	for _, ep := range planned {
		index[ep.key] = true
	}
	for _, r := range cfg.Done {
		if !index[r.Key()] {
			return nil, fmt.Errorf("eval: a done result names episode %q, which is not among the %d planned: a resume must plan the same episodes", r.Key(), len(planned))
		}
	}
	return planned, nil
}

// A Shard is the I-th (from 1) of N slices of a run's planned episodes.
// The zero value is the whole run.
type Shard struct{ I, N int }

func (s Shard) String() string {
	if s.N <= 1 {
		return ""
	}
	return strconv.Itoa(s.I) + "/" + strconv.Itoa(s.N)
}

// Of returns the shard's slice of planned: every N-th episode from the
// I-th. The whole plan for the zero Shard.
func (s Shard) Of(planned []Episode) []Episode {
	if s.N <= 1 {
		return planned
	}
	var out []Episode
	for i := s.I - 1; i < len(planned); i += s.N {
		out = append(out, planned[i])
	}
	return out
}

// ParseShard reads "I/N" (1 ≤ I ≤ N), as --shard gives it.
func ParseShard(v string) (Shard, error) {
	a, b, ok := strings.Cut(v, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return Shard{}, fmt.Errorf("shard %q: want I/N with 1 ≤ I ≤ N, such as 2/8", v)
	}
	return Shard{I: i, N: n}, nil
}

// An Episode is one planned play of a task: its repeat (from 1) and the
// key that names its results and its directory.
type Episode struct {
	Task   env.Task
	Repeat int
	key    string
}

// Key is the episode's key (EpisodeKey).
func (e Episode) Key() string { return e.key }

// EpisodeKey names the repeat of a task: its id for the first, and
// "<id>.r<repeat>" for the others ("shop-test-0003.r2").
func EpisodeKey(taskID string, repeat int) string {
	if repeat <= 1 {
		return taskID
	}
	return taskID + ".r" + strconv.Itoa(repeat)
}

// Plan lists the episodes of tasks played repeat times (0 means 1):
// every task's first repeat, then every task's second, and so on, so
// that a run stopped early has the same coverage of the tasks.
func Plan(tasks []env.Task, repeat int) []Episode {
	repeat = max(repeat, 1)
	out := make([]Episode, 0, len(tasks)*repeat)
	for r := 1; r <= repeat; r++ {
		for _, t := range tasks {
			out = append(out, Episode{Task: t, Repeat: r, key: EpisodeKey(t.ID, r)})
		}
	}
	return out
}

// checkTaskID accepts ids that can name a directory.
func checkTaskID(id string) error {
	if id == "" {
		return errors.New("the task has no id: every task needs a unique id")
	}
	if strings.ContainsAny(id, `/\`) || !filepath.IsLocal(id) || SafeName(id) != id {
		return fmt.Errorf("task id %q: want letters, digits, '-', '_' and '.' only: it names the episode's directory", id)
	}
	return nil
}

// runner is the state of one Run that its workers share.
type runner struct {
	cfg     Config
	store   Store
	total   int
	start   time.Time
	idWidth int       // of the longest task id, for aligned progress lines
	tasks   []Episode // the planned episodes, in order
	todo    []int     // the indexes in tasks of those to play

	// The queue of episodes to play: those of todo, then the attempts
	// of errored ones (Config.Retries). Workers wait on more while
	// others still play, since those may yet add a retry.
	qmu      sync.Mutex
	more     *sync.Cond // on qmu: the queue grew, or nothing plays
	queue    []job
	head     int // the index in queue of the next job to hand out
	inflight int // jobs handed out and not yet done

	mu        sync.Mutex
	results   []indexed
	successes int
	retries   int
	// envTimes and policyTimes are the step times of this process.
	envTimes, policyTimes []time.Duration
	fatal                 error   // the first error that stopped the run
	closeErrs             []error // envs that failed to close
}

// A job is an attempt at the i-th planned episode.
type job struct{ i, attempt int }

// take hands out the next job. It waits while the queue is empty and
// other workers still play; false when there is nothing left or ctx is
// done.
func (r *runner) take(ctx context.Context) (job, bool) {
	r.qmu.Lock()
	defer r.qmu.Unlock()
	for {
		switch {
		case ctx.Err() != nil:
			return job{}, false
		case r.head < len(r.queue):
			j := r.queue[r.head]
			r.head++
			r.inflight++
			return j, true
		case r.inflight == 0:
			return job{}, false
		}
		r.more.Wait()
	}
}

// done ends a job that take handed out, queueing again when non-nil.
func (r *runner) done(again *job) {
	r.qmu.Lock()
	defer r.qmu.Unlock()
	r.inflight--
	if again != nil {
		r.queue = append(r.queue, *again)
	}
	r.more.Broadcast()
}

type indexed struct {
	index int
	Result
}

func (r *runner) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fatal == nil {
		r.fatal = err
	}
}

// work is one worker: it makes its env, plays tasks until there are none
// left or ctx is done, and closes the env. It returns what must stop the
// whole run.
func (r *runner) work(ctx context.Context, w int) (err error) {
	e, err := r.cfg.NewEnv(ctx, w)
	if err != nil {
		if ctx.Err() != nil {
			return nil // the run is stopping anyway
		}
		return fmt.Errorf("eval: worker %d: make its env: %w", w, err)
	}
	if e == nil {
		return fmt.Errorf("eval: worker %d: NewEnv returned a nil env and no error", w)
	}
	defer func() {
		if cerr := e.Close(); cerr != nil {
			r.mu.Lock()
			r.closeErrs = append(r.closeErrs, fmt.Errorf("eval: worker %d: close its env: %w", w, cerr))
			r.mu.Unlock()
		}
	}()
	for {
		j, ok := r.take(ctx)
		if !ok {
			return nil
		}
		res, ok := r.episode(ctx, w, e, r.tasks[j.i], j.attempt)
		if !ok {
			r.done(nil)
			return nil // cancelled: the episode did not finish
		}
		// A task whose evaluator failed fails the same way again: it is
		// not retried.
		if res.Outcome != OutcomeError || j.attempt > r.cfg.Retries || res.ErrorKind == KindEvaluate {
			err := r.record(j.i, res)
			r.done(nil)
			if err != nil {
				return err
			}
			continue
		}
		err := r.retry(res)
		if err != nil {
			r.done(nil)
			return err
		}
		r.done(&job{j.i, j.attempt + 1})
	}
}

// episode plays one task on e. It reports false when ctx ended it.
// The episode's directory is emptied first: an interrupted process, or an
// attempt that was retried, may have left a partial trajectory there.
func (r *runner) episode(ctx context.Context, w int, e env.Env, ep Episode, attempt int) (Result, bool) {
	t0 := time.Now()
	task := ep.Task
	res := Result{TaskID: task.ID, Worker: w, Attempt: attempt}
	if r.cfg.Repeat > 1 {
		res.Episode, res.Repeat = ep.key, ep.Repeat
	}
	dir := filepath.Join(r.cfg.RunDir, EpisodesDir, ep.key)
	if err := os.RemoveAll(dir); err != nil {
		res.Error = fmt.Sprintf("clear the episode's directory: %v", err)
		res.Outcome, res.ErrorKind = OutcomeError, KindRecorder
		return res, true
	}
	var p policy.Policy
	var err error
	if r.cfg.NewPolicyRepeat != nil {
		p, err = r.cfg.NewPolicyRepeat(task, ep.Repeat)
	} else {
		p, err = r.cfg.NewPolicy(task)
	}
	if err != nil {
		res.Error = fmt.Sprintf("make the policy: %v", err)
		res.Outcome, res.ErrorKind = OutcomeError, KindPolicy
		res.Duration = time.Since(t0)
		return res, true
	}
	opts := r.cfg.Agent
	opts.Observers = append(slices.Clip(opts.Observers), agent.NewRecorder(dir))
	traj, err := runGuarded(ctx, e, task, p, opts)
	if err != nil && ctx.Err() != nil {
		return Result{}, false
	}
	res.Success, res.Reward, res.Return = traj.Success, traj.Reward, traj.Return
	res.Steps = len(traj.Steps)
	res.Trajectory = traj
	res.Tokens, res.CostUSD, res.ModelRetries = traj.Usage.Tokens(), traj.Usage.CostUSD, traj.Usage.Retries
	res.Terminated, res.Truncated, res.Reason = traj.Terminated, traj.Truncated, traj.Reason
	if n := len(traj.Steps); n > 0 {
		res.Info = traj.Steps[n-1].Info
	}
	res.Hidden = len(task.Hidden) > 0
	for _, st := range traj.Steps {
		if st.Tool == nil || st.Tool.Name != "ask_user" {
			continue // a confirm is the gate's, not a question
		}
		res.Questions++
		if st.Tool.Answer != nil && st.Tool.Answer.Told() {
			res.Answered++
		}
	}
	res.Confidence = Confidence(traj)
	if err != nil {
		res.Error = err.Error()
		res.Success = false
	}
	res.Outcome, res.ErrorKind = Classify(err, res.Success)
	if res.Outcome == OutcomeFailure && r.cfg.Missed != nil {
		res.Missed = r.cfg.Missed(res)
	}
	if res.Outcome != OutcomeError && r.cfg.Tags != nil {
		res.Tags = r.cfg.Tags(res)
	}
	res.Duration = time.Since(t0)
	return res, true
}

// Confidence is an episode's confidence (Result.Confidence): the one its
// last step states (Decision.Meta["stated_confidence"], as a model gives
// it with stop), else the lowest of its steps' estimates
// (Meta["confidence"], as planner.AskWhenUnsure records them) over the
// steps that acted (not those that asked instead); nil when no step gives
// one.
func Confidence(traj *agent.Trajectory) *float64 {
	if n := len(traj.Steps); n > 0 {
		if v, ok := traj.Steps[n-1].Meta["stated_confidence"].(float64); ok && !math.IsNaN(v) {
			v = min(max(v, 0), 1)
			return &v
		}
	}
	var low *float64
	for _, st := range traj.Steps {
		if unsure, _ := st.Meta["unsure"].(bool); unsure {
			continue // it asked instead: the answer settles it
		}
		v, ok := st.Meta["confidence"].(float64)
		if !ok || math.IsNaN(v) {
			continue
		}
		v = min(max(v, 0), 1)
		if low == nil || v < *low {
			low = &v
		}
	}
	return low
}

// retry keeps an errored attempt that is played again: in the store when
// it keeps attempts, its trajectory in RUNDIR/attempts/<task-id>-<n>, and a
// progress line.
func (r *runner) retry(res Result) error {
	src := filepath.Join(r.cfg.RunDir, EpisodesDir, res.Key())
	dst := filepath.Join(r.cfg.RunDir, AttemptsDir, fmt.Sprintf("%s-%d", res.Key(), res.Attempt))
	if _, err := os.Stat(src); err == nil {
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("eval: keep the attempt of %s: %w", res.TaskID, err)
		}
		if err := os.RemoveAll(dst); err != nil {
			return fmt.Errorf("eval: keep the attempt of %s: %w", res.TaskID, err)
		}
		if err := os.Rename(src, dst); err != nil {
			return fmt.Errorf("eval: keep the attempt of %s: %w", res.TaskID, err)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.retries++
	if as, ok := r.store.(AttemptStore); ok {
		if err := as.AddAttempt(res); err != nil {
			return fmt.Errorf("eval: store the attempt of %s: %w", res.TaskID, err)
		}
	}
	if r.cfg.Progress != nil {
		_, _ = fmt.Fprintf(r.cfg.Progress, "%*s %s  error, attempt %d of %d: playing it again later\n    error (%s): %s\n",
			2*len(fmt.Sprint(r.total))+2, "", res.Key(), res.Attempt, r.cfg.Retries+1, res.ErrorKind, oneLine(res.Error))
	}
	return nil
}

// runGuarded is agent.Run that turns a panic of the policy or the env into
// the episode's error, so that one bad episode does not end the run.
func runGuarded(ctx context.Context, e env.Env, task env.Task, p policy.Policy, opts agent.Options) (traj *agent.Trajectory, err error) {
	defer func() {
		if v := recover(); v != nil {
			if traj == nil {
				traj = &agent.Trajectory{Task: task}
			}
			err = fmt.Errorf("%w in episode %s: %v\n%s", errPanic, task.ID, v, debug.Stack())
		}
	}()
	return agent.Run(ctx, e, task, p, opts)
}

// record stores a finished episode's result and prints its progress line.
func (r *runner) record(index int, res Result) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.store.Add(res); err != nil {
		return fmt.Errorf("eval: store the result of %s: %w", res.TaskID, err)
	}
	if t := res.Trajectory; t != nil {
		for _, st := range t.Steps {
			r.envTimes = append(r.envTimes, st.EnvTime)
			r.policyTimes = append(r.policyTimes, st.PolicyTime)
		}
	}
	res.Trajectory = nil // the report keeps results, not whole episodes
	r.results = append(r.results, indexed{index, res})
	if res.Success {
		r.successes++
	}
	if r.cfg.Progress != nil {
		// Progress is best effort: a closed terminal must not stop a run.
		_, _ = io.WriteString(r.cfg.Progress, r.progressLine(res))
	}
	return nil
}

// progressLine is
//
//	[ 37/200] shop-test-0036  success  reward 1.00  12 steps  0.9s  (w2)  35/37 ok  41.2/min
func (r *runner) progressLine(res Result) string {
	n := len(r.results)
	width := len(fmt.Sprint(r.total))
	status := res.status()
	perMin := float64(n-len(r.cfg.Done)) / time.Since(r.start).Minutes() // this process's episodes
	var b strings.Builder
	fmt.Fprintf(&b, "[%*d/%d] %-*s  %-9s  reward %.2f  %d steps  %s  (w%d)  %d/%d ok  %s/min",
		width, n, r.total, r.idWidth, res.Key(), status, res.Reward, res.Steps, shortDuration(res.Duration), res.Worker,
		r.successes, n, rate(perMin))
	if res.Error != "" {
		b.WriteString("\n    error")
		if res.ErrorKind != "" && res.Outcome == OutcomeError {
			b.WriteString(" (" + res.ErrorKind + ")")
		}
		b.WriteString(": ")
		b.WriteString(oneLine(res.Error))
	}
	b.WriteByte('\n')
	return b.String()
}

func (r *runner) report(suite string, workers int, interrupted bool) *Report {
	r.mu.Lock()
	defer r.mu.Unlock()
	slices.SortFunc(r.results, func(a, b indexed) int { return a.index - b.index })
	results := make([]Result, len(r.results))
	for i, x := range r.results {
		results[i] = x.Result
	}
	wall := time.Since(r.start)
	rep := newReport(suite, len(r.tasks), results, wall)
	rep.Interrupted = interrupted && !rep.Complete
	rep.Retries = r.retries + r.cfg.DoneRetries
	// The rate is of this process's episodes: a resume's done ones took
	// their time in an earlier one.
	rep.EpisodesPerMinute = 0
	if m := wall.Minutes(); m > 0 {
		rep.EpisodesPerMinute = float64(rep.Episodes-len(r.cfg.Done)) / m
	}
	rep.Policy = r.cfg.Agent.PolicyName
	rep.Start = r.start.UTC()
	rep.Workers = workers
	rep.RunDir = r.cfg.RunDir
	rep.Manifest = r.cfg.Manifest
	rep.SetLatencies(r.envTimes, r.policyTimes)
	return rep
}

// shortDuration prints 12ms, 0.9s, 12.3s, 1m3s.
func shortDuration(d time.Duration) string {
	switch {
	case d < 100*time.Millisecond:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return d.Round(time.Second).String()
}

func oneLine(s string) string {
	if strings.ContainsAny(s, "\r\n") {
		s = strings.Join(strings.Fields(s), " ")
	}
	return s
}
