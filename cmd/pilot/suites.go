package main

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/env/robotenv"
	"github.com/pilotkit/pilot/env/web"
	"github.com/pilotkit/pilot/evals"
	"github.com/pilotkit/pilot/policy"
)

// The suites and policies of pilot eval. To add a suite, write a load
// function and add a suiteDef to suiteDefs; to add a policy, add a
// policyDef to policyDefs. For example:
//
//	{name: "shop", doc: "…", splits: []string{"test", "train"}, policy: "expert", load: loadShop},
//	{name: "expert", doc: "…", new: func(*loadedSuite, *evalFlags, env.Task) (policy.Policy, error) {
//		return expert.Shop(), nil
//	}},

// suiteDef is a suite pilot eval knows by name.
type suiteDef struct {
	name, doc string
	// splits are the values --split takes; the flag's default is "test".
	splits []string
	// policy is the policy used when --policy is not given.
	policy string
	// maxSteps, if not 0, is the suite's --max-steps default (-1: no
	// limit).
	maxSteps int
	// load makes the suite ready to run: its tasks for f.split, an env
	// per worker, and what to release at the end.
	load func(ctx context.Context, f *evalFlags) (*loadedSuite, error)
}

// loadedSuite is a suite ready to run.
type loadedSuite struct {
	suite evals.Suite
	// newEnv makes a worker's env; (*evalFlags).newWebEnv makes a browser
	// with the command's flags.
	newEnv func(ctx context.Context, worker int) (env.Env, error)
	// plans are action lists by task id, for the plan policy.
	plans map[string][]env.Action
	// close releases what load started (a file server); nil for nothing.
	// It runs after every env is closed.
	close func() error
}

// policyDef is a policy pilot eval knows by name.
type policyDef struct {
	name, doc string
	// new makes the policy of one episode of task.
	new func(s *loadedSuite, f *evalFlags, task env.Task) (policy.Policy, error)
}

func suiteDefs() []suiteDef {
	return []suiteDef{
		{name: "shop", doc: "shopping under constraints in pilot's WebShop-style store (--seed, --products)", splits: []string{"test", "dev", "train"}, policy: "expert", load: loadShop},
		{name: "demo", doc: "four questions about a small mug shop, served on 127.0.0.1, each with a plan", splits: []string{"test"}, policy: "plan", load: loadDemo},
		{name: "robot:reach", doc: "move a simulated SO-101's gripper to a point (fast mode: no serial port, simulated time)", splits: []string{"test", "train"}, policy: "expert", load: loadRobot(robotenv.Reach)},
		{name: "cartpole", doc: "CartPole-v1 (Gymnasium's dynamics): keep the pole up for 500 steps from a seeded start", splits: []string{"test", "train"}, policy: "expert", maxSteps: -1, load: loadCartPole},
		{name: "robot:pick", doc: "put the red cube in the target zone with a simulated SO-101 (fast mode)", splits: []string{"test", "train"}, policy: "expert", load: loadRobot(robotenv.Pick)},
	}
}

func policyDefs() []policyDef {
	return []policyDef{
		{name: "expert", doc: "the scripted expert: the shop's reads the pages, searches, compares, buys; the robot's plans with inverse kinematics", new: newExpert},
		{name: "plan", doc: "replay the action list the suite keeps for each task", new: newPlanPolicy},
		{name: "random", doc: "pick uniformly among the page's choices, seeded by --seed and the task", new: newRandomPolicy},
	}
}

func findSuite(name string) (suiteDef, bool) {
	for _, s := range suiteDefs() {
		if s.name == name {
			return s, true
		}
	}
	return suiteDef{}, false
}

func findPolicy(name string) (policyDef, bool) {
	for _, p := range policyDefs() {
		if p.name == name {
			return p, true
		}
	}
	return policyDef{}, false
}

func suiteNames() string {
	var names []string
	for _, s := range suiteDefs() {
		names = append(names, s.name)
	}
	return strings.Join(names, ", ")
}

func policyNames() string {
	var names []string
	for _, p := range policyDefs() {
		names = append(names, p.name)
	}
	return strings.Join(names, ", ")
}

func newPlanPolicy(s *loadedSuite, _ *evalFlags, task env.Task) (policy.Policy, error) {
	plan, ok := s.plans[task.ID]
	if !ok {
		return nil, fmt.Errorf("plan policy: suite %s keeps no plan for task %s; choose another --policy", s.suite.Name, task.ID)
	}
	return policy.Replay(plan), nil
}

func newRandomPolicy(_ *loadedSuite, f *evalFlags, task env.Task) (policy.Policy, error) {
	h := fnv.New64a()
	h.Write([]byte(task.ID))
	return policy.Random(f.seed ^ task.Seed ^ int64(h.Sum64())), nil
}

// newWebEnv makes a worker's browser from the command's flags: launched,
// or attached to --browser. Each episode gets its own browser context.
func (f *evalFlags) newWebEnv(context.Context, int) (env.Env, error) {
	o := web.Options{BrowserURL: f.browser, Logger: slog.New(slog.NewTextHandler(f.stderr, nil))}
	if f.screenshot.val != "none" {
		o.Screenshot = f.screenshot.val
	}
	e, err := web.New(o)
	if err != nil {
		return nil, fmt.Errorf("start the browser: %w", err)
	}
	return e, nil
}

// demoFiles are the demo suite's pages and its tasks.json, a copy of
// testdata/demo with the tasks added, embedded so that pilot eval --suite
// demo runs from any directory.
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

// loadDemo serves the demo pages on 127.0.0.1 and returns their tasks.
func loadDemo(_ context.Context, f *evalFlags) (*loadedSuite, error) {
	site, err := fs.Sub(demoFiles, "demosuite")
	if err != nil {
		return nil, fmt.Errorf("demo suite: %w", err)
	}
	b, err := fs.ReadFile(site, "tasks.json")
	if err != nil {
		return nil, fmt.Errorf("demo suite: %w", err)
	}
	var tasks []demoTask
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&tasks); err != nil {
		return nil, fmt.Errorf("demo suite: tasks.json: %w", err)
	}
	srv, err := serveFS(site)
	if err != nil {
		return nil, fmt.Errorf("demo suite: %w", err)
	}
	s := &loadedSuite{
		suite:  evals.Suite{Name: "demo/" + f.split},
		newEnv: f.newWebEnv,
		plans:  map[string][]env.Action{},
		close:  srv.Close,
	}
	for _, t := range tasks {
		s.suite.Tasks = append(s.suite.Tasks, env.Task{
			ID: t.ID, Suite: s.suite.Name, Instruction: t.Instruction, Answer: t.Answer,
			StartURL: srv.url + t.Path, Seed: f.seed,
		})
		for i, text := range t.Plan {
			a, err := env.ParseAction(text)
			if err != nil {
				srv.Close()
				return nil, fmt.Errorf("demo suite: task %s, plan action %d: %w", t.ID, i+1, err)
			}
			s.plans[t.ID] = append(s.plans[t.ID], a)
		}
	}
	return s, nil
}

// serveFS serves fsys over HTTP on a random port of 127.0.0.1, like
// serveDir.
func serveFS(fsys fs.FS) (*fileServer, error) {
	return serveHandler(http.FileServerFS(fsys))
}
