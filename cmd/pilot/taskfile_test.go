package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pilotkit/pilot/evals"
	"github.com/pilotkit/pilot/policy/openai/openaitest"
)

const testTasks = "../../testdata/tasks/tasks.jsonl"

// pilot eval --tasks runs a task file as a suite, in the run store like
// any other, with its solutions as the default policy; a task that needs
// JavaScript is an error of the evaluate kind on lite.
func TestEvalTaskFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	code, out, errs := pilot(t.Context(), "eval", "--tasks", testTasks, "--engine", "lite", "--json", "--run-dir", dir)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	var rep evals.Report
	decodeOne(t, out, &rep)
	if rep.Suite != "tasks:tasks/test" || rep.Policy != "solution" || rep.Successes != 4 || rep.Errors != 1 || rep.ErrorKinds[evals.KindEvaluate] != 1 {
		t.Errorf("report %+v", rep)
	}
	if !strings.Contains(errs, "stamps (line 6)") {
		t.Errorf("no warning about the scripted task on lite:\n%s", errs)
	}
	// A resume finds the run whole.
	code, out, errs = pilot(t.Context(), "eval", "--resume", dir, "--json")
	if code != 0 {
		t.Fatalf("resume: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, errs = pilot(t.Context(), "run", "--tasks", testTasks, "--task", "order", "--engine", "lite", "--json")
	if code != 0 || !strings.Contains(out, `"success":true`) || !strings.Contains(errs, "tasks:tasks/test order: Order a green mug for Ada.") {
		t.Errorf("pilot run --tasks --task order: exit %d\n%s\n%s", code, out, errs)
	}
}

// Bad task files and flags are usage errors that name the line and the
// field.
func TestTaskFileBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.jsonl")
	if err := os.WriteFile(bad, []byte(`{"id": "a", "instruction": "x", "start_url": "http://127.0.0.1:1/", "evaluate": {"answer": {"exact": "x"}}}`+"\n"+`{"id": "b", "instruction": "y", "start_url": "http://127.0.0.1:1/", "evaluate": {"url": {"glob": "*"}}}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"eval", "--tasks", bad}, bad + `:2: unknown field "glob"`},
		{[]string{"eval", "--tasks", filepath.Join(dir, "none.jsonl")}, "task file: open " + filepath.Join(dir, "none.jsonl") + ": no such file or directory"},
		{[]string{"eval", "--tasks", testTasks, "--suite", "shop"}, "--tasks and --suite shop are exclusive"},
		{[]string{"eval", "--tasks", testTasks, "--engine", "fast"}, `does not run on engine "fast": it runs on chromium, lite`},
		{[]string{"eval", "--tasks", testTasks, "--split", "dev"}, `has no split "dev": want one of test`},
		{[]string{"run", "--judge", "openai:gpt-4o", "--url", "http://127.0.0.1:1/"}, "--judge is for a task file's tasks: give --tasks FILE"},
		{[]string{"eval", "--suite", "shop", "--judge", "openai:gpt-4o"}, "--judge is for a task file's tasks: give --tasks FILE"},
		{[]string{"run", "--tasks", testTasks, "--task", "nope", "--engine", "lite"}, `has no task "nope"`},
	} {
		code, _, errs := pilot(t.Context(), c.args...)
		if code != exitUsage || !strings.Contains(errs, c.want) {
			t.Errorf("pilot %s: exit %d\n%s\nwant exit 2 saying %q", strings.Join(c.args, " "), code, errs, c.want)
		}
	}
}

// pilot serve --tasks serves a task file's envs: a client plays a task's
// solution over HTTP and its evaluators score it.
func TestServeTaskFile(t *testing.T) {
	base := serving(t, "serve", "--tasks", testTasks, "--engine", "lite", "--addr", "127.0.0.1:0")
	post := func(path, body string) map[string]any {
		t.Helper()
		resp, err := http.Post(base+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || resp.StatusCode >= 300 {
			t.Fatalf("POST %s %s: %d %v %v", path, body, resp.StatusCode, v, err)
		}
		return v
	}
	s := post("/v1/sessions", `{"task": "order"}`)
	id, _ := s["session"].(string)
	var last map[string]any
	for _, a := range []string{`fill(\"3\", \"Ada\")`, `select_option(\"4\", \"green\")`, `click(\"7\")`, `stop()`} {
		last = post("/v1/sessions/"+id+"/step", `{"action": "`+a+`"}`)
	}
	if last["reward"] != 1.0 || last["terminated"] != true {
		t.Errorf("the last step: %v", last)
	}
}

// pilot eval --judge: a fuzzy answer is judged by the model named, and the
// report counts the judged episodes apart.
func TestEvalTaskFileJudge(t *testing.T) {
	dir := t.TempDir()
	site, err := filepath.Abs("../../testdata/tasks/site")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(site, filepath.Join(dir, "site")); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "fuzzy.yaml")
	body := "- id: size\n  instruction: How big is the blue mug?\n  serve: site\n  evaluate: {answer: {fuzzy: 350 millilitres}}\n  solution: ['stop(\"a third of a litre\")']\n" +
		"- id: size-wrong\n  instruction: How big is the blue mug?\n  serve: site\n  evaluate: {answer: {fuzzy: 350 millilitres}}\n  solution: ['stop(\"a pint\")']\n"
	if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := openaitest.NewServer(t, func(r openaitest.ChatRequest) openaitest.Reply {
		if strings.Contains(r.Text(), `"a third of a litre"`) {
			return openaitest.Reply{Text: "yes"}
		}
		return openaitest.Reply{Text: "no"}
	})
	srv.SetModels("judge-1")
	code, out, errs := pilot(t.Context(), "eval", "--tasks", file, "--engine", "lite", "--judge", "openai:judge-1", "--judge-base-url", srv.URL, "--json", "--run-dir", filepath.Join(dir, "run"))
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	var rep evals.Report
	decodeOne(t, out, &rep)
	if rep.Successes != 1 || rep.Episodes != 2 || rep.Tags["judged"] != 2 || rep.Tags["judged success"] != 1 {
		t.Errorf("report: %d of %d, tags %v", rep.Successes, rep.Episodes, rep.Tags)
	}
}
