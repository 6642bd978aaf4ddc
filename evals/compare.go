package evals

import "math"

// A Comparison pairs two runs' results by episode (Result.Key): which
// episodes each run succeeded at, over the episodes both scored (errors
// and episodes only one run has are left out and counted).
type Comparison struct {
	// Paired counts the episodes both runs scored.
	Paired int `json:"paired"`
	// Both, OnlyA, OnlyB and Neither split them by who succeeded.
	Both    int `json:"both"`
	OnlyA   int `json:"only_a"`
	OnlyB   int `json:"only_b"`
	Neither int `json:"neither"`
	// RateA and RateB are the success rates over the paired episodes;
	// Diff is RateB − RateA.
	RateA float64 `json:"rate_a"`
	RateB float64 `json:"rate_b"`
	Diff  float64 `json:"diff"`
	// P is McNemar's exact two-sided p-value of the difference: the
	// chance of a split of the discordant episodes (OnlyA, OnlyB) at
	// least this uneven if both runs were as good.
	P float64 `json:"p"`
	// Unpaired counts the episodes that are in one run only, or that one
	// of them did not score (an error).
	Unpaired int `json:"unpaired"`
	// OnlyAKeys and OnlyBKeys name the discordant episodes.
	OnlyAKeys []string `json:"only_a_episodes,omitempty"`
	OnlyBKeys []string `json:"only_b_episodes,omitempty"`
}

// Compare pairs the results of runs a and b by episode.
func Compare(a, b []Result) Comparison {
	scored := func(r Result) bool { return r.Outcome != OutcomeError && !(r.Outcome == "" && r.Error != "") }
	bm := make(map[string]Result, len(b))
	for _, r := range b {
		bm[r.Key()] = r
	}
	var c Comparison
	seen := map[string]bool{}
	for _, ra := range a {
		k := ra.Key()
		seen[k] = true
		rb, ok := bm[k]
		if !ok || !scored(ra) || !scored(rb) {
			c.Unpaired++
			continue
		}
		c.Paired++
		switch {
		case ra.Success && rb.Success:
			c.Both++
		case ra.Success:
			c.OnlyA++
			c.OnlyAKeys = append(c.OnlyAKeys, k)
		case rb.Success:
			c.OnlyB++
			c.OnlyBKeys = append(c.OnlyBKeys, k)
		default:
			c.Neither++
		}
	}
	for _, rb := range b {
		if !seen[rb.Key()] {
			c.Unpaired++
		}
	}
	if c.Paired > 0 {
		n := float64(c.Paired)
		c.RateA, c.RateB = float64(c.Both+c.OnlyA)/n, float64(c.Both+c.OnlyB)/n
		c.Diff = c.RateB - c.RateA
	}
	c.P = McNemarExact(c.OnlyA, c.OnlyB)
	return c
}

// McNemarExact is the exact two-sided p-value of McNemar's test for b and
// c discordant pairs: 2·P(X ≤ min(b, c)) for X ~ Binomial(b+c, ½), at
// most 1; 1 when there are none.
func McNemarExact(b, c int) float64 {
	n := b + c
	if n == 0 {
		return 1
	}
	k := min(b, c)
	// Sum the binomial probabilities in log space: n can be large.
	sum := 0.0
	for i := 0; i <= k; i++ {
		lg := lgamma(n+1) - lgamma(i+1) - lgamma(n-i+1) - float64(n)*math.Ln2
		sum += math.Exp(lg)
	}
	return min(1, 2*sum)
}

func lgamma(n int) float64 {
	v, _ := math.Lgamma(float64(n))
	return v
}
