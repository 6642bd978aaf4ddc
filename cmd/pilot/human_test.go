package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
