package nn

import (
	"math"
	"slices"
	"testing"
)

var logitCases = []struct {
	name   string
	logits []float64
}{
	{"one", []float64{0.7}},
	{"small", []float64{0.1, -0.4, 1.3}},
	{"large", []float64{1000, 1001, 999.5, 1000.2}},
	{"very negative", []float64{-800, -801, -799}},
	{"spread", []float64{-3, 5, 0.2, 2, -1, 4.5}},
}

func TestLogSoftmaxNormalised(t *testing.T) {
	for _, tc := range logitCases {
		lp := LogSoftmax(tc.logits, nil)
		s := 0.0
		for i, v := range lp {
			s += math.Exp(v)
			if got := CategoricalLogProb(tc.logits, i); math.Abs(got-v) > 1e-12 {
				t.Errorf("%s: CategoricalLogProb(%d) = %v, LogSoftmax %v", tc.name, i, got, v)
			}
		}
		if math.Abs(s-1) > 1e-12 {
			t.Errorf("%s: Σ exp(LogSoftmax) = %v, want 1", tc.name, s)
		}
		// In place.
		in := slices.Clone(tc.logits)
		if got := LogSoftmax(in, in); !slices.Equal(got, lp) {
			t.Errorf("%s: LogSoftmax in place = %v, want %v", tc.name, got, lp)
		}
	}
}

func TestCategoricalEntropy(t *testing.T) {
	for n := 1; n <= 10; n++ {
		logits := make([]float64, n)
		for i := range logits {
			logits[i] = 3.7
		}
		if got, want := CategoricalEntropy(logits), math.Log(float64(n)); math.Abs(got-want) > 1e-12 {
			t.Errorf("CategoricalEntropy(uniform %d) = %v, want ln %d = %v", n, got, n, want)
		}
	}
	for _, tc := range logitCases {
		// −Σ p ln p from probabilities computed directly.
		lo := slices.Max(tc.logits)
		z := 0.0
		for _, v := range tc.logits {
			z += math.Exp(v - lo)
		}
		want := 0.0
		for _, v := range tc.logits {
			p := math.Exp(v-lo) / z
			want -= p * math.Log(p)
		}
		if got := CategoricalEntropy(tc.logits); math.Abs(got-want) > 1e-12 {
			t.Errorf("%s: CategoricalEntropy = %v, want %v", tc.name, got, want)
		}
	}
}

// −Inf logits mask actions out.
func TestCategoricalMasked(t *testing.T) {
	inf := math.Inf(-1)
	logits := []float64{inf, 0.5, inf, 0.5}
	if got := CategoricalEntropy(logits); math.Abs(got-math.Ln2) > 1e-12 {
		t.Errorf("CategoricalEntropy(%v) = %v, want ln 2", logits, got)
	}
	if got := CategoricalLogProb(logits, 1); math.Abs(got+math.Ln2) > 1e-12 {
		t.Errorf("CategoricalLogProb(%v, 1) = %v, want −ln 2", logits, got)
	}
	grad := make([]float64, 4)
	CategoricalEntropyGrad(logits, grad)
	for i, g := range grad {
		if math.Abs(g) > 1e-15 {
			t.Errorf("CategoricalEntropyGrad(%v)[%d] = %v, want 0 (maximal entropy)", logits, i, g)
		}
	}
	CategoricalLogProbGrad(logits, 3, grad)
	want := []float64{0, -0.5, 0, 0.5}
	for i := range want {
		if math.Abs(grad[i]-want[i]) > 1e-15 {
			t.Errorf("CategoricalLogProbGrad(%v, 3) = %v, want %v", logits, grad, want)
		}
	}
	rng := newRand(1)
	for range 10000 {
		if a := CategoricalSample(logits, rng); a != 1 && a != 3 {
			t.Fatalf("CategoricalSample(%v) = %d, a masked action", logits, a)
		}
	}
}

func TestCategoricalSampleFrequencies(t *testing.T) {
	probs := []float64{0.1, 0.2, 0.3, 0.4}
	logits := make([]float64, len(probs))
	for i, p := range probs {
		logits[i] = math.Log(p) + 5 // unnormalised
	}
	const n = 200000
	counts := make([]int, len(probs))
	rng := newRand(2024)
	var first []int
	for i := range n {
		a := CategoricalSample(logits, rng)
		counts[a]++
		if i < 20 {
			first = append(first, a)
		}
	}
	for i, p := range probs {
		// 5 standard deviations of a frequency over n draws.
		tol := 5 * math.Sqrt(p*(1-p)/n)
		if f := float64(counts[i]) / n; math.Abs(f-p) > tol {
			t.Errorf("frequency of action %d = %v, want %v ± %.4f", i, f, p, tol)
		}
	}
	rng = newRand(2024)
	for i, want := range first {
		if a := CategoricalSample(logits, rng); a != want {
			t.Fatalf("draw %d with the same seed = %d, want %d", i, a, want)
		}
	}
}

func TestArgmax(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		in   []float64
		want int
	}{
		{nil, -1},
		{[]float64{2}, 0},
		{[]float64{1, 3, 3, 2}, 1},
		{[]float64{-5, -1, -3}, 1},
		{[]float64{nan, 1, 4, nan}, 2},
		{[]float64{math.Inf(-1), math.Inf(-1), 0}, 2},
	} {
		if got := Argmax(tc.in); got != tc.want {
			t.Errorf("Argmax(%v) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// numGrad returns the central finite difference of f at v.
func numGrad(f func([]float64) float64, v []float64) []float64 {
	const eps = 1e-6
	g := make([]float64, len(v))
	for i := range v {
		orig := v[i]
		v[i] = orig + eps
		fp := f(v)
		v[i] = orig - eps
		fm := f(v)
		v[i] = orig
		g[i] = (fp - fm) / (2 * eps)
	}
	return g
}

func checkGrad(t *testing.T, what string, got, want []float64) {
	t.Helper()
	for i := range want {
		if e := relErr(got[i], want[i]); e > 1e-5 {
			t.Errorf("%s[%d] = %.10g, finite difference %.10g (relative error %.2g)", what, i, got[i], want[i], e)
		}
	}
}

func TestCategoricalGradients(t *testing.T) {
	for _, tc := range logitCases {
		logits := slices.Clone(tc.logits)
		dst := make([]float64, len(logits))
		for a := range logits {
			CategoricalLogProbGrad(logits, a, dst)
			checkGrad(t, tc.name+" CategoricalLogProbGrad", dst,
				numGrad(func(v []float64) float64 { return CategoricalLogProb(v, a) }, logits))
		}
		CategoricalEntropyGrad(logits, dst)
		checkGrad(t, tc.name+" CategoricalEntropyGrad", dst, numGrad(CategoricalEntropy, logits))
	}
}

var gaussCases = []struct {
	name            string
	mean, logStd, x []float64
}{
	{"1d", []float64{0.3}, []float64{-0.5}, []float64{0.9}},
	{"3d", []float64{0, 1, -2}, []float64{0, 0.7, -1.2}, []float64{0.5, 0.2, -2.1}},
	{"wide", []float64{5, -5}, []float64{2, -3}, []float64{-10, -5.01}},
}

func TestGaussianClosedForm(t *testing.T) {
	for _, tc := range gaussCases {
		want, wantH := 0.0, 0.0
		for i := range tc.mean {
			sigma := math.Exp(tc.logStd[i])
			d := tc.x[i] - tc.mean[i]
			density := math.Exp(-d*d/(2*sigma*sigma)) / (sigma * math.Sqrt(2*math.Pi))
			want += math.Log(density)
			wantH += 0.5 * math.Log(2*math.Pi*math.E*sigma*sigma)
		}
		if got := GaussianLogProb(tc.mean, tc.logStd, tc.x); math.Abs(got-want) > 1e-9*max(1, math.Abs(want)) {
			t.Errorf("%s: GaussianLogProb = %v, want %v", tc.name, got, want)
		}
		if got := GaussianEntropy(tc.logStd); math.Abs(got-wantH) > 1e-12*max(1, math.Abs(wantH)) {
			t.Errorf("%s: GaussianEntropy = %v, want %v", tc.name, got, wantH)
		}
	}
}

func TestGaussianGradients(t *testing.T) {
	for _, tc := range gaussCases {
		mean, logStd, x := slices.Clone(tc.mean), slices.Clone(tc.logStd), tc.x
		// The grads are added: start from a known offset.
		dMean, dLogStd := make([]float64, len(mean)), make([]float64, len(mean))
		for i := range dMean {
			dMean[i], dLogStd[i] = 10, -10
		}
		GaussianLogProbGrad(mean, logStd, x, dMean, dLogStd)
		for i := range dMean {
			dMean[i] -= 10
			dLogStd[i] += 10
		}
		checkGrad(t, tc.name+" dMean", dMean, numGrad(func(v []float64) float64 { return GaussianLogProb(v, logStd, x) }, mean))
		checkGrad(t, tc.name+" dLogStd", dLogStd, numGrad(func(v []float64) float64 { return GaussianLogProb(mean, v, x) }, logStd))
		ones := make([]float64, len(logStd))
		for i := range ones {
			ones[i] = 1
		}
		checkGrad(t, tc.name+" entropy grad (documented as 1)", ones, numGrad(GaussianEntropy, logStd))
		// nil skips.
		GaussianLogProbGrad(mean, logStd, x, nil, dLogStd)
	}
}

func TestGaussianSample(t *testing.T) {
	mean, logStd := []float64{1.5, -2}, []float64{math.Log(0.5), math.Log(2)}
	const n = 100000
	rng := newRand(7)
	var sum, sumSq [2]float64
	negLogP := 0.0
	var dst []float64
	for range n {
		dst = GaussianSample(mean, logStd, rng, dst)
		negLogP -= GaussianLogProb(mean, logStd, dst) / n
		for i, v := range dst {
			sum[i] += v
			sumSq[i] += v * v
		}
	}
	for i := range mean {
		m := sum[i] / n
		sd := math.Sqrt(sumSq[i]/n - m*m)
		sigma := math.Exp(logStd[i])
		if tol := 5 * sigma / math.Sqrt(n); math.Abs(m-mean[i]) > tol {
			t.Errorf("dim %d: sample mean = %v, want %v ± %v", i, m, mean[i], tol)
		}
		if math.Abs(sd-sigma) > 0.02*sigma {
			t.Errorf("dim %d: sample std = %v, want %v ± 2%%", i, sd, sigma)
		}
	}
	// The entropy is the expected negative log-density.
	if h := GaussianEntropy(logStd); math.Abs(negLogP-h) > 0.02 {
		t.Errorf("mean of −log p over samples = %v, GaussianEntropy = %v", negLogP, h)
	}
	a := GaussianSample(mean, logStd, newRand(3), nil)
	b := GaussianSample(mean, logStd, newRand(3), make([]float64, 0, 8))
	if !slices.Equal(a, b) {
		t.Errorf("GaussianSample with the same seed = %v and %v", a, b)
	}
}
