package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pilotkit/pilot/env/web"
	"github.com/pilotkit/pilot/evals"
	"github.com/pilotkit/pilot/evals/runstore"
)

// The documented runs commands, in order: an eval, then ls, show, export
// and a resume of it.
func TestRunsCommands(t *testing.T) {
	root := filepath.Join(t.TempDir(), "runs")
	dir := filepath.Join(root, "lite-1")
	code, _, errs := pilot(t.Context(), "eval", "--suite", "shop", "--engine", "lite", "--episodes", "6", "--workers", "2", "--run-dir", dir)
	if code != 0 {
		t.Fatalf("pilot eval = exit %d: %s", code, errs)
	}
	code, out, errs := pilot(t.Context(), "runs", "ls", root)
	if code != 0 || !strings.Contains(out, dir) || !strings.Contains(out, "6/6") || !strings.Contains(out, "complete") {
		t.Errorf("pilot runs ls = exit %d\n%s%s\nwant the run, 6/6, complete", code, out, errs)
	}
	code, out, _ = pilot(t.Context(), "runs", "ls", root, "--json")
	var ls struct{ Runs []runRow }
	if code != 0 || json.Unmarshal([]byte(out), &ls) != nil || len(ls.Runs) != 1 || ls.Runs[0].Finished != 6 || ls.Runs[0].Suite != "shop/test" {
		t.Errorf("pilot runs ls --json = exit %d: %s", code, out)
	}
	code, out, errs = pilot(t.Context(), "runs", "show", dir)
	if code != 0 || !strings.Contains(out, "shop/test  6 ") || !strings.Contains(out, "state complete; policy expert, seed 1") || !strings.Contains(out, "engine lite") {
		t.Errorf("pilot runs show = exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = pilot(t.Context(), "runs", "export", dir)
	rs, err := evals.ReadResults(strings.NewReader(out))
	if code != 0 || err != nil || len(rs) != 6 || rs[0].TaskID != "shop-test-0000" || rs[5].TaskID != "shop-test-0005" {
		t.Errorf("pilot runs export = exit %d, %d results, %v: %s", code, len(rs), err, errs)
	}
	other := filepath.Join(root, "random-1")
	if code, _, errs := pilot(t.Context(), "eval", "--suite", "shop", "--engine", "lite", "--episodes", "6", "--policy", "random", "--max-steps", "5", "--run-dir", other); code != 0 {
		t.Fatalf("pilot eval --policy random = exit %d: %s", code, errs)
	}
	code, out, errs = pilot(t.Context(), "runs", "compare", dir, other)
	if code != 0 || !strings.Contains(out, "B − A: -100.0 points over 6 paired episodes; McNemar exact p = 0.0313 (6 discordant); 0 unpaired") ||
		strings.Count(out, "  only A: shop-test-") != 6 {
		t.Errorf("pilot runs compare = exit %d\n%s%s\nwant the expert ahead on all 6, p = 2/64", code, out, errs)
	}
	code, _, errs = pilot(t.Context(), "eval", "--resume", dir)
	if code != 0 || !strings.Contains(errs, "resuming: 6 of 6 episodes are done") {
		t.Errorf("pilot eval --resume = exit %d: %s", code, errs)
	}
	code, out, _ = pilot(t.Context(), "runs", "ls", filepath.Join(root, "none"))
	if code != 0 || !strings.Contains(out, "no runs in") {
		t.Errorf("pilot runs ls of no directory = exit %d: %s", code, out)
	}
	code, _, errs = pilot(t.Context(), "runs", "show", root)
	if code == 0 || !strings.Contains(errs, "no run in") {
		t.Errorf("pilot runs show of a directory without a run = exit %d: %s", code, errs)
	}
}

// pilot eval killed with SIGKILL at three moments, each time resumed:
// every planned episode ends with exactly one final result, and the
// results are those of a run that was never killed.
func TestEvalKillResume(t *testing.T) {
	const episodes = 60
	args := []string{"eval", "--suite", "shop", "--engine", "lite", "--episodes", fmt.Sprint(episodes)}
	ref := filepath.Join(t.TempDir(), "ref")
	if code, _, errs := pilot(t.Context(), append(args, "--run-dir", ref)...); code != 0 {
		t.Fatalf("the uninterrupted run = exit %d: %s", code, errs)
	}
	want := finalResults(t, ref)

	tmp := t.TempDir()
	dir := filepath.Join(tmp, "run")
	rng := rand.New(rand.NewPCG(12, 3))
	killed := 0
	for i := range 3 {
		// Kill once the store holds somewhat more than before: a moment
		// chosen by progress, not by the clock, so that it holds on a
		// busy machine.
		at := (i*episodes)/3 + 1 + rng.IntN(episodes/3-2)
		runArgs := append(args, "--run-dir", dir)
		if i > 0 {
			runArgs = []string{"eval", "--resume", dir}
		}
		cmd := startCLI(t, tmp, runArgs...)
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		n := waitForResults(t, dir, at, exited)
		if n >= 0 {
			if err := cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
				t.Fatal(err)
			}
			err := <-exited
			var ee *exec.ExitError
			if errors.As(err, &ee) && ee.Sys().(syscall.WaitStatus).Signaled() {
				killed++
			}
		}
		t.Logf("process %d killed with %d of %d results stored", i+1, n, episodes)
	}
	if killed == 0 {
		t.Fatalf("no process was killed before it ended: the test tested nothing")
	}
	code, _, errs := pilot(t.Context(), "eval", "--resume", dir)
	if code != 0 {
		t.Fatalf("the last resume = exit %d: %s", code, errs)
	}
	got := finalResults(t, dir)
	if len(got) != episodes {
		t.Fatalf("%d final results after the kills and resumes, want %d", len(got), episodes)
	}
	for id, w := range want {
		if g, ok := got[id]; !ok || g != w {
			t.Errorf("%s: %q after kills, %q uninterrupted", id, g, w)
		}
	}
	// Every episode is stored once as final, whatever was retried.
	db, err := runstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st, err := db.Status(context.Background())
	if err != nil || st.Finished != episodes || st.Planned != episodes || !st.Ended || st.Interrupted {
		t.Errorf("status %+v, %v; want %d of %d, ended", st, err, episodes, episodes)
	}
}

// finalResults reads a run's final results: task → outcome, reward and
// steps.
func finalResults(t *testing.T, dir string) map[string]string {
	t.Helper()
	db, err := runstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rs, err := db.Results()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range rs {
		if _, dup := out[r.TaskID]; dup {
			t.Errorf("%s has two final results", r.TaskID)
		}
		out[r.TaskID] = fmt.Sprintf("%s reward %.3f steps %d", r.Outcome, r.Reward, r.Steps)
	}
	return out
}

// waitForResults waits until the run in dir holds at least n final
// results and returns how many it holds, or -1 when the process ended
// first (its error then has been taken from exited).
func waitForResults(t *testing.T, dir string, n int, exited <-chan error) int {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		if db, err := runstore.Open(dir); err == nil {
			st, err := db.Status(context.Background())
			db.Close()
			if err == nil && st.Finished >= n {
				return st.Finished
			}
		}
		select {
		case <-exited:
			return -1
		case <-time.After(2 * time.Millisecond):
		}
	}
	t.Fatalf("the run in %s did not reach %d results in 3 minutes", dir, n)
	return 0
}

// --repeat plays every task K times, repeat r with its own policy seed,
// and the report has pass^k; a resume plans the same episodes.
func TestEvalRepeat(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	args := []string{"eval", "--suite", "shop", "--engine", "lite", "--episodes", "3", "--repeat", "2", "--policy", "random", "--max-steps", "5", "--run-dir", dir}
	code, out, errs := pilot(t.Context(), append(args, "--json")...)
	var rep evals.Report
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil {
		t.Fatalf("pilot eval --repeat 2 = exit %d: %s %s", code, out, errs)
	}
	if rep.Planned != 6 || rep.Episodes != 6 || len(rep.PassK) != 2 || len(rep.Manifest.Planned) != 6 || rep.Manifest.Planned[3] != "shop-test-0000.r2" {
		t.Errorf("report %+v; want 6 episodes (3 tasks × 2), pass^1 and pass^2, keys with .r2", rep)
	}
	db, err := runstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := db.Results()
	db.Close()
	if err != nil || len(rs) != 6 || rs[4].TaskID != "shop-test-0001" || rs[4].Repeat != 2 || rs[4].Key() != "shop-test-0001.r2" {
		t.Errorf("stored %+v, %v; want 6 results, the fifth shop-test-0001's second repeat", rs, err)
	}
	if code, _, errs := pilot(t.Context(), append(args, "--repeat", "3")...); code != 2 || !strings.Contains(errs, "planned episodes: 6 in the run") {
		t.Errorf("the same run dir with --repeat 3 = exit %d: %s; want it refused", code, errs)
	}
}

// Three shards of a study, one from JOB_COMPLETION_INDEX as a Kubernetes
// Indexed Job gives it, merged: the merged run has the one-process run's
// episodes, in its order, with its results and numbers. Merges that do not
// make one study are refused.
func TestShardsMerge(t *testing.T) {
	tmp := t.TempDir()
	args := []string{"eval", "--suite", "shop", "--engine", "lite", "--episodes", "30"}
	one := filepath.Join(tmp, "one")
	if code, _, errs := pilot(t.Context(), append(args, "--run-dir", one)...); code != 0 {
		t.Fatalf("the one-process run = exit %d: %s", code, errs)
	}
	var shards []string
	for i := 1; i <= 3; i++ {
		dir := filepath.Join(tmp, fmt.Sprintf("shard%d", i))
		shardArgs := append(args, "--run-dir", dir, "--shard", fmt.Sprintf("%d/3", i))
		if i == 2 {
			t.Setenv("JOB_COMPLETION_INDEX", "1")
			shardArgs = append(args, "--run-dir", dir, "--shard", "3")
		}
		if code, _, errs := pilot(t.Context(), shardArgs...); code != 0 {
			t.Fatalf("shard %d = exit %d: %s", i, code, errs)
		}
		shards = append(shards, dir)
	}
	// A shard resumes as the slice it was, whatever the index of the pod
	// that resumes it.
	t.Setenv("JOB_COMPLETION_INDEX", "0")
	if code, _, errs := pilot(t.Context(), "eval", "--resume", shards[1]); code != 0 || !strings.Contains(errs, "resuming: 10 of 10 episodes are done") {
		t.Errorf("pilot eval --resume of shard 2 from another pod = exit %d: %s", code, errs)
	}
	merged := filepath.Join(tmp, "merged")
	code, out, errs := pilot(t.Context(), append([]string{"runs", "merge"}, append(shards, "--into", merged)...)...)
	if code != 0 || !strings.Contains(out, "merged 3 shards") {
		t.Fatalf("pilot runs merge = exit %d: %s%s", code, out, errs)
	}
	want, got := finalResults(t, one), finalResults(t, merged)
	if len(got) != 30 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("merged results %v\nwant the one-process run's %v", got, want)
	}
	for _, dir := range []string{one, merged} {
		db, err := runstore.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		rs, _ := db.Results()
		m := db.Manifest()
		db.Close()
		rep := evals.Summarize(m.Suite, len(m.Planned), rs)
		if rs[0].TaskID != "shop-test-0000" || rs[29].TaskID != "shop-test-0029" || m.Shard != "" || !rep.Complete {
			t.Errorf("%s: first %s, last %s, shard %q, complete %v; want the plan's order, no shard, complete", dir, rs[0].TaskID, rs[29].TaskID, m.Shard, rep.Complete)
		}
	}
	if _, err := os.Stat(filepath.Join(merged, evals.EpisodesDir, "shop-test-0017", "trajectory.jsonl")); err != nil {
		t.Errorf("the merged run lacks a trajectory: %v", err)
	}

	other := filepath.Join(tmp, "other-seed")
	if code, _, errs := pilot(t.Context(), append(args, "--run-dir", other, "--shard", "3/3", "--seed", "2")...); code != 0 {
		t.Fatalf("another study's shard = exit %d: %s", code, errs)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{append(shards[:2:2], "--into", filepath.Join(tmp, "m2")), "2 runs given, the study has 3 shards"},
		{[]string{shards[0], shards[1], other, "--into", filepath.Join(tmp, "m3")}, "shards of different studies"},
		{[]string{shards[0], shards[0], shards[1], "--into", filepath.Join(tmp, "m4")}, "shard 1/3 twice"},
		{append(slices.Clone(shards), "--into", merged), "already holds a run"},
		{[]string{one, "--into", filepath.Join(tmp, "m5")}, "is not a shard"},
	} {
		code, _, errs := pilot(t.Context(), append([]string{"runs", "merge"}, tt.args...)...)
		if code == 0 || !strings.Contains(errs, tt.want) {
			t.Errorf("pilot runs merge %v = exit %d: %s; want it refused: %q", tt.args, code, errs, tt.want)
		}
	}
	if _, err := os.Stat(filepath.Join(tmp, "m3")); !os.IsNotExist(err) {
		t.Errorf("a refused merge left its --into behind: %v", err)
	}
}

// --browser with a list: a fleet of running browsers, one per worker.
func TestEvalBrowserFleet(t *testing.T) {
	t.Parallel()
	var urls []string
	for range 2 {
		u, stop, err := web.Launch(t.Context(), web.Options{})
		if errors.Is(err, web.ErrChromeNotFound) {
			t.Skipf("no Chromium: %v", err)
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { stop() })
		urls = append(urls, u)
	}
	dir := filepath.Join(t.TempDir(), "run")
	code, out, errs := pilot(t.Context(), "eval", "--suite", "demo", "--workers", "2", "--browser", strings.Join(urls, ","), "--json", "--run-dir", dir)
	var rep evals.Report
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || rep.Successes != 4 || rep.Workers != 2 {
		t.Errorf("pilot eval --browser A,B = exit %d: %s %s; want 4 of 4 on 2 workers", code, out, errs)
	}
}

// The manifest names the engine that ran, also when it is the suite's
// default.
func TestManifestDefaultEngine(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	if code, _, errs := pilot(t.Context(), "eval", "--suite", "cartpole", "--episodes", "2", "--run-dir", dir); code != 0 {
		t.Fatalf("pilot eval --suite cartpole = exit %d: %s", code, errs)
	}
	db, err := runstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := db.Manifest()
	db.Close()
	if m.Engine != "native" {
		t.Errorf("manifest engine %q, want native (cartpole's default)", m.Engine)
	}
	if code, _, errs := pilot(t.Context(), "eval", "--suite", "cartpole", "--episodes", "2", "--engine", "native", "--run-dir", dir); code != 0 {
		t.Errorf("the same run with its default engine named = exit %d: %s; want a resume", code, errs)
	}
}

// --grid runs the cross product as one study, a run per cell, and one
// table; the same command again resumes every cell.
func TestEvalGrid(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "study")
	args := []string{"eval", "--suite", "shop", "--engine", "lite", "--episodes", "3", "--max-steps", "8",
		"--grid", "policy=expert,random", "--grid", "seed=1..2", "--run-dir", dir}
	code, out, errs := pilot(t.Context(), args...)
	if code != 0 {
		t.Fatalf("pilot eval --grid = exit %d: %s%s", code, out, errs)
	}
	rows := regexp.MustCompile(`(?m)^(expert|random) +[12] +3 +\d+\.\d%`).FindAllString(out, -1)
	if len(rows) != 4 || !strings.HasPrefix(out, "policy  seed  episodes  success") || !strings.Contains(errs, "grid of 4 cells (policy × 2, seed × 2)") {
		t.Errorf("pilot eval --grid printed\n%s\nwant a header and 4 rows (policy × seed)", out)
	}
	for _, cell := range []string{"policy-expert_seed-1", "policy-random_seed-2"} {
		db, err := runstore.Open(filepath.Join(dir, cell))
		if err != nil {
			t.Fatalf("cell %s: %v", cell, err)
		}
		m := db.Manifest()
		db.Close()
		if !strings.Contains(cell, m.Policy) || m.Seed == 0 || m.Flags["max-steps"] != "8" {
			t.Errorf("cell %s manifest %+v; want its policy and seed, and the base flags", cell, m)
		}
	}
	code, _, errs = pilot(t.Context(), args...)
	if code != 0 || strings.Count(errs, "resuming: 3 of 3 episodes are done") != 4 {
		t.Errorf("the grid again = exit %d: %s; want every cell resumed, nothing played", code, errs)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--grid", "nope=1,2"}, "--grid nope: not a flag a grid can vary"},
		{[]string{"--grid", "seed=3..1"}, "not a range A..B"},
		{[]string{"--grid", "seed=1..2", "--seed", "4"}, "--seed and --grid seed are exclusive"},
		{[]string{"--grid", "workers=1,2"}, "not a flag a grid can vary"},
		{[]string{"--grid", "seed=1..2", "--shard", "5/2"}, "--grid cell seed=1: --shard: shard \"5/2\""},
	} {
		code, _, errs := pilot(t.Context(), append([]string{"eval", "--suite", "shop", "--engine", "lite", "--run-dir", filepath.Join(t.TempDir(), "x")}, tt.args...)...)
		if code != 2 || !strings.Contains(errs, tt.want) {
			t.Errorf("pilot eval %v = exit %d: %s; want exit 2: %q", tt.args, code, errs, tt.want)
		}
	}
}

// pilot report writes one HTML file whose links reach the trajectories
// from where the file is.
func TestReportCommand(t *testing.T) {
	tmp := t.TempDir()
	run := filepath.Join(tmp, "runs", "lite")
	if code, _, errs := pilot(t.Context(), "eval", "--suite", "shop", "--engine", "lite", "--episodes", "4", "--run-dir", run); code != 0 {
		t.Fatalf("pilot eval = exit %d: %s", code, errs)
	}
	out := filepath.Join(tmp, "reports", "r.html")
	os.MkdirAll(filepath.Dir(out), 0o755)
	code, stdout, errs := pilot(t.Context(), "report", run, "--out", out)
	if code != 0 || !strings.Contains(stdout, "wrote "+out+" (1 runs)") {
		t.Fatalf("pilot report = exit %d: %s%s", code, stdout, errs)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	if !strings.Contains(page, "<svg") || !strings.Contains(page, "shop-test-0003") {
		t.Errorf("the report lacks its charts or an episode")
	}
	m := regexp.MustCompile(`href="([^"]+shop-test-0000/trajectory\.jsonl)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no link to shop-test-0000's trajectory")
	}
	if _, err := os.Stat(m[1]); err != nil { // an absolute run directory: an absolute link
		t.Errorf("the link %s does not reach the trajectory: %v", m[1], err)
	}
	if code, _, errs := pilot(t.Context(), "report", filepath.Join(tmp, "none"), "--out", out); code == 0 || !strings.Contains(errs, "no run in") {
		t.Errorf("pilot report of no run = exit %d: %s", code, errs)
	}
}

// pilot view serves the run on loopback until its context ends.
func TestViewCommand(t *testing.T) {
	run := filepath.Join(t.TempDir(), "run")
	if code, _, errs := pilot(t.Context(), "eval", "--suite", "shop", "--engine", "lite", "--episodes", "2", "--run-dir", run); code != 0 {
		t.Fatalf("pilot eval = exit %d: %s", code, errs)
	}
	ctx, cancel := context.WithCancel(t.Context())
	out, errb := &lockedBuffer{}, &lockedBuffer{}
	done := make(chan int, 1)
	go func() { done <- runIO(ctx, []string{"view", run}, strings.NewReader(""), out, errb) }()
	var addr string
	for deadline := time.Now().Add(time.Minute); addr == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := regexp.MustCompile(`on (http://127\.0\.0\.1:\d+/)`).FindStringSubmatch(out.String()); m != nil {
			addr = m[1]
		}
	}
	if addr == "" {
		cancel()
		t.Fatalf("pilot view printed no address: %s %s", out.String(), errb.String())
	}
	resp, err := http.Get(addr + "episode/shop-test-0001")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "Step 0:") {
		t.Errorf("GET an episode = %d:\n%.300s", resp.StatusCode, body)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("pilot view after Ctrl-C = exit %d: %s", code, errb.String())
	}
	if code, _, errs := pilot(t.Context(), "view", run, "--addr", "0.0.0.0:0"); code != 2 || !strings.Contains(errs, "loopback only") {
		t.Errorf("pilot view --addr 0.0.0.0:0 = exit %d: %s", code, errs)
	}
}

// A grid runs sharded over machines: each shard process runs its slice of
// every cell, runs merge joins them cell by cell, and the merged study
// equals the grid run in one process; --json prints the study.
func TestGridShards(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	args := []string{"eval", "--suite", "shop", "--engine", "lite", "--episodes", "12", "--grid", "policy=expert,random", "--max-steps", "15"}
	one := filepath.Join(tmp, "one")
	code, out, errs := pilot(t.Context(), append(args, "--run-dir", one, "--json")...)
	if code != 0 {
		t.Fatalf("the one-process grid = exit %d: %s", code, errs)
	}
	var study struct {
		RunDir string `json:"run_dir"`
		Cells  []struct {
			Cell   string            `json:"cell"`
			Flags  map[string]string `json:"flags"`
			Report *evals.Report     `json:"report"`
		} `json:"cells"`
	}
	decodeOne(t, out, &study)
	if study.RunDir != one || len(study.Cells) != 2 || study.Cells[0].Flags["policy"] != "expert" || study.Cells[0].Report == nil || study.Cells[0].Report.Scored != 12 {
		t.Fatalf("grid --json = %s", out)
	}
	var shards []string
	for i := 1; i <= 2; i++ {
		dir := filepath.Join(tmp, fmt.Sprintf("s%d", i))
		if code, _, errs := pilot(t.Context(), append(args, "--run-dir", dir, "--shard", fmt.Sprintf("%d/2", i))...); code != 0 {
			t.Fatalf("grid shard %d = exit %d: %s", i, code, errs)
		}
		shards = append(shards, dir)
	}
	merged := filepath.Join(tmp, "merged")
	code, out, errs = pilot(t.Context(), append([]string{"runs", "merge"}, append(shards, "--into", merged)...)...)
	if code != 0 || strings.Count(out, "merged 2 shards") != 2 {
		t.Fatalf("runs merge of grid shards = exit %d: %s%s", code, out, errs)
	}
	for _, c := range []string{"policy-expert", "policy-random"} {
		want, got := finalResults(t, filepath.Join(one, c)), finalResults(t, filepath.Join(merged, c))
		if len(got) != 12 || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("cell %s: merged %v\nwant the one-process grid's %v", c, got, want)
		}
	}
	// A shard that lacks a planned cell: refused, and nothing written.
	if err := os.RemoveAll(filepath.Join(shards[1], "policy-random")); err != nil {
		t.Fatal(err)
	}
	partial := filepath.Join(tmp, "partial")
	if code, _, errs := pilot(t.Context(), "runs", "merge", shards[0], shards[1], "--into", partial); code != 2 || !strings.Contains(errs, "has no run of its cell policy-random") {
		t.Errorf("merging a shard without a cell = exit %d: %s", code, errs)
	}
	if _, err := os.Stat(partial); !os.IsNotExist(err) {
		t.Errorf("a refused merge left %s behind (%v)", partial, err)
	}
	// A run and a grid study do not merge together.
	if code, _, errs := pilot(t.Context(), "runs", "merge", shards[0], filepath.Join(one, "policy-expert"), "--into", filepath.Join(tmp, "bad")); code != 2 || !strings.Contains(errs, "merge shards of one kind") {
		t.Errorf("merging a grid with a run = exit %d: %s", code, errs)
	}
}
