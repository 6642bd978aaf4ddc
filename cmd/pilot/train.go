package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"

	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pilotkit/pilot/agent"
	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/env/robotenv"
	"github.com/pilotkit/pilot/policy/ppo"
	"github.com/pilotkit/pilot/policy/shopnn"
	"github.com/pilotkit/pilot/robot/arm"
	"github.com/pilotkit/pilot/robot/sim"
)

type trainFlags struct {
	env, algo, out, plot, from string
	steps, demos               int
	seed                       int64
	checkpointEvery            int
	klCoef                     float64
	klSet                      bool
	json                       bool
}

func newTrainCmd() *cobra.Command {
	f := &trainFlags{}
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Train a small neural policy with PPO or behaviour cloning",
		Long: `Train a small neural policy on a CPU: PPO (CleanRL's ppo.py, detail for
detail) or behaviour cloning from a scripted expert.

The run directory (default runs/train-<env>-<time>) gets:
  metrics.jsonl, metrics.csv   one line per update: return, greedy return,
                               entropy, approximate KL, clip fraction,
                               explained variance, gradient norm, advantages
  policy.nn                    the trained policy (pilot eval --policy nn:DIR/policy.nn)
  checkpoints/update-N.nn      every --checkpoint-every updates
  curves.png                   return, entropy, KL and explained variance over steps

The shop (--env shop): the scripted expert plays the train split in a
browser without JavaScript (env/web/lite, the shop's pages in-process with
Chromium's observations); behaviour cloning fits a scorer over each page's
candidate actions to its choices (bc.nn); --algo ppo then fine-tunes it
with a KL penalty to the clone. Both are evaluated on the test split (the
one pilot eval --suite shop plays); --json gives shop_start_test and
shop_ppo_test.

Progress goes to stderr; with --json, stdout gets a summary: steps to solve,
the final greedy return (the shop: the test success rate), wall time,
steps per second.`,
		Example: `  pilot train --env cartpole
  pilot train --env cartpole --algo bc
  pilot train --env shop --demos 30 --out runs/shop30
  pilot train --env cartpole --steps 300000 --seed 3 --out runs/cp3 --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.klSet = cmd.Flags().Changed("kl-coef")
			if err := f.validate(); err != nil {
				return err
			}
			return f.run(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.env, "env", "cartpole", "what to learn: cartpole, robot:reach (the simulated SO-101 in the fast in-process mode), or shop (the candidate scorer, in a browser without JavaScript)")
	fs.StringVar(&f.algo, "algo", "ppo", "ppo, or bc (behaviour cloning from the env's scripted expert; on the shop, ppo clones first, then fine-tunes)")
	fs.IntVar(&f.steps, "steps", 0, "env steps of PPO (default: the env's budget: 150,000 for cartpole, 30,000 for shop)")
	fs.Int64Var(&f.seed, "seed", 1, "seed of the networks, the envs and the sampling: the same seed gives the same run")
	fs.StringVar(&f.out, "out", "", "the run `DIR` (default runs/train-<env>-<YYYYmmdd-HHMMSS>)")
	fs.StringVar(&f.plot, "plot", "curves.png", "the plot's file name in the run directory: .png or .svg")
	fs.StringVar(&f.from, "from", "", "start from this saved policy `FILE` (fine-tuning)")
	fs.Float64Var(&f.klCoef, "kl-coef", 0, "with --from: penalise the KL divergence to the starting policy by this coefficient")
	fs.IntVar(&f.demos, "demos", 0, "shop: clone the expert's episodes on the first N train tasks (0: all 700)")
	fs.IntVar(&f.checkpointEvery, "checkpoint-every", 10, "save the policy every N updates (0: never)")
	fs.BoolVar(&f.json, "json", false, "print a JSON summary on stdout")
	return cmd
}

func (f *trainFlags) validate() error {
	switch {
	case f.env != "cartpole" && f.env != "robot:reach" && f.env != "shop":
		return usagef("--env %q: pilot trains cartpole, robot:reach and shop", f.env)
	case f.env == "robot:reach" && f.algo == "bc":
		return usagef("--algo bc is for cartpole; robot:reach trains with ppo")
	case f.algo != "ppo" && f.algo != "bc":
		return usagef("--algo %q: want ppo or bc", f.algo)
	case f.demos < 0 || f.demos > 0 && f.env != "shop":
		return usagef("--demos %d: the number of expert episodes to clone, for --env shop only", f.demos)
	case f.steps < 0:
		return usagef("--steps %d: want 0 (the default) or more", f.steps)
	case f.checkpointEvery < 0:
		return usagef("--checkpoint-every %d: want 0 (never) or more", f.checkpointEvery)
	case f.klCoef < 0 || math.IsNaN(f.klCoef):
		return usagef("--kl-coef %v: want 0 or more", f.klCoef)
	case f.klCoef > 0 && f.from == "" && f.env != "shop":
		return usagef("--kl-coef needs --from: the KL is to the starting policy")
	}
	if ext := strings.ToLower(filepath.Ext(f.plot)); ext != ".png" && ext != ".svg" {
		return usagef("--plot %q: want a .png or .svg file name", f.plot)
	}
	return nil
}

// trainSummary is what pilot train --json prints.
type trainSummary struct {
	Env          string  `json:"env"`
	Algo         string  `json:"algo"`
	Steps        int     `json:"steps"`
	StepsToSolve int     `json:"steps_to_solve"` // 0: not solved
	FinalGreedy  float64 `json:"final_greedy_return"`
	WallSeconds  float64 `json:"wall_s"`
	StepsPerSec  float64 `json:"steps_per_sec"`
	Dir          string  `json:"dir"`
	Policy       string  `json:"policy"`
	Plot         string  `json:"plot,omitempty"`
	// SuccessFast and SuccessSerial are the robot task's greedy success
	// rates in the fast mode and through the serial path (a simulator on a
	// pseudo-terminal, the bytes a real arm gets).
	SuccessFast   *float64 `json:"success_fast,omitempty"`
	SuccessSerial *float64 `json:"success_serial,omitempty"`
	// ShopStart and ShopPPO are the shop policy's results on the test
	// split (in the lite browser): the starting policy (behaviour cloned,
	// or --from) and, with --algo ppo, after PPO fine-tuning.
	ShopStart *shopnn.Result `json:"shop_start_test,omitempty"`
	ShopPPO   *shopnn.Result `json:"shop_ppo_test,omitempty"`
	Warnings  []string       `json:"warnings,omitempty"`
}

func (f *trainFlags) run(ctx context.Context, stdout, stderr io.Writer) error {
	dir := f.out
	if dir == "" {
		dir = filepath.Join("runs", fmt.Sprintf("train-%s-%s", strings.ReplaceAll(f.env, ":", "-"), time.Now().Format("20060102-150405")))
	}
	if err := os.MkdirAll(filepath.Join(dir, "checkpoints"), 0o755); err != nil {
		return fmt.Errorf("run directory: %w", err)
	}
	sum := trainSummary{Env: f.env, Algo: f.algo, Dir: dir, Policy: filepath.Join(dir, "policy.nn")}
	var err error
	if f.env == "shop" {
		err = f.shop(ctx, dir, &sum, stderr)
	} else if f.algo == "bc" {
		err = f.bc(ctx, &sum, stderr)
	} else {
		err = f.ppo(ctx, dir, &sum, stderr)
	}
	if err != nil {
		return err
	}
	if f.json {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		return enc.Encode(sum)
	}
	if f.env == "shop" {
		line := fmt.Sprintf("shop %s: test success %.1f%% (starting policy)", f.algo, 100*sum.ShopStart.Success)
		if sum.ShopPPO != nil {
			line += fmt.Sprintf(" → %.1f%% after PPO", 100*sum.ShopPPO.Success)
		}
		fmt.Fprintf(stdout, "%s; %d steps in %.1fs (%.0f steps/s)\npolicy %s\n", line, sum.Steps, sum.WallSeconds, sum.StepsPerSec, sum.Policy)
		if sum.Plot != "" {
			fmt.Fprintf(stdout, "plot %s\n", sum.Plot)
		}
		return nil
	}
	solved := "not solved"
	if sum.StepsToSolve > 0 {
		solved = fmt.Sprintf("solved at %d steps", sum.StepsToSolve)
	}
	fmt.Fprintf(stdout, "%s %s: %s; greedy return %.1f; %d steps in %.1fs (%.0f steps/s)\npolicy %s\n",
		f.env, f.algo, solved, sum.FinalGreedy, sum.Steps, sum.WallSeconds, sum.StepsPerSec, sum.Policy)
	if sum.Plot != "" {
		fmt.Fprintf(stdout, "plot %s\n", sum.Plot)
	}
	return nil
}

func (f *trainFlags) ppo(ctx context.Context, dir string, sum *trainSummary, stderr io.Writer) error {
	cfg := ppo.CartPoleConfig(f.seed)
	newEnv := func(int) ppo.Env { return ppo.NewCartPole() }
	var closers []func() error
	defer func() {
		for _, c := range closers {
			c()
		}
	}()
	var envErr error
	if f.env == "robot:reach" {
		cfg = ppo.ReachConfig(f.seed)
		newEnv = func(i int) ppo.Env {
			r, c, err := ppo.NewReachFast(f.seed*1000 + int64(i))
			if err != nil {
				envErr = err
				return &deadEnv{}
			}
			closers = append(closers, c)
			return r
		}
	}
	if f.steps > 0 {
		cfg.TotalSteps = f.steps
	}
	var start *ppo.Policy
	if f.from != "" {
		p, _, err := ppo.LoadPolicy(f.from)
		if err != nil {
			return fmt.Errorf("--from: %w", err)
		}
		start = p
		if f.klCoef > 0 {
			cfg.Reference, cfg.KLCoef = p.Clone(), f.klCoef
		}
	}
	mw, err := openMetrics(dir)
	if err != nil {
		return err
	}
	defer mw.close()
	var policy *ppo.Policy
	cfg.OnUpdate = func(st ppo.Stats) {
		mw.write(st)
		progress(stderr, st, cfg.TotalSteps)
		for _, w := range st.Warnings {
			fmt.Fprintf(stderr, "\nwarning: update %d: %s\n", st.Update, w)
		}
		if f.checkpointEvery > 0 && st.Update%f.checkpointEvery == 0 && policy != nil {
			mw.fail(policy.Save(filepath.Join(dir, "checkpoints", fmt.Sprintf("update-%d.nn", st.Update)), map[string]string{"env": f.env, "update": strconv.Itoa(st.Update)}))
		}
	}
	if start == nil {
		start = ppo.NewPolicy(cfg.ObsSize, cfg.Action, []int{64, 64}, rand.New(rand.NewPCG(uint64(f.seed), 0x1157)))
	}
	policy = start
	res, err := ppo.Train(ctx, newEnv, start, cfg)
	fmt.Fprintln(stderr)
	if envErr != nil {
		return fmt.Errorf("start the simulator: %w", envErr)
	}
	if err != nil {
		if ctx.Err() != nil && res != nil && len(res.Stats) > 0 {
			n := len(res.Stats)
			return interrupted(n, dir, mw, func(path string) error {
				return res.Policy.Save(path, map[string]string{"env": f.env, "algo": "ppo", "interrupted": "true", "update": strconv.Itoa(n)})
			}, func(path string) error { return ppo.Plot(res.Stats, f.env+" PPO (interrupted)", path) }, f.plot)
		}
		return err
	}
	if err := mw.close(); err != nil {
		return err
	}
	if err := res.Policy.Save(sum.Policy, map[string]string{"env": f.env, "algo": "ppo", "steps": strconv.Itoa(res.Steps)}); err != nil {
		return err
	}
	sum.Steps, sum.StepsToSolve, sum.FinalGreedy = res.Steps, res.SolvedAt, res.FinalGreedy
	sum.WallSeconds = res.Elapsed.Seconds()
	sum.StepsPerSec = float64(res.Steps) / res.Elapsed.Seconds()
	for _, st := range res.Stats {
		sum.Warnings = append(sum.Warnings, st.Warnings...)
	}
	if f.env == "robot:reach" {
		fast, serial, err := reachSuccess(ctx, res.Policy, f.seed)
		if err != nil {
			return err
		}
		sum.SuccessFast, sum.SuccessSerial = &fast, &serial
		fmt.Fprintf(stderr, "greedy success: %.0f%% in the fast mode (100 tasks), %.0f%% through the serial path (20 tasks)\n", 100*fast, 100*serial)
	}
	plot := filepath.Join(dir, f.plot)
	if err := ppo.Plot(res.Stats, f.env+" PPO", plot); err != nil {
		return err
	}
	sum.Plot = plot
	return nil
}

// interrupted saves what a training run stopped by Ctrl-C has after its
// last complete update — the policy, the metrics, the plot — and returns
// the error that says where they are.
func interrupted(update int, dir string, mw *metrics, save, plot func(path string) error, plotName string) error {
	policy := filepath.Join(dir, "policy.nn")
	errs := []error{mw.close(), save(policy), plot(filepath.Join(dir, plotName))}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("interrupted after update %d, and saving what it had failed: %w", update, err)
	}
	return fmt.Errorf("interrupted after update %d: the policy so far is %s; metrics and plot are in %s", update, policy, dir)
}

// metrics writes metrics.jsonl and metrics.csv, a line per update.
type metrics struct {
	jf, cf *os.File
	enc    *json.Encoder
	cw     *csv.Writer
	err    error
	closed bool
}

func openMetrics(dir string) (*metrics, error) {
	jf, err := os.Create(filepath.Join(dir, "metrics.jsonl"))
	if err != nil {
		return nil, err
	}
	cf, err := os.Create(filepath.Join(dir, "metrics.csv"))
	if err != nil {
		jf.Close()
		return nil, err
	}
	m := &metrics{jf: jf, cf: cf, enc: json.NewEncoder(jf), cw: csv.NewWriter(cf)}
	m.fail(m.cw.Write([]string{"update", "steps", "episode_return", "greedy_return", "entropy", "approx_kl", "ref_kl", "clip_frac", "explained_variance", "grad_norm", "policy_loss", "value_loss", "adv_mean", "adv_std", "lr", "steps_per_sec"}))
	return m, nil
}

// fail keeps the first error.
func (m *metrics) fail(err error) {
	if err != nil && m.err == nil {
		m.err = err
	}
}

func (m *metrics) write(st ppo.Stats) {
	m.fail(m.enc.Encode(jsonStats(st)))
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
	m.fail(m.cw.Write([]string{strconv.Itoa(st.Update), strconv.Itoa(st.Steps), g(st.EpisodeReturn), g(st.GreedyReturn), g(st.Entropy), g(st.ApproxKL), g(st.RefKL), g(st.ClipFrac), g(st.ExplainedVar), g(st.GradNorm), g(st.PolicyLoss), g(st.ValueLoss), g(st.AdvMean), g(st.AdvStd), g(st.LR), g(st.StepsPerSec)}))
}

// close flushes and closes the files and returns the first error.
func (m *metrics) close() error {
	if m.closed {
		return m.err
	}
	m.closed = true
	m.cw.Flush()
	m.fail(m.cw.Error())
	m.fail(m.jf.Close())
	m.fail(m.cf.Close())
	if m.err != nil {
		return fmt.Errorf("write the metrics: %w", m.err)
	}
	return nil
}

// jsonStats replaces NaN (not JSON) by null.
func jsonStats(st ppo.Stats) map[string]any {
	b, _ := json.Marshal(struct {
		ppo.Stats
		EpisodeReturn *float64 `json:"episode_return"`
		GreedyReturn  *float64 `json:"greedy_return"`
		ExplainedVar  *float64 `json:"explained_variance"`
	}{st, finite(st.EpisodeReturn), finite(st.GreedyReturn), finite(st.ExplainedVar)})
	var m map[string]any
	json.Unmarshal(b, &m)
	return m
}

func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// progress draws a one-line progress bar on w.
func progress(w io.Writer, st ppo.Stats, total int) {
	const width = 24
	done := min(width, width*st.Steps/max(1, total))
	greedy := "-"
	if !math.IsNaN(st.GreedyReturn) {
		greedy = strconv.FormatFloat(st.GreedyReturn, 'f', 1, 64)
	}
	ret := "-"
	if !math.IsNaN(st.EpisodeReturn) {
		ret = strconv.FormatFloat(st.EpisodeReturn, 'f', 1, 64)
	}
	fmt.Fprintf(w, "\r[%s%s] %7d/%d steps  return %6s  greedy %6s  entropy %.3f  kl %.4f  %5.0f steps/s ",
		strings.Repeat("#", done), strings.Repeat(" ", width-done), st.Steps, total, ret, greedy, st.Entropy, st.ApproxKL, st.StepsPerSec)
}

// bc clones CartPole's PD expert.
func (f *trainFlags) bc(ctx context.Context, sum *trainSummary, stderr io.Writer) error {
	rng := rand.New(rand.NewPCG(uint64(f.seed), 0xbc))
	data := ppo.Collect(ppo.NewCartPole(), ppo.CartPoleExpert, 20, rng)
	start := time.Now()
	p := ppo.NewPolicy(4, ppo.Space{Discrete: 2}, []int{64, 64}, rand.New(rand.NewPCG(uint64(f.seed), 0x1157)))
	st, err := ppo.BC(ctx, p, data, ppo.BCConfig{Epochs: 30, Seed: f.seed})
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "behaviour cloning: %d expert samples, loss %.4f → %.4f, accuracy %.3f\n", len(data), st.Loss[0], st.Loss[len(st.Loss)-1], st.Accuracy)
	sum.FinalGreedy = ppo.Evaluate(p, ppo.NewCartPole(), 20, rng)
	sum.WallSeconds = time.Since(start).Seconds()
	if sum.FinalGreedy >= 475 {
		sum.StepsToSolve = len(data)
	}
	sum.Steps = len(data)
	sum.StepsPerSec = float64(len(data)) / sum.WallSeconds
	if err := p.Save(sum.Policy, map[string]string{"env": f.env, "algo": "bc"}); err != nil {
		return err
	}
	return nil
}

// deadEnv stands in for an env that could not start; Train stops on the
// recorded error.
type deadEnv struct{}

func (deadEnv) Reset(*rand.Rand) []float64 { return make([]float64, ppo.ReachObsSize) }
func (deadEnv) Step(ppo.Action) ([]float64, float64, bool, bool) {
	return make([]float64, ppo.ReachObsSize), 0, false, true
}

// reachSuccess measures a reach policy's greedy success rate on fresh
// tasks: in the fast mode, and through a simulator on a pseudo-terminal
// (the serial path a real arm uses).
func reachSuccess(ctx context.Context, p *ppo.Policy, seed int64) (fast, serial float64, err error) {
	run := func(e env.Env, n int, base int64) (float64, error) {
		wins := 0
		for i := 0; i < n; i++ {
			task := env.Task{Seed: 2_000_000 + base + int64(i)}
			traj, err := agent.Run(ctx, e, task, ppo.ReachPolicy(p), agent.Options{MaxSteps: -1})
			if err != nil {
				return 0, err
			}
			if traj.Success {
				wins++
			}
		}
		return float64(wins) / float64(n), nil
	}
	rig, err := robotenv.NewFast(ctx, robotenv.RigOptions{Seed: seed})
	if err != nil {
		return 0, 0, err
	}
	e, err := robotenv.New(rig, robotenv.Options{Task: robotenv.Reach})
	if err != nil {
		rig.Close()
		return 0, 0, err
	}
	fast, err = run(e, 100, 0)
	e.Close()
	if err != nil {
		return 0, 0, fmt.Errorf("evaluate in the fast mode: %w", err)
	}
	s, err := sim.New(sim.Options{Seed: seed})
	if err != nil {
		return 0, 0, err
	}
	defer s.Close()
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pt, err := s.ServePTY(pctx)
	if err != nil {
		return 0, 0, err
	}
	defer pt.Close()
	srig, err := robotenv.Dial(ctx, pt.Path(), robotenv.RigOptions{Calibration: robotenv.SimCalibration(), Arm: arm.Options{WriteCalibration: true}})
	if err != nil {
		return 0, 0, fmt.Errorf("evaluate through the serial path: %w", err)
	}
	se, err := robotenv.New(srig, robotenv.Options{Task: robotenv.Reach})
	if err != nil {
		srig.Close()
		return 0, 0, err
	}
	defer se.Close()
	serial, err = run(se, 20, 100)
	if err != nil {
		return 0, 0, fmt.Errorf("evaluate through the serial path: %w", err)
	}
	return fast, serial, nil
}
