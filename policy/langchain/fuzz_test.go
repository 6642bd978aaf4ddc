package langchain

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/pilotkit/pilot/policy"
)

// memTransport answers from memory: the fuzzers go through the whole
// client stack (langchaingo, the recording transport, the adapter)
// without a socket.
type memTransport struct {
	mu     sync.Mutex
	show   []byte // /api/show (Ollama)
	status int
	header http.Header
	body   []byte
}

func (m *memTransport) set(status int, header http.Header, body []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.status, m.header, m.body = status, header, body
}

func (m *memTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	status, body, h := m.status, m.body, m.header.Clone()
	if r.URL.Path == "/api/show" {
		status, body, h = 200, m.show, nil
	}
	if h == nil {
		h = http.Header{}
	}
	return &http.Response{StatusCode: status, Status: http.StatusText(status), Header: h,
		Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)), Request: r,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}, nil
}

// fuzzStatuses are the statuses a fuzzed answer comes with.
var fuzzStatuses = []int{200, 200, 200, 400, 401, 404, 429, 500, 503, 529}

// checkFuzzed checks the contract every answer meets: a Response with
// choices, or an *APIError that keeps the status (a 2xx one is a bad
// response or a refusal), short and without the key.
func checkFuzzed(t *testing.T, provider string, status int, resp *policy.Response, err error) {
	t.Helper()
	if err == nil {
		if resp == nil || len(resp.Choices) == 0 {
			t.Fatalf("Generate = %+v, nil; want choices or an error", resp)
		}
		if status != 200 {
			t.Fatalf("Generate on HTTP %d = %+v, nil; want an error", status, resp)
		}
		return
	}
	var ae *policy.APIError
	if !errors.As(err, &ae) || ae.Provider != provider {
		t.Fatalf("Generate = %T %v, want a *policy.APIError from %s", err, err, provider)
	}
	switch {
	case status >= 400:
		if ae.Status != status {
			t.Fatalf("Generate on HTTP %d = %v: Status %d", status, err, ae.Status)
		}
	case !errors.Is(err, policy.ErrBadResponse) && !errors.Is(err, policy.ErrNoImages) && !errors.Is(err, policy.ErrNoTools):
		t.Fatalf("Generate on HTTP 200 = %v, want ErrBadResponse (or a refusal)", err)
	}
	if n := len(err.Error()); n > 2000 {
		t.Fatalf("the error is %d bytes long: %.200s…", n, err)
	}
	if strings.Contains(err.Error(), testKey) {
		t.Fatalf("the error shows the key: %v", err)
	}
}

// FuzzOllamaResponse feeds arbitrary /api/chat answers through the Ollama
// adapter: never a panic; a Response whose text is the stream's, or a
// clear error.
func FuzzOllamaResponse(f *testing.F) {
	for _, name := range []string{"ollama/chat_docs_stream.ndjson", "ollama/chat_image.json", "ollama/error_no_vision.json", "ollama/error_chat_not_found.json"} {
		b := readFixture(f, name)
		f.Add(uint8(0), b)
		f.Add(uint8(7), b)
		f.Add(uint8(0), b[:len(b)/2])
	}
	rec := readHTTPRR(f, "ollama/chat_stream.httprr")[0].Body
	f.Add(uint8(0), rec)
	f.Add(uint8(0), rec[:len(rec)-30])
	f.Add(uint8(0), []byte(`{"message":{"content":"a"},"done":false}`+"\n"+`{"error":"boom"}`+"\n"))
	f.Add(uint8(0), []byte(`{"done":true}`+"\n"+`{"done":true}`+"\n"))
	f.Add(uint8(0), []byte(""))
	tr := &memTransport{show: readFixture(f, "ollama/show_llava.json")}
	m, err := New(context.Background(), Options{Provider: "ollama", Model: "llava", BaseURL: "http://127.0.0.1:11434",
		HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, st uint8, body []byte) {
		status := fuzzStatuses[int(st)%len(fuzzStatuses)]
		tr.set(status, http.Header{"Content-Type": {"application/x-ndjson"}}, body)
		resp, err := m.Generate(context.Background(), textRequest("hi"))
		checkFuzzed(t, "ollama", status, resp, err)
		if err == nil {
			text, _, serr := ollamaStream(body)
			if serr != nil || resp.Choices[0].Text != text {
				t.Fatalf("Generate = %q, but the stream reads %q, %v", resp.Choices[0].Text, text, serr)
			}
		}
	})
}

// FuzzAnthropicResponse feeds arbitrary Messages API answers (and
// Retry-After values) through the Anthropic adapter.
func FuzzAnthropicResponse(f *testing.F) {
	for _, name := range []string{"anthropic/tool_use.json", "anthropic/error_401.json", "anthropic/error_429.json", "anthropic/error_529.json"} {
		b := readFixture(f, name)
		f.Add(uint8(0), "", b)
		f.Add(uint8(6), "17", b)
		f.Add(uint8(0), "", b[:len(b)/2])
	}
	rec := readHTTPRR(f, "anthropic/message.httprr")[0].Body
	f.Add(uint8(0), "", rec)
	f.Add(uint8(6), "Wed, 21 Oct 2015 07:28:00 GMT", rec)
	f.Add(uint8(0), "", []byte(`{"content":[{"type":"thinking","thinking":"hm"}],"stop_reason":"end_turn"}`))
	f.Add(uint8(0), "", []byte(`{"content":[{"type":"tool_use","id":"t","name":"n","input":null}]}`))
	tr := &memTransport{}
	m, err := New(context.Background(), Options{Provider: "anthropic", Model: "claude-sonnet-4-0", APIKey: testKey,
		BaseURL: "http://127.0.0.1:9", HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		f.Fatal(err)
	}
	req := toolConversation(f)
	f.Fuzz(func(t *testing.T, st uint8, retry string, body []byte) {
		status := fuzzStatuses[int(st)%len(fuzzStatuses)]
		tr.set(status, http.Header{"Content-Type": {"application/json"}, "Retry-After": {retry}}, body)
		resp, err := m.Generate(context.Background(), req)
		checkFuzzed(t, "anthropic", status, resp, err)
		var ae *policy.APIError
		if errors.As(err, &ae) && ae.RetryAfter < 0 {
			t.Fatalf("RetryAfter = %v for %q", ae.RetryAfter, retry)
		}
	})
}
