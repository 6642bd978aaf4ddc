package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// docSkips are the documented commands the docs test does not run, by a
// pattern of the command line, with the reason. Every other bin/pilot
// line of README.md and docs/*.md runs (reduced as docReduce says), so a
// new doc line is either run or given a reason here.
var docSkips = []struct {
	pattern, reason string
}{
	{`--model `, "needs a model: an API key, or a model server running"},
	{`/dev/ttyACM0`, "needs a real arm on USB"},
	{`https://example\.com`, "needs the internet"},
	{`"\$PORT"|robot sim`, "needs the simulator's port from a shell pipeline; TestRobotSimAndRunPick runs the same commands"},
	{`shop serve`, "serves until Ctrl-C; shop_test.go serves the store"},
	{`pilot view `, "serves until Ctrl-C; TestViewCommand serves a run and reads an episode"},
	{`nn:runs/`, "needs the policy a documented pilot train writes first"},
	{`robot:pick --planner cem`, "CEM on pick plans 768 simulated steps a step, slow under -race; TestRunPickWithCEMFast and TestRunPickWithCEMOverSerial run it (the robot:reach line runs here)"},
	{`export (sft|dpo) runs/`, "reads the searched run of a trained policy above it; TestEvalShopPlanner exports such a run in every format and reads each line back"},
	{`train --env (shop|robot:reach)`, "trains for tens of seconds; train_test.go runs pilot train on them with small budgets"},
	{`--resume runs/|runs (show|export|compare) runs/|report runs/`, "reads the run that the eval above it makes; TestRunsCommands runs them in order"},
	{`runs merge runs/`, "merges the shards that the evals above it make; TestShardsMerge runs them in order"},
	{`runs compare runs/scale|runs merge /runs|runs show /runs`, "reads the runs that the commands above it make (or a cluster's volume); TestShardsMerge runs them in order"},
	{`--shard [0-9]/3 --run-dir runs/scale-s[0-9] &`, "three processes at once, in the background; TestShardsMerge runs three shards and their merge"},
	{`--browser ws://10\.`, "needs a fleet of browsers on other machines; TestEvalBrowserFleet runs a fleet of two"},
	{`--split test --episodes 200`, "the 200-episode benchmark; the same command with 2 episodes runs below as the lite/robot evals"},
}

// docReduce shortens what a documented command does, keeping its flags:
// an eval plays 2 episodes (6 when sharded; a later flag wins), and nothing is written
// into the repository.
func docReduce(args []string, tmp string) []string {
	switch args[0] {
	case "eval":
		hasTasks := false
		for _, a := range args {
			hasTasks = hasTasks || a == "--task"
		}
		if !hasTasks {
			n := "2"
			if contains(args, "--shard") {
				n = "6" // a slice for each of the shards
			}
			args = append(args, "--episodes", n)
		}
		args = append(args, "--run-dir", filepath.Join(tmp, "run"))
	case "train":
		if !contains(args, "--out") {
			args = append(args, "--out", filepath.Join(tmp, "train"))
		}
	}
	for i := 1; i < len(args); i++ {
		switch args[i-1] {
		case "--record", "--out", "--run-dir":
			args[i] = filepath.Join(tmp, filepath.Base(args[i]))
			continue
		}
		// Paths in the docs are from the repository's root.
		if p := filepath.Join("..", "..", args[i]); !strings.HasPrefix(args[i], "-") && strings.Contains(args[i], "/") {
			if _, err := os.Stat(p); err == nil {
				args[i] = p
			}
		}
	}
	return args
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestDocCommands runs the bin/pilot command lines of README.md and
// docs/*.md that need no network, key or hardware, as a user pasting them
// after make build would.
func TestDocCommands(t *testing.T) {
	files, _ := filepath.Glob("../../docs/*.md")
	files = append(files, "../../README.md")
	var lines []docLine
	for _, f := range files {
		ls, err := docCommands(f)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, ls...)
	}
	if len(lines) < 30 {
		t.Fatalf("found %d bin/pilot lines in the docs, want the lot", len(lines))
	}
	ran := 0
	for _, l := range lines {
		skip := ""
		for _, s := range docSkips {
			if regexp.MustCompile(s.pattern).MatchString(l.text) {
				skip = s.reason
				break
			}
		}
		if skip != "" {
			t.Logf("%s: skip %q: %s", l.where, l.text, skip)
			continue
		}
		args, err := shellWords(l.text)
		if err != nil {
			t.Errorf("%s: %q: %v", l.where, l.text, err)
			continue
		}
		ran++
		t.Run(l.where, func(t *testing.T) {
			t.Parallel()
			args := docReduce(args[1:], t.TempDir())
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			code, stdout, stderr := pilot(ctx, args...)
			want := 0
			if args[0] == "doctor" {
				want = code // doctor exits 1 when a required check fails; what it prints is TestDoctor's
			}
			if code != want || strings.Contains(stderr, "panic") {
				t.Errorf("%s: bin/pilot %s = exit %d\nstdout:\n%s\nstderr:\n%s", l.where, strings.Join(args, " "), code, clipDoc(stdout), clipDoc(stderr))
			}
		})
	}
	if ran < 10 {
		t.Errorf("ran %d documented commands, want at least 10", ran)
	}
}

func clipDoc(s string) string {
	if len(s) > 2000 {
		return s[:1000] + "\n…\n" + s[len(s)-1000:]
	}
	return s
}

type docLine struct{ where, text string }

// docCommands returns the bin/pilot lines of the fenced code blocks of a
// Markdown file, continuations joined and comments cut.
func docCommands(path string) ([]docLine, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []docLine
	sc := bufio.NewScanner(f)
	inCode, n, cont := false, 0, ""
	start := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "```") {
			inCode = !inCode
			continue
		}
		if !inCode {
			continue
		}
		line = strings.TrimPrefix(line, "$ ")
		if cont == "" && !strings.HasPrefix(line, "bin/pilot ") {
			continue
		}
		if cont == "" {
			start = n
		}
		if strings.HasSuffix(line, `\`) {
			cont += strings.TrimSuffix(line, `\`) + " "
			continue
		}
		text := cutComment(cont + line)
		cont = ""
		out = append(out, docLine{fmt.Sprintf("%s:%d", filepath.Base(path), start), text})
	}
	return out, sc.Err()
}

// cutComment drops a trailing "# …" outside quotes.
func cutComment(s string) string {
	var q rune
	for i, r := range s {
		switch {
		case q != 0 && r == q:
			q = 0
		case q == 0 && (r == '"' || r == '\''):
			q = r
		case q == 0 && r == '#' && (i == 0 || s[i-1] == ' '):
			return strings.TrimSpace(s[:i])
		}
	}
	return strings.TrimSpace(s)
}

// shellWords splits a command line as sh does for the quoting the docs
// use: spaces, '…' and "…".
func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	var q rune
	inWord := false
	for _, r := range s {
		switch {
		case q != 0 && r == q:
			q = 0
		case q != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			q, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case strings.ContainsRune("|&;<>$`", r):
			return nil, errors.New("a shell construct the docs test cannot run: give it a reason in docSkips")
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if q != 0 {
		return nil, errors.New("unclosed quote")
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
