package suites

import (
	"context"
	"errors"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/evals"
	"github.com/pilotkit/pilot/planner"
	"github.com/pilotkit/pilot/policy"
	"github.com/pilotkit/pilot/policy/expert"
	"github.com/pilotkit/pilot/policy/nn"
	"github.com/pilotkit/pilot/policy/shopnn"
)

// shopPlanning is the shop's help to the planners: the scorer's top-k
// candidates as proposals, a heuristic that reads the page against the
// instruction, and the scorer's critic.
func shopPlanning() *evals.Planning {
	return &evals.Planning{
		Engines: []string{evals.EngineLite, evals.EngineChromium},
		Propose: func(p policy.Policy) (planner.Proposer, bool) {
			a, ok := p.(*shopnn.Agent)
			if !ok {
				return nil, false
			}
			return &shopProposer{m: a.Model}, true
		},
		Values: map[string]evals.ValueDef{
			"heuristic": {
				Doc: "the page against the instruction: how far along (results, item, checkout, order) and how many of its words the chosen item and options match, within its price and rating",
				Make: func(policy.Policy) (planner.Value, error) {
					return planner.Heuristic{Name: "shop", F: shopHeuristic}, nil
				},
			},
			"critic": {
				Doc: "the value head of the nn: policy's network (trained by pilot train --algo ppo)",
				Make: func(p policy.Policy) (planner.Value, error) {
					a, ok := p.(*shopnn.Agent)
					if !ok {
						return nil, errCritic
					}
					return shopCritic{m: a.Model}, nil
				},
			},
		},
	}
}

var errCritic = errors.New("--value critic reads the network of an nn: policy: give --policy nn:shop or a trained policy.nn")

// shopProposer proposes the scorer's best k candidates of the page (a
// search, an item, an option, Buy Now, the checkout's fields and order),
// with their softmax probabilities as priors, and carries the scorer's
// memory of the path (searches run, items opened) into each branch.
type shopProposer struct {
	m     *shopnn.Model
	goals expert.Goals
	mem   shopnn.Memory
}

func (p *shopProposer) ResetEpisode(env.Task) {
	p.goals, p.mem = expert.Goals{}, shopnn.Memory{}
}

func (p *shopProposer) Propose(ctx context.Context, in policy.Input, k int) ([]planner.Candidate, policy.Usage, error) {
	if err := ctx.Err(); err != nil {
		return nil, policy.Usage{}, err
	}
	goal, _ := p.goals.Of(in.Task.Instruction, in.History)
	mem := cloneMemory(p.mem)
	page := shopnn.Read(goal, in.Obs.Text, &mem)
	z := p.m.Scores(&page)
	lp := nn.LogSoftmax(z, make([]float64, len(z)))
	order := make([]int, len(z))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case z[a] > z[b]:
			return -1
		case z[a] < z[b]:
			return 1
		}
		return 0
	})
	out := make([]planner.Candidate, 0, min(k, len(order)))
	for _, i := range order[:min(k, len(order))] {
		c := page.Cands[i]
		out = append(out, planner.Candidate{Actions: c.Actions, Prior: math.Exp(lp[i]), Thought: page.Kind + " page: " + c.Kind + " " + strconv.Quote(c.Text), Data: c})
	}
	return out, policy.Usage{}, nil
}

func (p *shopProposer) Branch(c planner.Candidate) planner.Proposer {
	n := *p
	n.mem = cloneMemory(p.mem)
	if sc, ok := c.Data.(shopnn.Candidate); ok {
		n.mem.Note(sc)
	}
	return &n
}

func cloneMemory(m shopnn.Memory) shopnn.Memory {
	m.Opened = maps.Clone(m.Opened)
	return m
}

// shopCritic values a page by the scorer's value head.
type shopCritic struct{ m *shopnn.Model }

func (c shopCritic) Value(ctx context.Context, l planner.Leaf) (planner.Estimate, error) {
	g := expert.ParseShopInstruction(l.Task.Instruction)
	var mem shopnn.Memory
	page := shopnn.Read(g, l.Obs.Text, &mem)
	return planner.Estimate{V: c.m.ValueOf(&page)}, nil
}

// titleOnly drops the variant a title ends with ("…, Navy"): the colour
// pictured is not the option chosen.
func titleOnly(title string) string {
	if i := strings.LastIndex(title, ","); i >= 0 {
		return title[:i]
	}
	return title
}

// shopHeuristic values a shop page from what it shows: a small bonus for
// the stage (0.05 for results, 0.1 for an item, 0.15 for the checkout,
// 0.2 for a placed order) plus up to 0.8 for how many of the
// instruction's product words the item's title (without the variant it
// ends with) and its chosen options hold, halved for a price over the ceiling or a rating under the floor.
func shopHeuristic(l planner.Leaf) float64 {
	g := expert.ParseShopInstruction(l.Task.Instruction)
	nodes := expert.ParseTree(l.Obs.Text)
	var (
		base, scale = 0.0, 0.0
		text        []string
		price       = -1.0
		rating      = -1.0
	)
	staticAfter := func(prefix string) string {
		for _, n := range nodes {
			if n.Role == "StaticText" && strings.HasPrefix(n.Name, prefix) {
				return strings.TrimPrefix(n.Name, prefix)
			}
		}
		return ""
	}
	money := func(s string) float64 {
		v, err := strconv.ParseFloat(strings.TrimPrefix(strings.Fields(s + " x")[0], "$"), 64)
		if err != nil {
			return -1
		}
		return v
	}
	switch {
	case expert.FindNode(nodes, "heading", "Thank you for your order") != nil:
		base, scale = 0.2, 0.8
		text = []string{titleOnly(staticAfter("Item: ")), staticAfter("Options: ")}
		price = money(staticAfter("Total: "))
		if q, err := strconv.Atoi(staticAfter("Quantity: ")); err == nil && q > 0 && price > 0 {
			price /= float64(q)
		}
	case expert.FindNode(nodes, "button", "Place order") != nil:
		base, scale = 0.15, 0.8
		text = []string{titleOnly(staticAfter("Item: ")), staticAfter("Options: ")}
		price = money(staticAfter("Price: "))
	case expert.FindNode(nodes, "button", "Buy Now") != nil:
		base, scale = 0.1, 0.8
		for _, n := range nodes {
			switch {
			case n.Role == "heading":
				text = append(text, titleOnly(n.Name))
			case n.Role == "radio" && n.Checked():
				text = append(text, n.Name)
			}
		}
		price = money(staticAfter("Price: "))
		rating = money(staticAfter("Rating: "))
	case strings.Contains(l.Obs.Text, "heading \"Results for"):
		base = 0.05
	}
	if scale == 0 || len(g.Words) == 0 {
		return base
	}
	have := map[string]bool{}
	for _, t := range text {
		for _, w := range strings.FieldsFunc(strings.ToLower(t), func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.')
		}) {
			have[strings.Trim(w, ".-")] = true
		}
	}
	matched := 0
	for _, w := range g.Words {
		if have[w] || have[strings.TrimSuffix(w, "s")] {
			matched++
		}
	}
	m := float64(matched) / float64(len(g.Words))
	if g.PriceMax > 0 && price > g.PriceMax {
		m /= 2
	}
	if g.RatingMin > 0 && rating >= 0 && rating < g.RatingMin {
		m /= 2
	}
	return base + scale*m
}
