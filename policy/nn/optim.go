package nn

import "math"

// Param is one tensor: its values and gradient, flat, aliasing the
// network's storage (or, for a free tensor such as a learned log std, any
// storage its owner chooses). Value and Grad have the same length.
type Param struct {
	Name        string
	Value, Grad []float64
}

// NewParam returns a free tensor of n zeros with its gradient.
func NewParam(name string, n int) *Param {
	return &Param{Name: name, Value: make([]float64, n), Grad: make([]float64, n)}
}

// Adam is torch.optim.Adam without weight decay or AMSGrad:
//
//	m ← β1·m + (1−β1)·g
//	v ← β2·v + (1−β2)·g²
//	p ← p − LR/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + Eps)
//
// LR, Beta1, Beta2 and Eps may be changed between steps (CleanRL anneals the
// learning rate by setting LR).
type Adam struct {
	LR, Beta1, Beta2, Eps float64

	params []*Param
	m, v   [][]float64
	t      int
}

// NewAdam returns an Adam over params with β1 0.9, β2 0.999 and Eps 1e-5
// (CleanRL's PPO; torch's default is 1e-8).
func NewAdam(params []*Param, lr float64) *Adam {
	a := &Adam{LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-5, params: params}
	a.m = make([][]float64, len(params))
	a.v = make([][]float64, len(params))
	for i, p := range params {
		a.m[i] = make([]float64, len(p.Value))
		a.v[i] = make([]float64, len(p.Value))
	}
	return a
}

// Steps returns the number of steps taken.
func (a *Adam) Steps() int { return a.t }

// Step updates every parameter's Value from its Grad.
func (a *Adam) Step() {
	a.t++
	bc1 := 1 - math.Pow(a.Beta1, float64(a.t))
	bc2 := 1 - math.Pow(a.Beta2, float64(a.t))
	stepSize := a.LR / bc1
	sqrtBC2 := math.Sqrt(bc2)
	for i, p := range a.params {
		m, v := a.m[i], a.v[i]
		for j, g := range p.Grad {
			m[j] = a.Beta1*m[j] + (1-a.Beta1)*g
			v[j] = a.Beta2*v[j] + (1-a.Beta2)*g*g
			p.Value[j] -= stepSize * m[j] / (math.Sqrt(v[j])/sqrtBC2 + a.Eps)
		}
	}
}

// GradNorm returns the global L2 norm of all the gradients.
func GradNorm(params []*Param) float64 {
	s := 0.0
	for _, p := range params {
		for _, g := range p.Grad {
			s += g * g
		}
	}
	return math.Sqrt(s)
}

// ClipGradNorm scales all grads so their global L2 norm is at most max, as
// torch.nn.utils.clip_grad_norm_: when the norm exceeds max, every gradient
// is multiplied by max/(norm+1e-6). It returns the norm before clipping. A
// non-finite norm leaves the gradients unchanged (check with HasNaN).
func ClipGradNorm(params []*Param, max float64) float64 {
	norm := GradNorm(params)
	if math.IsNaN(norm) || math.IsInf(norm, 0) {
		return norm
	}
	coef := max / (norm + 1e-6)
	if coef >= 1 {
		return norm
	}
	for _, p := range params {
		for j := range p.Grad {
			p.Grad[j] *= coef
		}
	}
	return norm
}

// HasNaN reports the name of the first parameter with a NaN or an infinity
// in its values or gradients.
func HasNaN(params []*Param) (name string, bad bool) {
	for _, p := range params {
		if !finite(p.Value) || !finite(p.Grad) {
			return p.Name, true
		}
	}
	return "", false
}

// finite reports whether every value is neither NaN nor infinite.
func finite(v []float64) bool {
	for _, x := range v {
		if x-x != 0 {
			return false
		}
	}
	return true
}
