package robotenv_test

import (
	"context"
	"fmt"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/env/robotenv"
)

// The arm in simulated time: the servo protocol and physics run inside
// the process, so an episode takes milliseconds and repeats for a seed.
// robotenv.Dial drives a real arm (or `pilot robot sim`) the same way.
func ExampleNewFast() {
	ctx := context.Background()
	rig, err := robotenv.NewFast(ctx, robotenv.RigOptions{Seed: 1})
	if err != nil {
		panic(err)
	}
	e, err := robotenv.New(rig, robotenv.Options{Task: robotenv.Reach})
	if err != nil {
		rig.Close()
		panic(err)
	}
	defer e.Close() // torque off, read back from every servo
	obs, err := e.Reset(ctx, env.Task{Seed: 4})
	if err != nil {
		panic(err)
	}
	fmt.Println(len(obs.State) > 0)
	st, err := e.Step(ctx, env.A("move_to", "0.15", "0", "0.08"))
	if err != nil {
		panic(err)
	}
	fmt.Printf("error %q, episode over: %v\n", st.Obs.Error, st.Terminated || st.Truncated)
	st, err = e.Step(ctx, env.A("fly"))
	fmt.Println(err, st.Obs.Error != "")
	// Output:
	// true
	// error "", episode over: false
	// <nil> true
}
