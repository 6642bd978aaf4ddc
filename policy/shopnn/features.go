package shopnn

import (
	"hash/fnv"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/policy/expert"
)

// The feature layout: Buckets hashed text features, summed into an
// embedding of width Embed, next to Dense numeric features.
const (
	Buckets = 4096
	Embed   = 16
	Dense   = numDense
	// Input is the width of the scorer's and the value's input.
	Input = Embed + Dense
)

// The numeric features, in Candidate.dense.
const (
	dPriceRatio    = iota // price ÷ the instruction's ceiling, at most 3 (0: no ceiling)
	dPriceFits            // the price is within the ceiling
	dRatingMargin         // (rating − floor) ÷ 5, in [−1, 1]
	dRatingFits           // the rating reaches the floor
	dOverlap              // share of the product's words in the text
	dRank                 // result rank ÷ 10, query attempt ÷ 3, or results page ÷ 10
	dSeen                 // times the item was opened, at most 3
	dSearches             // searches so far ÷ 3
	dDecisions            // decisions so far ÷ 10
	dOptionsChosen        // share of the named options chosen on the item
	dWanted               // this option value is the one the instruction names
	dBias                 // 1
	numDense
)

// Page kinds.
const (
	KindSearch    = "search"
	KindResults   = "results"
	KindNoResults = "noresults"
	KindItem      = "item"
	KindCheckout  = "checkout"
	KindDone      = "done"
	KindOther     = "other"
)

// Candidate is one thing the policy may do on a page: run a search, open a
// result, choose an option, buy, place the order, go back. Actions are the
// env actions that carry it out, in order (a search is a fill and a click).
type Candidate struct {
	Kind    string // search, open, next, prev, back, back_search, option, buy, order, stop, go_back
	Text    string // what it says: the query, the item's title, "color yellow"
	Actions []env.Action

	hashed []int32        // feature buckets, with repeats
	dense  [Dense]float64 // numeric features
}

// Page is a shop page as the policy reads it: its kind and its candidates.
type Page struct {
	Kind  string
	Cands []Candidate
}

// Memory is what the policy remembers within an episode, read by the
// features: the searches it ran, the items it opened, the decisions taken.
type Memory struct {
	Searches  int
	Pages     int // results pages seen since the last search
	Decisions int
	Opened    map[string]int // item titles opened, how often
}

// Note updates m after the policy chose c.
func (m *Memory) Note(c Candidate) {
	m.Decisions++
	switch c.Kind {
	case "search":
		m.Searches++
		m.Pages = 1
	case "next":
		m.Pages++
	case "prev":
		m.Pages = max(1, m.Pages-1)
	case "open":
		if m.Opened == nil {
			m.Opened = map[string]int{}
		}
		m.Opened[c.Text]++
	}
}

var (
	reTok     = regexp.MustCompile(`[a-z0-9][a-z0-9.\-]*`)
	rePageNo  = regexp.MustCompile(`^Page ([0-9]+) of ([0-9]+)`)
	reMoneyIn = regexp.MustCompile(`\$\s*([0-9]+(?:\.[0-9]+)?)`)
	reOutOf5  = regexp.MustCompile(`([0-9](?:\.[0-9])?) out of 5`)
)

func words(s string) []string {
	ws := reTok.FindAllString(strings.ToLower(s), -1)
	for i, w := range ws {
		ws[i] = strings.Trim(w, ".-")
	}
	return ws
}

// Read turns an observation of the shop (env/web's or env/web/lite's
// element tree) into a Page: its kind and its candidates with their
// features, for the instruction g and the episode memory m.
func Read(g expert.ShopGoal, obsText string, m *Memory) Page {
	nodes := expert.ParseTree(obsText)
	f := featurizer{g: g, m: m, goalWords: map[string]bool{}}
	for _, w := range g.Words {
		f.goalWords[w] = true
	}
	var p Page
	switch {
	case hasName(nodes, "heading", "Thank you for your order"):
		p.Kind = KindDone
		p.Cands = []Candidate{{Kind: "stop", Text: "stop", Actions: []env.Action{env.A("stop", "")}}}
	case expert.FindNode(nodes, "button", "Place order") != nil:
		p.Kind = KindCheckout
		p.Cands = f.checkout(nodes)
	case expert.FindNode(nodes, "button", "Buy Now") != nil:
		p.Kind = KindItem
		p.Cands = f.item(nodes)
	case hasPrefix(nodes, "heading", "Results for"):
		p.Kind = KindResults
		p.Cands = f.results(nodes)
	case hasPrefix(nodes, "StaticText", "No products match"):
		p.Kind = KindNoResults
		p.Cands = f.links(nodes, map[string]string{"Back to Search": "back_search"})
	case expert.FindNode(nodes, "searchbox", "Search") != nil:
		p.Kind = KindSearch
		p.Cands = f.search(nodes)
	}
	if len(p.Cands) == 0 {
		if p.Kind == "" {
			p.Kind = KindOther
		}
		p.Cands = []Candidate{{Kind: "go_back", Text: "go back", Actions: []env.Action{env.A("go_back")}}}
	}
	for i := range p.Cands {
		f.finish(p.Kind, &p.Cands[i])
	}
	return p
}

type featurizer struct {
	g         expert.ShopGoal
	m         *Memory
	goalWords map[string]bool
}

func (f *featurizer) search(nodes []expert.Node) []Candidate {
	box := expert.FindNode(nodes, "searchbox", "Search")
	btn := expert.FindNode(nodes, "button", "Search")
	var cands []Candidate
	seen := map[string]bool{}
	for attempt := range 3 {
		q := f.g.Query(attempt)
		if q == "" || seen[q] {
			continue
		}
		seen[q] = true
		var acts []env.Action
		if box.Value() != q {
			acts = append(acts, env.A("fill", box.ID, q))
		}
		if btn != nil {
			acts = append(acts, env.A("click", btn.ID))
		} else {
			acts = append(acts, env.A("press", "Enter"))
		}
		c := Candidate{Kind: "search", Text: q, Actions: acts}
		c.add("q:attempt" + strconv.Itoa(attempt))
		c.add("q:attempt" + strconv.Itoa(attempt) + "|searches" + strconv.Itoa(min(f.m.Searches, 3)))
		c.dense[dRank] = float64(attempt) / 3
		cands = append(cands, c)
	}
	return cands
}

// fits says whether a price and a rating meet the instruction's limits.
func (f *featurizer) fits(price, rating float64, c *Candidate) (bool, bool) {
	fitP := f.g.PriceMax == 0 || price <= f.g.PriceMax
	fitR := rating >= f.g.RatingMin
	if f.g.PriceMax > 0 {
		c.dense[dPriceRatio] = math.Min(price/f.g.PriceMax, 3)
	}
	c.dense[dPriceFits] = b2f(fitP)
	c.dense[dRatingMargin] = math.Max(-1, math.Min(1, (rating-f.g.RatingMin)/5))
	c.dense[dRatingFits] = b2f(fitR)
	c.add("fitp:" + strconv.FormatBool(fitP))
	c.add("fitr:" + strconv.FormatBool(fitR))
	c.add("fit:" + strconv.FormatBool(fitP && fitR))
	return fitP, fitR
}

func (f *featurizer) results(nodes []expert.Node) []Candidate {
	var cands []Candidate
	anyFit := false
	for i, it := range expert.ShopResults(nodes) {
		c := Candidate{Kind: "open", Text: it.Title, Actions: []env.Action{env.A("click", it.Link)}}
		fp, fr := f.fits(it.Price, it.Rating, &c)
		seen := f.m.Opened[it.Title]
		if fp && fr && seen == 0 {
			anyFit = true
		}
		c.add("rank:" + strconv.Itoa(min(i, 9)))
		c.add("seen:" + strconv.Itoa(min(seen, 2)))
		c.add("seen:" + strconv.Itoa(min(seen, 2)) + "|fit:" + strconv.FormatBool(fp && fr))
		c.dense[dRank] = float64(i) / 10
		c.dense[dSeen] = float64(min(seen, 3))
		cands = append(cands, c)
	}
	pageNo := 1
	for _, n := range nodes {
		if m := rePageNo.FindStringSubmatch(n.Name); n.Role == "StaticText" && m != nil {
			pageNo, _ = strconv.Atoi(m[1])
		}
	}
	for _, c := range f.links(nodes, map[string]string{"Next >": "next", "< Prev": "prev", "Back to Search": "back_search"}) {
		c.add("anyfit:" + strconv.FormatBool(anyFit))
		c.add("resultpage:" + strconv.Itoa(min(pageNo, 6)))
		c.add("resultpages:" + strconv.Itoa(min(f.m.Pages, 6)))
		c.add("searches:" + strconv.Itoa(min(f.m.Searches, 3)))
		c.dense[dRank] = float64(min(pageNo, 10)) / 10
		cands = append(cands, c)
	}
	return cands
}

func (f *featurizer) item(nodes []expert.Node) []Candidate {
	title := ""
	for _, n := range nodes {
		if n.Role == "heading" {
			title = n.Name
			break
		}
	}
	price, rating := 0.0, 0.0
	for _, n := range nodes {
		if n.Role != "StaticText" {
			continue
		}
		if m := reMoneyIn.FindStringSubmatch(n.Name); strings.HasPrefix(n.Name, "Price:") && m != nil {
			price, _ = strconv.ParseFloat(m[1], 64)
		}
		if m := reOutOf5.FindStringSubmatch(n.Name); strings.HasPrefix(n.Name, "Rating:") && m != nil {
			rating, _ = strconv.ParseFloat(m[1], 64)
		}
	}
	var cands []Candidate
	wanted, chosen, missing := 0, 0, 0
	for _, grp := range expert.ShopOptionGroups(nodes) {
		want := f.g.OptionIndex(grp.Name, grp.Values)
		asks := f.g.AsksFor(grp.Name)
		checked := -1
		for i, v := range grp.Values {
			if v.Checked() {
				checked = i
			}
		}
		switch {
		case want >= 0:
			wanted++
			if checked == want {
				chosen++
			}
		case asks:
			missing++
		}
		for i, v := range grp.Values {
			if v.Checked() {
				continue
			}
			c := Candidate{Kind: "option", Text: grp.Name + " " + v.Name, Actions: []env.Action{env.A("click", v.ID)}}
			c.add("opt:want:" + strconv.FormatBool(i == want))
			c.add("opt:asks:" + strconv.FormatBool(asks))
			c.add("opt:groupchecked:" + strconv.FormatBool(checked >= 0))
			c.add("opt:want:" + strconv.FormatBool(i == want) + "|checked:" + strconv.FormatBool(checked >= 0))
			c.add("opt:group:" + grp.Name)
			c.dense[dWanted] = b2f(i == want)
			cands = append(cands, c)
		}
	}
	state := func(c *Candidate) {
		fp, fr := f.fits(price, rating, c)
		c.add("item:fit:" + strconv.FormatBool(fp && fr) + "|missing:" + strconv.FormatBool(missing > 0))
		c.add("item:unchosen:" + strconv.Itoa(min(wanted-chosen, 3)))
		c.add("item:missing:" + strconv.Itoa(min(missing, 2)))
		c.add("item:seen:" + strconv.Itoa(min(f.m.Opened[title], 3)))
		if wanted > 0 {
			c.dense[dOptionsChosen] = float64(chosen) / float64(wanted)
		} else {
			c.dense[dOptionsChosen] = 1
		}
		c.dense[dSeen] = float64(min(f.m.Opened[title], 3))
		f.overlap(c, title)
	}
	if buy := expert.FindNode(nodes, "button", "Buy Now"); buy != nil {
		c := Candidate{Kind: "buy", Text: title, Actions: []env.Action{env.A("click", buy.ID)}}
		state(&c)
		cands = append(cands, c)
	}
	for _, c := range f.links(nodes, map[string]string{"< Back to results": "back", "Back to Search": "back_search"}) {
		state(&c)
		cands = append(cands, c)
	}
	return cands
}

func (f *featurizer) checkout(nodes []expert.Node) []Candidate {
	var cands []Candidate
	var acts []env.Action
	if f.g.HasAddress {
		for i, l := range [5]string{"Full name", "Street address", "City", "State", "ZIP code"} {
			if box := expert.FindNode(nodes, "textbox", l); box != nil && box.Value() != f.g.Address[i] {
				acts = append(acts, env.A("fill", box.ID, f.g.Address[i]))
			}
		}
	}
	place := expert.FindNode(nodes, "button", "Place order")
	acts = append(acts, env.A("click", place.ID))
	c := Candidate{Kind: "order", Text: "place order", Actions: acts}
	c.add("order:address:" + strconv.FormatBool(f.g.HasAddress))
	cands = append(cands, c)
	for _, c := range f.links(nodes, map[string]string{"< Back to item": "back"}) {
		c.add("order:address:" + strconv.FormatBool(f.g.HasAddress))
		cands = append(cands, c)
	}
	return cands
}

// links returns a candidate for each link named in kinds (name → kind), in
// page order.
func (f *featurizer) links(nodes []expert.Node, kinds map[string]string) []Candidate {
	var cands []Candidate
	for _, n := range nodes {
		if k, ok := kinds[n.Name]; ok && n.Role == "link" {
			cands = append(cands, Candidate{Kind: k, Text: strings.ToLower(n.Name), Actions: []env.Action{env.A("click", n.ID)}})
		}
	}
	return cands
}

// finish adds the features every candidate has: its kind on this page,
// its words, the words it shares with the instruction, and the episode's
// progress.
func (f *featurizer) finish(page string, c *Candidate) {
	k := c.Kind
	c.add("p:" + page + "|k:" + k)
	c.add("k:" + k + "|decisions:" + strconv.Itoa(min(f.m.Decisions/3, 6)))
	c.add("k:" + k + "|searches:" + strconv.Itoa(min(f.m.Searches, 3)))
	if c.Kind != "order" && c.Kind != "stop" {
		for _, w := range words(c.Text) {
			c.add("w:" + k + ":" + w)
			if f.goalWords[w] {
				c.add("m:" + k + ":" + w)
				c.add("m:" + k)
			}
		}
	}
	if c.Kind == "open" || c.Kind == "search" {
		f.overlap(c, c.Text)
	}
	c.dense[dSearches] = float64(min(f.m.Searches, 6)) / 3
	c.dense[dDecisions] = float64(min(f.m.Decisions, 30)) / 10
	c.dense[dBias] = 1
}

// overlap sets the share of the instruction's product words that text
// contains.
func (f *featurizer) overlap(c *Candidate, text string) {
	if len(f.goalWords) == 0 {
		return
	}
	n := 0
	seen := map[string]bool{}
	for _, w := range words(text) {
		if f.goalWords[w] && !seen[w] {
			seen[w] = true
			n++
		}
	}
	c.dense[dOverlap] = float64(n) / float64(len(f.goalWords))
}

func (c *Candidate) add(feature string) {
	h := fnv.New32a()
	h.Write([]byte(feature))
	c.hashed = append(c.hashed, int32(h.Sum32()%Buckets))
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func hasName(nodes []expert.Node, role, name string) bool {
	return expert.FindNode(nodes, role, name) != nil
}

func hasPrefix(nodes []expert.Node, role, prefix string) bool {
	for _, n := range nodes {
		if n.Role == role && strings.HasPrefix(n.Name, prefix) {
			return true
		}
	}
	return false
}
