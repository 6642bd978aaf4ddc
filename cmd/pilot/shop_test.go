package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pilotkit/pilot/env/shop"
)

func TestShopUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args       []string
		want       int
		wantStderr string
	}{
		{[]string{"shop", "tasks", "--split", "validation"}, 2, `--split "validation": want train, dev or test`},
		{[]string{"shop", "tasks", "--products", "0"}, 2, "--products 0: want 1 to"},
		{[]string{"shop", "tasks", "--seed", "x"}, 2, `invalid argument "x" for "--seed"`},
		{[]string{"shop", "tasks", "extra"}, 2, "takes no arguments"},
		{[]string{"shop", "serve", "--addr", "8080"}, 2, `--addr "8080": want host:port`},
		{[]string{"shop", "serve", "--products", "-3"}, 2, "--products -3"},
		{[]string{"shop", "nope"}, 2, `unknown command "nope" for "pilot shop"`},
		{[]string{"shop", "serve", "--addr", "256.0.0.1:1"}, 1, "serve the shop"},
	}
	for _, tt := range tests {
		code, _, stderr := pilot(t.Context(), tt.args...)
		if code != tt.want || !strings.Contains(stderr, tt.wantStderr) {
			t.Errorf("pilot %s = exit %d, stderr %q; want exit %d and %q", strings.Join(tt.args, " "), code, stderr, tt.want, tt.wantStderr)
		}
	}
	code, stdout, _ := pilot(t.Context(), "shop", "--help")
	if code != 0 || !strings.Contains(stdout, "serve") || !strings.Contains(stdout, "tasks") {
		t.Errorf("pilot shop --help = exit %d:\n%s", code, stdout)
	}
}

func TestShopTasks(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := pilot(t.Context(), "shop", "tasks", "--split", "test")
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if code != 0 || len(lines) != shop.TestTasks {
		t.Fatalf("pilot shop tasks = exit %d, %d lines (stderr %q), want %d", code, len(lines), stderr, shop.TestTasks)
	}
	if !regexp.MustCompile(`^shop-test-0000  \S.*address: .+, [A-Z]{2} [0-9]{5}$`).MatchString(lines[0]) {
		t.Errorf("first line %q, want \"id  instruction\"", lines[0])
	}

	code, stdout, _ = pilot(t.Context(), "shop", "tasks", "--split", "dev", "--seed", "3", "--products", "500", "--json")
	var tasks []shop.Task
	if err := json.Unmarshal([]byte(stdout), &tasks); err != nil || code != 0 {
		t.Fatalf("pilot shop tasks --json = exit %d, %v", code, err)
	}
	want, _ := shop.NewTaskSet(shop.NewCatalog(3, 500), 3).Split("dev")
	if len(tasks) != shop.DevTasks || tasks[7].Instruction != want[7].Instruction || tasks[7].Goal.TargetID != want[7].Goal.TargetID {
		t.Errorf("pilot shop tasks --json: %d tasks, want the dev split of seed 3 with goals", len(tasks))
	}
}

// TestShopServe serves the store on a free port, starts an episode over
// the API and stops on cancellation, as on Ctrl-C.
func TestShopServe(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var out, errb lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"shop", "serve", "--addr", "127.0.0.1:0", "--products", "300", "--seed", "2"}, &out, &errb)
	}()
	addrRE := regexp.MustCompile(`at (http://127\.0\.0\.1:[0-9]+)/`)
	var base string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if m := addrRE.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no address within 30s; stdout %q, stderr %q", out.String(), errb.String())
		}
	}
	if !strings.Contains(out.String(), "serving 300 products (seed 2") {
		t.Errorf("stdout %q, want the catalog size and seed", out.String())
	}
	resp, err := http.Post(base+"/api/episodes", "application/json", strings.NewReader(`{"task_id": "shop-test-0001"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var ep map[string]string
	if err := json.Unmarshal(body, &ep); err != nil || resp.StatusCode != 201 || !strings.HasPrefix(ep["start_url"], base+"/s/") {
		t.Errorf("POST /api/episodes = %d %s", resp.StatusCode, body)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 || !strings.Contains(out.String(), "stopped") {
			t.Errorf("pilot shop serve after cancel = exit %d, stdout %q, stderr %q", code, out.String(), errb.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("pilot shop serve did not stop within 30s of the cancellation")
	}
}
