// Package policy decides what an agent does next. A Policy reads the task,
// the environment's spec, the current observation and the episode so far,
// and returns a Decision: the action, an optional thought for traces, and
// what the decision cost (tokens, money, latency).
//
// Implementations range from scripted ones (Replay, Random) to language
// models and neural networks. The agent loop (package agent) calls Act once
// per step and never looks inside.
package policy

import (
	"context"
	"errors"
	"time"

	"github.com/pilotkit/pilot/env"
)

// Policy chooses the next action.
//
// Act must honour ctx: the agent applies per-step deadlines and the caller's
// cancellation through it. An error from Act ends the episode; a policy that
// only produced a poor action should return it and let the environment
// report the problem in the next observation.
type Policy interface {
	Act(ctx context.Context, in Input) (Decision, error)
}

// Resetter is implemented by policies that keep per-episode state. The
// agent calls ResetEpisode at the start of each episode, before the
// environment resets.
type Resetter interface {
	ResetEpisode(task env.Task)
}

// Ender is implemented by policies that keep something of an episode once
// it is over (policy/cache stores a successful episode's actions).
// agent.Run calls EndEpisode at the end of every episode it reset, with
// whether it succeeded; an error fails the episode's run.
type Ender interface {
	EndEpisode(ctx context.Context, success bool) error
}

// EnvUser is implemented by policies that look ahead in the env they act
// on before they decide: planners (package planner), which try actions
// from snapshots of its state. agent.Run gives them the episode's env
// before the episode starts (before ResetEpisode). Such a policy must
// leave the env in the state it found it when Act returns, so that the
// action it returns applies where the agent is.
type EnvUser interface {
	UseEnv(e env.Env)
}

// Input is everything a policy sees when it acts.
type Input struct {
	Task env.Task
	Spec env.Spec
	Obs  env.Observation
	// Step is the 0-based index of the step about to be taken: the number
	// of steps already taken in this episode.
	Step int
	// History holds the earlier steps of the episode, oldest first. A
	// policy must not modify it.
	History []Turn
	// Reflections are lessons a planner drew from attempts that failed
	// in its search (LATS's self-reflection): model policies show them
	// in the prompt.
	Reflections []string
}

// Turn is one earlier step as a policy sees it.
type Turn struct {
	Action env.Action `json:"action"`
	// Error is the observation's error after the action, "" when it went
	// well.
	Error  string  `json:"error,omitempty"`
	Reward float64 `json:"reward"`
	// Answer is a tool call's answer (the user's words, "yes", or "no
	// answer (…)"), "" for an env action.
	Answer string `json:"answer,omitempty"`
}

// Decision is what a policy returns.
type Decision struct {
	Action env.Action
	// Thought is optional reasoning, shown in traces.
	Thought string
	Usage   Usage
	// Meta carries policy-specific details for traces (model name, logits,
	// search statistics). Values should be JSON-encodable: recorders
	// serialise them.
	Meta map[string]any
}

// Usage is what one decision cost.
type Usage struct {
	PromptTokens     int           `json:"prompt_tokens,omitempty"`
	CompletionTokens int           `json:"completion_tokens,omitempty"`
	CostUSD          float64       `json:"cost_usd,omitempty"`
	Latency          time.Duration `json:"latency_ns,omitempty"`
	// Retries counts the model calls that failed and were made again
	// (policy.WithRetry); the decision's Meta["attempts"] lists them.
	Retries int `json:"retries,omitempty"`
}

// Tokens returns the prompt and completion tokens together.
func (u Usage) Tokens() int { return u.PromptTokens + u.CompletionTokens }

// Add returns the sum of u and v.
func (u Usage) Add(v Usage) Usage {
	return Usage{
		PromptTokens:     u.PromptTokens + v.PromptTokens,
		CompletionTokens: u.CompletionTokens + v.CompletionTokens,
		CostUSD:          u.CostUSD + v.CostUSD,
		Latency:          u.Latency + v.Latency,
		Retries:          u.Retries + v.Retries,
	}
}

// ErrDone is returned, wrapped, by a policy that has no more actions (a
// Replay at the end of its list). agent.Run ends the episode there,
// truncated, instead of failing it.
var ErrDone = errors.New("the policy has no more actions")

// Func adapts an ordinary function to the Policy interface.
type Func func(ctx context.Context, in Input) (Decision, error)

// Act calls f(ctx, in).
func (f Func) Act(ctx context.Context, in Input) (Decision, error) { return f(ctx, in) }

// hasAction reports whether the spec offers the named action.
func hasAction(s env.Spec, name string) bool {
	_, ok := s.Action(name)
	return ok
}
