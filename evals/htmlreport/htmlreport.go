// Package htmlreport writes the report of one or more runs (run
// directories of evals/runstore) as one static HTML file that opens
// offline: the table with Wilson intervals, success with its interval per
// run, the reward and step-latency distributions, pass^k curves, cost per
// success, the failure breakdown and errors by kind, and the episodes with
// links to their trajectories. The charts are gonum/plot SVG, inline; every
// string from a run (task ids, errors, reasons, flags) is escaped by
// html/template.
package htmlreport

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"image/color"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/pilotkit/pilot/evals"
	"github.com/pilotkit/pilot/evals/runstore"
)

// Run is one run as the report shows it.
type Run struct {
	Dir      string
	Label    string // the policy, or the directory's name when two runs share one
	Manifest evals.Manifest
	Report   *evals.Report
	Results  []evals.Result
	Rewards  []float64
	EnvTimes []time.Duration
	PolTimes []time.Duration
}

// Load reads the runs in dirs.
func Load(ctx context.Context, dirs []string) ([]Run, error) {
	var runs []Run
	for _, dir := range dirs {
		db, err := runstore.Open(dir)
		if err != nil {
			return nil, err
		}
		rep, err := db.Report(ctx)
		if err != nil {
			db.Close()
			return nil, err
		}
		rs, err := db.Results()
		if err != nil {
			db.Close()
			return nil, err
		}
		envT, polT, err := db.StepTimes()
		m := db.Manifest()
		db.Close()
		if err != nil {
			return nil, err
		}
		r := Run{Dir: dir, Label: m.Policy, Manifest: m, Report: rep, Results: rs, EnvTimes: envT, PolTimes: polT}
		for _, x := range rs {
			if x.Outcome != evals.OutcomeError {
				r.Rewards = append(r.Rewards, x.Reward)
			}
		}
		runs = append(runs, r)
	}
	labels := map[string]int{}
	for _, r := range runs {
		labels[r.Label]++
	}
	for i := range runs {
		if labels[runs[i].Label] > 1 || runs[i].Label == "" {
			runs[i].Label = runs[i].Label + " (" + filepath.Base(runs[i].Dir) + ")"
		}
	}
	return runs, nil
}

// Options change what Write writes.
type Options struct {
	// Title of the page; "" for the suites and policies.
	Title string
	// LinkBase is the path from the report's file to where the run
	// directories are named from (so that links to trajectories work):
	// "" when the report sits in the directory the run paths are relative
	// to. Absolute run directories are linked by their absolute paths.
	LinkBase string
	// MaxEpisodes bounds the episode rows per run (0: 2,000); the charts
	// and numbers always use every episode.
	MaxEpisodes int
}

// Write writes the report of runs as one HTML file.
func Write(w io.Writer, runs []Run, o Options) error {
	if len(runs) == 0 {
		return fmt.Errorf("htmlreport: no runs")
	}
	if o.MaxEpisodes <= 0 {
		o.MaxEpisodes = 2000
	}
	page := pageData{Title: o.Title, Generated: time.Now().UTC().Format(time.RFC3339)}
	if page.Title == "" {
		var parts []string
		for _, r := range runs {
			parts = append(parts, r.Manifest.Suite+" · "+r.Label)
		}
		page.Title = "pilot report: " + strings.Join(parts, ", ")
	}
	var err error
	if page.SuccessSVG, err = successChart(runs); err != nil {
		return err
	}
	if page.RewardSVG, err = rewardChart(runs); err != nil {
		return err
	}
	if page.LatencySVG, err = latencyChart(runs); err != nil {
		return err
	}
	if page.PassKSVG, err = passKChart(runs); err != nil {
		return err
	}
	for _, r := range runs {
		page.Runs = append(page.Runs, runRow(r, o))
	}
	return pageTemplate.Execute(w, page)
}

type pageData struct {
	Title, Generated                            string
	SuccessSVG, RewardSVG, LatencySVG, PassKSVG template.HTML
	Runs                                        []runView
}

type runView struct {
	Label, Dir, Suite, Policy, Engine, Seed, Pilot, Commit, Model string
	Flags                                                         string
	Episodes, Planned, Successes, Errors, Retries                 int
	Success, CI, Reward, Steps, CostPerSuccess, Cost, Latency     string
	State                                                         string
	PassK                                                         string
	Kinds, Missed                                                 []countView
	Rows                                                          []episodeView
	Hidden                                                        int
}

type countView struct {
	Name  string
	Count int
}

type episodeView struct {
	Key, Outcome, Kind, Reason, Error, Link string
	Reward                                  string
	Steps, Attempt                          int
}

func runRow(r Run, o Options) runView {
	rep := r.Report
	v := runView{
		Label: r.Label, Dir: r.Dir, Suite: r.Manifest.Suite, Policy: r.Manifest.Policy, Engine: r.Manifest.Engine,
		Seed: fmt.Sprintf("%d / %d", r.Manifest.Seed, r.Manifest.PolicySeed), Pilot: r.Manifest.Pilot, Commit: r.Manifest.Commit,
		Model: r.Manifest.Model, Episodes: rep.Scored, Planned: rep.Planned, Successes: rep.Successes, Errors: rep.Errors,
		Retries: rep.Retries,
		Success: evals.Percent(rep.SuccessRate), CI: "[" + evals.Percent(rep.CI95Low) + ", " + evals.Percent(rep.CI95High) + "]",
		Reward: fmt.Sprintf("%.3f", rep.MeanReward), Steps: fmt.Sprintf("%.1f", rep.MeanSteps),
		Cost:    fmt.Sprintf("$%.4f", rep.CostUSD),
		Latency: fmt.Sprintf("env p50 %s p95 %s · policy p50 %s p95 %s", rep.EnvP50, rep.EnvP95, rep.PolicyP50, rep.PolicyP95),
	}
	if rep.CostPerSuccess > 0 {
		v.CostPerSuccess = fmt.Sprintf("$%.4f", rep.CostPerSuccess)
	} else {
		v.CostPerSuccess = "–"
	}
	switch {
	case rep.Complete:
		v.State = "complete"
	case rep.Interrupted:
		v.State = fmt.Sprintf("interrupted: %d of %d planned episodes have a result", rep.Episodes, rep.Planned)
	default:
		v.State = fmt.Sprintf("incomplete: %d of %d planned episodes have a result", rep.Episodes, rep.Planned)
	}
	var flags []string
	for _, k := range slices.Sorted(maps.Keys(r.Manifest.Flags)) {
		flags = append(flags, "--"+k+"="+r.Manifest.Flags[k])
	}
	v.Flags = strings.Join(flags, " ")
	if len(rep.PassK) > 0 {
		parts := make([]string, len(rep.PassK))
		for i, p := range rep.PassK {
			parts[i] = fmt.Sprintf("k=%d %s", i+1, evals.Percent(p))
		}
		v.PassK = strings.Join(parts, ", ")
	}
	v.Kinds = counts(rep.ErrorKinds)
	v.Missed = counts(rep.Missed)
	for i, x := range r.Results {
		if i >= o.MaxEpisodes {
			v.Hidden = len(r.Results) - i
			break
		}
		link := filepath.ToSlash(filepath.Join(r.Dir, evals.EpisodesDir, x.Key(), "trajectory.jsonl"))
		// An absolute path is a path-absolute URL: from a report opened
		// as a file, it is that file.
		if !filepath.IsAbs(link) && o.LinkBase != "" {
			link = filepath.ToSlash(filepath.Join(o.LinkBase, link))
		}
		v.Rows = append(v.Rows, episodeView{
			Key: x.Key(), Outcome: x.Outcome, Kind: x.ErrorKind, Reason: x.Reason, Error: oneLine(x.Error, 300),
			Link: link, Reward: fmt.Sprintf("%.3f", x.Reward), Steps: x.Steps, Attempt: x.Attempt,
		})
	}
	return v
}

func counts(m map[string]int) []countView {
	var out []countView
	for k, n := range m {
		out = append(out, countView{k, n})
	}
	slices.SortFunc(out, func(a, b countView) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		s = string(r[:n]) + "…"
	}
	return s
}

var palette = []color.Color{
	color.RGBA{R: 40, G: 100, B: 200, A: 255}, color.RGBA{R: 220, G: 80, B: 40, A: 255},
	color.RGBA{R: 40, G: 150, B: 80, A: 255}, color.RGBA{R: 150, G: 80, B: 180, A: 255},
	color.RGBA{R: 200, G: 150, B: 20, A: 255}, color.RGBA{R: 90, G: 90, B: 90, A: 255},
}

// svg renders p as inline SVG (the XML declaration dropped).
func svg(p *plot.Plot, w, h vg.Length) (template.HTML, error) {
	c := vgsvg.New(w, h)
	p.Draw(draw.New(c))
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return "", fmt.Errorf("htmlreport: draw %q: %w", p.Title.Text, err)
	}
	s := b.String()
	if i := strings.Index(s, "<svg"); i > 0 {
		s = s[i:]
	}
	// The SVG is gonum/plot's own output of our numbers and of labels
	// that pass through its text escaping.
	return template.HTML(s), nil
}

// successChart: each run's success rate with its 95% Wilson interval.
func successChart(runs []Run) (template.HTML, error) {
	p := plot.New()
	p.Title.Text = "success with 95% interval"
	p.Y.Min, p.Y.Max = 0, 100
	p.Y.Label.Text = "%"
	var names []string
	for i, r := range runs {
		rep := r.Report
		pts := plotter.XYs{{X: float64(i), Y: 100 * rep.SuccessRate}}
		s, err := plotter.NewScatter(pts)
		if err != nil {
			return "", err
		}
		s.Color = palette[i%len(palette)]
		s.Radius = vg.Points(4)
		bars, err := plotter.NewYErrorBars(ciErrors{x: float64(i), y: 100 * rep.SuccessRate, lo: 100 * rep.CI95Low, hi: 100 * rep.CI95High})
		if err != nil {
			return "", err
		}
		bars.Color = palette[i%len(palette)]
		p.Add(s, bars)
		names = append(names, r.Label)
	}
	p.NominalX(names...)
	p.X.Min, p.X.Max = -0.5, float64(len(runs))-0.5
	p.Add(plotter.NewGrid())
	return svg(p, vg.Length(max(4, 1.4*float64(len(runs))))*vg.Inch, 3*vg.Inch)
}

// ciErrors is one point with its interval, for plotter.YErrorBars.
type ciErrors struct{ x, y, lo, hi float64 }

func (c ciErrors) Len() int                       { return 1 }
func (c ciErrors) XY(int) (float64, float64)      { return c.x, c.y }
func (c ciErrors) YError(int) (low, high float64) { return c.y - c.lo, c.hi - c.y }

// rewardChart: a histogram of the final rewards of each run's scored
// episodes.
func rewardChart(runs []Run) (template.HTML, error) {
	p := plot.New()
	p.Title.Text = "final reward of the scored episodes"
	p.X.Label.Text = "reward"
	p.Y.Label.Text = "episodes"
	w := vg.Points(8)
	for i, r := range runs {
		bins := make(plotter.Values, 11) // 0, 0.1, …, 1
		for _, v := range r.Rewards {
			b := int(v*10 + 0.5)
			bins[min(max(b, 0), 10)]++
		}
		bars, err := plotter.NewBarChart(bins, w)
		if err != nil {
			return "", err
		}
		bars.Color = palette[i%len(palette)]
		bars.LineStyle.Width = 0
		bars.Offset = w * vg.Length(i-len(runs)/2)
		p.Add(bars)
		p.Legend.Add(r.Label, bars)
	}
	labels := make([]string, 11)
	for i := range labels {
		labels[i] = fmt.Sprintf("%.1f", float64(i)/10)
	}
	p.NominalX(labels...)
	p.Legend.Top = true
	return svg(p, 6*vg.Inch, 3*vg.Inch)
}

// latencyChart: box plots of the env's and the policy's step times, in ms.
func latencyChart(runs []Run) (template.HTML, error) {
	p := plot.New()
	p.Title.Text = "step latency (ms): env and policy"
	p.Y.Label.Text = "ms"
	var names []string
	w := vg.Points(18)
	x := 0.0
	for i, r := range runs {
		for j, ts := range [][]time.Duration{r.EnvTimes, r.PolTimes} {
			vals := make(plotter.Values, 0, len(ts))
			for _, t := range ts {
				vals = append(vals, float64(t)/float64(time.Millisecond))
			}
			if len(vals) == 0 {
				vals = append(vals, 0)
			}
			b, err := plotter.NewBoxPlot(w, x, vals)
			if err != nil {
				return "", err
			}
			b.FillColor = palette[i%len(palette)]
			if j == 1 {
				b.FillColor = color.RGBA{R: 200, G: 200, B: 200, A: 255}
			}
			p.Add(b)
			names = append(names, r.Label+[]string{" env", " policy"}[j])
			x++
		}
	}
	p.NominalX(names...)
	return svg(p, vg.Length(max(4, 1.3*x))*vg.Inch, 3*vg.Inch)
}

// passKChart: pass^k against k for the runs that repeat their tasks; ""
// when none does.
func passKChart(runs []Run) (template.HTML, error) {
	p := plot.New()
	p.Title.Text = "pass^k: all k attempts at a task succeed"
	p.X.Label.Text = "k"
	p.Y.Label.Text = "%"
	p.Y.Min, p.Y.Max = 0, 100
	any := false
	for i, r := range runs {
		if len(r.Report.PassK) < 2 {
			continue
		}
		any = true
		var xy plotter.XYs
		for k, v := range r.Report.PassK {
			xy = append(xy, plotter.XY{X: float64(k + 1), Y: 100 * v})
		}
		l, s, err := plotter.NewLinePoints(xy)
		if err != nil {
			return "", err
		}
		l.Color, s.Color = palette[i%len(palette)], palette[i%len(palette)]
		p.Add(l, s)
		p.Legend.Add(r.Label, l)
	}
	if !any {
		return "", nil
	}
	p.Add(plotter.NewGrid())
	return svg(p, 5*vg.Inch, 3*vg.Inch)
}

var pageTemplate = template.Must(template.New("report").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222;max-width:1200px}
table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.n{text-align:right}.success{color:#17702f}.failure{color:#a33}.error{color:#a60}
details{margin:1em 0}code{font-size:12px;word-break:break-all}.charts svg{margin:0 1em 1em 0}
</style></head><body>
<h1>{{.Title}}</h1>
<p>Generated {{.Generated}} by pilot report. Success is over the scored episodes (successes and failures); errors are counted apart.</p>
<table><tr><th>run</th><th>suite</th><th>episodes</th><th>success</th><th>95% CI</th><th>mean reward</th><th>mean steps</th><th>errors</th><th>retries</th><th>cost</th><th>cost / success</th><th>pass^k</th><th>state</th></tr>
{{range .Runs}}<tr><td>{{.Label}}</td><td>{{.Suite}}</td><td class="n">{{.Episodes}}</td><td class="n">{{.Success}}</td><td>{{.CI}}</td><td class="n">{{.Reward}}</td><td class="n">{{.Steps}}</td><td class="n">{{.Errors}}</td><td class="n">{{.Retries}}</td><td class="n">{{.Cost}}</td><td class="n">{{.CostPerSuccess}}</td><td>{{.PassK}}</td><td>{{.State}}</td></tr>
{{end}}</table>
<div class="charts">{{.SuccessSVG}}{{.RewardSVG}}{{.LatencySVG}}{{.PassKSVG}}</div>
{{range .Runs}}<h2>{{.Label}}</h2>
<p>{{.Dir}} · policy {{.Policy}}{{if .Model}} · model {{.Model}}{{end}} · engine {{.Engine}} · seed / policy seed {{.Seed}} · pilot {{.Pilot}}{{if .Commit}} ({{.Commit}}){{end}}<br>
step latency: {{.Latency}}<br><code>{{.Flags}}</code></p>
{{if .Kinds}}<table><tr><th>error kind</th><th>episodes</th></tr>{{range .Kinds}}<tr><td>{{.Name}}</td><td class="n">{{.Count}}</td></tr>{{end}}</table>{{end}}
{{if .Missed}}<table><tr><th>failures missed</th><th>episodes</th></tr>{{range .Missed}}<tr><td>{{.Name}}</td><td class="n">{{.Count}}</td></tr>{{end}}</table>{{end}}
<details><summary>episodes</summary>
<table><tr><th>episode</th><th>outcome</th><th>reward</th><th>steps</th><th>attempt</th><th>reason or error</th><th>trajectory</th></tr>
{{range .Rows}}<tr><td>{{.Key}}</td><td class="{{.Outcome}}">{{.Outcome}}{{if .Kind}} ({{.Kind}}){{end}}</td><td class="n">{{.Reward}}</td><td class="n">{{.Steps}}</td><td class="n">{{.Attempt}}</td><td>{{if .Error}}{{.Error}}{{else}}{{.Reason}}{{end}}</td><td><a href="{{.Link}}">trajectory</a></td></tr>
{{end}}</table>{{if .Hidden}}<p>{{.Hidden}} more episodes are in the run directory.</p>{{end}}</details>
{{end}}</body></html>
`))
