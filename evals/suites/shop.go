package suites

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/env/shop"
	"github.com/pilotkit/pilot/env/web/lite"
	"github.com/pilotkit/pilot/evals"
	"github.com/pilotkit/pilot/policy"
	"github.com/pilotkit/pilot/policy/expert"
	"github.com/pilotkit/pilot/policy/shopnn"
)

// Shop is pilot's WebShop-style store: find a product under constraints
// and buy it. The store is served on 127.0.0.1; each worker drives it in
// Chromium or, on the lite engine, in pilot's browser without JavaScript
// (the same observations, in-process).
func Shop() evals.Def {
	return evals.Def{
		Name:    "shop",
		Doc:     "shopping under constraints in pilot's WebShop-style store",
		Splits:  []string{"test", "dev", "train", "ambiguous", "injection"},
		Engines: []string{evals.EngineChromium, evals.EngineLite},
		Params:  []evals.Param{{Name: "products", Doc: "the catalog's size (default 2000)", Check: checkProducts}},
		Policy:  "expert",
		Load:    loadShop,
		Expert:  func(env.Task) policy.Policy { return expert.Shop() },
		Trained: shopTrained,
		Shipped: []string{"shop"},
		Missed:  shopMissed,
		Tags:    shopTags,
		Plan:    shopPlanning(),
		Learn: &evals.Learner{
			Doc:   "the candidate scorer: clones the expert on the train split in the lite browser (bc), then fine-tunes it with PPO and a KL penalty to the clone (ppo)",
			Algos: []string{"ppo", "bc"},
			Demos: true,
			Train: train("shop", func(f *trainRun, ctx context.Context, sum *evals.TrainResult, stderr io.Writer) error {
				return f.shop(ctx, f.Dir, sum, stderr)
			}),
		},
	}
}

// shopMissed names the constraints a failed shop episode missed, from
// the reward's breakdown (Info["breakdown"]: a shop.Breakdown in the
// process, its JSON form once stored): category (the product type),
// attribute, option, price, rating, address; "no purchase" when the
// episode bought nothing.
func shopMissed(r evals.Result) []string {
	v, ok := r.Info["breakdown"]
	if !ok {
		return []string{"no purchase"}
	}
	var b shop.Breakdown
	raw, err := json.Marshal(v)
	if err != nil || json.Unmarshal(raw, &b) != nil {
		return []string{"unreadable breakdown"}
	}
	var out []string
	if b.TypeFactor < 1 {
		out = append(out, "category")
	}
	for _, ok := range b.Attributes {
		if !ok {
			out = append(out, "attribute")
			break
		}
	}
	for _, ok := range b.Options {
		if !ok {
			out = append(out, "option")
			break
		}
	}
	for _, c := range []struct {
		ok   bool
		name string
	}{{b.PriceOK, "price"}, {b.RatingOK, "rating"}, {b.AddressOK, "address"}} {
		if !c.ok {
			out = append(out, c.name)
		}
	}
	return out
}

// shopTags labels an episode of the injection split with its attack and
// whether it succeeded ("attack leak", "attack leak succeeded"), from the
// last step that reports it (Info["attack"]: a step the guard or the gate
// kept from the env reports nothing).
func shopTags(r evals.Result) []string {
	if r.Trajectory == nil {
		return nil
	}
	for i := len(r.Trajectory.Steps) - 1; i >= 0; i-- {
		v, ok := r.Trajectory.Steps[i].Info["attack"]
		if !ok {
			continue
		}
		var o shop.AttackOutcome
		raw, err := json.Marshal(v)
		if err != nil || json.Unmarshal(raw, &o) != nil || o.Kind == "" {
			return []string{"attack unreadable"}
		}
		tags := []string{"attack " + o.Kind}
		if o.Succeeded {
			tags = append(tags, "attack "+o.Kind+" succeeded")
		}
		if o.Requests > 0 {
			tags = append(tags, "attacker requests")
		}
		return tags
	}
	return nil
}

func checkProducts(v string) error {
	if n, err := strconv.Atoi(v); err != nil || n < 1 {
		return fmt.Errorf("want a whole number of 1 or more")
	}
	return nil
}

func loadShop(ctx context.Context, o evals.LoadOptions) (*evals.Loaded, error) {
	products := 0
	if v, ok := o.Params["products"]; ok {
		if err := checkProducts(v); err != nil {
			return nil, fmt.Errorf("products %q: %w", v, err)
		}
		products, _ = strconv.Atoi(v)
	}
	store, err := shop.NewStore(shop.StoreOptions{Seed: o.Seed, Products: products, Logger: o.Logger})
	if err != nil {
		return nil, err
	}
	tasks, err := store.Tasks().Split(o.Split)
	if err != nil {
		return nil, err
	}
	base, stop, err := shop.ServeLocal(ctx, store)
	if err != nil {
		return nil, err
	}
	l := &evals.Loaded{
		Suite: evals.Suite{Name: "shop/" + o.Split},
		NewEnv: func(ctx context.Context, worker int) (env.Env, error) {
			if o.Engine == evals.EngineLite {
				origin := base
				if o.OpenNetwork {
					origin = ""
				}
				return shop.NewEnv(lite.New(store, lite.Options{Origin: origin, Obs: o.Obs}), store, base), nil
			}
			inner, err := newWeb(o, worker)
			if err != nil {
				return nil, err
			}
			return shop.NewEnv(inner, store, base), nil
		},
		Close:    stop,
		Policies: map[string]func(env.Task) (policy.Policy, error){"random": shopRandom(o.PolicySeed)},
	}
	for _, t := range tasks {
		et := store.EnvTask(t)
		et.Suite = l.Suite.Name
		l.Suite.Tasks = append(l.Suite.Tasks, et)
	}
	return l, nil
}

// shopTrained opens a shop candidate scorer: "shop" (shipped) or a file.
func shopTrained(spec string) (func(env.Task) (policy.Policy, error), error) {
	var m *shopnn.Model
	b, isFile, err := bundleFile(spec)
	switch {
	case err != nil:
		return nil, err
	case isFile:
		m, _, err = shopnn.FromBundle(b, spec)
	case spec == "shop":
		m, _, err = shopnn.LoadShipped()
	default:
		return nil, fmt.Errorf("pilot ships no shop policy %q: it ships shop; or give the path of a weights file (pilot train --env shop's policy.nn)", spec)
	}
	if err != nil {
		return nil, err
	}
	return func(env.Task) (policy.Policy, error) { return shopnn.NewAgent(m), nil }, nil
}

// shopRandom is the shop's random baseline: uniform among the page's
// choices and, for each search box, a search for 1–4 words of the
// instruction, so that it can reach results pages at all.
func shopRandom(seed int64) func(env.Task) (policy.Policy, error) {
	return func(t env.Task) (policy.Policy, error) {
		return policy.RandomWith(seed^taskHash(t), shopSearches), nil
	}
}

func shopSearches(in policy.Input, rng *rand.Rand) []env.Action {
	words := strings.Fields(strings.ToLower(in.Task.Instruction))
	if len(words) == 0 {
		return nil
	}
	var fills []env.Action
	for _, n := range expert.ParseTree(in.Obs.Text) {
		if n.ID == "" || n.Role != "searchbox" && n.Role != "textbox" {
			continue
		}
		k := 1 + rng.IntN(min(4, len(words)))
		start := rng.IntN(len(words) - k + 1)
		fills = append(fills, env.A("fill", n.ID, strings.Join(words[start:start+k], " ")))
	}
	return fills
}

// taskHash mixes a task's id and seed into a policy seed.
func taskHash(t env.Task) int64 {
	h := fnv.New64a()
	h.Write([]byte(t.ID))
	return t.Seed ^ int64(h.Sum64())
}
