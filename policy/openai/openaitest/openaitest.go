// Package openaitest runs an in-process server that speaks the OpenAI
// chat-completions wire format (POST /v1/chat/completions, GET /v1/models)
// for tests: a Handler reads each decoded request and says what to answer,
// a model's reply or an error, encoded exactly as OpenAI encodes them.
//
//	s := openaitest.NewServer(t, func(r openaitest.ChatRequest) openaitest.Reply {
//		return openaitest.Reply{Text: `click("12")`, PromptTokens: 900, CompletionTokens: 8}
//	})
//	m, _ := openai.New(openai.Options{Model: "gpt-4o", BaseURL: s.URL, APIKey: "sk-test"})
package openaitest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pilotkit/pilot/policy"
)

// Handler decides the answer to one request. It runs on the server's
// goroutines, possibly several at once: it must not call t.Fatal (use
// t.Error) and must guard any state it shares.
type Handler func(req ChatRequest) Reply

// ChatRequest is a request as the server decoded it.
type ChatRequest struct {
	Model string
	// Messages with their parts: text parts, and image parts decoded from
	// their data: URLs (MIME type and bytes).
	Messages []policy.Message
	Tools    []policy.Tool
	// ToolChoice is "auto", "none", "required", or the function's name
	// when the request names one ({"type":"function","function":{…}}); ""
	// when absent.
	ToolChoice  string
	N           int // 0 when absent
	Temperature *float64
	Seed        *int64
	// MaxTokens and MaxCompletionTokens are max_tokens and
	// max_completion_tokens, 0 when absent.
	MaxTokens           int
	MaxCompletionTokens int
	// Authorization is the Authorization header ("Bearer sk-…").
	Authorization string
	// Body is the request body as received.
	Body []byte
}

// Text returns the text of every message, one per line, for handlers that
// look for words in the prompt.
func (r ChatRequest) Text() string {
	var b strings.Builder
	for _, m := range r.Messages {
		b.WriteString(m.Text())
		b.WriteByte('\n')
	}
	return b.String()
}

// Images returns every image part of the request, in order.
func (r ChatRequest) Images() []policy.Part {
	var out []policy.Part
	for _, m := range r.Messages {
		for _, p := range m.Parts {
			if p.IsImage() {
				out = append(out, p)
			}
		}
	}
	return out
}

// Choice is one answer of a reply with several (n > 1).
type Choice = policy.Choice

// Reply is the server's answer to one request.
type Reply struct {
	// Text and ToolCalls make a single choice. A tool call without ID
	// gets one ("call_1", …) as OpenAI gives.
	Text      string
	ToolCalls []policy.ToolCall
	// Choices, when set, are the choices instead (for n > 1).
	Choices []Choice
	// FinishReason of the single choice; "" means "tool_calls" when there
	// are tool calls, else "stop".
	FinishReason string
	// Model is the model the response names; "" echoes the request's.
	Model string
	// Usage.
	PromptTokens, CompletionTokens int

	// Status is the HTTP status; 0 means 200. With a status of 400 or more
	// the body is an OpenAI error: {"error": {"message", "type", "param",
	// "code"}}; ErrorType defaults to invalid_request_error for 4xx and
	// server_error for 5xx, and an empty ErrorCode is sent as null.
	Status       int
	ErrorType    string
	ErrorCode    string
	ErrorMessage string
	// RetryAfter is sent as the Retry-After header when not "".
	RetryAfter string
	// RawBody, when not "", is sent verbatim instead of any of the above
	// (with Status, 200 by default): recorded fixtures, truncated JSON.
	RawBody string
	// Delay holds the answer back (a slow or hung server). The wait ends
	// early when the client goes away, or when the server closes, which
	// drops the connection without an answer.
	Delay time.Duration
}

// Server is a running fake API. Close it, or let NewServer's cleanup.
type Server struct {
	// URL is the API's base URL, with /v1: pass it as the adapter's base
	// URL ("http://127.0.0.1:PORT/v1").
	URL string

	h    Handler
	srv  *httptest.Server
	done chan struct{}
	once sync.Once

	mu     sync.Mutex
	reqs   []ChatRequest
	models []string
	ids    int
}

// NewServer starts a server on 127.0.0.1 that answers with h, and closes it
// when the test ends. A nil h answers every request with an empty "stop".
func NewServer(t testing.TB, h Handler) *Server {
	t.Helper()
	s := Start(h)
	t.Cleanup(s.Close)
	return s
}

// Start starts a server on 127.0.0.1 that answers with h, outside a test
// (an Example, a demo): the caller closes it. A nil h answers every request
// with an empty "stop".
func Start(h Handler) *Server {
	if h == nil {
		h = func(ChatRequest) Reply { return Reply{} }
	}
	s := &Server{h: h, done: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", s.chat)
	mux.HandleFunc("GET /v1/models", s.listModels)
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL + "/v1"
	return s
}

// Close stops the server, ending any Delay at once, and waits for the
// requests in flight.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.done)
		s.srv.Close()
	})
}

// Requests returns the chat requests received so far, in order. Requests
// the server could not decode are not in it (they got a 400).
func (s *Server) Requests() []ChatRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ChatRequest(nil), s.reqs...)
}

// SetModels sets what GET /v1/models lists (nothing by default).
func (s *Server) SetModels(ids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.models = append([]string(nil), ids...)
}

func (s *Server) listModels(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	ids := append([]string(nil), s.models...)
	s.mu.Unlock()
	type model struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		OwnedBy string `json:"owned_by"`
	}
	list := struct {
		Object string  `json:"object"`
		Data   []model `json:"data"`
	}{Object: "list", Data: []model{}}
	for _, id := range ids {
		list.Data = append(list.Data, model{ID: id, Object: "model", Created: 1700000000, OwnedBy: "openaitest"})
	}
	writeJSON(w, http.StatusOK, list)
}

func (s *Server) chat(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "", "cannot read the body: "+err.Error())
		return
	}
	req, err := DecodeRequest(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "", err.Error())
		return
	}
	req.Authorization = r.Header.Get("Authorization")
	s.mu.Lock()
	s.reqs = append(s.reqs, req)
	s.mu.Unlock()

	rep := s.h(req)
	if rep.Delay > 0 {
		t := time.NewTimer(rep.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		case <-s.done:
			t.Stop()
			panic(http.ErrAbortHandler) // drop the connection, as a dying server does
		}
	}
	if rep.RetryAfter != "" {
		w.Header().Set("Retry-After", rep.RetryAfter)
	}
	status := rep.Status
	if status == 0 {
		status = http.StatusOK
	}
	switch {
	case rep.RawBody != "":
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, rep.RawBody)
	case status >= 400:
		typ := rep.ErrorType
		if typ == "" {
			typ = "invalid_request_error"
			if status >= 500 {
				typ = "server_error"
			}
		}
		msg := rep.ErrorMessage
		if msg == "" {
			msg = http.StatusText(status)
		}
		writeError(w, status, typ, rep.ErrorCode, msg)
	default:
		writeJSON(w, status, s.completion(req, rep))
	}
}

// Wire types, as OpenAI encodes them.
type (
	wireFunction struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	}
	wireToolCall struct {
		ID       string       `json:"id"`
		Type     string       `json:"type"`
		Function wireFunction `json:"function"`
	}
	wireMessage struct {
		Role      string         `json:"role"`
		Content   *string        `json:"content"`
		Refusal   *string        `json:"refusal"`
		ToolCalls []wireToolCall `json:"tool_calls,omitempty"`
	}
	wireChoice struct {
		Index        int         `json:"index"`
		Message      wireMessage `json:"message"`
		Logprobs     any         `json:"logprobs"`
		FinishReason string      `json:"finish_reason"`
	}
	wireUsage struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
		TotalTokens      int `json:"total_tokens"`
	}
	wireCompletion struct {
		ID                string       `json:"id"`
		Object            string       `json:"object"`
		Created           int64        `json:"created"`
		Model             string       `json:"model"`
		Choices           []wireChoice `json:"choices"`
		Usage             wireUsage    `json:"usage"`
		SystemFingerprint string       `json:"system_fingerprint"`
	}
)

func (s *Server) completion(req ChatRequest, rep Reply) wireCompletion {
	s.mu.Lock()
	s.ids++
	id := s.ids
	s.mu.Unlock()
	choices := rep.Choices
	if choices == nil {
		choices = []Choice{{Text: rep.Text, ToolCalls: rep.ToolCalls, FinishReason: rep.FinishReason}}
	}
	model := rep.Model
	if model == "" {
		model = req.Model
	}
	out := wireCompletion{
		ID:                fmt.Sprintf("chatcmpl-openaitest%d", id),
		Object:            "chat.completion",
		Created:           time.Now().Unix(),
		Model:             model,
		SystemFingerprint: "fp_openaitest",
		Usage: wireUsage{
			PromptTokens:     rep.PromptTokens,
			CompletionTokens: rep.CompletionTokens,
			TotalTokens:      rep.PromptTokens + rep.CompletionTokens,
		},
	}
	calls := 0
	for i, c := range choices {
		msg := wireMessage{Role: "assistant"}
		if c.Text != "" || len(c.ToolCalls) == 0 {
			text := c.Text
			msg.Content = &text
		}
		for _, tc := range c.ToolCalls {
			calls++
			if tc.ID == "" {
				tc.ID = "call_" + strconv.Itoa(calls)
			}
			msg.ToolCalls = append(msg.ToolCalls, wireToolCall{ID: tc.ID, Type: "function", Function: wireFunction{Name: tc.Name, Arguments: tc.Arguments}})
		}
		fr := c.FinishReason
		if fr == "" {
			fr = "stop"
			if len(c.ToolCalls) > 0 {
				fr = "tool_calls"
			}
		}
		out.Choices = append(out.Choices, wireChoice{Index: i, Message: msg, FinishReason: fr})
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

func writeError(w http.ResponseWriter, status int, typ, code, msg string) {
	e := struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	}{Message: msg, Type: typ}
	if code != "" {
		e.Code = &code
	}
	writeJSON(w, status, map[string]any{"error": e})
}

// DecodeRequest decodes a chat-completion request body as the server does,
// strictly: unknown content part types, image URLs that are not base64
// data: URLs and malformed JSON are errors.
func DecodeRequest(body []byte) (ChatRequest, error) {
	var raw struct {
		Model    string `json:"model"`
		Messages []struct {
			Role       string          `json:"role"`
			Content    json.RawMessage `json:"content"`
			ToolCalls  []wireToolCall  `json:"tool_calls"`
			ToolCallID string          `json:"tool_call_id"`
		} `json:"messages"`
		Tools []struct {
			Type     string `json:"type"`
			Function struct {
				Name        string         `json:"name"`
				Description string         `json:"description"`
				Parameters  map[string]any `json:"parameters"`
			} `json:"function"`
		} `json:"tools"`
		ToolChoice          json.RawMessage `json:"tool_choice"`
		N                   int             `json:"n"`
		Temperature         *float64        `json:"temperature"`
		Seed                *int64          `json:"seed"`
		MaxTokens           int             `json:"max_tokens"`
		MaxCompletionTokens int             `json:"max_completion_tokens"`
		Stream              bool            `json:"stream"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return ChatRequest{}, fmt.Errorf("the body is not a chat request: %v", err)
	}
	if raw.Model == "" {
		return ChatRequest{}, errors.New("you must provide a model parameter")
	}
	if len(raw.Messages) == 0 {
		return ChatRequest{}, errors.New("'messages' must contain at least one message")
	}
	if raw.Stream {
		return ChatRequest{}, errors.New("openaitest does not stream")
	}
	req := ChatRequest{
		Model: raw.Model, N: raw.N, Temperature: raw.Temperature, Seed: raw.Seed,
		MaxTokens: raw.MaxTokens, MaxCompletionTokens: raw.MaxCompletionTokens,
		Body: append([]byte(nil), body...),
	}
	for i, rm := range raw.Messages {
		m := policy.Message{Role: policy.Role(rm.Role), ToolCallID: rm.ToolCallID}
		switch m.Role {
		case policy.RoleSystem, policy.RoleUser, policy.RoleAssistant, policy.RoleTool, "developer":
		default:
			return ChatRequest{}, fmt.Errorf("messages[%d].role %q is not one of system, user, assistant, tool, developer", i, rm.Role)
		}
		parts, err := decodeContent(rm.Content)
		if err != nil {
			return ChatRequest{}, fmt.Errorf("messages[%d].content: %v", i, err)
		}
		m.Parts = parts
		for _, tc := range rm.ToolCalls {
			m.ToolCalls = append(m.ToolCalls, policy.ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: tc.Function.Arguments})
		}
		if m.Role == policy.RoleTool && m.ToolCallID == "" {
			return ChatRequest{}, fmt.Errorf("messages[%d]: a tool message needs tool_call_id", i)
		}
		if len(m.Parts) == 0 && len(m.ToolCalls) == 0 {
			return ChatRequest{}, fmt.Errorf("messages[%d].content is missing", i)
		}
		req.Messages = append(req.Messages, m)
	}
	for i, t := range raw.Tools {
		if t.Type != "function" || t.Function.Name == "" {
			return ChatRequest{}, fmt.Errorf("tools[%d]: want a function with a name", i)
		}
		req.Tools = append(req.Tools, policy.Tool{Name: t.Function.Name, Description: t.Function.Description, Parameters: t.Function.Parameters})
	}
	if len(raw.ToolChoice) > 0 && !bytes.Equal(raw.ToolChoice, []byte("null")) {
		var s string
		var obj struct {
			Type     string `json:"type"`
			Function struct {
				Name string `json:"name"`
			} `json:"function"`
		}
		switch {
		case json.Unmarshal(raw.ToolChoice, &s) == nil:
			if s != "auto" && s != "none" && s != "required" {
				return ChatRequest{}, fmt.Errorf("tool_choice %q is not auto, none or required", s)
			}
			req.ToolChoice = s
		case json.Unmarshal(raw.ToolChoice, &obj) == nil && obj.Type == "function" && obj.Function.Name != "":
			req.ToolChoice = obj.Function.Name
		default:
			return ChatRequest{}, fmt.Errorf("tool_choice %s is not a string or a function", raw.ToolChoice)
		}
		if len(req.Tools) == 0 {
			return ChatRequest{}, errors.New("tool_choice is only allowed when tools are specified")
		}
	}
	return req, nil
}

// decodeContent reads a message's content: absent or null, a string, or an
// array of text and image_url parts.
func decodeContent(c json.RawMessage) ([]policy.Part, error) {
	if len(c) == 0 || bytes.Equal(c, []byte("null")) {
		return nil, nil
	}
	var s string
	if json.Unmarshal(c, &s) == nil {
		if s == "" {
			return nil, nil
		}
		return []policy.Part{policy.TextPart(s)}, nil
	}
	var parts []struct {
		Type     string  `json:"type"`
		Text     *string `json:"text"`
		ImageURL *struct {
			URL string `json:"url"`
		} `json:"image_url"`
	}
	if err := json.Unmarshal(c, &parts); err != nil {
		return nil, fmt.Errorf("want a string or an array of parts: %v", err)
	}
	var out []policy.Part
	for i, p := range parts {
		switch p.Type {
		case "text":
			if p.Text == nil {
				return nil, fmt.Errorf("part %d: a text part needs text", i)
			}
			out = append(out, policy.TextPart(*p.Text))
		case "image_url":
			if p.ImageURL == nil {
				return nil, fmt.Errorf("part %d: an image_url part needs image_url", i)
			}
			mime, data, err := ParseDataURL(p.ImageURL.URL)
			if err != nil {
				return nil, fmt.Errorf("part %d: %v", i, err)
			}
			out = append(out, policy.ImagePart(mime, data))
		default:
			return nil, fmt.Errorf("part %d: type %q is not text or image_url", i, p.Type)
		}
	}
	return out, nil
}

// ParseDataURL splits "data:image/png;base64,…" into its MIME type and
// bytes.
func ParseDataURL(u string) (mime string, data []byte, err error) {
	rest, ok := strings.CutPrefix(u, "data:")
	if !ok {
		return "", nil, fmt.Errorf("image url %q is not a data: URL", clip(u, 40))
	}
	meta, b64, ok := strings.Cut(rest, ",")
	if !ok {
		return "", nil, errors.New("the data: URL has no comma")
	}
	mime, ok = strings.CutSuffix(meta, ";base64")
	if !ok || mime == "" || !strings.Contains(mime, "/") {
		return "", nil, fmt.Errorf("the data: URL's header %q is not <type>/<subtype>;base64", clip(meta, 40))
	}
	data, err = base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return "", nil, fmt.Errorf("the data: URL is not valid base64: %v", err)
	}
	if len(data) == 0 {
		return "", nil, errors.New("the data: URL holds no bytes")
	}
	return mime, data, nil
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
