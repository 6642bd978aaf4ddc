package openaitest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pilotkit/pilot/policy"
)

func post(t *testing.T, url, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/chat/completions", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer sk-x")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

const hello = `{"model":"gpt-4o","messages":[{"role":"user","content":"hello"}]}`

func TestErrorBody(t *testing.T) {
	s := NewServer(t, func(ChatRequest) Reply {
		return Reply{Status: 429, ErrorType: "tokens", ErrorCode: "rate_limit_exceeded", ErrorMessage: "slow down", RetryAfter: "3"}
	})
	resp, body := post(t, s.URL, hello)
	want := `{"error":{"message":"slow down","type":"tokens","param":null,"code":"rate_limit_exceeded"}}`
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "3" || string(body) != want {
		t.Errorf("POST = %d Retry-After %q %s; want 429, 3, %s", resp.StatusCode, resp.Header.Get("Retry-After"), body, want)
	}

	s = NewServer(t, func(ChatRequest) Reply { return Reply{Status: 503} })
	_, body = post(t, s.URL, hello)
	want = `{"error":{"message":"Service Unavailable","type":"server_error","param":null,"code":null}}`
	if string(body) != want {
		t.Errorf("POST = %s, want %s", body, want)
	}
}

func TestCompletionBody(t *testing.T) {
	s := NewServer(t, func(r ChatRequest) Reply {
		return Reply{Text: "thinking", ToolCalls: []policy.ToolCall{{Name: "click", Arguments: `{"id":"3"}`}}, PromptTokens: 5, CompletionTokens: 7}
	})
	resp, body := post(t, s.URL, hello)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("POST = %d %q, want 200 application/json", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	delete(got, "created")
	want := map[string]any{
		"id": "chatcmpl-openaitest1", "object": "chat.completion", "model": "gpt-4o", "system_fingerprint": "fp_openaitest",
		"choices": []any{map[string]any{
			"index": 0.0, "logprobs": nil, "finish_reason": "tool_calls",
			"message": map[string]any{
				"role": "assistant", "content": "thinking", "refusal": nil,
				"tool_calls": []any{map[string]any{"id": "call_1", "type": "function", "function": map[string]any{"name": "click", "arguments": `{"id":"3"}`}}},
			},
		}},
		"usage": map[string]any{"prompt_tokens": 5.0, "completion_tokens": 7.0, "total_tokens": 12.0},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("POST = %s\nwant %v", body, want)
	}
	if reqs := s.Requests(); len(reqs) != 1 || reqs[0].Authorization != "Bearer sk-x" || reqs[0].Text() != "hello\n" {
		t.Errorf("Requests() = %+v, want the one request with its key", reqs)
	}
}

func TestToolCallsOnlyHaveNullContent(t *testing.T) {
	s := NewServer(t, func(ChatRequest) Reply {
		return Reply{ToolCalls: []policy.ToolCall{{ID: "call_x", Name: "stop", Arguments: "{}"}}}
	})
	_, body := post(t, s.URL, hello)
	if !bytes.Contains(body, []byte(`"content":null`)) || !bytes.Contains(body, []byte(`"id":"call_x"`)) {
		t.Errorf("POST = %s, want null content and the given call id", body)
	}
}

func TestRawBody(t *testing.T) {
	s := NewServer(t, func(ChatRequest) Reply { return Reply{RawBody: `{"choices":[`, Status: 200} })
	resp, body := post(t, s.URL, hello)
	if resp.StatusCode != 200 || string(body) != `{"choices":[` {
		t.Errorf("POST = %d %q, want the raw body", resp.StatusCode, body)
	}
}

func TestBadRequestsGet400(t *testing.T) {
	s := NewServer(t, func(ChatRequest) Reply { t.Error("the handler got a bad request"); return Reply{} })
	for _, body := range []string{
		`{`,
		`{"messages":[{"role":"user","content":"x"}]}`,
		`{"model":"m","messages":[]}`,
		`{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]}]}`,
		`{"model":"m","messages":[{"role":"tool","content":"x"}]}`,
		`{"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":"auto"}`,
	} {
		resp, got := post(t, s.URL, body)
		var e struct {
			Error struct {
				Message string `json:"message"`
				Type    string `json:"type"`
			} `json:"error"`
		}
		if resp.StatusCode != 400 || json.Unmarshal(got, &e) != nil || e.Error.Message == "" || e.Error.Type != "invalid_request_error" {
			t.Errorf("POST %s = %d %s, want a 400 invalid_request_error", body, resp.StatusCode, got)
		}
	}
	if n := len(s.Requests()); n != 0 {
		t.Errorf("Requests() holds %d, want none", n)
	}
}

func TestDecodeRequest(t *testing.T) {
	png := []byte("\x89PNG fake")
	body := `{"model":"llava","messages":[
		{"role":"system","content":"be brief"},
		{"role":"user","content":[{"type":"text","text":"look"},{"type":"image_url","image_url":{"url":"data:image/png;base64,` + base64.StdEncoding.EncodeToString(png) + `"}}]},
		{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"click","arguments":"{}"}}]},
		{"role":"tool","tool_call_id":"c1","content":"done"}],
		"tools":[{"type":"function","function":{"name":"click","description":"d","parameters":{"type":"object"}}}],
		"tool_choice":{"type":"function","function":{"name":"click"}},
		"n":2,"temperature":0,"seed":-3,"max_completion_tokens":9}`
	got, err := DecodeRequest([]byte(body))
	if err != nil {
		t.Fatalf("DecodeRequest() error = %v", err)
	}
	zero, seed := 0.0, int64(-3)
	want := ChatRequest{
		Model: "llava",
		Messages: []policy.Message{
			{Role: policy.RoleSystem, Parts: []policy.Part{policy.TextPart("be brief")}},
			{Role: policy.RoleUser, Parts: []policy.Part{policy.TextPart("look"), policy.ImagePart("image/png", png)}},
			{Role: policy.RoleAssistant, ToolCalls: []policy.ToolCall{{ID: "c1", Name: "click", Arguments: "{}"}}},
			{Role: policy.RoleTool, ToolCallID: "c1", Parts: []policy.Part{policy.TextPart("done")}},
		},
		Tools:      []policy.Tool{{Name: "click", Description: "d", Parameters: map[string]any{"type": "object"}}},
		ToolChoice: "click", N: 2, Temperature: &zero, Seed: &seed, MaxCompletionTokens: 9,
		Body: []byte(body),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DecodeRequest() =\n%+v\nwant\n%+v", got, want)
	}
}

func TestParseDataURL(t *testing.T) {
	tests := []struct {
		in       string
		mime     string
		data     string
		wantFail bool
	}{
		{"data:image/jpeg;base64,AAEC", "image/jpeg", "\x00\x01\x02", false},
		{"data:image/png;base64,", "", "", true},
		{"data:image/png,AAEC", "", "", true},
		{"data:;base64,AAEC", "", "", true},
		{"data:image/png;base64,!!!", "", "", true},
		{"http://x/a.png", "", "", true},
	}
	for _, tt := range tests {
		mime, data, err := ParseDataURL(tt.in)
		if (err != nil) != tt.wantFail || mime != tt.mime || string(data) != tt.data {
			t.Errorf("ParseDataURL(%q) = %q, %q, %v; want %q, %q, failure %v", tt.in, mime, data, err, tt.mime, tt.data, tt.wantFail)
		}
	}
}

func TestModels(t *testing.T) {
	s := NewServer(t, nil)
	s.SetModels("llava:13b")
	resp, err := http.Get(s.URL + "/models")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	want := `{"object":"list","data":[{"id":"llava:13b","object":"model","created":1700000000,"owned_by":"openaitest"}]}`
	if string(b) != want {
		t.Errorf("GET /v1/models = %s, want %s", b, want)
	}
}

// TestCloseEndsDelay checks that a hung reply does not keep Close (and the
// test's cleanup) waiting.
func TestCloseEndsDelay(t *testing.T) {
	started := make(chan struct{})
	s := NewServer(t, func(ChatRequest) Reply {
		close(started)
		return Reply{Delay: time.Hour}
	})
	done := make(chan error, 1)
	go func() {
		resp, err := http.Post(s.URL+"/chat/completions", "application/json", strings.NewReader(hello))
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	<-started
	s.Close()
	<-done // returns once Close ended the delay; a hang fails the test by timeout
	s.Close()
}

func FuzzDecodeRequest(f *testing.F) {
	f.Add([]byte(hello))
	f.Add([]byte(`{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,AAEC"}}]}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"required"}`))
	f.Add([]byte(`{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"1","type":"function","function":{"name":"f","arguments":"{}"}}]}]}`))
	f.Add([]byte(`{"model":"m","messages":[{"role":"user","content":7}]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := DecodeRequest(body)
		if err != nil {
			return
		}
		if req.Model == "" || len(req.Messages) == 0 {
			t.Fatalf("DecodeRequest(%q) = %+v, want a model and messages", body, req)
		}
		for _, p := range req.Images() {
			if p.MIME == "" || len(p.Data) == 0 {
				t.Fatalf("DecodeRequest(%q) image = %+v, want MIME and bytes", body, p)
			}
		}
	})
}
