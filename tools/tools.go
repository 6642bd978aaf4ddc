// Package tools holds what an agent may call besides its environment:
// ask_user(question), confirm(summary) and report_infeasible(reason), and
// the humans who answer them.
//
// The tools are actions in the env's canonical text form
// (ask_user("Which colour?")): a policy returns one as its Decision, and
// agent.Run routes it here instead of to the env, records the call and
// the answer as a step, and counts questions against a budget. A Human
// answers: a person at a terminal (Terminal), a person at a local web
// page (NewWebHuman), or a simulated user who holds the task's hidden
// facts (Simulated), for tests and benchmarks.
package tools

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pilotkit/pilot/env"
)

// The tools' names.
const (
	AskUser          = "ask_user"
	Confirm          = "confirm"
	ReportInfeasible = "report_infeasible"
)

// Specs are the tools as actions, for the policy's spec: models see them
// next to the env's actions, as text grammar or as function schemas.
func Specs() []env.ActionSpec {
	return []env.ActionSpec{
		{Name: AskUser, Doc: "Ask the user a question when the task leaves out something you need (a size, a colour, which one). Use it only for what the task and the page do not tell.",
			Params: []env.Param{{Name: "question", Type: env.String, Doc: "one short question"}}},
		{Name: Confirm, Doc: "Ask the user to approve what you are about to do that cannot be undone (a purchase, a deletion), before you do it.",
			Params: []env.Param{{Name: "summary", Type: env.String, Doc: "what you will do, in one sentence"}}},
		{Name: ReportInfeasible, Doc: "End the episode saying the task cannot be done here, and why.",
			Params: []env.Param{{Name: "reason", Type: env.String, Doc: "why it cannot be done"}}},
	}
}

// Is reports whether name is one of the tools.
func Is(name string) bool {
	return name == AskUser || name == Confirm || name == ReportInfeasible
}

// WithTools returns spec with the tools added to its actions. An env
// action of the same name as a tool is an error: the call would be
// ambiguous.
func WithTools(spec env.Spec) (env.Spec, error) {
	for _, a := range spec.Actions {
		if Is(a.Name) {
			return spec, fmt.Errorf("tools: env %s has an action %s, which is a tool's name", spec.Name, a.Name)
		}
	}
	out := spec
	out.Actions = append(append([]env.ActionSpec(nil), spec.Actions...), Specs()...)
	return out, nil
}

// Kind is what a Question asks for.
type Kind string

// Kinds of question.
const (
	KindAsk     Kind = "ask"     // an answer in words
	KindConfirm Kind = "confirm" // yes or no
)

// Question is what an agent asks a Human.
type Question struct {
	Kind Kind   `json:"kind"`
	Text string `json:"text"`
	// Task is the episode's task (a simulated user reads its Hidden; a
	// person sees its instruction).
	Task env.Task `json:"-"`
	// Instruction is the task's instruction, for a person.
	Instruction string `json:"instruction"`
	// Step is the index of the step that asks.
	Step int `json:"step"`
	// Why is, for the gate's confirmations, why the env flagged the
	// action (env.Irreversible's reason), apart from the text, which
	// quotes the action and so whatever it types.
	Why string `json:"why,omitempty"`
}

// Answer is a Human's reply. None means no answer came (a timeout, the
// end of the input, a closed page): the agent goes on without one, and
// Why says what happened.
type Answer struct {
	Text string `json:"text,omitempty"`
	// Yes is a confirmation's verdict.
	Yes  bool   `json:"yes,omitempty"`
	None bool   `json:"none,omitempty"`
	Why  string `json:"why,omitempty"`
	// By names who answered: "terminal", "web", "simulated (rules)".
	By string `json:"by"`
}

// String is how the answer reads in a policy's history.
func (a Answer) String() string {
	switch {
	case a.None:
		return "no answer (" + a.Why + ")"
	case a.Text != "":
		return a.Text
	case a.Yes:
		return "yes"
	}
	return "no"
}

// Told reports whether the answer to a question told something: it came,
// and it is not "I don't know." (what the simulated users say beyond
// their facts).
func (a Answer) Told() bool {
	t := strings.ToLower(strings.TrimSpace(a.Text))
	return !a.None && t != "" && t != "i don't know." && t != "i don't know" && t != "i do not know."
}

// A Human answers an agent's questions. Ask returns a None answer, not an
// error, when no answer comes in time; an error is for what ends the
// episode (ctx done).
type Human interface {
	Ask(ctx context.Context, q Question) (Answer, error)
}

// ErrNoHuman is returned for a question when no Human was given.
var ErrNoHuman = errors.New("tools: the agent asked a question, but no one answers: give a Human (--human terminal, web or simulated)")

// yesNo reads a confirmation from free text: yes, y, ok, sure, approve…;
// ok is false for anything else but a clear no.
func yesNo(s string) (yes, ok bool) {
	w := strings.ToLower(strings.Trim(strings.TrimSpace(s), ".!"))
	switch w {
	case "y", "yes", "ok", "okay", "sure", "approve", "approved", "go ahead", "do it", "confirm", "confirmed":
		return true, true
	case "n", "no", "nope", "stop", "deny", "denied", "don't", "do not", "cancel":
		return false, true
	}
	return false, false
}
