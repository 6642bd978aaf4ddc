package shopnn_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/env/shop"
	"github.com/pilotkit/pilot/env/web/lite"
	"github.com/pilotkit/pilot/policy/ppo"
	"github.com/pilotkit/pilot/policy/shopnn"
)

const origin = "http://shop.test"

// fixture is the default store (the eval suite's) with a pool of lite
// browsers on it.
func fixture(t *testing.T) (*shop.Store, *shopnn.Pool, func(split string, n int) []env.Task) {
	t.Helper()
	store, err := shop.NewStore(shop.StoreOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	pool, err := shopnn.NewPool(2, func() (env.Env, error) {
		return shop.NewEnv(lite.New(store, lite.Options{Origin: origin}), store, origin), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Close() })
	tasks := func(split string, n int) []env.Task {
		ts, err := store.Tasks().Split(split)
		if err != nil {
			t.Fatal(err)
		}
		var out []env.Task
		for _, task := range ts[:n] {
			out = append(out, store.EnvTask(task))
		}
		return out
	}
	return store, pool, tasks
}

// TestBehaviourCloning: the expert's choices are all candidates, a model
// cloned from 120 of its episodes fits them and shops far better than an
// untrained one on unseen test tasks.
func TestBehaviourCloning(t *testing.T) {
	_, pool, tasks := fixture(t)
	ctx := t.Context()
	demos, err := pool.Demonstrations(ctx, tasks("train", 120), shopnn.MaxSteps)
	if err != nil {
		t.Fatal(err)
	}
	decisions, unmatched := 0, 0
	for _, d := range demos {
		decisions += len(d.Decisions)
		unmatched += d.Unmatched
	}
	if sum := shopnn.Summarize(demos); sum.Success < 0.9 || unmatched > 0 || decisions < 4*len(demos) {
		t.Fatalf("expert demonstrations: %+v, %d decisions, %d unmatched", sum, decisions, unmatched)
	}
	m := shopnn.New(rand.New(rand.NewPCG(1, 1)))
	test := tasks("test", 40)
	before, _, err := pool.Evaluate(ctx, m, test, shopnn.MaxSteps)
	if err != nil {
		t.Fatal(err)
	}
	st, err := shopnn.BC(ctx, m, demos, shopnn.BCConfig{Epochs: 15, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if st.Accuracy < 0.95 {
		t.Errorf("behaviour cloning fits %.3f of the expert's choices, want ≥ 0.95", st.Accuracy)
	}
	after, _, err := pool.Evaluate(ctx, m, test, shopnn.MaxSteps)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("test success: untrained %.2f, cloned %.2f (mean reward %.3f → %.3f)", before.Success, after.Success, before.MeanReward, after.MeanReward)
	if after.Success < 0.75 || after.Success < before.Success+0.5 {
		t.Errorf("test success untrained %.2f, cloned %.2f: want the clone ≥ 0.75 and 0.5 above", before.Success, after.Success)
	}
}

// TestPPOFineTune runs a short PPO fine-tuning from an untrained model
// with a KL penalty to it: every diagnostic is finite, the KL to the
// reference starts at 0 and the run is deterministic.
func TestPPOFineTune(t *testing.T) {
	_, pool, tasks := fixture(t)
	run := func() (*shopnn.Model, []ppo.Stats) {
		m := shopnn.New(rand.New(rand.NewPCG(2, 2)))
		ref := m.Clone()
		stats, err := shopnn.PPO(t.Context(), pool, m, ref, tasks("train", 50), shopnn.PPOConfig{
			Updates: 3, Episodes: 12, Seed: 3, LR: 1e-3, Eval: tasks("dev", 10), EvalEvery: 3,
		})
		if err != nil {
			t.Fatal(err)
		}
		return m, stats
	}
	m1, s1 := run()
	if len(s1) != 3 {
		t.Fatalf("%d updates, want 3", len(s1))
	}
	for _, st := range s1 {
		for name, v := range map[string]float64{"entropy": st.Entropy, "approx_kl": st.ApproxKL, "ref_kl": st.RefKL, "value_loss": st.ValueLoss, "grad_norm": st.GradNorm, "return": st.EpisodeReturn} {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Errorf("update %d: %s = %v", st.Update, name, v)
			}
		}
		if st.Entropy <= 0 || st.Episodes != 12 || st.Steps <= 0 {
			t.Errorf("update %d: %+v", st.Update, st)
		}
	}
	if s1[0].RefKL > 1e-9 && s1[len(s1)-1].RefKL <= 0 {
		t.Errorf("KL to the reference: %v … %v", s1[0].RefKL, s1[len(s1)-1].RefKL)
	}
	if math.IsNaN(s1[2].GreedyReturn) {
		t.Errorf("no greedy evaluation after the last update")
	}
	m2, s2 := run()
	if s1[2].EpisodeReturn != s2[2].EpisodeReturn || s1[2].PolicyLoss != s2[2].PolicyLoss {
		t.Errorf("two runs with one seed differ: %+v vs %+v", s1[2], s2[2])
	}
	if m1.Emb.Value[17] != m2.Emb.Value[17] || m1.Score.Weight(0).At(3, 5) != m2.Score.Weight(0).At(3, 5) {
		t.Errorf("two runs with one seed gave different weights")
	}
}

// TestShippedPolicy: nn:shop loads and shops on unseen test tasks.
func TestShippedPolicy(t *testing.T) {
	_, pool, tasks := fixture(t)
	m, meta, err := shopnn.LoadShipped()
	if err != nil {
		t.Fatal(err)
	}
	res, _, err := pool.Evaluate(t.Context(), m, tasks("test", 50), shopnn.MaxSteps)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("shipped policy (%v): %+v", meta, res)
	if res.Success < 0.85 {
		t.Errorf("shipped policy: test success %.2f on 50 tasks, want ≥ 0.85", res.Success)
	}
}
