package tasks_test

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
	"github.com/pilotkit/pilot/evals/tasks"
	"github.com/pilotkit/pilot/policy"
	"github.com/pilotkit/pilot/policy/openai"
	"github.com/pilotkit/pilot/policy/openai/openaitest"
)

func TestMain(m *testing.M) { webtest.Main(m) }

const taskFile = "../../testdata/tasks/tasks.jsonl"

func sharedBrowser(t *testing.T) string {
	t.Helper()
	u, err := webtest.Browser(func(ctx context.Context) (string, func() error, error) { return web.Launch(ctx, web.Options{}) })
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// open loads a task file as a suite on engine and returns it with a
// worker's env.
func open(t *testing.T, path, engine string, judge policy.Model) (*evals.Loaded, env.Env) {
	t.Helper()
	return openWith(t, path, evals.LoadOptions{Engine: engine, Judge: judge})
}

func openWith(t *testing.T, path string, o evals.LoadOptions) (*evals.Loaded, env.Env) {
	t.Helper()
	d, err := suites.TaskFile(path)
	if err != nil {
		t.Fatal(err)
	}
	engine := o.Engine
	if engine == evals.EngineChromium {
		o.BrowserURL = sharedBrowser(t)
	}
	l, err := d.Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Error(err)
		}
	})
	e, err := l.NewEnv(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return l, e
}

// play runs the task with the actions (text form), each found in the
// page by a label: "click:Blue mug" clicks the first element line with
// that text; anything else is an action as written.
func play(t *testing.T, e env.Env, l *evals.Loaded, id string, steps ...string) (*agent.Trajectory, error) {
	t.Helper()
	task, err := l.Task(id)
	if err != nil {
		t.Fatal(err)
	}
	p := policy.Func(func(_ context.Context, in policy.Input) (policy.Decision, error) {
		if in.Step >= len(steps) {
			return policy.Decision{}, policy.ErrDone
		}
		s := steps[in.Step]
		if verb, label, ok := strings.Cut(s, ":"); ok && (verb == "click" || verb == "fill" || verb == "select") {
			text, arg, _ := strings.Cut(label, "=")
			id := ""
			for _, line := range strings.Split(in.Obs.Text, "\n") {
				line = strings.TrimSpace(line)
				if strings.HasPrefix(line, "[") && strings.Contains(line, text) {
					id = line[1:strings.Index(line, "]")]
					break
				}
			}
			if id == "" {
				return policy.Decision{}, errors.New("no element " + text + " in\n" + in.Obs.Text)
			}
			switch verb {
			case "click":
				return policy.Decision{Action: env.A("click", id)}, nil
			case "fill":
				return policy.Decision{Action: env.A("fill", id, arg)}, nil
			}
			return policy.Decision{Action: env.A("select_option", id, arg)}, nil
		}
		a, err := env.ParseAction(s)
		return policy.Decision{Action: a}, err
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return agent.Run(ctx, e, task, p, agent.Options{MaxSteps: 20})
}

func evaluations(traj *agent.Trajectory) []tasks.Evaluation {
	if len(traj.Steps) == 0 {
		return nil
	}
	ev, _ := traj.Steps[len(traj.Steps)-1].Info["evaluations"].([]tasks.Evaluation)
	return ev
}

// Each evaluator kind scores as it says, on lite (the tasks that run no
// scripts) and in Chromium: the answer (exact, must_include), the URL,
// an element, a program; the task's step limit scores the episode too.
func TestEvaluators(t *testing.T) {
	t.Parallel()
	for _, engine := range []string{evals.EngineLite, evals.EngineChromium} {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			l, e := open(t, taskFile, engine, nil)
			for _, c := range []struct {
				id     string
				steps  []string
				reward float64
				detail string
			}{
				{"price", []string{"click:Blue mug", `stop("$12.50")`}, 1, ""},
				{"price", []string{"click:Blue mug", `stop("12.50")`}, 0, `the answer "12.50" is not "$12.50"`},
				{"price-words", []string{"click:Blue mug", `stop("It is $12.50 for 350 ml")`}, 1, ""},
				{"price-words", []string{"click:Blue mug", `stop("$12.50")`}, 0, `lacks "350 ml"`},
				{"price-words", []string{`stop("12.50, 350 ml")`}, 0, "/blue.html"},
				{"order", []string{"fill:textbox=Ada", "select:combobox=green", "click:Place order", "stop()"}, 1, ""},
				{"order", []string{"fill:textbox=Ada", "click:Place order", "stop()"}, 0, "lacks the query colour=green"},
				{"order-checked", []string{"fill:textbox=Ada", "click:Place order", "stop()"}, 1, ""},
				{"order-checked", []string{"fill:textbox=Bob", "click:Place order", "stop()"}, 0, "no order for Ada"},
			} {
				traj, err := play(t, e, l, c.id, c.steps...)
				if err != nil {
					t.Fatalf("%s %v: %v", c.id, c.steps, err)
				}
				if traj.Return != c.reward || !traj.Terminated {
					t.Errorf("%s %v: return %v terminated %v, want %v; %+v", c.id, c.steps, traj.Return, traj.Terminated, c.reward, evaluations(traj))
				}
				if c.detail != "" && !strings.Contains(traj.Steps[len(traj.Steps)-1].Info["evaluations"].([]tasks.Evaluation)[0].Detail+detailAll(traj), c.detail) {
					t.Errorf("%s %v: evaluations %+v, want a detail saying %q", c.id, c.steps, evaluations(traj), c.detail)
				}
				if got := traj.Steps[len(traj.Steps)-1].Info[env.InfoSuccess]; got != (c.reward == 1) {
					t.Errorf("%s %v: success %v", c.id, c.steps, got)
				}
			}
			// The task's step limit (5) ends the episode, truncated,
			// and it is scored: no answer.
			traj, err := play(t, e, l, "price", "noop()", "noop()", "noop()", "noop()", "noop()", "noop()")
			if err != nil {
				t.Fatal(err)
			}
			if !traj.Terminated || traj.Reason != "the task's step limit 5 reached; the episode is scored there" || len(traj.Steps) != 5 || traj.Return != 0 || traj.Success || !strings.Contains(detailAll(traj), "did not stop") {
				t.Errorf("step limit: terminated %v %q after %d steps, return %v, %+v", traj.Terminated, traj.Reason, len(traj.Steps), traj.Return, evaluations(traj))
			}
			// The run's own step limit (the agent's) scores the episode
			// too, and one that passes there is a success.
			lr, er := openWith(t, taskFile, evals.LoadOptions{Engine: engine, MaxSteps: 3})
			traj, err = play(t, er, lr, "order", "fill:textbox=Ada", "select:combobox=green", "click:Place order", "noop()")
			if err != nil {
				t.Fatal(err)
			}
			if !traj.Success || traj.Return != 1 || len(traj.Steps) != 3 || traj.Reason != "the run's step limit 3 reached; the episode is scored there" {
				t.Errorf("the run's limit: success %v return %v after %d steps, %q, %+v", traj.Success, traj.Return, len(traj.Steps), traj.Reason, evaluations(traj))
			}
			// The task's rule gates its order button.
			task, _ := l.Task("order")
			obs, err := e.Reset(context.Background(), task)
			if err != nil {
				t.Fatal(err)
			}
			btn := ""
			for _, line := range strings.Split(obs.Text, "\n") {
				if strings.Contains(line, `button "Place order"`) {
					btn = strings.TrimSpace(line)[1:strings.Index(strings.TrimSpace(line), "]")]
				}
			}
			if why := e.(env.Irreversible).Irreversible(obs, env.A("click", btn)); !strings.Contains(why, "Place order") {
				t.Errorf("the task's irreversible rule did not flag the order button %s: %q", btn, why)
			}
		})
	}
}

func detailAll(traj *agent.Trajectory) string {
	var s []string
	for _, ev := range evaluations(traj) {
		s = append(s, ev.Detail)
	}
	return strings.Join(s, "; ")
}

// A js evaluator is read after every step and ends the episode when the
// page says it is done; init runs before the page's scripts and setup
// after; lite refuses such a task at its reset.
func TestJSEvaluatorInChromium(t *testing.T) {
	t.Parallel()
	l, e := open(t, taskFile, evals.EngineChromium, nil)
	traj, err := play(t, e, l, "stamps", `click:button "Stamp"`, `click:button "Stamp"`, `click:button "Stamp"`, `click:button "Stamp"`)
	if err != nil {
		t.Fatal(err)
	}
	if len(traj.Steps) != 2 || traj.Steps[0].Reward != 0.5 || traj.Steps[0].Terminated || traj.Steps[1].Reward != 1 || !traj.Terminated || traj.Reason != "the task's page says it is done" {
		t.Errorf("stamps: %d steps, rewards %v %v, terminated %v %q", len(traj.Steps), traj.Steps[0].Reward, traj.Steps[len(traj.Steps)-1].Reward, traj.Terminated, traj.Reason)
	}
	if !strings.Contains(traj.Reset.Text, "Title: Stamp card (2 stamps)") || !strings.Contains(traj.Reset.Text, "of 2") {
		t.Errorf("init and setup did not run in order:\n%s", traj.Reset.Text)
	}
	ll, le := open(t, taskFile, evals.EngineLite, nil)
	_, err = play(t, le, ll, "stamps", "noop()")
	if !errors.Is(err, env.ErrEvaluate) || !strings.Contains(err.Error(), "runs JavaScript of its own") {
		t.Errorf("lite ran a scripted task: %v", err)
	}
}

// Evaluators that fail are errors of the episode, not crashes: an
// expression that throws or never returns, a setup that navigates away, a
// program that fails or hangs; the next episode runs.
func TestEvaluatorFaults(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.Symlink(filepath.Join(mustAbs(t, "../../testdata/tasks"), "site"), filepath.Join(dir, "site")); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "faults.jsonl")
	lines := []string{
		`{"id": "throws", "instruction": "x", "serve": "site", "start_url": "/counter.html", "evaluate": {"js": "window.nothing.here"}}`,
		`{"id": "hangs", "instruction": "x", "serve": "site", "start_url": "/counter.html", "evaluate": {"js": "new Promise(() => {})"}}`,
		`{"id": "bad-value", "instruction": "x", "serve": "site", "start_url": "/counter.html", "evaluate": {"js": "'yes'"}}`,
		`{"id": "leaves", "instruction": "x", "serve": "site", "start_url": "/counter.html", "setup": "location.href = '/blue.html'", "evaluate": {"answer": {"exact": "x"}}}`,
		`{"id": "program-fails", "instruction": "x", "serve": "site", "start_url": "/index.html", "evaluate": {"program": {"command": ["sh", "-c", "echo broken >&2; exit 3"]}}}`,
		`{"id": "program-hangs", "instruction": "x", "serve": "site", "start_url": "/index.html", "evaluate": {"program": {"command": ["sleep", "30"], "timeout": "1s"}}}`,
		`{"id": "fine", "instruction": "x", "serve": "site", "start_url": "/index.html", "evaluate": {"answer": {"exact": "ok"}}}`,
	}
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	l, e := open(t, file, evals.EngineChromium, nil)
	for _, c := range []struct{ id, want string }{
		{"throws", "js evaluator: window.nothing.here threw TypeError"},
		{"hangs", "did not return within 5s"},
		{"bad-value", `gave "yes": want true or false, a reward from 0 to 1, or {reward, done, success}`},
		{"leaves", "the setup script navigated away from"},
		{"program-fails", "program sh -c echo broken >&2; exit 3: exit status 3: broken"},
		{"program-hangs", "program sleep 30 did not finish within 1s"},
	} {
		traj, err := play(t, e, l, c.id, "noop()", `stop("x")`)
		if !errors.Is(err, env.ErrEvaluate) || !strings.Contains(err.Error(), c.want) || traj == nil {
			t.Errorf("%s: %v, want the evaluator's error saying %q", c.id, err, c.want)
		}
		if o, k := evals.Classify(err, false); o != evals.OutcomeError || k != evals.KindEvaluate {
			t.Errorf("%s: classified %s %s", c.id, o, k)
		}
	}
	traj, err := play(t, e, l, "fine", `stop("OK")`)
	if err != nil || traj.Return != 1 {
		t.Errorf("after the faults: %v return %v", err, traj.Return)
	}
}

func mustAbs(t *testing.T, p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// A fuzzy answer is judged by the model (through its real wire format),
// and the verdict is marked as judged; without a judge the episode is the
// task's error.
func TestFuzzyJudge(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "fuzzy.yaml")
	if err := os.Symlink(filepath.Join(mustAbs(t, "../../testdata/tasks"), "site"), filepath.Join(dir, "site")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte("- id: fuzzy\n  instruction: How big is the blue mug?\n  serve: site\n  evaluate: {answer: {fuzzy: 350 millilitres}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := openaitest.NewServer(t, func(r openaitest.ChatRequest) openaitest.Reply {
		if strings.Contains(r.Text(), `Agent's answer: "about a third of a litre"`) && strings.Contains(r.Text(), `Reference answer: "350 millilitres"`) {
			return openaitest.Reply{Text: "Yes."}
		}
		return openaitest.Reply{Text: "no"}
	})
	m, err := openai.New(openai.Options{Model: "judge-1", BaseURL: srv.URL, APIKey: "test"})
	if err != nil {
		t.Fatal(err)
	}
	l, e := open(t, file, evals.EngineLite, m)
	for answer, want := range map[string]float64{"about a third of a litre": 1, "a pint": 0} {
		traj, err := play(t, e, l, "fuzzy", `stop("`+answer+`")`)
		if err != nil {
			t.Fatal(err)
		}
		last := traj.Steps[len(traj.Steps)-1]
		if traj.Return != want || last.Info["judged"] != true || !evaluations(traj)[0].Judged {
			t.Errorf("%q: return %v info %v", answer, traj.Return, last.Info)
		}
	}
	// The run's secrets do not reach the judge.
	ls, es := openWith(t, file, evals.LoadOptions{Engine: evals.EngineLite, Judge: m, Secrets: env.Secrets{"pin": "4242"}})
	if _, err := play(t, es, ls, "fuzzy", `stop("my pin is 4242")`); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	if last := reqs[len(reqs)-1].Text(); strings.Contains(last, "4242") || !strings.Contains(last, "my pin is <secret:pin>") {
		t.Errorf("the judge was sent:\n%s", last)
	}
	l2, e2 := open(t, file, evals.EngineLite, nil)
	if _, err := play(t, e2, l2, "fuzzy", `stop("x")`); !errors.Is(err, env.ErrEvaluate) || !strings.Contains(err.Error(), "give pilot a judge (--judge MODEL)") {
		t.Errorf("no judge: %v", err)
	}
}

// What the agent typed is in the HTML the evaluators read, on both
// engines; a js evaluator that throws before the end scores 0 there and
// is read again; {success} decides a js evaluator's pass; a one-word
// must_include is a word of the answer; a value that is not JSON is an
// error at the end.
func TestEvaluatorDetails(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.Symlink(filepath.Join(mustAbs(t, "../../testdata/tasks"), "site"), filepath.Join(dir, "site")); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "details.jsonl")
	lines := []string{
		`{"id": "typed", "instruction": "x", "serve": "site", "start_url": "/order.html", "evaluate": [{"element": {"selector": "input[name=name]", "exact": "Ada"}}, {"element": {"selector": "option[selected]", "exact": "green"}}]}`,
		`{"id": "word", "instruction": "x", "serve": "site", "start_url": "/index.html", "evaluate": {"answer": {"must_include": ["1"]}}}`,
		`{"id": "late", "instruction": "x", "serve": "site", "start_url": "/order.html", "evaluate": {"js": "document.querySelector('#done').textContent.includes('Thank you')"}}`,
		`{"id": "said", "instruction": "x", "serve": "site", "start_url": "/counter.html", "evaluate": {"js": "({reward: 0.5, done: window.stamps > 0, success: window.stamps > 0})"}}`,
		`{"id": "nan", "instruction": "x", "serve": "site", "start_url": "/counter.html", "evaluate": {"js": "window.nope / 2"}}`,
	}
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, engine := range []string{evals.EngineLite, evals.EngineChromium} {
		l, e := open(t, file, engine, nil)
		traj, err := play(t, e, l, "typed", "fill:textbox=Ada", "select:combobox=green", "stop()")
		if err != nil || traj.Return != 1 {
			t.Errorf("%s: the typed name and the chosen colour: %v return %v %+v", engine, err, traj.Return, evaluations(traj))
		}
		for answer, want := range map[string]float64{"10 mugs": 0, "1 mug": 1} {
			traj, err = play(t, e, l, "word", `stop("`+answer+`")`)
			if err != nil || traj.Return != want {
				t.Errorf("%s: must_include 1 in %q: %v return %v", engine, answer, err, traj.Return)
			}
		}
	}
	l, e := open(t, file, evals.EngineChromium, nil)
	traj, err := play(t, e, l, "late", "fill:textbox=Ada", "click:Place order", "noop()")
	if err != nil || !traj.Success || len(traj.Steps) != 2 || traj.Steps[0].Reward != 0 {
		t.Errorf("late: %v success %v after %d steps", err, traj.Success, len(traj.Steps))
	}
	traj, err = play(t, e, l, "said", `click:button "Stamp"`)
	if err != nil || !traj.Success || traj.Return != 1 {
		t.Errorf("said: %v success %v return %v", err, traj.Success, traj.Return)
	}
	_, err = play(t, e, l, "nan", "noop()", "stop()")
	if !errors.Is(err, env.ErrEvaluate) || !strings.Contains(err.Error(), "window.nope / 2 gave NaN, which is not JSON") {
		t.Errorf("nan: %v", err)
	}
}
