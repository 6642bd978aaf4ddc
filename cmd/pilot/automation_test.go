package main

import (
	"context"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/policy/openai/openaitest"
)

// signupTask is docs/automation.md's task.
const (
	signupTask   = "Sign up Ada Lovelace (ada@example.com, born 1815-12-10) for the Pro membership, accepting the club rules, and answer with her membership number."
	signupAnswer = "P-18151210"
)

var reLineID = regexp.MustCompile(`\[(\d+)\] (\w+) "([^"]*)"(.*)`)

// signupModel fills the club's form as a model reads it: from the
// observation in the prompt, by the fields' names.
func signupModel(t *testing.T, calls *atomic.Int64) *openaitest.Server {
	return openaitest.NewServer(t, func(req openaitest.ChatRequest) openaitest.Reply {
		calls.Add(1)
		_, _, obs := promptParts(t, userPrompt(req))
		if m := regexp.MustCompile(`membership number is ([A-Z]-\d+)`).FindStringSubmatch(obs); m != nil {
			return answer(req, env.A("stop", m[1]))
		}
		for _, line := range strings.Split(obs, "\n") {
			m := reLineID.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			id, role, name, rest := m[1], m[2], m[3], m[4]
			switch {
			case name == "Full name" && strings.Contains(rest, `value=""`):
				return answer(req, env.A("fill", id, "Ada Lovelace"))
			case name == "Email" && strings.Contains(rest, `value=""`):
				return answer(req, env.A("fill", id, "ada@example.com"))
			case name == "Date of birth" && strings.Contains(rest, `value=""`):
				return answer(req, env.A("fill", id, "1815-12-10"))
			case name == "Membership" && !strings.Contains(rest, `value="Pro"`):
				return answer(req, env.A("select_option", id, "Pro"))
			case role == "checkbox" && !strings.Contains(rest, "checked"):
				return answer(req, env.A("click", id))
			case role == "button" && name == "Join":
				return answer(req, env.A("click", id))
			}
		}
		return answer(req, env.A("noop"))
	})
}

var (
	reTimes   = regexp.MustCompile(`\(\d+ms env, \d+ms policy\)|, \d+(\.\d+)?m?s, |127\.0\.0\.1:\d+`)
	reDocRuns = regexp.MustCompile("(?s)```\n(step 0 .*?done: [^\n]*)\n```")
)

// sameRun compares a run's step and done lines with a transcript of
// docs/automation.md, times and ports aside.
func sameRun(t *testing.T, what, doc, out string) {
	t.Helper()
	norm := func(s string) []string {
		var lines []string
		for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
			if strings.HasPrefix(l, "step ") || strings.HasPrefix(l, "done: ") {
				lines = append(lines, reTimes.ReplaceAllString(l, "…"))
			}
		}
		return lines
	}
	d, o := norm(doc), norm(out)
	if strings.Join(d, "\n") != strings.Join(o, "\n") {
		t.Errorf("%s: docs/automation.md shows\n%s\nbut the run printed\n%s", what, strings.Join(d, "\n"), strings.Join(o, "\n"))
	}
}

// TestCachedAutomation runs docs/automation.md's worked example: a model
// fills a form on a local site, then the rerun replays it from the cache
// with no model call.
func TestCachedAutomation(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	srv := signupModel(t, &calls)
	doc, err := os.ReadFile("../../docs/automation.md")
	if err != nil {
		t.Fatal(err)
	}
	runs := reDocRuns.FindAllStringSubmatch(string(doc), -1)
	if len(runs) < 2 {
		t.Fatalf("docs/automation.md has %d run transcripts, want the first run and the rerun", len(runs))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	args := []string{"run", "--serve", "../../testdata/sites/signup", "--task", signupTask, "--answer", signupAnswer,
		"--model", "openai:gpt-4o-mini", "--base-url", srv.URL, "--cache", dir}
	code, out, errs := pilot(ctx, args...)
	if code != 0 {
		t.Fatalf("first run: exit %d\n%s\n%s", code, out, errs)
	}
	first := calls.Load()
	if first != 7 || !strings.Contains(out, "0 from the cache, 7 from the policy") {
		t.Errorf("first run: %d model calls, want 7:\n%s", first, out)
	}
	sameRun(t, "first run", runs[0][1], out)
	code, out, errs = pilot(ctx, args...)
	if code != 0 {
		t.Fatalf("rerun: exit %d\n%s\n%s", code, out, errs)
	}
	if n := calls.Load() - first; n != 0 || !strings.Contains(out, "7 from the cache, 0 from the policy") {
		t.Errorf("rerun: %d model calls, want 0:\n%s", n, out)
	}
	sameRun(t, "rerun", runs[1][1], out)
}
