package shop

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// DefaultProducts is the catalog size when none is given.
const DefaultProducts = 2000

// MaxProducts bounds the catalog size.
const MaxProducts = 1_000_000

// Catalog is the store's product catalog with its search index. It is
// immutable once built and safe for concurrent use.
type Catalog struct {
	seed     int64
	products []Product // sorted by ID
	cats     []string
	idx      *index
	scratch  scratchPool
}

// NewCatalog generates a catalog of n products (DefaultProducts when
// n ≤ 0, at most MaxProducts) from seed: the same seed and n give the same
// catalog, product for product. It builds the search index too; 100,000
// products take a few seconds.
func NewCatalog(seed int64, n int) *Catalog {
	if n <= 0 {
		n = DefaultProducts
	}
	n = min(n, MaxProducts)
	rng := rand.New(rand.NewPCG(uint64(seed), 0x73686f705f636174)) // "shop_cat"
	g := newGenerator(rng)
	ids := uniqueIDs(rng, n)
	cats := make([]uint8, n)
	for i := range cats {
		cats[i] = uint8(i % len(categories))
	}
	rng.Shuffle(n, func(i, j int) { cats[i], cats[j] = cats[j], cats[i] })
	c := &Catalog{seed: seed, products: make([]Product, n)}
	for i := range c.products {
		g.product(&c.products[i], ids[i], int(cats[i]))
	}
	for _, cs := range categories {
		c.cats = append(c.cats, cs.name)
	}
	c.idx = buildIndex(c.products)
	c.scratch.n = n
	return c
}

// Len returns the number of products.
func (c *Catalog) Len() int { return len(c.products) }

// Seed returns the seed the catalog was generated from.
func (c *Catalog) Seed() int64 { return c.seed }

// Products returns all products, sorted by ID. The slice and the products
// are shared: do not modify them.
func (c *Catalog) Products() []Product { return c.products }

// Product returns the product with the given id.
func (c *Catalog) Product(id string) (*Product, bool) {
	i, ok := slices.BinarySearchFunc(c.products, id, func(p Product, id string) int { return strings.Compare(p.ID, id) })
	if !ok {
		return nil, false
	}
	return &c.products[i], true
}

// Categories returns the product types of the catalog, in a fixed order.
func (c *Catalog) Categories() []string { return slices.Clone(c.cats) }

// uniqueIDs returns n distinct ASIN-like ids, "B" and nine digits, sorted.
func uniqueIDs(rng *rand.Rand, n int) []string {
	seen := make(map[uint32]struct{}, n)
	nums := make([]uint32, 0, n)
	for len(nums) < n {
		v := uint32(rng.IntN(1_000_000_000))
		if _, dup := seen[v]; dup {
			continue
		}
		seen[v] = struct{}{}
		nums = append(nums, v)
	}
	slices.Sort(nums)
	// One backing string for all ids: 10 bytes each, no allocation apiece.
	var b strings.Builder
	b.Grow(10 * n)
	for _, v := range nums {
		fmt.Fprintf(&b, "B%09d", v)
	}
	all := b.String()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = all[10*i : 10*i+10]
	}
	return ids
}

// generator makes products. It interns the slices many products share
// (attribute sets, option groups, reviews) so that a large catalog stays
// small.
type generator struct {
	rng     *rand.Rand
	attrSet []map[uint32][]string         // per category: attribute bit set → attributes
	optSet  []map[[2]uint32][]OptionGroup // per category: (color set, extra start) → groups
	reviews [][]Review                    // per category, sorted by stars
	buf     strings.Builder
}

const reviewPool = 64

func newGenerator(rng *rand.Rand) *generator {
	g := &generator{rng: rng}
	for _, cs := range categories {
		g.attrSet = append(g.attrSet, map[uint32][]string{})
		g.optSet = append(g.optSet, map[[2]uint32][]OptionGroup{})
		pool := make([]Review, reviewPool)
		noun := strings.ToLower(cs.noun)
		for i := range pool {
			stars := reviewStars(rng)
			texts := reviewTexts[stars-1]
			text := texts[rng.IntN(len(texts))]
			if strings.Contains(text, "%s") {
				text = fmt.Sprintf(text, noun)
			}
			pool[i] = Review{
				Author: firstNames[rng.IntN(len(firstNames))] + " " + lastNames[rng.IntN(len(lastNames))][:1] + ".",
				Stars:  stars,
				Text:   text,
			}
		}
		slices.SortStableFunc(pool, func(a, b Review) int { return a.Stars - b.Stars })
		g.reviews = append(g.reviews, pool)
	}
	return g
}

// reviewStars draws a review's stars, mostly 4 and 5.
func reviewStars(rng *rand.Rand) int {
	switch r := rng.IntN(100); {
	case r < 6:
		return 1
	case r < 12:
		return 2
	case r < 24:
		return 3
	case r < 55:
		return 4
	default:
		return 5
	}
}

var priceEndings = []int{99, 99, 49, 95, 79}

var deliveryDays = []int{2, 2, 3, 3, 3, 4, 4, 5, 5, 7, 7, 10, 14}

func (g *generator) product(p *Product, id string, ci int) {
	rng := g.rng
	cs := &categories[ci]
	p.ID = id
	p.Category = cs.name
	p.Brand = cs.brands[rng.IntN(len(cs.brands))]
	model := series[rng.IntN(len(series))]

	// Attributes: 2 to 4 of the category's, in vocabulary order.
	k := 2 + rng.IntN(3)
	var mask uint32
	for _, i := range rng.Perm(len(cs.attrs))[:k] {
		mask |= 1 << i
	}
	p.Attributes = g.attrs(ci, mask)
	// The title names up to two of them.
	titleAttrs := []string{p.Attributes[rng.IntN(k)]}
	if other := p.Attributes[rng.IntN(k)]; other != titleAttrs[0] {
		titleAttrs = append(titleAttrs, other)
	}

	p.Options = g.options(ci)
	color := ""
	if len(p.Options) > 0 && p.Options[0].Name == "color" {
		color = p.Options[0].Values[0]
	}

	b := &g.buf
	b.Reset()
	b.WriteString(p.Brand + " " + model)
	for _, a := range titleAttrs {
		b.WriteString(" " + titleCase(a))
	}
	b.WriteString(" " + cs.noun)
	if color != "" {
		b.WriteString(", " + titleCase(color))
	}
	p.Title = b.String()

	// Bullets: one per attribute, then two general ones.
	p.Bullets = make([]string, 0, k+2)
	for i, a := range cs.attrs {
		if mask&(1<<i) != 0 {
			p.Bullets = append(p.Bullets, a.bullets[rng.IntN(len(a.bullets))])
		}
	}
	gi := rng.Perm(len(cs.generic))
	p.Bullets = append(p.Bullets, cs.generic[gi[0]], cs.generic[gi[1]])

	b.Reset()
	fmt.Fprintf(b, "Meet the %s %s %s: %s. ", p.Brand, model, strings.ToLower(cs.noun), joinAnd(p.Attributes))
	ai := rng.Perm(len(cs.about))
	b.WriteString(cs.about[ai[0]] + " " + cs.about[ai[1]])
	p.Description = b.String()

	// Price: log-uniform in the category's range, with a shop's endings.
	lo, hi := math.Log(cs.priceMin), math.Log(cs.priceMax)
	dollars := int(math.Exp(lo + rng.Float64()*(hi-lo)))
	p.Price = float64(max(dollars, 1)*100-100+priceEndings[rng.IntN(len(priceEndings))]) / 100

	// Rating: mostly 3.5 to 4.8, with a tail of poor products.
	r := 4.2 + 0.4*rng.NormFloat64()
	if rng.IntN(100) < 8 {
		r = 1 + 3*rng.Float64()
	}
	p.Rating = math.Round(min(max(r, 1), 5)*10) / 10
	p.Reviews = g.reviewsFor(ci, p.Rating)
	p.ReviewCount = len(p.Reviews) + int(math.Exp(rng.Float64()*9)) - 1
	p.DeliveryDays = deliveryDays[rng.IntN(len(deliveryDays))]
}

// attrs returns the interned attribute list of a bit set.
func (g *generator) attrs(ci int, mask uint32) []string {
	if s, ok := g.attrSet[ci][mask]; ok {
		return s
	}
	var s []string
	for i, a := range categories[ci].attrs {
		if mask&(1<<i) != 0 {
			s = append(s, a.name)
		}
	}
	s = slices.Clip(s)
	g.attrSet[ci][mask] = s
	return s
}

// options draws a product's option groups: colors (for most products) and
// the category's other group, interned.
func (g *generator) options(ci int) []OptionGroup {
	rng := g.rng
	cs := &categories[ci]
	var key [2]uint32
	if len(cs.colors) > 0 && rng.IntN(100) < 95 {
		n := 2 + rng.IntN(min(4, len(cs.colors)-1))
		for _, i := range rng.Perm(len(cs.colors))[:n] {
			key[0] |= 1 << i
		}
	}
	if cs.extra != nil {
		key[1] = 1 + uint32(rng.IntN(len(cs.extra.values)-cs.extra.window+1))
	}
	if s, ok := g.optSet[ci][key]; ok {
		return s
	}
	var groups []OptionGroup
	if key[0] != 0 {
		var vals []string
		for i, c := range cs.colors {
			if key[0]&(1<<i) != 0 {
				vals = append(vals, c)
			}
		}
		// The first color is the one in the title: rotate so that it varies.
		r := int(key[0]) % len(vals)
		vals = slices.Concat(vals[r:], vals[:r])
		groups = append(groups, OptionGroup{Name: "color", Values: slices.Clip(vals)})
	}
	if key[1] != 0 {
		s := int(key[1]) - 1
		e := s + cs.extra.window
		groups = append(groups, OptionGroup{Name: cs.extra.name, Values: cs.extra.values[s:e:e]})
	}
	groups = slices.Clip(groups)
	g.optSet[ci][key] = groups
	return groups
}

// reviewsFor returns 3 to 5 reviews from the category's pool whose stars
// fit the rating: a window of the pool sorted by stars.
func (g *generator) reviewsFor(ci int, rating float64) []Review {
	pool := g.reviews[ci]
	n := 3 + g.rng.IntN(3)
	// The pool is sorted by stars: a higher rating takes a later window.
	centre := int((rating - 1) / 4 * float64(len(pool)))
	start := min(max(centre-n/2+g.rng.IntN(25)-12, 0), len(pool)-n)
	return pool[start : start+n : start+n]
}

// titleCase capitalizes each word, writing acronyms in capitals.
func titleCase(s string) string {
	words := strings.Fields(s)
	for i, w := range words {
		if a, ok := acronyms[w]; ok {
			words[i] = a
			continue
		}
		parts := strings.Split(w, "-")
		for j, p := range parts {
			if p != "" {
				parts[j] = strings.ToUpper(p[:1]) + p[1:]
			}
		}
		words[i] = strings.Join(parts, "-")
	}
	return strings.Join(words, " ")
}

// joinAnd joins words as a list: "a, b and c".
func joinAnd(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// formatPrice writes a price with two decimals: 39.99.
func formatPrice(p float64) string { return strconv.FormatFloat(p, 'f', 2, 64) }

// formatRating writes a rating with one decimal: 4.0.
func formatRating(r float64) string { return strconv.FormatFloat(r, 'f', 1, 64) }
