package planner

import "math"

// NewMCTS returns the Monte Carlo tree search of LATS (Zhou et al. 2024):
// each iteration selects a path by UCT (Options.Explore), expands its leaf
// with Options.Branch candidates, values each new state (mixed with the
// proposer's prior by Options.Consistency) and backs the best value up
// the path. Options.Budget counts value calls. The planner commits the
// most visited candidate from the current state.
func NewMCTS(p Proposer, v Value, opts Options) (*Planner, error) {
	return newPlanner("mcts", p, v, opts, mcts)
}

func mcts(s *search, root *node) (*node, string, error) {
	stopped := "value budget spent"
	var reached *node // a state valued at StopAt or more
	// An iteration that only meets ended states values nothing: the
	// iterations are bounded too.
	for it := 0; s.rec.ValueCalls < s.opts.Budget && it < 4*s.opts.Budget; it++ {
		n := root
		// A node expanded before the latest lesson is expanded again
		// (LATS: reflections steer the expansions after them).
		for n.expanded && len(n.children) > 0 && !n.done && n.lessonsAt >= s.lessonCount() {
			n = s.uct(n)
		}
		v := n.value
		if !n.done && n.depth < s.opts.Depth && (!n.expanded || n.lessonsAt < s.lessonCount()) {
			cands, err := s.propose(n, s.opts.Branch)
			if err != nil {
				return nil, "", err
			}
			n.expanded, n.lessonsAt = true, s.lessonCount()
			cands = s.newCandidates(n, cands)
			best := math.Inf(-1)
			for _, c := range cands {
				if s.rec.ValueCalls >= s.opts.Budget {
					break
				}
				child, err := s.expand(n, c)
				if err != nil {
					return nil, "", err
				}
				if child == nil {
					stopped = "env-step budget spent"
					break
				}
				if err := s.evaluate(child); err != nil {
					return nil, "", err
				}
				if err := s.reflect(child); err != nil {
					return nil, "", err
				}
				w := s.opts.Consistency
				q := (1-w)*child.value + w*c.Prior
				child.visits, child.wsum = 1, q
				best = math.Max(best, q)
				if s.opts.StopAt >= 0 && child.value >= s.opts.StopAt && reached == nil {
					reached = child
				}
			}
			if !math.IsInf(best, -1) {
				v = best
			}
		}
		if n.id == 0 && len(n.children) == 0 {
			stopped = "nothing to expand"
			break
		}
		for m := n; ; m = s.nodes[m.parent] {
			m.visits++
			m.wsum += v
			if m.id == 0 {
				break
			}
		}
		if reached != nil {
			return reached, "a state reached the stop value", nil
		}
		if stopped == "env-step budget spent" {
			break
		}
	}
	if len(root.children) == 0 {
		return nil, stopped, nil
	}
	// The most visited child of each node, from the root down.
	leaf := root
	for len(leaf.children) > 0 {
		next := s.nodes[leaf.children[0]]
		for _, id := range leaf.children[1:] {
			c := s.nodes[id]
			if c.visits > next.visits || c.visits == next.visits && mean(c) > mean(next) {
				next = c
			}
		}
		leaf = next
	}
	return leaf, stopped, nil
}

// uct returns n's child with the highest UCT score.
func (s *search) uct(n *node) *node {
	var best *node
	score := math.Inf(-1)
	for _, id := range n.children {
		c := s.nodes[id]
		u := mean(c) + s.opts.Explore*math.Sqrt(math.Log(float64(n.visits)+1)/float64(c.visits+1))
		if u > score {
			best, score = c, u
		}
	}
	return best
}

func mean(n *node) float64 {
	if n.visits == 0 {
		return n.value
	}
	return n.wsum / float64(n.visits)
}

// lessonCount is how many reflections the episode has drawn.
func (s *search) lessonCount() int {
	if s.lessons == nil {
		return 0
	}
	return s.reflected
}

// newCandidates drops the candidates n already has a child for.
func (s *search) newCandidates(n *node, cands []Candidate) []Candidate {
	have := map[string]bool{}
	for _, id := range n.children {
		have[s.nodes[id].cand.String()] = true
	}
	out := cands[:0:0]
	for _, c := range cands {
		if !have[c.String()] {
			out = append(out, c)
		}
	}
	return out
}
