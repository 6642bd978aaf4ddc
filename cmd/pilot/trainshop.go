package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/env/shop"
	"github.com/pilotkit/pilot/env/web/lite"
	"github.com/pilotkit/pilot/policy/ppo"
	"github.com/pilotkit/pilot/policy/shopnn"
)

// shopOrigin is the made-up origin of the store inside the lite browser:
// requests never leave the process.
const shopOrigin = "http://shop.pilot.internal"

// shopEpisodes is the PPO episodes per update on the shop.
const shopEpisodes = 64

// shopTrainer holds the shop, its splits and the lite-browser envs.
type shopTrainer struct {
	store            *shop.Store
	train, dev, test []env.Task
	pool             *shopnn.Pool
	started          time.Time
	actions          int
	stderr           io.Writer
}

func newShopTrainer(stderr io.Writer) (*shopTrainer, error) {
	// The store of pilot eval --suite shop's defaults (seed 1, 2,000
	// products): the test split here is the one eval plays.
	store, err := shop.NewStore(shop.StoreOptions{Seed: 1, Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		return nil, err
	}
	t := &shopTrainer{store: store, stderr: stderr, started: time.Now()}
	for _, sp := range []struct {
		name string
		dst  *[]env.Task
	}{{"train", &t.train}, {"dev", &t.dev}, {"test", &t.test}} {
		tasks, err := store.Tasks().Split(sp.name)
		if err != nil {
			return nil, err
		}
		for _, task := range tasks {
			*sp.dst = append(*sp.dst, store.EnvTask(task))
		}
	}
	// One lite browser per core; the results do not depend on how many.
	t.pool, err = shopnn.NewPool(runtime.GOMAXPROCS(0), func() (env.Env, error) {
		return shop.NewEnv(lite.New(store, lite.Options{Origin: shopOrigin}), store, shopOrigin), nil
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

func (t *shopTrainer) close() error { return t.pool.Close() }

func (t *shopTrainer) count(eps []shopnn.Episode) {
	for _, ep := range eps {
		t.actions += ep.Actions
	}
}

// evaluate plays the test split greedily with m.
func (t *shopTrainer) evaluate(ctx context.Context, m *shopnn.Model, what string) (*shopnn.Result, error) {
	res, eps, err := t.pool.Evaluate(ctx, m, t.test, shopnn.MaxSteps)
	if err != nil {
		return nil, fmt.Errorf("evaluate %s on the test split: %w", what, err)
	}
	t.count(eps)
	fmt.Fprintf(t.stderr, "%s on the test split (%d tasks, lite browser): success %.1f%%, mean reward %.3f, %.1f steps\n", what, res.Episodes, 100*res.Success, res.MeanReward, res.MeanSteps)
	return &res, nil
}

// bc collects the expert's demonstrations on the train split and clones
// them into a fresh model.
func (t *shopTrainer) bc(ctx context.Context, seed int64, n int) (*shopnn.Model, error) {
	tasks := t.train
	if n > 0 && n < len(tasks) {
		tasks = tasks[:n]
	}
	demos, err := t.pool.Demonstrations(ctx, tasks, shopnn.MaxSteps)
	if err != nil {
		return nil, fmt.Errorf("expert demonstrations: %w", err)
	}
	t.count(demos)
	sum := shopnn.Summarize(demos)
	decisions, unmatched := 0, 0
	for _, d := range demos {
		decisions += len(d.Decisions)
		unmatched += d.Unmatched
	}
	fmt.Fprintf(t.stderr, "expert demonstrations: %d train episodes, success %.1f%%, %d decisions (%d expert actions matched no candidate)\n", len(demos), 100*sum.Success, decisions, unmatched)
	m := shopnn.New(rand.New(rand.NewPCG(uint64(seed), 0x5409)))
	st, err := shopnn.BC(ctx, m, demos, shopnn.BCConfig{Seed: seed, Progress: func(epoch int, loss, acc float64) {
		fmt.Fprintf(t.stderr, "\rbehaviour cloning: epoch %2d  loss %.4f  accuracy %.3f ", epoch, loss, acc)
	}})
	fmt.Fprintln(t.stderr)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(t.stderr, "behaviour cloning: %d decisions, accuracy %.3f\n", st.Decisions, st.Accuracy)
	return m, nil
}

// shop trains the shop's candidate scorer: behaviour cloning from the
// expert, then (--algo ppo) PPO fine-tuning with a KL penalty to the cloned
// policy, and reports both on the test split.
func (f *trainFlags) shop(ctx context.Context, dir string, sum *trainSummary, stderr io.Writer) error {
	t, err := newShopTrainer(stderr)
	if err != nil {
		return err
	}
	defer t.close()
	var start *shopnn.Model
	if f.from != "" {
		if start, _, err = shopnn.Load(f.from); err != nil {
			return fmt.Errorf("--from: %w", err)
		}
	} else {
		if start, err = t.bc(ctx, f.seed, f.demos); err != nil {
			return err
		}
		if err := start.Save(filepath.Join(dir, "bc.nn"), map[string]string{"algo": "bc", "seed": strconv.FormatInt(f.seed, 10)}); err != nil {
			return err
		}
	}
	if sum.ShopStart, err = t.evaluate(ctx, start, "the starting policy"); err != nil {
		return err
	}
	final := start
	if f.algo == "ppo" {
		if final, err = f.shopPPO(ctx, t, start, dir, sum, stderr); err != nil {
			return err
		}
		if sum.ShopPPO, err = t.evaluate(ctx, final, "after PPO"); err != nil {
			return err
		}
		sum.FinalGreedy = sum.ShopPPO.Success
	} else {
		sum.FinalGreedy = sum.ShopStart.Success
	}
	if err := final.Save(sum.Policy, map[string]string{"algo": f.algo, "seed": strconv.FormatInt(f.seed, 10)}); err != nil {
		return err
	}
	sum.Steps = t.actions
	sum.WallSeconds = time.Since(t.started).Seconds()
	sum.StepsPerSec = float64(t.actions) / sum.WallSeconds
	return nil
}

func (f *trainFlags) shopPPO(ctx context.Context, t *shopTrainer, start *shopnn.Model, dir string, sum *trainSummary, stderr io.Writer) (*shopnn.Model, error) {
	m := start.Clone()
	ref := start.Clone()
	kl := f.klCoef
	if !f.klSet {
		kl = 0.05
	}
	if kl == 0 {
		kl = -1 // no penalty
	}
	budget := f.steps
	if budget == 0 {
		budget = 30_000
	}
	// An episode takes about 11 actions.
	updates := max(1, int(math.Ceil(float64(budget)/float64(shopEpisodes*11))))
	mw, err := openMetrics(dir)
	if err != nil {
		return nil, err
	}
	defer mw.close()
	cfg := shopnn.PPOConfig{
		Updates: updates, Episodes: shopEpisodes, Seed: f.seed, KLCoef: kl,
		Eval: t.dev, EvalEvery: 5,
		Progress: func(st ppo.Stats) {
			mw.write(st)
			progress(stderr, st, st.Steps*updates/st.Update)
			for _, w := range st.Warnings {
				fmt.Fprintf(stderr, "\nwarning: update %d: %s\n", st.Update, w)
			}
			if f.checkpointEvery > 0 && st.Update%f.checkpointEvery == 0 {
				mw.fail(m.Save(filepath.Join(dir, "checkpoints", fmt.Sprintf("update-%d.nn", st.Update)), map[string]string{"algo": "ppo", "update": strconv.Itoa(st.Update)}))
			}
		},
	}
	stats, err := shopnn.PPO(ctx, t.pool, m, ref, t.train, cfg)
	fmt.Fprintln(stderr)
	if err != nil {
		if ctx.Err() != nil && len(stats) > 0 {
			// m holds the weights of the last complete update: an update
			// is not cut short, only rollouts and evaluations are.
			n := len(stats)
			return nil, interrupted(n, dir, mw, func(path string) error {
				return m.Save(path, map[string]string{"algo": "ppo", "interrupted": "true", "update": strconv.Itoa(n)})
			}, func(path string) error { return ppo.Plot(stats, "shop PPO (interrupted)", path) }, f.plot)
		}
		return nil, err
	}
	if err := mw.close(); err != nil {
		return nil, err
	}
	for _, st := range stats {
		sum.Warnings = append(sum.Warnings, st.Warnings...)
	}
	if n := len(stats); n > 0 {
		t.actions += stats[n-1].Steps
	}
	plot := filepath.Join(dir, f.plot)
	if err := ppo.Plot(stats, "shop PPO (greedy: dev success rate)", plot); err != nil {
		return nil, err
	}
	sum.Plot = plot
	return m, nil
}
