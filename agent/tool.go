package agent

import (
	"context"
	"fmt"
	"time"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/tools"
)

// ToolCall is a step's tool call, in its StepRecord: what was asked and
// what came back.
type ToolCall struct {
	Name     string        `json:"name"`
	Question string        `json:"question,omitempty"`
	Answer   *tools.Answer `json:"answer,omitempty"`
	Wait     time.Duration `json:"wait_ns,omitempty"` // how long the human took
}

// tool carries out a tool call at step i: the env is not stepped, its
// observation stays (the policy reads the answer in its history).
func (r *runner) tool(ctx context.Context, task env.Task, spec env.Spec, obs env.Observation, i int, a env.Action) (env.Step, *ToolCall, error) {
	st := env.Step{Obs: obs}
	st.Obs.Error = ""
	call := &ToolCall{Name: a.Name}
	if err := spec.Validate(a); err != nil {
		st.Obs.Error = err.Error()
		return st, call, nil
	}
	switch a.Name {
	case tools.ReportInfeasible:
		st.Terminated, st.Reason = true, "the agent reported the task infeasible: "+a.Arg(0)
		st.Info = map[string]any{"infeasible": a.Arg(0)}
		return st, call, nil
	case tools.AskUser, tools.Confirm:
	default:
		st.Obs.Error = fmt.Sprintf("%s is not a tool pilot carries out", a.Name)
		return st, call, nil
	}
	call.Question = a.Arg(0)
	if r.opts.MaxQuestions < 0 || r.traj.Questions >= r.opts.MaxQuestions {
		call.Answer = &tools.Answer{None: true, Why: fmt.Sprintf("the question budget (%d) is spent: go on without asking", max(r.opts.MaxQuestions, 0)), By: "agent"}
		return st, call, nil
	}
	r.traj.Questions++
	q := tools.Question{Kind: tools.KindAsk, Text: a.Arg(0), Task: task, Instruction: task.Instruction, Step: i}
	if a.Name == tools.Confirm {
		q.Kind = tools.KindConfirm
	}
	cctx, cancel := ctx, noCancel
	if !r.deadline.IsZero() {
		cctx, cancel = context.WithDeadlineCause(ctx, r.deadline, errTimeLimit)
	}
	defer cancel()
	t0 := time.Now()
	ans, err := r.opts.Human.Ask(cctx, q)
	call.Wait = time.Since(t0)
	if err != nil {
		if ctx.Err() == nil && context.Cause(cctx) == errTimeLimit {
			ans = tools.Answer{None: true, Why: "the episode's time limit came first", By: "agent"}
		} else {
			return st, call, &Error{Phase: PhaseHuman, Step: i, Err: fmt.Errorf("agent: step %d: %s: %w", i, a.Name, err)}
		}
	}
	call.Answer = &ans
	return st, call, nil
}

// Gate is what the gate did before a step the env flagged as
// irreversible.
type Gate struct {
	Why      string `json:"why"`
	Approved bool   `json:"approved"`
	// Answer is who decided and how ("auto", "yes", the refusal's words,
	// "no answer (…)").
	Answer string        `json:"answer"`
	By     string        `json:"by"`
	Wait   time.Duration `json:"wait_ns,omitempty"`
}

// gate checks a before it goes to the env: nil when the env does not
// flag it (or the gate is off).
func (r *runner) gate(ctx context.Context, task env.Task, obs env.Observation, i int, a env.Action) (*Gate, error) {
	if r.opts.Confirm == ConfirmNever {
		return nil, nil
	}
	ir, ok := r.e.(env.Irreversible)
	if !ok {
		return nil, nil
	}
	why := ir.Irreversible(obs, a)
	if why == "" {
		return nil, nil
	}
	if r.opts.Confirm == ConfirmAuto {
		return &Gate{Why: why, Approved: true, Answer: "auto", By: "auto"}, nil
	}
	q := tools.Question{Kind: tools.KindConfirm, Text: fmt.Sprintf("%s: %s. Go ahead?", a, why), Task: task, Instruction: task.Instruction, Step: i, Why: why}
	cctx, cancel := ctx, noCancel
	if !r.deadline.IsZero() {
		cctx, cancel = context.WithDeadlineCause(ctx, r.deadline, errTimeLimit)
	}
	defer cancel()
	t0 := time.Now()
	ans, err := r.opts.Human.Ask(cctx, q)
	g := &Gate{Why: why, Wait: time.Since(t0), By: ans.By}
	if err != nil {
		if ctx.Err() == nil && context.Cause(cctx) == errTimeLimit {
			g.Answer = "no answer (the episode's time limit came first)"
			return g, nil
		}
		return nil, &Error{Phase: PhaseHuman, Step: i, Err: fmt.Errorf("agent: step %d: confirm %s: %w", i, a, err)}
	}
	switch {
	case ans.None:
		g.Answer = ans.String()
	case ans.Yes:
		g.Approved, g.Answer = true, "yes"
	default:
		g.Answer = "the user said no"
		if ans.Text != "" {
			g.Answer += ": " + ans.Text
		}
	}
	return g, nil
}
