package suites

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/evals"
	"github.com/pilotkit/pilot/policy"
)

// demoFiles are the demo suite's pages and its tasks.json, embedded so
// that the suite runs from any directory.
//
//go:embed demosuite
var demoFiles embed.FS

// demoTask is one task of demosuite/tasks.json.
type demoTask struct {
	ID          string   `json:"id"`
	Instruction string   `json:"instruction"`
	Path        string   `json:"path"` // where the episode starts, on the demo server
	Answer      string   `json:"answer"`
	Plan        []string `json:"plan"` // actions in their text form
}

// Demo is four questions about a small mug shop, served on 127.0.0.1,
// each with a plan (the "plan" policy replays it).
func Demo() evals.Def {
	return evals.Def{
		Name:    "demo",
		Doc:     "four questions about a small mug shop, served on 127.0.0.1, each with a plan",
		Splits:  []string{"test"},
		Engines: []string{evals.EngineChromium},
		Policy:  "plan",
		Load:    loadDemo,
	}
}

func loadDemo(ctx context.Context, o evals.LoadOptions) (*evals.Loaded, error) {
	site, err := fs.Sub(demoFiles, "demosuite")
	if err != nil {
		return nil, err
	}
	b, err := fs.ReadFile(site, "tasks.json")
	if err != nil {
		return nil, err
	}
	var tasks []demoTask
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&tasks); err != nil {
		return nil, fmt.Errorf("tasks.json: %w", err)
	}
	plans := map[string][]env.Action{}
	l := &evals.Loaded{
		Suite:  evals.Suite{Name: "demo/" + o.Split},
		NewEnv: func(_ context.Context, w int) (env.Env, error) { return newWeb(o, w) },
		Policies: map[string]func(env.Task) (policy.Policy, error){
			"plan": func(t env.Task) (policy.Policy, error) {
				plan, ok := plans[t.ID]
				if !ok {
					return nil, fmt.Errorf("plan policy: the demo suite keeps no plan for task %s; choose another policy", t.ID)
				}
				return policy.Replay(plan), nil
			},
		},
	}
	for _, t := range tasks {
		for i, text := range t.Plan {
			a, err := env.ParseAction(text)
			if err != nil {
				return nil, fmt.Errorf("task %s, plan action %d: %w", t.ID, i+1, err)
			}
			plans[t.ID] = append(plans[t.ID], a)
		}
	}
	srv, err := serveLocal(ctx, http.FileServerFS(site))
	if err != nil {
		return nil, err
	}
	l.Close = srv.Close
	for _, t := range tasks {
		l.Suite.Tasks = append(l.Suite.Tasks, env.Task{
			ID: t.ID, Suite: l.Suite.Name, Instruction: t.Instruction, Answer: t.Answer,
			StartURL: srv.url + t.Path, Seed: o.Seed,
		})
	}
	return l, nil
}
