package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/pilotkit/pilot/agent"
	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/env/web"
	"github.com/pilotkit/pilot/evals"
	"github.com/pilotkit/pilot/evals/runstore"
	"github.com/pilotkit/pilot/evals/suites"
	"github.com/pilotkit/pilot/policy"
)

// evalFlags are the flags of pilot eval.
type evalFlags struct {
	obs                  obsFlags
	plan                 planFlags
	human                humanFlags
	stdin                io.Reader
	suite, split, policy string
	episodes, workers    int
	seed                 int64
	products             int
	params               paramFlag
	maxSteps             int
	maxTime, stepTimeout time.Duration
	runDir               string
	screenshot           *choiceValue
	browser              string
	engine               string
	port                 string
	tasks                []string
	policySeed           int64
	json, verbose        bool
	model                modelFlags
	taskFile             taskFileFlags
	retries, repeat      int
	resume               string
	shard                string
	shardV               evals.Shard
	grid                 []string
	// repeatPolicy makes the policy of a task's repeat (--repeat).
	repeatPolicy func(env.Task, int) (policy.Policy, error)
	// given are the flags given, name → value, and as arguments, for the
	// run's manifest.
	given map[string]string
	args  []string
	// policySet and screenshotSet say whether the flags were given.
	policySet, screenshotSet bool
	maxStepsSet              bool
}

func newEvalCmd() *cobra.Command {
	f := &evalFlags{screenshot: newChoice("none", "none", "png", "jpeg")}
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Run a suite of tasks in parallel and report the success rate",
		Long: `Run the episodes of a suite on parallel workers (one browser each, one
browser context per episode), print a line per finished episode on stderr,
and print a table on stdout: success rate with its 95% Wilson interval, mean
reward, mean steps and episodes per minute.

Every episode's result and trajectory is saved in the run directory, as
each episode ends (default runs/<suite>-<split>-<time>):
  run.db                               the run in SQLite: how to reproduce it
                                       (versions, suite, engine, seeds, policy,
                                       model, flags), every attempt and result,
                                       the steps
  episodes/<task-id>/trajectory.jsonl  the episode, step by step (+ images/)
  attempts/<task-id>-<n>/              attempts that ended in an error and
                                       were played again (--retries)
  report.json                          the summary
pilot runs ls, show and export read it (export writes JSON lines).

A run that was stopped (Ctrl-C, kill -9, a crash) resumes: pilot eval
--resume RUNDIR, or the same command with the same --run-dir, plays exactly
the episodes without a result. A resume with other flags is refused, with
what differs.

An episode that ends in an error (a dead browser, a model API down, a
timeout) is not a failure: it is played again (--retries), and if it still
fails the table counts it apart, by kind, and scores the other episodes.

With --json, stdout gets the summary as one JSON object, as in report.json,
with "error" added when the run failed.

The shop in Chromium plays about 80 episodes a minute on two cores. With
--engine lite it runs in pilot's browser without JavaScript (env/web/lite):
the same pages and the same text observations (tested step by step against
Chromium), no screenshots, about 20,000 episodes a minute.

Suites (pilot suites lists them with their task counts):
` + describeSuites(suites.Builtin()) + `
Policies: ` + policyNamesDoc + `.

A run that finishes exits 0 whatever its success rate; a run that fails or
is interrupted exits 1 (after printing what finished), bad usage 2.`,
		Example: `  pilot eval --suite shop --engine lite --workers 2
  pilot eval --suite demo --workers 2
  pilot eval --suite demo --policy random --seed 7 --max-steps 10 --json
  pilot eval --suite demo --run-dir runs/try --screenshot jpeg
  pilot eval --suite shop --engine lite --task shop-test-0003 --task shop-test-0007 -v
  pilot eval --resume runs/shop-test-20261203-120000
  pilot eval --suite shop --engine lite --episodes 50 --grid policy=expert,nn:shop,random --grid seed=1..3`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.resume != "" {
				if len(f.grid) > 0 {
					return usagef("--resume and --grid are exclusive: run the same --grid command with the same --run-dir to resume every cell")
				}
				return resumeEval(cmd.Context(), f.resume, cmd.Flags(), cmd.OutOrStdout(), cmd.ErrOrStderr())
			}
			if len(f.grid) > 0 {
				return runGrid(cmd.Context(), f, cmd.Flags(), cmd.OutOrStdout(), cmd.ErrOrStderr())
			}
			f.stdin = cmd.InOrStdin()
			return f.start(cmd.Context(), cmd.Flags(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f.register(cmd.Flags())
	return cmd
}

// start runs the eval that the flags in fs (parsed into f) describe.
func (f *evalFlags) start(ctx context.Context, fs *pflag.FlagSet, stdout, stderr io.Writer) error {
	f.policySet, f.screenshotSet = fs.Changed("policy"), fs.Changed("screenshot")
	f.maxStepsSet = fs.Changed("max-steps")
	f.given, f.args = givenFlags(fs)
	if !fs.Changed("policy-seed") {
		f.policySeed = f.seed
	}
	reg, err := f.taskFile.registry(&f.suite)
	if err != nil {
		return err
	}
	s, p, err := f.validate(reg)
	if err != nil {
		return err
	}
	return f.run(ctx, s, p, stdout, stderr)
}

// resumeEval resumes the run in dir with the flags it was started with
// (its manifest's Args), and those of fs that a resume may change
// (workers, output).
func resumeEval(ctx context.Context, dir string, fs *pflag.FlagSet, stdout, stderr io.Writer) error {
	var other []string
	fs.Visit(func(fl *pflag.Flag) {
		if fl.Name != "resume" && fl.Name != "base-url" && !evals.ResumeFree(fl.Name) {
			other = append(other, "--"+fl.Name)
		}
	})
	if len(other) > 0 {
		return usagef("--resume takes the run's own flags from %s: give only --workers, -v, --json or --browser with it, not %s", dir, strings.Join(other, ", "))
	}
	db, err := runstore.Open(dir)
	if err != nil {
		return usagef("--resume %s: %v", dir, err)
	}
	man := db.Manifest()
	db.Close()
	// A password in a URL is not stored: the flag must be given again.
	for _, a := range man.Args {
		name, val, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if strings.Contains(val, ":"+maskedPassword+"@") && !fs.Changed(name) {
			return usagef("--resume %s: the run's --%s had a password, which pilot does not store: give --%s again with --resume", dir, name, name)
		}
	}
	args := slices.Clone(man.Args)
	if man.Flags["run-dir"] == "" {
		args = append(args, "--run-dir", dir)
	}
	fs.Visit(func(fl *pflag.Flag) {
		if fl.Name != "resume" {
			args = append(args, "--"+fl.Name+"="+fl.Value.String())
		}
	})
	f := &evalFlags{screenshot: newChoice("none", "none", "png", "jpeg")}
	nfs := pflag.NewFlagSet("eval", pflag.ContinueOnError)
	nfs.SetOutput(io.Discard)
	f.register(nfs)
	if err := nfs.Parse(args); err != nil {
		return fmt.Errorf("--resume %s: the stored flags %q do not parse: %w", dir, args, err)
	}
	f.runDir = dir
	return f.start(ctx, nfs, stdout, stderr)
}

func (f *evalFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.suite, "suite", "", "the suite to run: "+suites.Builtin().Names()+" (required; see pilot suites)")
	fs.StringVar(&f.split, "split", "test", "the suite's split")
	fs.IntVar(&f.episodes, "episodes", 0, "run the first `N` tasks of the suite (0 for all)")
	fs.IntVar(&f.workers, "workers", 1, "run `N` episodes at once, each worker with its own browser")
	fs.StringVar(&f.policy, "policy", "", "who chooses the actions: expert, random, nn:NAME|FILE or the suite's own, such as plan (default the suite's)")
	fs.Int64Var(&f.seed, "seed", 1, "seed of the suite (the shop's catalog and tasks, the robot's tasks)")
	fs.Int64Var(&f.policySeed, "policy-seed", 0, "seed of random policies (default --seed)")
	fs.IntVar(&f.products, "products", 0, "catalog size of the shop suite (0: the default, 2000); the param products")
	fs.Var(&f.params, "param", "a suite's own option `NAME=VALUE` (repeatable; pilot suites lists them)")
	f.taskFile.register(fs)
	fs.Var(newParamAlias(&f.params, "dir"), "miniwob-dir", "the miniwob/html folder of a MiniWoB++ checkout, for --suite miniwob (the param dir)")
	fs.StringArrayVar(&f.tasks, "task", nil, "run only the task with this `ID` (repeatable), such as shop-test-0003")
	fs.StringVar(&f.port, "port", "", "serial `PORT` of a robot suite's arm (the serial engine): a real arm, or the path `pilot robot sim` prints")
	fs.BoolVarP(&f.verbose, "verbose", "v", false, "print each step and its observation on stderr")
	fs.IntVar(&f.maxSteps, "max-steps", agent.DefaultMaxSteps, "end an episode, truncated, after this many steps (0 for no limit; cartpole's default: none)")
	fs.DurationVar(&f.maxTime, "max-time", 0, "end an episode, truncated, after this much wall time (0 for no limit)")
	fs.DurationVar(&f.stepTimeout, "step-timeout", time.Minute, "fail an episode when one policy call or step takes longer (0 for no limit)")
	fs.StringVar(&f.runDir, "run-dir", "", "write the results to `DIR` (default runs/<suite>-<split>-<YYYYmmdd-HHMMSS>); a DIR that holds the same run resumes it")
	fs.Var(f.screenshot, "screenshot", "add a screenshot to each observation (and save it): none, png or jpeg")
	fs.StringVar(&f.engine, "engine", "", "what runs the envs (default the suite's first): chromium or lite for the shop (lite: pilot's browser without JavaScript, the same text observations, no screenshots, some 250 times the episodes per minute); fast or serial for the robot suites")
	fs.StringVar(&f.browser, "browser", "", "attach each worker to a running Chrome at `URL` (ws://host:port/devtools/browser/… or http://host:port) instead of launching one; a comma-separated list is a fleet: worker w attaches to the (w mod n)-th")
	fs.BoolVar(&f.json, "json", false, "print the summary as one JSON object on stdout")
	fs.StringVar(&f.resume, "resume", "", "resume the run in `DIR` with the flags it was started with: play the episodes that have no result yet")
	fs.StringArrayVar(&f.grid, "grid", nil, "run a study: the cross product of the values of flags, one run per cell in RUNDIR/<cell>, and one table: `NAME=V1,V2` or NAME=A..B (repeatable), such as --grid policy=expert,random --grid seed=1..3; the same command again resumes every cell")
	fs.StringVar(&f.shard, "shard", "", "play only the `I/N`-th slice of the run's episodes (every N-th, from the I-th), for a study over several processes or machines; N alone takes I from JOB_COMPLETION_INDEX + 1 (a Kubernetes Indexed Job); pilot runs merge joins the shards")
	fs.IntVar(&f.repeat, "repeat", 1, "play every task `K` times, repeat r with the policy seed + r - 1 (the same catalogue), and add pass^k for k = 1..K to the table")
	fs.IntVar(&f.retries, "retries", 2, "play an episode that ended in an error (a dead browser, a model API down, a timeout) again from scratch up to `N` times; its errors are never counted as failures")
	f.model.register(fs, true)
	f.plan.register(fs)
	f.human.register(fs)
	f.obs.register(fs)
}

// validate checks the flags together and finds the suite and, when it
// is not the suite's own, the policy.
func (f *evalFlags) validate(reg *evals.Registry) (evals.Def, newPolicy, error) {
	var none evals.Def
	if f.suite == "" {
		return none, nil, usagef("--suite (or --tasks FILE) is required: one of %s", reg.Names())
	}
	d, err := reg.Find(f.suite)
	if err != nil {
		return none, nil, &usageError{err}
	}
	if !f.maxStepsSet && d.MaxSteps != 0 {
		f.maxSteps = max(d.MaxSteps, 0) // 0: no limit
	}
	if err := f.model.validate(); err != nil {
		return none, nil, err
	}
	if err := f.obs.validate(); err != nil {
		return none, nil, err
	}
	if err := f.plan.validate(d, f.engine); err != nil {
		return none, nil, err
	}
	if err := f.human.validate(f.workers); err != nil {
		return none, nil, err
	}
	switch {
	case f.episodes < 0:
		return none, nil, usagef("--episodes %d: want 0 (all) or more", f.episodes)
	case f.workers < 1:
		return none, nil, usagef("--workers %d: want 1 or more", f.workers)
	case f.maxSteps < 0:
		return none, nil, usagef("--max-steps %d: want 0 (no limit) or more", f.maxSteps)
	case f.maxTime < 0:
		return none, nil, usagef("--max-time %s: want 0 (no limit) or more", f.maxTime)
	case f.stepTimeout < 0:
		return none, nil, usagef("--step-timeout %s: want 0 (no limit) or more", f.stepTimeout)
	case f.browser != "" && slices.ContainsFunc(strings.Split(f.browser, ","), func(u string) bool {
		return !hasAnyPrefix(strings.TrimSpace(u), "ws://", "wss://", "http://")
	}):
		return none, nil, usagef("--browser %q: want ws://host:port/devtools/browser/… or http://host:port, or a comma-separated list of them (one per worker, round robin)", f.browser)
	case f.shard != "":
		v := f.shard
		if !strings.Contains(v, "/") {
			idx, ok := os.LookupEnv("JOB_COMPLETION_INDEX")
			i, err := strconv.Atoi(idx)
			if !ok || err != nil || i < 0 {
				return none, nil, usagef("--shard %s: give I/N, or N with JOB_COMPLETION_INDEX set to the 0-based index (it is %q)", v, idx)
			}
			v = strconv.Itoa(i+1) + "/" + v
		}
		sh, err := evals.ParseShard(v)
		if err != nil {
			return none, nil, usagef("--shard: %v", err)
		}
		f.shardV = sh
	}
	switch {
	case f.repeat < 1:
		return none, nil, usagef("--repeat %d: want 1 or more", f.repeat)
	case f.retries < 0:
		return none, nil, usagef("--retries %d: want 0 (never) or more", f.retries)
	case f.episodes > 0 && len(f.tasks) > 0:
		return none, nil, usagef("--episodes and --task are exclusive: --task names the episodes")
	}
	o := f.loadOptions()
	if err := d.Check(&o); err != nil {
		return none, nil, &usageError{err}
	}
	if f.model.spec != "" {
		if f.policySet {
			return none, nil, usagef("--model and --policy are exclusive: --model makes the model the policy")
		}
		return d, nil, nil // the policy is made once the model is open
	}
	if f.policy == "" {
		f.policy = d.Policy
	}
	p, err := resolvePolicy(d, nil, f.policy, f.policySeed)
	return d, p, err
}

// loadOptions are the suite's load options from the flags.
func (f *evalFlags) loadOptions() evals.LoadOptions {
	o := evals.LoadOptions{Split: f.split, Engine: f.engine, Seed: f.seed, PolicySeed: f.policySeed, BrowserURL: f.browser, Port: f.port, OpenNetwork: f.human.openNet, Obs: f.obs.options()}
	o.MaxSteps, o.MaxTime = f.maxSteps, f.maxTime
	if f.screenshot.val != "none" {
		o.Screenshot = f.screenshot.val
	}
	o.Params = maps.Clone(f.params)
	if f.products != 0 {
		if o.Params == nil {
			o.Params = map[string]string{}
		}
		o.Params["products"] = strconv.Itoa(f.products)
	}
	return o
}

// pickTasks keeps the tasks named by --task, in the order given.
func pickTasks(l *evals.Loaded, ids []string) (evals.Suite, error) {
	if len(ids) == 0 {
		return l.Suite, nil
	}
	s := evals.Suite{Name: l.Suite.Name}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			return s, usagef("--task %s is given twice", id)
		}
		seen[id] = true
		t, err := l.Task(id)
		if err != nil {
			return s, &usageError{err}
		}
		s.Tasks = append(s.Tasks, t)
	}
	return s, nil
}

// lockedWriter serialises writes from episodes running in parallel.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// evalResult is what pilot eval --json prints: the report, and the error
// when the run failed.
type evalResult struct {
	*evals.Report
	Error string `json:"error,omitempty"`
}

// run loads the suite, runs it and prints the report: the table and the
// run directory on stdout, or with --json the report object.
func (f *evalFlags) run(ctx context.Context, d evals.Def, np newPolicy, stdout, stderr io.Writer) (err error) {
	var budget *agent.Budget
	name := f.policy
	if f.model.spec != "" {
		f.model.stepTimeout = f.stepTimeout
		m, err := f.model.open(ctx, stderr)
		if err != nil {
			return f.output(stdout, nil, fmt.Errorf("open the model: %w", err))
		}
		name = f.model.name()
		np = func(env.Task) (policy.Policy, error) { return f.model.policy(m, f.seed), nil }
		f.repeatPolicy = func(_ env.Task, repeat int) (policy.Policy, error) {
			return f.model.policy(m, f.policySeed+int64(repeat-1)), nil
		}
		budget = &agent.Budget{MaxTokens: f.model.maxTokens, MaxCostUSD: f.model.maxCost}
		if f.model.wantsImages() && !f.screenshotSet && f.engine != evals.EngineLite {
			f.screenshot.val = "jpeg" // the model sees the page or the camera
		}
	}
	o := f.loadOptions()
	if err := d.Check(&o); err != nil { // fills in the default engine, for the manifest
		return &usageError{err}
	}
	o.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if o.Judge, err = f.taskFile.openJudge(ctx, stderr); err != nil {
		return err
	}
	if o.Secrets, err = f.human.loadSecrets(); err != nil {
		return err
	}
	l, err := d.Open(ctx, o)
	if err != nil {
		return f.output(stdout, nil, err)
	}
	if l.Close != nil {
		defer func() { err = joinErr(err, "", l.Close()) }()
	}
	if np == nil {
		if np, err = resolvePolicy(d, l, f.policy, f.policySeed); err != nil {
			return err
		}
	}
	if f.repeat > 1 && f.repeatPolicy == nil {
		// Repeat r plays with the policy seed + r - 1: random policies
		// differ from one repeat to the next, the catalogue does not.
		perRepeat := make([]newPolicy, f.repeat)
		perRepeat[0] = np
		for r := 2; r <= f.repeat; r++ {
			if perRepeat[r-1], err = resolvePolicy(d, l, f.policy, f.policySeed+int64(r-1)); err != nil {
				return err
			}
		}
		f.repeatPolicy = func(t env.Task, repeat int) (policy.Policy, error) { return perRepeat[repeat-1](t) }
	}
	if f.plan.on() {
		f.plan.seed = f.policySeed
		if f.plan.planner == "cem" {
			name = "" // cem plans from no policy
		}
		name += f.plan.name()
		np = f.plan.wrap(d, np)
		f.repeatPolicy = overRepeats(f.repeatPolicy, func(p policy.Policy, repeat int) (policy.Policy, error) { return f.plan.planOver(d, p, repeat) })
	}
	suite, err := pickTasks(l, f.tasks)
	if err != nil {
		return err
	}
	if f.human.unsure > 0 {
		name += f.human.unsureName()
		np = f.human.unsureWrap(d, np)
		f.repeatPolicy = overRepeats(f.repeatPolicy, func(p policy.Policy, _ int) (policy.Policy, error) { return f.human.unsureOver(d, p) })
	}
	if (f.plan.on() || f.human.unsure > 0) && len(suite.Tasks) > 0 {
		// A planner that cannot be made (a value the policy cannot give)
		// is the command's mistake, not 200 errored episodes.
		if _, err := np(suite.Tasks[0]); err != nil {
			var ue *usageError
			if errors.As(err, &ue) {
				return err
			}
		}
	}
	runDir := f.runDir
	if runDir == "" {
		runDir = evals.DefaultRunDir(suite.Name, time.Now())
		if f.shardV.N > 1 {
			runDir += fmt.Sprintf("-shard%dof%d", f.shardV.I, f.shardV.N)
		}
	}
	opts := agent.Options{
		MaxSteps:    agentMaxSteps(f.maxSteps),
		MaxTime:     f.maxTime,
		StepTimeout: f.stepTimeout,
		PolicyName:  name,
		RunBudget:   budget,
	}
	if opts.MaxSteps == 0 {
		opts.MaxSteps = -1 // agent: negative is no limit
	}
	secrets, err := f.human.loadSecrets()
	if err != nil {
		return err
	}
	hu, stopHuman, err := f.human.open(f.stdin, stderr)
	if err != nil {
		return err
	}
	defer func() { err = joinErr(err, "stop the question page", stopHuman()) }()
	f.human.apply(&opts, hu)
	if f.verbose {
		// Step lines with the observations; with several workers they
		// interleave, each line whole.
		w := &lockedWriter{w: stderr}
		opts.Observers = append(opts.Observers, agent.Progress(w), observationPrinter(w))
	}
	if f.shardV.N > 1 {
		// Store the shard as resolved (--shard N took I from
		// JOB_COMPLETION_INDEX), so that a resume plays the same slice.
		f.given["shard"] = f.shardV.String()
		f.args = slices.DeleteFunc(f.args, func(a string) bool { return strings.HasPrefix(a, "--shard=") })
		f.args = append(f.args, "--shard="+f.shardV.String())
	}
	man := f.manifest(o, name, suite)
	man.EngineVersion = engineVersion(ctx, o)
	db, done, err := openRun(runDir, &man)
	if err != nil {
		return f.output(stdout, nil, err)
	}
	rep, err := evals.Run(ctx, suite, evals.Config{
		Store:       db,
		Done:        done,
		DoneRetries: doneRetries(db),
		Workers:     f.workers,
		Episodes:    f.episodes,
		NewEnv:      f.human.wrapEnv(secrets, nil, l.NewEnv),
		NewPolicy:   np,
		Agent:       opts,
		RunDir:      runDir,
		Progress:    stderr,
		Retries:     f.retries,
		Manifest:    &man,
		Missed:      d.Missed,
		Tags:        d.Tags,
		Repeat:      f.repeat,
		Shard:       f.shardV,

		NewPolicyRepeat: f.repeatPolicy,
	})
	return f.output(stdout, rep, err)
}

// output prints the report (when there is one) and returns err.
func (f *evalFlags) output(stdout io.Writer, rep *evals.Report, err error) error {
	if f.json {
		res := evalResult{Report: rep}
		if res.Report == nil {
			res.Report = &evals.Report{Suite: f.suite + "/" + f.split}
		}
		if err != nil {
			res.Error = err.Error()
		}
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		if jerr := enc.Encode(res); jerr != nil {
			err = errors.Join(err, fmt.Errorf("write the report: %w", jerr))
		}
		return err
	}
	if rep == nil {
		return err
	}
	if terr := rep.WriteTable(stdout); terr != nil {
		return errors.Join(err, fmt.Errorf("write the report: %w", terr))
	}
	if _, werr := fmt.Fprintf(stdout, "results in %s\n", rep.RunDir); werr != nil {
		err = errors.Join(err, fmt.Errorf("write the report: %w", werr))
	}
	return err
}

// manifest is how to reproduce the run: the binary, the suite as loaded
// (o after Def.Check, so with its default engine), the policy, the model
// and the flags given.
func (f *evalFlags) manifest(o evals.LoadOptions, policyName string, s evals.Suite) evals.Manifest {
	m := evals.NewManifest(versionString())
	m.Suite, m.Split, m.Engine = s.Name, f.split, o.Engine
	m.Seed, m.PolicySeed = f.seed, f.policySeed
	m.Policy = policyName
	if f.model.spec != "" {
		m.Model, m.BaseURL = f.model.spec, redactURL(f.model.baseURL)
	}
	m.Flags, m.Args = f.given, f.args
	n := len(s.Tasks)
	if f.episodes > 0 && f.episodes < n {
		n = f.episodes
	}
	for _, ep := range f.shardV.Of(evals.Plan(s.Tasks[:n], f.repeat)) {
		m.Planned = append(m.Planned, ep.Key())
	}
	m.Shard = f.shardV.String()
	m.Retries = f.retries
	return m
}

// givenFlags returns the flags given on the command line, name → value,
// and as the arguments that give them again, with any password in a URL's
// user info left out.
func givenFlags(fs *pflag.FlagSet) (map[string]string, []string) {
	out := map[string]string{}
	var args []string
	fs.Visit(func(fl *pflag.Flag) {
		if fl.Name == "resume" {
			return
		}
		if sv, ok := fl.Value.(interface{ GetSlice() []string }); ok {
			vals := sv.GetSlice()
			for _, v := range vals {
				args = append(args, "--"+fl.Name+"="+redactURL(v))
			}
			out[fl.Name] = redactURL(strings.Join(vals, ","))
			return
		}
		v := redactURL(fl.Value.String())
		out[fl.Name] = v
		args = append(args, "--"+fl.Name+"="+v)
	})
	return out, args
}

// maskedPassword stands for a URL's password in what pilot stores.
const maskedPassword = "xxxxx"

// redactURL drops the password of a URL's user info
// ("http://me:secret@host" → "http://me:xxxxx@host"); other strings come
// back as they are.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil || u.Host == "" {
		return s
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), maskedPassword)
	}
	return u.String()
}

// openRun opens the run store of runDir: a new one for man, or, when the
// directory holds a run, that run to resume, after checking that man
// measures what it measures (a changed flag is refused with what
// differs). It returns the final results the run already has, and sets
// man to the stored manifest on a resume.
func openRun(runDir string, man *evals.Manifest) (*runstore.DB, []evals.Result, error) {
	if _, err := os.Stat(filepath.Join(runDir, runstore.File)); err != nil {
		if _, jerr := os.Stat(filepath.Join(runDir, evals.ResultsFile)); jerr == nil {
			return nil, nil, usagef("--run-dir %s holds a run of an older pilot (%s, no %s): it cannot be resumed; choose another --run-dir", runDir, evals.ResultsFile, runstore.File)
		}
		db, err := runstore.Create(runDir, *man)
		return db, nil, err
	}
	db, err := runstore.Open(runDir)
	if err != nil {
		return nil, nil, usagef("--run-dir %s: %v", runDir, err)
	}
	stored := db.Manifest()
	if diff := stored.Diff(*man); diff != nil {
		db.Close()
		return nil, nil, usagef("--run-dir %s holds a run with other settings; nothing was changed:\n  %s\nresume it as it was started with `pilot eval --resume %s`, or choose another --run-dir",
			runDir, strings.Join(diff, "\n  "), runDir)
	}
	done, err := db.Resume()
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	*man = stored
	return db, done, nil
}

// doneRetries counts the attempts that earlier processes of a run played
// again, for the report of a resume.
func doneRetries(db *runstore.DB) int {
	as, err := db.Attempts()
	if err != nil {
		return 0
	}
	return len(as)
}

// engineVersion is what the manifest says of the engine's own version: the
// Chromium that a chromium run launches (its --version), or that it is
// attached to browsers it did not start.
func engineVersion(ctx context.Context, o evals.LoadOptions) string {
	if o.Engine != evals.EngineChromium {
		return ""
	}
	if o.BrowserURL != "" {
		return "attached to --browser (its version is the browsers')"
	}
	path, err := web.FindChrome()
	if err != nil {
		return ""
	}
	v, err := probe(ctx, path, "--version")
	if err != nil {
		return ""
	}
	return v
}

// overRepeats wraps each policy of rp (nil stays nil) with wrap.
func overRepeats(rp func(env.Task, int) (policy.Policy, error), wrap func(p policy.Policy, repeat int) (policy.Policy, error)) func(env.Task, int) (policy.Policy, error) {
	if rp == nil {
		return nil
	}
	return func(t env.Task, repeat int) (policy.Policy, error) {
		p, err := rp(t, repeat)
		if err != nil {
			return nil, err
		}
		return wrap(p, repeat)
	}
}
