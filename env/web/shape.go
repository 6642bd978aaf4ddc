package web

import (
	"fmt"
	"strings"

	"github.com/pilotkit/pilot/env"
)

// ObsOptions size the observation for a model's context. The zero value
// shows the whole tree at every step.
type ObsOptions struct {
	// MaxTokens cuts the element tree to about this many tokens
	// (env.EstimateTokens, OpenAI's cl100k_base), keeping the elements in
	// the viewport and those nearest to it; a line says how many were left
	// out and how to see them. 0 shows the whole tree.
	MaxTokens int
	// Diff shows what changed since the last step instead of the whole
	// tree: lines that appeared (+) and went (-). The whole tree comes on
	// the first observation, after a navigation, and every FullEvery steps.
	Diff bool
	// FullEvery is how often Diff shows the whole tree; default 5.
	FullEvery int
}

// Validate says what is wrong with o, if anything.
func (o ObsOptions) Validate() error {
	switch {
	case o.MaxTokens < 0:
		return fmt.Errorf("observation token budget %d: want 0 (none) or more", o.MaxTokens)
	case o.MaxTokens > 0 && o.MaxTokens < minObsTokens:
		return fmt.Errorf("observation token budget %d: want at least %d, room for a few elements", o.MaxTokens, minObsTokens)
	case o.FullEvery < 0:
		return fmt.Errorf("full tree every %d steps: want 1 or more", o.FullEvery)
	}
	return nil
}

// minObsTokens is the smallest budget: a header and a few lines.
const minObsTokens = 100

// Shaper applies ObsOptions to the trees of one episode's observations.
// env/web/lite uses it too.
type Shaper struct {
	o       ObsOptions
	last    []string // the last whole tree, for Diff
	lastURL string
	since   int // observations since the last whole tree
	// shown is the range of tree lines the last cut kept, for an engine
	// without layout to scroll through (ScrollAnchor).
	shownFirst, shownLast int
	anchor                int
	viewURL               string // the page the anchor is on
}

// NewShaper returns a Shaper for o.
func NewShaper(o ObsOptions) *Shaper {
	if o.FullEvery == 0 {
		o.FullEvery = 5
	}
	return &Shaper{o: o}
}

// Reset starts a new episode: the next tree is shown whole.
func (s *Shaper) Reset() {
	s.last, s.lastURL, s.since, s.anchor, s.viewURL = nil, "", 0, 0, ""
}

// Active reports whether the Shaper changes anything.
func (s *Shaper) Active() bool { return s != nil && (s.o.MaxTokens > 0 || s.o.Diff) }

// Scrolled moves the view of an engine without layout (lite) by one
// screen of the cut tree: down past the last line shown, or up.
func (s *Shaper) Scrolled(dir string) {
	switch dir {
	case "down":
		s.anchor = s.shownLast + 1
	case "up":
		s.anchor = max(0, s.shownFirst-(s.shownLast-s.shownFirst+1))
	}
}

// Anchor is where an engine without layout has its view: the first line
// the budget keeps.
func (s *Shaper) Anchor() int { return s.anchor }

// Shape returns the tree to show for a page at url whose full tree is tree,
// and whose lines viewFirst to viewLast (-1: unknown) are in the viewport;
// budget is what the rest of the observation (its header) leaves.
func (s *Shaper) Shape(tree, url string, viewFirst, viewLast, header int) string {
	if !s.Active() || tree == "" {
		return tree
	}
	if url != s.viewURL {
		s.viewURL, s.anchor = url, 0
	}
	lines := strings.Split(tree, "\n")
	if s.o.Diff {
		full := s.last == nil || url != s.lastURL || s.since+1 >= s.o.FullEvery
		prev := s.last
		s.last, s.lastURL = lines, url
		if !full {
			s.since++
			d := lineDiff(prev, lines)
			if len(d) == 0 {
				return fmt.Sprintf("(no change since the last step; the whole tree comes every %d steps)", s.o.FullEvery)
			}
			head := fmt.Sprintf("(changes since the last step: + appeared, - went; the whole tree comes every %d steps)", s.o.FullEvery)
			return head + "\n" + s.cut(d, 0, -1, header+env.EstimateTokens(head))
		}
		s.since = 0
	}
	if s.o.MaxTokens == 0 {
		return tree
	}
	return s.cut(lines, viewFirst, viewLast, header)
}

// cut keeps the lines from the viewport outward within the budget.
func (s *Shaper) cut(lines []string, viewFirst, viewLast, header int) string {
	budget := s.o.MaxTokens - header - 40 // room for the two notes
	if s.o.MaxTokens == 0 {
		return strings.Join(lines, "\n")
	}
	cost := make([]int, len(lines))
	total := 0
	for i, l := range lines {
		cost[i] = env.EstimateTokens(l) + 1
		total += cost[i]
	}
	if total <= budget+40 {
		s.shownFirst, s.shownLast = 0, len(lines)-1
		return strings.Join(lines, "\n")
	}
	if viewFirst < 0 {
		viewFirst, viewLast = min(s.anchor, len(lines)-1), -1
	}
	if viewLast < viewFirst {
		viewLast = viewFirst
	}
	// The viewport first (from its top), then one line below and one above
	// in turn.
	a, b, used := viewFirst, viewFirst, 0
	for b <= viewLast && b < len(lines) && used+cost[b] <= budget {
		used += cost[b]
		b++
	}
	if b == a { // one line always shows
		used += cost[b]
		b++
	}
	for grew := true; grew; {
		grew = false
		if b < len(lines) && used+cost[b] <= budget {
			used += cost[b]
			b++
			grew = true
		}
		if a > 0 && used+cost[a-1] <= budget {
			a--
			used += cost[a]
			grew = true
		}
	}
	s.shownFirst, s.shownLast = a, b-1
	var out []string
	if a > 0 {
		out = append(out, note(lines[:a], "above", "up"))
	}
	out = append(out, lines[a:b]...)
	if b < len(lines) {
		out = append(out, note(lines[b:], "below", "down"))
	}
	return strings.Join(out, "\n")
}

// note says what the cut left out of lines and how to see it.
func note(lines []string, where, dir string) string {
	elements := 0
	for _, l := range lines {
		if strings.HasPrefix(strings.TrimLeft(l, " +-"), "[") {
			elements++
		}
	}
	return fmt.Sprintf("(%d more lines %s, %d of them elements, are not shown for the token budget: scroll(%q) to see them)", len(lines), where, elements, dir)
}

// lineDiff lists the lines of b that are not in a (+) and of a that are
// not in b (-), in order, by the longest common subsequence of the lines
// between their common start and end.
func lineDiff(a, b []string) []string {
	p := 0
	for p < len(a) && p < len(b) && a[p] == b[p] {
		p++
	}
	sa, sb := len(a), len(b)
	for sa > p && sb > p && a[sa-1] == b[sb-1] {
		sa--
		sb--
	}
	ma, mb := a[p:sa], b[p:sb]
	var out []string
	if len(ma)*len(mb) > 4_000_000 {
		// Too big to match line by line: all of the middle went and came.
		for _, l := range ma {
			out = append(out, "- "+l)
		}
		for _, l := range mb {
			out = append(out, "+ "+l)
		}
		return out
	}
	// lcs[i][j] is the LCS length of ma[i:] and mb[j:].
	w := len(mb) + 1
	lcs := make([]int32, (len(ma)+1)*w)
	for i := len(ma) - 1; i >= 0; i-- {
		for j := len(mb) - 1; j >= 0; j-- {
			if ma[i] == mb[j] {
				lcs[i*w+j] = lcs[(i+1)*w+j+1] + 1
			} else {
				lcs[i*w+j] = max(lcs[(i+1)*w+j], lcs[i*w+j+1])
			}
		}
	}
	i, j := 0, 0
	for i < len(ma) || j < len(mb) {
		switch {
		case i < len(ma) && j < len(mb) && ma[i] == mb[j]:
			i++
			j++
		case i < len(ma) && (j == len(mb) || lcs[(i+1)*w+j] >= lcs[i*w+j+1]):
			out = append(out, "- "+ma[i])
			i++
		default:
			out = append(out, "+ "+mb[j])
			j++
		}
	}
	return out
}
