package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pilotkit/pilot/policy"
	"github.com/pilotkit/pilot/policy/openai/openaitest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const testKey = "sk-test-0123456789abcdefSECRET"

// tinyPNG is a 1×1 PNG.
var tinyPNG = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82")

func newModel(t *testing.T, baseURL string, o Options) *Model {
	t.Helper()
	if o.Model == "" {
		o.Model = "gpt-4o"
	}
	if o.APIKey == "" {
		o.APIKey = testKey
	}
	o.BaseURL = baseURL
	m, err := New(o)
	if err != nil {
		t.Fatalf("New(%v) = %v", o, err)
	}
	return m
}

func userText(s string) policy.Request {
	return policy.Request{Messages: []policy.Message{{Role: policy.RoleUser, Parts: []policy.Part{policy.TextPart(s)}}}}
}

// checkGolden compares got with testdata/name, or rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run with -update after checking):\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

// outcome is what a call came to, for golden files.
type outcome struct {
	Response   *policy.Response `json:"response,omitempty"`
	Error      string           `json:"error,omitempty"`
	Status     int              `json:"status,omitempty"`
	Code       string           `json:"code,omitempty"`
	RetryAfter string           `json:"retry_after,omitempty"`
	Temporary  bool             `json:"temporary,omitempty"`
	Is         []string         `json:"is,omitempty"`
}

var sentinels = []struct {
	name string
	err  error
}{
	{"ErrAuth", policy.ErrAuth},
	{"ErrNoImages", policy.ErrNoImages},
	{"ErrNoTools", policy.ErrNoTools},
	{"ErrBadResponse", policy.ErrBadResponse},
	{"ErrRateLimited", policy.ErrRateLimited},
}

func outcomeOf(resp *policy.Response, err error) outcome {
	if err != nil {
		o := outcome{Error: err.Error()}
		var ae *policy.APIError
		if errors.As(err, &ae) {
			o.Status, o.Code, o.Temporary = ae.Status, ae.Code, ae.Temporary()
			if ae.RetryAfter > 0 {
				o.RetryAfter = ae.RetryAfter.String()
			}
		}
		for _, s := range sentinels {
			if errors.Is(err, s.err) {
				o.Is = append(o.Is, s.name)
			}
		}
		return o
	}
	r := *resp
	r.Usage.Latency = 0
	return outcome{Response: &r}
}

func marshalIndent(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

func TestFixtures(t *testing.T) {
	tests := []struct {
		fixture    string
		status     int
		retryAfter string
		model      string
		base       string // "" = the fake server
		wantIs     error
		wantText   string
	}{
		{fixture: "openai_text_image.json", model: "gpt-5-nano", wantText: "A tiny blue cartoon character."},
		{fixture: "openai_tool_calls.json", model: "gpt-5-nano"},
		{fixture: "openai_gpt4o_text.json", wantText: "Hello! How can I assist you today?"},
		{fixture: "openai_429_rate_limit.json", status: 429, retryAfter: "2", model: "o4-mini"},
		{fixture: "openai_429_insufficient_quota.json", status: 429},
		{fixture: "openai_401_invalid_api_key.json", status: 401, wantIs: policy.ErrAuth},
		{fixture: "openai_400_image_unsupported.json", status: 400, model: "gpt-3.5-turbo", wantIs: policy.ErrNoImages},
		{fixture: "openai_400_max_tokens_unsupported.json", status: 400, model: "gpt-5-nano"},
		{fixture: "openai_404_model_not_found.json", status: 404, model: "gpt-4.1-nano-wrong"},
		{fixture: "llamacpp_text.json", model: "gpt-oss-20b", wantText: "Hello! 👋 How can I help you today?"},
		{fixture: "llamacpp_500_no_image.json", status: 500, model: "gemma-3-270m", wantIs: policy.ErrNoImages},
		{fixture: "ollama_text.json", model: "llama2:7b"},
		{fixture: "ollama_400_no_tools.json", status: 400, model: "stablelm2", wantIs: policy.ErrNoTools},
		{fixture: "ollama_500_no_image.json", status: 500, model: "glimpse-v1", wantIs: policy.ErrNoImages},
		{fixture: "truncated", model: "gpt-5-nano", wantIs: policy.ErrBadResponse},
	}
	toolCalls, err := os.ReadFile(filepath.Join("testdata", "fixtures", "openai_tool_calls.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			body := toolCalls[:len(toolCalls)/2]
			if tt.fixture != "truncated" {
				b, err := os.ReadFile(filepath.Join("testdata", "fixtures", tt.fixture))
				if err != nil {
					t.Fatal(err)
				}
				body = b
			}
			s := openaitest.NewServer(t, func(openaitest.ChatRequest) openaitest.Reply {
				return openaitest.Reply{Status: tt.status, RetryAfter: tt.retryAfter, RawBody: string(body)}
			})
			m := newModel(t, s.URL, Options{Model: tt.model})
			resp, err := m.Generate(context.Background(), userText("What is the weather like in Boston today?"))
			switch {
			case tt.status >= 400 || tt.wantIs != nil:
				var ae *policy.APIError
				if err == nil || !errors.As(err, &ae) {
					t.Fatalf("Generate() = %v, %v; want a *policy.APIError", resp, err)
				}
				if tt.status != 0 && ae.Status != tt.status {
					t.Errorf("APIError.Status = %d, want %d", ae.Status, tt.status)
				}
				if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
					t.Errorf("Generate() error = %v, want errors.Is %v", err, tt.wantIs)
				}
			default:
				if err != nil {
					t.Fatalf("Generate() error = %v", err)
				}
				if len(resp.Choices) == 0 || resp.Usage.PromptTokens == 0 || resp.Usage.Latency <= 0 {
					t.Errorf("Generate() = %+v, want choices, usage and latency", resp)
				}
				if tt.wantText != "" && resp.Choices[0].Text != tt.wantText {
					t.Errorf("Generate() text = %q, want %q", resp.Choices[0].Text, tt.wantText)
				}
			}
			name := strings.TrimSuffix(tt.fixture, ".json") + ".golden"
			checkGolden(t, name, marshalIndent(t, outcomeOf(resp, err)))
		})
	}
}

// multimodalRequest is a conversation with a screenshot, tools, an
// earlier tool call and its result, and every sampling setting.
func multimodalRequest() policy.Request {
	temp, seed := 0.7, int64(7)
	return policy.Request{
		Messages: []policy.Message{
			{Role: policy.RoleSystem, Parts: []policy.Part{policy.TextPart("You drive a web shop. Answer with one action.")}},
			{Role: policy.RoleUser, Parts: []policy.Part{
				policy.TextPart("Task: buy a USB-C cable.\n[12] button \"Search\""),
				policy.ImagePart("image/png", tinyPNG),
				policy.TextPart("What next?"),
			}},
			{Role: policy.RoleAssistant, ToolCalls: []policy.ToolCall{{ID: "call_1", Name: "click", Arguments: `{"id":"12"}`}}},
			{Role: policy.RoleTool, ToolCallID: "call_1", Parts: []policy.Part{policy.TextPart("clicked [12]")}},
			{Role: policy.RoleUser, Parts: []policy.Part{policy.TextPart("Go on.")}},
		},
		Tools: []policy.Tool{
			{Name: "click", Description: "Click an element.", Parameters: map[string]any{
				"type": "object", "properties": map[string]any{"id": map[string]any{"type": "string"}}, "required": []any{"id"},
			}},
			{Name: "stop", Description: "End the task."},
		},
		ToolChoice:  "required",
		Temperature: &temp,
		Seed:        &seed,
		N:           3,
		MaxTokens:   256,
	}
}

func TestWireRequest(t *testing.T) {
	s := openaitest.NewServer(t, func(r openaitest.ChatRequest) openaitest.Reply {
		return openaitest.Reply{
			Choices: []openaitest.Choice{
				{ToolCalls: []policy.ToolCall{{Name: "click", Arguments: `{"id":"7"}`}}},
				{Text: `click("7")`},
				{Text: "I am not sure", FinishReason: "length"},
			},
			Model: "gpt-4o-2024-08-06", PromptTokens: 1200, CompletionTokens: 30,
		}
	})
	m := newModel(t, s.URL, Options{})
	resp, err := m.Generate(context.Background(), multimodalRequest())
	if err != nil {
		t.Fatalf("Generate() error = %v", err)
	}
	reqs := s.Requests()
	if len(reqs) != 1 {
		t.Fatalf("server got %d requests, want 1", len(reqs))
	}
	got := reqs[0]
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, got.Body, "", "  "); err != nil {
		t.Fatal(err)
	}
	pretty.WriteByte('\n')
	checkGolden(t, "request_multimodal.golden", pretty.Bytes())

	imgs := got.Images()
	if len(imgs) != 1 || imgs[0].MIME != "image/png" || !bytes.Equal(imgs[0].Data, tinyPNG) {
		t.Errorf("request images = %+v, want the PNG", imgs)
	}
	if got.Authorization != "Bearer "+testKey {
		t.Errorf("Authorization = %q, want the bearer key", got.Authorization)
	}
	if got.N != 3 || got.Seed == nil || *got.Seed != 7 || got.Temperature == nil || *got.Temperature != 0.7 {
		t.Errorf("sampling = n %d, seed %v, temperature %v; want 3, 7, 0.7", got.N, got.Seed, got.Temperature)
	}
	if got.MaxTokens != 256 || got.MaxCompletionTokens != 0 {
		t.Errorf("max_tokens = %d, max_completion_tokens = %d; want 256, 0 for a non-OpenAI server", got.MaxTokens, got.MaxCompletionTokens)
	}
	if got.ToolChoice != "required" || len(got.Tools) != 2 || got.Tools[1].Parameters["type"] != "object" {
		t.Errorf("tools = %+v choice %q; want click and stop (with an empty object schema), required", got.Tools, got.ToolChoice)
	}
	if tm := got.Messages[3]; tm.Role != policy.RoleTool || tm.ToolCallID != "call_1" || tm.Text() != "clicked [12]" {
		t.Errorf("tool message = %+v, want the result of call_1", tm)
	}
	if am := got.Messages[2]; len(am.ToolCalls) != 1 || am.ToolCalls[0] != (policy.ToolCall{ID: "call_1", Name: "click", Arguments: `{"id":"12"}`}) {
		t.Errorf("assistant message = %+v, want the click call", am)
	}

	want := &policy.Response{
		Choices: []policy.Choice{
			{ToolCalls: []policy.ToolCall{{ID: "call_1", Name: "click", Arguments: `{"id":"7"}`}}, FinishReason: "tool_calls"},
			{Text: `click("7")`, FinishReason: "stop"},
			{Text: "I am not sure", FinishReason: "length"},
		},
		Usage: policy.Usage{PromptTokens: 1200, CompletionTokens: 30},
		Model: "gpt-4o-2024-08-06",
	}
	gotResp := *resp
	gotResp.Usage.Latency = 0
	if g, w := marshalIndent(t, gotResp), marshalIndent(t, want); !bytes.Equal(g, w) {
		t.Errorf("Generate() =\n%s\nwant\n%s", g, w)
	}
}

// redirect sends every request to the test server: lets a test speak to
// "api.openai.com" without the internet.
type redirect struct{ to *url.URL }

func (r redirect) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.URL.Scheme, req.URL.Host = r.to.Scheme, r.to.Host
	return http.DefaultTransport.RoundTrip(req)
}

func TestWireVariants(t *testing.T) {
	zero, half := 0.0, 0.5
	tools := []policy.Tool{{Name: "click"}, {Name: "fill"}}
	tests := []struct {
		name  string
		opts  Options
		base  string // "official" sends to api.openai.com (redirected)
		req   policy.Request
		check func(t *testing.T, r openaitest.ChatRequest)
	}{
		{"temperature 0 is sent", Options{}, "", policy.Request{Temperature: &zero}, func(t *testing.T, r openaitest.ChatRequest) {
			if r.Temperature == nil || *r.Temperature <= 0 || *r.Temperature > 1e-40 {
				t.Errorf("temperature = %v, want a tiny positive number (greedy)", r.Temperature)
			}
		}},
		{"no sampling settings", Options{}, "", policy.Request{}, func(t *testing.T, r openaitest.ChatRequest) {
			if r.Temperature != nil || r.Seed != nil || r.N != 0 || r.MaxTokens != 0 || r.MaxCompletionTokens != 0 {
				t.Errorf("request = %s, want no sampling fields", r.Body)
			}
			if bytes.Contains(r.Body, []byte("tool_choice")) || bytes.Contains(r.Body, []byte(`"tools"`)) {
				t.Errorf("request = %s, want no tools", r.Body)
			}
		}},
		{"OpenAI gets max_completion_tokens", Options{}, "official", policy.Request{MaxTokens: 100}, func(t *testing.T, r openaitest.ChatRequest) {
			if r.MaxCompletionTokens != 100 || r.MaxTokens != 0 {
				t.Errorf("max_completion_tokens %d, max_tokens %d; want 100, 0", r.MaxCompletionTokens, r.MaxTokens)
			}
		}},
		{"reasoning model: no temperature, max_completion_tokens", Options{Model: "o4-mini"}, "", policy.Request{MaxTokens: 100, Temperature: &half}, func(t *testing.T, r openaitest.ChatRequest) {
			if r.Temperature != nil || r.MaxCompletionTokens != 100 || r.MaxTokens != 0 {
				t.Errorf("request = %s, want max_completion_tokens 100 and no temperature", r.Body)
			}
		}},
		{"tool choice by name", Options{}, "", policy.Request{Tools: tools, ToolChoice: "fill"}, func(t *testing.T, r openaitest.ChatRequest) {
			if r.ToolChoice != "fill" || !bytes.Contains(r.Body, []byte(`"tool_choice":{"type":"function","function":{"name":"fill"}}`)) {
				t.Errorf("request = %s, want tool_choice naming fill", r.Body)
			}
		}},
		{"tool choice without tools is dropped", Options{}, "", policy.Request{ToolChoice: "required"}, func(t *testing.T, r openaitest.ChatRequest) {
			if r.ToolChoice != "" {
				t.Errorf("tool_choice = %q, want none without tools", r.ToolChoice)
			}
		}},
		{"local server without key gets a placeholder", Options{APIKey: "", APIKeyEnv: "PILOT_TEST_UNSET_KEY"}, "", policy.Request{}, func(t *testing.T, r openaitest.ChatRequest) {
			if r.Authorization != "Bearer "+placeholderKey {
				t.Errorf("Authorization = %q, want the placeholder", r.Authorization)
			}
		}},
		{"empty assistant answer and tool output get placeholders", Options{}, "", policy.Request{Messages: []policy.Message{
			{Role: policy.RoleUser, Parts: []policy.Part{policy.TextPart("go")}},
			{Role: policy.RoleAssistant},
			{Role: policy.RoleUser, Parts: []policy.Part{policy.TextPart("that was empty")}},
			{Role: policy.RoleAssistant, ToolCalls: []policy.ToolCall{{ID: "c1", Name: "click", Arguments: "{}"}}},
			{Role: policy.RoleTool, ToolCallID: "c1"},
		}}, func(t *testing.T, r openaitest.ChatRequest) {
			if r.Messages[1].Text() != emptyAnswer || r.Messages[4].Text() != emptyResult {
				t.Errorf("messages = %+v, want the placeholders", r.Messages)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openaitest.NewServer(t, func(openaitest.ChatRequest) openaitest.Reply { return openaitest.Reply{Text: "ok"} })
			o := tt.opts
			base := s.URL
			if tt.base == "official" {
				u, _ := url.Parse(s.URL)
				o.HTTPClient = &http.Client{Transport: redirect{to: u}}
				base = ""
			}
			if tt.opts.APIKeyEnv != "" {
				o.APIKey = ""
			} else if o.APIKey == "" {
				o.APIKey = testKey
			}
			if o.Model == "" {
				o.Model = "gpt-4o"
			}
			o.BaseURL = base
			m, err := New(o)
			if err != nil {
				t.Fatalf("New() = %v", err)
			}
			req := tt.req
			if req.Messages == nil {
				req.Messages = userText("hello").Messages
			}
			if _, err := m.Generate(context.Background(), req); err != nil {
				t.Fatalf("Generate() error = %v", err)
			}
			reqs := s.Requests()
			if len(reqs) != 1 {
				t.Fatalf("server got %d requests, want 1", len(reqs))
			}
			tt.check(t, reqs[0])
		})
	}
}

func TestRequestErrors(t *testing.T) {
	nan := 0.0
	nan = nan / nan
	no := false
	img := policy.Message{Role: policy.RoleUser, Parts: []policy.Part{policy.ImagePart("image/png", tinyPNG)}}
	tests := []struct {
		name   string
		opts   Options
		req    policy.Request
		wantIs error
	}{
		{"no messages", Options{}, policy.Request{}, nil},
		{"unknown role", Options{}, policy.Request{Messages: []policy.Message{{Role: "robot", Parts: []policy.Part{policy.TextPart("x")}}}}, nil},
		{"empty user message", Options{}, policy.Request{Messages: []policy.Message{{Role: policy.RoleUser}}}, nil},
		{"image in a system message", Options{}, policy.Request{Messages: []policy.Message{{Role: policy.RoleSystem, Parts: img.Parts}}}, nil},
		{"image without bytes", Options{}, policy.Request{Messages: []policy.Message{{Role: policy.RoleUser, Parts: []policy.Part{policy.ImagePart("image/png", nil)}}}}, nil},
		{"tool result without call id", Options{}, policy.Request{Messages: []policy.Message{{Role: policy.RoleTool, Parts: []policy.Part{policy.TextPart("x")}}}}, nil},
		{"NaN temperature", Options{}, policy.Request{Messages: []policy.Message{img}, Temperature: &nan}, nil},
		{"negative n", Options{}, policy.Request{Messages: []policy.Message{img}, N: -1}, nil},
		{"unknown tool choice", Options{}, policy.Request{Messages: []policy.Message{img}, Tools: []policy.Tool{{Name: "click"}}, ToolChoice: "jump"}, nil},
		{"images off", Options{Images: &no}, policy.Request{Messages: []policy.Message{img}}, policy.ErrNoImages},
		{"tools off", Options{Tools: &no}, policy.Request{Messages: []policy.Message{img}, Tools: []policy.Tool{{Name: "click"}}}, policy.ErrNoTools},
		{"reasoning model with n > 1", Options{Model: "o4-mini"}, policy.Request{Messages: []policy.Message{img}, N: 2}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openaitest.NewServer(t, nil)
			m := newModel(t, s.URL, tt.opts)
			resp, err := m.Generate(context.Background(), tt.req)
			if err == nil {
				t.Fatalf("Generate() = %+v, want an error", resp)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("Generate() error = %v, want errors.Is %v", err, tt.wantIs)
			}
			var ae *policy.APIError
			if errors.As(err, &ae) {
				t.Errorf("Generate() error = %#v, want a plain error (nothing was sent; WithRetry must not retry it)", ae)
			}
			if n := len(s.Requests()); n != 0 {
				t.Errorf("server got %d requests, want 0", n)
			}
		})
	}
}

// sleeps records WithRetry's waits instead of waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) got() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// schedule answers the n-th request (0-based) with replies[n], and the
// last reply after that.
func schedule(replies ...openaitest.Reply) (openaitest.Handler, *atomic.Int64) {
	var n atomic.Int64
	return func(openaitest.ChatRequest) openaitest.Reply {
		i := int(n.Add(1) - 1)
		return replies[min(i, len(replies)-1)]
	}, &n
}

func TestFaultsThroughRetry(t *testing.T) {
	ok := openaitest.Reply{Text: `click("3")`, PromptTokens: 10, CompletionTokens: 2}
	rate := openaitest.Reply{Status: 429, ErrorType: "requests", ErrorCode: "rate_limit_exceeded", ErrorMessage: "Rate limit reached for gpt-4o", RetryAfter: "2"}
	tests := []struct {
		name        string
		replies     []openaitest.Reply
		callTimeout time.Duration
		wantReqs    int64
		wantSleeps  []time.Duration
		wantIs      error // nil: success
	}{
		{"429 with Retry-After, then success", []openaitest.Reply{rate, ok}, 0, 2, []time.Duration{2 * time.Second}, nil},
		{"500, then success", []openaitest.Reply{{Status: 500, ErrorMessage: "The server had an error while processing your request."}, ok}, 0, 2, []time.Duration{500 * time.Millisecond}, nil},
		{"hung connection cut by CallTimeout, then success", []openaitest.Reply{{Delay: time.Hour}, ok}, time.Second, 2, []time.Duration{500 * time.Millisecond}, nil},
		{"429 four times", []openaitest.Reply{rate}, 0, 4, []time.Duration{2 * time.Second, 2 * time.Second, 2 * time.Second}, policy.ErrRateLimited},
		{"truncated JSON is retried as a 5xx", []openaitest.Reply{{RawBody: `{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assis`}, ok}, 0, 2, []time.Duration{500 * time.Millisecond}, nil},
		{"401 is not retried", []openaitest.Reply{{Status: 401, ErrorCode: "invalid_api_key", ErrorMessage: "Incorrect API key provided"}}, 0, 1, nil, policy.ErrAuth},
		{"an image refusal is not retried, even as a 500", []openaitest.Reply{{Status: 500, ErrorType: "server_error", ErrorMessage: "image input is not supported - hint: if this is unexpected, you may need to provide the mmproj"}}, 0, 1, nil, policy.ErrNoImages},
		{"insufficient quota is not retried", []openaitest.Reply{{Status: 429, ErrorType: "insufficient_quota", ErrorCode: "insufficient_quota", ErrorMessage: "You exceeded your current quota"}}, 0, 1, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, n := schedule(tt.replies...)
			s := openaitest.NewServer(t, h)
			var sl sleeps
			m := policy.WithRetry(newModel(t, s.URL, Options{}), policy.RetryOptions{
				CallTimeout: tt.callTimeout, Rand: func() float64 { return 1 }, Sleep: sl.sleep,
			})
			resp, err := m.Generate(context.Background(), userText("next?"))
			if tt.name == "insufficient quota is not retried" {
				if err == nil || !strings.Contains(err.Error(), "quota") {
					t.Errorf("Generate() error = %v, want the quota error", err)
				}
			} else if tt.wantIs == nil {
				if err != nil {
					t.Fatalf("Generate() error = %v", err)
				}
				if resp.Choices[0].Text != ok.Text {
					t.Errorf("Generate() text = %q, want %q", resp.Choices[0].Text, ok.Text)
				}
				// Every attempt is recorded, the one that answered last.
				if int64(len(resp.Attempts)) != tt.wantReqs || int64(resp.Usage.Retries) != tt.wantReqs-1 || resp.Attempts[len(resp.Attempts)-1].Error != "" {
					t.Errorf("attempts %+v, retries %d; want %d attempts, the last without error", resp.Attempts, resp.Usage.Retries, tt.wantReqs)
				}
				for i, a := range resp.Attempts[:len(resp.Attempts)-1] {
					if a.Error == "" || a.Latency <= 0 || a.Wait != tt.wantSleeps[i] {
						t.Errorf("attempt %d = %+v; want its error, latency and the wait %s", i+1, a, tt.wantSleeps[i])
					}
				}
			} else if !errors.Is(err, tt.wantIs) {
				t.Errorf("Generate() error = %v, want errors.Is %v", err, tt.wantIs)
			}
			if got := n.Load(); got != tt.wantReqs {
				t.Errorf("server got %d requests, want %d", got, tt.wantReqs)
			}
			if got := sl.got(); fmt.Sprint(got) != fmt.Sprint(tt.wantSleeps) {
				t.Errorf("waits = %v, want %v", got, tt.wantSleeps)
			}
		})
	}
}

func TestAuthErrorNamesVariableNotKey(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", testKey)
	s := openaitest.NewServer(t, func(openaitest.ChatRequest) openaitest.Reply {
		return openaitest.Reply{Status: 401, ErrorCode: "invalid_api_key",
			ErrorMessage: "Incorrect API key provided: " + testKey + ". Masked: sk-test****************CRET."}
	})
	var logs bytes.Buffer
	m, err := New(Options{Model: "gpt-4o", BaseURL: s.URL})
	if err != nil {
		t.Fatal(err)
	}
	r := policy.WithRetry(m, policy.RetryOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil)), Sleep: (&sleeps{}).sleep})
	_, err = r.Generate(context.Background(), userText("hi"))
	if !errors.Is(err, policy.ErrAuth) {
		t.Fatalf("Generate() error = %v, want ErrAuth", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "OPENAI_API_KEY") {
		t.Errorf("error %q does not name OPENAI_API_KEY", msg)
	}
	if strings.Contains(msg, testKey) || strings.Contains(msg, "sk-test*") || strings.Contains(logs.String(), testKey) {
		t.Errorf("error %q or logs %q hold the key", msg, logs.String())
	}
}

func TestRetryLogsHoldNoKey(t *testing.T) {
	h, _ := schedule(
		openaitest.Reply{Status: 503, ErrorMessage: "overloaded; your key " + testKey + " is fine"},
		openaitest.Reply{Text: "ok"},
	)
	s := openaitest.NewServer(t, h)
	var logs bytes.Buffer
	m := policy.WithRetry(newModel(t, s.URL, Options{}), policy.RetryOptions{
		Logger: slog.New(slog.NewTextHandler(&logs, nil)), Sleep: (&sleeps{}).sleep,
	})
	if _, err := m.Generate(context.Background(), userText("hi")); err != nil {
		t.Fatalf("Generate() error = %v", err)
	}
	if !strings.Contains(logs.String(), "retrying") {
		t.Errorf("logs = %q, want a retry record", logs.String())
	}
	if strings.Contains(logs.String(), testKey) {
		t.Errorf("logs = %q hold the key", logs.String())
	}
}

func TestNothingPrintsTheKey(t *testing.T) {
	o := Options{Model: "gpt-4o", APIKey: testKey, BaseURL: "http://127.0.0.1:1/v1"}
	m, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("opts", "o", o, "m", m)
	for _, s := range []string{fmt.Sprint(o), fmt.Sprintf("%+v", o), fmt.Sprintf("%#v", o), fmt.Sprint(m), fmt.Sprintf("%+v", m), fmt.Sprintf("%#v", m), logs.String()} {
		if strings.Contains(s, testKey) {
			t.Errorf("%q holds the key", s)
		}
	}
}

func TestConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String() + "/v1"
	ln.Close()

	m := newModel(t, base, Options{})
	_, err = m.Generate(context.Background(), userText("hi"))
	var ae *policy.APIError
	if !errors.As(err, &ae) || !ae.Temporary() {
		t.Fatalf("Generate() error = %v, want a temporary *policy.APIError", err)
	}
	for _, want := range []string{base, "connection refused", "is the server running?"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if err := m.Check(context.Background()); err == nil || !strings.Contains(err.Error(), "is the server running?") {
		t.Errorf("Check() = %v, want the unreachable-server error", err)
	}

	var sl sleeps
	r := policy.WithRetry(m, policy.RetryOptions{Sleep: sl.sleep})
	_, err = r.Generate(context.Background(), userText("hi"))
	if err == nil || !strings.Contains(err.Error(), "gave up after 2 attempts") {
		t.Errorf("WithRetry Generate() error = %v, want a quick give-up after 2 attempts", err)
	}
	if len(sl.got()) != 1 {
		t.Errorf("waits = %v, want 1", sl.got())
	}
}

func TestCancelStopsAHungCall(t *testing.T) {
	started := make(chan struct{}, 1)
	s := openaitest.NewServer(t, func(openaitest.ChatRequest) openaitest.Reply {
		select {
		case started <- struct{}{}:
		default:
		}
		return openaitest.Reply{Delay: time.Hour}
	})
	m := policy.WithRetry(newModel(t, s.URL, Options{}), policy.RetryOptions{CallTimeout: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-started
		cancel()
	}()
	_, err := m.Generate(ctx, userText("hi"))
	<-done
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Generate() error = %v, want context.Canceled", err)
	}
	if n := len(s.Requests()); n != 1 {
		t.Errorf("server got %d requests, want 1 (no retry after cancel)", n)
	}
}

func TestNew(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "")
	tests := []struct {
		name    string
		o       Options
		wantErr string // "" = no error
	}{
		{"no model", Options{}, "no model name"},
		{"OpenAI without key", Options{Model: "gpt-4o"}, "OPENAI_API_KEY"},
		{"OpenAI without key, other variable", Options{Model: "gpt-4o", APIKeyEnv: "MY_KEY"}, "MY_KEY"},
		{"bad base URL", Options{Model: "m", BaseURL: "127.0.0.1:11434"}, "not an http(s) URL"},
		{"local without key", Options{Model: "llava", BaseURL: "http://127.0.0.1:11434/v1"}, ""},
		{"OpenAI with key", Options{Model: "gpt-4o", APIKey: testKey}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := New(tt.o)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("New(%v) error = %v", tt.o, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("New(%v) = %v, %v; want an error saying %q", tt.o, m, err, tt.wantErr)
			}
		})
	}
}

func TestInfo(t *testing.T) {
	no := false
	m := newModel(t, "http://127.0.0.1:11434/v1", Options{Model: "llava:13b", Provider: "ollama", Tools: &no})
	want := policy.ModelInfo{Provider: "ollama", Name: "llava:13b", BaseURL: "http://127.0.0.1:11434/v1", Images: true, Tools: false}
	if got := m.Info(); got != want {
		t.Errorf("Info() = %+v, want %+v", got, want)
	}
}

func TestCheck(t *testing.T) {
	s := openaitest.NewServer(t, nil)
	s.SetModels("gpt-4o", "gpt-4o-mini")
	var logs bytes.Buffer
	m := newModel(t, s.URL, Options{Model: "llava", Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err := m.Check(context.Background()); err != nil {
		t.Fatalf("Check() = %v", err)
	}
	if !strings.Contains(logs.String(), "does not list the model") {
		t.Errorf("logs = %q, want a warning about the unlisted model", logs.String())
	}
}

func TestBoundedBody(t *testing.T) {
	rec := &record{}
	b := &boundedBody{rc: io.NopCloser(strings.NewReader("0123456789")), left: 4, rec: rec}
	got, err := io.ReadAll(b)
	if !errors.Is(err, errBodyTooLarge) || string(got) != "0123" || string(rec.head) != "0123" {
		t.Errorf("ReadAll(bounded 4 of 10 bytes) = %q, %v (head %q); want 0123, errBodyTooLarge", got, err, rec.head)
	}
	b = &boundedBody{rc: io.NopCloser(strings.NewReader("0123")), left: 4, rec: &record{}}
	if got, err := io.ReadAll(b); err != nil || string(got) != "0123" {
		t.Errorf("ReadAll(bounded 4 of 4 bytes) = %q, %v; want 0123, nil", got, err)
	}
}

func TestRetryAfterHeader(t *testing.T) {
	now := time.Date(2025, 8, 14, 1, 10, 58, 0, time.UTC)
	tests := []struct {
		header map[string]string
		want   time.Duration
	}{
		{nil, 0},
		{map[string]string{"Retry-After": "2"}, 2 * time.Second},
		{map[string]string{"Retry-After": "1.5"}, 1500 * time.Millisecond},
		{map[string]string{"Retry-After": "Thu, 14 Aug 2025 01:11:28 GMT"}, 30 * time.Second},
		{map[string]string{"Retry-After": "Thu, 14 Aug 2025 01:00:00 GMT"}, 0},
		{map[string]string{"Retry-After": "-3"}, 0},
		{map[string]string{"Retry-After": "soon"}, 0},
		{map[string]string{"Retry-After": "1e300"}, 24 * time.Hour},
		{map[string]string{"Retry-After-Ms": "250", "Retry-After": "9"}, 250 * time.Millisecond},
		{map[string]string{"Retry-After-Ms": "NaN"}, 0},
	}
	for _, tt := range tests {
		h := http.Header{}
		for k, v := range tt.header {
			h.Set(k, v)
		}
		if got := retryAfterHeader(h, now); got != tt.want {
			t.Errorf("retryAfterHeader(%v) = %v, want %v", tt.header, got, tt.want)
		}
	}
}

func TestParseErrorBody(t *testing.T) {
	tests := []struct {
		body, code, msg string
	}{
		{`{"error":"registry.ollama.ai/library/llama3:latest does not support tools"}`, "", "registry.ollama.ai/library/llama3:latest does not support tools"},
		{`{"error":{"message":["a","b"],"type":"x"}}`, "", `{"message":["a","b"],"type":"x"}`},
		{`{"message":"Model does not support images","type":"invalid_request"}`, "invalid_request", "Model does not support images"},
		{`{"detail":"Not Found"}`, "", "Not Found"},
		{`{"detail":[{"loc":["body"],"msg":"bad"}]}`, "", `[{"loc":["body"],"msg":"bad"}]`},
		{`<html>502 Bad Gateway</html>`, "", `<html>502 Bad Gateway</html>`},
	}
	for _, tt := range tests {
		code, msg := parseErrorBody([]byte(tt.body))
		if code != tt.code || msg != tt.msg {
			t.Errorf("parseErrorBody(%s) = %q, %q; want %q, %q", tt.body, code, msg, tt.code, tt.msg)
		}
	}
}

func TestNonJSONErrorBody(t *testing.T) {
	s := openaitest.NewServer(t, func(openaitest.ChatRequest) openaitest.Reply {
		return openaitest.Reply{Status: 502, RawBody: "<html><body>502 Bad Gateway</body></html>"}
	})
	_, err := newModel(t, s.URL, Options{}).Generate(context.Background(), userText("hi"))
	var ae *policy.APIError
	if !errors.As(err, &ae) || ae.Status != 502 || !ae.Temporary() || !strings.Contains(ae.Message, "502 Bad Gateway") {
		t.Errorf("Generate() error = %v, want a temporary 502 quoting the body", err)
	}
}

// canned answers every request with one status and body, in memory.
type canned struct {
	status int
	body   []byte
}

func (c canned) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	return &http.Response{
		StatusCode: c.status, Status: fmt.Sprintf("%d %s", c.status, http.StatusText(c.status)),
		Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(bytes.NewReader(c.body)),
		ContentLength: int64(len(c.body)), Request: req,
	}, nil
}

const fuzzKey = "sk-fuzzsecret0123456789"

func FuzzDecodeResponse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "fixtures", "*.json"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint16(200), b)
		f.Add(uint16(400), b)
		f.Add(uint16(200), b[:len(b)/2])
	}
	f.Add(uint16(200), []byte(`{"choices":[]}`))
	f.Add(uint16(200), []byte(`null`))
	f.Add(uint16(200), []byte(``))
	f.Add(uint16(200), []byte(`{"choices":[{"index":1,"message":{"content":[{"type":"text","text":"a"}]}},{"index":0,"message":{"function_call":{"name":"f","arguments":"{}"}}}],"usage":{"prompt_tokens":-1}}`))
	f.Add(uint16(401), []byte(`{"error":{"message":"Incorrect API key provided: `+fuzzKey+`","code":"invalid_api_key"}}`))
	f.Add(uint16(500), []byte(`{"error":"`+fuzzKey+`"}`))
	f.Add(uint16(429), []byte(`{"error":{"message":7,"code":[1]}}`))
	f.Fuzz(func(t *testing.T, status uint16, body []byte) {
		code := 100 + int(status)%500
		m, err := New(Options{Model: "gpt-4o", APIKey: fuzzKey, BaseURL: "http://127.0.0.1:9/v1",
			HTTPClient: &http.Client{Transport: canned{status: code, body: body}}})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := m.Generate(context.Background(), userText("hi"))
		if err != nil {
			var ae *policy.APIError
			if !errors.Is(err, policy.ErrBadResponse) && !errors.As(err, &ae) {
				t.Fatalf("Generate(HTTP %d, %q) error = %v (%T), want ErrBadResponse or *policy.APIError", code, body, err, err)
			}
			if strings.Contains(err.Error(), fuzzKey) {
				t.Fatalf("Generate(HTTP %d, %q) error %q holds the key", code, body, err)
			}
			return
		}
		if len(resp.Choices) == 0 || resp.Usage.PromptTokens < 0 || resp.Usage.CompletionTokens < 0 {
			t.Fatalf("Generate(HTTP %d, %q) = %+v, want choices and non-negative usage", code, body, resp)
		}
	})
}

func FuzzRetryAfterHeader(f *testing.F) {
	for _, s := range []string{"2", "1.5", "-1", "Thu, 14 Aug 2025 01:11:28 GMT", "1e309", "NaN", "Inf", "0x10", ""} {
		f.Add(s, "")
		f.Add("", s)
	}
	now := time.Date(2025, 8, 14, 1, 10, 58, 0, time.UTC)
	f.Fuzz(func(t *testing.T, ra, raMs string) {
		h := http.Header{}
		h.Set("Retry-After", ra)
		h.Set("Retry-After-Ms", raMs)
		if d := retryAfterHeader(h, now); d < 0 || d > 24*time.Hour {
			t.Fatalf("retryAfterHeader(%q, %q) = %v, want 0…24h", ra, raMs, d)
		}
	})
}

func TestToolCallsWithoutIDsGetOne(t *testing.T) {
	h, _ := schedule(
		openaitest.Reply{RawBody: `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"qwen","choices":[` +
			`{"index":0,"message":{"role":"assistant","content":"","tool_calls":[{"type":"function","function":{"name":"click","arguments":"{\"id\":\"3\"}"}}]},"finish_reason":"tool_calls"},` +
			`{"index":1,"message":{"role":"assistant","content":null,"function_call":{"name":"stop","arguments":"{}"}},"finish_reason":"function_call"}],` +
			`"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}`},
		openaitest.Reply{Text: "ok"},
	)
	s := openaitest.NewServer(t, h)
	m := newModel(t, s.URL, Options{Model: "qwen"})
	resp, err := m.Generate(context.Background(), userText("go"))
	if err != nil {
		t.Fatalf("Generate() error = %v", err)
	}
	want := []policy.Choice{
		{ToolCalls: []policy.ToolCall{{ID: "call_0_0", Name: "click", Arguments: `{"id":"3"}`}}, FinishReason: "tool_calls"},
		{ToolCalls: []policy.ToolCall{{ID: "call_1_0", Name: "stop", Arguments: "{}"}}, FinishReason: "function_call"},
	}
	if fmt.Sprint(resp.Choices) != fmt.Sprint(want) {
		t.Fatalf("Generate() choices = %+v, want %+v", resp.Choices, want)
	}
	// The answer goes back with its result, as the LLM policy's repairs do.
	req := userText("go")
	c := resp.Choices[0]
	req.Messages = append(req.Messages,
		policy.Message{Role: policy.RoleAssistant, ToolCalls: c.ToolCalls},
		policy.Message{Role: policy.RoleTool, ToolCallID: c.ToolCalls[0].ID, Parts: []policy.Part{policy.TextPart("not executed")}})
	if _, err := m.Generate(context.Background(), req); err != nil {
		t.Fatalf("Generate(with the tool result) error = %v", err)
	}
	if got := s.Requests()[1].Messages[2].ToolCallID; got != "call_0_0" {
		t.Errorf("tool_call_id sent = %q, want call_0_0", got)
	}
}
