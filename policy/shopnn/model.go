package shopnn

import (
	"bytes"
	_ "embed"
	"fmt"
	"math/rand/v2"
	"strconv"

	"gonum.org/v1/gonum/mat"

	"github.com/pilotkit/pilot/policy/nn"
)

// Hidden is the width of the scorer's and the value's hidden layer.
const Hidden = 64

// Model is the shop policy's network: an embedding of the hashed features
// (summed per candidate), then a scorer MLP that maps each candidate's
// input to a score, and a value MLP over the mean of a page's candidate
// inputs. The policy is the softmax of the scores over the page's
// candidates.
type Model struct {
	Emb   *nn.Param // Buckets × Embed, bucket-major
	Score *nn.MLP   // [Input, Hidden, 1]
	Value *nn.MLP   // [Input, Hidden, 1]
}

// New returns a model with fresh weights drawn from rng: orthogonal MLP
// layers (gain 0.01 on the scores, 1 on the value, as CleanRL) and
// embeddings from N(0, 0.1²).
func New(rng *rand.Rand) *Model {
	m := &Model{
		Emb:   nn.NewParam("emb", Buckets*Embed),
		Score: nn.NewMLP([]int{Input, Hidden, 1}, nn.Tanh, 0.01, rng),
		Value: nn.NewMLP([]int{Input, Hidden, 1}, nn.Tanh, 1, rng),
	}
	for i := range m.Emb.Value {
		m.Emb.Value[i] = 0.1 * rng.NormFloat64()
	}
	return m
}

// Clone returns a deep copy: a frozen reference for the KL penalty.
func (m *Model) Clone() *Model {
	e := nn.NewParam("emb", len(m.Emb.Value))
	copy(e.Value, m.Emb.Value)
	return &Model{Emb: e, Score: m.Score.Clone(), Value: m.Value.Clone()}
}

// Params returns every trained tensor.
func (m *Model) Params() []*nn.Param {
	ps := append([]*nn.Param{m.Emb}, m.Score.Params()...)
	return append(ps, m.Value.Params()...)
}

// ZeroGrad clears every gradient.
func (m *Model) ZeroGrad() {
	clear(m.Emb.Grad)
	m.Score.ZeroGrad()
	m.Value.ZeroGrad()
}

// input writes candidate c's input row into dst (len Input).
func (m *Model) input(c *Candidate, dst []float64) {
	clear(dst[:Embed])
	for _, b := range c.hashed {
		row := m.Emb.Value[int(b)*Embed : int(b+1)*Embed]
		for j, v := range row {
			dst[j] += v
		}
	}
	copy(dst[Embed:], c.dense[:])
}

// inputs returns the page's candidate inputs, one row each.
func (m *Model) inputs(p *Page) *mat.Dense {
	x := mat.NewDense(len(p.Cands), Input, nil)
	for k := range p.Cands {
		m.input(&p.Cands[k], x.RawRowView(k))
	}
	return x
}

// meanRow returns the mean of x's rows, as a 1×Input matrix.
func meanRow(x *mat.Dense) *mat.Dense {
	r, c := x.Dims()
	out := mat.NewDense(1, c, nil)
	row := out.RawRowView(0)
	for i := range r {
		for j, v := range x.RawRowView(i) {
			row[j] += v / float64(r)
		}
	}
	return out
}

// Scores returns the page's candidate scores (logits). It does not touch
// the networks' caches: it is safe for concurrent use with other Scores
// and ValueOf calls.
func (m *Model) Scores(p *Page) []float64 {
	z := make([]float64, len(p.Cands))
	x := make([]float64, Input)
	for k := range p.Cands {
		m.input(&p.Cands[k], x)
		z[k] = m.Score.Predict(x)[0]
	}
	return z
}

// ValueOf returns the value estimate of the page. Safe for concurrent use,
// like Scores.
func (m *Model) ValueOf(p *Page) float64 {
	if len(p.Cands) == 0 {
		return 0
	}
	return m.Value.Predict(meanRow(m.inputs(p)).RawRowView(0))[0]
}

// scoresGrad runs the page through the scorer with its cache; grad, given
// the scores, returns d loss / d scores, which is backpropagated into the
// scorer and the embedding.
func (m *Model) scoresGrad(p *Page, grad func(z []float64) []float64) {
	x := m.inputs(p)
	out := m.Score.Forward(x)
	z := mat.Col(nil, 0, out)
	dz := grad(z)
	if dz == nil {
		return
	}
	dx := m.Score.Backward(mat.NewDense(len(dz), 1, dz))
	for k := range p.Cands {
		m.embGrad(&p.Cands[k], dx.RawRowView(k), 1)
	}
}

// valueGrad runs the page through the value net; grad, given the value,
// returns d loss / d value.
func (m *Model) valueGrad(p *Page, grad func(v float64) float64) {
	x := meanRow(m.inputs(p))
	v := m.Value.Forward(x).At(0, 0)
	dv := grad(v)
	dx := m.Value.Backward(mat.NewDense(1, 1, []float64{dv}))
	row := dx.RawRowView(0)
	for k := range p.Cands {
		m.embGrad(&p.Cands[k], row, 1/float64(len(p.Cands)))
	}
}

func (m *Model) embGrad(c *Candidate, dx []float64, scale float64) {
	for _, b := range c.hashed {
		g := m.Emb.Grad[int(b)*Embed : int(b+1)*Embed]
		for j := range g {
			g[j] += scale * dx[j]
		}
	}
}

// Bundle packs the model and meta for saving.
func (m *Model) Bundle(meta map[string]string) *nn.Bundle {
	mt := map[string]string{"kind": "shop-scorer", "env": "shop", "buckets": strconv.Itoa(Buckets), "embed": strconv.Itoa(Embed), "dense": strconv.Itoa(Dense)}
	for k, v := range meta {
		mt[k] = v
	}
	return &nn.Bundle{
		Meta:    mt,
		Nets:    map[string]*nn.MLP{"score": m.Score, "value": m.Value},
		Vectors: map[string][]float64{"emb": m.Emb.Value},
	}
}

// FromBundle unpacks a model saved by Bundle; what names the source in
// errors.
func FromBundle(b *nn.Bundle, what string) (*Model, map[string]string, error) {
	if b.Meta["kind"] != "shop-scorer" {
		return nil, nil, fmt.Errorf("%s is not a shop policy (kind %q): train one with `pilot train --env shop`", what, b.Meta["kind"])
	}
	if b.Meta["buckets"] != strconv.Itoa(Buckets) || b.Meta["embed"] != strconv.Itoa(Embed) || b.Meta["dense"] != strconv.Itoa(Dense) {
		return nil, nil, fmt.Errorf("%s has features %s×%s+%s, this pilot uses %d×%d+%d: retrain it with this pilot's `pilot train --env shop`", what, b.Meta["buckets"], b.Meta["embed"], b.Meta["dense"], Buckets, Embed, Dense)
	}
	score, value, emb := b.Nets["score"], b.Nets["value"], b.Vectors["emb"]
	if score == nil || value == nil || len(emb) != Buckets*Embed {
		return nil, nil, fmt.Errorf("%s lacks the score or value network or the embedding: the file is damaged", what)
	}
	want := []int{Input, Hidden, 1}
	for name, net := range map[string]*nn.MLP{"score": score, "value": value} {
		if err := net.CheckSizes(want); err != nil {
			return nil, nil, fmt.Errorf("%s: %s network: %w", what, name, err)
		}
	}
	e := nn.NewParam("emb", len(emb))
	copy(e.Value, emb)
	return &Model{Emb: e, Score: score, Value: value}, b.Meta, nil
}

// Save writes the model with meta to path.
func (m *Model) Save(path string, meta map[string]string) error {
	return nn.SaveBundle(path, m.Bundle(meta))
}

// Load reads a model saved by Save.
func Load(path string) (*Model, map[string]string, error) {
	b, err := nn.LoadBundle(path)
	if err != nil {
		return nil, nil, err
	}
	return FromBundle(b, path)
}

// shipped is the shop policy trained by pilot and shipped with it
// (`pilot train --env shop --algo ppo --seed 1`; see docs/learning.md).
//
//go:embed weights/shop.nn
var shipped []byte

// LoadShipped returns the shop policy shipped with pilot (nn:shop).
func LoadShipped() (*Model, map[string]string, error) {
	b, err := nn.ReadBundle(bytes.NewReader(shipped))
	if err != nil {
		return nil, nil, fmt.Errorf("the shipped shop policy: %w", err)
	}
	return FromBundle(b, "the shipped shop policy")
}

// logSoftmax returns log π over the candidates for scores z.
func logSoftmax(z []float64) []float64 { return nn.LogSoftmax(z, make([]float64, len(z))) }
