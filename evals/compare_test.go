package evals_test

import (
	"math"
	"testing"

	"github.com/pilotkit/pilot/evals"
)

func TestMcNemarExact(t *testing.T) {
	// Hand-computed: 2·Σ_{i≤k} C(n,i)/2^n.
	tests := []struct {
		b, c int
		p    float64
	}{
		{0, 0, 1},
		{1, 7, 2 * (1 + 8) / 256.0},         // 0.0703125
		{0, 5, 2 / 32.0},                    // 0.0625
		{3, 3, 1},                           // capped
		{2, 10, 2 * (1 + 12 + 66) / 4096.0}, // 0.0385742
	}
	for _, tt := range tests {
		if got := evals.McNemarExact(tt.b, tt.c); math.Abs(got-tt.p) > 1e-12 {
			t.Errorf("McNemarExact(%d, %d) = %g, want %g", tt.b, tt.c, got, tt.p)
		}
	}
	if a, b := evals.McNemarExact(10, 40), evals.McNemarExact(40, 10); a != b || a <= 0 || a > 1e-4 {
		t.Errorf("McNemarExact(10, 40) = %g, (40, 10) = %g; want equal and tiny", a, b)
	}
}

func TestCompare(t *testing.T) {
	res := func(key string, ok bool, outcome string) evals.Result {
		return evals.Result{TaskID: key, Success: ok, Outcome: outcome}
	}
	a := []evals.Result{res("t1", true, "success"), res("t2", true, "success"), res("t3", false, "failure"), res("t4", false, "failure"),
		res("t5", false, "error"), res("t6", true, "success")}
	b := []evals.Result{res("t1", true, "success"), res("t2", false, "failure"), res("t3", true, "success"), res("t4", true, "success"),
		res("t5", true, "success"), res("t7", true, "success")}
	c := evals.Compare(a, b)
	if c.Paired != 4 || c.Both != 1 || c.OnlyA != 1 || c.OnlyB != 2 || c.Neither != 0 || c.Unpaired != 3 {
		t.Errorf("Compare = %+v; want 4 paired (1 both, t2 only A, t3 t4 only B), 3 unpaired (t5 an error, t6, t7)", c)
	}
	if c.RateA != 0.5 || c.RateB != 0.75 || c.Diff != 0.25 || c.P != 1 {
		t.Errorf("rates %g %g, diff %g, p %g; want 0.5, 0.75, 0.25, 1", c.RateA, c.RateB, c.Diff, c.P)
	}
}
