package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/pilotkit/pilot/agent"
	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/env/web"
	"github.com/pilotkit/pilot/evals"
	"github.com/pilotkit/pilot/policy"
	"github.com/pilotkit/pilot/policy/cache"
	"github.com/pilotkit/pilot/tools"
)

// runFlags are the flags of pilot run.
type runFlags struct {
	obs                      obsFlags
	uploadDir, cacheDir      string
	plan                     planFlags
	human                    humanFlags
	stdin                    io.Reader
	humanAnswers             tools.Human
	url, serve, task, answer string
	policy, screenshot       *choiceValue
	actions                  string
	seed                     int64
	maxSteps                 int
	maxTime, stepTimeout     time.Duration
	record                   string
	viewport                 viewportValue
	allowDomains             []string
	browser                  string
	json, verbose            bool
	suite, split, engine     string
	robot                    robotRunFlags
	params                   paramFlag
	model                    modelFlags
	taskFile                 taskFileFlags
	// reg holds the suites, with the task file's (--tasks); nil for
	// pilot's own.
	reg *evals.Registry
	// replayed is the task of the recorded trajectory --actions names,
	// when it starts the episode.
	replayed *env.Task
	// policySet and screenshotSet say whether the flags were given.
	policySet, screenshotSet bool
	seedSet, maxStepsSet     bool
}

func newRunCmd() *cobra.Command {
	f := &runFlags{
		policy:     &choiceValue{val: "replay", choices: []string{"replay", "random", "expert", "plan"}, prefixes: []string{"nn:"}},
		screenshot: newChoice("none", "none", "png", "jpeg"),
		viewport:   viewportValue{W: 1280, H: 800},
	}
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run one episode, web or robot, and print each step",
		Long: `Run one episode and print a line per step and a final "done:" line.

A suite's task (--suite NAME --task ID, see pilot suites): play one
episode of a registered benchmark, as pilot eval would, step by step; the
policy defaults to the suite's (the shop's expert), and takes nn:NAME|FILE.

The web (the default --env): open the start URL in headless Chromium and let
the policy act step by step until it stops or a limit ends the episode.

A robot: --env robot:pick is --suite robot:pick (and robot:reach). With
--port it drives an SO-101 arm on that serial port (the serial engine), a
real one or a simulator started with ` + "`pilot robot sim`" + `; without --port, a
simulated arm runs inside pilot (the fast engine). The suite's expert
solves both tasks.

With --json, the step lines go to stderr and stdout gets one JSON object:
{"task","url","policy","steps","terminated","truncated","reason","reward",
"return","success","duration_ms","record_dir","error"}.

An episode that runs to its end exits 0 whatever its reward; an error (the
browser failed, a bad actions file) exits 1, bad usage 2.`,
		Example: `  pilot run --serve ./site --url /index.html --actions plan.txt \
      --task "find the code" --answer 4821
  pilot run --url https://example.com --policy random --seed 7 --max-steps 10
  pilot run --url https://example.com --actions plan.txt --record out --screenshot jpeg --json
  pilot run --env robot:pick --port /dev/pts/3 --policy expert
  pilot run --env robot:reach --seed 4 -v
  pilot run --suite shop --task shop-test-0003 --policy nn:shop -v
  pilot run --suite shop --engine lite --task shop-test-0003 --policy random --seed 2
  pilot run --actions runs/demo/trajectory.jsonl   # replay a recording from where it started`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.policySet, f.screenshotSet = cmd.Flags().Changed("policy"), cmd.Flags().Changed("screenshot")
			f.seedSet, f.maxStepsSet = cmd.Flags().Changed("seed"), cmd.Flags().Changed("max-steps")
			f.robot.maxRelativeSet = cmd.Flags().Changed("max-relative-target")
			if err := f.validate(); err != nil {
				return err
			}
			f.stdin = cmd.InOrStdin()
			return f.run(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f.register(cmd.Flags())
	return cmd
}

func (f *runFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.url, "url", "", "start `URL`: absolute http(s) or file URL, or with --serve a path such as /index.html (default \"/\" with --serve, else about:blank)")
	fs.StringVar(&f.serve, "serve", "", "serve `DIR` over HTTP on 127.0.0.1 (a random port) for the episode")
	fs.StringVar(&f.task, "task", "", "the task's instruction; with --suite, the task's `ID` (default the split's first)")
	fs.StringVar(&f.suite, "suite", "", "play a task of this registered suite (see pilot suites): shop, robot:pick, …")
	fs.StringVar(&f.split, "split", "", "with --suite: the split (default the suite's first)")
	fs.StringVar(&f.engine, "engine", "", "with --suite: what runs the env (default the suite's first): chromium, lite, fast, serial, native")
	fs.StringVar(&f.answer, "answer", "", "the expected stop() answer: the episode earns reward 1 when the agent stops with it")
	fs.Var(f.policy, "policy", "who chooses the actions: replay (the --actions file) or random; with --suite also expert, nn:NAME|FILE or the suite's own (the default is the suite's)")
	fs.StringVar(&f.actions, "actions", "", "`FILE` of actions, one a line, such as click(\"3\"), or a recorded trajectory.jsonl to replay (required with --policy replay)")
	fs.Int64Var(&f.seed, "seed", 0, "seed of the random policy; with --suite, also of the suite, as in pilot eval (default there 1)")
	fs.IntVar(&f.maxSteps, "max-steps", agent.DefaultMaxSteps, "end the episode, truncated, after this many steps (0 for no limit)")
	fs.DurationVar(&f.maxTime, "max-time", 0, "end the episode, truncated, after this much wall time (0 for no limit)")
	fs.DurationVar(&f.stepTimeout, "step-timeout", time.Minute, "fail when one policy call or step takes longer (0 for no limit)")
	fs.StringVar(&f.record, "record", "", "record the trajectory ("+agent.TrajectoryFile+") and screenshots in `DIR`")
	fs.Var(f.screenshot, "screenshot", "add a screenshot to each observation: none, png or jpeg")
	fs.Var(&f.viewport, "viewport", "page size in CSS pixels")
	fs.StringArrayVar(&f.allowDomains, "allow-domain", nil, "restrict navigation to this `DOMAIN` and its subdomains (repeatable; with --serve, 127.0.0.1 is added)")
	fs.StringVar(&f.browser, "browser", "", "attach to a running Chrome at `URL` (ws://host:port/devtools/browser/… or http://host:port) instead of launching one")
	fs.BoolVar(&f.json, "json", false, "print one JSON object with the result on stdout (step lines go to stderr)")
	fs.BoolVarP(&f.verbose, "verbose", "v", false, "also print the observation text after the reset and each step")
	fs.Var(&f.params, "param", "with --suite: a suite's own option `NAME=VALUE` (repeatable; pilot suites lists them)")
	f.taskFile.register(fs)
	fs.Var(newParamAlias(&f.params, "dir"), "miniwob-dir", "the miniwob/html folder of a MiniWoB++ checkout, for --suite miniwob (the param dir)")
	f.robot.register(fs)
	f.model.register(fs, false)
	f.plan.register(fs)
	f.human.register(fs)
	f.obs.register(fs)
	fs.StringVar(&f.uploadDir, "upload-dir", "", "let the upload action take files from `DIR` (a page run; upload is refused without it)")
	fs.StringVar(&f.cacheDir, "cache", "", "keep a successful episode's actions in `DIR` and replay them on a rerun of the task without asking the policy while the pages match (see docs/automation.md)")
}

// validate checks the flags together, before anything starts.
func (f *runFlags) validate() error {
	if err := f.model.validate(); err != nil {
		return err
	}
	if err := f.obs.validate(); err != nil {
		return err
	}
	if err := f.human.validate(1); err != nil {
		return err
	}
	if f.model.spec != "" {
		switch {
		case f.policySet:
			return usagef("--model and --policy are exclusive: --model makes the model the policy")
		case f.actions != "":
			return usagef("--actions is for --policy replay, not --model")
		}
		f.policy.val = "model"
	}
	if f.robot.env != "web" {
		if f.suite != "" && f.suite != f.robot.env {
			return usagef("--env %s and --suite %s: --env NAME is --suite NAME; give one", f.robot.env, f.suite)
		}
		f.suite = f.robot.env
	}
	if f.suite == "" && f.url == "" && f.serve == "" && strings.HasSuffix(f.actions, ".jsonl") {
		if err := f.fromTrajectory(); err != nil {
			return err
		}
	}
	if f.taskFile.file != "" || f.taskFile.judge != "" || f.taskFile.judgeBaseURL != "" {
		reg, err := f.taskFile.registry(&f.suite)
		if err != nil {
			return err
		}
		if f.suite == "" {
			return usagef("--judge is for a task file's tasks: give --tasks FILE")
		}
		f.reg = reg
	}
	if f.suite != "" {
		return f.validateSuite()
	}
	if f.split != "" || f.engine != "" || len(f.params) > 0 {
		return usagef("--split, --engine and --param are for --suite")
	}
	if f.human.openNet {
		return usagef("--open-network is for --suite: a page run loads from anywhere unless --allow-domain restricts it")
	}
	if err := f.plan.validate(pageDef(), ""); err != nil {
		return err
	}
	if f.robot.port != "" || f.robot.calibration != "" || f.robot.camera != "" || f.robot.images || f.robot.maxRelativeSet {
		return usagef("--port, --calibration, --camera, --images and --max-relative-target are for a robot suite: --suite robot:pick (or --env robot:pick)")
	}
	switch {
	case f.policy.val == "model":
	case f.policy.val == "expert" || f.policy.val == "plan" || strings.HasPrefix(f.policy.val, "nn:"):
		return usagef("--policy %s plays a suite's task: give --suite NAME (see pilot suites), or use --policy replay or random on a page", f.policy.val)
	case f.policy.val == "replay" && f.actions == "":
		return usagef("--policy replay needs --actions FILE (one action a line, such as click(\"3\")); or use --policy random")
	case f.policy.val != "replay" && f.actions != "":
		return usagef("--actions is for --policy replay, not %s", f.policy.val)
	case f.maxSteps < 0:
		return usagef("--max-steps %d: want 0 (no limit) or more", f.maxSteps)
	case f.maxTime < 0:
		return usagef("--max-time %s: want 0 (no limit) or more", f.maxTime)
	case f.stepTimeout < 0:
		return usagef("--step-timeout %s: want 0 (no limit) or more", f.stepTimeout)
	}
	if f.browser != "" && !hasAnyPrefix(f.browser, "ws://", "wss://", "http://") {
		return usagef("--browser %q: want ws://host:port/devtools/browser/… or http://host:port", f.browser)
	}
	if f.serve != "" {
		if fi, err := os.Stat(f.serve); err != nil || !fi.IsDir() {
			return usagef("--serve %q: want a directory to serve", f.serve)
		}
	}
	return checkStartURL(f.url, f.serve != "")
}

func hasAnyPrefix(s string, prefixes ...string) bool {
	return slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(s, p) })
}

// checkStartURL accepts an absolute http(s) or file URL, or a path when a
// directory is served.
func checkStartURL(raw string, serving bool) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return &usageError{fmt.Errorf("--url: %w", err)}
	}
	switch {
	case u.Scheme == "http" || u.Scheme == "https":
		if u.Host == "" {
			return usagef("--url %q has no host", raw)
		}
	case u.Scheme == "file":
	case startsWithPort(u.Opaque): // host:port/path
		return usagef("--url %q: want an http, https or file URL, such as http://%s", raw, raw)
	case u.Scheme != "":
		return usagef("--url %q: want an http, https or file URL", raw)
	case u.Host != "":
		return usagef("--url %q: give the scheme, such as http://%s", raw, strings.TrimPrefix(raw, "//"))
	case !serving:
		return usagef("--url %q is not an absolute URL: give one such as https://example.com, or serve a directory with --serve DIR", raw)
	}
	return nil
}

// startsWithPort reports whether s (a URL's opaque part, after "host:")
// starts with a port number.
func startsWithPort(s string) bool {
	port, _, _ := strings.Cut(s, "/")
	_, err := strconv.ParseUint(port, 10, 16)
	return err == nil
}

// runResult is what pilot run --json prints.
type runResult struct {
	Task   string `json:"task"`
	URL    string `json:"url"`
	Policy string `json:"policy"`
	Steps  int    `json:"steps"`
	// CachedSteps are the steps --cache replayed without the policy.
	CachedSteps int     `json:"cached_steps"`
	Terminated  bool    `json:"terminated"`
	Truncated   bool    `json:"truncated"`
	Reason      string  `json:"reason"`
	Reward      float64 `json:"reward"`
	Return      float64 `json:"return"`
	Success     bool    `json:"success"`
	DurationMS  int64   `json:"duration_ms"`
	RecordDir   string  `json:"record_dir"`
	Error       string  `json:"error"`
}

// cached puts p behind the --cache directory.
func (f *runFlags) cached(p policy.Policy) (policy.Policy, error) {
	if f.cacheDir == "" {
		return p, nil
	}
	c, err := cache.New(p, f.cacheDir)
	if err != nil {
		return nil, &usageError{fmt.Errorf("--cache: %w", err)}
	}
	return c, nil
}

func (r *runResult) fill(t *agent.Trajectory) {
	r.Steps = len(t.Steps)
	for _, s := range t.Steps {
		if s.Meta[cache.Key] == cache.Hit {
			r.CachedSteps++
		}
	}
	r.Terminated, r.Truncated, r.Reason = t.Terminated, t.Truncated, t.Reason
	r.Reward, r.Return, r.Success = t.Reward, t.Return, t.Success
	r.DurationMS = t.Duration.Milliseconds()
}

// run runs the episode and reports it: step lines on stdout (stderr with
// --json), and with --json the result object on stdout, error or not.
func (f *runFlags) run(ctx context.Context, stdout, stderr io.Writer) error {
	log := stdout
	if f.json {
		log = stderr
	}
	res := &runResult{Task: f.task, URL: f.url, Policy: f.policy.val, RecordDir: f.record}
	if f.model.spec != "" {
		res.Policy = f.model.name()
	}
	hu, stop, err := f.human.open(f.stdin, stderr)
	if err == nil {
		f.humanAnswers = hu
		err = f.episode(ctx, res, log, stderr)
		err = joinErr(err, "stop the question page", stop())
	}
	if err != nil {
		res.Error = err.Error()
	}
	if !f.json {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	if jerr := enc.Encode(res); jerr != nil {
		err = errors.Join(err, fmt.Errorf("write the result: %w", jerr))
	}
	return err
}

// pageDef is what the planner flags know of a page of --url: no suite,
// so no proposer or value of its own (--value oracle or judge). Chromium
// replays a page's snapshots.
func pageDef() evals.Def { return evals.Def{} }

// episode starts the file server and the browser, runs the episode and
// closes them again (the browser first), filling in res.
func (f *runFlags) episode(ctx context.Context, res *runResult, log, stderr io.Writer) (err error) {
	if f.suite != "" {
		return f.suiteEpisode(ctx, res, log, stderr)
	}
	p, err := f.makePolicy(ctx, stderr)
	if err != nil {
		return err
	}
	f.plan.seed = f.seed
	if p, err = f.plan.planOver(pageDef(), p, 0); err != nil {
		return err
	}
	if p, err = f.human.unsureOver(pageDef(), p); err != nil {
		return err
	}
	if p, err = f.cached(p); err != nil {
		return err
	}
	task := env.Task{Instruction: f.task, Answer: f.answer, Seed: f.seed, StartURL: f.url}
	if f.replayed != nil {
		task = *f.replayed // the recording's task, from where it started
	}
	var srv *fileServer
	if f.serve != "" {
		if srv, err = serveDir(f.serve); err != nil {
			return err
		}
		defer func() { err = joinErr(err, "", srv.Close()) }()
		task.StartURL = resolveURL(srv.url, f.url)
	}
	secrets, err := f.human.loadSecrets()
	if err != nil {
		return err
	}
	we, err := web.New(f.webOptions(stderr))
	if err != nil {
		return fmt.Errorf("start the browser: %w", err)
	}
	e := f.human.wrap(we, secrets, f.allowDomains)
	defer func() { err = joinErr(err, "close the browser", e.Close()) }()
	if srv != nil {
		fmt.Fprintf(log, "serving %s at %s\n", f.serve, srv.url)
	}
	res.URL = task.StartURL
	traj, err := agent.Run(ctx, e, task, p, f.agentOptions(log))
	return f.report(traj, err, res, log)
}

// report fills res from the episode and says where it was recorded.
func (f *runFlags) report(traj *agent.Trajectory, err error, res *runResult, log io.Writer) error {
	res.fill(traj)
	if err != nil {
		return fmt.Errorf("run the episode: %w", err)
	}
	if f.record != "" {
		fmt.Fprintf(log, "recorded %s\n", filepath.Join(f.record, agent.TrajectoryFile))
	}
	return nil
}

// joinErr adds the error of a deferred close to err.
func joinErr(err error, what string, cerr error) error {
	if cerr == nil {
		return err
	}
	if what != "" {
		cerr = fmt.Errorf("%s: %w", what, cerr)
	}
	return errors.Join(err, cerr)
}

// resolveURL resolves the --url reference against the served base URL.
func resolveURL(base, ref string) string {
	if ref == "" {
		ref = "/"
	}
	b, err := url.Parse(base)
	if err != nil {
		return ref
	}
	r, err := url.Parse(ref)
	if err != nil {
		return ref
	}
	return b.ResolveReference(r).String()
}

// makePolicy returns the policy of the flags: the model's, or newPolicy's.
func (f *runFlags) makePolicy(ctx context.Context, stderr io.Writer) (policy.Policy, error) {
	if f.model.spec == "" {
		return f.newPolicy()
	}
	f.model.stepTimeout = f.stepTimeout
	m, err := f.model.open(ctx, stderr)
	if err != nil {
		return nil, fmt.Errorf("open the model: %w", err)
	}
	return f.model.policy(m, f.seed), nil
}

func (f *runFlags) newPolicy() (policy.Policy, error) {
	if f.policy.val == "random" {
		return policy.Random(f.seed), nil
	}
	acts, err := readActions(f.actions)
	if err != nil {
		return nil, fmt.Errorf("replay policy: %w", err)
	}
	return policy.Replay(acts), nil
}

// readActions reads an actions file, or the actions of a recorded
// trajectory (a .jsonl file that `pilot run --record` wrote), to replay it.
func readActions(path string) ([]env.Action, error) {
	if !strings.HasSuffix(path, ".jsonl") {
		return policy.ReadActionsFile(path)
	}
	t, err := readTrajectory(path)
	if err != nil {
		return nil, err
	}
	return t.Actions(), nil
}

func readTrajectory(path string) (*agent.Trajectory, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	t, err := agent.ReadJSONL(fh)
	if err != nil {
		return nil, fmt.Errorf("read trajectory %s: %w", path, err)
	}
	return t, nil
}

func (f *runFlags) webOptions(stderr io.Writer) web.Options {
	o := web.Options{
		BrowserURL:   f.browser,
		Viewport:     web.Size(f.viewport),
		AllowDomains: slices.Clone(f.allowDomains),
		Logger:       slog.New(slog.NewTextHandler(stderr, nil)),
		Obs:          f.obs.options(),
		UploadDir:    f.uploadDir,
	}
	if f.screenshot.val != "none" {
		o.Screenshot = f.screenshot.val
	}
	if f.model.wantsImages() && !f.screenshotSet {
		o.Screenshot = "jpeg" // the model sees the page
	}
	if f.serve != "" && len(o.AllowDomains) > 0 {
		o.AllowDomains = append(o.AllowDomains, "127.0.0.1")
	}
	return o
}

func (f *runFlags) agentOptions(log io.Writer) agent.Options {
	o := agent.Options{
		MaxSteps:    agentMaxSteps(f.maxSteps),
		MaxTime:     f.maxTime,
		StepTimeout: f.stepTimeout,
		PolicyName:  f.policy.val,
		Observers:   []agent.Observer{agent.Progress(log)},
	}
	if f.model.spec != "" {
		o.PolicyName = f.model.name()
		f.model.episodeBudget(&o)
	}
	if o.MaxSteps == 0 {
		o.MaxSteps = -1 // agent: negative is no limit
	}
	if f.verbose {
		o.Observers = append(o.Observers, observationPrinter(log))
	}
	if f.record != "" {
		o.Observers = append(o.Observers, agent.NewRecorder(f.record))
	}
	f.human.apply(&o, f.humanAnswers)
	return o
}

// observationPrinter prints the text of each observation, indented, after
// the step's line.
func observationPrinter(w io.Writer) agent.Observer {
	return agent.ObserverFunc(func(_ context.Context, ev agent.Event) error {
		if ev.Obs == nil {
			return nil
		}
		var b strings.Builder
		b.WriteString("  observation")
		if ev.Kind == agent.EventReset {
			b.WriteString(" after reset")
		}
		b.WriteString(":\n")
		for line := range strings.Lines(ev.Obs.Text) {
			if line = strings.TrimRight(line, "\r\n"); line != "" {
				b.WriteString("    " + line)
			}
			b.WriteByte('\n')
		}
		_, err := io.WriteString(w, b.String())
		return err
	})
}

// agentMaxSteps turns --max-steps (0: no limit) into agent.Options.MaxSteps
// (0: the default, negative: no limit).
func agentMaxSteps(n int) int {
	if n == 0 {
		return -1
	}
	return n
}
