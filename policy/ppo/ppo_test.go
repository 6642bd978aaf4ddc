package ppo_test

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pilotkit/pilot/policy/ppo"
)

// A short PPO run must clearly improve CartPole: from the ~20 a random
// policy balances to well over 150.
func TestPPOImprovesCartPole(t *testing.T) {
	cfg := ppo.CartPoleConfig(1)
	cfg.TotalSteps = 24_000
	cfg.SolvedReturn = 0
	cfg.EvalEvery = 0
	rng := rand.New(rand.NewPCG(7, 7))
	before := evaluate(t, ppo.NewPolicy(4, cfg.Action, []int{64, 64}, rand.New(rand.NewPCG(1, 1))), ppo.NewCartPole(), 20, rng)
	res, err := ppo.Train(context.Background(), newCartPole, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	after := evaluate(t, res.Policy, ppo.NewCartPole(), 20, rng)
	t.Logf("greedy return %.1f → %.1f after %d steps", before, after, res.Steps)
	if before > 60 || after < 150 {
		t.Errorf("greedy return %.1f before, %.1f after 24k steps of PPO: want a clear improvement (under 60 → over 150)", before, after)
	}
	last := res.Stats[len(res.Stats)-1]
	if math.IsNaN(last.ExplainedVar) || last.ExplainedVar < 0.2 || last.Entropy <= 0 || last.ApproxKL < 0 {
		t.Errorf("last update's diagnostics look wrong: %+v", last)
	}
}

func TestPPOIsDeterministic(t *testing.T) {
	run := func() []ppo.Stats {
		cfg := ppo.CartPoleConfig(3)
		cfg.TotalSteps = 4096
		cfg.EvalEvery = 0
		res, err := ppo.Train(context.Background(), newCartPole, nil, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return res.Stats
	}
	a, b := run(), run()
	for i := range a {
		if a[i].PolicyLoss != b[i].PolicyLoss || a[i].EpisodeReturn != b[i].EpisodeReturn && !(math.IsNaN(a[i].EpisodeReturn) && math.IsNaN(b[i].EpisodeReturn)) {
			t.Fatalf("update %d differs between two runs with the same seed: %+v vs %+v", i, a[i], b[i])
		}
	}
}

func TestBCFitsTheExpert(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	data, err := ppo.Collect(context.Background(), ppo.NewCartPole(), ppo.CartPoleExpert, 10, rng)
	if err != nil {
		t.Fatal(err)
	}
	p := ppo.NewPolicy(4, ppo.Space{Discrete: 2}, []int{64, 64}, rand.New(rand.NewPCG(1, 2)))
	st, err := ppo.BC(context.Background(), p, data, ppo.BCConfig{Epochs: 30, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if st.Accuracy < 0.95 || st.Loss[len(st.Loss)-1] > st.Loss[0]/2 {
		t.Errorf("BC on %d expert samples: accuracy %.3f, loss %.3f → %.3f; want ≥ 0.95 and the loss halved", len(data), st.Accuracy, st.Loss[0], st.Loss[len(st.Loss)-1])
	}
	if ret := evaluate(t, p, ppo.NewCartPole(), 10, rng); ret < 400 {
		t.Errorf("the cloned policy balances %.0f steps, want the expert's ≥ 400", ret)
	}
	if _, err := ppo.BC(context.Background(), p, []ppo.Sample{{Obs: []float64{1}, Action: ppo.Action{}}}, ppo.BCConfig{}); err == nil {
		t.Error("BC with a 1-value observation for a 4-input policy = nil error")
	}
}

// With a strong KL penalty, fine-tuning stays near the reference policy.
func TestKLPenaltyHoldsNearReference(t *testing.T) {
	ref := ppo.NewPolicy(4, ppo.Space{Discrete: 2}, []int{16}, rand.New(rand.NewPCG(1, 3)))
	run := func(kl float64) float64 {
		cfg := ppo.CartPoleConfig(2)
		cfg.TotalSteps, cfg.EvalEvery, cfg.Hidden = 8192, 0, []int{16}
		cfg.Reference, cfg.KLCoef = ref, kl
		res, err := ppo.Train(context.Background(), newCartPole, ref.Clone(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		return res.Stats[len(res.Stats)-1].RefKL
	}
	free, held := run(1e-9), run(5)
	if !(held < free/3) {
		t.Errorf("KL to the reference after fine-tuning: %.4g with the penalty, %.4g without; want it much smaller with it", held, free)
	}
}

// The sanity mode trains on one frozen rollout: the surrogate loss falls.
func TestSanityModeOverfitsOneBuffer(t *testing.T) {
	cfg := ppo.CartPoleConfig(4)
	cfg.TotalSteps, cfg.EvalEvery, cfg.Sanity = 8*128*10, 0, true
	res, err := ppo.Train(context.Background(), newCartPole, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	first, last := res.Stats[0], res.Stats[len(res.Stats)-1]
	if res.Steps != 8*128 || !(last.PolicyLoss < first.PolicyLoss) || !(last.ValueLoss < first.ValueLoss) {
		t.Errorf("sanity mode: %d env steps, policy loss %.4g → %.4g, value loss %.4g → %.4g; want one rollout and both falling", res.Steps, first.PolicyLoss, last.PolicyLoss, first.ValueLoss, last.ValueLoss)
	}
}

// point is a 1-D continuous task: move to the target.
type point struct {
	pos, target float64
	steps       int
}

func (p *point) Reset(_ context.Context, rng *rand.Rand) ([]float64, error) {
	p.pos, p.target, p.steps = rng.Float64()*2-1, rng.Float64()*2-1, 0
	return []float64{p.pos, p.target}, nil
}

func (p *point) Step(_ context.Context, a ppo.Action) ([]float64, float64, bool, bool, error) {
	p.pos += math.Max(-0.2, math.Min(0.2, a.Continuous[0]*0.2))
	p.steps++
	return []float64{p.pos, p.target}, -math.Abs(p.pos - p.target), false, p.steps >= 20, nil
}

func TestPPOContinuous(t *testing.T) {
	cfg := ppo.Config{ObsSize: 2, Action: ppo.Space{Dim: 1}, TotalSteps: 30_000, NumEnvs: 4, NumSteps: 256, Minibatches: 8, Epochs: 10, LR: 1e-3, Seed: 1}
	rng := rand.New(rand.NewPCG(9, 9))
	before := evaluate(t, ppo.NewPolicy(2, cfg.Action, []int{64, 64}, rand.New(rand.NewPCG(1, 1))), &point{}, 50, rng)
	res, err := ppo.Train(context.Background(), func(int) (ppo.Env, error) { return &point{}, nil }, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	after := evaluate(t, res.Policy, &point{}, 50, rng)
	t.Logf("continuous return %.2f → %.2f, log std %v", before, after, res.Policy.LogStd)
	if !(after > before/2) {
		t.Errorf("continuous PPO: return %.2f → %.2f, want the distance at least halved", before, after)
	}
}

// nanEnv returns NaN observations after a while.
type nanEnv struct{ n int }

func (e *nanEnv) Reset(context.Context, *rand.Rand) ([]float64, error) {
	return []float64{0, 0, 0, 0}, nil
}

func (e *nanEnv) Step(context.Context, ppo.Action) ([]float64, float64, bool, bool, error) {
	e.n++
	if e.n > 300 {
		return []float64{math.NaN(), 0, 0, 0}, 1, false, false, nil
	}
	return []float64{0, 0, 0, 0}, 1, false, false, nil
}

// brokenEnv fails its Step after a while, as a lost serial port would.
type brokenEnv struct{ n int }

var errUnplugged = errors.New("the arm was unplugged")

func (e *brokenEnv) Reset(context.Context, *rand.Rand) ([]float64, error) {
	return []float64{0, 0, 0, 0}, nil
}

func (e *brokenEnv) Step(context.Context, ppo.Action) ([]float64, float64, bool, bool, error) {
	if e.n++; e.n > 100 {
		return nil, 0, false, false, errUnplugged
	}
	return []float64{0, 0, 0, 0}, 1, false, false, nil
}

// An env's error stops training and comes back wrapped.
func TestEnvErrorStopsTraining(t *testing.T) {
	cfg := ppo.CartPoleConfig(1)
	cfg.TotalSteps, cfg.EvalEvery = 8192, 0
	_, err := ppo.Train(context.Background(), func(int) (ppo.Env, error) { return &brokenEnv{}, nil }, nil, cfg)
	if !errors.Is(err, errUnplugged) {
		t.Fatalf("training on an env that fails = %v, want its error", err)
	}
	_, err = ppo.Train(context.Background(), func(i int) (ppo.Env, error) { return nil, errUnplugged }, nil, cfg)
	if !errors.Is(err, errUnplugged) || !strings.Contains(err.Error(), "make env 0") {
		t.Fatalf("training when the env cannot be made = %v, want its error naming env 0", err)
	}
}

func TestNaNStopsTraining(t *testing.T) {
	cfg := ppo.CartPoleConfig(1)
	cfg.TotalSteps, cfg.EvalEvery = 8192, 0
	_, err := ppo.Train(context.Background(), func(int) (ppo.Env, error) { return &nanEnv{}, nil }, nil, cfg)
	if !errors.Is(err, ppo.ErrNaN) {
		t.Fatalf("training on NaN observations = %v, want ErrNaN naming the update", err)
	}
}

func TestPlot(t *testing.T) {
	cfg := ppo.CartPoleConfig(1)
	cfg.TotalSteps, cfg.EvalEvery, cfg.EvalEpisodes = 8192, 2, 3
	res, err := ppo.Train(context.Background(), newCartPole, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"curves.png", "curves.svg"} {
		path := filepath.Join(t.TempDir(), name)
		if err := ppo.Plot(res.Stats, "cartpole", path); err != nil {
			t.Fatal(err)
		}
		b := readFile(t, path)
		if len(b) < 2000 || (name == "curves.png" && !bytes.HasPrefix(b, []byte("\x89PNG"))) || (name == "curves.svg" && !bytes.Contains(b, []byte("<svg"))) {
			t.Errorf("%s: %d bytes, not a plot", name, len(b))
		}
	}
	if err := ppo.Plot(res.Stats, "", filepath.Join(t.TempDir(), "x.gif")); err == nil {
		t.Error("Plot to a .gif = nil error, want: png or svg")
	}
}

func TestSaveLoadPolicy(t *testing.T) {
	p := ppo.NewPolicy(4, ppo.Space{Dim: 3}, []int{8}, rand.New(rand.NewPCG(1, 1)))
	p.LogStd[1] = -0.5
	path := filepath.Join(t.TempDir(), "p.nn")
	if err := p.Save(path, map[string]string{"env": "test"}); err != nil {
		t.Fatal(err)
	}
	q, meta, err := ppo.LoadPolicy(path)
	if err != nil {
		t.Fatal(err)
	}
	obs := []float64{0.1, -0.2, 0.3, 0.4}
	a1, l1 := p.Act(obs, true, nil)
	a2, l2 := q.Act(obs, true, nil)
	if meta["env"] != "test" || l1 != l2 || a1.Continuous[2] != a2.Continuous[2] || q.LogStd[1] != -0.5 {
		t.Errorf("loaded policy differs: meta %v, logp %v vs %v", meta, l1, l2)
	}
}

// The shipped reach policy solves reach tasks in the fast mode.
func TestShippedReach(t *testing.T) {
	p, meta, err := ppo.LoadShipped("reach")
	if err != nil {
		t.Fatal(err)
	}
	if meta["env"] != "robot:reach" || p.Space.Dim != ppo.ReachActDim {
		t.Fatalf("shipped reach: meta %v, space %+v", meta, p.Space)
	}
	r, closeEnv, err := ppo.NewReachFast(context.Background(), 77)
	if err != nil {
		t.Fatal(err)
	}
	defer closeEnv()
	if _, err := ppo.Evaluate(context.Background(), p, r, 20, rand.New(rand.NewPCG(77, 1))); err != nil {
		t.Fatal(err)
	}
	if r.Episodes != 20 || r.Successes < 18 {
		t.Errorf("shipped reach policy: %d of %d episodes succeeded, want ≥ 18", r.Successes, r.Episodes)
	}
	if _, _, err := ppo.LoadShipped("nope"); err == nil || !strings.Contains(err.Error(), "reach") {
		t.Errorf("LoadShipped(nope) = %v, want an error listing reach", err)
	}
}

func newCartPole(int) (ppo.Env, error) { return ppo.NewCartPole(), nil }

// evaluate is ppo.Evaluate in a test: an env error fails it.
func evaluate(t *testing.T, p *ppo.Policy, e ppo.Env, n int, rng *rand.Rand) float64 {
	t.Helper()
	ret, err := ppo.Evaluate(context.Background(), p, e, n, rng)
	if err != nil {
		t.Fatal(err)
	}
	return ret
}
