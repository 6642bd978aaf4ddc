package suites_test

import (
	"context"
	"fmt"

	"github.com/pilotkit/pilot/agent"
	"github.com/pilotkit/pilot/evals"
	"github.com/pilotkit/pilot/evals/suites"
)

// Play one task of a built-in suite with its expert, as `pilot run
// --suite robot:pick` does: the registry makes the tasks, the env and the
// policy.
func ExampleBuiltin() {
	ctx := context.Background()
	d, err := suites.Builtin().Find("robot:pick")
	if err != nil {
		fmt.Println(err)
		return
	}
	l, err := d.Open(ctx, evals.LoadOptions{Seed: 1}) // the fast engine: a simulated arm, simulated time
	if err != nil {
		fmt.Println(err)
		return
	}
	task := l.Suite.Tasks[0]
	e, err := l.NewEnv(ctx, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer e.Close()
	traj, err := agent.Run(ctx, e, task, d.Expert(task), agent.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(l.Suite.Name, task.ID, traj.Success)
	// Output: robot:pick/test pick-1000100 true
}
