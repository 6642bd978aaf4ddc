package env_test

import (
	"context"
	"fmt"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/env/classic"
)

// A model's answer becomes an Action; garbage is a *ParseError that says
// where it went wrong, never a panic.
func ExampleParseAction() {
	a, err := env.ParseAction(`type("7", 'blue mug')`)
	fmt.Println(a.Name, a.Args, err)
	_, err = env.ParseAction(`click(`)
	fmt.Println(err != nil)
	// Output:
	// type [7 blue mug] <nil>
	// true
}

// Wrappers add what every env shares: a step limit, episode statistics.
func ExampleTimeLimit() {
	ctx := context.Background()
	e := env.RecordStats(env.TimeLimit(classic.NewCartPole(), 5, 0))
	defer e.Close()
	if _, err := e.Reset(ctx, env.Task{Seed: 1}); err != nil {
		panic(err)
	}
	for {
		st, err := e.Step(ctx, env.A("push_right"))
		if err != nil {
			panic(err)
		}
		if st.Terminated || st.Truncated {
			fmt.Println("truncated:", st.Truncated, st.Reason)
			break
		}
	}
	fmt.Println("length:", e.Stats().Length)
	// Output:
	// truncated: true step limit 5 reached
	// length: 5
}
