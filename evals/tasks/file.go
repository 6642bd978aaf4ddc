// Package tasks reads benchmark tasks defined in files (docs/tasks.md):
// JSON Lines, one task a line, or YAML, a list of tasks. A task names its
// instruction and where it starts (a URL, or a directory pilot serves), a
// setup in the page, how it is scored (evaluators: a JavaScript
// expression read after every step, the stop answer, the final URL, an
// element of a page, a program over the page's HTML), its limits, the
// facts a simulated user knows and the actions that need a confirmation.
//
// Parse reads a file; Wrap makes an env that runs a file's tasks with
// their setups, evaluators and limits on a web env (Chromium or lite).
// evals/suites turns a file into a suite (pilot eval --tasks FILE).
package tasks

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/andybalholm/cascadia"
	"go.yaml.in/yaml/v3"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/env/web"
)

// Task is one task of a file.
type Task struct {
	// ID names the task, unique in its file.
	ID string `json:"id"`
	// Instruction is what the agent is asked to do.
	Instruction string `json:"instruction"`
	// Split is the split the task belongs to; default "test".
	Split string `json:"split,omitempty"`
	// StartURL is where the episode starts: an absolute http(s) URL, or
	// a path on the directory Serve names.
	StartURL string `json:"start_url,omitempty"`
	// Serve is a directory (relative to the file) that pilot serves on
	// 127.0.0.1 for the task; StartURL is then a path on it.
	Serve string `json:"serve,omitempty"`
	// Init are scripts that run in every page of the episode before the
	// page's own (a string or a list).
	Init Strings `json:"init,omitempty"`
	// Setup is a script run once in the start page after it loaded.
	Setup string `json:"setup,omitempty"`
	// Evaluate scores the episode: one evaluator or a list, all of which
	// must pass (the reward is the product of theirs, as WebArena's).
	Evaluate Evaluators `json:"evaluate"`
	// MaxSteps and MaxTime are the task's limits (MaxTime as "90s");
	// the episode is scored when one ends it.
	MaxSteps int      `json:"max_steps,omitempty"`
	MaxTime  Duration `json:"max_time,omitempty"`
	// Hidden are facts only the simulated user knows.
	Hidden map[string]string `json:"hidden,omitempty"`
	// Irreversible are rules for actions that need a confirmation:
	// url:GLOB, button:TEXT or field:KIND (as --irreversible).
	Irreversible []string `json:"irreversible,omitempty"`
	// Solution, when given, is a known way through the task: actions in
	// their text form, such as click("4"). The suite's "solution" policy
	// plays it, which checks a file's evaluators before a model runs.
	Solution []string `json:"solution,omitempty"`

	// Line is the task's line in its file.
	Line int `json:"-"`
	// Dir is the directory of the file, for Serve and programs.
	Dir string `json:"-"`

	rules []web.GateRule
	plan  []env.Action
}

// Plan returns the task's solution as actions (nil without one).
func (t Task) Plan() []env.Action { return slices.Clone(t.plan) }

// Evaluator is one way of scoring an episode; exactly one of its fields
// is set.
type Evaluator struct {
	// JS is an expression evaluated in the page after every step: true
	// or false (success, which ends the episode), a number (the reward so
	// far), or an object {reward, done, success}.
	JS string `json:"js,omitempty"`
	// Answer matches the stop answer.
	Answer *Match `json:"answer,omitempty"`
	// URL matches the final page's address.
	URL *Match `json:"url,omitempty"`
	// Element matches the text of the elements a selector finds, in the
	// final page or in a page fetched for it.
	Element *Element `json:"element,omitempty"`
	// Program runs a command with the final page's HTML on its input;
	// it prints the reward.
	Program *Program `json:"program,omitempty"`
}

// Match compares a text with a reference; exactly one of its fields is
// set. Answers and texts are compared lower-case, with spaces collapsed
// and surrounding quotes dropped (WebArena's clean_answer).
type Match struct {
	// Exact: the text is the reference. For a URL: the same host and
	// path (a trailing slash aside) and every query parameter of the
	// reference, as WebArena's url_match.
	Exact *string `json:"exact,omitempty"`
	// MustInclude: the text holds every one of these.
	MustInclude []string `json:"must_include,omitempty"`
	// Regex: the text matches this regular expression (RE2, unanchored).
	Regex string `json:"regex,omitempty"`
	// Fuzzy: a model judges whether the answer means the reference
	// (answers only; give pilot a --judge model). Results judged so are
	// marked "judged".
	Fuzzy *string `json:"fuzzy,omitempty"`
	// Prefix: the URL starts with this (URLs only).
	Prefix string `json:"prefix,omitempty"`

	re *regexp.Regexp
}

// Element locates elements in a page and compares their text.
type Element struct {
	// URL, when set, is a page to fetch (with the episode's cookies) and
	// read instead of the final page: a path on the task's site or an
	// absolute URL.
	URL string `json:"url,omitempty"`
	// Selector is a CSS selector; the texts of all the elements it
	// finds are joined with spaces.
	Selector string `json:"selector"`
	Match

	sel cascadia.Sel
}

// Program is a command that scores the final page.
type Program struct {
	// Command is the program and its arguments, run in the file's
	// directory with the page's HTML on its input and PILOT_URL,
	// PILOT_ANSWER and PILOT_TASK in its environment. It prints the
	// reward (a number from 0 to 1) or {"reward": r, "reason": "…"};
	// a non-zero exit is an error of the evaluator.
	Command []string `json:"command"`
	// Timeout bounds it; default 10s.
	Timeout Duration `json:"timeout,omitempty"`
}

// Evaluators is one evaluator or a list of them.
type Evaluators []Evaluator

func (es *Evaluators) UnmarshalJSON(b []byte) error {
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' {
		var e Evaluator
		if err := strictJSON(t, &e); err != nil {
			return err
		}
		*es = Evaluators{e}
		return nil
	}
	var list []Evaluator
	if err := strictJSON(b, &list); err != nil {
		return err
	}
	*es = list
	return nil
}

// Strings is a string or a list of strings.
type Strings []string

func (s *Strings) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = Strings{one}
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return errors.New("want a script or a list of scripts")
	}
	*s = list
	return nil
}

// Duration is a time.Duration written as "90s" or "2m".
type Duration time.Duration

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New(`want a duration such as "90s" or "2m"`)
	}
	v, err := time.ParseDuration(s)
	if err != nil || v <= 0 {
		return fmt.Errorf(`%q: want a positive duration such as "90s" or "2m"`, s)
	}
	*d = Duration(v)
	return nil
}

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// strictJSON decodes b into v, refusing unknown fields and trailing data.
func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if err := dec.Decode(&json.RawMessage{}); err != io.EOF {
		return errors.New("something follows the JSON object: one task a line")
	}
	return nil
}

// Limits on a task file.
const (
	maxFileBytes = 64 << 20
	maxTasks     = 100_000
	maxLineBytes = 4 << 20
)

// ParseFile reads the task file at path: YAML when its name ends in
// .yaml or .yml, JSON Lines otherwise.
func ParseFile(path string) ([]Task, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("task file: %w", err)
	}
	defer f.Close()
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("task file %s: %w", path, err)
	}
	yamlFile := strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")
	tasks, err := Parse(f, path, yamlFile)
	if err != nil {
		return nil, err
	}
	for i := range tasks {
		tasks[i].Dir = dir
	}
	return tasks, nil
}

// Parse reads tasks from r, named name in errors: JSON Lines (blank lines
// and lines starting with # or // are skipped), or YAML (a list of
// tasks) when yamlFile. An error names the line and the field.
func Parse(r io.Reader, name string, yamlFile bool) ([]Task, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(data) > maxFileBytes {
		return nil, fmt.Errorf("%s: larger than %d MiB: split it into files", name, maxFileBytes>>20)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a byte order mark
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("%s: not UTF-8 text", name)
	}
	var tasks []Task
	if yamlFile {
		tasks, err = parseYAML(data, name)
	} else {
		tasks, err = parseJSONL(data, name)
	}
	if err != nil {
		return nil, err
	}
	if len(tasks) == 0 {
		return nil, fmt.Errorf("%s: no tasks in the file (JSON Lines: one task object a line; YAML: a list of tasks)", name)
	}
	seen := map[string]int{}
	for i := range tasks {
		t := &tasks[i]
		if first, dup := seen[t.ID]; dup {
			return nil, fmt.Errorf("%s:%d: task id %q is taken by the task on line %d: ids are unique in a file", name, t.Line, t.ID, first)
		}
		seen[t.ID] = t.Line
		if err := t.check(); err != nil {
			return nil, fmt.Errorf("%s:%d: task %q: %w", name, t.Line, t.ID, err)
		}
	}
	return tasks, nil
}

func parseJSONL(data []byte, name string) ([]Task, error) {
	var tasks []Task
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), maxLineBytes)
	for line := 1; sc.Scan(); line++ {
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 || text[0] == '#' || bytes.HasPrefix(text, []byte("//")) {
			continue
		}
		if len(tasks) >= maxTasks {
			return nil, fmt.Errorf("%s:%d: more than %d tasks: split the file", name, line, maxTasks)
		}
		var t Task
		if err := strictJSON(text, &t); err != nil {
			return nil, fmt.Errorf("%s:%d: %s", name, line, jsonProblem(err, text))
		}
		t.Line = line
		tasks = append(tasks, t)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("%s: a line is longer than %d MiB", name, maxLineBytes>>20)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return tasks, nil
}

func parseYAML(data []byte, name string) ([]Task, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if doc.Kind == 0 {
		return nil, nil
	}
	list := &doc
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		list = doc.Content[0]
	}
	if list.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%s:%d: want a list of tasks (each item starting with '- id: …')", name, list.Line)
	}
	if len(list.Content) > maxTasks {
		return nil, fmt.Errorf("%s: more than %d tasks: split the file", name, maxTasks)
	}
	tasks := make([]Task, 0, len(list.Content))
	for _, item := range list.Content {
		var v any
		if err := item.Decode(&v); err != nil {
			return nil, fmt.Errorf("%s:%d: %s", name, item.Line, strings.TrimPrefix(err.Error(), "yaml: "))
		}
		b, err := json.Marshal(jsonable(v))
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", name, item.Line, err)
		}
		var t Task
		if err := strictJSON(b, &t); err != nil {
			return nil, fmt.Errorf("%s:%d: %s", name, item.Line, jsonProblem(err, b))
		}
		t.Line = item.Line
		tasks = append(tasks, t)
	}
	return tasks, nil
}

// jsonable turns YAML's maps into JSON's.
func jsonable(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = jsonable(e)
		}
		return x
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = jsonable(e)
		}
		return m
	case []any:
		for i, e := range x {
			x[i] = jsonable(e)
		}
		return x
	case time.Time:
		return x.Format(time.RFC3339)
	}
	return v
}

// jsonProblem says what is wrong with a task's JSON, naming the field.
func jsonProblem(err error, text []byte) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("not a JSON object: %v at byte %d (one task a line, as {\"id\": \"…\", \"instruction\": \"…\", …})", syn, syn.Offset)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return fmt.Sprintf("want a task object, not a JSON %s", typ.Value)
		}
		return fmt.Sprintf("field %s: want %s, not a JSON %s", field, typeWord(typ.Type.String()), typ.Value)
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return fmt.Sprintf("unknown field %s (a task has %s)", f, knownFields)
	}
	if strings.HasPrefix(msg, "json: cannot unmarshal") || strings.Contains(msg, "unexpected end of JSON") {
		return "not a JSON object: " + strings.TrimPrefix(msg, "json: ")
	}
	return strings.TrimPrefix(msg, "json: ")
}

const knownFields = "id, instruction, split, start_url, serve, init, setup, evaluate, max_steps, max_time, hidden, irreversible, solution; an evaluator has js, answer, url, element or program"

func typeWord(t string) string {
	switch {
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map"), strings.HasPrefix(t, "tasks."), strings.HasPrefix(t, "*tasks."):
		return "an object"
	case t == "string", t == "*string":
		return "a string"
	case strings.HasPrefix(t, "int"):
		return "a whole number"
	}
	return t
}

var (
	idPattern    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)
	splitPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
)

// check validates a task's fields and compiles its patterns.
func (t *Task) check() error {
	switch {
	case t.ID == "":
		return errors.New("field id: missing: every task needs an id")
	case !idPattern.MatchString(t.ID):
		return fmt.Errorf("field id: %q: want letters, digits and . _ : - (at most 128), starting with a letter or digit", clip(t.ID, 40))
	case strings.TrimSpace(t.Instruction) == "":
		return errors.New("field instruction: missing: say what the agent is asked to do")
	case t.MaxSteps < 0:
		return fmt.Errorf("field max_steps: %d: want a positive number (or leave it out)", t.MaxSteps)
	}
	if t.Split == "" {
		t.Split = "test"
	} else if !splitPattern.MatchString(t.Split) {
		return fmt.Errorf("field split: %q: want a lower-case name such as test or dev", clip(t.Split, 40))
	}
	if err := t.checkStart(); err != nil {
		return err
	}
	if len(t.Evaluate) == 0 {
		return errors.New("field evaluate: missing: say how the episode is scored (an answer, a url, an element, a js expression or a program; docs/tasks.md)")
	}
	for i := range t.Evaluate {
		if err := t.Evaluate[i].check(); err != nil {
			return fmt.Errorf("field evaluate[%d].%w", i, err)
		}
	}
	for i, s := range t.Init {
		if strings.TrimSpace(s) == "" {
			return fmt.Errorf("field init[%d]: an empty script", i)
		}
	}
	for i, s := range t.Solution {
		a, err := env.ParseAction(s)
		if err != nil {
			return fmt.Errorf("field solution[%d]: %w", i, err)
		}
		t.plan = append(t.plan, a)
	}
	for i, s := range t.Irreversible {
		r, err := web.ParseGateRule(s)
		if err != nil {
			return fmt.Errorf("field irreversible[%d]: %w", i, err)
		}
		t.rules = append(t.rules, r)
	}
	return nil
}

func (t *Task) checkStart() error {
	if t.Serve != "" {
		if filepath.IsAbs(t.Serve) || slices.Contains(strings.Split(filepath.ToSlash(t.Serve), "/"), "..") {
			return fmt.Errorf("field serve: %q: want a directory inside the task file's own, as a relative path", clip(t.Serve, 80))
		}
		if t.StartURL == "" {
			t.StartURL = "/"
		}
		u, err := url.Parse(t.StartURL)
		if err != nil || u.IsAbs() || u.Host != "" || !strings.HasPrefix(t.StartURL, "/") {
			return fmt.Errorf("field start_url: %q: with serve, want a path on the served directory such as /index.html", clip(t.StartURL, 80))
		}
		return nil
	}
	if t.StartURL == "" {
		return errors.New("field start_url: missing: give the page the task starts at (an http(s) URL), or serve a directory")
	}
	u, err := url.Parse(t.StartURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("field start_url: %q: want an absolute http(s) URL such as http://127.0.0.1:7770/ (or serve a directory and give a path)", clip(t.StartURL, 80))
	}
	return nil
}

func (e *Evaluator) check() error {
	n := 0
	for _, set := range []bool{e.JS != "", e.Answer != nil, e.URL != nil, e.Element != nil, e.Program != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return errors.New("kind: want exactly one of js, answer, url, element or program in each evaluator")
	}
	switch {
	case e.Answer != nil:
		if err := e.Answer.check(false, true); err != nil {
			return fmt.Errorf("answer.%w", err)
		}
	case e.URL != nil:
		if err := e.URL.check(true, false); err != nil {
			return fmt.Errorf("url.%w", err)
		}
	case e.Element != nil:
		if strings.TrimSpace(e.Element.Selector) == "" {
			return errors.New("element.selector: missing: a CSS selector such as #total")
		}
		sel, err := cascadia.Parse(e.Element.Selector)
		if err != nil {
			return fmt.Errorf("element.selector: %q: %v", clip(e.Element.Selector, 80), err)
		}
		e.Element.sel = sel
		if u := e.Element.URL; u != "" {
			pu, err := url.Parse(u)
			if err != nil || !(pu.Scheme == "http" || pu.Scheme == "https") && (pu.Scheme != "" || pu.Host != "" || !strings.HasPrefix(u, "/")) {
				return fmt.Errorf("element.url: %q: want a path on the task's site such as /account, or an http(s) URL", clip(u, 80))
			}
		}
		if err := e.Element.Match.check(false, false); err != nil {
			return fmt.Errorf("element.%w", err)
		}
	case e.Program != nil:
		if len(e.Program.Command) == 0 || strings.TrimSpace(e.Program.Command[0]) == "" {
			return errors.New(`program.command: missing: the program and its arguments, such as ["python3", "check.py"]`)
		}
	}
	return nil
}

func (m *Match) check(isURL, isAnswer bool) error {
	n := 0
	for _, set := range []bool{m.Exact != nil, len(m.MustInclude) > 0, m.Regex != "", m.Fuzzy != nil, m.Prefix != ""} {
		if set {
			n++
		}
	}
	want := "exact, must_include or regex"
	switch {
	case isURL:
		want = "exact, prefix, must_include or regex"
	case isAnswer:
		want = "exact, must_include, regex or fuzzy"
	}
	switch {
	case n != 1:
		return fmt.Errorf("match: want exactly one of %s", want)
	case m.Fuzzy != nil && !isAnswer:
		return errors.New("fuzzy: a model judges answers only: use exact, must_include or regex")
	case m.Prefix != "" && !isURL:
		return errors.New("prefix: for URLs only: use exact, must_include or regex")
	}
	if m.Regex != "" {
		re, err := regexp.Compile(m.Regex)
		if err != nil {
			return fmt.Errorf("regex: %q: %v", clip(m.Regex, 80), err)
		}
		m.re = re
	}
	return nil
}

// Scripted says whether the task runs JavaScript of its own (init,
// setup or a js evaluator): the lite engine cannot.
func (t Task) Scripted() bool {
	if len(t.Init) > 0 || t.Setup != "" {
		return true
	}
	for _, e := range t.Evaluate {
		if e.JS != "" {
			return true
		}
	}
	return false
}

// Judged says whether the task asks a model to judge an answer.
func (t Task) Judged() bool {
	for _, e := range t.Evaluate {
		if e.Answer != nil && e.Answer.Fuzzy != nil {
			return true
		}
	}
	return false
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
