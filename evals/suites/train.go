package suites

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/pilotkit/pilot/agent"
	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/env/robotenv"
	"github.com/pilotkit/pilot/env/shop"
	"github.com/pilotkit/pilot/env/web/lite"
	"github.com/pilotkit/pilot/evals"
	"github.com/pilotkit/pilot/evals/runstore"
	"github.com/pilotkit/pilot/policy"
	"github.com/pilotkit/pilot/policy/ppo"
	"github.com/pilotkit/pilot/policy/shopnn"
	"github.com/pilotkit/pilot/robot/arm"
	"github.com/pilotkit/pilot/robot/sim"
)

// trainRun is one training run: the options and the suite it trains on.
type trainRun struct {
	evals.TrainOptions
	env string
}

// ppoTask is what PPO needs of a suite: its configuration, a learner env
// per index (and what closes it), and what to measure after training.
type ppoTask struct {
	config func(seed int64) ppo.Config
	newEnv func(ctx context.Context, seed int64, i int) (ppo.Env, func() error, error)
	after  func(ctx context.Context, f *trainRun, p *ppo.Policy, sum *evals.TrainResult, stderr io.Writer) error
}

// cartPolePPO is CartPole's.
var cartPolePPO = ppoTask{
	config: ppo.CartPoleConfig,
	newEnv: func(context.Context, int64, int) (ppo.Env, func() error, error) {
		return ppo.NewCartPole(), func() error { return nil }, nil
	},
}

// reachPPO is the reach task's: the fast engine, then the greedy success
// in the fast mode and through the serial path.
var reachPPO = ppoTask{
	config: ppo.ReachConfig,
	newEnv: func(ctx context.Context, seed int64, i int) (ppo.Env, func() error, error) {
		r, c, err := ppo.NewReachFast(ctx, seed*1000+int64(i))
		if err != nil {
			return nil, nil, fmt.Errorf("start the simulator: %w", err)
		}
		return r, c, nil
	},
	after: func(ctx context.Context, f *trainRun, p *ppo.Policy, sum *evals.TrainResult, stderr io.Writer) error {
		fast, serial, err := reachSuccess(ctx, p, f.Seed)
		if err != nil {
			return err
		}
		sum.Figures = map[string]any{"success_fast": fast, "success_serial": serial}
		fmt.Fprintf(stderr, "greedy success: %.0f%% in the fast mode (100 tasks), %.0f%% through the serial path (20 tasks)\n", 100*fast, 100*serial)
		return nil
	},
}

// train returns a Learner's Train function for the suite named env.
func train(env string, run func(f *trainRun, ctx context.Context, sum *evals.TrainResult, stderr io.Writer) error) func(context.Context, evals.TrainOptions) (*evals.TrainResult, error) {
	return func(ctx context.Context, o evals.TrainOptions) (*evals.TrainResult, error) {
		f := &trainRun{TrainOptions: o, env: env}
		if f.Plot == "" {
			f.Plot = "curves.png"
		}
		stderr := o.Progress
		if stderr == nil {
			stderr = io.Discard
		}
		sum := &evals.TrainResult{Policy: filepath.Join(o.Dir, "policy.nn"), Figures: map[string]any{}}
		if err := os.MkdirAll(filepath.Join(o.Dir, "checkpoints"), 0o755); err != nil {
			return nil, fmt.Errorf("run directory: %w", err)
		}
		if err := run(f, ctx, sum, stderr); err != nil {
			return nil, err
		}
		return sum, nil
	}
}

func (f *trainRun) ppo(ctx context.Context, task ppoTask, dir string, sum *evals.TrainResult, stderr io.Writer) error {
	cfg := task.config(f.Seed)
	var closers []func() error
	defer func() {
		for _, c := range closers {
			c()
		}
	}()
	newEnv := func(i int) (ppo.Env, error) {
		e, c, err := task.newEnv(ctx, f.Seed, i)
		if err != nil {
			return nil, err
		}
		closers = append(closers, c)
		return e, nil
	}
	if f.Steps > 0 {
		cfg.TotalSteps = f.Steps
	}
	var start *ppo.Policy
	if f.From != "" {
		p, _, err := ppo.LoadPolicy(f.From)
		if err != nil {
			return fmt.Errorf("--from: %w", err)
		}
		start = p
		if f.KLCoef > 0 {
			cfg.Reference, cfg.KLCoef = p.Clone(), f.KLCoef
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
		if f.CheckpointEvery > 0 && st.Update%f.CheckpointEvery == 0 && policy != nil {
			mw.fail(policy.Save(filepath.Join(dir, "checkpoints", fmt.Sprintf("update-%d.nn", st.Update)), map[string]string{"env": f.env, "update": strconv.Itoa(st.Update)}))
		}
	}
	if start == nil {
		start = ppo.NewPolicy(cfg.ObsSize, cfg.Action, []int{64, 64}, rand.New(rand.NewPCG(uint64(f.Seed), 0x1157)))
	}
	policy = start
	res, err := ppo.Train(ctx, newEnv, start, cfg)
	fmt.Fprintln(stderr)
	if err != nil {
		if ctx.Err() != nil && res != nil && len(res.Stats) > 0 {
			n := len(res.Stats)
			return interrupted(n, dir, mw, func(path string) error {
				return res.Policy.Save(path, map[string]string{"env": f.env, "algo": "ppo", "interrupted": "true", "update": strconv.Itoa(n)})
			}, func(path string) error { return ppo.Plot(res.Stats, f.env+" PPO (interrupted)", path) }, f.Plot)
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
	if task.after != nil {
		if err := task.after(ctx, f, res.Policy, sum, stderr); err != nil {
			return err
		}
	}
	plot := filepath.Join(dir, f.Plot)
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
func (f *trainRun) bc(ctx context.Context, sum *evals.TrainResult, stderr io.Writer) error {
	rng := rand.New(rand.NewPCG(uint64(f.Seed), 0xbc))
	data, err := ppo.Collect(ctx, ppo.NewCartPole(), ppo.CartPoleExpert, 20, rng)
	if err != nil {
		return err
	}
	start := time.Now()
	p := ppo.NewPolicy(4, ppo.Space{Discrete: 2}, []int{64, 64}, rand.New(rand.NewPCG(uint64(f.Seed), 0x1157)))
	st, err := ppo.BC(ctx, p, data, ppo.BCConfig{Epochs: 30, Seed: f.Seed})
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "behaviour cloning: %d expert samples, loss %.4f → %.4f, accuracy %.3f\n", len(data), st.Loss[0], st.Loss[len(st.Loss)-1], st.Accuracy)
	if sum.FinalGreedy, err = ppo.Evaluate(ctx, p, ppo.NewCartPole(), 20, rng); err != nil {
		return err
	}
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

// shopOrigin is the made-up origin of the store inside the lite browser:
// requests never leave the process.
const shopOrigin = "http://shop.pilot.internal"

// shopEpisodes is the PPO episodes per update on the shop.
const shopEpisodes = 64

// shopTrainer holds the shop, its splits and the lite-browser envs.
type shopTrainer struct {
	store            *shop.Store
	train, dev, test []env.Task
	pool             *shopnn.Pool
	started          time.Time
	actions          int
	stderr           io.Writer
}

func newShopTrainer(stderr io.Writer) (*shopTrainer, error) {
	// The store of pilot eval --suite shop's defaults (seed 1, 2,000
	// products): the test split here is the one eval plays.
	store, err := shop.NewStore(shop.StoreOptions{Seed: 1, Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		return nil, err
	}
	t := &shopTrainer{store: store, stderr: stderr, started: time.Now()}
	for _, sp := range []struct {
		name string
		dst  *[]env.Task
	}{{"train", &t.train}, {"dev", &t.dev}, {"test", &t.test}} {
		tasks, err := store.Tasks().Split(sp.name)
		if err != nil {
			return nil, err
		}
		for _, task := range tasks {
			*sp.dst = append(*sp.dst, store.EnvTask(task))
		}
	}
	// One lite browser per core; the results do not depend on how many.
	t.pool, err = shopnn.NewPool(runtime.GOMAXPROCS(0), func() (env.Env, error) {
		return shop.NewEnv(lite.New(store, lite.Options{Origin: shopOrigin}), store, shopOrigin), nil
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

func (t *shopTrainer) close() error { return t.pool.Close() }

func (t *shopTrainer) count(eps []shopnn.Episode) {
	for _, ep := range eps {
		t.actions += ep.Actions
	}
}

// evaluate plays the test split greedily with m.
func (t *shopTrainer) evaluate(ctx context.Context, m *shopnn.Model, what string) (*shopnn.Result, error) {
	res, eps, err := t.pool.Evaluate(ctx, m, t.test, shopnn.MaxSteps)
	if err != nil {
		return nil, fmt.Errorf("evaluate %s on the test split: %w", what, err)
	}
	t.count(eps)
	fmt.Fprintf(t.stderr, "%s on the test split (%d tasks, lite browser): success %.1f%%, mean reward %.3f, %.1f steps\n", what, res.Episodes, 100*res.Success, res.MeanReward, res.MeanSteps)
	return &res, nil
}

// bc collects the expert's demonstrations on the train split and clones
// them into a fresh model.
func (t *shopTrainer) bc(ctx context.Context, seed int64, n int, traces []string) (*shopnn.Model, error) {
	tasks := t.train
	if n > 0 && n < len(tasks) {
		tasks = tasks[:n]
	}
	demos, err := t.pool.Demonstrations(ctx, tasks, shopnn.MaxSteps)
	if err != nil {
		return nil, fmt.Errorf("expert demonstrations: %w", err)
	}
	t.count(demos)
	sum := shopnn.Summarize(demos)
	decisions, unmatched := 0, 0
	for _, d := range demos {
		decisions += len(d.Decisions)
		unmatched += d.Unmatched
	}
	fmt.Fprintf(t.stderr, "expert demonstrations: %d train episodes, success %.1f%%, %d decisions (%d expert actions matched no candidate)\n", len(demos), 100*sum.Success, decisions, unmatched)
	if len(traces) > 0 {
		more, err := t.traceDemos(ctx, traces)
		if err != nil {
			return nil, err
		}
		demos = append(demos, more...)
	}
	m := shopnn.New(rand.New(rand.NewPCG(uint64(seed), 0x5409)))
	st, err := shopnn.BC(ctx, m, demos, shopnn.BCConfig{Seed: seed, Progress: func(epoch int, loss, acc float64) {
		fmt.Fprintf(t.stderr, "\rbehaviour cloning: epoch %2d  loss %.4f  accuracy %.3f ", epoch, loss, acc)
	}})
	fmt.Fprintln(t.stderr)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(t.stderr, "behaviour cloning: %d decisions, accuracy %.3f\n", st.Decisions, st.Accuracy)
	return m, nil
}

// traceDemos replays the successful episodes of the runs in dirs (shop
// runs on the trainer's catalogue) and labels their actions, for
// cloning: expert iteration on search-improved trajectories. A replay
// that no longer succeeds is left out.
func (t *shopTrainer) traceDemos(ctx context.Context, dirs []string) ([]shopnn.Episode, error) {
	byID := map[string]env.Task{}
	for _, sp := range [][]env.Task{t.train, t.dev, t.test} {
		for _, task := range sp {
			byID[task.ID] = task
		}
	}
	var (
		tasks    []env.Task
		teachers []policy.Policy
	)
	for _, dir := range dirs {
		db, err := runstore.Open(dir)
		if err != nil {
			return nil, fmt.Errorf("--traces: %w", err)
		}
		m := db.Manifest()
		results, err := db.Results()
		db.Close()
		if err != nil {
			return nil, fmt.Errorf("--traces %s: %w", dir, err)
		}
		if name, _, _ := strings.Cut(m.Suite, "/"); name != "shop" || m.Seed != 1 || m.Flags["param"] != "" {
			return nil, fmt.Errorf("--traces %s: a run of %s (seed %d, params %q); want a shop run on the default catalogue (seed 1, no --param), the one the trainer plays", dir, m.Suite, m.Seed, m.Flags["param"])
		}
		if strings.Contains(m.Suite, "/test") {
			fmt.Fprintf(t.stderr, "warning: --traces %s is a run of the test split: cloning it trains on the tasks the policy is judged on\n", dir)
		}
		for _, r := range results {
			if !r.Success {
				continue
			}
			traj, err := readTrajectory(filepath.Join(dir, evals.EpisodesDir, r.Key(), agent.TrajectoryFile))
			if err != nil {
				return nil, fmt.Errorf("--traces %s: %w", dir, err)
			}
			task, ok := byID[traj.Task.ID]
			if !ok {
				return nil, fmt.Errorf("--traces %s: episode %s is of task %q, which the shop does not have", dir, r.Key(), traj.Task.ID)
			}
			var actions []env.Action
			for _, s := range traj.Steps {
				actions = append(actions, s.Action)
			}
			tasks, teachers = append(tasks, task), append(teachers, policy.Replay(actions))
		}
	}
	eps, err := t.pool.Imitations(ctx, tasks, teachers, shopnn.MaxSteps)
	if err != nil {
		return nil, fmt.Errorf("--traces: replay the episodes: %w", err)
	}
	t.count(eps)
	var kept []shopnn.Episode
	decisions := 0
	for _, ep := range eps {
		if ep.Success {
			kept = append(kept, ep)
			decisions += len(ep.Decisions)
		}
	}
	fmt.Fprintf(t.stderr, "traces: %d successful episodes of %d runs, %d replayed to success, %d decisions\n", len(tasks), len(dirs), len(kept), decisions)
	return kept, nil
}

func readTrajectory(path string) (*agent.Trajectory, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return agent.ReadJSONL(f)
}

// shop trains the shop's candidate scorer: behaviour cloning from the
// expert, then (--algo ppo) PPO fine-tuning with a KL penalty to the cloned
// policy, and reports both on the test split.
func (f *trainRun) shop(ctx context.Context, dir string, sum *evals.TrainResult, stderr io.Writer) error {
	t, err := newShopTrainer(stderr)
	if err != nil {
		return err
	}
	defer t.close()
	var start *shopnn.Model
	if f.From != "" {
		if start, _, err = shopnn.Load(f.From); err != nil {
			return fmt.Errorf("--from: %w", err)
		}
	} else {
		if start, err = t.bc(ctx, f.Seed, f.Demos, f.Traces); err != nil {
			return err
		}
		if err := start.Save(filepath.Join(dir, "bc.nn"), map[string]string{"algo": "bc", "seed": strconv.FormatInt(f.Seed, 10)}); err != nil {
			return err
		}
	}
	startRes, err := t.evaluate(ctx, start, "the starting policy")
	if err != nil {
		return err
	}
	sum.Figures["shop_start_test"] = startRes
	sum.Summary = fmt.Sprintf("shop %s: test success %.1f%% (starting policy)", f.Algo, 100*startRes.Success)
	final := start
	if f.Algo == "ppo" {
		if final, err = f.shopPPO(ctx, t, start, dir, sum, stderr); err != nil {
			return err
		}
		ppoRes, err := t.evaluate(ctx, final, "after PPO")
		if err != nil {
			return err
		}
		sum.FinalGreedy = ppoRes.Success
		sum.Figures["shop_ppo_test"] = ppoRes
		sum.Summary += fmt.Sprintf(" → %.1f%% after PPO", 100*ppoRes.Success)
	} else {
		sum.FinalGreedy = startRes.Success
	}
	if err := final.Save(sum.Policy, map[string]string{"algo": f.Algo, "seed": strconv.FormatInt(f.Seed, 10)}); err != nil {
		return err
	}
	sum.Steps = t.actions
	sum.WallSeconds = time.Since(t.started).Seconds()
	sum.StepsPerSec = float64(t.actions) / sum.WallSeconds
	return nil
}

func (f *trainRun) shopPPO(ctx context.Context, t *shopTrainer, start *shopnn.Model, dir string, sum *evals.TrainResult, stderr io.Writer) (*shopnn.Model, error) {
	m := start.Clone()
	ref := start.Clone()
	kl := f.KLCoef
	if !f.KLSet {
		kl = 0.05
	}
	if kl == 0 {
		kl = -1 // no penalty
	}
	budget := f.Steps
	if budget == 0 {
		budget = 30_000
	}
	// An episode takes about 11 actions.
	updates := max(1, int(math.Ceil(float64(budget)/float64(shopEpisodes*11))))
	mw, err := openMetrics(dir)
	if err != nil {
		return nil, err
	}
	defer mw.close()
	cfg := shopnn.PPOConfig{
		Updates: updates, Episodes: shopEpisodes, Seed: f.Seed, KLCoef: kl,
		Eval: t.dev, EvalEvery: 5,
		Progress: func(st ppo.Stats) {
			mw.write(st)
			progress(stderr, st, st.Steps*updates/st.Update)
			for _, w := range st.Warnings {
				fmt.Fprintf(stderr, "\nwarning: update %d: %s\n", st.Update, w)
			}
			if f.CheckpointEvery > 0 && st.Update%f.CheckpointEvery == 0 {
				mw.fail(m.Save(filepath.Join(dir, "checkpoints", fmt.Sprintf("update-%d.nn", st.Update)), map[string]string{"algo": "ppo", "update": strconv.Itoa(st.Update)}))
			}
		},
	}
	stats, err := shopnn.PPO(ctx, t.pool, m, ref, t.train, cfg)
	fmt.Fprintln(stderr)
	if err != nil {
		if ctx.Err() != nil && len(stats) > 0 {
			// m holds the weights of the last complete update: an update
			// is not cut short, only rollouts and evaluations are.
			n := len(stats)
			return nil, interrupted(n, dir, mw, func(path string) error {
				return m.Save(path, map[string]string{"algo": "ppo", "interrupted": "true", "update": strconv.Itoa(n)})
			}, func(path string) error { return ppo.Plot(stats, "shop PPO (interrupted)", path) }, f.Plot)
		}
		return nil, err
	}
	if err := mw.close(); err != nil {
		return nil, err
	}
	for _, st := range stats {
		sum.Warnings = append(sum.Warnings, st.Warnings...)
	}
	if n := len(stats); n > 0 {
		t.actions += stats[n-1].Steps
	}
	plot := filepath.Join(dir, f.Plot)
	if err := ppo.Plot(stats, "shop PPO (greedy: dev success rate)", plot); err != nil {
		return nil, err
	}
	sum.Plot = plot
	return m, nil
}
