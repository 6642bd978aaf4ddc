package shop_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/env/shop"
	"github.com/pilotkit/pilot/env/web/lite"
)

// The shop through lite (env/web/lite): the store, an http.Handler, serves
// a browser without JavaScript in-process, which observes its pages as
// Chromium would. No port opens: the origin only names the site.
func ExampleNewEnv_lite() {
	store, err := shop.NewStore(shop.StoreOptions{Seed: 1})
	if err != nil {
		log.Fatal(err)
	}
	const origin = "http://127.0.0.1:8080"
	e := shop.NewEnv(lite.New(store, lite.Options{Origin: origin}), store, origin)
	defer e.Close()

	ctx := context.Background()
	obs, err := e.Reset(ctx, env.Task{ID: "shop-test-0000"})
	if err != nil {
		log.Fatal(err)
	}
	// The observation's first line is the URL, with the episode's random
	// session id: leave it out.
	_, tree, _ := strings.Cut(obs.Text, "\n")
	fmt.Println(tree)

	// Search: type in the search box [5], click Search [6].
	for _, a := range []env.Action{env.A("fill", "5", "t-shirt"), env.A("click", "6")} {
		fmt.Println(">", a)
		st, err := e.Step(ctx, a)
		if err != nil {
			log.Fatal(err)
		}
		obs = st.Obs
	}
	lines := strings.Split(obs.Text, "\n")
	fmt.Println(lines[1])                        // the title
	fmt.Println(strings.Join(lines[6:19], "\n")) // the heading and the first results
	// Output:
	// Title: Search · pilot shop
	//
	// [1] paragraph
	//   StaticText "Instruction: i want t-shirts that are machine washable and short sleeve size small, at most $20.00, rated at least 4 stars. ship it to me, please. My address: Yuki Lewis, 380 Pine Lane, Columbus, OH 43215"
	// [2] main
	//   [3] heading "pilot shop" level=1
	//   [4] form
	//     [5] searchbox "Search" value=""
	//     [6] button "Search"
	// > fill("5", "t-shirt")
	// > click("6")
	// Title: Results · pilot shop
	//   [3] heading "Results for \"t-shirt\"" level=2
	//   [4] paragraph
	//     StaticText "Page 1 of 13 (125 products)"
	//   [5] link "Back to Search"
	//   [6] list
	//     [7] listitem
	//       [8] link "Everwear Prime Cotton T-Shirt, White"
	//       StaticText "$16.79 4.6 stars (1715 reviews)"
	//     [9] listitem
	//       [10] link "Urbanite Air Moisture Wicking T-Shirt"
	//       StaticText "$35.95 4.1 stars (34 reviews)"
	//     [11] listitem
	//       [12] link "Urbanite Air Machine Washable T-Shirt, Olive"
}
