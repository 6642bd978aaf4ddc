package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// Activation of hidden layers.
type Activation int

// The hidden-layer activations.
const (
	Tanh Activation = iota
	ReLU
)

// String returns the name used in weights files: "tanh" or "relu".
func (a Activation) String() string {
	switch a {
	case Tanh:
		return "tanh"
	case ReLU:
		return "relu"
	}
	return fmt.Sprintf("Activation(%d)", int(a))
}

// ParseActivation reads the name String returns.
func ParseActivation(s string) (Activation, error) {
	switch s {
	case "tanh":
		return Tanh, nil
	case "relu":
		return ReLU, nil
	}
	return 0, fmt.Errorf("nn: unknown activation %q: want \"tanh\" or \"relu\"", s)
}

// MLP is a fully connected network: Linear → act → … → Linear (no activation
// on the output).
//
// All weights live in one flat slice and all gradients in another; the
// matrices, biases and [Param] values alias them. An MLP is not safe for
// concurrent use, except that any number of [MLP.Predict] calls may run
// concurrently while nothing modifies the weights.
type MLP struct {
	sizes   []int
	act     Activation
	outGain float64

	value, grad []float64    // every parameter, flat: W0, b0, W1, b1, …
	w, dw       []*mat.Dense // per layer, out×in, aliasing value and grad
	b, db       [][]float64  // per layer, aliasing value and grad
	params      []*Param

	// The cache of the last Forward, and Backward's scratch. The slices keep
	// their capacity across batch sizes; batch is 0 before the first Forward.
	batch int
	acts  [][]float64 // acts[0] = input copy, acts[l] = output of hidden layer l
	dbuf  [2][]float64
}

// NewMLP builds sizes[0] inputs → hidden … → sizes[len-1] outputs, with
// weights by orthogonal initialisation (as torch.nn.init.orthogonal_, used by
// CleanRL's layer_init): gain √2 on hidden layers and outGain on the last
// layer, biases 0. The weights are drawn from rng in layer order, so the
// same seed gives the same network.
//
// NewMLP panics on fewer than two sizes, a size below 1, an unknown
// activation or a nil rng: these are programming errors.
func NewMLP(sizes []int, act Activation, outGain float64, rng *rand.Rand) *MLP {
	if rng == nil {
		panic("nn: NewMLP: nil rng")
	}
	m := newMLP(sizes, act, outGain)
	for l := range m.w {
		gain := math.Sqrt2
		if l == len(m.w)-1 {
			gain = outGain
		}
		orthogonal(m.w[l], gain, rng)
	}
	return m
}

// newMLP allocates a network of zero weights.
func newMLP(sizes []int, act Activation, outGain float64) *MLP {
	if len(sizes) < 2 {
		panic(fmt.Sprintf("nn: NewMLP: sizes %v: want at least an input and an output size", sizes))
	}
	for _, s := range sizes {
		if s < 1 {
			panic(fmt.Sprintf("nn: NewMLP: sizes %v: every size must be at least 1", sizes))
		}
	}
	if act != Tanh && act != ReLU {
		panic(fmt.Sprintf("nn: NewMLP: unknown activation %d", int(act)))
	}
	n := countParams(sizes)
	m := &MLP{
		sizes:   slices.Clone(sizes),
		act:     act,
		outGain: outGain,
		value:   make([]float64, n),
		grad:    make([]float64, n),
	}
	m.bind()
	return m
}

// countParams returns the number of parameters of a network of these sizes.
func countParams(sizes []int) int {
	n := 0
	for l := 0; l+1 < len(sizes); l++ {
		n += sizes[l]*sizes[l+1] + sizes[l+1]
	}
	return n
}

// bind points the matrices, biases and Params at value and grad.
func (m *MLP) bind() {
	layers := len(m.sizes) - 1
	m.w = make([]*mat.Dense, layers)
	m.dw = make([]*mat.Dense, layers)
	m.b = make([][]float64, layers)
	m.db = make([][]float64, layers)
	m.params = make([]*Param, 0, 2*layers)
	off := 0
	for l := range layers {
		in, out := m.sizes[l], m.sizes[l+1]
		nw := in * out
		m.w[l] = mat.NewDense(out, in, m.value[off:off+nw:off+nw])
		m.dw[l] = mat.NewDense(out, in, m.grad[off:off+nw:off+nw])
		m.params = append(m.params, &Param{
			Name:  fmt.Sprintf("l%d.weight", l),
			Value: m.value[off : off+nw : off+nw],
			Grad:  m.grad[off : off+nw : off+nw],
		})
		off += nw
		m.b[l] = m.value[off : off+out : off+out]
		m.db[l] = m.grad[off : off+out : off+out]
		m.params = append(m.params, &Param{
			Name:  fmt.Sprintf("l%d.bias", l),
			Value: m.b[l],
			Grad:  m.db[l],
		})
		off += out
	}
}

// orthogonal fills w (rows×cols) as torch.nn.init.orthogonal_: a standard
// normal matrix (drawn row-major), transposed to be tall if it is wide, is
// QR-factorised; Q's columns are multiplied by the signs of R's diagonal,
// transposed back, and scaled by gain. So w·wᵀ = gain²·I when rows ≤ cols and
// wᵀ·w = gain²·I when rows ≥ cols.
func orthogonal(w *mat.Dense, gain float64, rng *rand.Rand) {
	rows, cols := w.Dims()
	a := mat.NewDense(rows, cols, nil)
	for i := range rows {
		for j := range cols {
			a.Set(i, j, rng.NormFloat64())
		}
	}
	tall := mat.DenseCopyOf(a)
	if rows < cols {
		tall = mat.DenseCopyOf(a.T())
	}
	m, n := tall.Dims() // m ≥ n
	var qr mat.QR
	qr.Factorize(tall)
	var q, r mat.Dense
	qr.QTo(&q)
	qr.RTo(&r)
	for j := range n {
		s := 1.0
		if r.At(j, j) < 0 {
			s = -1
		}
		for i := range m {
			v := gain * s * q.At(i, j)
			if rows < cols {
				w.Set(j, i, v)
			} else {
				w.Set(i, j, v)
			}
		}
	}
}

// Sizes returns a copy of the layer sizes, input first.
func (m *MLP) Sizes() []int { return slices.Clone(m.sizes) }

// Act returns the hidden-layer activation.
func (m *MLP) Act() Activation { return m.act }

// OutGain returns the gain the output layer was initialised with.
func (m *MLP) OutGain() float64 { return m.outGain }

// Layers returns the number of linear layers, len(Sizes())-1.
func (m *MLP) Layers() int { return len(m.w) }

// Weight returns layer l's weight matrix (out×in), aliasing the network.
func (m *MLP) Weight(l int) *mat.Dense { return m.w[l] }

// Bias returns layer l's bias vector, aliasing the network.
func (m *MLP) Bias(l int) []float64 { return m.b[l] }

// NumParams returns the number of scalar parameters.
func (m *MLP) NumParams() int { return len(m.value) }

// Params returns every weight matrix and bias vector in a fixed order:
// l0.weight, l0.bias, l1.weight, …; the weight values are row-major out×in.
// The Params alias the network: an optimiser that updates Value updates the
// network. Each call returns a new slice of the same *Param pointers.
func (m *MLP) Params() []*Param { return slices.Clone(m.params) }

// ZeroGrad sets every gradient to zero.
func (m *MLP) ZeroGrad() { clear(m.grad) }

// Clone returns a deep copy of the weights with zero gradients and an empty
// cache: a frozen reference policy, or a target network.
func (m *MLP) Clone() *MLP {
	c := newMLP(m.sizes, m.act, m.outGain)
	copy(c.value, m.value)
	return c
}

// CopyFrom copies src's weights into m; the sizes must match.
func (m *MLP) CopyFrom(src *MLP) error {
	if !slices.Equal(m.sizes, src.sizes) {
		return fmt.Errorf("nn: CopyFrom: sizes %v into a net of sizes %v", src.sizes, m.sizes)
	}
	copy(m.value, src.value)
	return nil
}

// CheckSizes returns an error that says what differs when m's layer sizes
// are not want: use it after loading weights for a policy of known shape.
func (m *MLP) CheckSizes(want []int) error {
	if !slices.Equal(m.sizes, want) {
		return fmt.Errorf("nn: the weights are for a net of sizes %v, this policy needs sizes %v: train or export weights for this policy's observation and action sizes", m.sizes, want)
	}
	return nil
}

// grow returns s resliced to n, reallocated only if its capacity is short.
func grow(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}

// prepare sizes the cache and scratch for a batch of rows.
func (m *MLP) prepare(rows int) {
	layers := len(m.w)
	if m.acts == nil {
		m.acts = make([][]float64, layers)
	}
	widest := 0
	for l := range layers {
		m.acts[l] = grow(m.acts[l], rows*m.sizes[l])
		if l > 0 {
			widest = max(widest, m.sizes[l])
		}
	}
	for i := range m.dbuf {
		m.dbuf[i] = grow(m.dbuf[i], rows*widest)
	}
	m.batch = rows
}

func general(rows, cols int, data []float64) blas64.General {
	return blas64.General{Rows: rows, Cols: cols, Stride: cols, Data: data}
}

// Forward runs a batch x (batch×in, one sample per row) through the network
// and returns the outputs (batch×out), a new matrix the caller owns. It
// caches a copy of x and the hidden activations for the next Backward,
// replacing the cache of any earlier Forward. It panics if x does not have
// Sizes()[0] columns.
func (m *MLP) Forward(x *mat.Dense) *mat.Dense {
	rows, cols := x.Dims()
	if cols != m.sizes[0] {
		panic(fmt.Sprintf("nn: Forward: input is %d×%d, the net takes %d inputs", rows, cols, m.sizes[0]))
	}
	m.prepare(rows)
	raw := x.RawMatrix()
	for i := range rows {
		copy(m.acts[0][i*cols:(i+1)*cols], raw.Data[i*raw.Stride:i*raw.Stride+cols])
	}
	last := len(m.w) - 1
	out := make([]float64, rows*m.sizes[last+1])
	for l := range m.w {
		in, o := m.sizes[l], m.sizes[l+1]
		z := out
		if l < last {
			z = m.acts[l+1]
		}
		for i := range rows {
			copy(z[i*o:(i+1)*o], m.b[l])
		}
		blas64.Gemm(blas.NoTrans, blas.Trans, 1, general(rows, in, m.acts[l]), m.w[l].RawMatrix(), 1, general(rows, o, z))
		if l < last {
			m.activate(z)
		}
	}
	return mat.NewDense(rows, m.sizes[last+1], out)
}

func (m *MLP) activate(z []float64) {
	switch m.act {
	case Tanh:
		for i, v := range z {
			z[i] = math.Tanh(v)
		}
	case ReLU:
		for i, v := range z {
			if v < 0 {
				z[i] = 0
			}
		}
	}
}

// Backward takes dOut (batch×out), the gradient of a scalar loss with
// respect to the outputs of the last Forward, ADDS the gradient of the loss
// with respect to every parameter into the network's gradients, and returns
// the gradient with respect to that Forward's input (batch×in), a new matrix
// the caller owns. Backward does not change the cache: calling it twice adds
// the gradients twice. It panics before any Forward or if dOut's shape is
// not the last Forward's output shape.
func (m *MLP) Backward(dOut *mat.Dense) *mat.Dense {
	rows, cols := dOut.Dims()
	last := len(m.w) - 1
	if m.batch == 0 {
		panic("nn: Backward called before Forward")
	}
	if rows != m.batch || cols != m.sizes[last+1] {
		panic(fmt.Sprintf("nn: Backward: dOut is %d×%d, the last Forward's output was %d×%d", rows, cols, m.batch, m.sizes[last+1]))
	}
	dz := dOut.RawMatrix()
	var dIn []float64
	for l := last; l >= 0; l-- {
		in, o := m.sizes[l], m.sizes[l+1]
		a := general(rows, in, m.acts[l])
		// dW += dZᵀ·A, db += Σ rows of dZ.
		blas64.Gemm(blas.Trans, blas.NoTrans, 1, dz, a, 1, m.dw[l].RawMatrix())
		db := m.db[l]
		for i := range rows {
			for j, v := range dz.Data[i*dz.Stride : i*dz.Stride+o] {
				db[j] += v
			}
		}
		// dA = dZ·W, then through the activation of layer l's input.
		var da []float64
		if l == 0 {
			dIn = make([]float64, rows*in)
			da = dIn
		} else {
			da = m.dbuf[l%2][:rows*in]
		}
		blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, dz, m.w[l].RawMatrix(), 0, general(rows, in, da))
		if l > 0 {
			h := m.acts[l]
			switch m.act {
			case Tanh:
				for i, v := range h {
					da[i] *= 1 - v*v
				}
			case ReLU:
				for i, v := range h {
					if v <= 0 {
						da[i] = 0
					}
				}
			}
			dz = general(rows, in, da)
		}
	}
	return mat.NewDense(rows, m.sizes[0], dIn)
}

// Predict evaluates one input and returns the outputs in a new slice. It
// neither reads nor writes the Forward cache, so it may be called between
// Forward and Backward, and concurrently with other Predict calls. It makes
// one allocation. It panics if len(x) is not Sizes()[0].
func (m *MLP) Predict(x []float64) []float64 {
	if len(x) != m.sizes[0] {
		panic(fmt.Sprintf("nn: Predict: input of length %d, the net takes %d inputs", len(x), m.sizes[0]))
	}
	last := len(m.w) - 1
	nOut := m.sizes[last+1]
	widest := 0
	for _, s := range m.sizes[1 : last+1] {
		widest = max(widest, s)
	}
	buf := make([]float64, nOut+2*widest)
	out := buf[:nOut:nOut]
	h := [2][]float64{buf[nOut : nOut+widest], buf[nOut+widest:]}
	cur := x
	for l := range m.w {
		in, o := m.sizes[l], m.sizes[l+1]
		z := out
		if l < last {
			z = h[l%2][:o]
		}
		copy(z, m.b[l])
		blas64.Gemv(blas.NoTrans, 1, m.w[l].RawMatrix(),
			blas64.Vector{N: in, Data: cur, Inc: 1}, 1, blas64.Vector{N: o, Data: z, Inc: 1})
		if l < last {
			m.activate(z)
		}
		cur = z
	}
	return out
}
