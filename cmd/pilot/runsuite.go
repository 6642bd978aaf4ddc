package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"strings"

	"github.com/pilotkit/pilot/agent"
	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/evals"
	"github.com/pilotkit/pilot/evals/suites"
	"github.com/pilotkit/pilot/policy"
)

// registry holds the suites pilot run --suite names: pilot's own, and
// the task file's.
func (f *runFlags) registry() *evals.Registry {
	if f.reg != nil {
		return f.reg
	}
	return suites.Builtin()
}

// validateSuite checks the flags of pilot run --suite.
func (f *runFlags) validateSuite() error {
	d, err := f.registry().Find(f.suite)
	if err != nil {
		return &usageError{err}
	}
	if err := f.plan.validate(d, f.engine); err != nil {
		return err
	}
	switch {
	case f.url != "" || f.serve != "" || f.answer != "":
		return usagef("--url, --serve and --answer are for a page; a suite's task (--suite %s) brings its own", f.suite)
	case f.maxSteps < 0 || f.maxTime < 0 || f.stepTimeout < 0:
		return usagef("--max-steps, --max-time and --step-timeout must be 0 (no limit) or more")
	case f.browser != "" && !hasAnyPrefix(f.browser, "ws://", "wss://", "http://"):
		return usagef("--browser %q: want ws://host:port/devtools/browser/… or http://host:port", f.browser)
	}
	if !f.maxStepsSet && d.MaxSteps != 0 {
		f.maxSteps = max(d.MaxSteps, 0) // 0: no limit
	}
	if !f.seedSet {
		f.seed = 1 // pilot eval's: the same tasks
	}
	if !f.policySet && f.model.spec == "" {
		f.policy.val = d.Policy
		if f.actions != "" {
			f.policy.val = "replay"
		}
	}
	if f.policy.val == "replay" && f.actions == "" {
		return usagef("--policy replay needs --actions FILE; suite %s's own policy is %s", d.Name, d.Policy)
	}
	if f.policy.val != "replay" && f.actions != "" {
		return usagef("--actions is for --policy replay, not %s", f.policy.val)
	}
	o := f.suiteOptions()
	if err := d.Check(&o); err != nil {
		return &usageError{err}
	}
	return nil
}

func (f *runFlags) suiteOptions() evals.LoadOptions {
	o := evals.LoadOptions{Split: f.split, Engine: f.engine, Seed: f.seed, PolicySeed: f.seed, BrowserURL: f.browser, Port: f.robot.port, OpenNetwork: f.human.openNet, Obs: f.obs.options()}
	o.MaxSteps, o.MaxTime = f.maxSteps, f.maxTime
	o.Params = f.robot.params(maps.Clone(f.params))
	if f.screenshot.val != "none" {
		o.Screenshot = f.screenshot.val
	}
	if f.robot.images && o.Screenshot == "" {
		o.Screenshot = "jpeg" // the camera frame
	}
	if f.model.wantsImages() && !f.screenshotSet && o.Engine != evals.EngineLite {
		o.Screenshot = "jpeg" // the model sees the page or the camera
	}
	return o
}

// suiteEpisode plays one task of a registered suite.
func (f *runFlags) suiteEpisode(ctx context.Context, res *runResult, log, stderr io.Writer) (err error) {
	d, err := f.registry().Find(f.suite)
	if err != nil {
		return &usageError{err}
	}
	o := f.suiteOptions()
	o.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if o.Judge, err = f.taskFile.openJudge(ctx, stderr); err != nil {
		return err
	}
	if o.Secrets, err = f.human.loadSecrets(); err != nil {
		return err
	}
	l, err := d.Open(ctx, o)
	if err != nil {
		return err
	}
	if l.Close != nil {
		defer func() { err = joinErr(err, "", l.Close()) }()
	}
	var p policy.Policy
	var task env.Task
	if f.task == "" {
		if len(l.Suite.Tasks) == 0 {
			return fmt.Errorf("suite %s has no tasks", l.Suite.Name)
		}
		task = l.Suite.Tasks[0]
	} else if task, err = l.Task(f.task); err != nil {
		return &usageError{err}
	}
	switch {
	case f.model.spec != "" || f.policy.val == "replay":
		if p, err = f.makePolicy(ctx, stderr); err != nil {
			return err
		}
	default:
		np, err := resolvePolicy(d, l, f.policy.val, f.seed)
		if err != nil {
			return err
		}
		if p, err = np(task); err != nil {
			return err
		}
	}
	f.plan.seed = f.seed
	if p, err = f.plan.planOver(d, p, 0); err != nil {
		return err
	}
	if p, err = f.human.unsureOver(d, p); err != nil {
		return err
	}
	if p, err = f.cached(p); err != nil {
		return err
	}
	res.Task, res.URL = task.ID, task.StartURL
	fmt.Fprintf(log, "%s %s: %s\n", l.Suite.Name, task.ID, oneLineClip(task.Instruction, 200))
	secrets, err := f.human.loadSecrets()
	if err != nil {
		return err
	}
	e, err := f.human.wrapEnv(secrets, nil, l.NewEnv)(ctx, 0)
	if err != nil {
		return err
	}
	defer func() { err = joinErr(err, "close the env", e.Close()) }()
	traj, err := agent.Run(ctx, e, task, p, f.agentOptions(log))
	return f.report(traj, err, res, log)
}

// fromTrajectory makes --actions FILE.jsonl start where the recording
// started: the suite's task when it came from a registered suite
// (Task.Suite "shop/test"), otherwise its start URL and instruction.
func (f *runFlags) fromTrajectory() error {
	t, err := readTrajectory(f.actions)
	if err != nil {
		return &usageError{fmt.Errorf("--actions: %w", err)}
	}
	name, split, _ := strings.Cut(t.Task.Suite, "/")
	if _, ok := suites.Builtin().Lookup(name); ok && t.Task.ID != "" && f.task == "" {
		f.suite, f.task = name, t.Task.ID
		if f.split == "" {
			f.split = split
		}
		return nil
	}
	if f.task == "" {
		task := t.Task
		f.replayed = &task
		f.url = task.StartURL
	}
	return nil
}

// oneLineClip is s on one line, cut to n bytes at most.
func oneLineClip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}
