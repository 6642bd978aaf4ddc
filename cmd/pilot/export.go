package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/evals"
	"github.com/pilotkit/pilot/evals/export"
	"github.com/pilotkit/pilot/evals/runstore"
	"github.com/pilotkit/pilot/evals/suites"
)

func newExportCmd() *cobra.Command {
	var (
		format, out string
		margin      float64
	)
	cmd := &cobra.Command{
		Use:   "export sft|dpo RUNDIR",
		Short: "Write a run's trajectories as fine-tuning data: sft (successful steps) or dpo (preference pairs from searches)",
		Long: `Write fine-tuning data from a run, one JSON object a line, on stdout or into
--out, in the chat formats that Hugging Face TRL's trainers (--format trl, the
default) and OpenAI fine-tuning (--format openai) accept.

  sft  every step of every successful episode whose action did not fail: the
       prompt a text-only model gets at that step (the env's actions, the
       task, the earlier steps, the observation) and the action taken:
       {"messages": [system, user, assistant]}.
  dpo  every searched step of a run with --planner bfs or mcts: the candidate
       the search committed (chosen) against each sibling it valued at least
       --margin lower (rejected), for the same prompt. TRL:
       {"prompt": [...], "chosen": [...], "rejected": [...]}; OpenAI:
       {"input": {"messages": [...]}, "preferred_output": [...],
       "non_preferred_output": [...]}.

Answers read "Action: click(\"3\")", the form pilot's model policy parses,
so a model tuned on the file runs with --model as it is. A count of what was
read and written goes to stderr.`,
		Example: `  pilot export sft runs/shop-test-20261203-120000 --out sft.jsonl
  pilot export dpo runs/shop-test-20261203-120000 --format openai --out dpo.jsonl`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			kind, dir := args[0], args[1]
			if kind != "sft" && kind != "dpo" {
				return usagef("pilot export %q: want sft or dpo", kind)
			}
			if format != export.TRL && format != export.OpenAI {
				return usagef("--format %q: want %s or %s", format, export.TRL, export.OpenAI)
			}
			if !(margin > 0) {
				return usagef("--margin %v: want more than 0", margin)
			}
			spec, err := runSpec(cmd.Context(), dir)
			if err != nil {
				return err
			}
			var w io.Writer = cmd.OutOrStdout()
			if out != "" {
				f, err := os.Create(out)
				if err != nil {
					return err
				}
				defer func() {
					if cerr := f.Close(); err == nil && cerr != nil {
						err = cerr
					}
				}()
				w = f
			}
			o := export.Options{Format: format, Spec: spec, Margin: margin}
			var st export.Stats
			if kind == "sft" {
				st, err = export.SFT(dir, w, o)
			} else {
				st, err = export.DPO(dir, w, o)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%d %s examples from %d of %d episodes", st.Examples, kind, st.Used, st.Episodes)
			if kind == "dpo" {
				fmt.Fprintf(cmd.ErrOrStderr(), " (%d searched steps)", st.Searches)
			}
			if n := st.Missing + st.Unreadable; n > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "; %d trajectories missing or unreadable", n)
			}
			fmt.Fprintln(cmd.ErrOrStderr())
			if st.Examples == 0 {
				why := "no episode succeeded"
				if kind == "dpo" {
					why = "no step has a search tree with siblings valued --margin apart: run pilot eval with --planner bfs or mcts"
				}
				return fmt.Errorf("pilot export %s: nothing to write: %s", kind, why)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", export.TRL, "trl (Hugging Face TRL) or openai (OpenAI fine-tuning)")
	cmd.Flags().StringVar(&out, "out", "", "write to `FILE` instead of stdout")
	cmd.Flags().Float64Var(&margin, "margin", export.DefaultMargin, "dpo: the least value difference between chosen and rejected")
	return cmd
}

// runSpec returns the env spec of the run in dir: its suite's env,
// opened on the cheapest engine the suite has (lite, fast) and closed.
func runSpec(ctx context.Context, dir string) (env.Spec, error) {
	db, err := runstore.Open(dir)
	if err != nil {
		return env.Spec{}, err
	}
	m := db.Manifest()
	db.Close()
	name, _, _ := strings.Cut(m.Suite, "/") // "shop/test"
	d, err := suites.Builtin().Find(name)
	if err != nil {
		return env.Spec{}, fmt.Errorf("run %s: %w", dir, err)
	}
	engine := m.Engine
	for _, cheap := range []string{evals.EngineLite, evals.EngineFast} {
		if slices.Contains(d.Engines, cheap) {
			engine = cheap
			break
		}
	}
	o := evals.LoadOptions{Split: m.Split, Engine: engine, Seed: m.Seed}
	if err := d.Check(&o); err != nil {
		return env.Spec{}, err
	}
	l, err := d.Open(ctx, o)
	if err != nil {
		return env.Spec{}, err
	}
	if l.Close != nil {
		defer l.Close()
	}
	e, err := l.NewEnv(ctx, 0)
	if err != nil {
		return env.Spec{}, err
	}
	defer e.Close()
	return e.Spec(), nil
}
