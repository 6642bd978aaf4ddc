package tasks_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pilotkit/pilot/evals/tasks"
)

// The JSON Lines and the YAML form of a file are the same tasks, each
// with its line.
func TestParseFiles(t *testing.T) {
	jl, err := tasks.ParseFile("../../testdata/tasks/tasks.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	ym, err := tasks.ParseFile("../../testdata/tasks/tasks.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(jl) != 5 || len(ym) != 5 {
		t.Fatalf("%d and %d tasks", len(jl), len(ym))
	}
	for i := range jl {
		a, _ := json.Marshal(jl[i])
		b, _ := json.Marshal(ym[i])
		if string(a) != string(b) {
			t.Errorf("task %d differs:\njsonl %s\nyaml  %s", i, a, b)
		}
	}
	if jl[0].Line != 2 || ym[0].Line != 2 || jl[4].Line != 6 || ym[1].Line != 13 {
		t.Errorf("lines: jsonl %d %d, yaml %d %d", jl[0].Line, jl[4].Line, ym[0].Line, ym[1].Line)
	}
	if jl[0].Split != "test" || jl[4].MaxSteps != 6 || len(jl[4].Init) != 1 || !jl[4].Scripted() || jl[0].Scripted() {
		t.Errorf("fields: %+v / %+v", jl[0], jl[4])
	}
}

// A byte order mark is not part of the first line.
func TestParseBOM(t *testing.T) {
	ts, err := tasks.Parse(strings.NewReader("\xef\xbb\xbf"+`{"id": "a", "instruction": "x", "start_url": "http://a.test/", "evaluate": {"answer": {"exact": "x"}}}`), "f", false)
	if err != nil || len(ts) != 1 {
		t.Errorf("%v %v", ts, err)
	}
}

// A bad line is refused with its line and the field at fault, and what to
// write instead.
func TestParseRejects(t *testing.T) {
	ok := `{"id": "a", "instruction": "do it", "start_url": "http://127.0.0.1:8080/", "evaluate": {"answer": {"exact": "x"}}}`
	for _, c := range []struct {
		name, file string
		yaml       bool
		want       string
	}{
		{"not json", ok + "\n{id: b}", false, "f.jsonl:2: not a JSON object"},
		{"unknown field", `{"id": "a", "instruction": "x", "instrution": "y"}`, false, `f.jsonl:1: unknown field "instrution" (a task has id, instruction`},
		{"wrong type", `{"id": 3}`, false, "f.jsonl:1: field id: want a string, not a JSON number"},
		{"no id", `{"instruction": "x", "start_url": "http://a.test/", "evaluate": {"answer": {"exact": "x"}}}`, false, "f.jsonl:1: task \"\": field id: missing"},
		{"bad id", `{"id": "a b", "instruction": "x", "start_url": "http://a.test/", "evaluate": {"answer": {"exact": "x"}}}`, false, `field id: "a b": want letters, digits`},
		{"no instruction", `{"id": "a", "start_url": "http://a.test/", "evaluate": {"answer": {"exact": "x"}}}`, false, "field instruction: missing"},
		{"duplicate", ok + "\n\n" + ok, false, `f.jsonl:3: task id "a" is taken by the task on line 1`},
		{"no start", `{"id": "a", "instruction": "x", "evaluate": {"answer": {"exact": "x"}}}`, false, "field start_url: missing"},
		{"relative start", `{"id": "a", "instruction": "x", "start_url": "/index.html", "evaluate": {"answer": {"exact": "x"}}}`, false, "field start_url: \"/index.html\": want an absolute http(s) URL"},
		{"serve outside", `{"id": "a", "instruction": "x", "serve": "../etc", "evaluate": {"answer": {"exact": "x"}}}`, false, "field serve: \"../etc\": want a directory inside the task file's own"},
		{"serve absolute start", `{"id": "a", "instruction": "x", "serve": "site", "start_url": "http://a.test/", "evaluate": {"answer": {"exact": "x"}}}`, false, "with serve, want a path on the served directory"},
		{"no evaluate", `{"id": "a", "instruction": "x", "start_url": "http://a.test/"}`, false, "field evaluate: missing: say how the episode is scored"},
		{"two kinds", `{"id": "a", "instruction": "x", "start_url": "http://a.test/", "evaluate": {"js": "1", "url": {"exact": "/"}}}`, false, "field evaluate[0].kind: want exactly one of js, answer, url, element or program"},
		{"unknown evaluator field", `{"id": "a", "instruction": "x", "start_url": "http://a.test/", "evaluate": [{"answr": {"exact": "x"}}]}`, false, `unknown field "answr"`},
		{"two matches", `{"id": "a", "instruction": "x", "start_url": "http://a.test/", "evaluate": {"answer": {"exact": "x", "regex": "y"}}}`, false, "field evaluate[0].answer.match: want exactly one of exact, must_include, regex or fuzzy"},
		{"bad regex", `{"id": "a", "instruction": "x", "start_url": "http://a.test/", "evaluate": {"url": {"regex": "("}}}`, false, "field evaluate[0].url.regex: \"(\": error parsing regexp"},
		{"fuzzy url", `{"id": "a", "instruction": "x", "start_url": "http://a.test/", "evaluate": {"url": {"fuzzy": "home"}}}`, false, "fuzzy: a model judges answers only"},
		{"bad selector", `{"id": "a", "instruction": "x", "start_url": "http://a.test/", "evaluate": {"element": {"selector": "##x", "exact": "1"}}}`, false, `field evaluate[0].element.selector: "##x"`},
		{"no command", `{"id": "a", "instruction": "x", "start_url": "http://a.test/", "evaluate": {"program": {"command": []}}}`, false, "field evaluate[0].program.command: missing"},
		{"bad duration", `{"id": "a", "instruction": "x", "start_url": "http://a.test/", "max_time": "soon", "evaluate": {"answer": {"exact": "x"}}}`, false, `"soon": want a positive duration`},
		{"bad rule", `{"id": "a", "instruction": "x", "start_url": "http://a.test/", "irreversible": ["click everything"], "evaluate": {"answer": {"exact": "x"}}}`, false, "field irreversible[0]: irreversible rule \"click everything\": want url:GLOB"},
		{"empty", "\n# nothing\n", false, "f.jsonl: no tasks in the file"},
		{"yaml not a list", "id: a\ninstruction: x\n", true, "f.jsonl:1: want a list of tasks"},
		{"yaml bad field", "- id: a\n  instruction: x\n  start_url: http://a.test/\n  evaluate: {answer: {exact: x}}\n- id: b\n  instructions: y\n", true, `f.jsonl:5: unknown field "instructions"`},
		{"yaml syntax", "- id: a\n  instruction: [x\n", true, "f.jsonl: line"},
		{"not utf-8", "\xff\xfe", false, "not UTF-8 text"},
		{"trailing", ok + "}", false, "f.jsonl:1: something follows the JSON object"},
		{"element url", `{"id": "a", "instruction": "x", "start_url": "http://a.test/", "evaluate": {"element": {"url": "javascript:alert(1)", "selector": "p", "exact": "x"}}}`, false, `element.url: "javascript:alert(1)": want a path`},
	} {
		_, err := tasks.Parse(strings.NewReader(c.file), "f.jsonl", c.yaml)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v\nwant %q", c.name, err, c.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"id": "a", "instruction": "do it", "start_url": "http://127.0.0.1:8080/", "evaluate": [{"answer": {"must_include": ["x"]}}, {"url": {"regex": "a+"}}]}`), false)
	f.Add([]byte("- id: a\n  instruction: x\n  serve: site\n  evaluate: {element: {selector: p, exact: y}}\n"), true)
	f.Add([]byte(`{"id": "b", "instruction": "x", "start_url": "https://a.test/", "init": ["1", "2"], "max_time": "3s", "evaluate": {"js": "true"}}`), false)
	f.Fuzz(func(t *testing.T, data []byte, yaml bool) {
		ts, err := tasks.Parse(strings.NewReader(string(data)), "f", yaml)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f") {
				t.Fatalf("an error that does not name the file: %v", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, task := range ts {
			if task.ID == "" || task.Instruction == "" || len(task.Evaluate) == 0 || task.Line < 1 || seen[task.ID] {
				t.Fatalf("accepted a task without its fields: %+v", task)
			}
			seen[task.ID] = true
		}
	})
}
