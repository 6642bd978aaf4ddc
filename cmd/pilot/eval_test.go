package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pilotkit/pilot/agent"
	"github.com/pilotkit/pilot/evals"
	"github.com/pilotkit/pilot/evals/runstore"
	"github.com/pilotkit/pilot/policy"
)

func TestEvalUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args       []string
		wantStderr string
	}{
		{[]string{"eval"}, "--suite (or --tasks FILE) is required: one of shop, demo"},
		{[]string{"eval", "--suite", "nope"}, `unknown suite "nope": want one of shop, demo`},
		{[]string{"eval", "--suite", "demo", "--split", "train"}, `suite demo has no split "train": want one of test`},
		{[]string{"eval", "--suite", "demo", "--policy", "nope"}, `suite demo has no policy "nope": want one of random, plan`},
		{[]string{"eval", "--suite", "demo", "--workers", "0"}, "--workers 0: want 1 or more"},
		{[]string{"eval", "--suite", "demo", "--episodes", "-1"}, "--episodes -1: want 0 (all) or more"},
		{[]string{"eval", "--suite", "demo", "--max-steps", "-1"}, "--max-steps -1"},
		{[]string{"eval", "--suite", "demo", "--step-timeout", "-1s"}, "--step-timeout -1s"},
		{[]string{"eval", "--suite", "demo", "--screenshot", "gif"}, `invalid argument "gif" for "--screenshot" flag: want one of none, png, jpeg`},
		{[]string{"eval", "--suite", "demo", "--workers", "x"}, `invalid argument "x" for "--workers" flag`},
		{[]string{"eval", "--suite", "demo", "--browser", "localhost:9222"}, "--browser \"localhost:9222\": want ws://"},
		{[]string{"eval", "--suite", "demo", "extra"}, `takes no arguments, got "extra"`},
		{[]string{"eval", "--suite", "shop", "--engine", "firefox"}, `suite shop does not run on engine "firefox": it runs on chromium, lite`},
		{[]string{"eval", "--suite", "demo", "--engine", "lite"}, `suite demo does not run on engine "lite": it runs on chromium`},
		{[]string{"eval", "--suite", "shop", "--engine", "lite", "--screenshot", "png"}, "the lite engine takes no screenshots"},
		{[]string{"eval", "--suite", "shop", "--planner", "astar"}, `--planner "astar": want none, bfs, mcts or cem`},
		{[]string{"eval", "--suite", "shop", "--engine", "lite", "--policy", "expert:2"}, "--policy expert:2: want expert:EPS, the expert with a random mistake at a share EPS of its steps (0..1)"},
		{[]string{"eval", "--suite", "shop", "--planner", "cem"}, "--planner cem samples continuous actions, and suite shop has none: use --planner bfs or mcts"},
		{[]string{"eval", "--suite", "robot:pick", "--planner", "cem", "--depth", "3"}, "--depth is a flag of --planner bfs and mcts; cem plans with the env's reward"},
		{[]string{"eval", "--suite", "robot:pick", "--planner", "bfs", "--value", "oracle", "--horizon", "3"}, "--horizon is a flag of --planner cem, not bfs"},
		{[]string{"eval", "--suite", "robot:pick", "--samples", "3"}, "--samples is a flag of --planner cem"},
		{[]string{"eval", "--suite", "robot:pick", "--planner", "cem", "--policy", "expert"}, "--planner cem plans from no policy: drop --policy and --model"},
		{[]string{"eval", "--suite", "robot:reach", "--planner", "cem", "--samples", "1"}, "--samples 1: want 2 or more sequences"},
		{[]string{"eval", "--suite", "robot:reach", "--planner", "cem", "--horizon", "0"}, "--horizon 0: want 1 or more steps"},
		{[]string{"eval", "--suite", "robot:pick", "--engine", "serial", "--planner", "bfs", "--value", "oracle"}, "--planner on suite robot:pick needs an engine whose envs save their state: --engine fast (not serial)"},
		{[]string{"eval", "--suite", "shop", "--planner", "bfs", "--budget", "0"}, "--budget 0: want 1 or more value calls per step"},
		{[]string{"eval", "--suite", "shop", "--planner", "mcts", "--depth", "0"}, "--depth 0: want 1 or more"},
		{[]string{"eval", "--suite", "shop", "--budget", "5"}, "--budget is a planner flag: give --planner bfs or mcts with it"},
		{[]string{"eval", "--suite", "shop", "--engine", "lite", "--planner", "bfs", "--value", "magic"}, `--value "magic": suite shop has oracle, judge, critic, heuristic`},
		{[]string{"eval", "--suite", "shop", "--engine", "lite", "--planner", "bfs", "--rollout", "3"}, "--rollout is for --value oracle"},
		{[]string{"eval", "--suite", "demo", "--planner", "bfs"}, "--planner bfs on suite demo: give --value, one of oracle, judge"},
		{[]string{"eval", "--suite", "shop", "--engine", "lite", "--planner", "bfs", "--value", "judge"}, "--value judge asks the policy's model: give --model"},
		{[]string{"eval", "--suite", "shop", "--engine", "lite", "--policy", "expert", "--planner", "bfs", "--value", "critic"}, "--value critic reads the network of an nn: policy"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := pilot(t.Context(), tt.args...)
			if code != 2 || stdout != "" || !strings.Contains(stderr, tt.wantStderr) || !strings.Contains(stderr, "run 'pilot eval --help' for usage") {
				t.Errorf("pilot %q = exit %d, stdout %q, stderr %q;\nwant exit 2, no stdout, stderr containing %q and the help hint",
					tt.args, code, clip(stdout), stderr, tt.wantStderr)
			}
		})
	}
}

func TestEvalHelp(t *testing.T) {
	t.Parallel()
	code, stdout, _ := pilot(t.Context(), "eval", "--help")
	for _, s := range []string{"--workers", "--run-dir", "demo ", "plan ", "random "} {
		if code != 0 || !strings.Contains(stdout, s) {
			t.Errorf("pilot eval --help = exit %d, lacks %q:\n%s", code, s, stdout)
		}
	}
}

// TestEvalDemoJSON runs the demo suite end to end in real Chromium, on two
// workers.
func TestEvalDemoJSON(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "run")
	code, stdout, stderr := pilot(t.Context(), "eval", "--suite", "demo", "--workers", "2", "--json", "--run-dir", dir)
	if code != 0 {
		t.Fatalf("pilot eval --suite demo --json = exit %d\nstdout: %s\nstderr:\n%s", code, stdout, stderr)
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
	wantKeys := []string{"ci95_high", "ci95_low", "complete", "cost_per_success", "cost_usd", "duration_ns", "env_p50_ns", "env_p95_ns", "episodes", "episodes_per_minute",
		"errors", "manifest", "mean_reward", "mean_steps", "model_retries", "planned", "policy", "policy_p50_ns", "policy_p95_ns", "retries", "run_dir", "scored", "start",
		"success_rate", "successes", "suite", "tokens", "workers"}
	if !slices.Equal(keys, wantKeys) {
		t.Errorf("JSON keys = %v, want %v", keys, wantKeys)
	}
	var rep evals.Report
	decodeOne(t, stdout, &rep)
	if m := rep.Manifest; m == nil || m.Engine != "chromium" || !strings.Contains(m.EngineVersion, ".") || m.Suite != "demo/test" || len(m.Planned) != 4 {
		t.Errorf("manifest %+v; want the chromium engine with its version, the suite and the 4 planned episodes", rep.Manifest)
	}
	lo, hi := evals.Wilson(4, 4, evals.Z95)
	if rep.Suite != "demo/test" || rep.Policy != "plan" || rep.Episodes != 4 || rep.Successes != 4 || rep.Errors != 0 ||
		rep.SuccessRate != 1 || rep.CI95Low != lo || rep.CI95High != hi || rep.MeanReward != 1 || rep.MeanSteps != 11.0/4 ||
		rep.Workers != 2 || rep.RunDir != dir || rep.EpisodesPerMinute <= 0 || rep.Duration <= 0 {
		t.Errorf("report = %+v; want demo/test by plan: 4 of 4 successes, CI [%g, 1], mean steps 2.75, 2 workers, run dir %s", rep, lo, dir)
	}

	// The run directory holds every result and trajectory, and the report.
	db, err := runstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	results, err := db.Results()
	db.Close()
	if err != nil || len(results) != 4 {
		t.Fatalf("run store: %d results, %v; want 4", len(results), err)
	}
	for _, r := range results {
		if !r.Success || r.Error != "" {
			t.Errorf("result %+v; want success", r)
		}
		f, err := os.Open(filepath.Join(dir, evals.EpisodesDir, r.TaskID, agent.TrajectoryFile))
		if err != nil {
			t.Error(err)
			continue
		}
		traj, err := agent.ReadJSONL(f)
		f.Close()
		if err != nil || !traj.Success || len(traj.Steps) != r.Steps || traj.Task.ID != r.TaskID {
			t.Errorf("trajectory of %s: %v; want %d steps ending in success", r.TaskID, err, r.Steps)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, evals.ReportFile)); err != nil {
		t.Error(err)
	}
	// Progress went to stderr, a line per episode.
	if n := len(regexp.MustCompile(`(?m)^\[[1-4]/4\] demo-\S+ +success `).FindAllString(stderr, -1)); n != 4 {
		t.Errorf("stderr has %d progress lines, want 4:\n%s", n, stderr)
	}
}

// TestEvalDemoTable runs two episodes of the demo with the random policy
// and screenshots, and prints the table.
func TestEvalDemoTable(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "run")
	code, stdout, stderr := pilot(t.Context(), "eval", "--suite", "demo", "--episodes", "2", "--policy", "random",
		"--seed", "3", "--max-steps", "2", "--screenshot", "jpeg", "--run-dir", dir)
	if code != 0 {
		t.Fatalf("pilot eval --policy random = exit %d\nstdout: %s\nstderr:\n%s", code, stdout, stderr)
	}
	re := regexp.MustCompile(`^suite +episodes +success +95% CI +mean reward +mean steps +episodes/min\n` +
		`demo/test +2 +\d+\.\d% +\[\d+\.\d%, \d+\.\d%\] +\d\.\d{3} +\d\.\d +[\d.]+\n` +
		`step latency: env p50 \S+ p95 \S+, policy p50 \S+ p95 \S+\n` +
		`results in ` + regexp.QuoteMeta(dir) + `\n$`)
	if !re.MatchString(stdout) {
		t.Errorf("stdout =\n%s\nwant it to match\n%s", stdout, re)
	}
	shots, _ := filepath.Glob(filepath.Join(dir, evals.EpisodesDir, "*", "images", "*.jpg"))
	if len(shots) < 2 {
		t.Errorf("%d screenshots saved in %s; want one per observation, at least 2", len(shots), dir)
	}

	// The run directory now holds a run: another run there is refused,
	// with what differs; the same run resumes (it has nothing left to
	// play) and says so.
	code, _, stderr = pilot(t.Context(), "eval", "--suite", "demo", "--run-dir", dir)
	if code != 2 || !strings.Contains(stderr, "holds a run with other settings; nothing was changed") ||
		!strings.Contains(stderr, `policy: "random" in the run, "plan" now`) || !strings.Contains(stderr, "--episodes 2: given in the run, not now") ||
		strings.Contains(stderr, "--seed 3") || !strings.Contains(stderr, "pilot eval --resume "+dir) {
		t.Errorf("pilot eval in a used run directory = exit %d, stderr %q; want exit 2, what differs (once each) and what to do", code, stderr)
	}
	code, _, stderr = pilot(t.Context(), "eval", "--resume", dir, "--workers", "2")
	if code != 0 || !strings.Contains(stderr, "resuming: 2 of 2 episodes are done; running the other 0") {
		t.Errorf("pilot eval --resume of a complete run = exit %d, stderr %q; want exit 0, nothing played", code, stderr)
	}
	code, _, stderr = pilot(t.Context(), "eval", "--resume", dir, "--seed", "4")
	if code != 2 || !strings.Contains(stderr, "give only --workers, -v, --json or --browser with it, not --seed") {
		t.Errorf("pilot eval --resume with --seed = exit %d, stderr %q; want exit 2", code, stderr)
	}
}

// TestEvalShopLite plays the shop in the lite browser: the expert's
// results are those it gets in Chromium (99 % on the test split).
// The weak scorer (cloned from 10 demonstrations) succeeds more often with
// best-first search and the shop's heuristic value on the same tasks, and
// each searched step keeps its search in the trajectory.
func TestEvalShopPlanner(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if code, _, errs := pilot(t.Context(), "train", "--env", "shop", "--algo", "bc", "--demos", "10", "--out", filepath.Join(dir, "weak")); code != 0 {
		t.Fatalf("train: exit %d\n%s", code, errs)
	}
	weak := "nn:" + filepath.Join(dir, "weak", "policy.nn")
	success := func(extra ...string) float64 {
		args := append([]string{"eval", "--suite", "shop", "--engine", "lite", "--episodes", "40", "--policy", weak, "--json", "--run-dir", filepath.Join(dir, strings.Join(append([]string{"r"}, extra...), "-"))}, extra...)
		code, out, errs := pilot(t.Context(), args...)
		if code != 0 {
			t.Fatalf("pilot %q: exit %d\n%s", args, code, errs)
		}
		var rep struct {
			Success float64 `json:"success_rate"`
			Policy  string  `json:"policy"`
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%q: %v", out, err)
		}
		return rep.Success
	}
	alone, searched := success(), success("--planner", "bfs")
	t.Logf("the weak scorer: %.1f%% alone, %.1f%% with best-first search (40 tasks)", 100*alone, 100*searched)
	if searched < alone+0.1 {
		t.Errorf("the weak scorer succeeds %.0f%% alone and %.0f%% with best-first search; want at least 10 points more with it", 100*alone, 100*searched)
	}
	b, err := os.ReadFile(filepath.Join(dir, "r---planner-bfs", "episodes", "shop-test-0000", "trajectory.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"search":{"planner":"bfs","nodes":[{"id":0,"parent":-1`) || !strings.Contains(string(b), `"value_calls":`) {
		t.Errorf("the trajectory has no search record:\n%s", clip(string(b)))
	}
	checkExports(t, filepath.Join(dir, "r---planner-bfs"))

	// Expert iteration: the weak scorer with search on 60 train tasks,
	// then the 10 demonstrations and those traces cloned, without search
	// at test time, beat the 10 demonstrations alone.
	traces := filepath.Join(dir, "traces")
	if code, _, errs := pilot(t.Context(), "eval", "--suite", "shop", "--engine", "lite", "--split", "train", "--episodes", "60", "--policy", weak, "--planner", "bfs", "--run-dir", traces); code != 0 {
		t.Fatalf("eval --split train --planner bfs: exit %d\n%s", code, errs)
	}
	code, out, errs := pilot(t.Context(), "train", "--env", "shop", "--algo", "bc", "--demos", "10", "--traces", traces, "--out", filepath.Join(dir, "ei"), "--json")
	if code != 0 {
		t.Fatalf("train --traces: exit %d\n%s", code, errs)
	}
	var sum struct {
		Final float64 `json:"final_greedy_return"`
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("%q: %v", out, err)
	}
	if !strings.Contains(errs, "traces: ") || sum.Final < alone+0.15 {
		t.Errorf("cloned with the search traces: test success %.1f%%, alone %.1f%% (on 40 tasks); want 15 points more\n%s", 100*sum.Final, 100*alone, errs)
	}
	code, _, errs = pilot(t.Context(), "train", "--env", "cartpole", "--traces", traces)
	if code != 2 || !strings.Contains(errs, "--traces clones a run's episodes, for suites that clone demonstrations") {
		t.Errorf("train --env cartpole --traces = exit %d %q, want a usage error", code, errs)
	}
}

// checkExports exports the searched run as SFT and DPO data in both
// formats and reads every line back: the keys each trainer wants, the
// roles in order, and answers that the model policy parses into valid
// actions of the shop.
func checkExports(t *testing.T, run string) {
	t.Helper()
	spec, err := runSpec(t.Context(), run)
	if err != nil {
		t.Fatal(err)
	}
	type msg struct{ Role, Content string }
	checkAnswer := func(where string, ms []msg) {
		if len(ms) != 1 || ms[0].Role != "assistant" {
			t.Fatalf("%s: %+v, want one assistant message", where, ms)
		}
		a, _, err := policy.ParseAnswer(ms[0].Content, spec)
		if err != nil || spec.Validate(a) != nil {
			t.Fatalf("%s: answer %q does not parse as a shop action: %v", where, ms[0].Content, err)
		}
	}
	checkPrompt := func(where string, ms []msg) {
		if len(ms) != 2 || ms[0].Role != "system" || ms[1].Role != "user" || !strings.Contains(ms[0].Content, "click(id)") || !strings.Contains(ms[1].Content, "Task: ") {
			t.Fatalf("%s: prompt %.300q, want the system message with the actions and the user message with the task", where, ms)
		}
	}
	for _, c := range []struct{ kind, format string }{{"sft", "trl"}, {"dpo", "trl"}, {"dpo", "openai"}} {
		out := filepath.Join(t.TempDir(), c.kind+".jsonl")
		code, _, errs := pilot(t.Context(), "export", c.kind, run, "--format", c.format, "--out", out)
		if code != 0 {
			t.Fatalf("pilot export %s --format %s = exit %d\n%s", c.kind, c.format, code, errs)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if !strings.HasPrefix(errs, fmt.Sprintf("%d %s examples from ", len(lines), c.kind)) {
			t.Errorf("pilot export %s stderr %q, want the count of the %d lines", c.kind, errs, len(lines))
		}
		for i, line := range lines {
			where := fmt.Sprintf("%s %s line %d", c.kind, c.format, i+1)
			var v struct {
				Messages  []msg
				Prompt    []msg
				Chosen    []msg
				Rejected  []msg
				Input     struct{ Messages []msg }
				Preferred []msg `json:"preferred_output"`
				NonPref   []msg `json:"non_preferred_output"`
			}
			if err := json.Unmarshal([]byte(line), &v); err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			switch {
			case c.kind == "sft":
				if len(v.Messages) != 3 {
					t.Fatalf("%s: %d messages, want system, user, assistant", where, len(v.Messages))
				}
				checkPrompt(where, v.Messages[:2])
				checkAnswer(where, v.Messages[2:])
			case c.format == "trl":
				checkPrompt(where, v.Prompt)
				checkAnswer(where+" chosen", v.Chosen)
				checkAnswer(where+" rejected", v.Rejected)
				if v.Chosen[0].Content == v.Rejected[0].Content {
					t.Fatalf("%s: chosen and rejected are both %q", where, v.Chosen[0].Content)
				}
			default:
				checkPrompt(where, v.Input.Messages)
				checkAnswer(where+" preferred", v.Preferred)
				checkAnswer(where+" non-preferred", v.NonPref)
			}
		}
	}
	code, _, errs := pilot(t.Context(), "export", "kto", run)
	if code != 2 || !strings.Contains(errs, `pilot export "kto": want sft or dpo`) {
		t.Errorf("pilot export kto = exit %d %q, want a usage error", code, errs)
	}
}

func TestEvalShopLite(t *testing.T) {
	code, out, errs := pilot(t.Context(), "eval", "--suite", "shop", "--engine", "lite", "--workers", "2", "--episodes", "50", "--json", "--run-dir", filepath.Join(t.TempDir(), "r"))
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	var rep struct {
		Episodes int     `json:"episodes"`
		Success  float64 `json:"success_rate"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%q: %v", out, err)
	}
	if rep.Episodes != 50 || rep.Success < 0.9 {
		t.Errorf("the expert in the lite browser: %s", out)
	}
}
