package models_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pilotkit/pilot/policy"
	"github.com/pilotkit/pilot/policy/models"
	"github.com/pilotkit/pilot/policy/openai/openaitest"
)

func TestParse(t *testing.T) {
	tests := []struct{ in, prov, name string }{
		{"openai:gpt-4o", "openai", "gpt-4o"},
		{"OpenAI:qwen2.5-vl", "openai", "qwen2.5-vl"},
		{"ollama:llava:13b", "ollama", "llava:13b"},
		{"anthropic:claude-sonnet-4-0", "anthropic", "claude-sonnet-4-0"},
	}
	for _, tt := range tests {
		p, n, err := models.Parse(tt.in)
		if err != nil || p != tt.prov || n != tt.name {
			t.Errorf("Parse(%q) = %q, %q, %v; want %q, %q", tt.in, p, n, err, tt.prov, tt.name)
		}
	}
	for _, bad := range []struct{ in, msg string }{
		{"gpt-4o", "want provider:model"},
		{"openai:", "want provider:model"},
		{":gpt-4o", "want provider:model"},
		{"skynet:t-800", `unknown provider "skynet"`},
		{"openai:gpt 4o", "has a space"},
		{"openai:" + strings.Repeat("x", 300), "too long"},
	} {
		if _, _, err := models.Parse(bad.in); !errors.Is(err, models.ErrBadSpec) || !strings.Contains(err.Error(), bad.msg) {
			t.Errorf("Parse(%.40q) = %v, want ErrBadSpec with %q", bad.in, err, bad.msg)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"openai:gpt-4o", "ollama:llava:13b", ":", "a:b", "vllm: x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, n, err := models.Parse(s)
		if err == nil && (p == "" || n == "") {
			t.Fatalf("Parse(%q) = %q, %q without an error", s, p, n)
		}
	})
}

func TestOpen(t *testing.T) {
	srv := openaitest.NewServer(t, func(req openaitest.ChatRequest) openaitest.Reply {
		return openaitest.Reply{Text: "Action: noop()", PromptTokens: 1000, CompletionTokens: 100}
	})
	ctx := context.Background()
	m, err := models.Open(ctx, "openai:gpt-4o", models.Options{BaseURL: srv.URL, Check: true})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := m.Generate(ctx, policy.Request{Messages: []policy.Message{{Role: policy.RoleUser, Parts: []policy.Part{policy.TextPart("hi")}}}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Choices[0].Text != "Action: noop()" || resp.Usage.PromptTokens != 1000 {
		t.Errorf("Generate = %+v", resp)
	}
	// A server on loopback is local: it costs nothing.
	if resp.Usage.CostUSD != 0 {
		t.Errorf("a local server's call cost $%v, want 0", resp.Usage.CostUSD)
	}
}

func TestOpenFailsFast(t *testing.T) {
	t.Setenv("GOOGLE_API_KEY", "")
	t.Setenv("GEMINI_API_KEY", "")
	t.Setenv("OPENAI_API_KEY", "")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, tt := range []struct{ spec, base, msg string }{
		{"googleai:gemini-2.0-flash", "", "GOOGLE_API_KEY or GEMINI_API_KEY"},
		{"openai:gpt-4o", "", "OPENAI_API_KEY"},
		{"openai:m", "http://127.0.0.1:1/v1", "127.0.0.1:1"},
		{"llamacpp:m", "http://127.0.0.1:1/v1", "127.0.0.1:1"},
		{"ollama:llava", "http://127.0.0.1:1", "127.0.0.1:1"},
	} {
		if _, err := models.Open(ctx, tt.spec, models.Options{BaseURL: tt.base, Check: true}); err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("Open(%s, %q) = %v, want an error naming %q", tt.spec, tt.base, err, tt.msg)
		}
	}
}
