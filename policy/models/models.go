// Package models opens a policy.Model from a one-word spec such as
// "openai:gpt-4o", "ollama:llava" or "anthropic:claude-sonnet-4-0": the
// provider picks the adapter (policy/openai for OpenAI and every
// OpenAI-compatible server, policy/langchain for the others), and the
// model gets retries, a per-call timeout and prices.
package models

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/pilotkit/pilot/policy"
	"github.com/pilotkit/pilot/policy/langchain"
	"github.com/pilotkit/pilot/policy/openai"
)

// A provider opens models of one kind.
type provider struct {
	doc string
	// baseURL is the default address of an OpenAI-compatible local
	// server; "" for the provider's own default.
	baseURL string
	// native is the langchaingo provider name; "" for OpenAI-compatible.
	native string
	// keyEnvs are the environment variables that may hold the key of an
	// OpenAI-compatible provider other than OpenAI, first found wins.
	keyEnvs []string
}

// geminiURL is Gemini's OpenAI-compatible endpoint.
const geminiURL = "https://generativelanguage.googleapis.com/v1beta/openai/"

func providers() map[string]provider {
	return map[string]provider{
		"openai":    {doc: "OpenAI, or any OpenAI-compatible server with --base-url (key: OPENAI_API_KEY)"},
		"ollama":    {doc: "Ollama's native API at http://127.0.0.1:11434 (no key)", native: "ollama"},
		"anthropic": {doc: "Anthropic's Messages API (key: ANTHROPIC_API_KEY)", native: "anthropic"},
		"googleai":  {doc: "Google's Gemini API, through its OpenAI-compatible endpoint (key: GOOGLE_API_KEY or GEMINI_API_KEY)", baseURL: geminiURL, keyEnvs: []string{"GOOGLE_API_KEY", "GEMINI_API_KEY"}},
		"llamacpp":  {doc: "llama.cpp's server, OpenAI-compatible, at http://127.0.0.1:8080/v1", baseURL: "http://127.0.0.1:8080/v1"},
		"vllm":      {doc: "vLLM's OpenAI-compatible server at http://127.0.0.1:8000/v1", baseURL: "http://127.0.0.1:8000/v1"},
		"lmstudio":  {doc: "LM Studio's OpenAI-compatible server at http://127.0.0.1:1234/v1", baseURL: "http://127.0.0.1:1234/v1"},
	}
}

// Providers returns the provider names with what each is, sorted.
func Providers() []string {
	var out []string
	for name, p := range providers() {
		out = append(out, name+": "+p.doc)
	}
	sort.Strings(out)
	return out
}

func providerNames() string {
	var names []string
	for name := range providers() {
		names = append(names, name)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// ErrBadSpec is wrapped by the errors of Parse.
var ErrBadSpec = errors.New("bad model spec")

// Parse splits "provider:model". The model name may itself hold colons
// (Ollama tags: "ollama:llava:13b").
func Parse(spec string) (provider, name string, err error) {
	p, n, ok := strings.Cut(strings.TrimSpace(spec), ":")
	switch {
	case len(spec) > 256:
		return "", "", fmt.Errorf("%w: %d bytes is too long", ErrBadSpec, len(spec))
	case !ok || p == "" || n == "":
		return "", "", fmt.Errorf("%w %q: want provider:model, such as openai:gpt-4o or ollama:llava (providers: %s)", ErrBadSpec, spec, providerNames())
	case strings.ContainsAny(n, " \t\r\n"):
		return "", "", fmt.Errorf("%w %q: the model name has a space", ErrBadSpec, spec)
	}
	p = strings.ToLower(p)
	if _, known := providers()[p]; !known {
		return "", "", fmt.Errorf("%w %q: unknown provider %q; pilot knows %s", ErrBadSpec, spec, p, providerNames())
	}
	return p, n, nil
}

// Options configure Open.
type Options struct {
	// BaseURL overrides the provider's address: any OpenAI-compatible
	// server for "openai" (http://127.0.0.1:11434/v1 for Ollama's).
	BaseURL string
	// Images and Tools override what the model is taken to accept.
	Images, Tools *bool
	// Prices price the tokens; nil means policy.DefaultPrices().
	Prices policy.Prices
	// Retry configures retries and the per-call timeout.
	Retry policy.RetryOptions
	// Check asks the server, before Open returns, whether it answers and
	// takes the key: a server that is not running or a refused key is an
	// error at start-up rather than at the first step.
	Check      bool
	HTTPClient *http.Client
	Logger     *slog.Logger
}

// Open returns the model of spec with retries and prices. Keys come from
// the provider's usual environment variable, never from a flag.
func Open(ctx context.Context, spec string, o Options) (policy.Model, error) {
	prov, name, err := Parse(spec)
	if err != nil {
		return nil, err
	}
	p := providers()[prov]
	var m policy.Model
	if p.native != "" {
		m, err = langchain.New(ctx, langchain.Options{Provider: p.native, Model: name, BaseURL: o.BaseURL, Images: o.Images, Tools: o.Tools, HTTPClient: o.HTTPClient})
	} else {
		base := o.BaseURL
		if base == "" {
			base = p.baseURL
		}
		oo := openai.Options{Provider: prov, Model: name, BaseURL: base, Images: o.Images, Tools: o.Tools, HTTPClient: o.HTTPClient, Logger: o.Logger}
		if len(p.keyEnvs) > 0 {
			for _, k := range p.keyEnvs {
				if oo.APIKey = os.Getenv(k); oo.APIKey != "" {
					break
				}
			}
			if oo.APIKey == "" {
				return nil, fmt.Errorf("%s: no API key: set %s", prov, strings.Join(p.keyEnvs, " or "))
			}
		}
		var om *openai.Model
		if om, err = openai.New(oo); err == nil {
			m = om
			if o.Check {
				err = checkServer(ctx, om)
			}
		}
	}
	if err != nil {
		return nil, err
	}
	prices := o.Prices
	if prices == nil {
		prices = policy.DefaultPrices()
	}
	ro := o.Retry
	if ro.Logger == nil {
		ro.Logger = o.Logger
	}
	return policy.Priced(policy.WithRetry(m, ro), prices).WithLogger(o.Logger), nil
}

// checkServer lists the server's models: it fails when the server does not
// answer or refuses the key. A server without the listing (404, 405) passes.
func checkServer(ctx context.Context, m *openai.Model) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	err := m.Check(ctx)
	var ae *policy.APIError
	if errors.As(err, &ae) && (ae.Status == http.StatusNotFound || ae.Status == http.StatusMethodNotAllowed) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("check %s: %w", m.Info(), err)
	}
	return nil
}
