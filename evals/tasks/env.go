package tasks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/andybalholm/cascadia"
	"golang.org/x/net/html"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/env/web"
	"github.com/pilotkit/pilot/policy"
)

// Options say how Wrap scores.
type Options struct {
	// Judge is the model that judges fuzzy answers; a task with one
	// fails its episode without it.
	Judge policy.Model
	// NoScript says the inner env runs no JavaScript (lite): a task that
	// runs some fails its reset, saying so.
	NoScript bool
	// MaxSteps and MaxTime are the run's limits (the agent's; 0: none):
	// the episode is scored at the first of them and the task's own.
	MaxSteps int
	MaxTime  time.Duration
	// Mask, when set, replaces the run's secrets in what pilot sends to
	// the judge (the agent's answer holds the values it typed).
	Mask func(string) string
}

// Env runs a file's tasks on a web env: each Reset of one of them gives
// the page its init scripts and setup, every step is scored by its js
// evaluators, and the episode's end (the agent's stop, a js evaluator
// that says done, or the task's own step or time limit) by all of them.
// A task not in the file runs as the inner env runs it.
type Env struct {
	inner web.HookedEnv
	tasks map[string]*Task
	opts  Options

	cur   *Task
	steps int
	start time.Time
	site  string // the episode's start URL: paths in evaluators are on its site
	last  string // why the step under way is the task's last ("": it is not)
}

var (
	_ env.Env          = (*Env)(nil)
	_ env.Irreversible = (*Env)(nil)
)

// Wrap returns an env that runs tasks on inner. Close closes inner.
func Wrap(inner web.HookedEnv, tasks []Task, o Options) *Env {
	m := make(map[string]*Task, len(tasks))
	for i := range tasks {
		m[tasks[i].ID] = &tasks[i]
	}
	return &Env{inner: inner, tasks: m, opts: o}
}

func (e *Env) Spec() env.Spec { return e.inner.Spec() }
func (e *Env) Close() error   { return e.inner.Close() }

// Reset starts task t: the file's task of the same id, with its hooks.
func (e *Env) Reset(ctx context.Context, t env.Task) (env.Observation, error) {
	e.cur, e.steps, e.last = nil, 0, ""
	ft, ok := e.tasks[t.ID]
	if !ok {
		return e.inner.Reset(ctx, t)
	}
	if ft.Scripted() && e.opts.NoScript {
		return env.Observation{}, fmt.Errorf("task %s: %w: it runs JavaScript of its own (init, setup or a js evaluator), which the lite engine does not: run it on the chromium engine", t.ID, env.ErrEvaluate)
	}
	if ft.Judged() && e.opts.Judge == nil {
		return env.Observation{}, fmt.Errorf("task %s: %w: its answer is judged by a model (a fuzzy match): give pilot a judge (--judge MODEL)", t.ID, env.ErrEvaluate)
	}
	h := web.Hooks{Init: ft.Init, Setup: ft.Setup, Reward: e.score}
	obs, err := e.inner.ResetWith(ctx, t, h)
	if err != nil {
		return obs, err
	}
	e.cur, e.start, e.site = ft, time.Now(), t.StartURL
	return obs, nil
}

// Step takes a, scored by the task's evaluators; the task's limits end
// the episode, truncated, after it is scored.
func (e *Env) Step(ctx context.Context, a env.Action) (env.Step, error) {
	t := e.cur
	if t == nil {
		return e.inner.Step(ctx, a)
	}
	e.last = ""
	maxSteps, whose := t.MaxSteps, "the task's"
	if n := e.opts.MaxSteps; n > 0 && (maxSteps == 0 || n < maxSteps) {
		maxSteps, whose = n, "the run's"
	}
	maxTime, whoseTime := time.Duration(t.MaxTime), "the task's"
	if d := e.opts.MaxTime; d > 0 && (maxTime == 0 || d < maxTime) {
		maxTime, whoseTime = d, "the run's"
	}
	switch {
	case maxSteps > 0 && e.steps+1 >= maxSteps:
		e.last = fmt.Sprintf("%s step limit %d reached", whose, maxSteps)
	case maxTime > 0 && time.Since(e.start) >= maxTime:
		e.last = fmt.Sprintf("%s time limit %s reached", whoseTime, maxTime)
	}
	st, err := e.inner.Step(ctx, a)
	e.steps++
	if err != nil {
		return st, err
	}
	if e.last != "" && !st.Terminated {
		// The task ends at its limit, scored by its evaluators: a task
		// that passes there succeeds, as WebArena counts it.
		st.Terminated, st.Reason = true, e.last+"; the episode is scored there"
	}
	return st, nil
}

// Irreversible flags what the task's rules name, then what the inner env
// flags.
func (e *Env) Irreversible(obs env.Observation, a env.Action) string {
	if e.cur != nil {
		for _, r := range e.cur.rules {
			if why := r.Match(obs, a); why != "" {
				return why
			}
		}
	}
	if g, ok := e.inner.(env.Irreversible); ok {
		return g.Irreversible(obs, a)
	}
	return ""
}

// Brief is the inner env's (env.Briefer).
func (e *Env) Brief() string {
	if b, ok := e.inner.(env.Briefer); ok {
		return b.Brief()
	}
	return ""
}

// Evaluation is one evaluator's verdict, in the final step's
// Info["evaluations"].
type Evaluation struct {
	Kind   string  `json:"kind"`
	Score  float64 `json:"score"`
	Detail string  `json:"detail,omitempty"`
	// Judged marks a verdict a model gave (a fuzzy answer).
	Judged bool `json:"judged,omitempty"`
}

// score is the task's Scorer.
func (e *Env) score(ctx context.Context, p web.Page, turn web.Turn) (web.Score, error) {
	t := e.cur
	if t == nil {
		return web.Score{}, nil
	}
	// The js evaluators, after every step. One that throws or gives no
	// value before the end scores 0 there (an expression written for the
	// final page may not hold on the others); at the end it is an error.
	final := turn.Stopped || e.last != ""
	jsReward, jsDone := 1.0, false
	var jsEvals []Evaluation
	hasJS := false
	for _, ev := range t.Evaluate {
		if ev.JS == "" {
			continue
		}
		hasJS = true
		v, err := evalJS(ctx, p, ev.JS)
		if err != nil {
			if final || ctx.Err() != nil {
				return web.Score{}, fmt.Errorf("js evaluator: %w", err)
			}
			v = jsValue{}
		}
		jsReward *= v.reward
		jsDone = jsDone || v.done
		score := v.reward
		if v.success != nil {
			score = map[bool]float64{true: 1}[*v.success]
		}
		jsEvals = append(jsEvals, Evaluation{Kind: "js", Score: score})
	}
	if !hasJS {
		jsReward = 0
	}
	if !final && !jsDone {
		return web.Score{Reward: jsReward}, nil
	}
	// The episode's end: every evaluator.
	reward := 1.0
	evals := make([]Evaluation, 0, len(t.Evaluate))
	judged := false
	var htmlText *string
	pageHTML := func() (string, error) {
		if htmlText == nil {
			s, err := p.HTML(ctx)
			if err != nil {
				return "", fmt.Errorf("read the page: %w", err)
			}
			htmlText = &s
		}
		return *htmlText, nil
	}
	jsAt := 0
	for i, ev := range t.Evaluate {
		var v Evaluation
		var err error
		switch {
		case ev.JS != "":
			v = jsEvals[jsAt]
			jsAt++
		case ev.Answer != nil:
			v, err = e.answer(ctx, t, ev.Answer, turn)
		case ev.URL != nil:
			v = matchURL(ev.URL, p.URL(), e.site)
		case ev.Element != nil:
			v, err = element(ctx, p, ev.Element, e.site, pageHTML)
		case ev.Program != nil:
			v, err = program(ctx, t, ev.Program, p, turn, pageHTML)
		}
		if err != nil {
			return web.Score{}, fmt.Errorf("evaluate[%d]: %w", i, err)
		}
		judged = judged || v.Judged
		reward *= v.Score
		evals = append(evals, v)
	}
	ok := reward >= 1
	info := map[string]any{"evaluations": evals}
	if judged {
		info["judged"] = true
	}
	s := web.Score{Reward: reward, Success: &ok, Info: info}
	if jsDone && !turn.Stopped {
		s.Done, s.Reason = true, "the task's page says it is done"
	}
	return s, nil
}

// jsValue is what a js evaluator gave.
type jsValue struct {
	reward  float64
	done    bool
	success *bool
}

// evalJS reads a js evaluator's value: true or false, a number, or
// {reward, done, success}.
func evalJS(ctx context.Context, p web.Page, expr string) (jsValue, error) {
	v, err := p.Evaluate(ctx, expr)
	if err != nil {
		return jsValue{}, err
	}
	var b bool
	if json.Unmarshal(v, &b) == nil {
		if b {
			return jsValue{reward: 1, done: true, success: &b}, nil
		}
		return jsValue{}, nil
	}
	var f float64
	if json.Unmarshal(v, &f) == nil {
		if math.IsNaN(f) || f < 0 || f > 1 {
			return jsValue{}, fmt.Errorf("%s gave %v: want a reward from 0 to 1", clip(expr, 60), f)
		}
		return jsValue{reward: f}, nil
	}
	var o struct {
		Reward  *float64 `json:"reward"`
		Done    bool     `json:"done"`
		Success *bool    `json:"success"`
	}
	if string(v) != "null" && json.Unmarshal(v, &o) == nil && (o.Reward != nil || o.Success != nil) {
		r := 0.0
		switch {
		case o.Reward != nil:
			r = *o.Reward
		case *o.Success:
			r = 1
		}
		if math.IsNaN(r) || r < 0 || r > 1 {
			return jsValue{}, fmt.Errorf("%s gave reward %v: want a reward from 0 to 1", clip(expr, 60), r)
		}
		return jsValue{reward: r, done: o.Done, success: o.Success}, nil
	}
	return jsValue{}, fmt.Errorf("%s gave %s: want true or false, a reward from 0 to 1, or {reward, done, success}", clip(expr, 60), clip(string(v), 80))
}

// clean is WebArena's clean_answer: surrounding space and quotes off,
// lower case; pilot also collapses inner spaces.
func clean(s string) string {
	s = strings.TrimSpace(s)
	for len(s) >= 2 && (s[0] == '"' && s[len(s)-1] == '"' || s[0] == '\'' && s[len(s)-1] == '\'') {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}

// matchText compares got with m (exact, must_include, regex).
func matchText(m *Match, got string) (bool, string) {
	g := clean(got)
	switch {
	case m.Exact != nil:
		if g == clean(*m.Exact) {
			return true, ""
		}
		return false, fmt.Sprintf("%q is not %q", clip(got, 120), *m.Exact)
	case len(m.MustInclude) > 0:
		var missing []string
		words := tokens(g)
		for _, w := range m.MustInclude {
			ref := clean(w)
			// WebArena's must_include: a reference of one word must be a
			// word of the answer ("1" is not in "10"), a longer one a part.
			if rt := tokens(ref); len(rt) == 1 && !slices.Contains(words, rt[0]) || len(rt) != 1 && !strings.Contains(g, ref) {
				missing = append(missing, strconv.Quote(w))
			}
		}
		if len(missing) == 0 {
			return true, ""
		}
		return false, fmt.Sprintf("%q lacks %s", clip(got, 120), strings.Join(missing, ", "))
	case m.re != nil:
		if m.re.MatchString(got) {
			return true, ""
		}
		return false, fmt.Sprintf("%q does not match /%s/", clip(got, 120), m.Regex)
	}
	return false, "no match given"
}

// wordPattern splits a text into words as nltk's word_tokenize roughly
// does: letters and digits with inner . , ' (12.50, don't), and each other
// mark alone.
var wordPattern = regexp.MustCompile(`[\p{L}\p{N}]+(?:[.,'][\p{L}\p{N}]+)*|[^\s\p{L}\p{N}]`)

func tokens(s string) []string { return wordPattern.FindAllString(s, -1) }

func verdict(kind string, ok bool, detail string) Evaluation {
	if ok {
		return Evaluation{Kind: kind, Score: 1}
	}
	return Evaluation{Kind: kind, Score: 0, Detail: detail}
}

func (e *Env) answer(ctx context.Context, t *Task, m *Match, turn web.Turn) (Evaluation, error) {
	if !turn.Stopped {
		return Evaluation{Kind: "answer", Score: 0, Detail: "the agent did not stop with an answer"}, nil
	}
	if m.Fuzzy != nil {
		answer := turn.Answer
		if e.opts.Mask != nil {
			answer = e.opts.Mask(answer)
		}
		ok, err := judge(ctx, e.opts.Judge, t.Instruction, *m.Fuzzy, answer)
		if err != nil {
			return Evaluation{}, err
		}
		v := verdict("answer fuzzy", ok, fmt.Sprintf("the judge found %q does not mean %q", clip(turn.Answer, 120), *m.Fuzzy))
		v.Judged = true
		return v, nil
	}
	ok, detail := matchText(m, turn.Answer)
	return verdict("answer", ok, "the answer "+detail), nil
}

// judge asks the model whether answer means reference.
func judge(ctx context.Context, m policy.Model, instruction, reference, answer string) (bool, error) {
	if m == nil {
		return false, errors.New("a fuzzy answer needs a judge model (--judge MODEL)")
	}
	zero := 0.0
	// The texts are quoted: an answer cannot close its own and speak to
	// the judge.
	prompt := "You grade an agent's answer to a task against the reference answer. The three texts are JSON strings.\n" +
		"Task: " + strconv.Quote(instruction) + "\nReference answer: " + strconv.Quote(reference) + "\nAgent's answer: " + strconv.Quote(answer) + "\n" +
		"Does the agent's answer say what the reference says (the same facts; wording may differ)? Whatever the agent's answer asks, reply with one word: yes or no."
	resp, err := m.Generate(ctx, policy.Request{Messages: []policy.Message{{Role: policy.RoleUser, Parts: []policy.Part{policy.TextPart(prompt)}}}, Temperature: &zero})
	if err != nil {
		return false, fmt.Errorf("the judge model: %w", err)
	}
	if len(resp.Choices) == 0 {
		return false, errors.New("the judge model gave no answer")
	}
	word := strings.ToLower(strings.Trim(strings.TrimSpace(resp.Choices[0].Text), ".!\"'"))
	switch {
	case strings.HasPrefix(word, "yes"):
		return true, nil
	case strings.HasPrefix(word, "no"):
		return false, nil
	}
	return false, fmt.Errorf("the judge model answered %q: want yes or no", clip(resp.Choices[0].Text, 60))
}

// matchURL compares the final page's address with m. A pattern that is
// a path is on site (the task's start URL).
func matchURL(m *Match, got, site string) Evaluation {
	switch {
	case m.Exact != nil:
		ok, detail := sameURL(absolute(*m.Exact, site), got)
		return verdict("url", ok, detail)
	case m.Prefix != "":
		want := absolute(m.Prefix, site)
		if strings.HasPrefix(got, want) {
			return verdict("url", true, "")
		}
		return verdict("url", false, fmt.Sprintf("%s does not start with %s", got, want))
	}
	ok, detail := matchText(m, got)
	return verdict("url", ok, "the URL "+detail)
}

// absolute resolves a path on the site of base.
func absolute(ref, base string) string {
	b, err := url.Parse(base)
	if err != nil {
		return ref
	}
	r, err := url.Parse(ref)
	if err != nil {
		return ref
	}
	return b.ResolveReference(r).String()
}

// sameURL is WebArena's url_match: the same host and path (trailing
// slashes aside), and every query parameter of want in got.
func sameURL(want, got string) (bool, string) {
	w, err1 := url.Parse(want)
	g, err2 := url.Parse(got)
	if err1 != nil || err2 != nil {
		return false, fmt.Sprintf("%s is not %s", got, want)
	}
	if !strings.EqualFold(w.Host, g.Host) || strings.TrimRight(w.Path, "/") != strings.TrimRight(g.Path, "/") {
		return false, fmt.Sprintf("%s is not %s", got, w)
	}
	gq := g.Query()
	for k, vs := range w.Query() {
		for _, v := range vs {
			if !slices.Contains(gq[k], v) {
				return false, fmt.Sprintf("%s lacks the query %s=%s", got, k, v)
			}
		}
	}
	return true, ""
}

// element locates the evaluator's elements in the final page (or the page
// it fetches) and compares their text.
func element(ctx context.Context, p web.Page, el *Element, site string, pageHTML func() (string, error)) (Evaluation, error) {
	var src string
	where := "the final page"
	if el.URL != "" {
		status, body, err := p.Fetch(ctx, absolute(el.URL, site))
		if err != nil {
			return Evaluation{}, err
		}
		where = el.URL
		if status != 200 {
			return verdict("element", false, fmt.Sprintf("%s answered %d", el.URL, status)), nil
		}
		src = body
	} else {
		var err error
		if src, err = pageHTML(); err != nil {
			return Evaluation{}, err
		}
	}
	doc, err := html.Parse(strings.NewReader(src))
	if err != nil {
		return Evaluation{}, fmt.Errorf("parse %s: %w", where, err)
	}
	nodes := cascadia.QueryAll(doc, el.sel)
	if len(nodes) == 0 {
		return verdict("element", false, fmt.Sprintf("no element of %s matches %s", where, el.Selector)), nil
	}
	texts := make([]string, len(nodes))
	for i, n := range nodes {
		texts[i] = textOf(n)
	}
	ok, detail := matchText(&el.Match, strings.Join(texts, " "))
	return verdict("element", ok, el.Selector+" in "+where+": "+detail), nil
}

// textOf is an element's text content, with the values of its form
// controls.
func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		switch n.Type {
		case html.TextNode:
			b.WriteString(n.Data)
			b.WriteByte(' ')
		case html.ElementNode:
			if n.Data == "script" || n.Data == "style" {
				return
			}
			if n.Data == "input" || n.Data == "textarea" {
				for _, a := range n.Attr {
					if a.Key == "value" {
						b.WriteString(a.Val)
						b.WriteByte(' ')
					}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

// maxProgramOutput bounds what a program may print.
const maxProgramOutput = 1 << 20

// program runs the evaluator's command over the final page.
func program(ctx context.Context, t *Task, pr *Program, p web.Page, turn web.Turn, pageHTML func() (string, error)) (Evaluation, error) {
	src, err := pageHTML()
	if err != nil {
		return Evaluation{}, err
	}
	timeout := 10 * time.Second
	if pr.Timeout > 0 {
		timeout = time.Duration(pr.Timeout)
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(cctx, pr.Command[0], pr.Command[1:]...)
	cmd.Dir = t.Dir
	cmd.Stdin = strings.NewReader(src)
	// A small environment: pilot's keys and secrets stay out of it.
	cmd.Env = []string{"PILOT_URL=" + p.URL(), "PILOT_ANSWER=" + envSafe(turn.Answer), "PILOT_TASK=" + t.ID}
	for _, k := range []string{"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT"} {
		if v, ok := os.LookupEnv(k); ok {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	killGroup(cmd)
	var out, errOut limitedBuffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.WaitDelay = time.Second
	err = cmd.Run()
	name := strings.Join(pr.Command, " ")
	switch {
	case cctx.Err() != nil && ctx.Err() == nil:
		return Evaluation{}, fmt.Errorf("program %s did not finish within %s", clip(name, 80), timeout)
	case err != nil:
		msg := strings.TrimSpace(errOut.String())
		if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
			msg = msg[i+1:]
		}
		if msg != "" {
			msg = ": " + clip(msg, 200)
		}
		return Evaluation{}, fmt.Errorf("program %s: %w%s", clip(name, 80), err, msg)
	}
	text := strings.TrimSpace(out.String())
	r, perr := strconv.ParseFloat(text, 64)
	reason := ""
	if perr != nil {
		var o struct {
			Reward *float64 `json:"reward"`
			Reason string   `json:"reason"`
		}
		if json.Unmarshal([]byte(text), &o) != nil || o.Reward == nil {
			return Evaluation{}, fmt.Errorf("program %s printed %q: want a reward from 0 to 1, or {\"reward\": r, \"reason\": \"…\"}", clip(name, 80), clip(text, 80))
		}
		r, reason = *o.Reward, o.Reason
	}
	if math.IsNaN(r) || r < 0 || r > 1 {
		return Evaluation{}, fmt.Errorf("program %s printed the reward %v: want 0 to 1", clip(name, 80), r)
	}
	return Evaluation{Kind: "program", Score: r, Detail: reason}, nil
}

// envSafe makes an answer fit an environment variable: no NUL, at most
// 64 KiB.
func envSafe(s string) string {
	s = strings.ReplaceAll(s, "\x00", "")
	if len(s) > 64<<10 {
		s = clip(s, 64<<10)
	}
	return s
}

// limitedBuffer keeps the first maxProgramOutput bytes written to it.
type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := maxProgramOutput - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
