package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pilotkit/pilot/evals"
	"github.com/pilotkit/pilot/evals/suites"
)

type trainFlags struct {
	env, algo, out, plot, from string
	steps, demos               int
	traces                     []string
	seed                       int64
	checkpointEvery            int
	klCoef                     float64
	klSet                      bool
	json                       bool
}

func newTrainCmd() *cobra.Command {
	f := &trainFlags{}
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Train a small neural policy with PPO or behaviour cloning",
		Long: `Train a small neural policy on a CPU: PPO (CleanRL's ppo.py, detail for
detail) or behaviour cloning from a scripted expert.

The run directory (default runs/train-<env>-<time>) gets:
  metrics.jsonl, metrics.csv   one line per update: return, greedy return,
                               entropy, approximate KL, clip fraction,
                               explained variance, gradient norm, advantages
  policy.nn                    the trained policy (pilot eval --policy nn:DIR/policy.nn)
  checkpoints/update-N.nn      every --checkpoint-every updates
  curves.png                   return, entropy, KL and explained variance over steps

Suites that pilot trains on:
` + describeLearners(suites.Builtin()) + `
The shop (--env shop): the scripted expert plays the train split in a
browser without JavaScript (env/web/lite, the shop's pages in-process with
Chromium's observations); behaviour cloning fits a scorer over each page's
candidate actions to its choices (bc.nn); --algo ppo then fine-tunes it
with a KL penalty to the clone. Both are evaluated on the test split (the
one pilot eval --suite shop plays); --json gives shop_start_test and
shop_ppo_test.

Progress goes to stderr; with --json, stdout gets a summary: steps to solve,
the final greedy return (the shop: the test success rate), wall time,
steps per second.`,
		Example: `  pilot train --env cartpole
  pilot train --env cartpole --algo bc
  pilot train --env shop --demos 30 --out runs/shop30
  pilot train --env cartpole --steps 300000 --seed 3 --out runs/cp3 --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.klSet = cmd.Flags().Changed("kl-coef")
			l, err := f.validate(suites.Builtin())
			if err != nil {
				return err
			}
			return f.run(cmd.Context(), l, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.env, "env", "cartpole", "the suite to learn: "+learnerNames(suites.Builtin()))
	fs.StringVar(&f.algo, "algo", "", "ppo, or bc (behaviour cloning from the suite's scripted expert; on the shop, ppo clones first, then fine-tunes); default the suite's first")
	fs.IntVar(&f.steps, "steps", 0, "env steps of PPO (default: the env's budget: 150,000 for cartpole, 30,000 for shop)")
	fs.Int64Var(&f.seed, "seed", 1, "seed of the networks, the envs and the sampling: the same seed gives the same run")
	fs.StringVar(&f.out, "out", "", "the run `DIR` (default runs/train-<env>-<YYYYmmdd-HHMMSS>)")
	fs.StringVar(&f.plot, "plot", "curves.png", "the plot's file name in the run directory: .png or .svg")
	fs.StringVar(&f.from, "from", "", "start from this saved policy `FILE` (fine-tuning)")
	fs.Float64Var(&f.klCoef, "kl-coef", 0, "with --from: penalise the KL divergence to the starting policy by this coefficient")
	fs.IntVar(&f.demos, "demos", 0, "shop: clone the expert's episodes on the first N train tasks (0: all 700)")
	fs.StringArrayVar(&f.traces, "traces", nil, "shop: also clone the successful episodes of this run `DIR` (a pilot eval on the train split, such as with --planner bfs): expert iteration (repeatable)")
	fs.IntVar(&f.checkpointEvery, "checkpoint-every", 10, "save the policy every N updates (0: never)")
	fs.BoolVar(&f.json, "json", false, "print a JSON summary on stdout")
	return cmd
}

func (f *trainFlags) validate(reg *evals.Registry) (*evals.Learner, error) {
	d, err := reg.Find(f.env)
	if err != nil {
		return nil, &usageError{err}
	}
	l := d.Learn
	if l == nil {
		return nil, usagef("--env %s: pilot does not train on it; it trains %s", f.env, learnerNames(reg))
	}
	if f.algo == "" {
		f.algo = l.Algos[0]
	}
	switch {
	case !slicesContains(l.Algos, f.algo):
		return nil, usagef("--algo %q: %s trains with %s", f.algo, f.env, strings.Join(l.Algos, " or "))
	case len(f.traces) > 0 && !l.Demos:
		return nil, usagef("--traces clones a run's episodes, for suites that clone demonstrations (%s)", demoNames(reg))
	case len(f.traces) > 0 && f.from != "":
		return nil, usagef("--traces adds to the cloned demonstrations; --from starts from a saved policy instead: give one")
	case f.demos < 0 || f.demos > 0 && !l.Demos:
		return nil, usagef("--demos %d: the number of expert episodes to clone, for suites that clone them (%s)", f.demos, demoNames(reg))
	case f.steps < 0:
		return nil, usagef("--steps %d: want 0 (the default) or more", f.steps)
	case f.checkpointEvery < 0:
		return nil, usagef("--checkpoint-every %d: want 0 (never) or more", f.checkpointEvery)
	case f.klCoef < 0 || math.IsNaN(f.klCoef):
		return nil, usagef("--kl-coef %v: want 0 or more", f.klCoef)
	case f.klCoef > 0 && f.from == "" && !l.Demos:
		return nil, usagef("--kl-coef needs --from: the KL is to the starting policy")
	}
	if ext := strings.ToLower(filepath.Ext(f.plot)); ext != ".png" && ext != ".svg" {
		return nil, usagef("--plot %q: want a .png or .svg file name", f.plot)
	}
	return l, nil
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// learnerNames lists the suites pilot trains on.
func learnerNames(reg *evals.Registry) string {
	var names []string
	for _, d := range reg.All() {
		if d.Learn != nil {
			names = append(names, d.Name)
		}
	}
	return strings.Join(names, ", ")
}

func demoNames(reg *evals.Registry) string {
	var names []string
	for _, d := range reg.All() {
		if d.Learn != nil && d.Learn.Demos {
			names = append(names, d.Name)
		}
	}
	return strings.Join(names, ", ")
}

func describeLearners(reg *evals.Registry) string {
	var b strings.Builder
	for _, d := range reg.All() {
		if d.Learn != nil {
			fmt.Fprintf(&b, "  %-12s %s (--algo %s)\n", d.Name, d.Learn.Doc, strings.Join(d.Learn.Algos, "|"))
		}
	}
	return b.String()
}

// run trains and prints the summary: a few lines, or with --json one
// object with the suite's own figures (success_fast, shop_ppo_test, …)
// beside the common ones.
func (f *trainFlags) run(ctx context.Context, l *evals.Learner, stdout, stderr io.Writer) error {
	dir := f.out
	if dir == "" {
		dir = filepath.Join("runs", fmt.Sprintf("train-%s-%s", strings.ReplaceAll(f.env, ":", "-"), time.Now().Format("20060102-150405")))
	}
	res, err := l.Train(ctx, evals.TrainOptions{
		Algo: f.algo, Steps: f.steps, Seed: f.seed, Dir: dir, Plot: f.plot, From: f.from,
		KLCoef: f.klCoef, KLSet: f.klSet, Demos: f.demos, Traces: f.traces, CheckpointEvery: f.checkpointEvery, Progress: stderr,
	})
	if err != nil {
		return err
	}
	if f.json {
		b, err := json.Marshal(res)
		if err != nil {
			return err
		}
		sum := map[string]any{}
		if err := json.Unmarshal(b, &sum); err != nil {
			return err
		}
		for k, v := range res.Figures {
			sum[k] = v
		}
		sum["env"], sum["algo"], sum["dir"] = f.env, f.algo, dir
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		return enc.Encode(sum)
	}
	line := res.Summary
	if line == "" {
		solved := "not solved"
		if res.StepsToSolve > 0 {
			solved = fmt.Sprintf("solved at %d steps", res.StepsToSolve)
		}
		line = fmt.Sprintf("%s %s: %s; greedy return %.1f", f.env, f.algo, solved, res.FinalGreedy)
	}
	fmt.Fprintf(stdout, "%s; %d steps in %.1fs (%.0f steps/s)\npolicy %s\n", line, res.Steps, res.WallSeconds, res.StepsPerSec, res.Policy)
	if res.Plot != "" {
		fmt.Fprintf(stdout, "plot %s\n", res.Plot)
	}
	return nil
}
