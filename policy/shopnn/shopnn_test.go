package shopnn

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/policy"
	"github.com/pilotkit/pilot/policy/expert"
	"github.com/pilotkit/pilot/policy/nn"
)

func readObs(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func goal(t *testing.T) expert.ShopGoal {
	return expert.ParseShopInstruction(strings.TrimSpace(readObs(t, "instruction.txt")))
}

func kinds(p Page) map[string]int {
	k := map[string]int{}
	for _, c := range p.Cands {
		k[c.Kind]++
	}
	return k
}

// TestReadRealPages reads observations recorded from Chromium.
func TestReadRealPages(t *testing.T) {
	g := goal(t)
	cases := []struct {
		file, kind string
		want       map[string]int
		first      env.Action
	}{
		{"search.txt", KindSearch, map[string]int{"search": 3}, env.A("fill", "5", "leak proof sweat free straw lid water bottles capacity 32 oz yellow")},
		{"results.txt", KindResults, map[string]int{"open": 10, "next": 1, "back_search": 1}, env.A("click", "8")},
		{"item.txt", KindItem, map[string]int{"option": 8, "buy": 1, "back": 1, "back_search": 1}, env.A("click", "11")},
		{"checkout.txt", KindCheckout, map[string]int{"order": 1, "back": 1}, env.A("fill", "10", "Victor Lewis")},
		{"done.txt", KindDone, map[string]int{"stop": 1}, env.A("stop", "")},
	}
	for _, c := range cases {
		var m Memory
		p := Read(g, readObs(t, c.file), &m)
		if p.Kind != c.kind {
			t.Errorf("%s: kind %q, want %q", c.file, p.Kind, c.kind)
		}
		got := kinds(p)
		for k, n := range c.want {
			if got[k] != n {
				t.Errorf("%s: %d %s candidates, want %d (all: %v)", c.file, got[k], k, n, got)
			}
		}
		if !p.Cands[0].Actions[0].Equal(c.first) {
			t.Errorf("%s: first candidate starts with %s, want %s", c.file, p.Cands[0].Actions[0], c.first)
		}
		for _, cand := range p.Cands {
			if len(cand.hashed) == 0 || cand.dense[dBias] != 1 {
				t.Errorf("%s: candidate %s %q has no features", c.file, cand.Kind, cand.Text)
			}
		}
	}
}

func TestCandidateFeatures(t *testing.T) {
	g := goal(t) // under $40, at least 3.5 stars, yellow, 32 oz
	var m Memory
	p := Read(g, readObs(t, "results.txt"), &m)
	first := p.Cands[0] // $34.49, 5.0 stars: fits
	if first.dense[dPriceFits] != 1 || first.dense[dRatingFits] != 1 {
		t.Errorf("first result dense %v: want price and rating fits", first.dense)
	}
	if math.Abs(first.dense[dPriceRatio]-34.49/40) > 1e-9 {
		t.Errorf("price ratio %v, want %v", first.dense[dPriceRatio], 34.49/40)
	}
	// Opening an item is remembered: the same result is then "seen".
	m.Note(first)
	p2 := Read(g, readObs(t, "results.txt"), &m)
	if p2.Cands[0].dense[dSeen] != 1 {
		t.Errorf("seen = %v after opening it, want 1", p2.Cands[0].dense[dSeen])
	}
	it := Read(g, readObs(t, "item.txt"), &Memory{})
	for _, c := range it.Cands {
		want := c.Text == "color yellow" || c.Text == "capacity 32 oz"
		if c.Kind == "option" && (c.dense[dWanted] == 1) != want {
			t.Errorf("option %q: wanted = %v, want %v", c.Text, c.dense[dWanted], want)
		}
	}
	// The checkout's order fills the five fields, then clicks.
	co := Read(g, readObs(t, "checkout.txt"), &Memory{})
	if n := len(co.Cands[0].Actions); n != 6 {
		t.Errorf("order has %d actions, want 6: %v", n, co.Cands[0].Actions)
	}
	// An unknown page offers go_back only.
	o := Read(g, "URL: x\nTitle: y\n\n[1] heading \"Oops\" level=1", &Memory{})
	if o.Kind != KindOther || len(o.Cands) != 1 || o.Cands[0].Kind != "go_back" {
		t.Errorf("unknown page: %+v", o)
	}
}

// TestGradients checks the scorer's and the value's backprop, through the
// embedding, against finite differences.
func TestGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	m := New(rng)
	for i := range m.Emb.Value {
		m.Emb.Value[i] = rng.NormFloat64()
	}
	p := Read(goal(t), readObs(t, "item.txt"), &Memory{})
	chosen := 3
	loss := func() float64 {
		lp := logSoftmax(m.Scores(&p))
		return -lp[chosen] + 0.7*m.ValueOf(&p)
	}
	m.ZeroGrad()
	m.scoresGrad(&p, func(z []float64) []float64 {
		lp := logSoftmax(z)
		dz := make([]float64, len(z))
		for k := range z {
			dz[k] = math.Exp(lp[k])
		}
		dz[chosen]--
		return dz
	})
	m.valueGrad(&p, func(float64) float64 { return 0.7 })
	checked := 0
	for _, prm := range m.Params() {
		for _, j := range []int{0, len(prm.Value) / 3, len(prm.Value) - 1} {
			if prm.Name == "emb" {
				j = int(p.Cands[chosen].hashed[0])*Embed + j%Embed
			}
			old := prm.Value[j]
			const h = 1e-6
			prm.Value[j] = old + h
			up := loss()
			prm.Value[j] = old - h
			down := loss()
			prm.Value[j] = old
			num := (up - down) / (2 * h)
			if math.Abs(num-prm.Grad[j]) > 1e-6*math.Max(1, math.Abs(num)) {
				t.Errorf("%s[%d]: backprop %.9g, finite difference %.9g", prm.Name, j, prm.Grad[j], num)
			}
			checked++
		}
	}
	if checked < 10 {
		t.Fatalf("checked %d gradients", checked)
	}
}

func TestSaveLoad(t *testing.T) {
	m := New(rand.New(rand.NewPCG(3, 4)))
	path := filepath.Join(t.TempDir(), "shop.nn")
	if err := m.Save(path, map[string]string{"algo": "bc"}); err != nil {
		t.Fatal(err)
	}
	got, meta, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if meta["algo"] != "bc" || meta["kind"] != "shop-scorer" {
		t.Errorf("meta %v", meta)
	}
	p := Read(goal(t), readObs(t, "results.txt"), &Memory{})
	a, b := m.Scores(&p), got.Scores(&p)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("scores differ after a round trip: %v vs %v", a, b)
		}
	}
	// A bundle of another kind (a PPO control policy) is refused by name.
	var buf bytes.Buffer
	other := &nn.Bundle{Meta: map[string]string{"env": "cartpole"}, Nets: map[string]*nn.MLP{"actor": nn.NewMLP([]int{4, 2}, nn.Tanh, 1, rand.New(rand.NewPCG(1, 1)))}}
	if _, err := other.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	ob, err := nn.ReadBundle(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := FromBundle(ob, "cartpole.nn"); err == nil || !strings.Contains(err.Error(), "not a shop policy") {
		t.Errorf("loading a cartpole policy: %v, want \"not a shop policy\"", err)
	}
	// Features of another size are refused with what to do.
	bb := m.Bundle(nil)
	bb.Meta["buckets"] = "1024"
	if _, _, err := FromBundle(bb, "old.nn"); err == nil || !strings.Contains(err.Error(), "retrain") {
		t.Errorf("loading other features: %v", err)
	}
}

// TestAgentCarriesOutCandidates: a search is a fill and then a click; an
// error drops the rest of the plan.
func TestAgentCarriesOutCandidates(t *testing.T) {
	a := NewAgent(New(rand.New(rand.NewPCG(5, 6))))
	task := env.Task{Instruction: strings.TrimSpace(readObs(t, "instruction.txt"))}
	a.ResetEpisode(task)
	in := policy.Input{Task: task, Obs: env.Observation{Text: readObs(t, "search.txt")}}
	d1, err := a.Act(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	if d1.Action.Name != "fill" || d1.Action.Arg(0) != "5" {
		t.Fatalf("first action %s, want a fill of the search box", d1.Action)
	}
	d2, _ := a.Act(t.Context(), in)
	if !d2.Action.Equal(env.A("click", "6")) {
		t.Fatalf("second action %s, want click(\"6\")", d2.Action)
	}
	// Checkout: the order's first fill, then an error: the agent decides
	// again instead of carrying on.
	co := policy.Input{Task: task, Obs: env.Observation{Text: readObs(t, "checkout.txt")}}
	d3, _ := a.Act(t.Context(), co)
	if d3.Action.Name != "fill" && d3.Action.Name != "click" {
		t.Fatalf("checkout action %s", d3.Action)
	}
	co.Obs.Error = "boom"
	d4, _ := a.Act(t.Context(), co)
	if d4.Thought == "continue" {
		t.Errorf("after an error the agent continued its plan: %s", d4.Action)
	}
}

// FuzzRead: any observation text gives a page with at least one candidate,
// each with an action, and features the model can score.
func FuzzRead(f *testing.F) {
	for _, name := range []string{"search.txt", "results.txt", "item.txt", "checkout.txt", "done.txt"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b), "i need a blue mug under $20, rated at least 4 stars. address: A B, 1 Road, Town, CA 90210")
	}
	f.Add("[1] listitem\n  [2] link \"x\"\n  StaticText \"$-1e309\"\n[3] heading \"Results for\"", "under $0")
	m := New(rand.New(rand.NewPCG(1, 1)))
	f.Fuzz(func(t *testing.T, obs, instr string) {
		var mem Memory
		p := Read(expert.ParseShopInstruction(instr), obs, &mem)
		if len(p.Cands) == 0 {
			t.Fatalf("page %q has no candidates", p.Kind)
		}
		z := m.Scores(&p)
		for i, c := range p.Cands {
			if len(c.Actions) == 0 || len(c.hashed) == 0 {
				t.Fatalf("candidate %d %+v has no action or no features", i, c)
			}
			if math.IsNaN(z[i]) || math.IsInf(z[i], 0) {
				t.Fatalf("candidate %d %s %q scores %v (dense %v)", i, c.Kind, c.Text, z[i], c.dense)
			}
			mem.Note(c)
		}
	})
}
