package expert_test

import (
	"fmt"

	"github.com/pilotkit/pilot/policy/expert"
)

// Read a web observation's element tree, as the shop's policies do.
func ExampleParseTree() {
	obs := `URL: http://127.0.0.1:8080/
Title: Search · pilot shop

[4] form
  [5] searchbox "Search" value="usb-c cable"
  [6] button "Search"`
	for _, n := range expert.ParseTree(obs) {
		fmt.Printf("%d %s %s %q %q\n", n.Depth, n.ID, n.Role, n.Name, n.Value())
	}
	fmt.Println(expert.FindNode(expert.ParseTree(obs), "button", "Search").ID)
	// Output:
	// 0 4 form "" ""
	// 1 5 searchbox "Search" "usb-c cable"
	// 1 6 button "Search" ""
	// 6
}

// What the shop expert reads from an instruction.
func ExampleParseShopInstruction() {
	g := expert.ParseShopInstruction("i need wireless earphones in black, with a rating of at least 4.5 stars, and price lower than 40.00 dollars. ship it to me. My address: Jane Doe, 12 Oak Street, Springfield, IL 62704")
	fmt.Println(g.Query(0))
	fmt.Println(g.PriceMax, g.RatingMin, g.Address[0])
	// Output:
	// wireless earphones black
	// 40 4.5 Jane Doe
}
