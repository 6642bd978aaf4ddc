package expert

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/pilotkit/pilot/env"

	"github.com/pilotkit/pilot/policy"
)

// Shop returns the scripted expert for pilot's shop (env/shop): it
// solves a shopping task from the observation text alone, as a person
// would, with no access to the catalog or to the task's hidden goal. It
// reads the instruction, searches, compares the results' prices and
// ratings, opens an item, checks it, chooses the options the instruction
// names, buys, and fills the shipping address.
//
// It keeps per-episode state (the items it has rejected): use one per
// episode, or let agent.Run reset it. Its Decision.Thought says why it
// acts, so a trajectory shows where it went wrong.
func Shop() policy.Policy { return &shopExpert{} }

type shopExpert struct {
	goal     ShopGoal
	rejected map[string]bool // item titles that failed a check
	pages    int             // results pages seen for the current query
	attempt  int             // how many times the query was shortened
	// asked says the expert asked the user about the options (once an
	// episode); research that an answer told a fact to search again with.
	asked, research bool
	goals           Goals
}

func (x *shopExpert) ResetEpisode(env.Task) {
	*x = shopExpert{}
}

// ShopGoal is what a shop instruction asks for, as ParseShopInstruction
// reads it: the scripted expert and the neural shop policy (policy/shopnn)
// build on it.
type ShopGoal struct {
	Text      string   // the instruction, lower case
	Product   string   // the part that describes the product, lower case
	Words     []string // the product's words without fillers: the search
	PriceMax  float64  // the price ceiling; 0: none
	RatingMin float64  // the rating floor; 0: none
	// Address is the shipping address: name, street, city, state, zip;
	// HasAddress is false when the instruction gives none.
	Address    [5]string
	HasAddress bool
}

var (
	rePrice   = regexp.MustCompile(`(?:under|lower than|less than|no more than|at most|below|cheaper than|up to)\s*\$?\s*([0-9]+(?:\.[0-9]+)?)`)
	reRating  = regexp.MustCompile(`(?:at least|minimum of|no less than|not less than|a rating of)\s*([0-9](?:\.[0-9])?)\s*(?:stars?|out of)`)
	reStars   = regexp.MustCompile(`(?:^|\s)([0-9](?:\.[0-9])?) stars`)
	reListed  = regexp.MustCompile(`^\$([0-9]+(?:\.[0-9]+)?)(?:\s|$)`)
	reMoney   = regexp.MustCompile(`\$\s*([0-9]+(?:\.[0-9]+)?)`)
	reOutOf   = regexp.MustCompile(`([0-9](?:\.[0-9])?) out of 5`)
	reZip     = regexp.MustCompile(`^([A-Za-z]{2})\s+([0-9]{5})$`)
	reAddress = regexp.MustCompile(`(?i)address:`)
	reWord    = regexp.MustCompile(`[a-z0-9][a-z0-9.\-]*`)
)

// fillers are words of an instruction that say nothing about the product.
var fillers = map[string]bool{
	"i": true, "need": true, "want": true, "looking": true, "for": true, "a": true, "an": true, "the": true,
	"please": true, "buy": true, "purchase": true, "find": true, "get": true, "me": true, "pair": true,
	"of": true, "set": true, "some": true, "with": true, "and": true, "that": true, "is": true, "are": true,
	"it": true, "to": true, "in": true, "my": true, "im": true, "i'm": true, "would": true, "like": true,
	"can": true, "you": true, "order": true, "which": true, "has": true, "have": true, "one": true,
	"show": true, "search": true, "product": true, "price": true, "priced": true, "lower": true, "than": true,
	"less": true, "under": true, "dollars": true, "rating": true, "rated": true, "stars": true, "star": true,
	"least": true, "at": true, "ship": true, "send": true, "deliver": true, "address": true, "color": true,
	"colour": true, "size": true, "no": true, "more": true, "most": true, "below": true, "up": true,
}

// ParseShopInstruction reads a shop instruction ("… under $40, rated at
// least 4.5 stars … address: Name, Street, City, ST 12345").
func ParseShopInstruction(instr string) ShopGoal {
	g := ShopGoal{Text: strings.ToLower(instr)}
	low := g.Text
	if m := rePrice.FindStringSubmatch(low); m != nil {
		g.PriceMax, _ = strconv.ParseFloat(m[1], 64)
	}
	if m := reRating.FindStringSubmatch(low); m != nil {
		g.RatingMin, _ = strconv.ParseFloat(m[1], 64)
	}
	product := low
	// The address keeps its case: find it in instr itself (lower-casing
	// may change the length of non-ASCII text).
	if loc := reAddress.FindStringIndex(instr); loc != nil {
		product = strings.ToLower(instr[:loc[0]])
		line := instr[loc[1]:]
		if j := strings.IndexAny(line, "\n"); j >= 0 {
			line = line[:j]
		}
		g.Address, g.HasAddress = parseAddress(line)
	}
	// The product is described before the price, the rating and the
	// shipping clauses.
	for _, cut := range []string{" ship ", " send it", " deliver", "price", " under ", " lower than", " less than", " no more than", " at most", " rating", " rated ", " at least", " below "} {
		if i := strings.Index(product, cut); i > 0 {
			product = product[:i]
		}
	}
	g.Product = product
	for _, w := range reWord.FindAllString(product, -1) {
		w = strings.Trim(w, ".-")
		if w != "" && !fillers[w] {
			g.Words = append(g.Words, w)
		}
	}
	return g
}

// parseAddress reads "Name, Street, City, ST 12345".
func parseAddress(s string) ([5]string, bool) {
	var a [5]string
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "."))
	parts := strings.Split(s, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	if len(parts) < 4 {
		return a, false
	}
	m := reZip.FindStringSubmatch(parts[len(parts)-1])
	if m == nil {
		return a, false
	}
	a[0] = parts[0]
	a[1] = strings.Join(parts[1:len(parts)-2], ", ")
	a[2] = parts[len(parts)-2]
	a[3], a[4] = strings.ToUpper(m[1]), m[2]
	return a, true
}

// Query returns the search text, shorter on each attempt after a search
// that found nothing.
func (g ShopGoal) Query(attempt int) string {
	n := max(len(g.Words)-2*attempt, min(3, len(g.Words)))
	return strings.Join(g.Words[:n], " ")
}

func (x *shopExpert) Act(ctx context.Context, in policy.Input) (policy.Decision, error) {
	if x.rejected == nil {
		x.rejected = map[string]bool{}
	}
	instr := in.Task.Instruction
	if instr == "" {
		instr = instructionFromPage(in.Obs.Text)
	}
	// What the user answered (to its own question or another's) joins the
	// goal, as if the instruction had said it; a new fact means a new
	// search.
	var answered bool
	x.goal, answered = x.goals.Of(instr, in.History)
	if h := in.History; answered && len(h) > 0 && h[len(h)-1].Action.Name == "ask_user" {
		if _, values := AnswerFacts(h[len(h)-1].Answer); len(values) > 0 {
			x.research = true
		}
	}
	nodes := ParseTree(in.Obs.Text)
	if x.research {
		back := find(nodes, "link", "Back to Search")
		if back != nil || find(nodes, "searchbox", "Search") != nil {
			x.research = false
			x.rejected, x.pages, x.attempt = map[string]bool{}, 0, 0
		}
		if back != nil {
			return decide(env.A("click", back.ID), "search again with what the user said")
		}
	}
	switch {
	case hasNode(nodes, "heading", "Thank you for your order"):
		return decide(env.A("stop", ""), "the order is placed")
	case hasNode(nodes, "button", "Place order"):
		return x.checkout(nodes)
	case hasNode(nodes, "button", "Buy Now"):
		return x.item(nodes, in)
	case hasPrefixNode(nodes, "heading", "Results for"):
		return x.results(nodes)
	case hasPrefixNode(nodes, "StaticText", "No products match"):
		x.attempt++
		x.pages = 0
		return x.back(nodes, "no results: search again with fewer words")
	}
	if box := find(nodes, "searchbox", "Search"); box != nil {
		q := x.goal.Query(x.attempt)
		if q == "" {
			return policy.Decision{}, fmt.Errorf("shop expert: the instruction %q names no product to search for", instr)
		}
		if box.Value() != q {
			return decide(env.A("fill", box.ID, q), "search for the product")
		}
		if btn := find(nodes, "button", "Search"); btn != nil {
			return decide(env.A("click", btn.ID), "run the search")
		}
		return decide(env.A("press", "Enter"), "run the search")
	}
	return decide(env.A("go_back"), "an unexpected page: go back")
}

func decide(a env.Action, why string) (policy.Decision, error) {
	return policy.Decision{Action: a, Thought: why}, nil
}

// results picks the first result that fits the price and rating and was
// not rejected before; else the next page; else the best remaining one.
func (x *shopExpert) results(nodes []Node) (policy.Decision, error) {
	x.pages++
	var fallback *Node
	for _, it := range ShopResults(nodes) {
		if x.rejected[it.Title] {
			continue
		}
		if fallback == nil {
			fallback = &Node{ID: it.Link}
		}
		if x.goal.PriceMax > 0 && it.Price > x.goal.PriceMax {
			continue
		}
		if it.Rating < x.goal.RatingMin {
			continue
		}
		return decide(env.A("click", it.Link), fmt.Sprintf("open %q: $%.2f, %.1f stars fit", it.Title, it.Price, it.Rating))
	}
	if next := find(nodes, "link", "Next >"); next != nil && x.pages < 5 {
		return decide(env.A("click", next.ID), "no result on this page fits: next page")
	}
	if fallback != nil {
		return decide(env.A("click", fallback.ID), "no result fits the price and rating: open the best remaining one")
	}
	x.attempt++
	x.pages = 0
	return x.back(nodes, "every result was rejected: search again with fewer words")
}

// ShopResult is one line of a shop results page: the link to the item,
// its title, price and rating (0 when the page does not show them).
type ShopResult struct {
	Link, Title   string
	Price, Rating float64
}

// ShopResults reads the results of a shop results page's element tree.
func ShopResults(nodes []Node) []ShopResult {
	var items []ShopResult
	for i := 0; i < len(nodes); i++ {
		if nodes[i].Role != "listitem" {
			continue
		}
		d := nodes[i].Depth
		var it ShopResult
		for j := i + 1; j < len(nodes) && nodes[j].Depth > d; j++ {
			n := nodes[j]
			switch {
			case n.Role == "link" && it.Link == "":
				it.Link, it.Title = n.ID, n.Name
			case n.Role == "StaticText":
				// The price and the rating: one line ("$12.50 4.5 stars
				// (20 reviews)"), or two.
				if m := reListed.FindStringSubmatch(n.Name); m != nil {
					it.Price, _ = strconv.ParseFloat(m[1], 64)
				}
				if m := reStars.FindStringSubmatch(n.Name); m != nil {
					it.Rating, _ = strconv.ParseFloat(m[1], 64)
				}
			}
		}
		if it.Link != "" {
			items = append(items, it)
		}
	}
	return items
}

// item checks the item page and chooses the options, then buys.
func (x *shopExpert) item(nodes []Node, in policy.Input) (policy.Decision, error) {
	if !x.asked && hasAction(in.Spec, "ask_user") {
		// Ask once, on the first item page whose options the instruction
		// leaves open: about those, and about the usual ones it does not
		// name (the item may lack the one that matters).
		var open []string
		for _, grp := range ShopOptionGroups(nodes) {
			if x.goal.OptionIndex(grp.Name, grp.Values) < 0 && !x.goal.AsksFor(grp.Name) {
				open = append(open, grp.Name)
			}
		}
		if len(open) > 0 {
			for _, usual := range []string{"color", "size"} {
				if !x.goal.AsksFor(usual) && !slices.Contains(open, usual) {
					open = append(open, usual)
				}
			}
			x.asked = true
			return decide(env.A("ask_user", "Which "+joinOr(open)+" would you like, if it matters to you?"), "the instruction leaves options open")
		}
	}
	title := ""
	if h := findRole(nodes, "heading"); h != nil {
		title = h.Name
	}
	price, rating := -1.0, -1.0
	for _, n := range nodes {
		if n.Role != "StaticText" {
			continue
		}
		if strings.HasPrefix(n.Name, "Price:") {
			if m := reMoney.FindStringSubmatch(n.Name); m != nil {
				price, _ = strconv.ParseFloat(m[1], 64)
			}
		}
		if strings.HasPrefix(n.Name, "Rating:") {
			if m := reOutOf.FindStringSubmatch(n.Name); m != nil {
				rating, _ = strconv.ParseFloat(m[1], 64)
			}
		}
	}
	if x.goal.PriceMax > 0 && price > x.goal.PriceMax {
		x.rejected[title] = true
		return x.back(nodes, fmt.Sprintf("$%.2f is over the $%.2f ceiling", price, x.goal.PriceMax))
	}
	if rating >= 0 && rating < x.goal.RatingMin {
		x.rejected[title] = true
		return x.back(nodes, fmt.Sprintf("%.1f stars is under %.1f", rating, x.goal.RatingMin))
	}
	for _, grp := range ShopOptionGroups(nodes) {
		want := x.goal.OptionIndex(grp.Name, grp.Values)
		if want < 0 && x.goal.AsksFor(grp.Name) {
			x.rejected[title] = true
			return x.back(nodes, fmt.Sprintf("the instruction asks for a %s this item does not come in", grp.Name))
		}
		if want < 0 {
			continue
		}
		if grp.Values[want].Checked() {
			continue
		}
		return decide(env.A("click", grp.Values[want].ID), fmt.Sprintf("choose %s %q", grp.Name, grp.Values[want].Name))
	}
	buy := find(nodes, "button", "Buy Now")
	return decide(env.A("click", buy.ID), fmt.Sprintf("buy %q", title))
}

// ShopOptionGroup is one option of a shop item page ("color"), lower
// case, with its radio buttons.
type ShopOptionGroup struct {
	Name   string
	Values []Node
}

// ShopOptionGroups reads the option groups of a shop item page's tree.
func ShopOptionGroups(nodes []Node) []ShopOptionGroup {
	var groups []ShopOptionGroup
	for i := 0; i < len(nodes); i++ {
		if nodes[i].Role != "group" {
			continue
		}
		g := ShopOptionGroup{Name: strings.ToLower(nodes[i].Name)}
		for j := i + 1; j < len(nodes) && nodes[j].Depth > nodes[i].Depth; j++ {
			if nodes[j].Role == "radio" {
				g.Values = append(g.Values, nodes[j])
			}
		}
		if len(g.Values) > 0 {
			groups = append(groups, g)
		}
	}
	return groups
}

// OptionIndex returns the index of the value the instruction asks for in
// the option group name, or -1 when it names none: "size large", "color:
// black", "in black", or the value alone; the longest value wins.
func (g ShopGoal) OptionIndex(name string, values []Node) int {
	best, bestScore := -1, 0
	for i, v := range values {
		val := strings.ToLower(strings.TrimSpace(v.Name))
		if val == "" {
			continue
		}
		score := 0
		switch {
		case containsPhrase(g.Text, name+" "+val) || containsPhrase(g.Text, name+": "+val) || containsPhrase(g.Text, val+" "+name):
			score = 3
		case containsPhrase(g.Text, "in "+val):
			score = 2
		case containsPhrase(g.Text, val):
			score = 1
		}
		if score == 0 {
			continue
		}
		score = score*1000 + len(val)
		if score > bestScore {
			best, bestScore = i, score
		}
	}
	return best
}

var reInColor = regexp.MustCompile(`(?:^|\s)in [a-z]`)

// AsksFor reports whether the instruction asks for a value of the option
// group name: "size 10", "capacity 32 oz", "color black" or, for a color,
// "in black".
func (g ShopGoal) AsksFor(name string) bool {
	if containsPhrase(g.Product, name) {
		return true
	}
	return (name == "color" || name == "colour") && reInColor.MatchString(g.Product)
}

// containsPhrase reports whether s contains p between word boundaries.
func containsPhrase(s, p string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], p)
		if j < 0 {
			return false
		}
		j += i
		before := j == 0 || !isWordByte(s[j-1])
		after := j+len(p) == len(s) || !isWordByte(s[j+len(p)])
		if before && after {
			return true
		}
		i = j + 1
	}
}

func isWordByte(c byte) bool {
	return c == '-' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || c >= 0x80
}

// checkout fills the address form field by field, then places the order.
func (x *shopExpert) checkout(nodes []Node) (policy.Decision, error) {
	if !x.goal.HasAddress {
		return policy.Decision{}, fmt.Errorf("shop expert: the instruction gives no address in the form \"address: Name, Street, City, ST 12345\"")
	}
	labels := [5]string{"Full name", "Street address", "City", "State", "ZIP code"}
	for i, l := range labels {
		box := find(nodes, "textbox", l)
		if box == nil {
			return policy.Decision{}, fmt.Errorf("shop expert: the checkout page has no %q field", l)
		}
		if box.Value() != x.goal.Address[i] {
			return decide(env.A("fill", box.ID, x.goal.Address[i]), "enter the "+strings.ToLower(l))
		}
	}
	return decide(env.A("click", find(nodes, "button", "Place order").ID), "place the order")
}

// back leaves an item (or a page of results) for the results (or the
// search page).
func (x *shopExpert) back(nodes []Node, why string) (policy.Decision, error) {
	for _, name := range []string{"< Back to results", "Back to Search"} {
		if l := find(nodes, "link", name); l != nil {
			if name == "Back to Search" || hasNode(nodes, "button", "Buy Now") {
				return decide(env.A("click", l.ID), why)
			}
		}
	}
	return decide(env.A("go_back"), why)
}

func instructionFromPage(text string) string {
	for _, n := range ParseTree(text) {
		if n.Role == "StaticText" && strings.HasPrefix(n.Name, "Instruction:") {
			return strings.TrimSpace(strings.TrimPrefix(n.Name, "Instruction:"))
		}
	}
	return ""
}

func find(nodes []Node, role, name string) *Node {
	for i := range nodes {
		if nodes[i].Role == role && nodes[i].Name == name {
			return &nodes[i]
		}
	}
	return nil
}

func findRole(nodes []Node, role string) *Node {
	for i := range nodes {
		if nodes[i].Role == role {
			return &nodes[i]
		}
	}
	return nil
}

func hasNode(nodes []Node, role, name string) bool { return find(nodes, role, name) != nil }

func hasPrefixNode(nodes []Node, role, prefix string) bool {
	for _, n := range nodes {
		if n.Role == role && strings.HasPrefix(n.Name, prefix) {
			return true
		}
	}
	return false
}

// AnswerFacts reads the facts of a user's answer ("The color is green.")
// as an instruction would say them (", color green") and their values
// (green), lower case.
func AnswerFacts(answer string) (facts string, values []string) {
	for _, m := range reFact.FindAllStringSubmatch(answer, -1) {
		v := strings.ToLower(strings.TrimSpace(m[2]))
		facts += ", " + strings.ToLower(strings.TrimSpace(m[1])) + " " + v
		values = append(values, v)
	}
	return facts, values
}

// Told returns the goal with what the user said in their answers to
// ask_user in history (AnswerFacts), as if the instruction had said it:
// the facts join Product and Text, their values the search words.
func (g ShopGoal) Told(history []policy.Turn) ShopGoal {
	for _, t := range history {
		if t.Action.Name != "ask_user" || t.Answer == "" {
			continue
		}
		facts, values := AnswerFacts(t.Answer)
		g.Product += facts
		g.Text += facts
		g.Words = append(slices.Clip(g.Words), values...)
	}
	return g
}

// Goals keeps an episode's goal: its instruction's (ParseShopInstruction)
// with what the user answered in the history (Told), parsed again only
// when the instruction or the answers change. The zero value is ready.
type Goals struct {
	goal        ShopGoal
	instr, told string
	set         bool
}

// Of returns the goal for instr and history; answered says that it
// changed because a new answer came.
func (c *Goals) Of(instr string, history []policy.Turn) (g ShopGoal, answered bool) {
	var b strings.Builder
	for _, t := range history {
		if t.Action.Name == "ask_user" {
			b.WriteString(t.Answer)
			b.WriteByte(0)
		}
	}
	told := b.String()
	if !c.set || instr != c.instr || told != c.told {
		answered = c.set && told != c.told
		c.goal, c.instr, c.told, c.set = ParseShopInstruction(instr).Told(history), instr, told, true
	}
	return c.goal, answered
}

// Goal is the goal Of last returned.
func (c *Goals) Goal() ShopGoal { return c.goal }

// reFact reads a simulated user's facts: "The color is green."
var reFact = regexp.MustCompile(`(?i)\bthe ([a-z][a-z ]{0,30}?) is ([^.,;]{1,40})`)

// joinOr writes "size, color or material".
func joinOr(names []string) string {
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

func hasAction(s env.Spec, name string) bool {
	_, ok := s.Action(name)
	return ok
}
