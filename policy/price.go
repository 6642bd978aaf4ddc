package policy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/url"
	"strings"
	"sync"
)

// Price is what a model costs, in US dollars per million tokens.
type Price struct {
	InputPerMTok  float64 `json:"input_per_mtok"`
	OutputPerMTok float64 `json:"output_per_mtok"`
}

// Cost returns the price of u's tokens in US dollars.
func (p Price) Cost(u Usage) float64 {
	return float64(u.PromptTokens)*p.InputPerMTok/1e6 + float64(u.CompletionTokens)*p.OutputPerMTok/1e6
}

// Prices is a price table. A key is "provider:model" ("openai:gpt-4o") or a
// bare model name ("gpt-4o"); keys are compared without regard to case.
//
// Lookup, for a model m of provider p:
//  1. the key "p:m";
//  2. a local model (see Local) costs 0;
//  3. the key "m";
//  4. the longest key that is a prefix of "p:m" or of "m" and ends at a
//     boundary ('-', ':', '@', '/' follows it), so "gpt-4o-2024-08-06"
//     costs what "gpt-4o" costs and "claude-sonnet-4-20250514" what
//     "claude-sonnet-4" costs.
type Prices map[string]Price

// DefaultPrices returns list prices of well-known models, in USD per
// million tokens, standard (not batch, not cached-input) rates: list
// prices as of June 2025; check the provider's pricing page before
// trusting a budget with them, and pass your own table (ReadPrices) for
// anything else. Gemini 1.5 figures are for prompts up to 128k tokens.
//
// Sources: openai.com/api/pricing, anthropic.com/pricing,
// ai.google.dev/gemini-api/docs/pricing.
func DefaultPrices() Prices {
	return Prices{
		// OpenAI.
		"gpt-4o":            {InputPerMTok: 2.50, OutputPerMTok: 10.00},
		"gpt-4o-2024-05-13": {InputPerMTok: 5.00, OutputPerMTok: 15.00},
		"gpt-4o-mini":       {InputPerMTok: 0.15, OutputPerMTok: 0.60},
		"gpt-4.1":           {InputPerMTok: 2.00, OutputPerMTok: 8.00},
		"gpt-4.1-mini":      {InputPerMTok: 0.40, OutputPerMTok: 1.60},
		"gpt-4.1-nano":      {InputPerMTok: 0.10, OutputPerMTok: 0.40},
		"o4-mini":           {InputPerMTok: 1.10, OutputPerMTok: 4.40},
		// Anthropic.
		"claude-3-5-sonnet": {InputPerMTok: 3.00, OutputPerMTok: 15.00},
		"claude-3-7-sonnet": {InputPerMTok: 3.00, OutputPerMTok: 15.00},
		"claude-sonnet-4":   {InputPerMTok: 3.00, OutputPerMTok: 15.00},
		// Google.
		"gemini-1.5-flash": {InputPerMTok: 0.075, OutputPerMTok: 0.30},
		"gemini-1.5-pro":   {InputPerMTok: 1.25, OutputPerMTok: 5.00},
		"gemini-2.0-flash": {InputPerMTok: 0.10, OutputPerMTok: 0.40},
	}
}

// localProvider reports whether a provider runs on the user's own machine
// and costs nothing.
func localProvider(p string) bool {
	switch strings.ToLower(p) {
	case "ollama", "llamacpp", "llama.cpp", "llama-cpp", "vllm", "lmstudio":
		return true
	}
	return false
}

// Local reports whether the model runs on this machine: a local provider
// (ollama, llamacpp, vllm, lmstudio) or an API whose base URL is on a
// loopback address (localhost, 127.0.0.0/8, ::1).
func Local(info ModelInfo) bool {
	if localProvider(info.Provider) {
		return true
	}
	if info.BaseURL == "" {
		return false
	}
	u, err := url.Parse(info.BaseURL)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && (ip.IsLoopback() || ip.IsUnspecified())
}

// Lookup returns the price of info's model and whether one is known (see
// Prices for the order). A local model has the zero price, known.
func (p Prices) Lookup(info ModelInfo) (Price, bool) {
	name := strings.ToLower(info.Name)
	full := strings.ToLower(info.Provider) + ":" + name
	if pr, ok := p.exact(full); ok {
		return pr, true
	}
	if Local(info) {
		return Price{}, true
	}
	if pr, ok := p.exact(name); ok {
		return pr, true
	}
	best, bestLen := Price{}, -1
	for k, pr := range p {
		k = strings.ToLower(k)
		if len(k) <= bestLen {
			continue
		}
		if prefixAtBoundary(full, k) || prefixAtBoundary(name, k) {
			best, bestLen = pr, len(k)
		}
	}
	return best, bestLen >= 0
}

func (p Prices) exact(key string) (Price, bool) {
	if pr, ok := p[key]; ok {
		return pr, true
	}
	for k, pr := range p {
		if strings.EqualFold(k, key) {
			return pr, true
		}
	}
	return Price{}, false
}

// prefixAtBoundary reports whether prefix is a proper prefix of s followed
// by a separator.
func prefixAtBoundary(s, prefix string) bool {
	if prefix == "" || len(s) <= len(prefix) || !strings.HasPrefix(s, prefix) {
		return false
	}
	switch s[len(prefix)] {
	case '-', ':', '@', '/':
		return true
	}
	return false
}

// Cost returns what u cost with info's model in US dollars, and whether the
// model's price is known. An unknown model costs 0.
func (p Prices) Cost(info ModelInfo, u Usage) (usd float64, known bool) {
	pr, ok := p.Lookup(info)
	if !ok {
		return 0, false
	}
	return pr.Cost(u), true
}

// ReadPrices reads a price table in JSON:
//
//	{"openai:gpt-4o": {"input_per_mtok": 2.5, "output_per_mtok": 10},
//	 "my-finetune":   {"input_per_mtok": 0.3, "output_per_mtok": 1.2}}
//
// Both fields are required, in USD per million tokens, finite and not
// negative. Unknown fields, empty or duplicate keys (ignoring case) and
// trailing data are errors.
func ReadPrices(r io.Reader) (Prices, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	fail := func(format string, args ...any) (Prices, error) {
		return nil, fmt.Errorf("prices: "+format+" (want {\"provider:model\": {\"input_per_mtok\": 2.5, \"output_per_mtok\": 10}}, USD per million tokens)", args...)
	}
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return fail("empty input")
		}
		return fail("not JSON: %v", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fail("the table must be a JSON object, got %v", tok)
	}
	p := Prices{}
	seen := map[string]string{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fail("not JSON at byte %d: %v", dec.InputOffset(), err)
		}
		key, ok := tok.(string)
		if !ok {
			return fail("want a key at byte %d, got %v", dec.InputOffset(), tok)
		}
		if strings.TrimSpace(key) != key || key == "" {
			return fail("bad key %q: empty or with spaces around it", key)
		}
		if prev, dup := seen[strings.ToLower(key)]; dup {
			return fail("key %q given twice (as %q before)", key, prev)
		}
		seen[strings.ToLower(key)] = key
		var e struct {
			In  *float64 `json:"input_per_mtok"`
			Out *float64 `json:"output_per_mtok"`
		}
		if err := dec.Decode(&e); err != nil {
			return fail("entry %q: %v", key, err)
		}
		if e.In == nil || e.Out == nil {
			return fail("entry %q: input_per_mtok and output_per_mtok are both required", key)
		}
		for _, v := range []struct {
			name string
			v    float64
		}{{"input_per_mtok", *e.In}, {"output_per_mtok", *e.Out}} {
			if math.IsNaN(v.v) || math.IsInf(v.v, 0) || v.v < 0 {
				return fail("entry %q: %s = %v: a price must be a finite number, 0 or more", key, v.name, v.v)
			}
		}
		p[key] = Price{InputPerMTok: *e.In, OutputPerMTok: *e.Out}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return fail("not JSON at byte %d: %v", dec.InputOffset(), err)
	}
	if tok, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fail("trailing data after the table at byte %d (%v)", dec.InputOffset(), tok)
	}
	return p, nil
}

// PricedModel fills Response.Usage.CostUSD from a price table. Build it with
// Priced.
//
// A model without a price (not in the table, not local) costs 0: Known
// reports that case, and the first such call logs a warning, so that a
// money budget is not silently unenforced. Callers that need it per call
// can ask Prices.Cost themselves.
type PricedModel struct {
	m      Model
	p      Prices
	log    *slog.Logger
	warned *sync.Once
}

var _ Model = (*PricedModel)(nil)

// Priced returns m with Response.Usage.CostUSD filled from p. The price is
// looked up for the model the response names (often more precise, e.g.
// "gpt-4o-2024-08-06") and then for m.Info().
func Priced(m Model, p Prices) *PricedModel {
	return &PricedModel{m: m, p: p, log: slog.New(slog.NewTextHandler(io.Discard, nil)), warned: new(sync.Once)}
}

// WithLogger returns a copy of pm that logs the unknown-price warning to l.
func (pm *PricedModel) WithLogger(l *slog.Logger) *PricedModel {
	c := *pm
	if l != nil {
		c.log = l
	}
	c.warned = new(sync.Once)
	return &c
}

// Known reports whether the model has a price (or is local).
func (pm *PricedModel) Known() bool {
	_, ok := pm.p.Lookup(pm.m.Info())
	return ok
}

// Info returns the wrapped model's Info.
func (pm *PricedModel) Info() ModelInfo { return pm.m.Info() }

// Generate calls the wrapped model and prices its usage.
func (pm *PricedModel) Generate(ctx context.Context, req Request) (*Response, error) {
	resp, err := pm.m.Generate(ctx, req)
	if resp == nil {
		return resp, err
	}
	info := pm.m.Info()
	usd, known := 0.0, false
	if resp.Model != "" && !strings.EqualFold(resp.Model, info.Name) {
		precise := info
		precise.Name = resp.Model
		usd, known = pm.p.Cost(precise, resp.Usage)
	}
	if !known {
		usd, known = pm.p.Cost(info, resp.Usage)
	}
	resp.Usage.CostUSD = usd
	if !known {
		pm.warned.Do(func() {
			pm.log.Warn("no price for the model: its calls count as costing $0 and a money budget will not stop them; add it to the price table",
				"model", info.String(), "reported_model", resp.Model)
		})
	}
	return resp, err
}
