package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pilotkit/pilot/agent"
	"github.com/pilotkit/pilot/env/web/webtest"
	"github.com/pilotkit/pilot/robot/camera"
)

// TestMain fails the run when a test leaks a browser profile directory:
// pilot must close the browser whatever happens to the episode.
//
// With PILOT_TEST_CLI set to a JSON array of arguments, the test binary is
// pilot itself, run with them (main): tests start it as a process to kill.
func TestMain(m *testing.M) {
	if a := os.Getenv("PILOT_TEST_CLI"); a != "" {
		var args []string
		if err := json.Unmarshal([]byte(a), &args); err != nil {
			fmt.Fprintln(os.Stderr, "PILOT_TEST_CLI:", err)
			os.Exit(3)
		}
		os.Args = append(os.Args[:1], args...)
		main()
	}
	webtest.Main(m)
}

// startCLI starts pilot with args as a process of its own (this test
// binary, see TestMain), its output into files of dir.
func startCLI(t *testing.T, dir string, args ...string) *exec.Cmd {
	t.Helper()
	a, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "PILOT_TEST_CLI="+string(a))
	out, err := os.Create(filepath.Join(dir, fmt.Sprintf("cli-%d.log", time.Now().UnixNano())))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { out.Close() })
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// pilot runs the command line in-process.
func pilot(ctx context.Context, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(ctx, args, &out, &errb)
	return code, out.String(), errb.String()
}

// writePlan writes an actions file and returns its path.
func writePlan(t *testing.T, lines ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "plan.txt")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// revealPlan clicks the button of testdata/reveal.html and stops with the
// code it reveals.
var revealPlan = []string{`# reveal the code, then answer with it`, `click("3")`, `stop("4821")`}

func TestExitCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args       []string
		want       int
		wantStdout string // a substring of stdout
		wantStderr string // a substring of stderr
	}{
		{[]string{"--help"}, 0, "Available Commands", ""},
		{[]string{}, 0, "Available Commands", ""},
		{[]string{"run", "--help"}, 0, "--max-steps", ""},
		{[]string{"doctor", "-h"}, 0, "--json", ""},
		{[]string{"version"}, 0, "pilot ", ""},
		{[]string{"help", "run"}, 0, "--actions", ""},
		{[]string{"--bogus"}, 2, "", "pilot: unknown flag: --bogus\nrun 'pilot --help' for usage\n"},
		{[]string{"run", "--bogus"}, 2, "", "pilot: unknown flag: --bogus\nrun 'pilot run --help' for usage\n"},
		{[]string{"run", "--policy", "random", "--viewport", "abc"}, 2, "", `invalid argument "abc" for "--viewport"`},
		{[]string{"run", "--policy", "random", "--viewport", "50x50"}, 2, "", "want between 100x100"},
		{[]string{"run", "--url", "https://example.com"}, 2, "", "--policy replay needs --actions FILE"},
		{[]string{"run", "--policy", "nope"}, 2, "", `invalid argument "nope" for "--policy" flag: want one of replay, random`},
		{[]string{"run", "--policy", "random", "--actions", "x.txt"}, 2, "", "--actions is for --policy replay"},
		{[]string{"run", "--policy", "random", "--screenshot", "gif"}, 2, "", `for "--screenshot" flag`},
		{[]string{"run", "--policy", "random", "--max-steps", "x"}, 2, "", `for "--max-steps" flag`},
		{[]string{"run", "--policy", "random", "--max-steps", "-1"}, 2, "", "--max-steps -1"},
		{[]string{"run", "--url", "https://example.com", "--policy", "random", "--planner", "bfs"}, 2, "", "--planner bfs on a page of --url: give --value, one of oracle, judge"},
		{[]string{"run", "--url", "https://example.com", "--policy", "random", "--human", "robot"}, 2, "", `--human "robot": want none, terminal, web, simulated or model`},
		{[]string{"run", "--url", "https://example.com", "--policy", "random", "--human", "model"}, 2, "", "--human model needs --user-model PROVIDER:MODEL"},
		{[]string{"run", "--url", "https://example.com", "--policy", "random", "--max-questions", "3"}, 2, "", "--max-questions is for a --human"},
		{[]string{"run", "--url", "https://example.com", "--policy", "random", "--human", "web", "--human-addr", "0.0.0.0:80"}, 2, "", "listens on loopback only"},
		{[]string{"eval", "--suite", "demo", "--human", "terminal", "--workers", "2"}, 2, "", "--human terminal answers one episode at a time"},
		{[]string{"eval", "--suite", "demo", "--confirm", "always"}, 2, "", "--confirm always asks someone: give --human"},
		{[]string{"eval", "--suite", "demo", "--confirm", "sometimes"}, 2, "", `--confirm "sometimes": want never, auto or always`},
		{[]string{"run", "--url", "https://example.com", "--policy", "random", "--planner", "cem"}, 2, "", "--planner cem samples continuous actions, and a page of --url has none"},
		{[]string{"run", "--suite", "shop", "--engine", "lite", "--planner", "bfs", "--branch", "0"}, 2, "", "--branch 0: want 1 or more candidates per state"},
		{[]string{"run", "--policy", "random", "--max-time", "-1s"}, 2, "", "--max-time -1s"},
		{[]string{"run", "--policy", "random", "--url", "/page.html"}, 2, "", "or serve a directory with --serve"},
		{[]string{"run", "--policy", "random", "--url", "ftp://example.com/"}, 2, "", "want an http, https or file URL"},
		{[]string{"run", "--policy", "random", "--serve", "testdata/reveal.html"}, 2, "", "want a directory to serve"},
		{[]string{"run", "--policy", "random", "--browser", "localhost:9222"}, 2, "", "want ws://"},
		{[]string{"run", "--policy", "random", "extra"}, 2, "", `takes no arguments, got "extra"`},
		{[]string{"version", "extra"}, 2, "", "run 'pilot version --help' for usage"},
		{[]string{"nope"}, 2, "", "pilot: unknown command \"nope\" for \"pilot\"\nrun 'pilot --help' for usage\n"},
		{[]string{"rn"}, 2, "", "did you mean run or runs?"},
		{[]string{"completion", "bash", "nope"}, 2, "", "run 'pilot completion bash --help' for usage"},
		{[]string{"--version"}, 0, "pilot ", ""},
		{[]string{"-v"}, 2, "", "unknown shorthand flag: 'v' in -v"},
		{[]string{"run", "--url", "https://example.invalid/", "--actions", "testdata/missing.txt"}, 1, "", "testdata/missing.txt: no such file"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := pilot(t.Context(), tt.args...)
			if code != tt.want || !strings.Contains(stdout, tt.wantStdout) || !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("pilot %q = exit %d, stdout %q, stderr %q;\nwant exit %d, stdout containing %q, stderr containing %q",
					tt.args, code, clip(stdout), stderr, tt.want, tt.wantStdout, tt.wantStderr)
			}
		})
	}
}

func clip(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

func TestVersion(t *testing.T) {
	t.Parallel()
	code, stdout, _ := pilot(t.Context(), "version")
	if re := regexp.MustCompile(`^pilot \S+ \(go\S+, \w+/\w+\)\n$`); code != 0 || !re.MatchString(stdout) {
		t.Errorf("pilot version = %d, %q; want 0 and a line matching %s", code, stdout, re)
	}
	code, stdout, _ = pilot(t.Context(), "version", "--json")
	var v struct{ Version, Go, OS, Arch string }
	if err := json.Unmarshal([]byte(stdout), &v); code != 0 || err != nil || v.Version == "" || !strings.HasPrefix(v.Go, "go") || v.OS == "" {
		t.Errorf("pilot version --json = %d, %q (%v); want 0 and {version, go, os, arch}", code, stdout, err)
	}
}

// decodeOne decodes s, which must hold exactly one JSON object.
func decodeOne(t *testing.T, s string, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	if err := dec.Decode(v); err != nil {
		t.Fatalf("stdout %q: %v", s, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("stdout %q holds more than one JSON value", s)
	}
}

func TestRunJSON(t *testing.T) {
	t.Parallel()
	plan := writePlan(t, revealPlan...)
	code, stdout, stderr := pilot(t.Context(), "run", "--serve", "testdata", "--url", "/reveal.html",
		"--actions", plan, "--task", "find the code", "--answer", "4821", "--json")
	if code != 0 {
		t.Fatalf("pilot run --json = exit %d; stderr:\n%s", code, stderr)
	}
	var fields map[string]any
	decodeOne(t, stdout, &fields)
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range fields {
			if !yield(k) {
				return
			}
		}
	})
	wantKeys := []string{"cached_steps", "duration_ms", "error", "policy", "reason", "record_dir", "return", "reward", "steps", "success", "task", "terminated", "truncated", "url"}
	if !slices.Equal(keys, wantKeys) {
		t.Errorf("JSON keys = %v, want %v", keys, wantKeys)
	}
	var res runResult
	decodeOne(t, stdout, &res)
	want := runResult{Task: "find the code", URL: res.URL, Policy: "replay", Steps: 2, Terminated: true,
		Reason: "the agent stopped", Reward: 1, Return: 1, Success: true, DurationMS: res.DurationMS}
	if res != want {
		t.Errorf("result = %+v\nwant %+v", res, want)
	}
	if !regexp.MustCompile(`^http://127\.0\.0\.1:\d+/reveal\.html$`).MatchString(res.URL) || res.DurationMS <= 0 {
		t.Errorf("result url %q, duration_ms %d; want http://127.0.0.1:PORT/reveal.html and > 0", res.URL, res.DurationMS)
	}
	for _, s := range []string{`step 0  click("3")  reward 0`, `step 1  stop("4821")  reward 1`, "done: terminated (the agent stopped), reward 1, 2 steps"} {
		if !strings.Contains(stderr, s) {
			t.Errorf("stderr lacks %q:\n%s", s, stderr)
		}
	}
}

func TestRunWrongAnswer(t *testing.T) {
	t.Parallel()
	plan := writePlan(t, `click("3")`, `stop("1234")`)
	code, stdout, stderr := pilot(t.Context(), "run", "--serve", "testdata", "--url", "reveal.html",
		"--actions", plan, "--answer", "4821", "--json")
	var res runResult
	decodeOne(t, stdout, &res)
	if code != 0 || res.Reward != 0 || res.Success || !res.Terminated || res.Error != "" {
		t.Errorf("wrong answer: exit %d, %+v; want exit 0, terminated, reward 0, no success; stderr:\n%s", code, res, stderr)
	}
}

func TestRunRecordVerbose(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "rec")
	plan := writePlan(t, revealPlan...)
	code, stdout, stderr := pilot(t.Context(), "run", "--serve", "testdata", "--url", "/reveal.html",
		"--actions", plan, "--answer", "4821", "--record", dir, "--screenshot", "png", "--viewport", "800x600",
		"--allow-domain", "example.com", "-v")
	if code != 0 {
		t.Fatalf("pilot run --record = exit %d; stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, s := range []string{"step 0  click(\"3\")", "The code is 4821", "done: terminated", "recorded " + filepath.Join(dir, agent.TrajectoryFile)} {
		if !strings.Contains(stdout, s) {
			t.Errorf("stdout lacks %q:\n%s", s, stdout)
		}
	}
	f, err := os.Open(filepath.Join(dir, agent.TrajectoryFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	traj, err := agent.ReadJSONL(f)
	if err != nil {
		t.Fatalf("ReadJSONL: %v", err)
	}
	if len(traj.Steps) != 2 || !traj.Success || traj.Steps[1].ActionText != `stop("4821")` || traj.Policy != "replay" {
		t.Errorf("trajectory: %d steps, success %v, policy %q; want 2 steps ending stop(\"4821\"), success, replay", len(traj.Steps), traj.Success, traj.Policy)
	}
	imgs := traj.Steps[0].Obs.Images
	if len(imgs) != 1 || imgs[0].W != 800 || imgs[0].Path == "" {
		t.Fatalf("step 0 images = %+v; want one 800px wide screenshot stored", imgs)
	}
	if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(imgs[0].Path))); err != nil {
		t.Errorf("screenshot: %v", err)
	}

	// The recording replays: --actions takes the trajectory itself.
	code, stdout, stderr = pilot(t.Context(), "run", "--serve", "testdata", "--url", "/reveal.html",
		"--actions", filepath.Join(dir, agent.TrajectoryFile), "--answer", "4821", "--json")
	var sum struct {
		Steps   int  `json:"steps"`
		Success bool `json:"success"`
	}
	decodeOne(t, stdout, &sum)
	if code != 0 || sum.Steps != 2 || !sum.Success {
		t.Errorf("replay of the recorded trajectory = exit %d, %+v; want exit 0, 2 steps, success\nstderr:\n%s", code, sum, stderr)
	}
}

// TestRunCancel cancels the context mid-episode, as Ctrl-C does: pilot
// exits 1 and closes the browser (TestMain checks its profile is gone).
func TestRunCancel(t *testing.T) {
	t.Parallel()
	plan := writePlan(t, slices.Repeat([]string{"noop()"}, 10000)...)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var out, errb lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"run", "--serve", "testdata", "--actions", plan, "--max-steps", "0"}, &out, &errb)
	}()
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(out.String(), "step 3 "); {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no step 3 within 30s; stdout:\n%s\nstderr:\n%s", out.String(), errb.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case code := <-done:
		if code != 1 || !strings.Contains(errb.String(), "context canceled") {
			t.Errorf("cancelled run = exit %d, stderr %q; want exit 1 and context canceled", code, errb.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return within 30s of the cancellation")
	}
}

// lockedBuffer is a bytes.Buffer safe for one writer and one reader.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// These tests set PILOT_CHROME, so they do not run in parallel; the
// parallel tests run after them.

func TestRunWithoutChrome(t *testing.T) {
	t.Setenv("PILOT_CHROME", "/nonexistent")
	plan := writePlan(t, revealPlan...)
	code, stdout, stderr := pilot(t.Context(), "run", "--serve", "testdata", "--actions", plan)
	if code != 1 || !strings.Contains(stderr, "apt-get install chromium") {
		t.Errorf("pilot run without chromium = exit %d, stderr %q; want exit 1 and how to install it", code, stderr)
	}
	code, stdout, _ = pilot(t.Context(), "run", "--serve", "testdata", "--actions", plan, "--json")
	var res runResult
	decodeOne(t, stdout, &res)
	if code != 1 || !strings.Contains(res.Error, "apt-get install chromium") || res.Steps != 0 {
		t.Errorf("pilot run --json without chromium = exit %d, %+v; want exit 1 and the error in the JSON", code, res)
	}
}

func TestDoctorWithoutChrome(t *testing.T) {
	t.Setenv("PILOT_CHROME", "/nonexistent")
	code, stdout, stderr := pilot(t.Context(), "doctor")
	if code != 1 || !strings.HasPrefix(stdout, "MISSING  chromium") || !strings.Contains(stdout, "apt-get install chromium") {
		t.Errorf("pilot doctor without chromium = exit %d, stdout %q, stderr %q; want exit 1 and a MISSING chromium line with the fix", code, stdout, stderr)
	}
}

func TestDoctorJSON(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := pilot(t.Context(), "doctor", "--json")
	var out struct{ Checks []check }
	decodeOne(t, stdout, &out)
	i := slices.IndexFunc(out.Checks, func(c check) bool { return c.Name == "chromium" })
	if code != 0 || i < 0 || !out.Checks[i].OK || !out.Checks[i].Required || !strings.Contains(out.Checks[i].Detail, "hromium") {
		t.Fatalf("pilot doctor --json = exit %d, %s (stderr %q); want exit 0 and chromium found", code, stdout, stderr)
	}
	for _, c := range out.Checks {
		if c.Name == "" || c.Detail == "" || (!c.OK && c.Fix == "") {
			t.Errorf("check %+v: want a name, a detail, and a fix when it fails", c)
		}
	}
	// OpenCV is usable only when this binary has the gocv tag, whatever
	// the machine has installed.
	_, withCV := camera.OpenCVVersion()
	j := slices.IndexFunc(out.Checks, func(c check) bool { return c.Name == "opencv" })
	if j < 0 || out.Checks[j].OK != withCV || (!withCV && !strings.Contains(out.Checks[j].Fix, "-tags gocv")) {
		t.Errorf("opencv check %+v in a binary built with gocv=%v: want ok only with the tag, else a fix that rebuilds with it", out.Checks, withCV)
	}
}

func TestDoctorText(t *testing.T) {
	t.Parallel()
	code, stdout, _ := pilot(t.Context(), "doctor")
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	re := regexp.MustCompile(`^(ok|MISSING|optional) +(chromium|opencv|serial|go) +\S`)
	if code != 0 || len(lines) != 4 {
		t.Fatalf("pilot doctor = exit %d, %q; want exit 0 and 4 lines", code, stdout)
	}
	for _, l := range lines {
		if !re.MatchString(l) {
			t.Errorf("doctor line %q does not match %s", l, re)
		}
	}
}
