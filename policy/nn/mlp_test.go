package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

func randDense(rng *rand.Rand, r, c int, lo, hi float64) *mat.Dense {
	d := mat.NewDense(r, c, nil)
	for i := range r {
		for j := range c {
			d.Set(i, j, lo+(hi-lo)*rng.Float64())
		}
	}
	return d
}

// relErr compares an analytic and a numeric derivative; below 1e-4 in
// magnitude both are compared absolutely (scaled by 1e-4), since central
// differences with eps 1e-6 carry about 1e-10 of round-off.
func relErr(a, b float64) float64 {
	return math.Abs(a-b) / max(math.Abs(a), math.Abs(b), 1e-4)
}

// preActs returns every hidden layer's pre-activation values for x.
func preActs(m *MLP, x *mat.Dense) []float64 {
	var all []float64
	h := mat.DenseCopyOf(x)
	for l := 0; l < m.Layers()-1; l++ {
		var z mat.Dense
		z.Mul(h, m.Weight(l).T())
		r, c := z.Dims()
		for i := range r {
			for j := range c {
				v := z.At(i, j) + m.Bias(l)[j]
				z.Set(i, j, v)
				all = append(all, v)
				switch m.act {
				case Tanh:
					z.Set(i, j, math.Tanh(v))
				case ReLU:
					z.Set(i, j, max(v, 0))
				}
			}
		}
		h = &z
	}
	return all
}

// A scalar loss of the outputs and its gradient with respect to them.
type lossFunc func(y *mat.Dense) (float64, *mat.Dense)

func sumSquares(y *mat.Dense) (float64, *mat.Dense) {
	r, c := y.Dims()
	d := mat.NewDense(r, c, nil)
	l := 0.0
	for i := range r {
		for j := range c {
			v := y.At(i, j)
			l += 0.5 * v * v
			d.Set(i, j, v)
		}
	}
	return l, d
}

func logProbLoss(actions []int) lossFunc {
	return func(y *mat.Dense) (float64, *mat.Dense) {
		r, c := y.Dims()
		d := mat.NewDense(r, c, nil)
		l := 0.0
		for i := range r {
			l += CategoricalLogProb(y.RawRowView(i), actions[i])
			CategoricalLogProbGrad(y.RawRowView(i), actions[i], d.RawRowView(i))
		}
		return l, d
	}
}

// gradCheckNet builds a net with random weights and biases whose hidden
// pre-activations at x all lie at least 1e-3 from 0 (ReLU's kink).
func gradCheckNet(t *testing.T, act Activation, x *mat.Dense) *MLP {
	t.Helper()
	for seed := uint64(1); seed < 200; seed++ {
		rng := newRand(seed)
		m := NewMLP([]int{3, 5, 4, 3}, act, 1, rng)
		for _, p := range m.Params() {
			for j := range p.Value {
				p.Value[j] += 0.3 * rng.NormFloat64()
			}
		}
		ok := true
		for _, z := range preActs(m, x) {
			if math.Abs(z) < 1e-3 {
				ok = false
			}
		}
		if ok {
			return m
		}
	}
	t.Fatal("no seed gave pre-activations away from 0")
	return nil
}

func TestMLPGradients(t *testing.T) {
	const eps = 1e-6
	for _, act := range []Activation{Tanh, ReLU} {
		for _, lc := range []struct {
			name string
			loss lossFunc
		}{
			{"sum of squares", sumSquares},
			{"categorical log-prob", logProbLoss([]int{0, 2, 1, 2})},
		} {
			t.Run(fmt.Sprintf("%v/%s", act, lc.name), func(t *testing.T) {
				x := randDense(newRand(7), 4, 3, -1.5, 1.5)
				m := gradCheckNet(t, act, x)
				lossAt := func() float64 {
					l, _ := lc.loss(m.Forward(x))
					return l
				}
				m.ZeroGrad()
				_, dy := lc.loss(m.Forward(x))
				dx := m.Backward(dy)

				worst, checked := 0.0, 0
				for _, p := range m.Params() {
					for j := range p.Value {
						orig := p.Value[j]
						p.Value[j] = orig + eps
						lp := lossAt()
						p.Value[j] = orig - eps
						lm := lossAt()
						p.Value[j] = orig
						num := (lp - lm) / (2 * eps)
						if e := relErr(p.Grad[j], num); e > 1e-5 {
							t.Errorf("%s[%d]: Backward grad = %.10g, finite difference %.10g (relative error %.2g)", p.Name, j, p.Grad[j], num, e)
						} else {
							worst = max(worst, e)
						}
						checked++
					}
				}
				r, c := x.Dims()
				for i := range r {
					for j := range c {
						orig := x.At(i, j)
						x.Set(i, j, orig+eps)
						lp := lossAt()
						x.Set(i, j, orig-eps)
						lm := lossAt()
						x.Set(i, j, orig)
						num := (lp - lm) / (2 * eps)
						if e := relErr(dx.At(i, j), num); e > 1e-5 {
							t.Errorf("input[%d,%d]: Backward = %.10g, finite difference %.10g (relative error %.2g)", i, j, dx.At(i, j), num, e)
						} else {
							worst = max(worst, e)
						}
						checked++
					}
				}
				if checked != m.NumParams()+r*c {
					t.Errorf("checked %d derivatives, want %d", checked, m.NumParams()+r*c)
				}
				t.Logf("%d derivatives, worst relative error %.2g", checked, worst)
			})
		}
	}
}

func TestBackwardAccumulates(t *testing.T) {
	rng := newRand(3)
	m := NewMLP([]int{4, 6, 2}, Tanh, 1, rng)
	x := randDense(rng, 5, 4, -1, 1)
	_, dy := sumSquares(m.Forward(x))
	m.ZeroGrad()
	m.Backward(dy)
	once := slices.Clone(m.grad)
	m.Backward(dy)
	for i := range once {
		if math.Abs(m.grad[i]-2*once[i]) > 1e-14*math.Abs(once[i]) {
			t.Fatalf("grad[%d] after two Backward calls = %v, want 2×%v", i, m.grad[i], once[i])
		}
	}
	m.ZeroGrad()
	for i, g := range m.grad {
		if g != 0 {
			t.Fatalf("grad[%d] after ZeroGrad = %v, want 0", i, g)
		}
	}
}

// Predict between Forward and Backward changes nothing Backward computes.
func TestPredictLeavesCache(t *testing.T) {
	rng := newRand(4)
	m := NewMLP([]int{4, 8, 8, 3}, ReLU, 1, rng)
	x := randDense(rng, 6, 4, -1, 1)
	other := []float64{0.3, -0.2, 0.9, 0.1}
	_, dy := sumSquares(m.Forward(x))
	want := m.Backward(dy)
	wantGrad := slices.Clone(m.grad)

	m.ZeroGrad()
	m.Forward(x)
	m.Predict(other)
	got := m.Backward(dy)
	if !mat.Equal(got, want) || !slices.Equal(m.grad, wantGrad) {
		t.Errorf("Backward after a Predict differs from Backward without it")
	}
}

// Predict agrees with Forward, whatever batch sizes came before, and with an
// input that is a view into a larger matrix.
func TestPredictMatchesForward(t *testing.T) {
	rng := newRand(5)
	for _, act := range []Activation{Tanh, ReLU} {
		m := NewMLP([]int{3, 7, 5, 2}, act, 0.5, rng)
		for _, p := range m.Params() {
			for j := range p.Value {
				p.Value[j] += 0.1 * rng.NormFloat64()
			}
		}
		for _, batch := range []int{5, 2, 9, 1, 5} {
			big := randDense(rng, batch+2, 5, -2, 2)
			x := big.Slice(1, batch+1, 1, 4).(*mat.Dense)
			y := m.Forward(x)
			if r, c := y.Dims(); r != batch || c != 2 {
				t.Fatalf("Forward(%d×3) is %d×%d, want %d×2", batch, r, c, batch)
			}
			for i := range batch {
				p := m.Predict(mat.Row(nil, i, x))
				for j := range p {
					if math.Abs(p[j]-y.At(i, j)) > 1e-12 {
						t.Errorf("%v batch %d row %d: Predict = %v, Forward = %v", act, batch, i, p, y.RawRowView(i))
					}
				}
			}
		}
	}
}

// Forward's result is the caller's: a later Forward does not overwrite it.
func TestForwardResultOwned(t *testing.T) {
	rng := newRand(6)
	m := NewMLP([]int{2, 4, 2}, Tanh, 1, rng)
	x1 := randDense(rng, 3, 2, -1, 1)
	y1 := m.Forward(x1)
	keep := mat.DenseCopyOf(y1)
	m.Forward(randDense(rng, 3, 2, -1, 1))
	if !mat.Equal(y1, keep) {
		t.Errorf("a second Forward changed the first Forward's result")
	}
}

func TestOrthogonal(t *testing.T) {
	for _, tc := range []struct {
		rows, cols int
		gain       float64
	}{
		{8, 8, math.Sqrt2},
		{4, 8, 1},
		{8, 4, 0.01},
		{1, 5, 1},
		{5, 1, math.Sqrt2},
	} {
		w := mat.NewDense(tc.rows, tc.cols, nil)
		orthogonal(w, tc.gain, newRand(1))
		var g mat.Dense
		n := min(tc.rows, tc.cols)
		if tc.rows <= tc.cols {
			g.Mul(w, w.T()) // rows orthonormal
		} else {
			g.Mul(w.T(), w) // columns orthonormal
		}
		want := mat.NewDiagDense(n, nil)
		for i := range n {
			want.SetDiag(i, tc.gain*tc.gain)
		}
		if !mat.EqualApprox(&g, want, 1e-12*max(1, tc.gain*tc.gain)) {
			t.Errorf("orthogonal(%d×%d, gain %v): Gram matrix\n%v\nwant %v·I", tc.rows, tc.cols, tc.gain, mat.Formatted(&g), tc.gain*tc.gain)
		}
	}
}

func TestNewMLPInit(t *testing.T) {
	sizes := []int{6, 10, 10, 3}
	m := NewMLP(sizes, Tanh, 0.01, newRand(42))
	if got := m.Sizes(); !slices.Equal(got, sizes) {
		t.Errorf("Sizes() = %v, want %v", got, sizes)
	}
	wantN := 6*10 + 10 + 10*10 + 10 + 10*3 + 3
	if m.NumParams() != wantN {
		t.Errorf("NumParams() = %d, want %d", m.NumParams(), wantN)
	}
	n := 0
	var names []string
	for _, p := range m.Params() {
		n += len(p.Value)
		names = append(names, p.Name)
	}
	wantNames := []string{"l0.weight", "l0.bias", "l1.weight", "l1.bias", "l2.weight", "l2.bias"}
	if n != wantN || !slices.Equal(names, wantNames) {
		t.Errorf("Params() = %v holding %d values, want %v holding %d", names, n, wantNames, wantN)
	}
	for l := range m.Layers() {
		gain := math.Sqrt2
		if l == m.Layers()-1 {
			gain = 0.01
		}
		w := m.Weight(l)
		out, in := w.Dims()
		if out != sizes[l+1] || in != sizes[l] {
			t.Errorf("Weight(%d) is %d×%d, want %d×%d", l, out, in, sizes[l+1], sizes[l])
		}
		var g mat.Dense
		if out <= in {
			g.Mul(w, w.T())
		} else {
			g.Mul(w.T(), w)
		}
		k := min(out, in)
		for i := range k {
			for j := range k {
				want := 0.0
				if i == j {
					want = gain * gain
				}
				if math.Abs(g.At(i, j)-want) > 1e-12 {
					t.Fatalf("layer %d Gram[%d,%d] = %v, want %v", l, i, j, g.At(i, j), want)
				}
			}
		}
		for j, b := range m.Bias(l) {
			if b != 0 {
				t.Errorf("Bias(%d)[%d] = %v, want 0", l, j, b)
			}
		}
	}
}

func TestDeterminism(t *testing.T) {
	build := func(seed uint64) (*MLP, *mat.Dense) {
		m := NewMLP([]int{4, 16, 16, 2}, ReLU, 1, newRand(seed))
		return m, m.Forward(randDense(newRand(99), 8, 4, -1, 1))
	}
	a, ya := build(11)
	b, yb := build(11)
	c, _ := build(12)
	for i := range a.value {
		if math.Float64bits(a.value[i]) != math.Float64bits(b.value[i]) {
			t.Fatalf("seed 11 twice: weight %d = %v and %v", i, a.value[i], b.value[i])
		}
	}
	if !mat.Equal(ya, yb) {
		t.Errorf("seed 11 twice: outputs differ")
	}
	if slices.Equal(a.value, c.value) {
		t.Errorf("seeds 11 and 12 gave the same weights")
	}
}

func TestClone(t *testing.T) {
	rng := newRand(8)
	m := NewMLP([]int{3, 5, 2}, Tanh, 1, rng)
	x := randDense(rng, 4, 3, -1, 1)
	_, dy := sumSquares(m.Forward(x))
	m.Backward(dy)
	c := m.Clone()
	if !slices.Equal(c.value, m.value) {
		t.Fatalf("Clone's weights differ from the original's")
	}
	for i, g := range c.grad {
		if g != 0 {
			t.Fatalf("Clone grad[%d] = %v, want 0", i, g)
		}
	}
	if !mat.Equal(c.Forward(x), m.Forward(x)) {
		t.Errorf("Clone's outputs differ from the original's")
	}
	before := m.value[0]
	c.Params()[0].Value[0] += 1
	if m.value[0] != before {
		t.Errorf("changing the clone changed the original")
	}
	if err := m.CopyFrom(c); err != nil || m.value[0] != before+1 {
		t.Errorf("CopyFrom(clone) = %v, weight %v, want nil, %v", err, m.value[0], before+1)
	}
	if err := m.CopyFrom(NewMLP([]int{3, 4, 2}, Tanh, 1, rng)); err == nil {
		t.Errorf("CopyFrom(net of other sizes) = nil, want an error")
	}
}

func TestMisusePanics(t *testing.T) {
	m := NewMLP([]int{3, 4, 2}, Tanh, 1, newRand(1))
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"Backward before Forward", func() { m.Clone().Backward(mat.NewDense(1, 2, nil)) }},
		{"Forward wrong width", func() { m.Forward(mat.NewDense(2, 4, nil)) }},
		{"Backward wrong batch", func() { m.Forward(mat.NewDense(2, 3, nil)); m.Backward(mat.NewDense(3, 2, nil)) }},
		{"Predict wrong length", func() { m.Predict([]float64{1, 2}) }},
		{"NewMLP one size", func() { NewMLP([]int{3}, Tanh, 1, newRand(1)) }},
		{"NewMLP zero size", func() { NewMLP([]int{3, 0, 2}, Tanh, 1, newRand(1)) }},
		{"NewMLP bad activation", func() { NewMLP([]int{3, 2}, Activation(7), 1, newRand(1)) }},
		{"NewMLP nil rng", func() { NewMLP([]int{3, 2}, Tanh, 1, nil) }},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic, want one", tc.name)
				}
			}()
			tc.f()
		}()
	}
}

// The network holds steady under the race detector when many goroutines
// Predict at once.
func TestPredictConcurrent(t *testing.T) {
	m := NewMLP([]int{4, 16, 2}, Tanh, 1, newRand(2))
	x := []float64{0.1, 0.2, 0.3, 0.4}
	want := m.Predict(x)
	done := make(chan []float64)
	for range 4 {
		go func() { done <- m.Predict(x) }()
	}
	for range 4 {
		if got := <-done; !slices.Equal(got, want) {
			t.Errorf("concurrent Predict = %v, want %v", got, want)
		}
	}
}

func BenchmarkForwardBackward(b *testing.B) {
	rng := newRand(1)
	m := NewMLP([]int{4, 64, 64, 2}, Tanh, 1, rng)
	x := randDense(rng, 128, 4, -1, 1)
	dy := randDense(rng, 128, 2, -1, 1)
	b.ReportAllocs()
	for b.Loop() {
		m.Forward(x)
		m.Backward(dy)
	}
}

func BenchmarkPredict(b *testing.B) {
	rng := newRand(1)
	m := NewMLP([]int{4, 64, 64, 2}, Tanh, 1, rng)
	x := []float64{0.1, -0.2, 0.3, 0.05}
	b.ReportAllocs()
	for b.Loop() {
		m.Predict(x)
	}
}
