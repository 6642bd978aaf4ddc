package suites_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pilotkit/pilot/agent"
	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/env/web"
	"github.com/pilotkit/pilot/env/web/webtest"
	"github.com/pilotkit/pilot/evals"
	"github.com/pilotkit/pilot/evals/suites"
	"github.com/pilotkit/pilot/policy"
)

func TestMain(m *testing.M) { webtest.Main(m) }

// miniwobDir is pilot's MiniWoB-protocol test tasks.
const miniwobDir = "../../testdata/miniwob"

func sharedBrowser(t *testing.T) string {
	t.Helper()
	u, err := webtest.Browser(func(ctx context.Context) (string, func() error, error) { return web.Launch(ctx, web.Options{}) })
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func openMiniWoB(t *testing.T, params map[string]string) *evals.Loaded {
	t.Helper()
	if params["dir"] == "" {
		params["dir"] = miniwobDir
	}
	l, err := suites.MiniWoB().Open(context.Background(), evals.LoadOptions{Seed: 1, Params: params, BrowserURL: sharedBrowser(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Error(err)
		}
	})
	return l
}

func newEnvOf(t *testing.T, l *evals.Loaded) env.Env {
	t.Helper()
	e, err := l.NewEnv(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// The expert solves the protocol's test tasks: every episode is seeded,
// started and scored by the page, its instruction is the page's utterance,
// and the START cover is not in the observation.
func TestMiniWoBProtocol(t *testing.T) {
	t.Parallel()
	l := openMiniWoB(t, map[string]string{"seeds": "3"})
	if len(l.Suite.Tasks) != 6 || l.Suite.Tasks[0].ID != "click-button.s0" || l.Suite.Tasks[5].ID != "enter-text.s2" {
		t.Fatalf("tasks: %+v", l.Suite.Tasks)
	}
	e := newEnvOf(t, l)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	utterances := map[string]bool{}
	byTask := map[string]string{}
	for _, task := range l.Suite.Tasks {
		rec := &resetText{}
		traj, err := agent.Run(ctx, e, task, suites.MiniWoB().Expert(task), agent.Options{MaxSteps: 20, Observers: []agent.Observer{rec}})
		if err != nil {
			t.Fatalf("%s: %v", task.ID, err)
		}
		instr := traj.Task.Instruction
		if !strings.HasPrefix(instr, "Click on the \"") && !strings.HasPrefix(instr, "Enter \"") {
			t.Errorf("%s: the instruction is %q, not the page's utterance", task.ID, instr)
		}
		utterances[instr] = true
		byTask[task.ID] = instr
		if strings.Contains(rec.text, "START") {
			t.Errorf("%s: the START cover is in the observation:\n%s", task.ID, rec.text)
		}
		last := traj.Steps[len(traj.Steps)-1]
		if !traj.Terminated || traj.Return != 1 || last.Info["wob_raw_reward"] != 1.0 || last.Info[env.InfoSuccess] != true || last.Reason != "the page ended the episode" {
			t.Errorf("%s: terminated %v return %v, last step %+v", task.ID, traj.Terminated, traj.Return, last)
		}
		if r, ok := last.Info["wob_reward"].(float64); !ok || r <= 0.9 || r > 1 {
			t.Errorf("%s: the time-discounted reward is %v (the limit is lifted: near 1)", task.ID, last.Info["wob_reward"])
		}
	}
	if len(utterances) < 3 {
		t.Errorf("the seeds drew %d different utterances in 6 episodes: %v", len(utterances), utterances)
	}
	// The same seed draws the same problem, task by task.
	for _, task := range l.Suite.Tasks {
		if _, err := e.Reset(ctx, task); err != nil {
			t.Fatal(err)
		}
		if got := e.(env.Briefer).Brief(); got != byTask[task.ID] {
			t.Errorf("%s: the seed drew %q, then %q", task.ID, byTask[task.ID], got)
		}
	}
}

type resetText struct{ text string }

func (r *resetText) OnEvent(_ context.Context, ev agent.Event) error {
	if ev.Kind == agent.EventReset {
		r.text = ev.Obs.Text
	}
	return nil
}

// A wrong click fails the episode as the page says; the page's own timer
// ends an episode that takes too long.
func TestMiniWoBFailures(t *testing.T) {
	t.Parallel()
	l := openMiniWoB(t, map[string]string{"tasks": "click-button", "seeds": "1", "max-time-ms": "1500"})
	e := newEnvOf(t, l)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	task := l.Suite.Tasks[0]
	wrong := policy.Func(func(_ context.Context, in policy.Input) (policy.Decision, error) {
		for _, line := range strings.Split(in.Obs.Text, "\n") {
			line = strings.TrimSpace(line)
			if strings.Contains(line, "] button \"") && !strings.Contains(in.Task.Instruction, line[strings.Index(line, "\""):]) {
				return policy.Decision{Action: env.A("click", line[1:strings.Index(line, "]")])}, nil
			}
		}
		return policy.Decision{}, errors.New("no other button")
	})
	traj, err := agent.Run(ctx, e, task, wrong, agent.Options{MaxSteps: 5})
	if err != nil {
		t.Fatal(err)
	}
	last := traj.Steps[len(traj.Steps)-1]
	if !traj.Terminated || traj.Return != 0 || last.Info["wob_raw_reward"] != -1.0 || last.Info[env.InfoSuccess] != false {
		t.Errorf("wrong button: terminated %v return %v last %+v", traj.Terminated, traj.Return, last)
	}
	// wait returns when the page changes: the page's timer, at 1.5 s.
	traj, err = agent.Run(ctx, e, task, policy.Replay([]env.Action{env.A("wait", "10000"), env.A("wait", "10000")}), agent.Options{MaxSteps: 5})
	if err != nil {
		t.Fatal(err)
	}
	last = traj.Steps[len(traj.Steps)-1]
	if !traj.Terminated || traj.Return != 0 || last.Info["wob_reason"] != "timed out" {
		t.Errorf("timed out: terminated %v return %v last %+v", traj.Terminated, traj.Return, last)
	}
}

// Bad folders and parameters are refused before anything runs, saying
// what was expected; a page without the protocol fails its reset as the
// task's fault.
func TestMiniWoBBadInput(t *testing.T) {
	t.Parallel()
	d := suites.MiniWoB()
	check := func(params map[string]string) error {
		o := evals.LoadOptions{Params: params}
		return d.Check(&o)
	}
	for _, c := range []struct {
		params map[string]string
		want   string
	}{
		{map[string]string{}, "suite miniwob needs its parameter dir"},
		{map[string]string{"dir": "/no/such/dir"}, "/no/such/dir is not a directory: give the miniwob/html folder of a MiniWoB++ checkout"},
		{map[string]string{"dir": miniwobDir + "/miniwob"}, "is not a MiniWoB++ html folder: expected " + miniwobDir + "/miniwob/core/core.js"},
		{map[string]string{"dir": miniwobDir + "/miniwob"}, "looks like the one: --miniwob-dir " + filepath.Clean(miniwobDir)},
		{map[string]string{"dir": miniwobDir, "max-time-ms": "2147483648"}, "overflows the page's setTimeout"},
		{map[string]string{"dir": miniwobDir, "seeds": "0"}, "want a whole number from 1 to 1000"},
		{map[string]string{"dir": miniwobDir, "tasks": "Click Button"}, `task name "Click Button"`},
	} {
		if err := check(c.params); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.params, err, c.want)
		}
	}
	if _, err := d.Open(context.Background(), evals.LoadOptions{Params: map[string]string{"dir": miniwobDir, "tasks": "click-checkboxes"}}); err == nil || !strings.Contains(err.Error(), `has no task "click-checkboxes" (miniwob/click-checkboxes.html); it has 2, such as click-button, enter-text`) {
		t.Errorf("unknown task: %v", err)
	}

	dir := t.TempDir()
	for name, body := range map[string]string{
		"core/core.js":        "var core = {};",
		"miniwob/plain.html":  "<!doctype html><title>plain</title><button>Ok</button>",
		"miniwob/throws.html": "<!doctype html><script src=../core/core.js></script><script>Math.seedrandom = function(){}; core.startEpisodeReal = function(){ throw new Error('no problem to draw') }</script>",
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	l := openMiniWoB(t, map[string]string{"dir": dir, "seeds": "1"})
	e := newEnvOf(t, l)
	for _, c := range []struct{ id, want string }{
		{"plain.s0", "this page does not speak the MiniWoB protocol"},
		{"throws.s0", "no problem to draw"},
	} {
		task, err := l.Task(c.id)
		if err != nil {
			t.Fatal(err)
		}
		traj, err := agent.Run(context.Background(), e, task, suites.MiniWoB().Expert(task), agent.Options{MaxSteps: 3})
		if !errors.Is(err, env.ErrEvaluate) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want the task's error saying %q", c.id, err, c.want)
		}
		if o, k := evals.Classify(err, false); o != evals.OutcomeError || k != evals.KindEvaluate || traj == nil {
			t.Errorf("%s: classified %s/%s", c.id, o, k)
		}
	}
}
