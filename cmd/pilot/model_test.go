package main

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/policy"
	"github.com/pilotkit/pilot/policy/expert"
	"github.com/pilotkit/pilot/policy/openai/openaitest"
)

// A scripted "model" behind a server that speaks OpenAI's wire format. It
// sees only what pilot sends (the prompt's text and images) and answers as
// a model would: proof that the prompt carries what a model needs and that
// answers drive the env.

// promptParts cuts a user prompt into the task, the step and the
// observation text.
func promptParts(t *testing.T, user string) (task string, step int, obs string) {
	m := regexp.MustCompile(`(?s)^Task: (.*?)\n\n.*?Step (\d+)\. The current observation:\n(.*)$`).FindStringSubmatch(user)
	if m == nil {
		t.Errorf("the prompt does not have the task, the step and the observation:\n%s", user)
		return "", 0, ""
	}
	obs = m[3]
	if i := strings.Index(obs, "\n\nThe image(s) below"); i >= 0 {
		obs = obs[:i]
	}
	// The page's text, without the marks that say it is untrusted.
	if rest, ok := strings.CutPrefix(obs, policy.UntrustedStart+"\n"); ok {
		if i := strings.LastIndex(rest, "\n"+policy.UntrustedEnd); i >= 0 {
			rest = rest[:i]
		}
		obs = rest
	} else {
		t.Errorf("the observation is not marked as untrusted:\n%s", obs)
	}
	step, _ = strconv.Atoi(m[2])
	return m[1], step, obs
}

// userPrompt returns the last user message's text.
func userPrompt(req openaitest.ChatRequest) string {
	for i := len(req.Messages) - 1; i >= 0; i-- {
		if req.Messages[i].Role == policy.RoleUser {
			return req.Messages[i].Text()
		}
	}
	return ""
}

// answer replies with a as a tool call when tools were offered, else as
// text.
func answer(req openaitest.ChatRequest, a env.Action) openaitest.Reply {
	rep := openaitest.Reply{PromptTokens: len(req.Body) / 4, CompletionTokens: 12}
	if len(req.Tools) == 0 {
		rep.Text = "Action: " + a.String()
		return rep
	}
	for _, tool := range req.Tools {
		if tool.Name != a.Name {
			continue
		}
		args := map[string]any{}
		props, _ := tool.Parameters["properties"].(map[string]any)
		i := 0
		for _, p := range orderedParams(tool) {
			prop, _ := props[p].(map[string]any)
			switch prop["type"] {
			case "array":
				args[p] = a.Vec
			case "integer", "number":
				if i < len(a.Args) {
					f, _ := strconv.ParseFloat(a.Args[i], 64)
					args[p] = f
				}
				i++
			default:
				if i < len(a.Args) {
					args[p] = a.Args[i]
				}
				i++
			}
		}
		b, _ := json.Marshal(args)
		rep.ToolCalls = []policy.ToolCall{{ID: "call_" + a.Name, Name: a.Name, Arguments: string(b)}}
		return rep
	}
	rep.Text = "no such tool " + a.Name
	return rep
}

// orderedParams returns a tool's parameters in their schema's order: the
// required ones first as listed, then the rest sorted.
func orderedParams(tool policy.Tool) []string {
	var out []string
	seen := map[string]bool{}
	if req, ok := tool.Parameters["required"].([]string); ok {
		for _, r := range req {
			out, seen[r] = append(out, r), true
		}
	}
	if req, ok := tool.Parameters["required"].([]any); ok {
		for _, r := range req {
			if s, ok := r.(string); ok && !seen[s] {
				out, seen[s] = append(out, s), true
			}
		}
	}
	props, _ := tool.Parameters["properties"].(map[string]any)
	var rest []string
	for p := range props {
		if !seen[p] {
			rest = append(rest, p)
		}
	}
	return append(out, rest...)
}

func TestModelSolvesRobotReach(t *testing.T) {
	target := regexp.MustCompile(`Target at \(([-\d.]+), ([-\d.]+), ([-\d.]+)\) m, ([\d.]+) m away`)
	var images int
	var mu sync.Mutex
	srv := openaitest.NewServer(t, func(req openaitest.ChatRequest) openaitest.Reply {
		_, _, obs := promptParts(t, userPrompt(req))
		m := target.FindStringSubmatch(obs)
		if m == nil {
			t.Errorf("the robot prompt has no target:\n%s", obs)
			return openaitest.Reply{Text: "I cannot see a target."}
		}
		mu.Lock()
		images += len(req.Images())
		mu.Unlock()
		if d, _ := strconv.ParseFloat(m[4], 64); d < 0.005 {
			return answer(req, env.A("stop"))
		}
		return answer(req, env.A("move_to", m[1], m[2], m[3]))
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code, out, errs := pilot(ctx, "run", "--env", "robot:reach", "--seed", "3", "--model", "openai:scripted-vl", "--base-url", srv.URL, "--json")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	var res runResult
	decodeOne(t, out, &res)
	if !res.Success || res.Policy != "llm:openai:scripted-vl" {
		t.Errorf("pilot run --model … --env robot:reach = %+v, want a success by llm:openai:scripted-vl", res)
	}
	reqs := srv.Requests()
	if len(reqs) == 0 || images == 0 || reqs[0].Images()[0].MIME != "image/jpeg" || len(reqs[0].Tools) == 0 {
		t.Errorf("requests %d, images %d: want the camera frame as a JPEG image part and the skills as tools", len(reqs), images)
	}
	if sys := reqs[0].Messages[0].Text(); !strings.Contains(sys, "move_to(x, y, z)") || !strings.Contains(sys, "robot arm") {
		t.Errorf("system prompt:\n%s\nwant the robot's skills", sys)
	}
}

func TestModelSolvesShopTasks(t *testing.T) {
	var mu sync.Mutex
	experts := map[string]policy.Policy{}
	srv := openaitest.NewServer(t, func(req openaitest.ChatRequest) openaitest.Reply {
		task, step, obs := promptParts(t, userPrompt(req))
		if len(req.Images()) != 1 {
			t.Errorf("step %d: %d images, want the screenshot", step, len(req.Images()))
		}
		mu.Lock()
		x, ok := experts[task]
		if !ok || step == 1 {
			x = expert.Shop()
			experts[task] = x
		}
		mu.Unlock()
		if r, ok := x.(policy.Resetter); ok && step == 1 {
			r.ResetEpisode(env.Task{Instruction: task})
		}
		d, err := x.Act(context.Background(), policy.Input{Task: env.Task{Instruction: task}, Obs: env.Observation{Text: obs}, Step: step - 1})
		if err != nil {
			return openaitest.Reply{Text: fmt.Sprintf("I am lost: %v", err)}
		}
		return answer(req, d.Action)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	code, out, errs := pilot(ctx, "eval", "--suite", "shop", "--episodes", "3", "--workers", "2", "--model", "openai:scripted-vl", "--base-url", srv.URL, "--max-cost", "5", "--run-dir", t.TempDir()+"/run", "--no-tools")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(out, "tokens") || !regexp.MustCompile(`shop/test\s+3\s+100\.0%`).MatchString(out) {
		t.Errorf("pilot eval --model … printed:\n%s\nwant 3 of 3 and the tokens", out)
	}
	for _, r := range srv.Requests() {
		if len(r.Tools) != 0 || !strings.Contains(r.Messages[0].Text(), "Action: ") {
			t.Fatalf("with --no-tools the request offered tools or did not ask for a text action")
		}
	}
}

func TestModelBadInput(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"run", "--env", "robot:reach", "--model", "openai:gpt-4o"}, 1, "OPENAI_API_KEY"},
		{[]string{"run", "--env", "robot:reach", "--model", "skynet:t-800"}, 2, `unknown provider "skynet"`},
		{[]string{"run", "--env", "robot:reach", "--model", "gpt-4o"}, 2, "want provider:model"},
		{[]string{"run", "--env", "robot:reach", "--model", "openai:m", "--policy", "expert"}, 2, "exclusive"},
		{[]string{"run", "--env", "robot:reach", "--base-url", "http://127.0.0.1:1/v1"}, 2, "--base-url is for a model policy"},
		{[]string{"run", "--env", "robot:reach", "--model", "openai:m", "--base-url", "127.0.0.1:11434"}, 2, "want an http(s) URL"},
		{[]string{"eval", "--suite", "robot:reach", "--model", "openai:m", "--base-url", "http://127.0.0.1:1/v1", "--episodes", "1", "--run-dir", t.TempDir() + "/run"}, 1, "127.0.0.1:1"},
	}
	for _, tt := range tests {
		start := time.Now()
		code, out, errs := pilot(ctx, tt.args...)
		if code != tt.code || !strings.Contains(errs+out, tt.msg) {
			t.Errorf("pilot %s = exit %d\n%s%s\nwant exit %d with %q", strings.Join(tt.args, " "), code, out, errs, tt.code, tt.msg)
		}
		if d := time.Since(start); d > 30*time.Second {
			t.Errorf("pilot %s took %v: a bad setup must fail fast", strings.Join(tt.args, " "), d)
		}
	}
}

func TestModelBudgetEndsEpisode(t *testing.T) {
	srv := openaitest.NewServer(t, func(req openaitest.ChatRequest) openaitest.Reply {
		return openaitest.Reply{Text: "Action: noop()", PromptTokens: 900, CompletionTokens: 100}
	})
	code, out, errs := pilot(context.Background(), "run", "--env", "robot:reach", "--model", "openai:m", "--base-url", srv.URL, "--max-tokens", "2500", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var res runResult
	decodeOne(t, out, &res)
	if res.Steps != 3 || !res.Truncated || !strings.HasPrefix(res.Reason, "token budget 2500 spent (3000 tokens used)") {
		t.Errorf("run with --max-tokens 2500 at 1000 a step = %+v, want 3 steps, truncated by the token budget", res)
	}
}

// pilot run --model on a web page: the model finds the button by its id in
// the element tree, reads the code it reveals and answers with it.
func TestModelRunsWebTask(t *testing.T) {
	button := regexp.MustCompile(`\[(\d+)\] button "Reveal code"`)
	code := regexp.MustCompile(`The code is (\d+)`)
	srv := openaitest.NewServer(t, func(req openaitest.ChatRequest) openaitest.Reply {
		task, _, obs := promptParts(t, userPrompt(req))
		if !strings.Contains(task, "secret code") {
			t.Errorf("task in the prompt = %q", task)
		}
		if m := code.FindStringSubmatch(obs); m != nil {
			return answer(req, env.A("stop", m[1]))
		}
		if m := button.FindStringSubmatch(obs); m != nil {
			return answer(req, env.A("click", m[1]))
		}
		return openaitest.Reply{Text: "I see no button."}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code0, out, errs := pilot(ctx, "run", "--serve", "testdata", "--url", "/reveal.html", "--task", "Reveal the secret code and answer with it",
		"--answer", "4821", "--model", "openai:scripted", "--base-url", srv.URL, "--json")
	if code0 != 0 {
		t.Fatalf("exit %d\n%s\n%s", code0, out, errs)
	}
	var res runResult
	decodeOne(t, out, &res)
	if !res.Success || res.Steps != 2 {
		t.Errorf("pilot run --model on the reveal page = %+v, want success in 2 steps", res)
	}
	if reqs := srv.Requests(); len(reqs) == 0 || len(reqs[0].Images()) != 1 {
		t.Errorf("the model got no screenshot: with --model, observations carry one by default")
	}
}
