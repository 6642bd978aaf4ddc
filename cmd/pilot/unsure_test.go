package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/policy"
	"github.com/pilotkit/pilot/policy/expert"
	"github.com/pilotkit/pilot/policy/openai/openaitest"
)

// guesser is a scripted model behind the OpenAI wire format that is
// unsure where a shopper would be: it shops as the expert does, from the
// prompt alone (the answers in its history included), never asking, but
// where an item's option is open (neither the instruction nor an answer
// names one) its samples (n > 1) spread over that option's values, as a
// model at temperature 1 guessing would; its own answer (n = 1) is the
// expert's, which takes the item as it comes.
type guesser struct {
	t   *testing.T
	mu  sync.Mutex
	eps map[string]*guesserEp // by shop session
}

type guesserEp struct {
	x    policy.Policy
	step int          // the step decided
	a    env.Action   // its action
	rng  *rand.Rand   // the samples' spread
	seen map[int]bool // steps sampled
}

var reHistory = regexp.MustCompile(`(?m)^\d+\. (.*) -> (ok|failed: .*|the user answered: .*)(, reward .*)?$`)

func newGuesser(t *testing.T) *openaitest.Server {
	g := &guesser{t: t, eps: map[string]*guesserEp{}}
	return openaitest.NewServer(t, g.handle)
}

func (g *guesser) handle(req openaitest.ChatRequest) openaitest.Reply {
	user := userPrompt(req)
	task, step, obs := promptParts(g.t, user)
	var hist []policy.Turn
	for _, m := range reHistory.FindAllStringSubmatch(user, -1) {
		a, err := env.ParseAction(m[1])
		if err != nil {
			continue
		}
		turn := policy.Turn{Action: a}
		if ans, ok := strings.CutPrefix(m[2], "the user answered: "); ok {
			turn.Answer = ans
		}
		hist = append(hist, turn)
	}
	key := reSession.FindString(obs)
	g.mu.Lock()
	defer g.mu.Unlock()
	ep := g.eps[key]
	if ep == nil || step == 1 && ep.step != 1 {
		ep = &guesserEp{x: expert.Shop(), step: 0, rng: rand.New(rand.NewPCG(uint64(len(task)), 1)), seen: map[int]bool{}}
		g.eps[key] = ep
	}
	if ep.step != step {
		// The expert decides once a step: the samples and the answer ask
		// the same question.
		d, err := ep.x.Act(context.Background(), policy.Input{Task: env.Task{Instruction: task}, Obs: env.Observation{Text: obs}, History: hist, Step: step - 1})
		if err != nil {
			return openaitest.Reply{Text: fmt.Sprintf("I am lost: %v", err)}
		}
		ep.step, ep.a = step, d.Action
	}
	if req.N <= 1 {
		return answer(req, ep.a)
	}
	// Samples: a guess among an open option's values, else the action.
	var guesses []env.Action
	nodes := expert.ParseTree(obs)
	goal := expert.ParseShopInstruction(task).Told(hist)
	if strings.Contains(obs, `button "Buy Now"`) {
		for _, grp := range expert.ShopOptionGroups(nodes) {
			if goal.OptionIndex(grp.Name, grp.Values) < 0 && !goal.AsksFor(grp.Name) {
				for _, v := range grp.Values {
					guesses = append(guesses, env.A("click", v.ID))
				}
			}
		}
	}
	rep := openaitest.Reply{PromptTokens: len(req.Body) / 4, CompletionTokens: 8 * req.N}
	for range req.N {
		a := ep.a
		if len(guesses) > 0 {
			a = guesses[ep.rng.IntN(len(guesses))]
		}
		rep.Choices = append(rep.Choices, policy.Choice{Text: "Action: " + a.String(), FinishReason: "stop"})
	}
	return rep
}

// TestEvalAskWhenUnsure: a model that guesses where an option is open
// asks, with --ask-when-unsure, exactly there; on shop/ambiguous the
// answers turn its guesses into successes, on the test split it asks
// only where the instruction leaves an option open, and the report shows
// the questions and the calibration.
func TestEvalAskWhenUnsure(t *testing.T) {
	t.Parallel()
	srv := newGuesser(t)
	n := *injectionEpisodes
	runs := []shopRun{
		{"ambiguous, no one to ask", "ambiguous", nil},
		{"ambiguous, asks when unsure", "ambiguous", []string{"--human", "simulated", "--ask-when-unsure", "0.9"}},
		{"test, asks when unsure", "test", []string{"--human", "simulated", "--ask-when-unsure", "0.9"}},
	}
	reps := shopRuns(t, "openai:guesser", srv.URL, n, runs)
	if t.Failed() {
		return
	}
	var table strings.Builder
	for i, r := range runs {
		rep := reps[i]
		c := rep.Calibration
		ece := "-"
		if c != nil {
			ece = fmt.Sprintf("%.3f (mean confidence %.2f)", c.ECE, c.MeanConfidence)
		}
		fmt.Fprintf(&table, "%-30s success %5.1f%%  questions %3d  answered %3d  unnecessary %3d  ECE %s\n", r.name, 100*rep.SuccessRate, rep.Questions, rep.Answered, rep.Unnecessary, ece)
	}
	t.Logf("the guessing model, %d episodes a run (lite):\n%s", n, table.String())
	alone, asks, test := reps[0], reps[1], reps[2]
	if asks.Questions == 0 || float64(asks.Answered) < 0.8*float64(asks.Questions) || asks.SuccessRate <= alone.SuccessRate+0.5 {
		t.Errorf("on shop/ambiguous: %.0f%% alone, %.0f%% asking (%d questions, %d answered); want most questions answered and far more successes", 100*alone.SuccessRate, 100*asks.SuccessRate, asks.Questions, asks.Answered)
	}
	if asks.Calibration == nil || test.Calibration == nil {
		t.Fatalf("no calibration in the reports of asking runs")
	}
	// The test split names most options: the model is sure more often
	// there, and asks less.
	if float64(test.Questions)/float64(test.Scored) >= float64(asks.Questions)/float64(asks.Scored) {
		t.Errorf("questions per episode: test %d/%d, ambiguous %d/%d; want fewer on the test split", test.Questions, test.Scored, asks.Questions, asks.Scored)
	}
}

func TestAskWhenUnsureBadFlags(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--ask-when-unsure", "0.5"}, "asks someone"},
		{[]string{"--ask-when-unsure", "1.5", "--human", "simulated"}, "want a probability"},
		{[]string{"--unsure-samples", "3"}, "is for --ask-when-unsure"},
		{[]string{"--ask-when-unsure", "0.5", "--human", "simulated", "--unsure-samples", "1"}, "want 2 to 64"},
		{[]string{"--ask-when-unsure", "0.5", "--human", "simulated", "--planner", "bfs"}, "do not go together"},
		{[]string{"--ask-when-unsure", "0.5", "--human", "simulated"}, "reads how sure the policy is"}, // the expert has no candidates
	} {
		args := append([]string{"eval", "--suite", "shop", "--engine", "lite", "--episodes", "1", "--run-dir", t.TempDir() + "/run"}, c.args...)
		code, _, errs := pilot(context.Background(), args...)
		if code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, %s; want a usage error saying %q", c.args, code, errs, c.want)
		}
	}
}
