package agent

import (
	"fmt"
	"sync"

	"github.com/pilotkit/pilot/policy"
)

// Budget is a spending limit shared by the episodes of a run: when the
// tokens or the money the policies used reach it, every episode still
// running ends, truncated, before its next step, and new ones end before
// their first. It is safe for concurrent use.
type Budget struct {
	MaxTokens  int     // 0: no limit
	MaxCostUSD float64 // 0: no limit

	mu    sync.Mutex
	spent policy.Usage
}

// Add counts u against the budget.
func (b *Budget) Add(u policy.Usage) {
	b.mu.Lock()
	b.spent = b.spent.Add(u)
	b.mu.Unlock()
}

// Spent returns what the run used so far.
func (b *Budget) Spent() policy.Usage {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.spent
}

// exhausted returns why the budget is spent, or "".
func (b *Budget) exhausted() string {
	s := b.Spent()
	switch {
	case b.MaxTokens > 0 && s.Tokens() >= b.MaxTokens:
		return fmt.Sprintf("run token budget %d spent (%d tokens used)", b.MaxTokens, s.Tokens())
	case b.MaxCostUSD > 0 && s.CostUSD >= b.MaxCostUSD:
		return fmt.Sprintf("run cost budget $%.4g spent ($%.4g used)", b.MaxCostUSD, s.CostUSD)
	}
	return ""
}
