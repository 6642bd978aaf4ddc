package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pilotkit/pilot/policy/openai/openaitest"
)

// A replayed episode whose first action asks the person at the terminal:
// the question on stderr, the answer read from stdin, both in the step
// line and the recorded trajectory.
func TestRunAsksTheTerminal(t *testing.T) {
	t.Parallel()
	solve, err := os.ReadFile(filepath.Join("..", "..", "evals", "suites", "demosuite", "solve.actions"))
	if err != nil {
		t.Fatal(err)
	}
	plan := writePlan(t, `ask_user("Which mug should I look for?")`, string(solve))
	rec := t.TempDir()
	var out, errb bytes.Buffer
	code := runIO(context.Background(), []string{"run", "--serve", "../../evals/suites/demosuite", "--url", "/index.html", "--policy", "replay", "--actions", plan,
		"--answer", "$12.50", "--human", "terminal", "--record", rec}, strings.NewReader("the blue one\n"), &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	if !strings.Contains(errb.String(), "pilot asks (step 0): Which mug should I look for?") {
		t.Errorf("stderr has no question:\n%s", errb.String())
	}
	if !strings.Contains(out.String(), `step 0  ask_user("Which mug should I look for?")  answer (terminal, `) || !strings.Contains(out.String(), "): the blue one") || !strings.Contains(out.String(), "reward 1") {
		t.Errorf("stdout:\n%s\nwant the question's step with the answer, and the episode solved", out.String())
	}
	b, err := os.ReadFile(filepath.Join(rec, "trajectory.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"tool":{"name":"ask_user","question":"Which mug should I look for?","answer":{"text":"the blue one","by":"terminal"}`) || !strings.Contains(string(b), `"questions":1`) {
		t.Errorf("the trajectory does not record the question and its answer:\n%.1500s", b)
	}
}

// A secret typed by the agent is in no artifact of the run: the
// trajectory, the screenshots' index, stdout, stderr. The page got the
// value: the URL it led to is the one with the value, masked.
func TestSecretsNeverLeak(t *testing.T) {
	const card = "4111111111111111"
	t.Setenv("PILOT_SECRET_CARD_NUMBER", card)
	site := t.TempDir()
	page := `<!doctype html><html><head><title>Pay</title></head><body><form action="/paid.html">
<input name="card" aria-label="Card number" oninput="document.getElementById('n').textContent = this.value.length + ' digits, starting ' + this.value.slice(0, 2)">
<p id="n"></p><button>Pay</button></form></body></html>`
	if err := os.WriteFile(filepath.Join(site, "index.html"), []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(site, "paid.html"), []byte(`<!doctype html><title>Paid</title><p>Paid.</p>`), 0o644); err != nil {
		t.Fatal(err)
	}
	plan := writePlan(t, `fill("2", "<secret:card_number>")`, `click("4")`, `stop("done")`)
	rec := t.TempDir()
	var out, errb bytes.Buffer
	code := runIO(context.Background(), []string{"run", "--serve", site, "--url", "/index.html", "--policy", "replay", "--actions", plan,
		"--record", rec, "--screenshot", "png", "-v"}, strings.NewReader(""), &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "16 digits, starting 41") || !strings.Contains(out.String(), "card=<secret:card_number>") {
		t.Errorf("the page did not get the value (16 digits, and the form's URL with it, masked):\n%s", out.String())
	}
	leaks := map[string]string{"stdout": out.String(), "stderr": errb.String()}
	filepath.WalkDir(rec, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(path)
			leaks[path] = string(b)
		}
		return nil
	})
	for where, text := range leaks {
		if strings.Contains(text, card) {
			t.Errorf("%s holds the secret", where)
		}
	}
	code = runIO(context.Background(), []string{"run", "--serve", "../../evals/suites/demosuite", "--url", "/index.html", "--policy", "replay", "--actions", writePlan(t, `fill("3", "<secret:pin>")`),
		"--secrets", filepath.Join(t.TempDir(), "none.txt")}, strings.NewReader(""), &out, &errb)
	if code != 2 || !strings.Contains(errb.String(), "secrets file") {
		t.Errorf("--secrets of a missing file: exit %d, %s", code, errb.String())
	}
}

// shop/ambiguous leaves an option out of each instruction: the expert
// fails without someone to ask, and succeeds asking the simulated user,
// who holds the option.
func TestEvalAmbiguousAsks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rate := func(extra ...string) (float64, string) {
		args := append([]string{"eval", "--suite", "shop", "--engine", "lite", "--split", "ambiguous", "--episodes", "20", "--json", "--run-dir", filepath.Join(dir, strings.Join(append([]string{"r"}, extra...), "-"))}, extra...)
		code, out, errs := pilot(context.Background(), args...)
		if code != 0 {
			t.Fatalf("pilot %q: exit %d\n%s", args, code, errs)
		}
		var rep struct {
			Success float64 `json:"success_rate"`
		}
		decodeOne(t, out, &rep)
		return rep.Success, out
	}
	alone, _ := rate()
	asking, _ := rate("--human", "simulated")
	if alone > 0.2 || asking < 0.8 {
		t.Errorf("shop/ambiguous: %.0f%% without a human, %.0f%% asking the simulated user; want at most 20%% and at least 80%%", 100*alone, 100*asking)
	}
	b, err := os.ReadFile(filepath.Join(dir, "r---human-simulated", "episodes", "shop-ambiguous-0000", "trajectory.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"action":"ask_user(`) || !strings.Contains(string(b), `"by":"simulated (rules)"`) {
		t.Errorf("the trajectory has no question to the simulated user:\n%.2000s", b)
	}
}

// --human model: the simulated user is a model behind the OpenAI wire
// format (here a test server that plays one: it reads the facts it is
// given and answers what the question names), and the run's answers say
// so.
func TestEvalAmbiguousAsksAModelUser(t *testing.T) {
	t.Parallel()
	fact := regexp.MustCompile(`(?m)^- ([a-z ]+): (.+)$`)
	srv := openaitest.NewServer(t, func(req openaitest.ChatRequest) openaitest.Reply {
		text := req.Text()
		_, question, _ := strings.Cut(text, "The agent asks: ")
		for _, m := range fact.FindAllStringSubmatch(text, -1) {
			if strings.Contains(question, m[1]) {
				return openaitest.Reply{Text: "The " + m[1] + " is " + m[2] + ".", PromptTokens: 90, CompletionTokens: 8}
			}
		}
		return openaitest.Reply{Text: "I don't know.", PromptTokens: 90, CompletionTokens: 4}
	})
	dir := filepath.Join(t.TempDir(), "r")
	code, out, errs := pilot(context.Background(), "eval", "--suite", "shop", "--engine", "lite", "--split", "ambiguous", "--episodes", "20", "--json", "--run-dir", dir,
		"--human", "model", "--user-model", "openai:user-sim", "--user-base-url", srv.URL)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	var rep struct {
		Success float64 `json:"success_rate"`
	}
	decodeOne(t, out, &rep)
	t.Logf("shop/ambiguous, 20 episodes, asking a model-backed user: %.0f%%", 100*rep.Success)
	if rep.Success < 0.8 {
		t.Errorf("success %.0f%% asking the model-backed user, want at least 80%%", 100*rep.Success)
	}
	b, err := os.ReadFile(filepath.Join(dir, "episodes", "shop-ambiguous-0000", "trajectory.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"by":"simulated (model user-sim)"`) {
		t.Errorf("the answers are not labelled as a model's:\n%.1500s", b)
	}
	if len(srv.Requests()) == 0 {
		t.Error("the model-backed user never called the model")
	}
}

// --irreversible adds the user's own rules to the gate; --guard (on by
// default) refuses a goto off the task's site.
func TestRunIrreversibleRulesAndGuard(t *testing.T) {
	t.Parallel()
	solve, err := os.ReadFile(filepath.Join("..", "..", "evals", "suites", "demosuite", "solve.actions"))
	if err != nil {
		t.Fatal(err)
	}
	plan := writePlan(t, `goto("http://other.example/steal?q=mug")`, string(solve))
	rec := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code, out, errs := pilot(ctx, "run", "--serve", "../../evals/suites/demosuite", "--url", "/index.html", "--policy", "replay", "--actions", plan,
		"--answer", "$12.50", "--irreversible", "button:Search", "--confirm", "always", "--human", "simulated", "--record", rec)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	b, err := os.ReadFile(filepath.Join(rec, "trajectory.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "refused by the task guard: goto other.example leaves the task's sites (127.0.0.1:") {
		t.Errorf("the goto off the site was not refused by the guard:\n%.2000s", b)
	}
	if !strings.Contains(string(b), `the rule button:Search marks it irreversible`) || !strings.Contains(out, "reward 1") {
		t.Errorf("the gate did not ask before the Search button, or the task failed:\n%s\n%.2000s", out, b)
	}
	for _, bad := range [][]string{
		{"--irreversible", "click:Buy", "--confirm", "auto"},
		{"--irreversible", "button:Buy"},
	} {
		args := append([]string{"run", "--serve", "../../evals/suites/demosuite", "--url", "/index.html", "--policy", "replay", "--actions", plan}, bad...)
		code, _, errs := pilot(ctx, args...)
		if code != 2 || !strings.Contains(errs, "--irreversible") {
			t.Errorf("%v: exit %d, %s; want a usage error about --irreversible", bad, code, errs)
		}
	}
}
