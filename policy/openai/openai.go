// Package openai is pilot's model adapter for the OpenAI chat-completions
// API and every server that speaks it: OpenAI itself, Ollama
// (http://127.0.0.1:11434/v1), llama.cpp's llama-server
// (http://127.0.0.1:8080/v1), vLLM (http://127.0.0.1:8000/v1) and LM
// Studio (http://127.0.0.1:1234/v1). It is built on
// github.com/sashabaranov/go-openai and implements policy.Model.
//
// The adapter makes one HTTP request per Generate and never retries:
// wrap it with policy.WithRetry for backoff and per-call timeouts, and
// with policy.Priced for costs.
//
// Errors are *policy.APIError values (or, for a request that could not be
// built, plain errors, which policy.WithRetry never retries): 401/403 wrap
// policy.ErrAuth and name the key's environment variable, an image
// refusal wraps policy.ErrNoImages, a tool refusal policy.ErrNoTools
// (whatever the status: llama.cpp and Ollama refuse images with a 500), an
// undecodable or truncated 2xx body or one without choices
// policy.ErrBadResponse. RetryAfter comes from the Retry-After header
// (seconds or an HTTP date) or OpenAI's retry-after-ms. An unreachable
// server gives a temporary error naming the URL and how to start the
// server. The API key never appears in an error or a log record: the
// servers' echoes of it, whole or masked, are redacted.
//
// Wire choices:
//   - Text-only messages go as a plain string content (every server takes
//     it); a user message with images goes as parts, images as base64
//     data: URLs. Images are refused in other roles, as the API does.
//   - max tokens goes as max_completion_tokens to api.openai.com and to
//     OpenAI reasoning models (o1, o3, o4, gpt-5…), which refuse
//     max_tokens, and as max_tokens to every other server (Ollama,
//     llama.cpp and LM Studio read only that one).
//   - go-openai drops a zero temperature (omitempty), so temperature 0 is
//     sent as 1e-45, greedy everywhere. Reasoning models get no
//     temperature: they take only the default.
//   - An earlier assistant answer that was empty, and a tool result that
//     was empty, are sent as "(empty answer)" and "(no output)": the API
//     rejects empty contents.
package openai

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/pilotkit/pilot/policy"
)

// Defaults.
const (
	// DefaultBaseURL is OpenAI's API.
	DefaultBaseURL = "https://api.openai.com/v1"
	// DefaultKeyEnv is where the key comes from when Options.APIKey is "".
	DefaultKeyEnv = "OPENAI_API_KEY"
	// DefaultProvider names the provider in Info and errors.
	DefaultProvider = "openai"
	// placeholderKey is sent to servers that take any key (local ones):
	// some of them insist on an Authorization header all the same.
	placeholderKey = "pilot-no-key"
)

// Options configure a Model.
type Options struct {
	// Model is the model's name at the server: "gpt-4o", "qwen2.5vl:7b".
	// Required.
	Model string
	// BaseURL is the API's address, "" for DefaultBaseURL. Any
	// OpenAI-compatible server works: Ollama http://127.0.0.1:11434/v1,
	// llama.cpp http://127.0.0.1:8080/v1, vLLM http://127.0.0.1:8000/v1,
	// LM Studio http://127.0.0.1:1234/v1.
	BaseURL string
	// APIKey is the key; "" reads the environment variable APIKeyEnv. A
	// missing key is an error only for OpenAI's own API; other servers get
	// a placeholder.
	APIKey string
	// APIKeyEnv names the variable the key comes from; "" means
	// OPENAI_API_KEY. Errors about the key name it.
	APIKeyEnv string
	// Images overrides whether the model takes image parts (default true).
	// With false, a request with images fails with policy.ErrNoImages
	// before anything is sent.
	Images *bool
	// Tools overrides whether the model takes tool definitions (default
	// true). With false, a request with tools fails with policy.ErrNoTools
	// before anything is sent.
	Tools *bool
	// HTTPClient sends the requests; nil uses a new http.Client. Per-call
	// deadlines come from the context, not from the client.
	HTTPClient *http.Client
	// Provider names the provider in Info and errors; "" means "openai".
	Provider string
	// Logger gets a Debug record per call; nil discards them.
	Logger *slog.Logger
}

// String describes o without its key.
func (o Options) String() string {
	key := "unset"
	if o.APIKey != "" {
		key = "set"
	}
	return fmt.Sprintf("openai.Options{Model: %q, BaseURL: %q, APIKey: %s, Provider: %q}", o.Model, o.BaseURL, key, o.Provider)
}

// GoString describes o without its key.
func (o Options) GoString() string { return o.String() }

// LogValue describes o without its key.
func (o Options) LogValue() slog.Value { return slog.StringValue(o.String()) }

// Model is a model behind an OpenAI-compatible API. It is safe for
// concurrent use.
type Model struct {
	client   *goopenai.Client
	info     policy.ModelInfo
	baseURL  string // effective, never ""
	official bool   // OpenAI's own API
	key      string // for redaction only
	keyEnv   string
	keyFrom  string // "OPENAI_API_KEY", "Options.APIKey"
	log      *slog.Logger
}

var _ policy.Model = (*Model)(nil)

// New returns a model for o. It checks the options but does not call the
// server: Check does.
func New(o Options) (*Model, error) {
	if strings.TrimSpace(o.Model) == "" {
		return nil, errors.New("openai: no model name: pass one, e.g. --model openai:gpt-4o-mini or --model openai:qwen2.5vl:7b --base-url http://127.0.0.1:11434/v1")
	}
	m := &Model{keyEnv: o.APIKeyEnv, log: o.Logger}
	if m.keyEnv == "" {
		m.keyEnv = DefaultKeyEnv
	}
	if m.log == nil {
		m.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	m.baseURL = strings.TrimRight(o.BaseURL, "/")
	if m.baseURL == "" {
		m.baseURL = DefaultBaseURL
	}
	u, err := url.Parse(m.baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("openai: base URL %q is not an http(s) URL: want e.g. http://127.0.0.1:11434/v1", o.BaseURL)
	}
	m.official = strings.EqualFold(u.Hostname(), "api.openai.com")

	provider := o.Provider
	if provider == "" {
		provider = DefaultProvider
	}
	m.info = policy.ModelInfo{Provider: provider, Name: o.Model, BaseURL: o.BaseURL, Images: true, Tools: true}
	if o.Images != nil {
		m.info.Images = *o.Images
	}
	if o.Tools != nil {
		m.info.Tools = *o.Tools
	}

	m.key, m.keyFrom = o.APIKey, "Options.APIKey"
	if m.key == "" {
		m.key, m.keyFrom = os.Getenv(m.keyEnv), m.keyEnv
	}
	if m.key == "" {
		if m.official {
			return nil, fmt.Errorf("openai: no API key: set %s in the environment (pilot never takes keys from flags)", m.keyEnv)
		}
		m.key = placeholderKey
	}

	hc := o.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	cfg := goopenai.DefaultConfig(m.key)
	cfg.BaseURL = m.baseURL
	cfg.HTTPClient = &doer{c: hc}
	m.client = goopenai.NewClientWithConfig(cfg)
	return m, nil
}

// Info says who the model is and what it takes.
func (m *Model) Info() policy.ModelInfo { return m.info }

// String is "provider:model at base URL", never the key.
func (m *Model) String() string { return m.info.String() + " at " + m.baseURL }

// GoString is String.
func (m *Model) GoString() string { return m.String() }

// Generate sends req as one chat completion.
func (m *Model) Generate(ctx context.Context, req policy.Request) (*policy.Response, error) {
	creq, err := m.chatRequest(req)
	if err != nil {
		return nil, err
	}
	rec := &record{}
	ctx = context.WithValue(ctx, recordKey{}, rec)
	t0 := time.Now()
	cresp, err := m.client.CreateChatCompletion(ctx, creq)
	latency := time.Since(t0)
	if err != nil {
		return nil, m.mapError(ctx, err, rec)
	}
	resp, err := m.response(cresp, rec)
	if err != nil {
		return nil, err
	}
	resp.Usage.Latency = latency
	m.log.Debug("model call", "model", m.info.String(), "latency", latency,
		"prompt_tokens", resp.Usage.PromptTokens, "completion_tokens", resp.Usage.CompletionTokens)
	return resp, nil
}

// Check asks the server for its models (GET /models): it fails as Generate
// would if the server is unreachable or refuses the key, so a bad setup
// shows at start-up. A model missing from a non-empty list is logged as a
// warning, not an error: some servers (llama.cpp) serve whatever they
// loaded under any name.
func (m *Model) Check(ctx context.Context) error {
	rec := &record{}
	ctx = context.WithValue(ctx, recordKey{}, rec)
	list, err := m.client.ListModels(ctx)
	if err != nil {
		return m.mapError(ctx, err, rec)
	}
	ids := make([]string, 0, len(list.Models))
	for _, e := range list.Models {
		ids = append(ids, e.ID)
	}
	if len(ids) > 0 && !slices.Contains(ids, m.info.Name) {
		m.log.Warn("the server does not list the model", "model", m.info.Name, "base_url", m.baseURL, "models", ids)
	}
	return nil
}
