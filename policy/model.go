package policy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// A Model is a (multimodal) language model behind an API: OpenAI or any
// OpenAI-compatible server (policy/openai), or another provider
// (policy/langchain). The LLM policy talks to it; planners sample from it.
//
// Generate must honour ctx and must not retry by itself: WithRetry adds
// retries, backoff and a per-call timeout around any Model.
type Model interface {
	Generate(ctx context.Context, req Request) (*Response, error)
	// Info says who the model is and what it accepts.
	Info() ModelInfo
}

// ModelInfo describes a model.
type ModelInfo struct {
	Provider string // "openai", "ollama", "anthropic", …
	Name     string // the model's name at the provider: "gpt-4o", "llava"
	BaseURL  string // the API's address, "" for the provider's default
	// Images reports whether the model takes image parts. A model that
	// refuses them at run time makes the call fail with ErrNoImages.
	Images bool
	// Tools reports whether the model takes tool (function) definitions
	// and answers with tool calls.
	Tools bool
}

// String is "provider:name".
func (i ModelInfo) String() string { return i.Provider + ":" + i.Name }

// Role is who speaks a message.
type Role string

// Roles.
const (
	RoleSystem    Role = "system"
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
	RoleTool      Role = "tool" // the result of a tool call
)

// Part is one piece of a message: text, or an image as bytes.
type Part struct {
	Text string `json:"text,omitempty"`
	// MIME and Data hold an image ("image/png", "image/jpeg"); Text is
	// empty then.
	MIME string `json:"mime,omitempty"`
	Data []byte `json:"-"`
}

// TextPart returns a text part.
func TextPart(s string) Part { return Part{Text: s} }

// ImagePart returns an image part.
func ImagePart(mime string, data []byte) Part { return Part{MIME: mime, Data: data} }

// IsImage reports whether p is an image.
func (p Part) IsImage() bool { return p.MIME != "" }

// Message is one turn of a conversation.
type Message struct {
	Role  Role   `json:"role"`
	Parts []Part `json:"parts,omitempty"`
	// ToolCalls are an assistant's calls.
	ToolCalls []ToolCall `json:"tool_calls,omitempty"`
	// ToolCallID answers that call, in a RoleTool message.
	ToolCallID string `json:"tool_call_id,omitempty"`
}

// Text returns the message's text parts joined by newlines.
func (m Message) Text() string {
	var s []string
	for _, p := range m.Parts {
		if !p.IsImage() {
			s = append(s, p.Text)
		}
	}
	return strings.Join(s, "\n")
}

// ToolCall is a model's call of a tool: its name and JSON arguments.
type ToolCall struct {
	ID        string `json:"id,omitempty"`
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// Tool is a function a model may call, with a JSON schema of its
// parameters (env.ActionSpec.JSONSchema).
type Tool struct {
	Name        string         `json:"name"`
	Description string         `json:"description"`
	Parameters  map[string]any `json:"parameters"`
}

// Request is one call of a model.
type Request struct {
	Messages []Message
	Tools    []Tool
	// ToolChoice is "auto" (the default when Tools are given), "required"
	// or "none".
	ToolChoice string
	// Sampling. Nil Temperature and Seed leave the provider's defaults.
	Temperature *float64
	Seed        *int64
	// N is how many answers to sample; 0 means 1.
	N int
	// MaxTokens bounds each answer; 0 leaves the provider's default.
	MaxTokens int
}

// Choice is one sampled answer.
type Choice struct {
	Text      string
	ToolCalls []ToolCall
	// FinishReason is "stop", "length" (cut at MaxTokens), "tool_calls",
	// "content_filter" or the provider's own word.
	FinishReason string
}

// Response is a model's answer.
type Response struct {
	Choices []Choice
	// Usage counts tokens; CostUSD is filled by Priced, Latency by the
	// adapter.
	Usage Usage
	// Model is the name the provider reports (it may be more precise than
	// the one asked for).
	Model string
	// Attempts are the calls WithRetry made for this response, the one
	// that answered last; nil without WithRetry.
	Attempts []Attempt `json:",omitempty"`
}

// An Attempt is one call to a model's API that WithRetry made.
type Attempt struct {
	// Status is the HTTP status, 0 for none (a network error, a timeout)
	// and for the call that answered.
	Status int `json:"status,omitempty"`
	// Error is why the call failed; "" for the one that answered.
	Error   string        `json:"error,omitempty"`
	Latency time.Duration `json:"latency_ns"`
	// Wait is the backoff waited after a failed call.
	Wait time.Duration `json:"wait_ns,omitempty"`
}

// Errors a Model returns, for errors.Is.
var (
	// ErrNoImages: the model does not take images. Turn images off
	// (--no-images) or pick a vision model.
	ErrNoImages = errors.New("the model does not accept images")
	// ErrAuth: the API refused the key (401/403).
	ErrAuth = errors.New("the API refused the credentials")
	// ErrRateLimited: 429, after the retries.
	ErrRateLimited = errors.New("rate limited")
	// ErrBadResponse: the API answered something that is not a valid
	// response (truncated JSON, no choices).
	ErrBadResponse = errors.New("bad response from the model API")
	// ErrCutResponse wraps ErrBadResponse for a 2xx answer whose body was
	// cut or is not JSON (a dropped connection, a proxy's HTML page): a
	// retry may get the whole answer, as after a 5xx.
	ErrCutResponse = fmt.Errorf("%w: the body was cut or garbled", ErrBadResponse)
)

// IsCutBody reports whether an adapter's error decoding a 2xx body says
// the body was cut or is not JSON at all (a dropped connection, a proxy's
// HTML page), rather than JSON of another shape, which a retry does not
// mend. Client libraries wrap the decoder's errors as text, so the text is
// read too. Adapters mark such answers with ErrCutResponse.
func IsCutBody(err error) bool {
	var se *json.SyntaxError
	msg := err.Error()
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.As(err, &se) ||
		strings.Contains(msg, "unexpected end of JSON") || strings.Contains(msg, "unexpected EOF") ||
		strings.Contains(msg, "invalid character") || strings.Contains(msg, "without its final")
}

// APIError is an error status from a model API.
type APIError struct {
	Provider string
	Status   int    // HTTP status; 0 when the request never got one
	Code     string // the provider's error code or type, when it gives one
	Message  string
	// RetryAfter is the server's Retry-After, 0 when it gave none.
	RetryAfter time.Duration
	// Err is the underlying cause (a sentinel above, or a network error).
	Err error
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString(e.Provider)
	b.WriteString(" API")
	if e.Status != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.Status)
	}
	if e.Code != "" {
		fmt.Fprintf(&b, " (%s)", e.Code)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Err != nil && (e.Message == "" || !strings.Contains(e.Message, e.Err.Error())) {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *APIError) Unwrap() error { return e.Err }

// Temporary reports whether a retry may succeed: 408, 409, 425, 429, 5xx,
// or no status at all (a network error or timeout).
func (e *APIError) Temporary() bool {
	switch {
	case e.Status == 0:
		return !errors.Is(e.Err, ErrNoImages) && !errors.Is(e.Err, ErrAuth) && !errors.Is(e.Err, context.Canceled)
	case e.Status == 408, e.Status == 409, e.Status == 425, e.Status == 429:
		return true
	case e.Status >= 500:
		return true
	case e.Status >= 200 && e.Status < 300 && errors.Is(e.Err, ErrCutResponse):
		return true // a 2xx whose body was cut or garbled: as a 5xx
	}
	return false
}
