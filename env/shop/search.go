package shop

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// MaxQueryLen bounds a search query, in bytes.
const MaxQueryLen = 500

// Errors of ParseQuery, wrapped with the details.
var (
	ErrQueryTooLong = errors.New("search query too long")
	ErrQueryInvalid = errors.New("search query is not valid UTF-8")
	ErrQueryEmpty   = errors.New("search query has no searchable word")
)

// ParseQuery splits a search query into its words: lower case, split at
// anything that is not a letter or a digit (in any script), with stop words
// ("the", "for", "with", …) dropped. It rejects a query longer than
// MaxQueryLen bytes, one that is not valid UTF-8, and one with no word left.
func ParseQuery(q string) ([]string, error) {
	if len(q) > MaxQueryLen {
		return nil, fmt.Errorf("%w: it is %d bytes, the limit is %d: use fewer words", ErrQueryTooLong, len(q), MaxQueryLen)
	}
	if !utf8.ValidString(q) {
		return nil, fmt.Errorf("%w: type the words again", ErrQueryInvalid)
	}
	var words []string
	for _, w := range tokenize(q) {
		if !stopWords[w] {
			words = append(words, w)
		}
	}
	if len(words) == 0 {
		return nil, fmt.Errorf("%w: %q: search for a product, such as \"wireless earphones\"", ErrQueryEmpty, clip(q, 60))
	}
	return words, nil
}

// tokenize splits s into lower-case words of letters and digits.
func tokenize(s string) []string {
	var words []string
	start := -1
	flush := func(end int) {
		if start >= 0 {
			words = append(words, strings.ToLower(s[start:end]))
			start = -1
		}
	}
	for i, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) && start >= 0 {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
	}
	flush(len(s))
	return words
}

// stem folds an English plural onto its singular, lightly: "shoes" →
// "shoe", "watches" → "watch", "glasses" → "glass"; "wireless" stays.
func stem(w string) string {
	n := len(w)
	switch {
	case n < 4 || w[n-1] != 's':
		return w
	case strings.HasSuffix(w, "sses"), strings.HasSuffix(w, "ches"), strings.HasSuffix(w, "shes"), strings.HasSuffix(w, "xes"):
		return w[:n-2]
	case strings.HasSuffix(w, "ss"), strings.HasSuffix(w, "us"), strings.HasSuffix(w, "is"):
		return w
	}
	return w[:n-1]
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// BM25 parameters.
const (
	bm25K1 = 1.2
	bm25B  = 0.75
)

// Field boosts: a word in the title counts three times, in the category,
// the brand or an attribute twice, in a bullet or an option value once.
const (
	boostTitle    = 3
	boostCategory = 2
	boostBrand    = 2
	boostAttr     = 2
	boostBullet   = 1
	boostOption   = 1
)

// index is an inverted index with BM25 weights precomputed per posting.
type index struct {
	terms map[string]int32 // stemmed word → term id
	idf   []float32        // per term
	start []int32          // postings of term t: posts[start[t]:start[t+1]]
	posts []posting        // sorted by doc within a term
}

type posting struct {
	doc int32
	w   float32 // tf·(k1+1) / (tf + k1·(1 − b + b·dl/avgdl))
}

// buildIndex indexes the products' title, category, brand, attributes,
// bullets and option values.
func buildIndex(products []Product) *index {
	ix := &index{terms: map[string]int32{}}
	memo := map[string][]int32{} // shared strings → their term ids
	termsOf := func(s string) []int32 {
		if ids, ok := memo[s]; ok {
			return ids
		}
		ids := ix.termIDs(s, nil)
		memo[s] = ids
		return ids
	}
	n := len(products)
	// Forward pass: each document's terms with their weighted frequency.
	type tf struct {
		term int32
		f    float32
	}
	fwd := make([]tf, 0, 40*n)
	docStart := make([]int32, n+1)
	dl := make([]float32, n)
	var title []int32
	var cur []tf
	add := func(ids []int32, boost float32) {
		for _, t := range ids {
			i := slices.IndexFunc(cur, func(x tf) bool { return x.term == t })
			if i < 0 {
				cur = append(cur, tf{t, boost})
			} else {
				cur[i].f += boost
			}
		}
	}
	var total float64
	for d := range products {
		p := &products[d]
		cur = cur[:0]
		title = ix.termIDs(p.Title, title[:0])
		add(title, boostTitle)
		add(termsOf(p.Category), boostCategory)
		add(termsOf(p.Brand), boostBrand)
		for _, a := range p.Attributes {
			add(termsOf(a), boostAttr)
		}
		for _, b := range p.Bullets {
			add(termsOf(b), boostBullet)
		}
		for _, g := range p.Options {
			for _, v := range g.Values {
				add(termsOf(v), boostOption)
			}
		}
		var l float32
		for _, x := range cur {
			l += x.f
		}
		dl[d] = l
		total += float64(l)
		fwd = append(fwd, cur...)
		docStart[d+1] = int32(len(fwd))
	}
	avgdl := float32(total / float64(max(n, 1)))
	// Invert by counting sort: documents come in order, so each term's
	// postings are sorted by doc.
	nt := len(ix.terms)
	ix.start = make([]int32, nt+1)
	for _, x := range fwd {
		ix.start[x.term+1]++
	}
	for t := range nt {
		ix.start[t+1] += ix.start[t]
	}
	ix.posts = make([]posting, len(fwd))
	fill := slices.Clone(ix.start[:nt])
	for d := range n {
		norm := bm25K1 * (1 - bm25B + bm25B*dl[d]/avgdl)
		for _, x := range fwd[docStart[d]:docStart[d+1]] {
			ix.posts[fill[x.term]] = posting{doc: int32(d), w: x.f * (bm25K1 + 1) / (x.f + norm)}
			fill[x.term]++
		}
	}
	ix.idf = make([]float32, nt)
	for t := range nt {
		df := float64(ix.start[t+1] - ix.start[t])
		ix.idf[t] = float32(math.Log(1 + (float64(n)-df+0.5)/(df+0.5)))
	}
	return ix
}

// termIDs appends the term ids of s's words (stop words dropped, stemmed),
// adding new terms to the vocabulary.
func (ix *index) termIDs(s string, dst []int32) []int32 {
	for _, w := range tokenize(s) {
		if stopWords[w] {
			continue
		}
		w = stem(w)
		id, ok := ix.terms[w]
		if !ok {
			id = int32(len(ix.terms))
			ix.terms[w] = id
		}
		dst = append(dst, id)
	}
	return dst
}

// scratch is one search's score accumulator.
type scratch struct {
	scores  []float32 // per doc; zero between searches
	touched []int32   // docs with a non-zero score
}

// scratchPool recycles accumulators across searches.
type scratchPool struct {
	n    int
	pool sync.Pool
}

func (sp *scratchPool) get() *scratch {
	if s, ok := sp.pool.Get().(*scratch); ok {
		return s
	}
	return &scratch{scores: make([]float32, sp.n)}
}

func (sp *scratchPool) put(s *scratch) {
	for _, d := range s.touched {
		s.scores[d] = 0
	}
	s.touched = s.touched[:0]
	sp.pool.Put(s)
}

// MaxSearchLimit bounds Search's limit.
const MaxSearchLimit = 1000

// Search ranks the products for query with BM25 and returns those at
// [offset, offset+limit) of the ranking, and how many products matched at
// all (any query word). Ties go to the smaller product id. Words of the
// query that no product has are ignored; a query none of whose words any
// product has matches nothing. The query is read by ParseQuery, whose
// errors Search returns.
func (c *Catalog) Search(query string, offset, limit int) (hits []*Product, total int, err error) {
	words, err := ParseQuery(query)
	if err != nil {
		return nil, 0, err
	}
	if offset < 0 || limit < 1 || limit > MaxSearchLimit {
		return nil, 0, fmt.Errorf("search: offset %d, limit %d: want offset ≥ 0 and limit 1 to %d", offset, limit, MaxSearchLimit)
	}
	ix := c.idx
	var terms []int32
	for _, w := range words {
		if t, ok := ix.terms[stem(w)]; ok && !slices.Contains(terms, t) {
			terms = append(terms, t)
		}
	}
	if len(terms) == 0 {
		return nil, 0, nil
	}
	s := c.scratch.get()
	defer c.scratch.put(s)
	scores := s.scores
	for _, t := range terms {
		idf := ix.idf[t]
		for _, p := range ix.posts[ix.start[t]:ix.start[t+1]] {
			if scores[p.doc] == 0 {
				s.touched = append(s.touched, p.doc)
			}
			scores[p.doc] += idf * p.w
		}
	}
	total = len(s.touched)
	if offset >= total {
		return nil, total, nil
	}
	top := topK(s.touched, scores, offset+limit)
	for _, d := range top[offset:] {
		hits = append(hits, &c.products[d])
	}
	return hits, total, nil
}

// better reports whether doc a ranks before doc b.
func better(scores []float32, a, b int32) bool {
	if scores[a] != scores[b] {
		return scores[a] > scores[b]
	}
	return a < b // products are sorted by id
}

// topK returns the k best docs, best first. It keeps a min-heap of the
// best so far (the worst of them at the root).
func topK(docs []int32, scores []float32, k int) []int32 {
	k = min(k, len(docs))
	h := make([]int32, 0, k)
	worse := func(i, j int) bool { return better(scores, h[j], h[i]) } // h[i] ranks after h[j]
	down := func(i int) {
		for {
			l, w := 2*i+1, i
			if l < len(h) && worse(l, w) {
				w = l
			}
			if r := l + 1; r < len(h) && worse(r, w) {
				w = r
			}
			if w == i {
				return
			}
			h[i], h[w] = h[w], h[i]
			i = w
		}
	}
	for _, d := range docs {
		if len(h) < k {
			h = append(h, d)
			for i := len(h) - 1; i > 0; {
				p := (i - 1) / 2
				if !worse(i, p) {
					break
				}
				h[i], h[p] = h[p], h[i]
				i = p
			}
			continue
		}
		if better(scores, d, h[0]) {
			h[0] = d
			down(0)
		}
	}
	slices.SortFunc(h, func(a, b int32) int {
		if better(scores, a, b) {
			return -1
		}
		if better(scores, b, a) {
			return 1
		}
		return 0
	})
	return h
}
