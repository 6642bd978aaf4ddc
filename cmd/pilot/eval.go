package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/pilotkit/pilot/agent"
	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/evals"
	"github.com/pilotkit/pilot/policy"
)

// evalFlags are the flags of pilot eval.
type evalFlags struct {
	suite, split, policy string
	episodes, workers    int
	seed                 int64
	products             int
	maxSteps             int
	maxTime, stepTimeout time.Duration
	runDir               string
	screenshot           *choiceValue
	browser              string
	engine               string
	json                 bool
	model                modelFlags
	// policySet and screenshotSet say whether the flags were given.
	policySet, screenshotSet bool
	maxStepsSet              bool

	// stderr is where logs go; set by the command before the suite loads.
	stderr io.Writer
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

Every episode's trajectory and result is saved in the run directory, as
each episode ends (default runs/<suite>-<split>-<time>):
  results.jsonl                        one result a line
  episodes/<task-id>/trajectory.jsonl  the episode, step by step (+ images/)
  report.json                          the summary

With --json, stdout gets the summary as one JSON object, as in report.json,
with "error" added when the run failed.

The shop in Chromium plays about 80 episodes a minute on two cores. With
--engine lite it runs in pilot's browser without JavaScript (env/web/lite):
the same pages and the same text observations (tested step by step against
Chromium), no screenshots, about 20,000 episodes a minute.

Suites:
` + describeSuites() + `
Policies:
` + describePolicies() + `
A run that finishes exits 0 whatever its success rate; a run that fails or
is interrupted exits 1 (after printing what finished), bad usage 2.`,
		Example: `  pilot eval --suite shop --engine lite --workers 2
  pilot eval --suite demo --workers 2
  pilot eval --suite demo --policy random --seed 7 --max-steps 10 --json
  pilot eval --suite demo --run-dir runs/try --screenshot jpeg`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.policySet, f.screenshotSet = cmd.Flags().Changed("policy"), cmd.Flags().Changed("screenshot")
			f.maxStepsSet = cmd.Flags().Changed("max-steps")
			s, p, err := f.validate()
			if err != nil {
				return err
			}
			return f.run(cmd.Context(), s, p, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f.register(cmd.Flags())
	return cmd
}

func describeSuites() string {
	var b strings.Builder
	for _, s := range suiteDefs() {
		fmt.Fprintf(&b, "  %-8s %s (splits: %s; default policy: %s)\n", s.name, s.doc, strings.Join(s.splits, ", "), s.policy)
	}
	return b.String()
}

func describePolicies() string {
	var b strings.Builder
	for _, p := range policyDefs() {
		fmt.Fprintf(&b, "  %-8s %s\n", p.name, p.doc)
	}
	return b.String()
}

func (f *evalFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.suite, "suite", "", "the suite to run: "+suiteNames()+" (required)")
	fs.StringVar(&f.split, "split", "test", "the suite's split")
	fs.IntVar(&f.episodes, "episodes", 0, "run the first `N` tasks of the suite (0 for all)")
	fs.IntVar(&f.workers, "workers", 1, "run `N` episodes at once, each worker with its own browser")
	fs.StringVar(&f.policy, "policy", "", "who chooses the actions: "+policyNames()+" (default the suite's)")
	fs.Int64Var(&f.seed, "seed", 1, "seed of the suite (the shop's catalog and tasks) and of random policies")
	fs.IntVar(&f.products, "products", 0, "catalog size of the shop suite (0: the default, 2000)")
	fs.IntVar(&f.maxSteps, "max-steps", agent.DefaultMaxSteps, "end an episode, truncated, after this many steps (0 for no limit; cartpole's default: none)")
	fs.DurationVar(&f.maxTime, "max-time", 0, "end an episode, truncated, after this much wall time (0 for no limit)")
	fs.DurationVar(&f.stepTimeout, "step-timeout", time.Minute, "fail an episode when one policy call or step takes longer (0 for no limit)")
	fs.StringVar(&f.runDir, "run-dir", "", "write the results to `DIR` (default runs/<suite>-<split>-<YYYYmmdd-HHMMSS>); it must not hold a run")
	fs.Var(f.screenshot, "screenshot", "add a screenshot to each observation (and save it): none, png or jpeg")
	fs.StringVar(&f.engine, "engine", "chromium", "the shop's browser: chromium, or lite (pilot's browser without JavaScript: the same text observations, no screenshots, some 250 times the episodes per minute)")
	fs.StringVar(&f.browser, "browser", "", "attach each worker to a running Chrome at `URL` (ws://host:port/devtools/browser/… or http://host:port) instead of launching one")
	fs.BoolVar(&f.json, "json", false, "print the summary as one JSON object on stdout")
	f.model.register(fs, true)
}

// validate checks the flags together and finds the suite and the policy.
func (f *evalFlags) validate() (suiteDef, policyDef, error) {
	var none suiteDef
	if f.suite == "" {
		return none, policyDef{}, usagef("--suite is required: one of %s", suiteNames())
	}
	s, ok := findSuite(f.suite)
	if !ok {
		return none, policyDef{}, usagef("unknown suite %q: want one of %s", f.suite, suiteNames())
	}
	if !slices.Contains(s.splits, f.split) {
		return none, policyDef{}, usagef("suite %s has no split %q: want one of %s", s.name, f.split, strings.Join(s.splits, ", "))
	}
	if !f.maxStepsSet && s.maxSteps != 0 {
		f.maxSteps = max(s.maxSteps, 0) // 0: no limit
	}
	if err := f.model.validate(); err != nil {
		return none, policyDef{}, err
	}
	var p policyDef
	if f.model.spec != "" {
		if f.policySet {
			return none, policyDef{}, usagef("--model and --policy are exclusive: --model makes the model the policy")
		}
		p = policyDef{name: f.model.name()} // new is set once the model is open
	} else {
		if f.policy == "" {
			f.policy = s.policy
		}
		var ok bool
		if strings.HasPrefix(f.policy, "nn:") {
			np, err := nnPolicyDef(f.policy, s.name)
			if err != nil {
				return none, policyDef{}, err
			}
			p = np
		} else if p, ok = findPolicy(f.policy); !ok {
			return none, policyDef{}, usagef("unknown policy %q: want one of %s, or nn:NAME|FILE", f.policy, policyNames())
		}
	}
	switch {
	case f.episodes < 0:
		return none, policyDef{}, usagef("--episodes %d: want 0 (all) or more", f.episodes)
	case f.workers < 1:
		return none, policyDef{}, usagef("--workers %d: want 1 or more", f.workers)
	case f.maxSteps < 0:
		return none, policyDef{}, usagef("--max-steps %d: want 0 (no limit) or more", f.maxSteps)
	case f.maxTime < 0:
		return none, policyDef{}, usagef("--max-time %s: want 0 (no limit) or more", f.maxTime)
	case f.stepTimeout < 0:
		return none, policyDef{}, usagef("--step-timeout %s: want 0 (no limit) or more", f.stepTimeout)
	case f.browser != "" && !hasAnyPrefix(f.browser, "ws://", "wss://", "http://"):
		return none, policyDef{}, usagef("--browser %q: want ws://host:port/devtools/browser/… or http://host:port", f.browser)
	case f.engine != "chromium" && f.engine != "lite":
		return none, policyDef{}, usagef("--engine %q: want chromium or lite", f.engine)
	case f.engine == "lite" && s.name != "shop":
		return none, policyDef{}, usagef("--engine lite plays the shop suite only (suite %s)", s.name)
	case f.engine == "lite" && (f.browser != "" || f.screenshotSet && f.screenshot.val != "none"):
		return none, policyDef{}, usagef("--engine lite has no Chromium: it takes neither --browser nor --screenshot")
	}
	return s, p, nil
}

// evalResult is what pilot eval --json prints: the report, and the error
// when the run failed.
type evalResult struct {
	*evals.Report
	Error string `json:"error,omitempty"`
}

// run loads the suite, runs it and prints the report: the table and the
// run directory on stdout, or with --json the report object.
func (f *evalFlags) run(ctx context.Context, sd suiteDef, pd policyDef, stdout, stderr io.Writer) (err error) {
	f.stderr = stderr
	var budget *agent.Budget
	if f.model.spec != "" {
		m, err := f.model.open(ctx, stderr)
		if err != nil {
			return f.output(stdout, nil, fmt.Errorf("open the model: %w", err))
		}
		pd.new = func(*loadedSuite, *evalFlags, env.Task) (policy.Policy, error) {
			return f.model.policy(m, f.seed), nil
		}
		budget = &agent.Budget{MaxTokens: f.model.maxTokens, MaxCostUSD: f.model.maxCost}
		if f.model.wantsImages() && !f.screenshotSet && f.engine != "lite" {
			f.screenshot.val = "jpeg" // the model sees the page or the camera
		}
	}
	s, err := sd.load(ctx, f)
	if err != nil {
		return f.output(stdout, nil, fmt.Errorf("load suite %s: %w", sd.name, err))
	}
	if s.close != nil {
		defer func() { err = joinErr(err, "", s.close()) }()
	}
	runDir := f.runDir
	if runDir == "" {
		runDir = evals.DefaultRunDir(s.suite.Name, time.Now())
	}
	cfg := evals.Config{
		Workers:  f.workers,
		Episodes: f.episodes,
		NewEnv:   s.newEnv,
		NewPolicy: func(t env.Task) (policy.Policy, error) {
			return pd.new(s, f, t)
		},
		Agent: agent.Options{
			MaxSteps:    agentMaxSteps(f.maxSteps),
			MaxTime:     f.maxTime,
			StepTimeout: f.stepTimeout,
			PolicyName:  pd.name,
			RunBudget:   budget,
		},
		RunDir:   runDir,
		Progress: stderr,
	}
	if cfg.Agent.MaxSteps == 0 {
		cfg.Agent.MaxSteps = -1 // agent: negative is no limit
	}
	rep, err := evals.Run(ctx, s.suite, cfg)
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
