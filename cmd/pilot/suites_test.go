package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pilotkit/pilot/agent"
	"github.com/pilotkit/pilot/evals"
)

func TestSuitesCommand(t *testing.T) {
	code, out, errs := pilot(context.Background(), "suites", "--json")
	if code != 0 {
		t.Fatalf("pilot suites --json = exit %d: %s", code, errs)
	}
	var got struct{ Suites []suiteInfo }
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("pilot suites --json: %v\n%s", err, out)
	}
	want := map[string]string{"shop": "test 200, dev 100, train 700, ambiguous 116, injection 200", "demo": "test 4", "robot:reach": "test 100, train 1000", "robot:pick": "test 100, train 1000", "cartpole": "test 100, train 1000", "miniwob": "test -1"}
	for _, s := range got.Suites {
		var parts []string
		for _, sp := range s.Splits {
			parts = append(parts, sp.Name+" "+itoa(sp.Tasks))
		}
		if w, ok := want[s.Name]; !ok || strings.Join(parts, ", ") != w {
			t.Errorf("suite %s: splits %q, want %q", s.Name, strings.Join(parts, ", "), w)
		}
		delete(want, s.Name)
	}
	if len(want) > 0 {
		t.Errorf("pilot suites lacks %v", want)
	}
	code, out, _ = pilot(context.Background(), "suites")
	if code != 0 || !strings.Contains(out, "chromium, lite") || !strings.Contains(out, "fast, serial") || !strings.Contains(out, "test (from --param dir)") {
		t.Errorf("pilot suites = exit %d:\n%s", code, out)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestRunSuiteTask plays one shop task in lite, records it, and replays
// the recording: the replay starts at the recording's task, in its suite.
func TestRunSuiteTask(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := pilot(context.Background(), "run", "--suite", "shop", "--engine", "lite", "--task", "shop-test-0003", "--policy", "nn:shop", "--record", dir, "--json")
	if code != 0 {
		t.Fatalf("run --suite shop = exit %d: %s", code, errs)
	}
	var res runResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.Task != "shop-test-0003" || !res.Success || !strings.Contains(errs, "shop/test shop-test-0003: ") {
		t.Errorf("run --suite shop --task shop-test-0003: %+v\n%s", res, errs)
	}
	traj := filepath.Join(dir, agent.TrajectoryFile)
	code, out, errs = pilot(context.Background(), "run", "--actions", traj, "--engine", "lite", "--json")
	if code != 0 {
		t.Fatalf("replay = exit %d: %s", code, errs)
	}
	var rep runResult
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Task != "shop-test-0003" || !rep.Success || rep.Steps != res.Steps {
		t.Errorf("replay of the recording: %+v, want the same task, success and %d steps (no added stop)\n%s", rep, res.Steps, errs)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--suite", "nope"}, `unknown suite "nope"`},
		{[]string{"run", "--suite", "shop", "--engine", "lite", "--task", "shop-test-9999"}, `suite shop/test has no task "shop-test-9999"`},
		{[]string{"run", "--suite", "shop", "--url", "https://example.com"}, "--url, --serve and --answer are for a page"},
		{[]string{"run", "--suite", "robot:pick", "--engine", "serial"}, "needs a port"},
		{[]string{"run", "--policy", "nn:shop", "--url", "https://example.com"}, "give --suite NAME"},
	} {
		code, _, errs := pilot(context.Background(), tc.args...)
		if code != 2 || !strings.Contains(errs, tc.want) {
			t.Errorf("pilot %q = exit %d, %q; want exit 2 with %q", tc.args, code, errs, tc.want)
		}
	}
}

// TestRunSuiteMaxSteps: cartpole's own step limit (none) applies in run.
func TestRunSuiteMaxSteps(t *testing.T) {
	code, out, errs := pilot(context.Background(), "run", "--suite", "cartpole", "--task", "cartpole-test-0001", "--json")
	var res runResult
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || !res.Success || res.Steps != 500 {
		t.Errorf("run --suite cartpole = exit %d, %+v; want success in 500 steps\n%s", code, res, errs)
	}
}

func TestEvalTasks(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	code, out, errs := pilot(context.Background(), "eval", "--suite", "shop", "--engine", "lite", "--task", "shop-test-0007", "--task", "shop-test-0003", "--run-dir", dir, "--json", "-v")
	if code != 0 {
		t.Fatalf("eval --task = exit %d: %s", code, errs)
	}
	var rep evals.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Episodes != 2 || !strings.Contains(errs, "observation after reset:") || !strings.Contains(errs, "step 0  fill(") {
		t.Errorf("eval --task ×2 -v: %d episodes; stderr:\n%s", rep.Episodes, errs)
	}
}

// TestShopRandomSearches: the shop's random baseline types searches.
func TestShopRandomSearches(t *testing.T) {
	code, _, errs := pilot(context.Background(), "eval", "--suite", "shop", "--engine", "lite", "--policy", "random", "--episodes", "3", "--max-steps", "30", "-v", "--run-dir", filepath.Join(t.TempDir(), "r"))
	if code != 0 || !strings.Contains(errs, `fill("`) || !strings.Contains(errs, "/search?q=") {
		t.Errorf("random on the shop = exit %d; it never searched:\n%.3000s", code, errs)
	}
}
