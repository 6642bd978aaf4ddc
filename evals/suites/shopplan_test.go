package suites

import (
	"math"
	"strings"
	"testing"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/planner"
)

const kettle = "i would like electric kettles with led indicator, in silver, for less than 40.00 dollars, rated at least 4 stars. ship it to me, please. My address: David Khan, 9392 Park Court, Columbus, OH 43215"

func itemPage(title, price, rating string, checked ...string) string {
	var b strings.Builder
	b.WriteString("URL: http://shop.test/s/x/item/B1\nTitle: " + title + "\n\n[1] main\n  [2] heading \"" + title + "\" level=1\n")
	b.WriteString("  [3] paragraph\n    StaticText \"Price: $" + price + "\"\n  [4] paragraph\n    StaticText \"Rating: " + rating + " out of 5 stars (9 reviews)\"\n  [5] form\n    [6] group \"color\"\n")
	for i, c := range []string{"black", "silver"} {
		line := "      [" + string(rune('7'+i)) + "] radio \"" + c + "\""
		for _, k := range checked {
			if k == c {
				line += " checked"
			}
		}
		b.WriteString(line + "\n")
	}
	b.WriteString("    [9] button \"Buy Now\"\n")
	return b.String()
}

// The heuristic ranks what a search should prefer: the right option
// chosen over none, a fitting item over one past the price, and it does
// not take the colour a title ends with for the option chosen.
func TestShopHeuristic(t *testing.T) {
	v := func(text string) float64 {
		return shopHeuristic(planner.Leaf{Task: env.Task{Instruction: kettle}, Obs: env.Observation{Text: text}})
	}
	title := "Brewline Electric Kettle LED Indicator, Silver"
	none := v(itemPage(title, "29.99", "4.5"))
	right := v(itemPage(title, "29.99", "4.5", "silver"))
	wrong := v(itemPage(title, "29.99", "4.5", "black"))
	dear := v(itemPage(title, "59.99", "4.5", "silver"))
	if !(right > none && right > wrong && right > dear) {
		t.Errorf("item values: silver chosen %.3f, none %.3f, black %.3f, silver over the price %.3f; want silver chosen the highest", right, none, wrong, dear)
	}
	if none != wrong {
		t.Errorf("the title's ', Silver' counted as the option: none %.3f, black %.3f", none, wrong)
	}
}

// Any text is valued in [0, 1], without a panic.
func FuzzShopHeuristic(f *testing.F) {
	f.Add(kettle, itemPage("A, B", "1", "2", "silver"))
	f.Add("", "StaticText \"Total: $\"\n[1] heading \"Thank you for your order\"")
	f.Add("under $5 at least 4 stars", "[3] button \"Place order\"\nStaticText \"Price: $x\"\nStaticText \"Item: ,,,\"")
	f.Fuzz(func(t *testing.T, instruction, text string) {
		got := shopHeuristic(planner.Leaf{Task: env.Task{Instruction: instruction}, Obs: env.Observation{Text: text}})
		if math.IsNaN(got) || got < 0 || got > 1 {
			t.Fatalf("value %v for %q", got, text)
		}
	})
}
