package langchain

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pilotkit/pilot/policy"
)

// anthropicServer is a fake Messages API at /v1/messages.
func anthropicServer(t *testing.T, h func(w http.ResponseWriter, r *http.Request, body []byte)) *fake {
	t.Helper()
	return newFake(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		if r.URL.Path != "/v1/messages" || r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		h(w, r, body)
	})
}

func newAnthropicModel(t *testing.T, url, model string, o Options) *Model {
	t.Helper()
	o.Provider, o.Model, o.BaseURL = "anthropic", model, url
	if o.APIKey == "" {
		o.APIKey = testKey
	}
	m, err := New(context.Background(), o)
	if err != nil {
		t.Fatalf("New(anthropic:%s) = %v", model, err)
	}
	return m
}

func TestAnthropicReplay(t *testing.T) {
	t.Parallel()
	rec := readHTTPRR(t, "anthropic/message.httprr")[0]
	tests := []struct {
		name   string
		status int
		header http.Header
		body   []byte
	}{
		{name: "recorded_message", status: rec.Status, header: rec.Header, body: rec.Body},
		{name: "docs_tool_use", status: 200, body: readFixture(t, "anthropic/tool_use.json")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := anthropicServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
				for k, v := range tt.header {
					w.Header()[k] = v
				}
				reply(w, tt.status, "application/json", tt.body)
			})
			m := newAnthropicModel(t, srv.URL, "claude-3-opus-20240229", Options{})
			req := textRequest("Hello, how are you?")
			req.Tools = []policy.Tool{weatherTool()}
			resp, err := m.Generate(context.Background(), req)
			if err != nil {
				t.Fatalf("Generate = %v", err)
			}
			golden(t, "anthropic_"+tt.name+".json", responseJSON(t, resp))
		})
	}
}

func weatherTool() policy.Tool {
	return policy.Tool{Name: "get_weather", Description: "Get the current weather in a given location",
		Parameters: map[string]any{
			"type": "object",
			"properties": map[string]any{
				"location": map[string]any{"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
				"unit":     map[string]any{"type": "string", "enum": []any{"celsius", "fahrenheit"}},
			},
			"required": []any{"location"},
		}}
}

// toolConversation is a step of an agent: the task and a screenshot, an
// assistant turn with text and two tool calls, their results (one with a
// new screenshot), and the next observation.
func toolConversation(t testing.TB) policy.Request {
	img := pixels(t)
	return policy.Request{
		Messages: []policy.Message{
			{Role: policy.RoleSystem, Parts: []policy.Part{policy.TextPart("You shop on a web page.")}},
			{Role: policy.RoleUser, Parts: []policy.Part{policy.TextPart("Buy a USB-C cable."), policy.ImagePart("image/png", img)}},
			{Role: policy.RoleAssistant, Parts: []policy.Part{policy.TextPart("I will search first.")}, ToolCalls: []policy.ToolCall{
				{ID: "toolu_01", Name: "fill", Arguments: `{"id":"7","text":"usb-c cable"}`},
				{ID: "toolu_02", Name: "click", Arguments: `{"id":"8"}`},
			}},
			{Role: policy.RoleTool, ToolCallID: "toolu_01", Parts: []policy.Part{policy.TextPart("ok")}},
			{Role: policy.RoleTool, ToolCallID: "toolu_02", Parts: []policy.Part{policy.TextPart("page changed"), policy.ImagePart("image/png", img)}},
			{Role: policy.RoleUser, Parts: []policy.Part{policy.TextPart("[12] link \"USB-C cable, 1 m\"")}},
		},
		Tools: []policy.Tool{
			{Name: "click", Description: "Click an element", Parameters: map[string]any{"type": "object",
				"properties": map[string]any{"id": map[string]any{"type": "string"}}, "required": []any{"id"}}},
			{Name: "fill", Description: "Type into a field", Parameters: map[string]any{"type": "object",
				"properties": map[string]any{"id": map[string]any{"type": "string"}, "text": map[string]any{"type": "string"}}}},
			{Name: "stop", Description: "End the task"},
		},
		Temperature: ptr(0.0), MaxTokens: 256,
	}
}

// TestAnthropicWire checks what goes to the Messages API: the system
// prompt, image blocks with media_type, tool_use and tool_result blocks,
// the tools with input_schema, the key in x-api-key.
func TestAnthropicWire(t *testing.T) {
	t.Parallel()
	srv := anthropicServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		reply(w, 200, "application/json", readFixture(t, "anthropic/tool_use.json"))
	})
	m := newAnthropicModel(t, srv.URL, "claude-sonnet-4-0", Options{})
	if _, err := m.Generate(context.Background(), toolConversation(t)); err != nil {
		t.Fatalf("Generate = %v", err)
	}
	sent := srv.requests("/v1/messages")
	if len(sent) != 1 {
		t.Fatalf("%d requests, want 1", len(sent))
	}
	if got := sent[0].Header.Get("X-Api-Key"); got != testKey {
		t.Errorf("x-api-key = %q, want the key", got)
	}
	if got := sent[0].Header.Get("Anthropic-Version"); got != "2023-06-01" {
		t.Errorf("anthropic-version = %q, want 2023-06-01", got)
	}
	var body struct {
		Messages []struct {
			Content []struct {
				Type   string `json:"type"`
				Source struct {
					MediaType string `json:"media_type"`
					Data      string `json:"data"`
				} `json:"source"`
			} `json:"content"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(sent[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	img := body.Messages[0].Content[1]
	if img.Type != "image" || img.Source.MediaType != "image/png" || img.Source.Data != base64.StdEncoding.EncodeToString(pixels(t)) {
		t.Errorf("the screenshot went as %+v, want an image block with media_type image/png and the bytes base64", img)
	}
	golden(t, "anthropic_wire_tools.json", canonJSON(t, sent[0].Body))
}

// TestAnthropicToolChoiceNone checks "none" sends no tools when the
// conversation has no tool calls (langchaingo sends no tool_choice).
func TestAnthropicToolChoiceNone(t *testing.T) {
	t.Parallel()
	srv := anthropicServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		reply(w, 200, "application/json", readHTTPRR(t, "anthropic/message.httprr")[0].Body)
	})
	m := newAnthropicModel(t, srv.URL, "claude-sonnet-4-0", Options{})
	req := textRequest("hi")
	req.Tools, req.ToolChoice = []policy.Tool{weatherTool()}, "none"
	if _, err := m.Generate(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if b := srv.requests("/v1/messages")[0].Body; strings.Contains(string(b), `"tools"`) {
		t.Errorf("ToolChoice none sent tools: %s", b)
	}
}

func TestAnthropicFaults(t *testing.T) {
	t.Parallel()
	good := readHTTPRR(t, "anthropic/message.httprr")[0].Body
	tests := []struct {
		name       string
		status     int
		header     map[string]string
		body       []byte
		wantStatus int
		wantCode   string
		wantErr    error
		wantTemp   bool
		wantRetry  time.Duration
		wantText   []string
	}{
		{name: "401", status: 401, body: readFixture(t, "anthropic/error_401.json"),
			wantStatus: 401, wantCode: "authentication_error", wantErr: policy.ErrAuth,
			wantText: []string{"invalid x-api-key", "check the API key passed in the options"}},
		{name: "429", status: 429, header: map[string]string{"retry-after": "17"}, body: readFixture(t, "anthropic/error_429.json"),
			wantStatus: 429, wantCode: "rate_limit_error", wantErr: policy.ErrRateLimited, wantTemp: true, wantRetry: 17 * time.Second,
			wantText: []string{"20,000 input tokens per minute"}},
		{name: "500", status: 500, body: readFixture(t, "anthropic/error_500.json"),
			wantStatus: 500, wantCode: "api_error", wantTemp: true, wantText: []string{"Internal server error"}},
		{name: "529", status: 529, body: readFixture(t, "anthropic/error_529.json"),
			wantStatus: 529, wantCode: "overloaded_error", wantTemp: true, wantText: []string{"Overloaded"}},
		{name: "502 HTML", status: 502, body: []byte("<html><body>502 Bad Gateway</body></html>"),
			wantStatus: 502, wantTemp: true, wantText: []string{"502 Bad Gateway"}},
		{name: "truncated JSON", status: 200, body: good[:len(good)/2],
			wantStatus: 200, wantErr: policy.ErrCutResponse, wantTemp: true}, // retried as a 5xx
		{name: "no content", status: 200, body: []byte(`{"id":"msg_1","type":"message","role":"assistant","model":"claude-3-opus-20240229","content":[],"stop_reason":"end_turn","usage":{"input_tokens":3,"output_tokens":0}}`),
			wantStatus: 200, wantErr: policy.ErrBadResponse},
		{name: "unknown block", status: 200, body: []byte(`{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[{"type":"server_tool_use","id":"x","name":"web_search","input":{}}],"stop_reason":"end_turn","usage":{"input_tokens":3,"output_tokens":1}}`),
			wantStatus: 200, wantErr: policy.ErrBadResponse, wantText: []string{"server_tool_use"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := anthropicServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				reply(w, tt.status, "application/json", tt.body)
			})
			m := newAnthropicModel(t, srv.URL, "claude-3-opus-20240229", Options{})
			_, err := m.Generate(context.Background(), textRequest("hi"))
			checkNoKey(t, err)
			ae := apiErr(t, err)
			if ae.Status != tt.wantStatus || ae.Code != tt.wantCode || ae.Temporary() != tt.wantTemp || ae.RetryAfter != tt.wantRetry {
				t.Errorf("Generate = %v: Status %d Code %q Temporary %v RetryAfter %v; want %d %q %v %v",
					err, ae.Status, ae.Code, ae.Temporary(), ae.RetryAfter, tt.wantStatus, tt.wantCode, tt.wantTemp, tt.wantRetry)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Generate = %v, want errors.Is %v", err, tt.wantErr)
			}
			for _, w := range tt.wantText {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Generate = %v, want it to say %q", err, w)
				}
			}
		})
	}
}

// TestAnthropicKeyFromEnv checks the key comes from ANTHROPIC_API_KEY, a
// missing one is an error at start-up that names it, and a refused one
// names it without showing it.
func TestAnthropicKeyFromEnv(t *testing.T) {
	srv := anthropicServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		reply(w, 401, "application/json", readFixture(t, "anthropic/error_401.json"))
	})
	t.Setenv(AnthropicKeyEnv, "")
	_, err := New(context.Background(), Options{Provider: "anthropic", Model: "claude-sonnet-4-0", BaseURL: srv.URL})
	if err == nil || !strings.Contains(err.Error(), "ANTHROPIC_API_KEY") {
		t.Fatalf("New without a key = %v, want an error naming ANTHROPIC_API_KEY", err)
	}
	t.Setenv(AnthropicKeyEnv, testKey)
	m, err := New(context.Background(), Options{Provider: "anthropic", Model: "claude-sonnet-4-0", BaseURL: srv.URL + "/v1/"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Generate(context.Background(), textRequest("hi"))
	checkNoKey(t, err)
	if !errors.Is(err, policy.ErrAuth) || !strings.Contains(err.Error(), "check the key in ANTHROPIC_API_KEY") {
		t.Errorf("Generate with a refused key = %v, want ErrAuth naming ANTHROPIC_API_KEY", err)
	}
	if got := srv.requests("/v1/messages")[0].Header.Get("X-Api-Key"); got != testKey {
		t.Errorf("x-api-key = %q, want the key from the environment", got)
	}
}

func TestAnthropicNetwork(t *testing.T) {
	t.Parallel()
	stop := make(chan struct{})
	hung := anthropicServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	})
	t.Cleanup(func() { close(stop) })
	m := newAnthropicModel(t, hung.URL, "claude-sonnet-4-0", Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := m.Generate(ctx, textRequest("hi")); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Generate on a hung server = %v, want context.DeadlineExceeded", err)
	}

	refused := refusedURL(t)
	m = newAnthropicModel(t, refused, "claude-sonnet-4-0", Options{})
	_, err := m.Generate(context.Background(), textRequest("hi"))
	if !errors.Is(err, syscall.ECONNREFUSED) || !strings.Contains(err.Error(), "cannot connect to "+refused) || !apiErr(t, err).Temporary() {
		t.Errorf("Generate on a closed port = %v, want ECONNREFUSED naming %s, temporary", err, refused)
	}
}

// TestAnthropicN checks N answers are N requests.
func TestAnthropicN(t *testing.T) {
	t.Parallel()
	srv := anthropicServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		reply(w, 200, "application/json", readFixture(t, "anthropic/tool_use.json"))
	})
	m := newAnthropicModel(t, srv.URL, "claude-sonnet-4-0", Options{})
	req := textRequest("weather in SF?")
	req.Tools, req.N = []policy.Tool{weatherTool()}, 2
	resp, err := m.Generate(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Choices) != 2 || len(srv.requests("/v1/messages")) != 2 {
		t.Errorf("Generate(N=2) = %d choices after %d requests, want 2 and 2", len(resp.Choices), len(srv.requests("/v1/messages")))
	}
	for _, c := range resp.Choices {
		if len(c.ToolCalls) != 1 || c.ToolCalls[0].ID != "toolu_01A09q90qw90lq917835lq9" || c.FinishReason != "tool_calls" {
			t.Errorf("choice = %+v, want the get_weather call with its ID, tool_calls", c)
		}
	}
}
