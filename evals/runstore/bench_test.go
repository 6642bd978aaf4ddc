package runstore_test

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/pilotkit/pilot/agent"
	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/evals"
	"github.com/pilotkit/pilot/evals/runstore"
	"github.com/pilotkit/pilot/evals/suites"
	"github.com/pilotkit/pilot/policy"
)

// nullStore keeps nothing: the run without a store.
type nullStore struct{}

func (nullStore) Add(evals.Result) error { return nil }
func (nullStore) Close() error           { return nil }

// BenchmarkShopLite plays b.N shop episodes in the lite engine with the
// expert, with the SQLite run store and without one: the difference in
// ns/op is the store's cost per episode (target ≤ 1 ms; docs/benchmarks.md).
//
//	go test -run '^$' -bench ShopLite -benchtime 1000x ./evals/runstore/
func BenchmarkShopLite(b *testing.B) {
	for _, store := range []string{"none", "sqlite"} {
		b.Run("store="+store, func(b *testing.B) {
			ctx := context.Background()
			d, err := suites.Builtin().Find("shop")
			if err != nil {
				b.Fatal(err)
			}
			o := evals.LoadOptions{Engine: evals.EngineLite, Seed: 1}
			l, err := d.Open(ctx, o)
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			// Up to 1,000 episodes: the tasks of every split (one seed,
			// one catalogue: the test split's env serves them all).
			var all []env.Task
			for _, split := range d.Splits {
				o.Split = split
				ls, err := d.Open(ctx, o)
				if err != nil {
					b.Fatal(err)
				}
				all = append(all, ls.Suite.Tasks...)
				ls.Close()
			}
			if b.N > len(all) {
				b.Fatalf("-benchtime %dx: the shop has %d tasks; give at most %dx", b.N, len(all), len(all))
			}
			s := evals.Suite{Name: l.Suite.Name, Tasks: all[:b.N]}
			var ids []string
			for _, t := range s.Tasks {
				ids = append(ids, t.ID)
			}
			dir := filepath.Join(b.TempDir(), "run")
			var st evals.Store = nullStore{}
			if store == "sqlite" {
				m := evals.NewManifest("bench")
				m.Planned = ids
				db, err := runstore.Create(dir, m)
				if err != nil {
					b.Fatal(err)
				}
				st = db
			}
			b.ResetTimer()
			rep, err := evals.Run(ctx, s, evals.Config{
				NewEnv:    l.NewEnv,
				NewPolicy: func(t env.Task) (policy.Policy, error) { return d.Expert(t), nil },
				RunDir:    dir,
				Store:     st,
			})
			if err != nil {
				b.Fatal(err)
			}
			if rep.Episodes != b.N || rep.Successes < b.N*9/10 {
				b.Fatalf("%d episodes, %d successes, errors %v; want %d, 90%% success", rep.Episodes, rep.Successes, rep.ErrorKinds, b.N)
			}
		})
	}
}

// BenchmarkAdd stores b.N final results of 11 steps each: the store's own
// cost per episode, without the episodes.
func BenchmarkAdd(b *testing.B) {
	var ids []string
	for i := range b.N {
		ids = append(ids, "t"+strconv.Itoa(i))
	}
	m := evals.NewManifest("bench")
	m.Planned = ids
	db, err := runstore.Create(b.TempDir(), m)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	traj := &agent.Trajectory{}
	for i := range 11 {
		traj.Steps = append(traj.Steps, agent.StepRecord{Index: i, ActionText: `click("12")`, Reward: 0.1, EnvTime: time.Millisecond})
	}
	b.ResetTimer()
	for i := range b.N {
		r := evals.Result{TaskID: ids[i], Outcome: evals.OutcomeSuccess, Attempt: 1, Success: true, Reward: 1, Steps: 11,
			Info: map[string]any{"breakdown": map[string]any{"category": 1.0, "price": 1.0}}, Trajectory: traj}
		if err := db.Add(r); err != nil {
			b.Fatal(err)
		}
	}
}
