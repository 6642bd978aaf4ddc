package ppo

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Plot draws the curves a practitioner reads after a run — return
// (training episodes and greedy evaluation), policy entropy, approximate
// KL and the value function's explained variance, against env steps — into
// one image: PNG or SVG by path's extension.
func Plot(stats []Stats, title, path string) error {
	if len(stats) == 0 {
		return fmt.Errorf("plot: no updates to plot")
	}
	type series struct {
		name  string
		get   func(Stats) float64
		color color.Color
	}
	panels := []struct {
		title string
		lines []series
	}{
		{"return", []series{
			{"training episodes", func(s Stats) float64 { return s.EpisodeReturn }, color.RGBA{R: 90, G: 140, B: 220, A: 255}},
			{"greedy evaluation", func(s Stats) float64 { return s.GreedyReturn }, color.RGBA{R: 220, G: 60, B: 40, A: 255}},
		}},
		{"policy entropy", []series{{"entropy", func(s Stats) float64 { return s.Entropy }, color.RGBA{R: 40, G: 150, B: 80, A: 255}}}},
		{"approximate KL", []series{{"approx KL", func(s Stats) float64 { return s.ApproxKL }, color.RGBA{R: 150, G: 80, B: 180, A: 255}}}},
		{"explained variance", []series{{"explained variance", func(s Stats) float64 { return s.ExplainedVar }, color.RGBA{R: 200, G: 130, B: 20, A: 255}}}},
	}
	const rows, cols = 2, 2
	plots := make([][]*plot.Plot, rows)
	for i := range plots {
		plots[i] = make([]*plot.Plot, cols)
	}
	for k, pn := range panels {
		pl := plot.New()
		pl.Title.Text = pn.title
		if k == 0 && title != "" {
			pl.Title.Text = title + ": " + pn.title
		}
		pl.X.Label.Text = "env steps"
		for _, se := range pn.lines {
			var xy plotter.XYs
			for _, s := range stats {
				if v := se.get(s); !math.IsNaN(v) && !math.IsInf(v, 0) {
					xy = append(xy, plotter.XY{X: float64(s.Steps), Y: v})
				}
			}
			if len(xy) == 0 {
				continue
			}
			l, err := plotter.NewLine(xy)
			if err != nil {
				return fmt.Errorf("plot %s: %w", pn.title, err)
			}
			l.Color = se.color
			l.Width = vg.Points(1.5)
			pl.Add(l)
			if len(pn.lines) > 1 {
				pl.Legend.Add(se.name, l)
			}
		}
		pl.Legend.Top, pl.Legend.Left = true, true
		pl.Add(plotter.NewGrid())
		plots[k/cols][k%cols] = pl
	}
	w, h := 12*vg.Inch, 8*vg.Inch
	var c draw.Canvas
	var save func(*os.File) error
	switch strings.ToLower(filepath.Ext(path)) {
	case ".svg":
		sc := vgsvg.New(w, h)
		c = draw.New(sc)
		save = func(f *os.File) error { _, err := sc.WriteTo(f); return err }
	case ".png":
		ic := vgimg.New(w, h)
		c = draw.New(ic)
		save = func(f *os.File) error { _, err := vgimg.PngCanvas{Canvas: ic}.WriteTo(f); return err }
	default:
		return fmt.Errorf("plot %s: want a .png or .svg file", path)
	}
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align(plots, tiles, c)
	for i := range plots {
		for j := range plots[i] {
			plots[i][j].Draw(canvases[i][j])
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	if err := save(f); err != nil {
		f.Close()
		return fmt.Errorf("plot %s: %w", path, err)
	}
	return f.Close()
}
