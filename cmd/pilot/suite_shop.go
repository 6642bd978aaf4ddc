package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/env/shop"
	"github.com/pilotkit/pilot/env/web/lite"
	"github.com/pilotkit/pilot/evals"
	"github.com/pilotkit/pilot/policy"
	"github.com/pilotkit/pilot/policy/expert"
)

// loadShop builds the store for --seed and --products, serves it on
// 127.0.0.1, and gives each worker a browser driving it: Chromium, or with
// --engine lite pilot's browser without JavaScript, which loads the same
// pages from the store in-process.
func loadShop(ctx context.Context, f *evalFlags) (*loadedSuite, error) {
	if f.products < 0 {
		return nil, usagef("--products must be positive, not %d", f.products)
	}
	store, err := shop.NewStore(shop.StoreOptions{Seed: f.seed, Products: f.products, Logger: slog.New(slog.NewTextHandler(f.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		return nil, fmt.Errorf("shop suite: %w", err)
	}
	tasks, err := store.Tasks().Split(f.split)
	if err != nil {
		return nil, usagef("shop suite: %v", err)
	}
	base, stop, err := shop.ServeLocal(ctx, store)
	if err != nil {
		return nil, fmt.Errorf("shop suite: %w", err)
	}
	s := &loadedSuite{
		suite: evals.Suite{Name: "shop/" + f.split},
		newEnv: func(ctx context.Context, worker int) (env.Env, error) {
			if f.engine == "lite" {
				return shop.NewEnv(lite.New(store, lite.Options{Origin: base}), store, base), nil
			}
			inner, err := f.newWebEnv(ctx, worker)
			if err != nil {
				return nil, err
			}
			return shop.NewEnv(inner, store, base), nil
		},
		close: stop,
	}
	for _, t := range tasks {
		s.suite.Tasks = append(s.suite.Tasks, store.EnvTask(t))
	}
	return s, nil
}

func newShopExpert(*loadedSuite, *evalFlags, env.Task) (policy.Policy, error) {
	return expert.Shop(), nil
}
