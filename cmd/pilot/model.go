package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/pilotkit/pilot/agent"
	"github.com/pilotkit/pilot/policy"
	"github.com/pilotkit/pilot/policy/models"
)

// modelFlags choose and configure a model policy; run and eval share them.
type modelFlags struct {
	spec, baseURL, prices string
	noImages, noTools     bool
	temperature           float64
	answerTokens          int
	callTimeout           time.Duration
	maxTokens             int
	maxCost               float64
	retries               int
	// stepTimeout is the command's --step-timeout: a call timeout of 0
	// is half of it, so that a hung call is retried within the step.
	stepTimeout time.Duration
}

func (m *modelFlags) register(fs *pflag.FlagSet, perRun bool) {
	fs.StringVar(&m.spec, "model", "", "let a model choose the actions: `PROVIDER:MODEL`, such as openai:gpt-4o, ollama:llava, anthropic:claude-sonnet-4-0 (providers: "+strings.Join(providerWords(), ", ")+"); keys come from the provider's environment variable (OPENAI_API_KEY, ANTHROPIC_API_KEY, GOOGLE_API_KEY)")
	fs.StringVar(&m.baseURL, "base-url", "", "the model API's `URL`: any OpenAI-compatible server for openai:… (Ollama http://127.0.0.1:11434/v1, llama.cpp http://127.0.0.1:8080/v1, vLLM http://127.0.0.1:8000/v1)")
	fs.BoolVar(&m.noImages, "no-images", false, "send the model no screenshots or camera frames")
	fs.BoolVar(&m.noTools, "no-tools", false, "ask for actions as text even from a model that calls tools")
	fs.Var(newOptFloat(&m.temperature), "temperature", "the model's sampling temperature, 0..2 (default: the provider's)")
	fs.IntVar(&m.answerTokens, "answer-tokens", 1024, "the most tokens one answer may have")
	fs.DurationVar(&m.callTimeout, "call-timeout", 0, "give up one model call after this long, and retry it (default half of --step-timeout, so that a hung call is retried within the step; raise both for a slow local model)")
	fs.IntVar(&m.retries, "call-retries", 3, "retries of a model call after a rate limit, a server error or a timeout, with exponential backoff")
	fs.StringVar(&m.prices, "prices", "", "price table `FILE` (JSON: {\"openai:gpt-4o\": {\"input_per_mtok\": 2.5, \"output_per_mtok\": 10}}) over pilot's defaults")
	what := "episode"
	if perRun {
		what = "run"
	}
	fs.IntVar(&m.maxTokens, "max-tokens", 0, "end the "+what+", truncated, once the model used this many tokens (0: no limit)")
	fs.Float64Var(&m.maxCost, "max-cost", 0, "end the "+what+", truncated, once the model cost this many US dollars (0: no limit)")
}

func providerWords() []string {
	var out []string
	for _, p := range models.Providers() {
		name, _, _ := strings.Cut(p, ":")
		out = append(out, name)
	}
	return out
}

// validate checks the model flags before anything starts.
func (m *modelFlags) validate() error {
	if m.spec == "" {
		for name, set := range map[string]bool{"--base-url": m.baseURL != "", "--no-images": m.noImages, "--no-tools": m.noTools, "--prices": m.prices != "", "--max-cost": m.maxCost != 0, "--max-tokens": m.maxTokens != 0} {
			if set {
				return usagef("%s is for a model policy: give --model PROVIDER:MODEL", name)
			}
		}
		return nil
	}
	if _, _, err := models.Parse(m.spec); err != nil {
		return usagef("--model: %v", err)
	}
	switch {
	case !math.IsNaN(m.temperature) && (m.temperature < 0 || m.temperature > 2):
		return usagef("--temperature %v: want 0..2", m.temperature)
	case m.answerTokens < 1:
		return usagef("--answer-tokens %d: want 1 or more", m.answerTokens)
	case m.callTimeout < 0:
		return usagef("--call-timeout %s: want more than 0 (0: half of --step-timeout)", m.callTimeout)
	case m.retries < 0:
		return usagef("--call-retries %d: want 0 or more", m.retries)
	case m.maxTokens < 0 || m.maxCost < 0 || math.IsNaN(m.maxCost):
		return usagef("--max-tokens and --max-cost: want 0 (no limit) or more")
	}
	if m.baseURL != "" {
		if err := checkStartURL(m.baseURL, false); err != nil || !hasAnyPrefix(m.baseURL, "http://", "https://") {
			return usagef("--base-url %q: want an http(s) URL such as http://127.0.0.1:11434/v1", m.baseURL)
		}
	}
	return nil
}

// callTimeoutOrDefault is --call-timeout, or half of --step-timeout when
// it is 0 (a minute with no step timeout).
func (m *modelFlags) callTimeoutOrDefault() time.Duration {
	switch {
	case m.callTimeout > 0:
		return m.callTimeout
	case m.stepTimeout > 0:
		return m.stepTimeout / 2
	}
	return time.Minute
}

// open opens the model: a missing key, an unknown provider or a bad price
// file is an error here, before any episode.
func (m *modelFlags) open(ctx context.Context, stderr io.Writer) (policy.Model, error) {
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	prices := policy.DefaultPrices()
	if m.prices != "" {
		f, err := os.Open(m.prices)
		if err != nil {
			return nil, usagef("--prices: %v", err)
		}
		extra, err := policy.ReadPrices(f)
		f.Close()
		if err != nil {
			return nil, usagef("--prices %s: %v", m.prices, err)
		}
		for k, v := range extra {
			prices[k] = v
		}
	}
	return models.Open(ctx, m.spec, models.Options{
		BaseURL: m.baseURL,
		Prices:  prices,
		Retry:   policy.RetryOptions{Attempts: m.retries + 1, CallTimeout: m.callTimeoutOrDefault(), Logger: log},
		Logger:  log,
		Check:   true,
	})
}

// policy returns the LLM policy over model.
func (m *modelFlags) policy(model policy.Model, seed int64) policy.Policy {
	o := policy.LLMOptions{NoImages: m.noImages, NoTools: m.noTools, MaxTokens: m.answerTokens}
	if !math.IsNaN(m.temperature) {
		t := m.temperature
		o.Temperature = &t
	}
	if seed != 0 {
		s := seed
		o.Seed = &s
	}
	return policy.LLM(model, o)
}

// name is the policy's name in trajectories and reports.
func (m *modelFlags) name() string { return "llm:" + m.spec }

// wantsImages reports whether observations should carry images by default.
func (m *modelFlags) wantsImages() bool { return m.spec != "" && !m.noImages }

// budget sets the episode budget on o (pilot run).
func (m *modelFlags) episodeBudget(o *agent.Options) {
	o.MaxTokens, o.MaxCostUSD = m.maxTokens, m.maxCost
}

func (m *modelFlags) String() string {
	return fmt.Sprintf("model %s", m.spec)
}
