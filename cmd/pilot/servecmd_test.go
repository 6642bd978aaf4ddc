package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestServeUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		msg  string // in stderr
	}{
		{[]string{"serve"}, "--suite (or --tasks FILE) is required"},
		{[]string{"serve", "--tasks", "../../testdata/tasks/tasks.jsonl", "--suite", "shop"}, "--tasks and --suite shop are exclusive"},
		{[]string{"serve", "--suite", "nope"}, `unknown suite "nope"`},
		{[]string{"serve", "--suite", "shop", "--addr", "0.0.0.0:8765"}, "loopback only"},
		{[]string{"serve", "--suite", "shop", "--addr", "192.168.1.2:0"}, "loopback only"},
		{[]string{"serve", "--suite", "shop", "--addr", "8765"}, "want host:port"},
		{[]string{"serve", "--suite", "shop", "--engine", "fast"}, `does not run on engine "fast"`},
		{[]string{"serve", "--suite", "shop", "--engine", "lite", "--screenshot", "png"}, "takes no screenshots"},
		{[]string{"serve", "--suite", "shop", "--max-sessions", "0"}, "--max-sessions 0"},
		{[]string{"serve", "--suite", "shop", "--idle", "0s"}, "--idle 0s"},
		{[]string{"serve", "--suite", "shop", "--param", "colour=red"}, `no parameter "colour"`},
		{[]string{"serve", "--suite", "shop", "extra"}, "takes no arguments"},
	}
	for _, tt := range tests {
		code, _, stderr := pilot(context.Background(), tt.args...)
		if code != exitUsage || !strings.Contains(stderr, tt.msg) {
			t.Errorf("pilot %s = exit %d, stderr %q; want 2 with %q", strings.Join(tt.args, " "), code, stderr, tt.msg)
		}
	}
}

// serving runs pilot serve in-process until the test ends and returns
// the base URL it printed.
func serving(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var stderr strings.Builder
	exited := make(chan int, 1)
	go func() {
		code := run(ctx, args, pw, &lockedWriter{w: &stderr})
		pw.Close()
		exited <- code
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-exited:
			if code != exitOK {
				t.Errorf("pilot %s = exit %d after the cancel, want 0; stderr:\n%s", strings.Join(args, " "), code, stderr.String())
			}
		case <-time.After(time.Minute):
			t.Errorf("pilot serve did not stop within a minute of the cancel")
		}
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	m := regexp.MustCompile(`^pilot serve: listening on (http://127\.0\.0\.1:[0-9]+) \(OpenAPI: (\S+)/openapi\.json\)\n$`).FindStringSubmatch(line)
	if err != nil || m == nil || m[1] != m[2] {
		t.Fatalf("pilot %s printed %q (%v), want its address line", strings.Join(args, " "), line, err)
	}
	return m[1]
}

// docServe reads docs/serve.md: its first `bin/pilot serve …` command
// and its Python code block.
func docServe(t *testing.T) (args []string, client string) {
	t.Helper()
	b, err := os.ReadFile("../../docs/serve.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	cmd := regexp.MustCompile("`bin/pilot (serve [^`]*)`").FindStringSubmatch(doc)
	code := regexp.MustCompile("(?s)```python\n(.*?)```").FindStringSubmatch(doc)
	if cmd == nil || code == nil {
		t.Fatal("docs/serve.md has no `bin/pilot serve …` command or no Python code block")
	}
	if args, err = shellWords(cmd[1]); err != nil {
		t.Fatal(err)
	}
	return args, code[1]
}

// python3 is Debian's python3 where it is, else the first on PATH.
func python3(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		return "/usr/bin/python3"
	}
	p, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3 (apt-get install python3): the doc's Python client is not run")
	}
	return p
}

// TestServeDocClient runs docs/serve.md's Python client, with python3,
// against the command the page documents (on a free port): it plays its
// episode to the order and closes its session.
func TestServeDocClient(t *testing.T) {
	t.Parallel()
	py := python3(t)
	args, client := docServe(t)
	if n := strings.Count(strings.TrimSpace(client), "\n") + 1; n > 35 {
		t.Errorf("the doc's client has %d lines, want about 30", n)
	}
	base := serving(t, append(args, "--addr", "127.0.0.1:0")...)
	path := filepath.Join(t.TempDir(), "client.py")
	if err := os.WriteFile(path, []byte(client), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, py, path, base).CombinedOutput()
	if err != nil {
		t.Fatalf("%s client.py %s: %v\n%s", py, base, err, out)
	}
	done := regexp.MustCompile(`(?m)^done: reward (\d\.\d\d) after (\d+) steps \(order placed: reward [0-9.]+\)$`).FindStringSubmatch(string(out))
	if done == nil || done[1] == "0.00" || !strings.Contains(string(out), "task: i want") {
		t.Fatalf("the client printed:\n%s\nwant the task and `done: reward R after N steps (order placed…)` with R > 0", out)
	}
	var suite struct {
		Sessions int `json:"sessions"`
	}
	resp, err := http.Get(base + "/v1/suite")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&suite); err != nil || suite.Sessions != 0 {
		t.Errorf("sessions open after the client = %d (%v), want 0: it deletes its session", suite.Sessions, err)
	}
	t.Logf("the client: %s", done[0])
}

// TestServeSIGINT stops pilot serve, a process of its own, with Ctrl-C's
// signal: it exits 0.
func TestServeSIGINT(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cmd := startCLI(t, dir, "serve", "--suite", "shop", "--engine", "lite", "--param", "products=200", "--addr", "127.0.0.1:0")
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var base string
	deadline := time.Now().Add(time.Minute)
	for base == "" {
		logs, _ := filepath.Glob(filepath.Join(dir, "cli-*.log"))
		for _, l := range logs {
			b, _ := os.ReadFile(l)
			if m := regexp.MustCompile(`listening on (http://\S+)`).FindSubmatch(b); m != nil {
				base = string(m[1])
			}
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatal("pilot serve printed no address within a minute")
		}
		time.Sleep(20 * time.Millisecond)
	}
	resp, err := http.Post(base+"/v1/sessions", "application/json", strings.NewReader(`{"index": 1}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /v1/sessions = %d, want 201", resp.StatusCode)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			logs, _ := filepath.Glob(filepath.Join(dir, "cli-*.log"))
			b, _ := os.ReadFile(logs[0])
			t.Fatalf("pilot serve after SIGINT: %v, want exit 0\n%s", err, b)
		}
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		t.Fatal("pilot serve did not exit within a minute of SIGINT")
	}
	if _, err := http.Get(base + "/v1/suite"); err == nil {
		t.Errorf("%s still answers after the exit", base)
	}
}
