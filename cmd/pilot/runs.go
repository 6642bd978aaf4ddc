package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/pilotkit/pilot/evals"
	"github.com/pilotkit/pilot/evals/runstore"
)

func newRunsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "runs",
		Short: "List, show and export the runs that pilot eval stored",
		Long: `Every pilot eval keeps its run in a SQLite database in its run directory
(RUNDIR/run.db): how to reproduce it, the planned episodes, every attempt and
result, the steps. These commands read it; none of them changes a run.`,
		Args: noArgs,
	}
	cmd.AddCommand(newRunsLsCmd(), newRunsShowCmd(), newRunsExportCmd(), newRunsCompareCmd(), newRunsMergeCmd())
	return cmd
}

// runRow is a line of pilot runs ls (and an element of its --json).
type runRow struct {
	Dir         string    `json:"dir"`
	Suite       string    `json:"suite"`
	Policy      string    `json:"policy"`
	Engine      string    `json:"engine"`
	Planned     int       `json:"planned"`
	Finished    int       `json:"finished"`
	State       string    `json:"state"`
	Started     time.Time `json:"started"`
	Interrupted bool      `json:"interrupted"`
}

func newRunsLsCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "ls [DIR]",
		Short: "List the runs under DIR (default runs), newest first",
		Example: `  pilot runs ls
  pilot runs ls runs --json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			root := "runs"
			if len(args) == 1 {
				root = args[0]
			}
			rows, err := listRuns(cmd, root)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return json.NewEncoder(out).Encode(map[string]any{"runs": rows})
			}
			if len(rows) == 0 {
				_, err := fmt.Fprintf(out, "no runs in %s: pilot eval --suite NAME makes one\n", root)
				return err
			}
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "run\tsuite\tpolicy\tengine\tepisodes\tstate\tstarted")
			for _, r := range rows {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d/%d\t%s\t%s\n", r.Dir, r.Suite, r.Policy, r.Engine, r.Finished, r.Planned, r.State, r.Started.Local().Format("2006-01-02 15:04"))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, `print {"runs": [...]} as one JSON object`)
	return cmd
}

// listRuns reads every run directory right under root; a directory that
// holds no readable run is named on stderr and skipped.
func listRuns(cmd *cobra.Command, root string) ([]runRow, error) {
	entries, err := os.ReadDir(root)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil // no runs yet
	}
	if err != nil {
		return nil, fmt.Errorf("runs: %w", err)
	}
	var rows []runRow
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(root, e.Name())
		db, err := runstore.Open(dir)
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) || fileExists(filepath.Join(dir, evals.ResultsFile)) {
				fmt.Fprintf(cmd.ErrOrStderr(), "skipping %s: %v\n", dir, err)
			}
			continue
		}
		st, err := db.Status(cmd.Context())
		m := db.Manifest()
		db.Close()
		if err != nil {
			fmt.Fprintf(cmd.ErrOrStderr(), "skipping %s: %v\n", dir, err)
			continue
		}
		rows = append(rows, runRow{Dir: dir, Suite: m.Suite, Policy: m.Policy, Engine: m.Engine, Planned: st.Planned, Finished: st.Finished,
			State: runState(st), Started: st.Started, Interrupted: st.Interrupted})
	}
	slices.SortStableFunc(rows, func(a, b runRow) int { return b.Started.Compare(a.Started) })
	return rows, nil
}

// runState is complete, interrupted (resume it), or running (no process
// ended it: it runs, or was killed).
func runState(st runstore.Status) string {
	switch {
	case st.Finished == st.Planned:
		return "complete"
	case st.Ended:
		return "interrupted"
	}
	return "running or killed"
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func newRunsShowCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show RUNDIR",
		Short: "Print a run's table and how it was made",
		Example: `  pilot runs show runs/shop-test-20261203-120000
  pilot runs show runs/shop-test-20261203-120000 --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := runstore.Open(args[0])
			if err != nil {
				return err
			}
			defer db.Close()
			rep, err := db.Report(cmd.Context())
			if err != nil {
				return err
			}
			st, err := db.Status(cmd.Context())
			if err != nil {
				return err
			}
			m := db.Manifest()
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetEscapeHTML(false)
				return enc.Encode(rep)
			}
			if err := rep.WriteTable(out); err != nil {
				return err
			}
			model := ""
			if m.Model != "" {
				model = ", model " + m.Model
			}
			_, err = fmt.Fprintf(out, "state %s; policy %s%s, seed %d, policy seed %d, engine %s; pilot %s (%s), %s, %s\n",
				runState(st), m.Policy, model, m.Seed, m.PolicySeed, m.Engine, m.Pilot, orDash(m.Commit), m.Go, m.OS)
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as one JSON object")
	return cmd
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newRunsExportCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "export RUNDIR",
		Short: "Write a run's final results as JSON lines (for pandas, jq)",
		Long: `Write the final result of every episode of a run as one JSON object a
line, in planned order, on stdout or into --out: the results.jsonl of earlier
pilots. pandas reads it with pd.read_json(path, lines=True).`,
		Example: `  pilot runs export runs/shop-test-20261203-120000 > results.jsonl
  pilot runs export runs/shop-test-20261203-120000 --out results.jsonl`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			db, err := runstore.Open(args[0])
			if err != nil {
				return err
			}
			defer db.Close()
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
			return db.ExportJSONL(w)
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "write to `FILE` instead of stdout")
	return cmd
}

func newRunsCompareCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "compare RUN_A RUN_B",
		Short: "Compare two runs episode by episode: who succeeded, the paired difference and McNemar's exact test",
		Long: `Pair the episodes of two runs of the same tasks (by episode: task id and
repeat) that both scored, and print how many each run alone succeeded at,
the success rates over the pairs, their difference (B − A) and McNemar's
exact two-sided p-value: the chance of a split of the discordant episodes at
least this uneven if the two were as good. Errors and episodes that only one
run has are left out, and counted.`,
		Example: `  pilot runs compare runs/expert runs/nn
  pilot runs compare runs/expert runs/nn --json`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var rs [2][]evals.Result
			var ms [2]evals.Manifest
			for i, dir := range args {
				db, err := runstore.Open(dir)
				if err != nil {
					return err
				}
				rs[i], err = db.Results()
				ms[i] = db.Manifest()
				db.Close()
				if err != nil {
					return err
				}
			}
			c := evals.Compare(rs[0], rs[1])
			out := cmd.OutOrStdout()
			if asJSON {
				return json.NewEncoder(out).Encode(c)
			}
			if ms[0].Suite != ms[1].Suite {
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: the runs are of different suites (%s, %s)\n", ms[0].Suite, ms[1].Suite)
			}
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "run\tpolicy\tsuccess (paired)\tonly this run")
			fmt.Fprintf(tw, "A %s\t%s\t%s (%d/%d)\t%d\n", args[0], ms[0].Policy, evals.Percent(c.RateA), c.Both+c.OnlyA, c.Paired, c.OnlyA)
			fmt.Fprintf(tw, "B %s\t%s\t%s (%d/%d)\t%d\n", args[1], ms[1].Policy, evals.Percent(c.RateB), c.Both+c.OnlyB, c.Paired, c.OnlyB)
			if err := tw.Flush(); err != nil {
				return err
			}
			_, err := fmt.Fprintf(out, "B − A: %+.1f points over %d paired episodes; McNemar exact p = %.3g (%d discordant); %d unpaired\n",
				100*c.Diff, c.Paired, c.P, c.OnlyA+c.OnlyB, c.Unpaired)
			for _, k := range c.OnlyAKeys {
				fmt.Fprintf(out, "  only A: %s\n", k)
			}
			for _, k := range c.OnlyBKeys {
				fmt.Fprintf(out, "  only B: %s\n", k)
			}
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the comparison as one JSON object")
	return cmd
}

func newRunsMergeCmd() *cobra.Command {
	var into string
	cmd := &cobra.Command{
		Use:   "merge SHARD_RUN... --into RUNDIR",
		Short: "Join the runs of a study's shards (pilot eval --shard I/N) into one run",
		Long: `Join the run directories of every shard of one study (pilot eval --shard
I/N, each finished) into a new run directory: the planned episodes in the
study's order, every result, attempt and step, and the trajectories. Shards of
different studies, a missing or repeated shard, an unfinished one, and an
--into that holds a run are refused, and nothing is written. The shards of a
grid (pilot eval --grid … --shard I/N, each a directory of cell runs and
its grid.json) are merged cell by cell into --into/<cell>; a shard that
lacks a planned cell is refused, and nothing is written.`,
		Example: `  pilot runs merge runs/s1 runs/s2 runs/s3 --into runs/study
  pilot runs merge runs/grid-s1 runs/grid-s2 --into runs/grid   # the shards of a --grid, cell by cell`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if into == "" {
				return usagef("--into RUNDIR is required: the directory of the merged run")
			}
			cells, err := gridCells(args)
			if err != nil {
				return err
			}
			if cells == nil {
				return mergeInto(cmd, into, args)
			}
			return mergeGrid(cmd, into, args, cells)
		},
	}
	cmd.Flags().StringVar(&into, "into", "", "the merged run's `RUNDIR` (new)")
	return cmd
}

// mergeInto merges the shard runs into a new run and prints its table.
func mergeInto(cmd *cobra.Command, into string, shards []string) error {
	db, err := runstore.Merge(cmd.Context(), into, shards)
	if err != nil {
		return err
	}
	defer db.Close()
	rep, err := db.Report(cmd.Context())
	if err != nil {
		return err
	}
	if err := rep.WriteTable(cmd.OutOrStdout()); err != nil {
		return err
	}
	_, err = fmt.Fprintf(cmd.OutOrStdout(), "merged %d shards into %s\n", len(shards), into)
	return err
}

// mergeGrid merges the shards of a grid cell by cell, into a directory
// beside into that becomes into only when every cell merged: a failure
// leaves nothing behind.
func mergeGrid(cmd *cobra.Command, into string, shards, cells []string) error {
	if _, err := os.Stat(into); err == nil {
		return usagef("--into %s exists: the merged study goes in a new directory", into)
	}
	tmp := into + ".merging"
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}
	fail := func(err error) error {
		_ = os.RemoveAll(tmp)
		return err
	}
	for _, c := range cells {
		dirs := make([]string, len(shards))
		for i, s := range shards {
			dirs[i] = filepath.Join(s, c)
		}
		fmt.Fprintf(cmd.OutOrStdout(), "== cell %s\n", c)
		if err := mergeInto(cmd, filepath.Join(tmp, c), dirs); err != nil {
			return fail(fmt.Errorf("cell %s: %w", c, err))
		}
	}
	plan, err := os.ReadFile(filepath.Join(shards[0], GridPlanFile))
	if err != nil {
		return fail(err)
	}
	if err := os.WriteFile(filepath.Join(tmp, GridPlanFile), plan, 0o644); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, into); err != nil {
		return fail(fmt.Errorf("merge: move the merged study into %s: %w", into, err))
	}
	return nil
}

// gridCells returns the cells of grid studies (pilot eval --grid: a
// directory of cell runs and its plan, grid.json) when every dir is one
// with the same plan and every planned cell ran in each; nil when the
// dirs are runs themselves. A mix, another plan or a missing cell is an
// error.
func gridCells(dirs []string) ([]string, error) {
	isRun := func(d string) bool {
		_, err := os.Stat(filepath.Join(d, runstore.File))
		return err == nil
	}
	var cells []string
	for i, d := range dirs {
		these, isGrid, err := readGridPlan(d)
		switch {
		case err != nil:
			return nil, err
		case !isGrid && isRun(d):
			if cells != nil {
				return nil, usagef("%s is a run and %s a grid study: merge shards of one kind", d, dirs[0])
			}
			continue
		case !isGrid:
			return nil, usagef("%s is neither a run (no %s) nor a grid study (no %s)", d, runstore.File, GridPlanFile)
		case i == 0:
			cells = these
		case cells == nil:
			return nil, usagef("%s is a grid study and %s a run: merge shards of one kind", d, dirs[0])
		case !slices.Equal(cells, these):
			return nil, usagef("the grid studies have other cells: %s has %s, %s has %s", dirs[0], strings.Join(cells, ", "), d, strings.Join(these, ", "))
		}
		for _, c := range these {
			if !isRun(filepath.Join(d, c)) {
				return nil, usagef("grid study %s has no run of its cell %s: finish it first (the same pilot eval command resumes it)", d, c)
			}
		}
	}
	return cells, nil
}
