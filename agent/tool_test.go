package agent_test

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/pilotkit/pilot/agent"
	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/policy"
	"github.com/pilotkit/pilot/tools"
)

// asker asks for the target first, then counts to the number in the
// answer and stops there; it asks once more when its second question is
// set, and sees the tools in its spec.
func asker(t *testing.T, questions ...env.Action) policy.Policy {
	num := regexp.MustCompile(`\d+`)
	return policy.Func(func(_ context.Context, in policy.Input) (policy.Decision, error) {
		if _, ok := in.Spec.Action(tools.AskUser); !ok {
			t.Errorf("step %d: the spec does not offer ask_user", in.Step)
		}
		if in.Step < len(questions) {
			return policy.Decision{Action: questions[in.Step]}, nil
		}
		target := ""
		for _, h := range in.History {
			if m := num.FindString(h.Answer); m != "" && target == "" {
				target = m
			}
		}
		if target == "" {
			return policy.Decision{Action: env.A(tools.ReportInfeasible, "no one told me the target")}, nil
		}
		if strings.TrimPrefix(in.Obs.Text, "count ") == target {
			return policy.Decision{Action: env.A("stop", target)}, nil
		}
		return policy.Decision{Action: env.A("inc")}, nil
	})
}

func TestAskUserRoutesToTheHuman(t *testing.T) {
	task := env.Task{Instruction: "count to the target", Answer: "3", Hidden: map[string]string{"target": "3"}}
	var out bytes.Buffer
	rec := agent.ObserverFunc(func(_ context.Context, ev agent.Event) error {
		if ev.Kind == agent.EventEnd {
			return ev.Traj.WriteJSONL(&out)
		}
		return nil
	})
	traj, err := agent.Run(t.Context(), newCounter(), task, asker(t, env.A(tools.AskUser, "What is the target?")), agent.Options{Human: tools.Simulated{}, Observers: []agent.Observer{rec}})
	if err != nil {
		t.Fatal(err)
	}
	if !traj.Success || traj.Questions != 1 {
		t.Fatalf("success %v, %d questions (%s); want a success after one question", traj.Success, traj.Questions, traj.Reason)
	}
	s0 := traj.Steps[0]
	if s0.Tool == nil || s0.Tool.Question != "What is the target?" || s0.Tool.Answer == nil || s0.Tool.Answer.Text != "The target is 3." || s0.ActionText != `ask_user("What is the target?")` {
		t.Fatalf("step 0 = %+v (tool %+v), want the question and the simulated answer", s0, s0.Tool)
	}
	back, err := agent.ReadJSONL(&out)
	if err != nil || back.Questions != 1 || back.Steps[0].Tool == nil || back.Steps[0].Tool.Answer.Text != "The target is 3." {
		t.Errorf("the trajectory read back: %v, %+v", err, back)
	}
}

func TestQuestionBudgetAndBadCalls(t *testing.T) {
	task := env.Task{Instruction: "count", Answer: "2", Hidden: map[string]string{"target": "2"}}
	traj, err := agent.Run(t.Context(), newCounter(), task, asker(t, env.A(tools.AskUser), env.A(tools.AskUser, "What is the target?"), env.A(tools.Confirm, "Count to the target?")),
		agent.Options{Human: tools.Simulated{}, MaxQuestions: 1})
	if err != nil {
		t.Fatal(err)
	}
	if e := traj.Steps[0].Obs.Error; !strings.Contains(e, "ask_user") {
		t.Errorf("ask_user() without its question: the step's error is %q, want it named", e)
	}
	if a := traj.Steps[2].Tool.Answer; a == nil || !a.None || !strings.Contains(a.Why, "question budget (1) is spent") {
		t.Errorf("the second question past a budget of 1 got %+v, want no answer for the budget", a)
	}
	if traj.Questions != 1 || !traj.Success {
		t.Errorf("questions %d, success %v; want 1 and a success", traj.Questions, traj.Success)
	}
	traj, err = agent.Run(t.Context(), newCounter(), task, asker(t), agent.Options{Human: tools.Simulated{}})
	if err != nil || !traj.Terminated || !strings.Contains(traj.Reason, "reported the task infeasible: no one told me the target") {
		t.Errorf("report_infeasible: %v, terminated %v, %q", err, traj.Terminated, traj.Reason)
	}
}

type brokenHuman struct{}

func (brokenHuman) Ask(context.Context, tools.Question) (tools.Answer, error) {
	return tools.Answer{}, context.Canceled
}

func TestHumanFailure(t *testing.T) {
	_, err := agent.Run(t.Context(), newCounter(), env.Task{}, asker(t, env.A(tools.AskUser, "?")), agent.Options{Human: brokenHuman{}})
	var ae *agent.Error
	if !errors.As(err, &ae) || ae.Phase != agent.PhaseHuman || ae.Step != 0 {
		t.Errorf("a human whose Ask fails: %v, want an agent.Error of phase human at step 0", err)
	}
	// Without a Human the tools are not offered, and a policy that calls
	// one anyway sends it to the env, which refuses it.
	p := policy.Func(func(_ context.Context, in policy.Input) (policy.Decision, error) {
		if _, ok := in.Spec.Action(tools.AskUser); ok {
			t.Error("the spec offers ask_user without a Human")
		}
		if in.Step == 0 {
			return policy.Decision{Action: env.A(tools.AskUser, "?")}, nil
		}
		return policy.Decision{Action: env.A("stop", "0")}, nil
	})
	traj, err := agent.Run(t.Context(), newCounter(), env.Task{}, p, agent.Options{})
	if err != nil || traj.Steps[0].Tool != nil || traj.Steps[0].Obs.Error == "" {
		t.Errorf("ask_user without a Human: %v, step 0 %+v; want the env's refusal", err, traj.Steps[0])
	}
}

// gated is a counter whose stop is irreversible.
type gated struct{ *counter }

func (gated) Irreversible(_ env.Observation, a env.Action) string {
	if a.Name == "stop" {
		return "stop ends the count for good"
	}
	return ""
}

// scriptedHuman answers confirmations in turn.
type scriptedHuman struct {
	answers []tools.Answer
	asked   []string
}

func (h *scriptedHuman) Ask(_ context.Context, q tools.Question) (tools.Answer, error) {
	h.asked = append(h.asked, q.Text)
	a := h.answers[0]
	h.answers = h.answers[1:]
	return a, nil
}

func TestGate(t *testing.T) {
	stop := policy.Func(func(context.Context, policy.Input) (policy.Decision, error) {
		return policy.Decision{Action: env.A("stop", "0")}, nil
	})
	task := env.Task{Answer: "0"}
	h := &scriptedHuman{answers: []tools.Answer{{Text: "not yet", By: "test"}, {None: true, Why: "timeout", By: "test"}, {Yes: true, By: "test"}}}
	traj, err := agent.Run(t.Context(), gated{newCounter()}, task, stop, agent.Options{Human: h, Confirm: agent.ConfirmAlways})
	if err != nil {
		t.Fatal(err)
	}
	if len(traj.Steps) != 3 || !traj.Success || len(h.asked) != 3 || !strings.Contains(h.asked[0], `stop("0"): stop ends the count for good. Go ahead?`) {
		t.Fatalf("%d steps, success %v, asked %q; want two refusals then the stop", len(traj.Steps), traj.Success, h.asked)
	}
	if g := traj.Steps[0].Gate; g == nil || g.Approved || !strings.Contains(traj.Steps[0].Obs.Error, "not done: the user said no: not yet") {
		t.Errorf("step 0: gate %+v, error %q; want refused, the step not done", g, traj.Steps[0].Obs.Error)
	}
	if g := traj.Steps[1].Gate; g == nil || g.Approved || !strings.Contains(g.Answer, "no answer") {
		t.Errorf("step 1: gate %+v; want no answer as a refusal", g)
	}
	if g := traj.Steps[2].Gate; g == nil || !g.Approved || traj.Questions != 0 {
		t.Errorf("step 2: gate %+v, questions %d; want approved, and the gate's questions not counted as the agent's", g, traj.Questions)
	}
	traj, err = agent.Run(t.Context(), gated{newCounter()}, task, stop, agent.Options{Confirm: agent.ConfirmAuto})
	if err != nil || !traj.Success || traj.Steps[0].Gate == nil || traj.Steps[0].Gate.By != "auto" {
		t.Errorf("auto: %v, success %v, gate %+v; want the step through, recorded", err, traj.Success, traj.Steps[0].Gate)
	}
	if _, err := agent.Run(t.Context(), gated{newCounter()}, task, stop, agent.Options{Confirm: agent.ConfirmAlways}); err == nil || !strings.Contains(err.Error(), "give Options.Human") {
		t.Errorf("always without a Human: %v", err)
	}
}
