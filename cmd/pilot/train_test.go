package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pilotkit/pilot/policy/ppo"
	"github.com/pilotkit/pilot/policy/shopnn"
)

// pilot train --env cartpole solves CartPole-v1 (a greedy return of 475 or
// more over 20 episodes) and writes its metrics, policy and plot.
func TestTrainCartPole(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	code, out, errs := pilot(context.Background(), "train", "--env", "cartpole", "--out", dir, "--json", "--checkpoint-every", "2")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	var sum trainSummary
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("--json printed %q: %v", out, err)
	}
	if sum.StepsToSolve == 0 || sum.StepsToSolve > 150_000 || sum.FinalGreedy < 475 {
		t.Errorf("summary %+v: want CartPole solved within 150,000 steps", sum)
	}
	for _, f := range []string{"metrics.jsonl", "metrics.csv", "policy.nn", "curves.png", "checkpoints/update-2.nn"} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "metrics.jsonl"))
	first, _, _ := strings.Cut(string(b), "\n")
	for _, key := range []string{`"approx_kl"`, `"clip_frac"`, `"entropy"`, `"explained_variance"`, `"grad_norm"`, `"adv_std"`} {
		if !strings.Contains(first, key) {
			t.Errorf("metrics line lacks %s: %s", key, first)
		}
	}
	p, meta, err := ppo.LoadPolicy(filepath.Join(dir, "policy.nn"))
	if err != nil || meta["env"] != "cartpole" {
		t.Fatalf("LoadPolicy: %v, meta %v", err, meta)
	}
	if !strings.Contains(errs, "steps/s") {
		t.Errorf("no progress on stderr: %q", errs)
	}
	// Fine-tuning from it with a KL penalty runs.
	code, _, errs = pilot(context.Background(), "train", "--env", "cartpole", "--from", filepath.Join(dir, "policy.nn"), "--kl-coef", "0.1", "--steps", "2048", "--out", dir+"2", "--plot", "c.svg")
	if code != 0 {
		t.Errorf("fine-tuning: exit %d: %s", code, errs)
	}
	_ = p
	// pilot eval plays the saved policy on the cartpole suite (no step
	// limit by default: an episode lasts up to the task's 500 steps).
	code, out, errs = pilot(context.Background(), "eval", "--suite", "cartpole", "--policy", "nn:"+filepath.Join(dir, "policy.nn"), "--episodes", "10", "--run-dir", filepath.Join(t.TempDir(), "e"), "--json")
	if code != 0 {
		t.Fatalf("eval: exit %d\n%s", code, errs)
	}
	var rep struct {
		Success   float64 `json:"success_rate"`
		MeanSteps float64 `json:"mean_steps"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("eval --json printed %q: %v", out, err)
	}
	if rep.Success < 0.8 || rep.MeanSteps < 450 {
		t.Errorf("the trained policy on 10 cartpole tasks: %s", out)
	}
}

func TestEvalCartPoleSuite(t *testing.T) {
	run := func(args ...string) (success, steps float64) {
		t.Helper()
		args = append([]string{"eval", "--suite", "cartpole", "--episodes", "10", "--json", "--run-dir", filepath.Join(t.TempDir(), "r")}, args...)
		code, out, errs := pilot(context.Background(), args...)
		if code != 0 {
			t.Fatalf("pilot %v: exit %d\n%s", args, code, errs)
		}
		var rep struct {
			Success   float64 `json:"success_rate"`
			MeanSteps float64 `json:"mean_steps"`
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%q: %v", out, err)
		}
		return rep.Success, rep.MeanSteps
	}
	if s, n := run(); s != 1 || n != 500 {
		t.Errorf("the PD expert: success %v, %v steps; want 1 and 500", s, n)
	}
	if s, n := run("--policy", "random"); s > 0.1 || n > 100 {
		t.Errorf("random: success %v, %v steps", s, n)
	}
	// --max-steps 0 means no limit (it used to mean the agent's default 50).
	if s, n := run("--max-steps", "0"); s != 1 || n != 500 {
		t.Errorf("--max-steps 0: success %v, %v steps; want 1 and 500", s, n)
	}
	if s, n := run("--max-steps", "100"); s != 0 || n != 100 {
		t.Errorf("--max-steps 100: success %v, %v steps; want 0 and 100", s, n)
	}
}

func TestTrainBCAndUsage(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bc")
	code, out, errs := pilot(context.Background(), "train", "--algo", "bc", "--out", dir, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var sum trainSummary
	json.Unmarshal([]byte(out), &sum)
	if sum.FinalGreedy < 400 {
		t.Errorf("bc summary %+v: want the cloned PD expert to balance", sum)
	}
	for _, tt := range []struct {
		args []string
		msg  string
	}{
		{[]string{"train", "--env", "mars"}, `unknown suite "mars"`},
		{[]string{"train", "--env", "demo"}, "pilot does not train on it; it trains shop, robot:reach, cartpole"},
		{[]string{"train", "--env", "robot:reach", "--algo", "bc"}, "robot:reach trains with ppo"},
		{[]string{"train", "--demos", "5"}, "for suites that clone them (shop)"},
		{[]string{"train", "--algo", "dqn"}, "cartpole trains with ppo or bc"},
		{[]string{"train", "--plot", "x.gif"}, ".png or .svg"},
		{[]string{"train", "--kl-coef", "1"}, "needs --from"},
	} {
		if code, _, errs := pilot(context.Background(), tt.args...); code != 2 || !strings.Contains(errs, tt.msg) {
			t.Errorf("pilot %v = exit %d %q, want 2 with %q", tt.args, code, errs, tt.msg)
		}
	}
}

func TestEvalShippedReachPolicy(t *testing.T) {
	code, out, errs := pilot(context.Background(), "eval", "--suite", "robot:reach", "--policy", "nn:reach", "--episodes", "20", "--run-dir", filepath.Join(t.TempDir(), "r"))
	if code != 0 || !strings.Contains(out, "robot:reach/test  20") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	if strings.Contains(out, " 0.0% ") || strings.Contains(out, "  5.0%") {
		t.Errorf("the shipped reach policy failed most tasks:\n%s", out)
	}
	code, _, errs = pilot(context.Background(), "eval", "--suite", "shop", "--policy", "nn:reach")
	if code != 2 || !strings.Contains(errs, "network reach was trained on suite robot:reach, not shop") {
		t.Errorf("nn:reach on the shop = exit %d, %q", code, errs)
	}
}

// TestTrainShop clones the expert from 10 episodes, fine-tunes with one PPO
// update, and plays the result in Chromium with pilot eval.
func TestTrainShop(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shop")
	code, out, errs := pilot(context.Background(), "train", "--env", "shop", "--algo", "ppo", "--demos", "10", "--steps", "700", "--out", dir, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var sum trainSummary
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("summary %q: %v", out, err)
	}
	if sum.ShopStart == nil || sum.ShopPPO == nil || sum.ShopStart.Episodes != 200 || sum.ShopPPO.Episodes != 200 {
		t.Fatalf("summary %+v: want the test split's results before and after PPO", sum)
	}
	if sum.ShopStart.Success < 0.1 || sum.Steps <= 0 {
		t.Errorf("summary %+v: cloning 10 expert episodes should shop sometimes", sum)
	}
	for _, f := range []string{"bc.nn", "policy.nn", "metrics.jsonl", "metrics.csv", "curves.png"} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	code, out, errs = pilot(context.Background(), "eval", "--suite", "shop", "--policy", "nn:"+filepath.Join(dir, "policy.nn"), "--episodes", "2", "--run-dir", filepath.Join(t.TempDir(), "e"))
	if code != 0 || !strings.Contains(out, "shop/test  2") {
		t.Fatalf("eval of the trained policy: exit %d\n%s\n%s", code, out, errs)
	}
}

// TestEvalShippedShopPolicy plays nn:shop in Chromium.
func TestEvalShippedShopPolicy(t *testing.T) {
	code, out, errs := pilot(context.Background(), "eval", "--suite", "shop", "--policy", "nn:shop", "--episodes", "4", "--run-dir", filepath.Join(t.TempDir(), "s"), "--json")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	var rep struct {
		Episodes int     `json:"episodes"`
		Success  float64 `json:"success_rate"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("report %q: %v", out, err)
	}
	if rep.Episodes != 4 || rep.Success < 0.5 {
		t.Errorf("nn:shop on 4 test tasks in Chromium: %s", out)
	}
	code, _, errs = pilot(context.Background(), "eval", "--suite", "shop", "--policy", "nn:nothing")
	if code != 2 || !strings.Contains(errs, "it ships shop (shop), reach (robot:reach)") {
		t.Errorf("nn:nothing = exit %d, %q", code, errs)
	}
	code, _, errs = pilot(context.Background(), "eval", "--suite", "robot:reach", "--policy", "nn:shop")
	if code != 2 || !strings.Contains(errs, "network shop was trained on suite shop, not robot:reach") {
		t.Errorf("nn:shop on robot:reach = exit %d, %q", code, errs)
	}
}

// TestTrainInterrupted: a run stopped (Ctrl-C cancels the context) after
// its first update keeps the policy, the metrics and the plot so far.
func TestTrainInterrupted(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		for ctx.Err() == nil {
			if b, _ := os.ReadFile(filepath.Join(dir, "metrics.jsonl")); len(b) > 0 {
				cancel()
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	code, _, errs := pilot(ctx, "train", "--env", "cartpole", "--seed", "2", "--steps", "5000000", "--out", dir)
	if code != 1 || !strings.Contains(errs, "interrupted after update") {
		t.Fatalf("exit %d, stderr %q: want 1 and \"interrupted after update\"", code, errs)
	}
	_, meta, err := ppo.LoadPolicy(filepath.Join(dir, "policy.nn"))
	if err != nil || meta["interrupted"] != "true" {
		t.Fatalf("the policy so far: %v, meta %v", err, meta)
	}
	for _, f := range []string{"metrics.csv", "curves.png"} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// trainSummary is the JSON object pilot train --json prints, as a user's
// program reads it.
type trainSummary struct {
	Env           string         `json:"env"`
	Algo          string         `json:"algo"`
	Dir           string         `json:"dir"`
	Steps         int            `json:"steps"`
	StepsToSolve  int            `json:"steps_to_solve"`
	FinalGreedy   float64        `json:"final_greedy_return"`
	WallSeconds   float64        `json:"wall_s"`
	StepsPerSec   float64        `json:"steps_per_sec"`
	Policy        string         `json:"policy"`
	Plot          string         `json:"plot"`
	SuccessFast   *float64       `json:"success_fast"`
	SuccessSerial *float64       `json:"success_serial"`
	ShopStart     *shopnn.Result `json:"shop_start_test"`
	ShopPPO       *shopnn.Result `json:"shop_ppo_test"`
	Warnings      []string       `json:"warnings"`
}
