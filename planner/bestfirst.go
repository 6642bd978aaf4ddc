package planner

// NewBestFirst returns the best-first tree search of Koh et al. (2024):
// from the current state, the proposer's candidates are tried and each
// resulting state valued; the most valued state not yet expanded is
// expanded next (within Options.Depth), until the budget of value calls
// or env steps is spent or a state reaches Options.StopAt. The planner
// then commits the first candidate on the path to the best state.
func NewBestFirst(p Proposer, v Value, opts Options) (*Planner, error) {
	return newPlanner("bfs", p, v, opts, bestFirst)
}

func bestFirst(s *search, root *node) (*node, string, error) {
	frontier := []*node{root}
	var best *node
	for len(frontier) > 0 {
		i := 0
		for j, n := range frontier {
			if better(n, frontier[i]) {
				i = j
			}
		}
		n := frontier[i]
		frontier = append(frontier[:i], frontier[i+1:]...)
		if n.done || n.depth >= s.opts.Depth {
			continue
		}
		cands, err := s.propose(n, s.opts.Branch)
		if err != nil {
			return nil, "", err
		}
		for _, c := range cands {
			if s.rec.ValueCalls >= s.opts.Budget {
				return best, "value budget spent", nil
			}
			child, err := s.expand(n, c)
			if err != nil {
				return nil, "", err
			}
			if child == nil {
				return best, "env-step budget spent", nil
			}
			if err := s.evaluate(child); err != nil {
				return nil, "", err
			}
			if best == nil || child.value > best.value {
				best = child
			}
			if s.opts.StopAt >= 0 && child.value >= s.opts.StopAt {
				return best, "a state reached the stop value", nil
			}
			if !child.done {
				frontier = append(frontier, child)
			}
		}
	}
	return best, "nothing left to expand", nil
}

// better orders the frontier: the root first, then by value, then the
// shallower, then the older.
func better(a, b *node) bool {
	switch {
	case !a.valued || !b.valued:
		return !a.valued && b.valued
	case a.value != b.value:
		return a.value > b.value
	case a.depth != b.depth:
		return a.depth < b.depth
	}
	return a.id < b.id
}
