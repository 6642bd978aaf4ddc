package evals

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pilotkit/pilot/agent"
)

// Result is the outcome of one episode: one line of results.jsonl.
type Result struct {
	TaskID string `json:"task_id"`
	// Episode and Repeat name the repeat of the task when a run plays
	// each task more than once (Config.Repeat): "shop-test-0003.r2", 2.
	// Both are empty for a run of one repeat (the key is then TaskID).
	Episode string `json:"episode,omitempty"`
	Repeat  int    `json:"repeat,omitempty"`
	// Outcome is success, failure or error (OutcomeSuccess …): an error
	// is an episode that did not run to its end, and is not scored.
	Outcome string `json:"outcome"`
	// ErrorKind says what failed when Outcome is error (KindBackend …).
	ErrorKind string `json:"error_kind,omitempty"`
	// Attempt counts the plays of the episode, from 1: more when an
	// error was retried (Config.Retries).
	Attempt int `json:"attempt"`
	// Success is the trajectory's: the env ended the task with full
	// marks (agent.Trajectory.Success). An episode with an Error is
	// never a success.
	Success bool `json:"success"`
	// Reward is the final step's reward, Return the sum of them all.
	Reward     float64 `json:"reward"`
	Return     float64 `json:"return"`
	Steps      int     `json:"steps"`
	Terminated bool    `json:"terminated"`
	Truncated  bool    `json:"truncated"`
	Reason     string  `json:"reason,omitempty"`
	// Error says why the episode failed to run to its end (a dead
	// browser, a step timeout, a policy error); "" when it ran.
	Error    string        `json:"error,omitempty"`
	Duration time.Duration `json:"duration_ns"`
	// Worker is the worker that played the episode, from 0.
	Worker int `json:"worker"`
	// Tokens and CostUSD are what the policy's model used (0 for a
	// policy without one).
	Tokens  int     `json:"tokens,omitempty"`
	CostUSD float64 `json:"cost_usd,omitempty"`
	// ModelRetries counts the model calls that failed and were made
	// again (each listed in its step's Meta["attempts"]).
	ModelRetries int `json:"model_retries,omitempty"`
	// Info is the final step's env.Step.Info, e.g. the shop's reward
	// breakdown ("breakdown": which constraint failed).
	Info map[string]any `json:"info,omitempty"`
	// Missed names what a failed episode missed, in the suite's terms
	// (the shop: category, attribute, option, price, rating, address, or
	// no purchase); set by Config.Missed.
	Missed []string `json:"missed,omitempty"`
	// Tags label the episode in the suite's terms (Config.Tags), such as
	// the shop's "attack leak succeeded".
	Tags []string `json:"tags,omitempty"`
	// Questions counts the questions the agent asked (ask_user; not the
	// confirmations), and
	// Hidden is set when the task kept facts from the instruction
	// (Task.Hidden): a question was needed.
	Questions int  `json:"questions,omitempty"`
	Hidden    bool `json:"hidden,omitempty"`
	// Answered counts the questions whose answer told something
	// (tools.Answer.Told): not "I don't know.", not no answer.
	Answered int `json:"answered,omitempty"`
	// Confidence is the agent's confidence in the episode, when it gave
	// one (a step's Decision.Meta["confidence"]): the one its last step
	// states, else the lowest of its steps'. Nil when it gave none.
	Confidence *float64 `json:"confidence,omitempty"`
	// Trajectory is the episode as played, for a Store that keeps its
	// steps; it is not part of the JSON form (the trajectory file is).
	Trajectory *agent.Trajectory `json:"-"`
}

// Key is the episode's key: Episode, or TaskID for a run of one repeat.
func (r Result) Key() string {
	if r.Episode != "" {
		return r.Episode
	}
	return r.TaskID
}

// status is the word the progress line gives the episode.
func (r Result) status() string {
	switch {
	case r.Outcome == OutcomeFailure && r.Truncated:
		return "truncated"
	case r.Outcome == OutcomeFailure:
		return "fail"
	case r.Error != "":
		return "error"
	case r.Success:
		return "success"
	case r.Truncated:
		return "truncated"
	}
	return "fail"
}

// Z95 is the standard normal quantile of a two-sided 95% interval.
const Z95 = 1.959963984540054

// Report sums up a run. Rates and means are over the scored episodes:
// those that ran to their end, a success or a failure. Episodes that
// ended in an error (after their retries) are counted apart, by kind, and
// never as failures.
type Report struct {
	Suite  string    `json:"suite"`
	Policy string    `json:"policy,omitempty"`
	Start  time.Time `json:"start"`
	// Planned is how many episodes the run plans; Episodes how many have
	// a final result, Scored those of them that are not errors.
	Planned  int `json:"planned"`
	Episodes int `json:"episodes"`
	Scored   int `json:"scored"`
	// Complete says whether every planned episode has its final result;
	// Interrupted whether the process was stopped before (Ctrl-C, a
	// fatal error): then the numbers are of a part of the run.
	Complete    bool `json:"complete"`
	Interrupted bool `json:"interrupted,omitempty"`
	Successes   int  `json:"successes"`
	Errors      int  `json:"errors"`
	// ErrorKinds counts the errors by kind; Retries the attempts that
	// ended in an error and were played again.
	ErrorKinds map[string]int `json:"error_kinds,omitempty"`
	Retries    int            `json:"retries"`
	// SuccessRate is Successes/Scored; CI95Low and CI95High bound it
	// with the Wilson score interval at 95%.
	SuccessRate float64 `json:"success_rate"`
	CI95Low     float64 `json:"ci95_low"`
	CI95High    float64 `json:"ci95_high"`
	MeanReward  float64 `json:"mean_reward"`
	MeanSteps   float64 `json:"mean_steps"`
	// Tokens and CostUSD sum the episodes' model usage; CostPerSuccess
	// is CostUSD over Successes (0 without a success).
	Tokens         int     `json:"tokens"`
	CostUSD        float64 `json:"cost_usd"`
	CostPerSuccess float64 `json:"cost_per_success"`
	// ModelRetries sums the episodes' retried model calls.
	ModelRetries int `json:"model_retries"`
	// Step latencies, the env's and the policy's apart: the median and
	// the 95th percentile over every step of the process (SetLatencies).
	EnvP50    time.Duration `json:"env_p50_ns"`
	EnvP95    time.Duration `json:"env_p95_ns"`
	PolicyP50 time.Duration `json:"policy_p50_ns"`
	PolicyP95 time.Duration `json:"policy_p95_ns"`
	// PassK is τ-bench's pass^k for k = 1..K when the run played each
	// task K > 1 times (Config.Repeat): PassK[k-1] is the chance that all
	// of k attempts at a task succeed, estimated for each task from its c
	// successes in n scored repeats as C(c,k)/C(n,k), and averaged over
	// the tasks with n ≥ k.
	PassK []float64 `json:"pass_k,omitempty"`
	// Missed counts, over the scored failures, what they missed
	// (Result.Missed): which constraint a shop episode got wrong.
	Missed map[string]int `json:"missed,omitempty"`
	// Tags counts the scored episodes' tags (Result.Tags).
	Tags map[string]int `json:"tags,omitempty"`
	// Questions sums the scored episodes' questions; Unnecessary those
	// asked in episodes whose task hid nothing. HiddenEpisodes counts the
	// episodes whose task hid facts, HiddenAsked those of them that asked.
	Questions      int `json:"questions,omitempty"`
	Answered       int `json:"answered_questions,omitempty"`
	Unnecessary    int `json:"unnecessary_questions,omitempty"`
	HiddenEpisodes int `json:"hidden_episodes,omitempty"`
	HiddenAsked    int `json:"hidden_asked,omitempty"`
	// Calibration compares the agent's confidence with its success, over
	// the scored episodes that gave one; nil when none did.
	Calibration *Calibration `json:"calibration,omitempty"`
	// EpisodesPerMinute is Episodes over the wall time of the whole run.
	EpisodesPerMinute float64       `json:"episodes_per_minute"`
	Duration          time.Duration `json:"duration_ns"`
	Workers           int           `json:"workers"`
	RunDir            string        `json:"run_dir"`
	// Manifest is how to reproduce the run, when the caller gave it.
	Manifest *Manifest `json:"manifest,omitempty"`
	// Results are the episodes in suite order. They are in
	// RUNDIR/results.jsonl, not in report.json.
	Results []Result `json:"-"`
}

// Summarize computes the report of a run from its final results, out of
// planned episodes (what `pilot runs show` prints from a run store). The
// wall time is unknown, so there is no rate.
func Summarize(suite string, planned int, results []Result) *Report {
	rep := newReport(suite, planned, results, 0)
	return rep
}

// newReport computes the numbers of a report from the results of planned
// episodes.
func newReport(suite string, planned int, results []Result, wall time.Duration) *Report {
	rep := &Report{Suite: suite, Episodes: len(results), Planned: planned, Duration: wall, Results: results}
	var reward, steps float64
	var scored []Result
	for _, r := range results {
		rep.Tokens += r.Tokens
		rep.CostUSD += r.CostUSD
		rep.ModelRetries += r.ModelRetries
		if r.Error != "" && r.Outcome != OutcomeFailure {
			rep.Errors++
			if rep.ErrorKinds == nil {
				rep.ErrorKinds = map[string]int{}
			}
			kind := r.ErrorKind
			if kind == "" {
				kind = "unknown"
			}
			rep.ErrorKinds[kind]++
			continue
		}
		rep.Scored++
		scored = append(scored, r)
		if r.Success {
			rep.Successes++
		}
		for _, m := range r.Missed {
			if rep.Missed == nil {
				rep.Missed = map[string]int{}
			}
			rep.Missed[m]++
		}
		for _, tg := range r.Tags {
			if rep.Tags == nil {
				rep.Tags = map[string]int{}
			}
			rep.Tags[tg]++
		}
		rep.Questions += r.Questions
		rep.Answered += r.Answered
		switch {
		case r.Hidden:
			rep.HiddenEpisodes++
			if r.Questions > 0 {
				rep.HiddenAsked++
			}
		default:
			rep.Unnecessary += r.Questions
		}
		reward += r.Reward
		steps += float64(r.Steps)
	}
	rep.Calibration = calibrate(scored)
	rep.CI95Low, rep.CI95High = Wilson(rep.Successes, rep.Scored, Z95)
	if rep.Successes > 0 {
		rep.CostPerSuccess = rep.CostUSD / float64(rep.Successes)
	}
	rep.PassK = passK(results)
	if n := float64(rep.Scored); n > 0 {
		rep.SuccessRate = float64(rep.Successes) / n
		rep.MeanReward = reward / n
		rep.MeanSteps = steps / n
	}
	if m := wall.Minutes(); m > 0 {
		rep.EpisodesPerMinute = float64(rep.Episodes) / m
	}
	rep.Complete = rep.Episodes == rep.Planned
	return rep
}

// Calibration is how well an agent's confidence predicts its success:
// the expected calibration error over ten equal-width bins of
// confidence, ECE = Σ_b (n_b/N)·|success rate_b − mean confidence_b|.
type Calibration struct {
	Episodes       int     `json:"episodes"`
	MeanConfidence float64 `json:"mean_confidence"`
	SuccessRate    float64 `json:"success_rate"`
	ECE            float64 `json:"ece"`
	// Bins are the ten bins from [0, 0.1) to [0.9, 1]: episodes, mean
	// confidence, success rate.
	Bins [10]CalibrationBin `json:"bins"`
}

// CalibrationBin is one bin of Calibration.
type CalibrationBin struct {
	Episodes       int     `json:"episodes"`
	MeanConfidence float64 `json:"mean_confidence,omitempty"`
	SuccessRate    float64 `json:"success_rate,omitempty"`
}

// calibrate computes the calibration of the scored results that have a
// confidence; nil when none has one.
func calibrate(scored []Result) *Calibration {
	c := &Calibration{}
	var conf, succ [10]float64
	var sumConf, sumSucc float64
	for _, r := range scored {
		if r.Confidence == nil {
			continue
		}
		p := min(max(*r.Confidence, 0), 1)
		b := min(int(p*10), 9)
		c.Episodes++
		c.Bins[b].Episodes++
		conf[b] += p
		sumConf += p
		if r.Success {
			succ[b]++
			sumSucc++
		}
	}
	if c.Episodes == 0 {
		return nil
	}
	n := float64(c.Episodes)
	c.MeanConfidence, c.SuccessRate = sumConf/n, sumSucc/n
	for b := range c.Bins {
		if k := float64(c.Bins[b].Episodes); k > 0 {
			c.Bins[b].MeanConfidence, c.Bins[b].SuccessRate = conf[b]/k, succ[b]/k
			c.ECE += k / n * math.Abs(c.Bins[b].SuccessRate-c.Bins[b].MeanConfidence)
		}
	}
	return c
}

// passK is pass^k for k = 1..K over the scored results (see
// Report.PassK); nil when no task was played more than once.
func passK(results []Result) []float64 {
	type count struct{ n, c int }
	per := map[string]*count{}
	var order []string
	k := 1
	for _, r := range results {
		k = max(k, r.Repeat)
		if r.Outcome == OutcomeError || (r.Outcome == "" && r.Error != "") {
			continue
		}
		c := per[r.TaskID]
		if c == nil {
			c = &count{}
			per[r.TaskID] = c
			order = append(order, r.TaskID)
		}
		c.n++
		if r.Success {
			c.c++
		}
	}
	if k < 2 {
		return nil
	}
	out := make([]float64, k)
	for j := 1; j <= k; j++ {
		sum, tasks := 0.0, 0
		for _, id := range order {
			c := per[id]
			if c.n < j {
				continue
			}
			sum += binom(c.c, j) / binom(c.n, j)
			tasks++
		}
		if tasks > 0 {
			out[j-1] = sum / float64(tasks)
		}
	}
	return out
}

// binom is C(n, k) as a float: 0 when k > n.
func binom(n, k int) float64 {
	if k < 0 || k > n {
		return 0
	}
	r := 1.0
	for i := 1; i <= k; i++ {
		r = r * float64(n-k+i) / float64(i)
	}
	return r
}

// SetLatencies sets the step latency percentiles from the env's and the
// policy's time of every step.
func (r *Report) SetLatencies(envTimes, policyTimes []time.Duration) {
	r.EnvP50, r.EnvP95 = Quantile(envTimes, 0.5), Quantile(envTimes, 0.95)
	r.PolicyP50, r.PolicyP95 = Quantile(policyTimes, 0.5), Quantile(policyTimes, 0.95)
}

// Quantile returns the q-quantile (0..1) of ds by the nearest rank, 0 for
// none. It sorts a copy.
func Quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// Wilson returns the Wilson score interval of a success rate: successes
// out of n trials, at the normal quantile z (Z95 for 95%). With n = 0 it
// returns the whole [0, 1].
func Wilson(successes, n int, z float64) (lo, hi float64) {
	if n <= 0 {
		return 0, 1
	}
	nf := float64(n)
	p := float64(successes) / nf
	z2 := z * z
	denom := 1 + z2/nf
	center := (p + z2/(2*nf)) / denom
	half := z * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf)) / denom
	lo, hi = max(0, center-half), min(1, center+half)
	// Exact at the ends, where rounding would leave 1e-17.
	if successes <= 0 {
		lo = 0
	}
	if successes >= n {
		hi = 1
	}
	return lo, hi
}

// WriteTable prints the report as an aligned table:
//
//	suite      episodes  success  95% CI          mean reward  mean steps  episodes/min
//	shop/test  200       92.5%    [88.0%, 95.4%]  0.961        11.2        312
//
// where episodes are the scored ones; with tokens and cost columns when a
// model was used (the totals, and the mean tokens per episode), an errors
// column with their kinds when some episodes ended in an error, a retries
// column when some were played again, and a last line when the run is
// incomplete.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := "suite\tepisodes\tsuccess\t95% CI\tmean reward\tmean steps\tepisodes/min"
	row := fmt.Sprintf("%s\t%d\t%s\t[%s, %s]\t%.3f\t%.1f\t%s",
		r.Suite, r.Scored, Percent(r.SuccessRate), Percent(r.CI95Low), Percent(r.CI95High),
		r.MeanReward, r.MeanSteps, perMinute(r))
	if r.Tokens > 0 || r.CostUSD > 0 {
		head += "\ttokens\ttokens/episode\tcost"
		row += fmt.Sprintf("\t%d\t%.0f\t$%.4f", r.Tokens, float64(r.Tokens)/float64(max(1, r.Episodes)), r.CostUSD)
	}
	if r.Errors > 0 {
		head += "\terrors"
		row += "\t" + strconv.Itoa(r.Errors) + " (" + r.kinds() + ")"
	}
	if r.Retries > 0 {
		head += "\tretries"
		row += "\t" + strconv.Itoa(r.Retries)
	}
	fmt.Fprintln(tw, head)
	fmt.Fprintln(tw, row)
	if err := tw.Flush(); err != nil {
		return err
	}
	if r.Scored > r.Successes && len(r.Missed) > 0 {
		if _, err := fmt.Fprintf(w, "failures: %d; missed %s\n", r.Scored-r.Successes, counts(r.Missed, nil)); err != nil {
			return err
		}
	}
	if r.Questions > 0 || r.HiddenEpisodes > 0 {
		line := fmt.Sprintf("questions: %d (%.2f per episode), %d answered with a fact, %d unnecessary (asked when the task hid nothing)", r.Questions, float64(r.Questions)/float64(max(r.Scored, 1)), r.Answered, r.Unnecessary)
		if r.HiddenEpisodes > 0 {
			line += fmt.Sprintf("; asked in %d of the %d episodes whose task hid something", r.HiddenAsked, r.HiddenEpisodes)
		}
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
	}
	if c := r.Calibration; c != nil {
		if _, err := fmt.Fprintf(w, "calibration: ECE %.3f over %d episodes with a confidence (mean confidence %.2f, success %.1f%%)\n", c.ECE, c.Episodes, c.MeanConfidence, 100*c.SuccessRate); err != nil {
			return err
		}
	}
	if len(r.Tags) > 0 {
		if _, err := fmt.Fprintf(w, "tags: %s\n", counts(r.Tags, slices.Sorted(maps.Keys(r.Tags)))); err != nil {
			return err
		}
	}
	if r.EnvP50 > 0 || r.PolicyP50 > 0 {
		if _, err := fmt.Fprintf(w, "step latency: env p50 %s p95 %s, policy p50 %s p95 %s\n",
			latency(r.EnvP50), latency(r.EnvP95), latency(r.PolicyP50), latency(r.PolicyP95)); err != nil {
			return err
		}
	}
	if len(r.PassK) > 1 {
		parts := make([]string, len(r.PassK))
		for i, p := range r.PassK {
			parts[i] = fmt.Sprintf("k=%d %s", i+1, Percent(p))
		}
		if _, err := fmt.Fprintf(w, "pass^k: %s\n", strings.Join(parts, ", ")); err != nil {
			return err
		}
	}
	if r.ModelRetries > 0 {
		if _, err := fmt.Fprintf(w, "model calls retried: %d (each in its step's attempts)\n", r.ModelRetries); err != nil {
			return err
		}
	}
	if r.CostPerSuccess > 0 {
		if _, err := fmt.Fprintf(w, "cost per success: $%.4f\n", r.CostPerSuccess); err != nil {
			return err
		}
	}
	if !r.Complete {
		why := "incomplete"
		if r.Interrupted {
			why = "interrupted"
		}
		_, err := fmt.Fprintf(w, "%s: %d of %d planned episodes have a result; the numbers above are of those only\n", why, r.Episodes, r.Planned)
		return err
	}
	return nil
}

// kinds lists the error kinds with their counts: "backend 2, timeout 1".
func (r *Report) kinds() string { return counts(r.ErrorKinds, Kinds) }

// counts lists n's keys with their counts: those of order first, in that
// order, then the others by count and name: "price 5, option 4".
func counts(n map[string]int, order []string) string {
	var parts []string
	seen := map[string]bool{}
	for _, k := range order {
		if c := n[k]; c > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, c))
			seen[k] = true
		}
	}
	rest := slices.Sorted(maps.Keys(n))
	slices.SortStableFunc(rest, func(a, b string) int { return n[b] - n[a] })
	for _, k := range rest {
		if !seen[k] {
			parts = append(parts, fmt.Sprintf("%s %d", k, n[k]))
		}
	}
	return strings.Join(parts, ", ")
}

// latency prints a step time: 270µs, 12.3ms, 0.9s.
func latency(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < 100*time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	}
	return shortDuration(d)
}

// perMinute is the rate column: "-" for a report without a wall time
// (Summarize).
func perMinute(r *Report) string {
	if r.EpisodesPerMinute == 0 && r.Duration == 0 {
		return "-"
	}
	return rate(r.EpisodesPerMinute)
}

// Percent prints a rate as reports do: 0.925 → "92.5%".
func Percent(f float64) string { return strconv.FormatFloat(100*f, 'f', 1, 64) + "%" }

// rate prints a per-minute rate: 312, 41.2, 0.83.
func rate(f float64) string {
	switch {
	case f >= 100:
		return strconv.FormatFloat(f, 'f', 0, 64)
	case f >= 10:
		return strconv.FormatFloat(f, 'f', 1, 64)
	}
	return strconv.FormatFloat(f, 'f', 2, 64)
}

// writeFile writes the report as indented JSON.
func (r *Report) writeFile(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode the report: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write the report: %w", err)
	}
	return nil
}
