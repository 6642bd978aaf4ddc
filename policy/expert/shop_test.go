package expert

import (
	"context"
	"strings"
	"testing"

	"github.com/pilotkit/pilot/env"

	"github.com/pilotkit/pilot/policy"
)

func TestParseShopInstruction(t *testing.T) {
	instr := "i need a pair of wireless noise cancelling earphones in black, with a rating of at least 4.5 stars, and price lower than 40.00 dollars. ship it to me. My address: Jane Doe, 12 Oak Street, Springfield, IL 62704"
	g := ParseShopInstruction(instr)
	if g.PriceMax != 40 || g.RatingMin != 4.5 {
		t.Errorf("price %v rating %v, want 40 and 4.5", g.PriceMax, g.RatingMin)
	}
	want := [5]string{"Jane Doe", "12 Oak Street", "Springfield", "IL", "62704"}
	if !g.HasAddress || g.Address != want {
		t.Errorf("address = %q (%v), want %q", g.Address, g.HasAddress, want)
	}
	if q := g.Query(0); q != "wireless noise cancelling earphones black" {
		t.Errorf("query = %q", q)
	}
	if q := g.Query(1); q != "wireless noise cancelling" {
		t.Errorf("shorter query = %q", q)
	}
	for _, c := range []struct {
		in        string
		price     float64
		rating    float64
		addrParts int
	}{
		{"Find running shoes, size 10, under $75.50. Ship to this address: Bo Li, 5 Elm Rd, Apt 2, Austin, TX 73301", 75.5, 0, 5},
		{"looking for a desk lamp that costs no more than 30 dollars with at least 4 stars. address: A B, 1 C St, D, NY 10001", 30, 4, 5},
	} {
		g := ParseShopInstruction(c.in)
		if g.PriceMax != c.price || g.RatingMin != c.rating || !g.HasAddress {
			t.Errorf("ParseShopInstruction(%q) = price %v rating %v address %v; want %v %v true", c.in, g.PriceMax, g.RatingMin, g.HasAddress, c.price, c.rating)
		}
	}
}

func TestPickOption(t *testing.T) {
	g := ParseShopInstruction("i want a navy blue t-shirt, size large, under $20")
	vals := func(names ...string) []Node {
		var ns []Node
		for _, n := range names {
			ns = append(ns, Node{Role: "radio", Name: n})
		}
		return ns
	}
	if i := g.OptionIndex("color", vals("blue", "navy blue", "red")); i != 1 {
		t.Errorf("color pick = %d, want 1 (navy blue, the longest match)", i)
	}
	if i := g.OptionIndex("size", vals("small", "medium", "large", "x-large")); i != 2 {
		t.Errorf("size pick = %d, want 2 (large)", i)
	}
	if i := g.OptionIndex("material", vals("cotton", "polyester")); i != -1 {
		t.Errorf("material pick = %d, want -1 (not asked for)", i)
	}
}

// page renders observation text the way env/web does for the shop pages.
func page(lines ...string) string {
	return "URL: http://127.0.0.1/s/x/\nTitle: pilot shop\n\n" + strings.Join(lines, "\n")
}

func TestShopExpertWalk(t *testing.T) {
	instr := "i need wireless earphones in black, rating at least 4 stars, price lower than 30.00 dollars. ship it to me. My address: Jane Doe, 12 Oak Street, Springfield, IL 62704"
	x := Shop()
	act := func(text string) env.Action {
		t.Helper()
		d, err := x.Act(context.Background(), policy.Input{Task: env.Task{Instruction: instr}, Obs: env.Observation{Text: text}})
		if err != nil {
			t.Fatal(err)
		}
		return d.Action
	}
	steps := []struct {
		obs  string
		want string
	}{
		{page(`[1] paragraph`, `  StaticText "Instruction: `+instr+`"`, `[2] heading "pilot shop" level=1`, `[3] form`, `  [4] searchbox "Search" value=""`, `  [5] button "Search"`),
			`fill("4", "wireless earphones black")`},
		{page(`[3] form`, `  [4] searchbox "Search" value="wireless earphones black"`, `  [5] button "Search"`), `click("5")`},
		{page(`[2] heading "Results for \"wireless earphones black\"" level=2`, `[3] paragraph`, `  StaticText "Page 1 of 3 (25 products)"`, `[4] link "Back to Search"`, `[5] list`,
			`  [6] listitem`, `    [7] link "Acme Wireless Earphones, Black"`, `    StaticText "$45.00"`, `    StaticText "4.6 stars (10 reviews)"`,
			`  [8] listitem`, `    [9] link "Zed Wireless Earphones"`, `    StaticText "$25.00"`, `    StaticText "3.9 stars (10 reviews)"`,
			`  [10] listitem`, `    [11] link "Bee Wireless Earphones"`, `    StaticText "$19.99"`, `    StaticText "4.2 stars (8 reviews)"`,
			`[12] link "Next >"`), `click("11")`},
		{page(`[2] heading "Bee Wireless Earphones" level=1`, `[3] paragraph`, `  StaticText "Price: $19.99"`, `[4] paragraph`, `  StaticText "Rating: 4.2 out of 5 stars (8 reviews)"`,
			`[5] form`, `  [6] group "color"`, `    [7] radio "white"`, `    [8] radio "black"`, `  [9] spinbutton "Quantity" value="1"`, `  [10] button "Buy Now"`, `[11] link "< Back to results"`), `click("8")`},
		{page(`[2] heading "Bee Wireless Earphones" level=1`, `[5] form`, `  [6] group "color"`, `    [7] radio "white"`, `    [8] radio "black" checked`, `  [10] button "Buy Now"`), `click("10")`},
		{page(`[2] heading "Checkout" level=2`, `[3] form`, `  [4] textbox "Full name" value=""`, `  [5] textbox "Street address" value=""`, `  [6] textbox "City" value=""`, `  [7] textbox "State" value=""`, `  [8] textbox "ZIP code" value=""`, `  [9] button "Place order"`),
			`fill("4", "Jane Doe")`},
		{page(`[3] form`, `  [4] textbox "Full name" value="Jane Doe"`, `  [5] textbox "Street address" value="12 Oak Street"`, `  [6] textbox "City" value="Springfield"`, `  [7] textbox "State" value="IL"`, `  [8] textbox "ZIP code" value="62704"`, `  [9] button "Place order"`),
			`click("9")`},
		{page(`[1] heading "Thank you for your order" level=1`), `stop("")`},
	}
	for i, s := range steps {
		if got := act(s.obs).String(); got != s.want {
			t.Errorf("step %d: Act = %s, want %s", i, got, s.want)
		}
	}
	// An item that does not come in the asked color is rejected.
	noBlack := page(`[2] heading "Cee Wireless Earphones" level=1`, `[3] paragraph`, `  StaticText "Price: $19.99"`, `[5] form`, `  [6] group "color"`, `    [7] radio "white"`, `    [8] radio "red"`, `  [10] button "Buy Now"`, `[11] link "< Back to results"`)
	if got := act(noBlack).String(); got != `click("11")` {
		t.Errorf("item without the asked color: Act = %s, want click(\"11\")", got)
	}
	// An item over the price ceiling is rejected: back to the results.
	over := page(`[2] heading "Acme Wireless Earphones, Black" level=1`, `[3] paragraph`, `  StaticText "Price: $45.00"`, `[10] button "Buy Now"`, `[11] link "< Back to results"`)
	if got := act(over).String(); got != `click("11")` {
		t.Errorf("over-priced item: Act = %s, want click(\"11\")", got)
	}
}

func TestParseTree(t *testing.T) {
	nodes := ParseTree(page(`[1] textbox "Say \"hi\"" value="a \"b\"" focused`, `  StaticText "x"`, `[2] checkbox "Gift" checked`))
	if len(nodes) != 3 || nodes[0].Name != `Say "hi"` || nodes[0].Value() != `a "b"` || nodes[1].Depth != 1 || !nodes[2].Checked() {
		t.Errorf("ParseTree = %+v", nodes)
	}
}

// FuzzShopExpert feeds the expert arbitrary page text and instructions: it
// must never panic, and what it returns is an action or an error.
func FuzzShopExpert(f *testing.F) {
	f.Add("i need black earphones under $30. address: A B, 1 C St, D, NY 10001", page(`[1] searchbox "Search" value=""`, `[2] button "Search"`))
	f.Add("x", page(`[2] heading "Results for \"x\"" level=2`, `  [6] listitem`, `    [7] link "A"`, `    StaticText "$4x"`, `    StaticText "9.9 stars"`))
	f.Add("address: ,,, ZZ 00000", page(`[5] form`, `  [6] group "color"`, `    [7] radio ""`, `  [10] button "Buy Now"`))
	f.Fuzz(func(t *testing.T, instr, text string) {
		x := Shop()
		d, err := x.Act(context.Background(), policy.Input{Task: env.Task{Instruction: instr}, Obs: env.Observation{Text: text}})
		if err == nil && d.Action.Name == "" {
			t.Fatalf("Act returned neither an action nor an error")
		}
	})
}

func TestAsksFor(t *testing.T) {
	for _, c := range []struct {
		instr, group string
		want         bool
	}{
		{"i want wireless earphones in black, under $30", "color", true},
		{"coffee makers with built-in grinder, under $40", "color", false},
		{"running shoes, size 10, under $80", "size", true},
		{"running shoes, under $80", "size", false},
	} {
		if got := ParseShopInstruction(c.instr).AsksFor(c.group); got != c.want {
			t.Errorf("AsksFor(%q, %q) = %v, want %v", c.instr, c.group, got, c.want)
		}
	}
}
