package suites

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/pilotkit/pilot/agent"
	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/env/web"
	"github.com/pilotkit/pilot/env/web/lite"
	"github.com/pilotkit/pilot/evals"
	"github.com/pilotkit/pilot/evals/tasks"
	"github.com/pilotkit/pilot/policy"
)

// TaskFile makes a suite of the task file at path (docs/tasks.md): pilot
// eval --tasks FILE. Its name is "tasks:" and the file's base name; its
// splits are the tasks' (test first); it runs on Chromium and, for tasks
// that run no scripts of their own, on lite. Its policy "solution" plays
// the tasks' solutions, the default when every task has one. Directories the tasks serve
// are served on 127.0.0.1 while the suite is loaded.
func TaskFile(path string) (evals.Def, error) {
	ts, err := tasks.ParseFile(path)
	if err != nil {
		return evals.Def{}, err
	}
	var splits []string
	maxSteps := agent.DefaultMaxSteps
	pol := "solution"
	for _, t := range ts {
		if len(t.Solution) == 0 {
			pol = "random"
		}
		if !slices.Contains(splits, t.Split) {
			splits = append(splits, t.Split)
		}
		maxSteps = max(maxSteps, t.MaxSteps)
	}
	slices.SortStableFunc(splits, func(a, b string) int {
		switch {
		case a == b:
			return 0
		case a == "test":
			return -1
		case b == "test":
			return 1
		}
		return 0
	})
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	name := "tasks:" + regexp.MustCompile(`[^A-Za-z0-9._:-]+`).ReplaceAllString(base, "-")
	return evals.Def{
		Name:     name,
		Doc:      fmt.Sprintf("the %d tasks of %s", len(ts), path),
		Splits:   splits,
		Engines:  []string{evals.EngineChromium, evals.EngineLite},
		MaxSteps: maxSteps,
		Policy:   pol,
		Tags:     judgedTag,
		Load: func(ctx context.Context, o evals.LoadOptions) (*evals.Loaded, error) {
			return loadTaskFile(ctx, o, ts, path, name)
		},
	}, nil
}

func loadTaskFile(ctx context.Context, o evals.LoadOptions, all []tasks.Task, path, name string) (*evals.Loaded, error) {
	var ts []tasks.Task
	for _, t := range all {
		if t.Split == o.Split {
			ts = append(ts, t)
		}
	}
	if o.Engine == evals.EngineLite {
		var scripted []string
		for _, t := range ts {
			if t.Scripted() {
				scripted = append(scripted, fmt.Sprintf("%s (line %d)", t.ID, t.Line))
			}
		}
		if len(scripted) > 0 {
			o.Logger.Warn(fmt.Sprintf("%s: %d tasks run JavaScript of their own, which the lite engine does not: run them with --engine chromium (on lite their episodes are errors)", path, len(scripted)), "tasks", strings.Join(scripted[:min(5, len(scripted))], ", "))
		}
	}
	// One server per directory served; the lite engine reads them in
	// process, and the tasks' own sites over the network.
	servers := map[string]*localServer{}
	hosts := map[string]http.Handler{}
	var sites []string // the hosts of the tasks' own sites
	closeAll := func() error {
		var errs []error
		for _, s := range servers {
			errs = append(errs, s.Close())
		}
		return errors.Join(errs...)
	}
	l := &evals.Loaded{Suite: evals.Suite{Name: name + "/" + o.Split}, Close: closeAll}
	for _, t := range ts {
		start := t.StartURL
		if t.Serve != "" {
			dir := filepath.Join(t.Dir, t.Serve)
			if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
				_ = closeAll()
				return nil, fmt.Errorf("%s:%d: task %s: serve %q: %s is not a directory", path, t.Line, t.ID, t.Serve, dir)
			}
			if abs, err := filepath.Abs(path); err == nil {
				if rel, err := filepath.Rel(dir, abs); err == nil && !strings.HasPrefix(rel, "..") {
					_ = closeAll()
					return nil, fmt.Errorf("%s:%d: task %s: serve %q holds the task file itself, whose answers and evaluators the agent could then read: serve a directory of the site's own, such as site/", path, t.Line, t.ID, t.Serve)
				}
			}
			srv, ok := servers[dir]
			if !ok {
				h := http.FileServer(http.Dir(dir))
				var err error
				if srv, err = serveLocal(ctx, h); err != nil {
					_ = closeAll()
					return nil, fmt.Errorf("serve %s: %w", dir, err)
				}
				servers[dir] = srv
				hosts[strings.TrimPrefix(srv.url, "http://")] = h
			}
			start = srv.url + t.StartURL
		} else if u, err := url.Parse(start); err == nil && !slices.Contains(sites, u.Hostname()) {
			sites = append(sites, u.Hostname())
		}
		l.Suite.Tasks = append(l.Suite.Tasks, env.Task{ID: t.ID, Suite: l.Suite.Name, Instruction: t.Instruction, StartURL: start, Hidden: t.Hidden, Seed: o.Seed})
	}
	plans := map[string][]env.Action{}
	for _, t := range ts {
		if len(t.Solution) > 0 {
			plans[t.ID] = t.Plan()
		}
	}
	l.Policies = map[string]func(env.Task) (policy.Policy, error){
		"solution": func(t env.Task) (policy.Policy, error) {
			plan, ok := plans[t.ID]
			if !ok {
				return nil, fmt.Errorf("solution policy: task %s of %s has no solution: give it one, or choose another policy (--model)", t.ID, path)
			}
			return policy.Replay(plan), nil
		},
	}
	to := tasks.Options{Judge: o.Judge, NoScript: o.Engine == evals.EngineLite, MaxSteps: o.MaxSteps, MaxTime: o.MaxTime, Mask: o.Secrets.Mask}
	l.NewEnv = func(_ context.Context, w int) (env.Env, error) {
		if o.Engine == evals.EngineLite {
			return tasks.Wrap(lite.New(liteRouter(hosts, sites, o.OpenNetwork), lite.Options{Obs: o.Obs}), ts, to), nil
		}
		wo := web.Options{BrowserURL: o.WorkerBrowser(w), Screenshot: o.Screenshot, Logger: o.Logger, Obs: o.Obs}
		if !o.OpenNetwork {
			wo.AllowDomains = append([]string{"127.0.0.1"}, sites...)
		}
		e, err := web.New(wo)
		if err != nil {
			return nil, fmt.Errorf("start the browser: %w", err)
		}
		return tasks.Wrap(e, ts, to), nil
	}
	return l, nil
}

// liteRouter sends the lite engine's requests for a served directory to
// its handler in process, and those for the tasks' own sites (any site,
// with open) over the network; it refuses the rest, as Chromium's
// allowlist does.
func liteRouter(served map[string]http.Handler, sites []string, open bool) http.Handler {
	remote := lite.Remote(nil)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h, ok := served[r.Host]; ok {
			h.ServeHTTP(w, r)
			return
		}
		host := r.Host
		if h, _, err := net.SplitHostPort(r.Host); err == nil {
			host = h
		}
		if open || slices.Contains(sites, host) {
			remote.ServeHTTP(w, r)
			return
		}
		http.Error(w, fmt.Sprintf("pilot: %s is not one of the task file's sites (%s): the request was refused", r.Host, strings.Join(sites, ", ")), http.StatusForbidden)
	})
}

// judgedTag labels an episode a model judged (a fuzzy answer), so that
// the report counts them apart: "judged", and "judged success".
func judgedTag(r evals.Result) []string {
	if r.Trajectory == nil || len(r.Trajectory.Steps) == 0 {
		return nil
	}
	if v, _ := r.Trajectory.Steps[len(r.Trajectory.Steps)-1].Info["judged"].(bool); !v {
		return nil
	}
	if r.Success {
		return []string{"judged", "judged success"}
	}
	return []string{"judged"}
}
