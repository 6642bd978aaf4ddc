package agent_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/pilotkit/pilot/agent"
	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/policy"
)

// Run one episode with a scripted policy, printing progress to stderr. Add
// agent.NewRecorder(dir) to the observers to keep the episode on disk.
func ExampleRun() {
	var e env.Env = newCounter() // any env.Env: a browser, a robot, a test double
	defer e.Close()

	actions := []env.Action{env.A("inc"), env.A("stop", "1")}
	traj, err := agent.Run(context.Background(), e, env.Task{ID: "count-1", Instruction: "count to one"}, policy.Replay(actions), agent.Options{
		MaxSteps:    20,
		StepTimeout: 30 * time.Second,
		PolicyName:  "replay",
		Observers:   []agent.Observer{agent.Progress(os.Stderr)},
	})
	if err != nil {
		fmt.Println("episode failed:", err)
		return
	}
	fmt.Println(traj.Success, len(traj.Steps), traj.Reason)
	// Output: true 2 right answer
}
