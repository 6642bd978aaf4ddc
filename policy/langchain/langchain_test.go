package langchain

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pilotkit/pilot/policy"
)

func TestNewUnknownProvider(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"", "openai", "mistral", "bedrock"} {
		_, err := New(context.Background(), Options{Provider: p, Model: "m"})
		if err == nil || !strings.Contains(err.Error(), "anthropic, ollama") {
			t.Errorf("New(Provider %q) = %v, want an error listing anthropic, ollama", p, err)
		}
	}
}

func TestOptionsHideKey(t *testing.T) {
	t.Parallel()
	o := Options{Provider: "anthropic", Model: "claude-sonnet-4-0", APIKey: testKey}
	for _, s := range []string{o.String(), fmt.Sprintf("%v", o), fmt.Sprintf("%+v", o), fmt.Sprintf("%#v", o), o.LogValue().String()} {
		if strings.Contains(s, testKey) || !strings.Contains(s, "APIKey: set") {
			t.Errorf("Options print as %q, want the key hidden and said to be set", s)
		}
	}
	m := newAnthropicModel(t, "http://127.0.0.1:9", "claude-sonnet-4-0", Options{})
	for _, s := range []string{fmt.Sprintf("%v", m), fmt.Sprintf("%#v", m)} {
		if strings.Contains(s, testKey) {
			t.Errorf("Model prints as %q, with the key", s)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2015, 10, 21, 7, 28, 0, 0, time.UTC)
	tests := []struct {
		v    string
		want time.Duration
	}{
		{"", 0},
		{"17", 17 * time.Second},
		{"0.5", 500 * time.Millisecond},
		{"-3", 0},
		{"NaN", 0},
		{"1e12", 0},
		{"Wed, 21 Oct 2015 07:28:30 GMT", 30 * time.Second},
		{"Wed, 21 Oct 2015 07:27:00 GMT", 0},
		{"soon", 0},
	}
	for _, tt := range tests {
		if got := retryAfter(http.Header{"Retry-After": {tt.v}}, now); got != tt.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tt.v, got, tt.want)
		}
	}
}

// TestRequestErrors checks requests a provider cannot take fail before
// anything is sent, with a plain error (not an *APIError, so never
// retried).
func TestRequestErrors(t *testing.T) {
	t.Parallel()
	user := policy.Message{Role: policy.RoleUser, Parts: []policy.Part{policy.TextPart("hi")}}
	tests := []struct {
		name string
		req  policy.Request
		want string
	}{
		{"no messages", policy.Request{}, "no messages"},
		{"bad role", policy.Request{Messages: []policy.Message{{Role: "robot", Parts: user.Parts}}}, `unknown role "robot"`},
		{"empty user", policy.Request{Messages: []policy.Message{{Role: policy.RoleUser}}}, "empty user message"},
		{"args not JSON", policy.Request{Messages: []policy.Message{user,
			{Role: policy.RoleAssistant, ToolCalls: []policy.ToolCall{{ID: "1", Name: "click", Arguments: "click 12"}}}}}, "not JSON"},
		{"tool result without ID", policy.Request{Messages: []policy.Message{user, {Role: policy.RoleTool, Parts: user.Parts}}}, "without ToolCallID"},
		{"image in system", policy.Request{Messages: []policy.Message{{Role: policy.RoleSystem, Parts: []policy.Part{policy.ImagePart("image/png", []byte{1})}}, user}}, "system message"},
		{"bad tool choice", policy.Request{Messages: []policy.Message{user}, ToolChoice: "always"}, "ToolChoice"},
		{"negative N", policy.Request{Messages: []policy.Message{user}, N: -1}, "negative"},
		{"negative MaxTokens", policy.Request{Messages: []policy.Message{user}, MaxTokens: -1}, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newFake(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
				t.Errorf("a request was sent to %s", r.URL.Path)
			})
			m := newAnthropicModel(t, srv.URL, "claude-sonnet-4-0", Options{})
			_, err := m.Generate(context.Background(), tt.req)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Generate = %v, want an error saying %q", err, tt.want)
			}
			if _, ok := err.(*policy.APIError); ok {
				t.Errorf("Generate = %T, want a plain error", err)
			}
		})
	}
}

// TestLibraryRefusal checks a request langchaingo refuses before sending
// (a tool schema it cannot encode as JSON) is a plain error, not a bad
// answer worth a retry, and that a schema without properties is
// completed, not refused.
func TestLibraryRefusal(t *testing.T) {
	t.Parallel()
	srv := newFake(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		t.Errorf("a request was sent to %s", r.URL.Path)
	})
	m := newAnthropicModel(t, srv.URL, "claude-sonnet-4-0", Options{})
	req := textRequest("hi")
	req.Tools = []policy.Tool{{Name: "bad", Parameters: map[string]any{"type": "object", "properties": map[string]any{}, "maximum": math.NaN()}}}
	_, err := m.Generate(context.Background(), req)
	if err == nil || !strings.Contains(err.Error(), "could not be sent") {
		t.Fatalf("Generate = %v, want an error saying the request could not be sent", err)
	}
	if _, ok := err.(*policy.APIError); ok {
		t.Errorf("Generate = %T, want a plain error", err)
	}

	// An object schema without properties, and a tool without parameters,
	// go as object schemas with an empty property list.
	req.Tools = []policy.Tool{{Name: "stop", Parameters: map[string]any{"type": "object"}}, {Name: "wait"}}
	srv2 := anthropicServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		reply(w, 200, "application/json", readHTTPRR(t, "anthropic/message.httprr")[0].Body)
	})
	m2 := newAnthropicModel(t, srv2.URL, "claude-sonnet-4-0", Options{})
	if _, err := m2.Generate(context.Background(), req); err != nil {
		t.Fatalf("Generate with tools without properties = %v", err)
	}
	sent := srv2.requests("/v1/messages")
	if len(sent) != 1 {
		t.Fatalf("%d requests, want 1", len(sent))
	}
	var body struct {
		Tools []struct {
			Name        string         `json:"name"`
			InputSchema map[string]any `json:"input_schema"`
		} `json:"tools"`
	}
	if err := json.Unmarshal(sent[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	if len(body.Tools) != 2 {
		t.Fatalf("%d tools sent, want 2: %s", len(body.Tools), sent[0].Body)
	}
	for _, tool := range body.Tools {
		props, ok := tool.InputSchema["properties"].(map[string]any)
		if tool.InputSchema["type"] != "object" || !ok || len(props) != 0 {
			t.Errorf("tool %q input_schema = %v, want {type: object, properties: {}}", tool.Name, tool.InputSchema)
		}
	}
}

// TestLibraryPanic checks an answer on which the client library panics
// (Anthropic's, on a body of JSON null) is a bad response that keeps the
// HTTP status, not a crash.
func TestLibraryPanic(t *testing.T) {
	t.Parallel()
	srv := anthropicServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		reply(w, 200, "application/json", []byte("null"))
	})
	m := newAnthropicModel(t, srv.URL, "claude-sonnet-4-0", Options{})
	_, err := m.Generate(context.Background(), textRequest("hi"))
	if !errors.Is(err, policy.ErrBadResponse) || apiErr(t, err).Status != 200 {
		t.Errorf("Generate on a null answer = %v, want a bad response (HTTP 200)", err)
	}
}
