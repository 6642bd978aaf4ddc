package models_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/policy"
	"github.com/pilotkit/pilot/policy/models"
)

// Open a model by name (here llama.cpp's server, which a local HTTP
// server stands in for, answering as OpenAI's chat API does), make it a
// policy, and ask it for one action.
func ExampleOpen() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id":"c1","object":"chat.completion","created":1,"model":"qwen2.5-vl",
			"choices":[{"index":0,"message":{"role":"assistant","content":"The blue mug is link 3.\nAction: click(\"3\")"},"finish_reason":"stop"}],
			"usage":{"prompt_tokens":120,"completion_tokens":5,"total_tokens":125}}`)
	}))
	defer srv.Close()

	ctx := context.Background()
	noTools := false
	m, err := models.Open(ctx, "llamacpp:qwen2.5-vl", models.Options{BaseURL: srv.URL + "/v1", Tools: &noTools})
	if err != nil {
		fmt.Println(err)
		return
	}
	p := policy.LLM(m, policy.LLMOptions{NoImages: true})
	d, err := p.Act(ctx, policy.Input{
		Task: env.Task{Instruction: "Open the blue mug's page"},
		Spec: env.Spec{Name: "web", Actions: []env.ActionSpec{
			{Name: "click", Doc: "click the element with this id", Params: []env.Param{{Name: "id", Type: env.String}}},
		}},
		Obs: env.Observation{Text: "[3] link \"Blue mug\"\n[4] link \"Red mug\""},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Action, d.Usage.PromptTokens, d.Usage.CompletionTokens)
	// Output:
	// click("3") 120 5
}
