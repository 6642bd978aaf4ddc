package export

import (
	"reflect"
	"strings"
	"testing"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/planner"
)

// A search's root has three children: the chosen one (value 0.9), one
// valued 0.85 (within the margin: no pair) and one valued 0.2 whose
// candidate is two actions (its first is the rejected answer). A child of
// the chosen node is not a sibling.
func TestPairs(t *testing.T) {
	rec := planner.Record{Path: []int{0, 1, 4}, Nodes: []planner.NodeRecord{
		{ID: 0, Parent: -1},
		{ID: 1, Parent: 0, Action: `click("3")`, Value: 0.9, Valued: true},
		{ID: 2, Parent: 0, Action: `click("4")`, Value: 0.85, Valued: true},
		{ID: 3, Parent: 0, Action: `fill("5", "mug"); click("6")`, First: `fill("5", "mug")`, Value: 0.2, Valued: true},
		{ID: 4, Parent: 1, Action: `click("9")`, Value: 0.1, Valued: true},
		{ID: 5, Parent: 0, Action: `click("7")`, Value: 0, Valued: false},
	}}
	got := pairs(rec, DefaultMargin)
	want := [][2]string{{`click("3")`, `fill("5", "mug")`}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("pairs = %q, want %q", got, want)
	}
	if got := pairs(rec, 0.01); len(got) != 2 {
		t.Errorf("pairs with margin 0.01 = %q, want two", got)
	}
}

func TestOptions(t *testing.T) {
	spec := env.Spec{Actions: []env.ActionSpec{{Name: "stop"}}}
	for _, c := range []struct {
		o    Options
		want string
	}{
		{Options{Format: "jsonl", Spec: spec}, `format "jsonl"`},
		{Options{Margin: -1, Spec: spec}, "margin -1"},
		{Options{}, "no actions"},
	} {
		if err := c.o.check(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("check(%+v) = %v, want %q", c.o, err, c.want)
		}
	}
	if _, err := SFT(t.TempDir(), nil, Options{Spec: spec}); err == nil || !strings.Contains(err.Error(), "export: ") {
		t.Errorf("SFT of a directory without a run = %v, want an error", err)
	}
}
