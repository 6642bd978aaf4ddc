// Package langchain is pilot's model adapter for the providers that do
// not speak the OpenAI API, built on github.com/tmc/langchaingo v0.1.14:
//
//   - "ollama": Ollama's native API (POST /api/chat), default
//     http://127.0.0.1:11434, no key. Text and images; no tools, because
//     langchaingo's Ollama client sends none (use openai:<model> with
//     --base-url http://127.0.0.1:11434/v1 for tool calling).
//   - "anthropic": Anthropic's Messages API (POST /v1/messages), key from
//     ANTHROPIC_API_KEY. Text, images, tools.
//
// Gemini is reached through its OpenAI-compatible endpoint by
// policy/openai, not here.
//
// A Model makes its HTTP requests through a recording transport: each
// call keeps its status, Retry-After and body, so errors are
// *policy.APIError values with the real HTTP status even where
// langchaingo only returns formatted text, and bodies langchaingo
// accepts silently (an Ollama stream cut before "done") are still caught.
// The adapter never retries: wrap it with policy.WithRetry.
//
// Errors: 401/403 wrap policy.ErrAuth and name the key's variable, an
// image refusal policy.ErrNoImages, a tool refusal policy.ErrNoTools, a
// garbled or truncated 2xx body policy.ErrBadResponse, a server that is
// not listening names its address (for Ollama: "is `ollama serve` running
// at …?"). The key never appears in an error or a log record.
package langchain

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/tmc/langchaingo/llms"

	"github.com/pilotkit/pilot/policy"
)

// Options configure a Model.
type Options struct {
	// Provider is "ollama" or "anthropic". Required.
	Provider string
	// Model is the model's name at the provider: "llava:13b",
	// "claude-sonnet-4-0". Required.
	Model string
	// BaseURL overrides the provider's address. Ollama: the server's root,
	// default $OLLAMA_HOST or http://127.0.0.1:11434. Anthropic: default
	// https://api.anthropic.com (a trailing /v1 is optional).
	BaseURL string
	// APIKey is the key; "" reads the provider's environment variable
	// (ANTHROPIC_API_KEY). Ollama needs none; given one, it is sent as a
	// bearer token.
	APIKey string
	// Images and Tools override what the model is taken to accept. By
	// default Ollama asks the server (/api/show capabilities, else the
	// model's name), Anthropic models take both. Tools cannot
	// be true for Ollama.
	Images, Tools *bool
	// HTTPClient sends the requests; nil uses a new http.Client. Its
	// Transport is wrapped, never changed. Deadlines come from the
	// context.
	HTTPClient *http.Client
	// Logger gets a Debug record per call; nil discards them.
	Logger *slog.Logger
}

// String describes o without its key.
func (o Options) String() string {
	key := "unset"
	if o.APIKey != "" {
		key = "set"
	}
	return fmt.Sprintf("langchain.Options{Provider: %q, Model: %q, BaseURL: %q, APIKey: %s}", o.Provider, o.Model, o.BaseURL, key)
}

// GoString describes o without its key.
func (o Options) GoString() string { return o.String() }

// LogValue describes o without its key.
func (o Options) LogValue() slog.Value { return slog.StringValue(o.String()) }

// Model is a model behind a langchaingo provider. It is safe for
// concurrent use. Close releases what the provider's client holds.
type Model struct {
	info    policy.ModelInfo
	d       dialect
	llm     llms.Model
	baseURL string // effective, for messages
	key     string // for redaction only
	keyFrom string // "ANTHROPIC_API_KEY", "Options.APIKey"
	closeFn func() error
	log     *slog.Logger
}

var _ policy.Model = (*Model)(nil)

// dialect is what differs between providers.
type dialect interface {
	// messages converts a request's messages.
	messages(req policy.Request) ([]llms.MessageContent, error)
	// options converts a request's sampling options and tools.
	options(req policy.Request) []llms.CallOption
	// calls is how many GenerateContent calls req needs: one per answer
	// where the provider cannot sample several.
	calls(req policy.Request) int
	// response converts one call's answer; ex holds the HTTP exchange.
	response(resp *llms.ContentResponse, ex *exchange) (*policy.Response, error)
	// errorBody extracts the provider's error code and message from an
	// error body.
	errorBody(body []byte) (code, msg string)
	// classify maps an error (status, code, message) to a sentinel, nil
	// when none applies.
	classify(status int, code, msg string) error
}

// providerNames are the providers New knows.
func providerNames() []string { return []string{"anthropic", "ollama"} }

// New returns a model for o. A missing key is an error naming the
// variable it was looked for in; an unknown provider lists the known
// ones. For Ollama, New asks the server about the model (/api/show, under
// ctx, at most 10 s): a server that is not running, or a model that is not
// pulled, is an error now rather than at the first step.
func New(ctx context.Context, o Options) (*Model, error) {
	prov := strings.ToLower(strings.TrimSpace(o.Provider))
	if !slices.Contains(providerNames(), prov) {
		return nil, fmt.Errorf("langchain: unknown provider %q: pilot knows %s (OpenAI and OpenAI-compatible servers go through policy/openai)",
			o.Provider, strings.Join(providerNames(), ", "))
	}
	if strings.TrimSpace(o.Model) == "" || strings.ContainsAny(o.Model, " \t\r\n") {
		return nil, fmt.Errorf("langchain: bad model name %q: pass one, e.g. --model ollama:llava or --model anthropic:claude-sonnet-4-0", o.Model)
	}
	m := &Model{log: o.Logger, closeFn: func() error { return nil }}
	if m.log == nil {
		m.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	m.info = policy.ModelInfo{Provider: prov, Name: o.Model, BaseURL: o.BaseURL}
	hc := o.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	var err error
	switch prov {
	case "ollama":
		err = newOllama(ctx, m, o, hc)
	case "anthropic":
		err = newAnthropic(m, o, hc)
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

// apiKey returns o.APIKey or the first set variable of envs, and where it
// came from; "" and the first variable when none is set.
func apiKey(o Options, envs ...string) (key, from string) {
	if o.APIKey != "" {
		return o.APIKey, "Options.APIKey"
	}
	for _, e := range envs {
		if v := strings.TrimSpace(os.Getenv(e)); v != "" {
			return v, e
		}
	}
	return "", envs[0]
}

// recordingClient returns a copy of hc whose transport records each
// exchange; modify (optional) changes each outgoing request, e.g. to add
// a key header.
func recordingClient(hc *http.Client, modify func(*http.Request)) *http.Client {
	c := *hc
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	c.Transport = &recordingTransport{base: base, modify: modify}
	return &c
}

// Info says who the model is and what it takes.
func (m *Model) Info() policy.ModelInfo { return m.info }

// String is "provider:model at base URL", never the key.
func (m *Model) String() string { return m.info.String() + " at " + m.baseURL }

// GoString is String.
func (m *Model) GoString() string { return m.String() }

// Close releases the provider client's resources. The Model must not be
// used after.
func (m *Model) Close() error { return m.closeFn() }

// Generate sends req and returns the answers: one call per answer, one
// after the other (with Seed, the i-th call uses Seed+i).
func (m *Model) Generate(ctx context.Context, req policy.Request) (*policy.Response, error) {
	if err := m.check(req); err != nil {
		return nil, err
	}
	msgs, err := m.d.messages(req)
	if err != nil {
		return nil, fmt.Errorf("langchain: %s: %w", m.info, err)
	}
	opts := m.d.options(req)
	t0 := time.Now()
	out := &policy.Response{}
	for i := range m.d.calls(req) {
		callOpts := opts
		if i > 0 && req.Seed != nil {
			// One answer per call: the same seed would give the same
			// answer N times.
			callOpts = append(slices.Clip(opts), llms.WithSeed(int(*req.Seed)+i))
		}
		ex := &exchange{}
		resp, err := m.generateContent(withExchange(ctx, ex), msgs, callOpts)
		if err != nil {
			return nil, m.apiError(ctx, ex, err)
		}
		r, err := m.d.response(resp, ex)
		if err != nil {
			return nil, m.apiError(ctx, ex, err)
		}
		out.Choices = append(out.Choices, r.Choices...)
		out.Usage = out.Usage.Add(r.Usage)
		if out.Model == "" {
			out.Model = r.Model
		}
	}
	if out.Model == "" {
		out.Model = m.info.Name
	}
	out.Usage.Latency = time.Since(t0)
	m.log.Debug("model call", "model", m.info.String(), "latency", out.Usage.Latency,
		"prompt_tokens", out.Usage.PromptTokens, "completion_tokens", out.Usage.CompletionTokens,
		"choices", len(out.Choices))
	return out, nil
}

// generateContent calls langchaingo. A panic there is a library failing
// on an answer it did not expect (Anthropic's client dereferences a nil
// pointer on a body of JSON null): it becomes an error, and the exchange
// tells what the server sent.
func (m *Model) generateContent(ctx context.Context, msgs []llms.MessageContent, opts []llms.CallOption) (resp *llms.ContentResponse, err error) {
	defer func() {
		if r := recover(); r != nil {
			m.log.Warn("the client library panicked on an answer", "model", m.info.String(), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			resp, err = nil, fmt.Errorf("the client library failed on the answer: %v", r)
		}
	}()
	return m.llm.GenerateContent(ctx, msgs, opts...)
}

// check refuses, before anything is sent, what the model does not take.
func (m *Model) check(req policy.Request) error {
	if len(req.Messages) == 0 {
		return fmt.Errorf("langchain: %s: the request has no messages", m.info)
	}
	if req.N < 0 || req.MaxTokens < 0 {
		return fmt.Errorf("langchain: %s: negative N (%d) or MaxTokens (%d)", m.info, req.N, req.MaxTokens)
	}
	if !m.info.Images && hasImages(req) {
		return &policy.APIError{Provider: m.info.Provider, Err: policy.ErrNoImages,
			Message: fmt.Sprintf("%s is not taken to accept images: turn images off (--no-images) or pick a vision model", m.info)}
	}
	if !m.info.Tools && (len(req.Tools) > 0 || hasToolCalls(req)) {
		return &policy.APIError{Provider: m.info.Provider, Err: policy.ErrNoTools,
			Message: fmt.Sprintf("%s is not taken to accept tools: ask for the action as text", m.info)}
	}
	switch req.ToolChoice {
	case "", "auto", "required", "none":
	default:
		return fmt.Errorf("langchain: %s: unknown ToolChoice %q: want auto, required or none", m.info, req.ToolChoice)
	}
	return nil
}

func hasImages(req policy.Request) bool {
	for _, msg := range req.Messages {
		for _, p := range msg.Parts {
			if p.IsImage() {
				return true
			}
		}
	}
	return false
}

func hasToolCalls(req policy.Request) bool {
	for _, msg := range req.Messages {
		if len(msg.ToolCalls) > 0 {
			return true
		}
	}
	return false
}

// tools converts tool definitions. A tool without parameters, or an
// object schema without properties, gets an empty property list:
// Anthropic wants an object schema for every tool.
func tools(ts []policy.Tool) []llms.Tool {
	var out []llms.Tool
	for _, t := range ts {
		params := t.Parameters
		if params == nil {
			params = map[string]any{"type": "object", "properties": map[string]any{}}
		} else if _, ok := params["properties"]; !ok && params["type"] == "object" {
			params = maps.Clone(params)
			params["properties"] = map[string]any{}
		}
		out = append(out, llms.Tool{Type: "function", Function: &llms.FunctionDefinition{
			Name: t.Name, Description: t.Description, Parameters: params,
		}})
	}
	return out
}

// toolNames maps each tool call ID in req to the tool's name.
func toolNames(req policy.Request) map[string]string {
	names := map[string]string{}
	for _, msg := range req.Messages {
		for _, tc := range msg.ToolCalls {
			if tc.ID != "" {
				names[tc.ID] = tc.Name
			}
		}
	}
	return names
}

// textOf joins a message's text parts.
func textOf(msg policy.Message) string { return msg.Text() }

// argsOrEmpty returns a call's arguments, "{}" for none.
func argsOrEmpty(s string) string {
	if strings.TrimSpace(s) == "" {
		return "{}"
	}
	return s
}

// temperature returns the request's temperature or the provider's
// documented default: langchaingo always sends one, so nil cannot be left
// out.
func temperature(req policy.Request, def float64) float64 {
	if req.Temperature != nil {
		return *req.Temperature
	}
	return def
}

// toInt reads a token count from GenerationInfo, whatever integer type
// the provider put there.
func toInt(v any) int {
	switch n := v.(type) {
	case int:
		return n
	case int32:
		return int(n)
	case int64:
		return int(n)
	case float64:
		return int(n)
	}
	return 0
}
