package shop_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/env/shop"
	"github.com/pilotkit/pilot/env/web/lite"
)

var reFirstResult = regexp.MustCompile(`\[(\d+)\] link "[^"]*"\n\s+StaticText "\$`)

// BenchmarkObsTokens reports the size of the shop's observations in
// estimated cl100k tokens (env.EstimateTokens) along a search: the search
// page, the results, an item, over 20 test tasks (lite, whose
// observations are Chromium's). With PILOT_DUMP_OBS=DIR it writes them
// there for scripts/tokens.sh.
//
//	go test -run '^$' -bench ObsTokens -benchtime 1x ./env/shop/
func BenchmarkObsTokens(b *testing.B) {
	store, err := shop.NewStore(shop.StoreOptions{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	const origin = "http://127.0.0.1:8080"
	e := shop.NewEnv(lite.New(store, lite.Options{Origin: origin}), store, origin)
	defer e.Close()
	ctx := context.Background()
	dump := os.Getenv("PILOT_DUMP_OBS")
	var all []int
	for b.Loop() {
		all = all[:0]
		for k := range 20 {
			obs, err := e.Reset(ctx, env.Task{ID: fmt.Sprintf("shop-test-%04d", k)})
			if err != nil {
				b.Fatal(err)
			}
			seen := []env.Observation{obs}
			for _, a := range []env.Action{env.A("fill", "5", "shirt"), env.A("click", "6")} {
				st, err := e.Step(ctx, a)
				if err != nil {
					b.Fatal(err)
				}
				obs = st.Obs
			}
			seen = append(seen, obs)
			if m := reFirstResult.FindStringSubmatch(obs.Text); m != nil {
				st, err := e.Step(ctx, env.A("click", m[1]))
				if err != nil {
					b.Fatal(err)
				}
				seen = append(seen, st.Obs)
			}
			for i, o := range seen {
				all = append(all, env.EstimateTokens(o.Text))
				if dump != "" && k < 3 {
					if err := os.WriteFile(filepath.Join(dump, fmt.Sprintf("shop-%d-%d.txt", k, i)), []byte(o.Text), 0o644); err != nil {
						b.Fatal(err)
					}
				}
			}
		}
	}
	slices.Sort(all)
	b.ReportMetric(float64(all[len(all)/2]), "median-tokens")
	b.ReportMetric(float64(all[len(all)-1]), "max-tokens")
}
