package web

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/pilotkit/pilot/env"
)

// Run with: go test -run '^$' -bench . -benchtime 200x ./env/web/
// Each benchmark reports the median of its operations (median-ms) besides
// the mean (ns/op): the targets in the foundation issue are medians.

type timings []time.Duration

func (ts timings) report(b *testing.B) {
	if len(ts) == 0 {
		return
	}
	s := slices.Clone(ts)
	slices.Sort(s)
	b.ReportMetric(float64(s[len(s)/2].Microseconds())/1000, "median-ms")
	b.ReportMetric(float64(s[len(s)*9/10].Microseconds())/1000, "p90-ms")
}

func benchEnv(b testing.TB, o Options) (*Env, string) {
	srv := site(b)
	e := newEnv(b, o)
	return e, srv.URL
}

// BenchmarkStepClick: a click that changes the page without navigating,
// the settle, and the new observation, on a page of about 200 elements.
// The page is testdata/bench200.html, which scripts/bench-peer.sh also
// gives Playwright.
func BenchmarkStepClick(b *testing.B) {
	e, url := benchEnv(b, Options{})
	ctx := context.Background()
	obs, err := e.Reset(ctx, env.Task{StartURL: url + "/bench200.html"})
	if err != nil {
		b.Fatal(err)
	}
	click := env.A("click", idOf(b, obs, `button "Toggle"`))
	var ts timings
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		st, err := e.Step(ctx, click)
		if err != nil || st.Obs.Error != "" {
			b.Fatalf("Step: error %v, observation error %q, at %s", err, st.Obs.Error, st.Obs.URL)
		}
		ts = append(ts, time.Since(t0))
	}
	ts.report(b)
}

// BenchmarkStepNoop: observe a quiet page: the floor of a step.
func BenchmarkStepNoop(b *testing.B) {
	e, url := benchEnv(b, Options{})
	ctx := context.Background()
	if _, err := e.Reset(ctx, env.Task{StartURL: url + "/big.html?n=1"}); err != nil {
		b.Fatal(err)
	}
	var ts timings
	for b.Loop() {
		t0 := time.Now()
		if _, err := e.Step(ctx, env.A("noop")); err != nil {
			b.Fatal(err)
		}
		ts = append(ts, time.Since(t0))
	}
	ts.report(b)
}

// BenchmarkStepNavigate: a click on a link that loads a new page.
// With an allowlist every request of the page is paused and checked
// (the network policy); the difference is its cost per step.
func BenchmarkStepNavigate(b *testing.B) {
	b.Run("open", func(b *testing.B) { benchNavigate(b, Options{}) })
	b.Run("allowlist", func(b *testing.B) { benchNavigate(b, Options{AllowDomains: []string{"127.0.0.1"}}) })
}

func benchNavigate(b *testing.B, o Options) {
	e, url := benchEnv(b, o)
	ctx := context.Background()
	obs, err := e.Reset(ctx, env.Task{StartURL: url + "/big.html?n=1"})
	if err != nil {
		b.Fatal(err)
	}
	var ts timings
	for b.Loop() {
		next := env.A("click", idOf(b, obs, `link "Next page"`))
		t0 := time.Now()
		st, err := e.Step(ctx, next)
		if err != nil || st.Obs.Error != "" {
			b.Fatalf("Step: error %v, observation error %q, at %s", err, st.Obs.Error, st.Obs.URL)
		}
		ts = append(ts, time.Since(t0))
		obs = st.Obs
		if len(obs.URL) > 1500 { // keep the URL short
			if obs, err = e.Reset(ctx, env.Task{StartURL: url + "/big.html?n=1"}); err != nil {
				b.Fatal(err)
			}
		}
	}
	ts.report(b)
}

// BenchmarkStepFrameNavigate: a click on a link inside a frame, which
// loads a page in the frame (not the page): the step must not wait for a
// page navigation that never comes.
func BenchmarkStepFrameNavigate(b *testing.B) {
	e, url := benchEnv(b, Options{})
	ctx := context.Background()
	var ts timings
	for b.Loop() {
		b.StopTimer()
		obs, err := e.Reset(ctx, env.Task{StartURL: url + "/frames.html"})
		if err != nil {
			b.Fatal(err)
		}
		link := env.A("click", idOf(b, obs, `link "Open next in the frame"`))
		b.StartTimer()
		t0 := time.Now()
		st, err := e.Step(ctx, link)
		if err != nil || st.Obs.Error != "" {
			b.Fatalf("Step: error %v, observation error %q", err, st.Obs.Error)
		}
		ts = append(ts, time.Since(t0))
	}
	ts.report(b)
}

// BenchmarkStepClickScreenshotJPEG: BenchmarkStepClick with a 1280×800
// JPEG screenshot in every observation.
func BenchmarkStepClickScreenshotJPEG(b *testing.B) {
	e, url := benchEnv(b, Options{Screenshot: "jpeg", Viewport: Size{1280, 800}})
	ctx := context.Background()
	obs, err := e.Reset(ctx, env.Task{StartURL: url + "/big.html?n=1"})
	if err != nil {
		b.Fatal(err)
	}
	click := env.A("click", idOf(b, obs, `button "Toggle"`))
	var ts timings
	for b.Loop() {
		t0 := time.Now()
		st, err := e.Step(ctx, click)
		if err != nil || len(st.Obs.Images) != 1 {
			b.Fatal(err)
		}
		ts = append(ts, time.Since(t0))
	}
	ts.report(b)
}

// BenchmarkResetCold: a new episode in a new browser context: a new tab,
// the first page loaded and observed. Resets come back to back, so the
// new context and its renderer are made inside the timed Reset: the worst
// case.
func BenchmarkResetCold(b *testing.B) {
	benchReset(b, 0)
}

// BenchmarkResetAfterEpisode: the same, with one second between Resets,
// as when an episode runs: Env opens the next episode's tab (a fresh
// browser context) in the background meanwhile, and Reset only navigates.
func BenchmarkResetAfterEpisode(b *testing.B) {
	benchReset(b, time.Second)
}

func benchReset(b *testing.B, pause time.Duration) {
	e, url := benchEnv(b, Options{})
	ctx := context.Background()
	if _, err := e.Reset(ctx, env.Task{StartURL: url + "/big.html?n=1"}); err != nil {
		b.Fatal(err)
	}
	var ts timings
	for b.Loop() {
		if pause > 0 {
			b.StopTimer()
			time.Sleep(pause)
			b.StartTimer()
		}
		t0 := time.Now()
		if _, err := e.Reset(ctx, env.Task{StartURL: url + "/big.html?n=1"}); err != nil {
			b.Fatal(err)
		}
		ts = append(ts, time.Since(t0))
	}
	ts.report(b)
}
