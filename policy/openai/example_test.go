package openai_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/policy"
	"github.com/pilotkit/pilot/policy/openai"
	"github.com/pilotkit/pilot/policy/openai/openaitest"
)

// An LLM policy against a server that speaks OpenAI's chat-completions
// wire format: here openaitest's, in-process; in real use OpenAI, Ollama,
// llama.cpp or vLLM at their base URL. The policy sends the task, the
// observation and the env's actions as tools, and parses the answer into
// an env.Action.
func Example_llmPolicy() {
	srv := openaitest.Start(func(r openaitest.ChatRequest) openaitest.Reply {
		if strings.Contains(r.Text(), "[2] link \"Blue mug\"") {
			return openaitest.Reply{Text: `click("2")`, PromptTokens: 420, CompletionTokens: 6}
		}
		return openaitest.Reply{Text: `stop("")`}
	})
	defer srv.Close()

	m, err := openai.New(openai.Options{Model: "gpt-4o-mini", BaseURL: srv.URL, APIKey: "sk-test"})
	if err != nil {
		fmt.Println(err)
		return
	}
	p := policy.LLM(m, policy.LLMOptions{})
	spec := env.Spec{Name: "web", Modalities: []string{"text"}, Actions: []env.ActionSpec{
		{Name: "click", Doc: "Click an element.", Params: []env.Param{{Name: "id", Type: env.String}}},
		{Name: "stop", Doc: "End the episode with an answer.", Params: []env.Param{{Name: "answer", Type: env.String, Optional: true}}},
	}}
	d, err := p.Act(context.Background(), policy.Input{
		Task: env.Task{Instruction: "Open the page of the blue mug"},
		Spec: spec,
		Obs:  env.Observation{Text: "[1] link \"Red mug\"\n[2] link \"Blue mug\""},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Action, d.Usage.Tokens(), "tokens")
	// Output: click("2") 426 tokens
}
