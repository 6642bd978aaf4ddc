package shop

import (
	"math"
	"slices"
	"strings"
	"unicode"
)

// FuzzyThreshold is WebShop's threshold: an attribute or an option matches
// when TokenSetRatio is above it.
const FuzzyThreshold = 85

// Reward scores a purchase against a goal, as WebShop's get_reward
// (web_agent_site/engine/goal.py) does, extended with a rating and an
// address term:
//
//	reward = TypeFactor × (matched attributes + matched options + price ok + rating ok + address ok)
//	                     / (attributes + options + 3)
//
// p is the purchased product (nil: nothing was bought, reward 0). An
// attribute matches when one of the product's attributes has a
// TokenSetRatio above FuzzyThreshold with it, or when it appears as it is
// in the lower-cased title, bullets joined with a space or description
// (WebShop's fallback). An option matches when one of the purchased option
// values does, after WebShop's case-sensitive color normalisation of both
// as they are. The price is ok when it is at most PriceMax (always
// when PriceMax ≤ 0), the rating when it is at least RatingMin (always
// when RatingMin ≤ 0), the address when every field equals the goal's up to
// case and spaces (the ZIP code: up to anything but digits). The type
// factor is in TypeFactor. See docs/shop.md.
func Reward(g Goal, p *Product, buy Purchase) Breakdown {
	b := Breakdown{
		Attributes:  make(map[string]bool, len(g.Attributes)),
		Options:     make(map[string]bool, len(g.Options)),
		Constraints: len(g.Attributes) + len(g.Options) + 3,
	}
	for _, a := range g.Attributes {
		b.Attributes[a] = false
	}
	for name := range g.Options {
		b.Options[name] = false
	}
	if p == nil {
		return b
	}
	b.TypeFactor = TypeFactor(g.Category, p)
	for _, a := range g.Attributes {
		if attributeMatch(a, p) {
			b.Attributes[a] = true
			b.Matched++
		}
	}
	// As in WebShop, values are normalised as given, not lower-cased:
	// TokenSetRatio ignores case, normalizeColor does not.
	bought := make([]string, 0, len(buy.Options))
	for _, v := range buy.Options {
		bought = append(bought, normalizeColor(v))
	}
	for name, want := range g.Options {
		w := normalizeColor(want)
		if slices.ContainsFunc(bought, func(v string) bool { return TokenSetRatio(v, w) > FuzzyThreshold }) {
			b.Options[name] = true
			b.Matched++
		}
	}
	b.PriceOK = g.PriceMax <= 0 || math.Round(p.Price*100) <= math.Round(g.PriceMax*100)
	b.RatingOK = g.RatingMin <= 0 || math.Round(p.Rating*10) >= math.Round(g.RatingMin*10)
	b.AddressOK = AddressMatch(g.Address, buy.Address)
	for _, ok := range []bool{b.PriceOK, b.RatingOK, b.AddressOK} {
		if ok {
			b.Matched++
		}
	}
	b.Reward = b.TypeFactor * float64(b.Matched) / float64(b.Constraints)
	return b
}

// attributeMatch reports whether the product has the goal attribute a:
// fuzzily among its attributes, or verbatim in its lower-cased title, its
// bullets joined with a space (so a can span two bullets) or its
// description. As in WebShop, a itself is not lower-cased: with capitals it
// can match only among the attributes.
func attributeMatch(a string, p *Product) bool {
	for _, pa := range p.Attributes {
		if TokenSetRatio(pa, a) > FuzzyThreshold {
			return true
		}
	}
	return strings.Contains(strings.ToLower(p.Title), a) ||
		strings.Contains(strings.ToLower(strings.Join(p.Bullets, " ")), a) ||
		strings.Contains(strings.ToLower(p.Description), a)
}

// TypeFactor says whether the product is of the goal's type, as WebShop's
// get_type_reward does, with content words standing in for spaCy's nouns:
//
//	desired   = content words of the goal category
//	purchased = content words of the product's category and title
//	score     = |desired ∩ purchased| / |desired|   (0.2 when desired is empty)
//	factor    = 1, or 0.5 when the categories differ and score ≤ 0.2,
//	            0.1 when score < 0.1, 0 when score = 0
//
// Content words are the words of ParseQuery (stop words dropped) longer
// than one letter, with plurals folded ("shoes" → "shoe").
func TypeFactor(category string, p *Product) float64 {
	desired := contentWords(category)
	score := 0.2
	if len(desired) > 0 {
		purchased := contentWords(p.Category + " " + p.Title)
		n := 0
		for w := range desired {
			if purchased[w] {
				n++
			}
		}
		score = float64(n) / float64(len(desired))
	}
	f := 1.0
	if !(p.Category == category || score > 0.2) {
		f = 0.5
	}
	if score < 0.1 {
		f = 0.1
	}
	if score == 0 {
		f = 0
	}
	return f
}

func contentWords(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range tokenize(s) {
		if !stopWords[w] && len(w) > 1 {
			m[stem(w)] = true
		}
	}
	return m
}

// AddressMatch reports whether two addresses are the same: each field equal
// up to case and spaces, the ZIP codes equal in their digits.
func AddressMatch(want, got Address) bool {
	return normField(want.Name) == normField(got.Name) &&
		normField(want.Street) == normField(got.Street) &&
		normField(want.City) == normField(got.City) &&
		normField(want.State) == normField(got.State) &&
		digits(want.Zip) == digits(got.Zip)
}

func normField(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if '0' <= r && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// normalizeColor is WebShop's normalize_color: the first color of its
// COLOR_SET that the value contains, else the value. Like WebShop's, it is
// case-sensitive: "Navy Blue" contains none.
func normalizeColor(s string) string {
	for _, c := range colorSet {
		if strings.Contains(s, c) {
			return c
		}
	}
	return s
}

// TokenSetRatio is fuzzywuzzy's (thefuzz's) token_set_ratio, 0 to 100:
// both strings are processed (Latin-1 characters U+0080–U+00FF dropped,
// anything but letters, numbers and '_' turned to spaces, lower case),
// split into sets of words,
// and the best of three InDel similarity ratios between the sorted
// intersection and the intersection plus each side's remaining words is
// returned, rounded half to even as Python does. A string that is empty
// after processing scores 0.
func TokenSetRatio(a, b string) int {
	ta, tb := tokenSet(a), tokenSet(b)
	if len(ta) == 0 || len(tb) == 0 {
		return 0
	}
	var sect, onlyA, onlyB []string
	for _, w := range ta {
		if slices.Contains(tb, w) {
			sect = append(sect, w)
		} else {
			onlyA = append(onlyA, w)
		}
	}
	for _, w := range tb {
		if !slices.Contains(ta, w) {
			onlyB = append(onlyB, w)
		}
	}
	t0 := strings.Join(sect, " ")
	t1 := strings.TrimSpace(t0 + " " + strings.Join(onlyA, " "))
	t2 := strings.TrimSpace(t0 + " " + strings.Join(onlyB, " "))
	return max(ratio(t0, t1), ratio(t0, t2), ratio(t1, t2))
}

// tokenSet processes s as fuzzywuzzy's full_process with force_ascii
// does (characters U+0080 to U+00FF dropped, anything but letters, numbers
// and '_' turned to spaces, lower case) and returns its distinct words,
// sorted.
func tokenSet(s string) []string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case 0x80 <= r && r <= 0xFF:
		case r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r):
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteByte(' ')
		}
	}
	f := strings.Fields(b.String())
	slices.Sort(f)
	return slices.Compact(f)
}

// ratio is fuzzywuzzy's ratio with python-Levenshtein (or rapidfuzz):
// 100 × (1 − InDel distance / total length), rounded half to even; 0 when
// a string is empty, 100 when they are equal.
func ratio(a, b string) int {
	if a == b && a != "" {
		return 100
	}
	if a == "" || b == "" {
		return 0
	}
	ra, rb := []rune(a), []rune(b)
	lcs := lcsLen(ra, rb)
	return int(math.RoundToEven(100 * float64(2*lcs) / float64(len(ra)+len(rb))))
}

// lcsLen is the length of the longest common subsequence of a and b.
func lcsLen(a, b []rune) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			switch {
			case a[i-1] == b[j-1]:
				cur[j] = prev[j-1] + 1
			case prev[j] >= cur[j-1]:
				cur[j] = prev[j]
			default:
				cur[j] = cur[j-1]
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
