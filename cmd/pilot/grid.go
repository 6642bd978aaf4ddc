package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/pilotkit/pilot/evals"
)

// gridAxis is one --grid NAME=V1,V2 (or NAME=A..B for whole numbers).
type gridAxis struct {
	name   string
	values []string
}

// gridFixed are the flags a grid cannot vary: they say where and how the
// study itself runs.
var gridFixed = map[string]bool{"grid": true, "run-dir": true, "resume": true, "json": true, "verbose": true, "workers": true, "shard": true}

// parseGridAxis reads NAME=V1,V2,… or NAME=A..B.
func parseGridAxis(fs *pflag.FlagSet, s string) (gridAxis, error) {
	name, vals, ok := strings.Cut(s, "=")
	if !ok || name == "" || vals == "" {
		return gridAxis{}, fmt.Errorf("--grid %q: want NAME=V1,V2 or NAME=A..B, such as policy=expert,random or seed=1..3", s)
	}
	if gridFixed[name] || fs.Lookup(name) == nil {
		return gridAxis{}, fmt.Errorf("--grid %s: not a flag a grid can vary (a flag of pilot eval other than %s)", name, strings.Join(slices.Sorted(maps.Keys(gridFixed)), ", "))
	}
	a := gridAxis{name: name}
	if lo, hi, isRange := strings.Cut(vals, ".."); isRange {
		l, err1 := strconv.Atoi(lo)
		h, err2 := strconv.Atoi(hi)
		if err1 != nil || err2 != nil || h < l || h-l >= 1000 {
			return gridAxis{}, fmt.Errorf("--grid %s: %q is not a range A..B of at most 1000 whole numbers", name, vals)
		}
		for v := l; v <= h; v++ {
			a.values = append(a.values, strconv.Itoa(v))
		}
		return a, nil
	}
	for _, v := range strings.Split(vals, ",") {
		if v = strings.TrimSpace(v); v == "" {
			return gridAxis{}, fmt.Errorf("--grid %s: an empty value in %q", name, vals)
		}
		a.values = append(a.values, v)
	}
	return a, nil
}

// gridCell is one point of the cross product: a value for each axis.
type gridCell struct{ flags [][2]string }

func (c gridCell) label() string {
	parts := make([]string, len(c.flags))
	for i, f := range c.flags {
		parts[i] = f[0] + "=" + f[1]
	}
	return strings.Join(parts, " ")
}

// dir is the cell's run directory name: "policy-nn-shop_seed-2".
func (c gridCell) dir() string {
	parts := make([]string, len(c.flags))
	for i, f := range c.flags {
		parts[i] = f[0] + "-" + f[1]
	}
	return evals.SafeName(strings.Join(parts, "_"))
}

// cross is the cross product of the axes, the first axis slowest.
func cross(axes []gridAxis) []gridCell {
	cells := []gridCell{{}}
	for _, a := range axes {
		var next []gridCell
		for _, c := range cells {
			for _, v := range a.values {
				next = append(next, gridCell{flags: append(slices.Clone(c.flags), [2]string{a.name, v})})
			}
		}
		cells = next
	}
	return cells
}

// runGrid runs the study that the --grid flags describe: one run per cell
// of their cross product, each in RUNDIR/<cell>, one after the other, and
// prints one table. The same command again resumes every cell (each cell
// is a run of its own, resumed by its run directory).
//
// With --shard, each cell runs that slice of its episodes: the shards of a
// study on n machines are n grids, and `pilot runs merge` joins them cell
// by cell. With --json it prints one object: the study's directory and
// each cell's flags, directory and report.
func runGrid(ctx context.Context, f *evalFlags, fs *pflag.FlagSet, stdout, stderr io.Writer) error {
	var axes []gridAxis
	seen := map[string]bool{}
	for _, g := range f.grid {
		a, err := parseGridAxis(fs, g)
		if err != nil {
			return usagef("%v", err)
		}
		if seen[a.name] {
			return usagef("--grid %s is given twice: give all its values in one --grid", a.name)
		}
		seen[a.name] = true
		if fs.Changed(a.name) {
			return usagef("--%s and --grid %s are exclusive: the grid gives its values", a.name, a.name)
		}
		axes = append(axes, a)
	}
	cells := cross(axes)
	study := f.runDir
	if study == "" {
		study = evals.DefaultRunDir(f.suite+"-grid", time.Now())
		if fs.Changed("shard") {
			// As a sharded run's: shards started at once do not share it.
			study += "-shard" + strings.NewReplacer("/", "of").Replace(resolvedShard(f.shard))
		}
	}
	if err := writeGridPlan(study, cells); err != nil {
		return err
	}
	// The base arguments: every flag given, but the grid's own.
	var base []string
	fs.Visit(func(fl *pflag.Flag) {
		if gridFixed[fl.Name] && fl.Name != "workers" && fl.Name != "verbose" {
			return
		}
		if sv, ok := fl.Value.(interface{ GetSlice() []string }); ok {
			for _, v := range sv.GetSlice() {
				base = append(base, "--"+fl.Name+"="+v)
			}
			return
		}
		base = append(base, "--"+fl.Name+"="+fl.Value.String())
	})
	fmt.Fprintf(stderr, "grid of %d cells (%s); runs in %s\n", len(cells), gridAxesDoc(axes), study)
	reports := make([]*evals.Report, len(cells))
	var failed []string
	for i, c := range cells {
		args := slices.Clone(base)
		for _, kv := range c.flags {
			args = append(args, "--"+kv[0]+"="+kv[1])
		}
		args = append(args, "--json", "--run-dir="+filepath.Join(study, c.dir()))
		if fs.Changed("shard") {
			args = append(args, "--shard="+fs.Lookup("shard").Value.String())
		}
		cf := &evalFlags{screenshot: newChoice("none", "none", "png", "jpeg")}
		cfs := pflag.NewFlagSet("eval", pflag.ContinueOnError)
		cfs.SetOutput(io.Discard)
		cf.register(cfs)
		if err := cfs.Parse(args); err != nil {
			return usagef("--grid cell %s: %v", c.label(), err)
		}
		fmt.Fprintf(stderr, "== cell %d/%d: %s\n", i+1, len(cells), c.label())
		var out bytes.Buffer
		err := cf.start(ctx, cfs, &out, stderr)
		var res evalResult
		if jerr := json.Unmarshal(out.Bytes(), &res); jerr == nil && res.Report != nil && res.Report.Planned > 0 {
			reports[i] = res.Report
		}
		if err != nil {
			if errors.As(err, new(*usageError)) {
				return &usageError{fmt.Errorf("--grid cell %s: %w", c.label(), err)}
			}
			if ctx.Err() != nil {
				return fmt.Errorf("--grid cell %s: %w", c.label(), err)
			}
			failed = append(failed, c.label()+": "+err.Error())
		}
	}
	if f.json {
		if err := writeGridJSON(stdout, study, cells, reports); err != nil {
			return err
		}
	} else {
		if err := writeGridTable(stdout, cells, reports); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "results in %s\n", study)
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d cells failed:\n  %s", len(failed), len(cells), strings.Join(failed, "\n  "))
	}
	return nil
}

// GridPlanFile is the file in a grid study's directory that lists its
// cells, so that a merge of its shards can tell a cell that never ran.
const GridPlanFile = "grid.json"

// writeGridPlan writes (or checks, on a resume) the study's cells.
func writeGridPlan(study string, cells []gridCell) error {
	var dirs []string
	for _, c := range cells {
		dirs = append(dirs, c.dir())
	}
	path := filepath.Join(study, GridPlanFile)
	if b, err := os.ReadFile(path); err == nil {
		var had struct{ Cells []string }
		if json.Unmarshal(b, &had) != nil || !slices.Equal(had.Cells, dirs) {
			return usagef("%s holds a grid of other cells (%s): give another --run-dir", study, path)
		}
		return nil
	}
	if err := os.MkdirAll(study, 0o755); err != nil {
		return fmt.Errorf("grid: %w", err)
	}
	b, _ := json.Marshal(struct {
		Cells []string `json:"cells"`
	}{dirs})
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("grid: write %s: %w", path, err)
	}
	return nil
}

// readGridPlan reads a study's cells; ok is false when dir has no plan.
func readGridPlan(dir string) (cells []string, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(dir, GridPlanFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	var plan struct{ Cells []string }
	if err := json.Unmarshal(b, &plan); err != nil || len(plan.Cells) == 0 {
		return nil, false, fmt.Errorf("%s: not a grid plan (%v): it lists no cells", filepath.Join(dir, GridPlanFile), err)
	}
	return plan.Cells, true, nil
}

// resolvedShard is --shard as I/N: N alone takes I from
// JOB_COMPLETION_INDEX (0-based), as pilot eval does.
func resolvedShard(v string) string {
	if strings.Contains(v, "/") {
		return v
	}
	if i, err := strconv.Atoi(os.Getenv("JOB_COMPLETION_INDEX")); err == nil && i >= 0 {
		return strconv.Itoa(i+1) + "/" + v
	}
	return v
}

// gridJSON is a study's --json object.
type gridJSON struct {
	RunDir string         `json:"run_dir"`
	Cells  []gridCellJSON `json:"cells"`
}

type gridCellJSON struct {
	Cell   string            `json:"cell"`
	Flags  map[string]string `json:"flags"`
	RunDir string            `json:"run_dir"`
	Report *evals.Report     `json:"report"` // null for a cell that failed
}

func writeGridJSON(w io.Writer, study string, cells []gridCell, reports []*evals.Report) error {
	out := gridJSON{RunDir: study}
	for i, c := range cells {
		flags := map[string]string{}
		for _, kv := range c.flags {
			flags[kv[0]] = kv[1]
		}
		out.Cells = append(out.Cells, gridCellJSON{Cell: c.label(), Flags: flags, RunDir: filepath.Join(study, c.dir()), Report: reports[i]})
	}
	enc := json.NewEncoder(w)
	return enc.Encode(out)
}

func gridAxesDoc(axes []gridAxis) string {
	parts := make([]string, len(axes))
	for i, a := range axes {
		parts[i] = fmt.Sprintf("%s × %d", a.name, len(a.values))
	}
	return strings.Join(parts, ", ")
}

// writeGridTable prints a row per cell: its values and its numbers.
func writeGridTable(w io.Writer, cells []gridCell, reports []*evals.Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	var head []string
	for _, kv := range cells[0].flags {
		head = append(head, kv[0])
	}
	head = append(head, "episodes", "success", "95% CI", "mean reward", "mean steps", "errors")
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for i, c := range cells {
		var row []string
		for _, kv := range c.flags {
			row = append(row, kv[1])
		}
		r := reports[i]
		if r == nil {
			row = append(row, "-", "failed", "", "", "", "")
		} else {
			eps := strconv.Itoa(r.Scored)
			if !r.Complete {
				eps += fmt.Sprintf(" (of %d)", r.Planned)
			}
			row = append(row, eps, evals.Percent(r.SuccessRate), "["+evals.Percent(r.CI95Low)+", "+evals.Percent(r.CI95High)+"]",
				fmt.Sprintf("%.3f", r.MeanReward), fmt.Sprintf("%.1f", r.MeanSteps), strconv.Itoa(r.Errors))
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	return tw.Flush()
}
