package suites

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/env/web"
	"github.com/pilotkit/pilot/evals"
	"github.com/pilotkit/pilot/policy"
)

// MiniWoB runs the tasks of a MiniWoB++ checkout under the protocol
// BrowserGym uses (docs/miniwob.md): pilot serves the checkout's
// miniwob/html folder on 127.0.0.1, seeds the page (Math.seedrandom),
// lifts the episode's time limit, starts it (core.startEpisodeReal), takes
// the instruction from core.getUtterance() and ends the episode when
// WOB_DONE_GLOBAL is true, a success when WOB_RAW_REWARD_GLOBAL > 0.
func MiniWoB() evals.Def {
	return evals.Def{
		Name:    "miniwob",
		Doc:     "the MiniWoB++ tasks of a checkout (--miniwob-dir), scored by their pages as BrowserGym scores them",
		Splits:  []string{"test"},
		Engines: []string{evals.EngineChromium},
		Params: []evals.Param{
			{Name: "dir", Doc: "the miniwob/html folder of a MiniWoB++ checkout (--miniwob-dir)", Required: true, Check: checkMiniWoBDir},
			{Name: "tasks", Doc: "the tasks to run, comma-separated names such as click-button,enter-text (default: every task in the folder)", Check: checkTaskNames},
			{Name: "seeds", Doc: "episodes per task, each with its own seed (default 5)", Check: checkPositive(1000)},
			{Name: "max-time-ms", Doc: fmt.Sprintf("the page's own time limit of an episode, core.EPISODE_MAX_TIME (default %d, at most %d)", miniwobMaxTime, math.MaxInt32), Check: checkMaxTime},
		},
		MaxSteps: 20,
		Policy:   "expert",
		Load:     loadMiniWoB,
		Expert:   func(env.Task) policy.Policy { return &miniwobOracle{} },
	}
}

// miniwobMaxTime is BrowserGym's episode_max_time: long enough that the
// page's timer never ends an agent's episode.
const miniwobMaxTime = 1_000_000

func checkPositive(most int) func(string) error {
	return func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > most {
			return fmt.Errorf("want a whole number from 1 to %d", most)
		}
		return nil
	}
}

// checkMaxTime refuses a time limit above 2^31-1 ms: the page's
// setTimeout overflows and ends the episode at once.
func checkMaxTime(v string) error {
	n, err := strconv.ParseInt(v, 10, 64)
	switch {
	case err != nil || n < 1000:
		return fmt.Errorf("want milliseconds, at least 1000")
	case n > math.MaxInt32:
		return fmt.Errorf("at most %d: a longer timeout overflows the page's setTimeout, which then ends the episode at once", math.MaxInt32)
	}
	return nil
}

var taskName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

func checkTaskNames(v string) error {
	for _, n := range strings.Split(v, ",") {
		if !taskName.MatchString(strings.TrimSpace(n)) {
			return fmt.Errorf("task name %q: want names such as click-button, comma-separated", n)
		}
	}
	return nil
}

// checkMiniWoBDir says what a folder lacks to be a MiniWoB++ html folder,
// and where the right one is when it can tell.
func checkMiniWoBDir(dir string) error {
	_, err := miniwobTasks(dir)
	return err
}

// miniwobTasks lists the task names of a MiniWoB++ html folder: its
// miniwob/*.html files.
func miniwobTasks(dir string) ([]string, error) {
	fi, err := os.Stat(dir)
	if err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a directory: give the miniwob/html folder of a MiniWoB++ checkout (git clone https://github.com/Farama-Foundation/miniwob-plusplus; then --miniwob-dir miniwob-plusplus/miniwob/html)", dir)
	}
	expect := func() error {
		hint := ""
		for _, alt := range []string{filepath.Join(dir, "miniwob", "html"), filepath.Join(dir, "html"), filepath.Dir(filepath.Clean(dir))} {
			if isFile(filepath.Join(alt, "core", "core.js")) {
				hint = fmt.Sprintf("; %s looks like the one: --miniwob-dir %s", alt, alt)
				break
			}
		}
		return fmt.Errorf("%s is not a MiniWoB++ html folder: expected %s (the protocol's core) and task pages %s%s", dir, filepath.Join(dir, "core", "core.js"), filepath.Join(dir, "miniwob", "*.html"), hint)
	}
	if !isFile(filepath.Join(dir, "core", "core.js")) {
		return nil, expect()
	}
	pages, err := filepath.Glob(filepath.Join(dir, "miniwob", "*.html"))
	if err != nil || len(pages) == 0 {
		return nil, expect()
	}
	names := make([]string, 0, len(pages))
	for _, p := range pages {
		n := strings.TrimSuffix(filepath.Base(p), ".html")
		if taskName.MatchString(n) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names, nil
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

func loadMiniWoB(ctx context.Context, o evals.LoadOptions) (*evals.Loaded, error) {
	dir := o.Params["dir"]
	names, err := miniwobTasks(dir)
	if err != nil {
		return nil, err
	}
	if want := o.Params["tasks"]; want != "" {
		var keep []string
		for _, n := range strings.Split(want, ",") {
			n = strings.TrimSpace(n)
			if !slices.Contains(names, n) {
				return nil, fmt.Errorf("the MiniWoB folder %s has no task %q (miniwob/%s.html); it has %d, such as %s", dir, n, n, len(names), strings.Join(names[:min(5, len(names))], ", "))
			}
			if !slices.Contains(keep, n) {
				keep = append(keep, n)
			}
		}
		names = keep
	}
	seeds, maxTime := 5, int64(miniwobMaxTime)
	if v := o.Params["seeds"]; v != "" {
		seeds, _ = strconv.Atoi(v)
	}
	if v := o.Params["max-time-ms"]; v != "" {
		maxTime, _ = strconv.ParseInt(v, 10, 64)
	}
	srv, err := serveLocal(ctx, http.FileServer(http.Dir(dir)))
	if err != nil {
		return nil, fmt.Errorf("serve %s: %w", dir, err)
	}
	l := &evals.Loaded{Suite: evals.Suite{Name: "miniwob/" + o.Split}, Close: srv.Close}
	for _, n := range names {
		for k := range seeds {
			l.Suite.Tasks = append(l.Suite.Tasks, env.Task{
				ID:          fmt.Sprintf("%s.s%d", n, k),
				Suite:       l.Suite.Name,
				Instruction: "the MiniWoB task " + n + " (its page gives the instruction when the episode starts)",
				StartURL:    srv.url + "/miniwob/" + n + ".html",
				Seed:        o.Seed*1000 + int64(k),
			})
		}
	}
	l.NewEnv = func(_ context.Context, w int) (env.Env, error) {
		e, err := newWeb(o, w)
		if err != nil {
			return nil, err
		}
		return web.WithHooks(e, func(t env.Task) web.Hooks { return MiniWoBHooks(t, maxTime) }), nil
	}
	return l, nil
}

// MiniWoBHooks are the protocol of one MiniWoB++ episode: the setup
// seeds the page, lifts core.EPISODE_MAX_TIME to maxTime ms, hides the
// human display (the START cover, the reward display) and starts the
// episode; the instruction is core.getUtterance(); after every step the
// scorer reads WOB_DONE_GLOBAL, WOB_RAW_REWARD_GLOBAL and
// WOB_REWARD_GLOBAL. A page that leaves the task's URL ends the episode
// with reward 0, as BrowserGym ends it.
func MiniWoBHooks(t env.Task, maxTime int64) web.Hooks {
	return web.Hooks{
		Setup:       fmt.Sprintf(miniwobSetup, t.Seed, maxTime),
		Instruction: "core.getUtterance()",
		Reward: func(ctx context.Context, p web.Page, turn web.Turn) (web.Score, error) {
			return miniwobScore(ctx, p, t)
		},
	}
}

// miniwobSetup starts an episode; its arguments are the seed and the time
// limit in ms.
const miniwobSetup = `(() => {
  if (typeof core === 'undefined' || typeof core.startEpisodeReal !== 'function' || typeof Math.seedrandom !== 'function') {
    throw new Error('this page does not speak the MiniWoB protocol: it has no core.startEpisodeReal or Math.seedrandom (is core/core.js served beside miniwob/?)');
  }
  const hide = document.createElement('style');
  hide.textContent = '#sync-task-cover, #reward-display, #click-canvas { display: none !important; }';
  document.head.appendChild(hide);
  Math.seedrandom(%d);
  core.EPISODE_MAX_TIME = %d;
  core.startEpisodeReal();
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    (function ready() {
      if (typeof WOB_TASK_READY === 'undefined' || WOB_TASK_READY) return resolve(true);
      if (Date.now() - t0 > 4000) return reject(new Error('WOB_TASK_READY did not become true within 4s of core.startEpisodeReal()'));
      setTimeout(ready, 5);
    })();
  });
})()`

// miniwobState reads the protocol's globals.
const miniwobState = `({
  done: typeof WOB_DONE_GLOBAL === 'undefined' ? null : WOB_DONE_GLOBAL,
  raw: typeof WOB_RAW_REWARD_GLOBAL === 'undefined' ? null : WOB_RAW_REWARD_GLOBAL,
  reward: typeof WOB_REWARD_GLOBAL === 'undefined' ? null : WOB_REWARD_GLOBAL,
  reason: typeof WOB_REWARD_REASON === 'undefined' ? null : WOB_REWARD_REASON,
  url: location.href
})`

func miniwobScore(ctx context.Context, p web.Page, t env.Task) (web.Score, error) {
	v, err := p.Evaluate(ctx, miniwobState)
	if err != nil {
		return web.Score{}, fmt.Errorf("read the MiniWoB globals: %w", err)
	}
	var s struct {
		Done   *bool    `json:"done"`
		Raw    *float64 `json:"raw"`
		Reward *float64 `json:"reward"`
		Reason any      `json:"reason"`
		URL    string   `json:"url"`
	}
	if err := json.Unmarshal(v, &s); err != nil {
		return web.Score{}, fmt.Errorf("read the MiniWoB globals: %w", err)
	}
	if u, _, _ := strings.Cut(s.URL, "#"); u != t.StartURL {
		no := false
		return web.Score{Done: true, Success: &no, Reason: "the page left the task (" + s.URL + ")"}, nil
	}
	if s.Done == nil || s.Raw == nil || s.Reward == nil {
		return web.Score{}, errors.New("the page lacks WOB_DONE_GLOBAL, WOB_RAW_REWARD_GLOBAL or WOB_REWARD_GLOBAL: it does not speak the MiniWoB protocol")
	}
	ok := *s.Raw > 0
	sc := web.Score{Done: *s.Done, Success: &ok, Info: map[string]any{"wob_raw_reward": *s.Raw, "wob_reward": *s.Reward}}
	if s.Reason != nil {
		sc.Info["wob_reason"] = s.Reason
	}
	if *s.Done {
		sc.Reason = "the page ended the episode"
		if ok {
			sc.Reward = 1
		}
	}
	return sc, nil
}

// miniwobOracle solves two task families from their utterances, as a
// scripted check of the protocol: click-button ("Click on the "X"
// button.") and enter-text ("Enter "X" into the text field and press
// Submit."). It knows no other task.
type miniwobOracle struct{ filled bool }

var (
	clickButtonUtterance = regexp.MustCompile(`^Click on the "(.*)" button\.$`)
	enterTextUtterance   = regexp.MustCompile(`^Enter "(.*)" into the text field and press Submit\.$`)
)

func (m *miniwobOracle) Act(ctx context.Context, in policy.Input) (policy.Decision, error) {
	if err := ctx.Err(); err != nil {
		return policy.Decision{}, err
	}
	u := in.Task.Instruction
	if g := clickButtonUtterance.FindStringSubmatch(u); g != nil {
		id, ok := lineID(in.Obs.Text, "button", g[1])
		if !ok {
			return policy.Decision{}, fmt.Errorf("miniwob expert: no button %q in the page", g[1])
		}
		return policy.Decision{Action: env.A("click", id)}, nil
	}
	if g := enterTextUtterance.FindStringSubmatch(u); g != nil {
		if !m.filled {
			id, ok := lineID(in.Obs.Text, "textbox", "")
			if !ok {
				return policy.Decision{}, errors.New("miniwob expert: no text field in the page")
			}
			m.filled = true
			return policy.Decision{Action: env.A("fill", id, g[1])}, nil
		}
		id, ok := lineID(in.Obs.Text, "button", "Submit")
		if !ok {
			return policy.Decision{}, errors.New("miniwob expert: no Submit button in the page")
		}
		return policy.Decision{Action: env.A("click", id)}, nil
	}
	return policy.Decision{}, fmt.Errorf("miniwob expert: it solves click-button and enter-text only, not %q: run a model (--model) on this task", u)
}

// lineID finds the id of the first element line of role with the name
// (any name when name is "").
func lineID(text, role, name string) (string, bool) {
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "[") {
			continue
		}
		end := strings.Index(line, "] ")
		if end < 0 {
			continue
		}
		rest := line[end+2:]
		if rest != role && !strings.HasPrefix(rest, role+" ") {
			continue
		}
		if name == "" || strings.HasPrefix(strings.TrimPrefix(rest, role+" "), strconv.Quote(name)) {
			return line[1:end], true
		}
	}
	return "", false
}
