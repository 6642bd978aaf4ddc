package suites_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/pilotkit/pilot/env/shop"
	"github.com/pilotkit/pilot/evals"
	"github.com/pilotkit/pilot/evals/suites"
)

// Every built-in suite loads each split on its default engine with task
// ids that are unique, a task suite name of "<suite>/<split>", and
// releases what it started.
func TestBuiltinLoads(t *testing.T) {
	reg := suites.Builtin()
	if got := reg.Names(); got != "shop, demo, robot:reach, robot:pick, cartpole, miniwob" {
		t.Errorf("Builtin().Names() = %q", got)
	}
	for _, d := range reg.All() {
		for _, split := range d.Splits {
			o := evals.LoadOptions{Split: split, Seed: 1}
			if d.Name == "miniwob" {
				o.Params = map[string]string{"dir": miniwobDir}
			}
			l, err := d.Open(context.Background(), o)
			if err != nil {
				t.Errorf("%s/%s: %v", d.Name, split, err)
				continue
			}
			seen := map[string]bool{}
			for _, task := range l.Suite.Tasks {
				if seen[task.ID] || task.ID == "" {
					t.Errorf("%s/%s: task id %q empty or repeated", d.Name, split, task.ID)
				}
				seen[task.ID] = true
				if task.Suite != l.Suite.Name {
					t.Errorf("%s/%s: task %s has suite %q, want %q", d.Name, split, task.ID, task.Suite, l.Suite.Name)
					break
				}
			}
			if l.Suite.Name != d.Name+"/"+split || len(l.Suite.Tasks) == 0 {
				t.Errorf("%s/%s: suite %q with %d tasks", d.Name, split, l.Suite.Name, len(l.Suite.Tasks))
			}
			if d.Policy != "expert" {
				if _, ok := l.Policies[d.Policy]; !ok {
					t.Errorf("%s: default policy %q is neither expert nor the suite's own", d.Name, d.Policy)
				}
			} else if d.Expert == nil {
				t.Errorf("%s: default policy expert, but no expert", d.Name)
			}
			if l.Close != nil {
				if err := l.Close(); err != nil {
					t.Errorf("%s/%s: close: %v", d.Name, split, err)
				}
			}
		}
	}
}

func TestRegisterRejects(t *testing.T) {
	ok := suites.CartPole()
	for _, tc := range []struct {
		name string
		def  func(d evals.Def) evals.Def
		want string
	}{
		{"no name", func(d evals.Def) evals.Def { d.Name = ""; return d }, "no name"},
		{"slash", func(d evals.Def) evals.Def { d.Name = "a/b"; return d }, "no '/'"},
		{"no splits", func(d evals.Def) evals.Def { d.Splits = nil; return d }, "needs splits"},
		{"taken", func(d evals.Def) evals.Def { return d }, "taken"},
	} {
		reg := &evals.Registry{}
		if err := reg.Register(ok); err != nil {
			t.Fatal(err)
		}
		if err := reg.Register(tc.def(ok)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Register() = %v, want an error with %q", tc.name, err, tc.want)
		}
	}
	d := suites.Shop()
	for _, tc := range []struct {
		o    evals.LoadOptions
		want string
	}{
		{evals.LoadOptions{Split: "valid"}, `suite shop has no split "valid": want one of test, dev, train`},
		{evals.LoadOptions{Params: map[string]string{"colour": "red"}}, `suite shop has no parameter "colour": it takes products`},
		{evals.LoadOptions{Engine: evals.EngineLite, Screenshot: "png"}, "the lite engine takes no screenshots"},
		{evals.LoadOptions{Engine: evals.EngineLite, Params: map[string]string{"products": "many"}}, `products=many: want a whole number`},
	} {
		if _, err := d.Open(context.Background(), tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%+v) = %v, want an error with %q", tc.o, err, tc.want)
		}
	}
}

// The shop names what a failed episode missed, from its breakdown as the
// env gives it and as the run store gives it back (JSON).
func TestShopMissed(t *testing.T) {
	d, err := suites.Builtin().Find("shop")
	if err != nil {
		t.Fatal(err)
	}
	b := shop.Breakdown{TypeFactor: 0.5, Attributes: map[string]bool{"wool": true, "red": false}, Options: map[string]bool{"size": true},
		PriceOK: false, RatingOK: true, AddressOK: true}
	raw, _ := json.Marshal(b)
	var stored map[string]any
	json.Unmarshal(raw, &stored)
	for _, info := range []map[string]any{{"breakdown": b}, {"breakdown": stored}} {
		if got := strings.Join(d.Missed(evals.Result{Info: info}), ","); got != "category,attribute,price" {
			t.Errorf("Missed(%T) = %s, want category,attribute,price", info["breakdown"], got)
		}
	}
	if got := d.Missed(evals.Result{}); len(got) != 1 || got[0] != "no purchase" {
		t.Errorf("Missed of an episode without a purchase = %v", got)
	}
}
