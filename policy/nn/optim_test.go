package nn

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// Two Adam steps on a two-element parameter, against torch's formula
// worked by hand: m̂ = m/(1−β1ᵗ), v̂ = v/(1−β2ᵗ), p −= lr·m̂/(√v̂+eps), with
// β1 0.9, β2 0.999, eps 1e-5, lr 0.1, p = (1, −2), g1 = (0.5, −1),
// g2 = (0.25, 3).
//
// Step 1: m̂ = g1, v̂ = g1², so p −= 0.1·g/(|g|+1e-5):
// p = (1 − 0.05/0.50001, −2 + 0.1/1.00001) = (0.90000199996, −1.90000099999).
// Step 2, first element: m = 0.045+0.025 = 0.07, v = 0.00024975+0.0000625 =
// 0.00031225; m̂ = 0.07/0.19, v̂ = 0.00031225/0.001999; p −= 0.1·m̂/(√v̂+1e-5).
// Second element: m = −0.09+0.3 = 0.21, v = 0.000999+0.009 = 0.009999.
func TestAdamFirstSteps(t *testing.T) {
	p := &Param{Name: "p", Value: []float64{1, -2}, Grad: make([]float64, 2)}
	opt := NewAdam([]*Param{p}, 0.1)
	if opt.Beta1 != 0.9 || opt.Beta2 != 0.999 || opt.Eps != 1e-5 {
		t.Fatalf("NewAdam defaults = β1 %v, β2 %v, eps %v, want 0.9, 0.999, 1e-5", opt.Beta1, opt.Beta2, opt.Eps)
	}
	steps := []struct {
		grad, want []float64
	}{
		{[]float64{0.5, -1}, []float64{0.9000019999600007, -1.90000099999}},
		{[]float64{0.25, 3}, []float64{0.8067863946218562, -1.9494197623564946}},
	}
	for i, s := range steps {
		copy(p.Grad, s.grad)
		opt.Step()
		for j := range p.Value {
			if math.Abs(p.Value[j]-s.want[j]) > 1e-12 {
				t.Errorf("step %d: Value[%d] = %.16g, want %.16g", i+1, j, p.Value[j], s.want[j])
			}
		}
	}
	if opt.Steps() != 2 {
		t.Errorf("Steps() = %d, want 2", opt.Steps())
	}
}

// An MLP learns XOR with a categorical head: a real training run.
func TestTrainXOR(t *testing.T) {
	rng := newRand(1)
	m := NewMLP([]int{2, 16, 16, 2}, Tanh, 1, rng)
	x := mat.NewDense(4, 2, []float64{0, 0, 0, 1, 1, 0, 1, 1})
	labels := []int{0, 1, 1, 0}
	opt := NewAdam(m.Params(), 0.01)
	var loss float64
	for range 500 {
		m.ZeroGrad()
		y := m.Forward(x)
		d := mat.NewDense(4, 2, nil)
		loss = 0
		for i, a := range labels {
			loss -= CategoricalLogProb(y.RawRowView(i), a) / 4
			CategoricalLogProbGrad(y.RawRowView(i), a, d.RawRowView(i))
		}
		d.Scale(-0.25, d)
		m.Backward(d)
		opt.Step()
	}
	t.Logf("XOR cross-entropy after 500 steps: %.3g", loss)
	if loss > 0.01 {
		t.Errorf("XOR cross-entropy after 500 Adam steps = %v, want < 0.01", loss)
	}
	for i, a := range labels {
		if got := Argmax(m.Predict(x.RawRowView(i))); got != a {
			t.Errorf("XOR(%v) = %d, want %d", x.RawRowView(i), got, a)
		}
	}
}

// A ReLU MLP fits sin(πx) on [−1, 1] with clipped gradients.
func TestTrainRegression(t *testing.T) {
	rng := newRand(2)
	m := NewMLP([]int{1, 32, 32, 1}, ReLU, 1, rng)
	const n = 64
	x := mat.NewDense(n, 1, nil)
	target := make([]float64, n)
	for i := range n {
		v := -1 + 2*float64(i)/(n-1)
		x.Set(i, 0, v)
		target[i] = math.Sin(math.Pi * v)
	}
	params := m.Params()
	opt := NewAdam(params, 3e-3)
	first, mse := 0.0, 0.0
	for step := range 2000 {
		m.ZeroGrad()
		y := m.Forward(x)
		d := mat.NewDense(n, 1, nil)
		mse = 0
		for i := range n {
			e := y.At(i, 0) - target[i]
			mse += e * e / n
			d.Set(i, 0, 2*e/n)
		}
		if step == 0 {
			first = mse
		}
		m.Backward(d)
		ClipGradNorm(params, 0.5)
		opt.Step()
	}
	t.Logf("sin regression MSE: %.3g after 2000 steps, %.3g at the start", mse, first)
	if mse > 2e-3 {
		t.Errorf("sin regression MSE after 2000 steps = %v (started at %v), want < 2e-3", mse, first)
	}
}

func TestClipGradNorm(t *testing.T) {
	for _, tc := range []struct {
		name  string
		grads [][]float64
		max   float64
		norm  float64
		scale float64
	}{
		{"clipped", [][]float64{{3, 0}, {4}}, 1, 5, 1 / (5 + 1e-6)},
		{"clipped to 2.5", [][]float64{{3, 0}, {4}}, 2.5, 5, 2.5 / (5 + 1e-6)},
		{"under the max", [][]float64{{0.3}, {0.4}}, 1, 0.5, 1},
		{"zero", [][]float64{{0, 0}}, 1, 0, 1},
	} {
		params := make([]*Param, len(tc.grads))
		orig := make([][]float64, len(tc.grads))
		for i, g := range tc.grads {
			orig[i] = append([]float64(nil), g...)
			params[i] = &Param{Name: "p", Value: make([]float64, len(g)), Grad: g}
		}
		if got := GradNorm(params); math.Abs(got-tc.norm) > 1e-15 {
			t.Errorf("%s: GradNorm = %v, want %v", tc.name, got, tc.norm)
		}
		if got := ClipGradNorm(params, tc.max); math.Abs(got-tc.norm) > 1e-15 {
			t.Errorf("%s: ClipGradNorm = %v, want %v", tc.name, got, tc.norm)
		}
		for i, p := range params {
			for j, g := range p.Grad {
				if want := orig[i][j] * tc.scale; g != want {
					t.Errorf("%s: grad[%d][%d] = %v, want %v", tc.name, i, j, g, want)
				}
			}
		}
	}
}

func TestNonFinite(t *testing.T) {
	ok := &Param{Name: "ok", Value: []float64{1}, Grad: []float64{2}}
	for _, tc := range []struct {
		name, want string
		p          *Param
	}{
		{"nan grad", "b", &Param{Name: "b", Value: []float64{1}, Grad: []float64{math.NaN()}}},
		{"inf value", "c", &Param{Name: "c", Value: []float64{math.Inf(-1)}, Grad: []float64{0}}},
	} {
		params := []*Param{ok, tc.p}
		if name, bad := HasNaN(params); !bad || name != tc.want {
			t.Errorf("%s: HasNaN = %q, %v, want %q, true", tc.name, name, bad, tc.want)
		}
	}
	if name, bad := HasNaN([]*Param{ok}); bad {
		t.Errorf("HasNaN(finite) = %q, true, want false", name)
	}
	nan := &Param{Name: "n", Value: []float64{0, 0}, Grad: []float64{math.NaN(), 1}}
	if got := ClipGradNorm([]*Param{nan}, 1); !math.IsNaN(got) || nan.Grad[1] != 1 {
		t.Errorf("ClipGradNorm(NaN grad) = %v, grads %v, want NaN and untouched", got, nan.Grad)
	}
}
