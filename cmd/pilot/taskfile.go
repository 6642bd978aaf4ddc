package main

import (
	"context"
	"io"
	"log/slog"

	"github.com/spf13/pflag"

	"github.com/pilotkit/pilot/evals"
	"github.com/pilotkit/pilot/evals/suites"
	"github.com/pilotkit/pilot/policy"
	"github.com/pilotkit/pilot/policy/models"
)

// taskFileFlags are --tasks and --judge: a task file as a suite, and the
// model that judges its fuzzy answers.
type taskFileFlags struct {
	file, judge, judgeBaseURL string
}

func (t *taskFileFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&t.file, "tasks", "", "run the tasks of this task `FILE` (JSON Lines, or YAML; docs/tasks.md) as a suite, instead of --suite")
	fs.StringVar(&t.judge, "judge", "", "the `PROVIDER:MODEL` that judges a task file's fuzzy answers (as --model)")
	fs.StringVar(&t.judgeBaseURL, "judge-base-url", "", "the judge model API's `URL` (as --base-url)")
}

// registry returns pilot's suites, with the task file's when one is
// given; suite is then the file's suite name. --tasks and --suite are
// exclusive.
func (t *taskFileFlags) registry(suite *string) (*evals.Registry, error) {
	reg := suites.Builtin()
	if t.judge == "" && t.judgeBaseURL != "" {
		return nil, usagef("--judge-base-url is for --judge")
	}
	if t.file == "" {
		if t.judge != "" {
			return nil, usagef("--judge is for a task file's tasks: give --tasks FILE")
		}
		return reg, nil
	}
	d, err := suites.TaskFile(t.file)
	if err != nil {
		return nil, &usageError{err}
	}
	switch *suite {
	case "", d.Name:
	default:
		return nil, usagef("--tasks and --suite %s are exclusive: a task file is the suite", *suite)
	}
	if err := reg.Register(d); err != nil {
		return nil, err
	}
	*suite = d.Name
	return reg, nil
}

// openJudge opens the judge model, nil without --judge.
func (t *taskFileFlags) openJudge(ctx context.Context, stderr io.Writer) (policy.Model, error) {
	if t.judge == "" {
		return nil, nil
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	m, err := models.Open(ctx, t.judge, models.Options{BaseURL: t.judgeBaseURL, Prices: policy.DefaultPrices(), Retry: policy.RetryOptions{Attempts: 3, Logger: log}, Logger: log, Check: true})
	if err != nil {
		return nil, usagef("--judge %s: %v", t.judge, err)
	}
	return m, nil
}
