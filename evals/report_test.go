package evals_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/pilotkit/pilot/evals"
)

func TestWilson(t *testing.T) {
	// Hand-computed: centre (p + z²/2n)/(1 + z²/n), half-width
	// z·sqrt(p(1-p)/n + z²/4n²)/(1 + z²/n), z = 1.959964.
	tests := []struct {
		s, n   int
		lo, hi float64
	}{
		{0, 10, 0, 0.277533},
		{5, 10, 0.236593, 0.763407},
		{10, 10, 0.722467, 1},
		{185, 200, 0.879956, 0.954025},
		{1, 1, 0.206549, 1},
		{3, 4, 0.300642, 0.954413},
		{0, 0, 0, 1}, // no episodes: no information
	}
	for _, tt := range tests {
		lo, hi := evals.Wilson(tt.s, tt.n, evals.Z95)
		if math.Abs(lo-tt.lo) > 5e-7 || math.Abs(hi-tt.hi) > 5e-7 {
			t.Errorf("Wilson(%d, %d, Z95) = %.6f, %.6f; want %.6f, %.6f", tt.s, tt.n, lo, hi, tt.lo, tt.hi)
		}
	}
	// The ends are exact.
	if lo, _ := evals.Wilson(0, 200, evals.Z95); lo != 0 {
		t.Errorf("Wilson(0, 200) lo = %g, want exactly 0", lo)
	}
	if _, hi := evals.Wilson(200, 200, evals.Z95); hi != 1 {
		t.Errorf("Wilson(200, 200) hi = %g, want exactly 1", hi)
	}
}

func TestWriteTable(t *testing.T) {
	rep := evals.Report{Suite: "shop/test", Planned: 200, Episodes: 200, Scored: 200, Complete: true, Successes: 185, SuccessRate: 0.925,
		CI95Low: 0.879956, CI95High: 0.954025, MeanReward: 0.9612, MeanSteps: 11.24, EpisodesPerMinute: 312.4, Duration: time.Minute}
	tests := []struct {
		name   string
		errors int
		perMin float64
		tokens int
		cost   float64
		want   string
	}{
		{"no errors", 0, 312.4, 0, 0, `
suite      episodes  success  95% CI          mean reward  mean steps  episodes/min
shop/test  200       92.5%    [88.0%, 95.4%]  0.961        11.2        312
`},
		{"errors", 3, 41.25, 0, 0, `
suite      episodes  success  95% CI          mean reward  mean steps  episodes/min  errors
shop/test  200       92.5%    [88.0%, 95.4%]  0.961        11.2        41.2          3 (backend 2, timeout 1)
`},
		{"a model", 0, 41.25, 1234567, 3.456789, `
suite      episodes  success  95% CI          mean reward  mean steps  episodes/min  tokens   tokens/episode  cost
shop/test  200       92.5%    [88.0%, 95.4%]  0.961        11.2        41.2          1234567  6173            $3.4568
`},
	}
	for _, tt := range tests {
		r := rep
		r.Errors, r.EpisodesPerMinute, r.Tokens, r.CostUSD = tt.errors, tt.perMin, tt.tokens, tt.cost
		if tt.errors > 0 {
			r.ErrorKinds = map[string]int{evals.KindTimeout: 1, evals.KindBackend: 2}
		}
		var b strings.Builder
		if err := r.WriteTable(&b); err != nil {
			t.Fatal(err)
		}
		if got := b.String(); got != tt.want[1:] {
			t.Errorf("%s: WriteTable =\n%s\nwant\n%s", tt.name, got, tt.want[1:])
		}
	}
}

// An interrupted run says so under the table: its numbers are of a part.
func TestWriteTableInterrupted(t *testing.T) {
	rep := evals.Report{Suite: "shop/test", Planned: 60, Episodes: 6, Scored: 6, Successes: 6, SuccessRate: 1,
		CI95Low: 0.609666, CI95High: 1, MeanReward: 1, MeanSteps: 9, EpisodesPerMinute: 80, Interrupted: true, Retries: 2}
	var b strings.Builder
	if err := rep.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	want := `suite      episodes  success  95% CI           mean reward  mean steps  episodes/min  retries
shop/test  6         100.0%   [61.0%, 100.0%]  1.000        9.0         80.0          2
interrupted: 6 of 60 planned episodes have a result; the numbers above are of those only
`
	if got := b.String(); got != want {
		t.Errorf("WriteTable =\n%s\nwant\n%s", got, want)
	}
}

func TestQuantile(t *testing.T) {
	ds := []time.Duration{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}
	for q, want := range map[float64]time.Duration{0.5: 5, 0.95: 10, 0.1: 1, 0: 1, 1: 10} {
		if got := evals.Quantile(ds, q); got != want {
			t.Errorf("Quantile(1..10, %g) = %d, want %d", q, got, want)
		}
	}
	if got := evals.Quantile(nil, 0.5); got != 0 {
		t.Errorf("Quantile(none) = %d, want 0", got)
	}
}

// The table says what failures missed, the step latencies and the cost
// per success when there are any.
func TestWriteTableDetails(t *testing.T) {
	rep := evals.Report{Suite: "shop/test", Planned: 10, Episodes: 10, Scored: 10, Complete: true, Successes: 4, SuccessRate: 0.4,
		CI95Low: 0.168180, CI95High: 0.687326, MeanReward: 0.7, MeanSteps: 12, EpisodesPerMinute: 20, Duration: time.Minute,
		Missed: map[string]int{"price": 3, "option": 4, "no purchase": 1},
		EnvP50: 12 * time.Millisecond, EnvP95: 80 * time.Millisecond, PolicyP50: 900 * time.Millisecond, PolicyP95: 2100 * time.Millisecond,
		Tokens: 40000, CostUSD: 0.2, CostPerSuccess: 0.05}
	var b strings.Builder
	if err := rep.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"failures: 6; missed option 4, price 3, no purchase 1\n",
		"step latency: env p50 12ms p95 80ms, policy p50 0.9s p95 2.1s\n",
		"cost per success: $0.0500\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("WriteTable =\n%s\nwant a line %q", b.String(), want)
		}
	}
}
