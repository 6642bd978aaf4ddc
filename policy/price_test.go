package policy

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestPricesLookup(t *testing.T) {
	p := Prices{
		"gpt-4o":                {InputPerMTok: 2.5, OutputPerMTok: 10},
		"gpt-4o-2024-05-13":     {InputPerMTok: 5, OutputPerMTok: 15},
		"gpt-4o-mini":           {InputPerMTok: 0.15, OutputPerMTok: 0.6},
		"azure:gpt-4o":          {InputPerMTok: 2.75, OutputPerMTok: 11},
		"openai:my-ft":          {InputPerMTok: 3, OutputPerMTok: 12},
		"vllm:llama-70b":        {InputPerMTok: 0.5, OutputPerMTok: 0.5},
		"claude-sonnet-4":       {InputPerMTok: 3, OutputPerMTok: 15},
		"Gemini-2.0-Flash":      {InputPerMTok: 0.1, OutputPerMTok: 0.4},
		"openrouter:meta/llama": {InputPerMTok: 1, OutputPerMTok: 1},
	}
	tests := []struct {
		info      ModelInfo
		want      Price
		wantKnown bool
	}{
		{ModelInfo{Provider: "openai", Name: "gpt-4o"}, p["gpt-4o"], true},
		{ModelInfo{Provider: "openai", Name: "gpt-4o-2024-08-06"}, p["gpt-4o"], true},
		{ModelInfo{Provider: "openai", Name: "gpt-4o-2024-05-13"}, p["gpt-4o-2024-05-13"], true},
		{ModelInfo{Provider: "openai", Name: "gpt-4o-mini-2024-07-18"}, p["gpt-4o-mini"], true},
		{ModelInfo{Provider: "azure", Name: "gpt-4o"}, p["azure:gpt-4o"], true},
		{ModelInfo{Provider: "azure", Name: "gpt-4o-2024-11-20"}, p["azure:gpt-4o"], true},
		{ModelInfo{Provider: "openai", Name: "my-ft"}, p["openai:my-ft"], true},
		{ModelInfo{Provider: "other", Name: "my-ft"}, Price{}, false},
		{ModelInfo{Provider: "anthropic", Name: "claude-sonnet-4-20250514"}, p["claude-sonnet-4"], true},
		{ModelInfo{Provider: "googleai", Name: "gemini-2.0-flash-001"}, p["Gemini-2.0-Flash"], true},
		{ModelInfo{Provider: "openai", Name: "GPT-4O"}, p["gpt-4o"], true},
		{ModelInfo{Provider: "openai", Name: "gpt-4"}, Price{}, false},
		{ModelInfo{Provider: "openai", Name: "gpt-4o1"}, Price{}, false},
		{ModelInfo{Provider: "openrouter", Name: "meta/llama"}, p["openrouter:meta/llama"], true},
		// Local models cost nothing, unless the table prices them exactly.
		{ModelInfo{Provider: "ollama", Name: "gpt-4o"}, Price{}, true},
		{ModelInfo{Provider: "llamacpp", Name: "anything"}, Price{}, true},
		{ModelInfo{Provider: "lmstudio", Name: "qwen"}, Price{}, true},
		{ModelInfo{Provider: "vllm", Name: "llama-70b"}, p["vllm:llama-70b"], true},
		{ModelInfo{Provider: "openai", Name: "gpt-4o", BaseURL: "http://127.0.0.1:11434/v1"}, Price{}, true},
		{ModelInfo{Provider: "openai", Name: "gpt-4o", BaseURL: "http://localhost:8080/v1"}, Price{}, true},
		{ModelInfo{Provider: "openai", Name: "gpt-4o", BaseURL: "http://[::1]:8000/v1"}, Price{}, true},
		{ModelInfo{Provider: "openai", Name: "qwen", BaseURL: "http://10.0.0.5:8000/v1"}, Price{}, false},
		{ModelInfo{Provider: "openai", Name: "gpt-4o", BaseURL: "https://example.com/v1"}, p["gpt-4o"], true},
	}
	for _, tt := range tests {
		got, known := p.Lookup(tt.info)
		if got != tt.want || known != tt.wantKnown {
			t.Errorf("Lookup(%+v) = %+v, %v; want %+v, %v", tt.info, got, known, tt.want, tt.wantKnown)
		}
	}
}

func TestPricesCost(t *testing.T) {
	p := DefaultPrices()
	u := Usage{PromptTokens: 1_000_000, CompletionTokens: 500_000}
	tests := []struct {
		info      ModelInfo
		want      float64
		wantKnown bool
	}{
		{ModelInfo{Provider: "openai", Name: "gpt-4o"}, 2.5 + 5, true},
		{ModelInfo{Provider: "openai", Name: "gpt-4o-mini"}, 0.15 + 0.3, true},
		{ModelInfo{Provider: "openai", Name: "gpt-4.1-mini-2025-04-14"}, 0.4 + 0.8, true},
		{ModelInfo{Provider: "openai", Name: "o4-mini-2025-04-16"}, 1.1 + 2.2, true},
		{ModelInfo{Provider: "anthropic", Name: "claude-3-7-sonnet-20250219"}, 3 + 7.5, true},
		{ModelInfo{Provider: "googleai", Name: "gemini-1.5-flash-002"}, 0.075 + 0.15, true},
		{ModelInfo{Provider: "ollama", Name: "llava"}, 0, true},
		{ModelInfo{Provider: "openai", Name: "unknown-model"}, 0, false},
	}
	for _, tt := range tests {
		got, known := p.Cost(tt.info, u)
		if math.Abs(got-tt.want) > 1e-9 || known != tt.wantKnown {
			t.Errorf("Cost(%v, %+v) = %v, %v; want %v, %v", tt.info, u, got, known, tt.want, tt.wantKnown)
		}
	}
}

func TestDefaultPricesAreSane(t *testing.T) {
	for k, pr := range DefaultPrices() {
		if pr.InputPerMTok <= 0 || pr.OutputPerMTok < pr.InputPerMTok || pr.OutputPerMTok > 100 {
			t.Errorf("DefaultPrices()[%q] = %+v, want 0 < input ≤ output ≤ 100 USD/MTok", k, pr)
		}
	}
}

func TestReadPrices(t *testing.T) {
	good := `{"openai:gpt-4o": {"input_per_mtok": 2.5, "output_per_mtok": 10},
	          "my-model": {"output_per_mtok": 0, "input_per_mtok": 0}}`
	p, err := ReadPrices(strings.NewReader(good))
	if err != nil {
		t.Fatalf("ReadPrices(good) error = %v", err)
	}
	want := Prices{"openai:gpt-4o": {2.5, 10}, "my-model": {0, 0}}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("ReadPrices(good) = %v, want %v", p, want)
	}
	if p, err := ReadPrices(strings.NewReader(" {} ")); err != nil || len(p) != 0 {
		t.Errorf("ReadPrices({}) = %v, %v; want an empty table", p, err)
	}

	bad := []struct{ in, wantErr string }{
		{``, "empty input"},
		{`[]`, "JSON object"},
		{`{"gpt-4o": {"input_per_mtok": -1, "output_per_mtok": 1}}`, "0 or more"},
		{`{"gpt-4o": {"input_per_mtok": 1e999, "output_per_mtok": 1}}`, "gpt-4o"},
		{`{"gpt-4o": {"input_per_mtok": 1}}`, "both required"},
		{`{"gpt-4o": {"input_per_mtok": 1, "output_per_mtok": 1, "cached": 0.5}}`, "unknown field"},
		{`{"gpt-4o": {"input_per_mtok": "1", "output_per_mtok": 1}}`, "gpt-4o"},
		{`{"gpt-4o": 3}`, "gpt-4o"},
		{`{"": {"input_per_mtok": 1, "output_per_mtok": 1}}`, "bad key"},
		{`{" gpt-4o": {"input_per_mtok": 1, "output_per_mtok": 1}}`, "bad key"},
		{`{"gpt-4o": {"input_per_mtok": 1, "output_per_mtok": 1}, "GPT-4o": {"input_per_mtok": 1, "output_per_mtok": 1}}`, "twice"},
		{`{"gpt-4o": {"input_per_mtok": 1, "output_per_mtok": 1}} {}`, "trailing data"},
		{`{"gpt-4o": {"input_per_mtok": 1, "output_per_mtok": 1}`, "not JSON"},
		{`{"gpt-4o" {}}`, "colon"},
		{`garbage`, "not JSON"},
	}
	for _, tt := range bad {
		p, err := ReadPrices(strings.NewReader(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("ReadPrices(%q) = %v, %v; want an error saying %q", tt.in, p, err, tt.wantErr)
		}
	}
}

func FuzzReadPrices(f *testing.F) {
	f.Add([]byte(`{"openai:gpt-4o": {"input_per_mtok": 2.5, "output_per_mtok": 10}}`))
	f.Add([]byte(`{"a": {"input_per_mtok": 0, "output_per_mtok": 0}, "b": {"input_per_mtok": 1e-9, "output_per_mtok": 1e300}}`))
	f.Add([]byte(`{"a": {"input_per_mtok": -0, "output_per_mtok": 1}}`))
	f.Add([]byte(`{"a": {"input_per_mtok": 1, "output_per_mtok": 1}} x`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := ReadPrices(bytes.NewReader(in))
		if err != nil {
			return
		}
		for k, pr := range p {
			for _, v := range []float64{pr.InputPerMTok, pr.OutputPerMTok} {
				if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
					t.Fatalf("ReadPrices(%q)[%q] = %+v, want finite prices ≥ 0", in, k, pr)
				}
			}
		}
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ReadPrices(bytes.NewReader(b))
		if err != nil || !reflect.DeepEqual(again, p) {
			t.Fatalf("ReadPrices(Marshal(%v)) = %v, %v; want the same table", p, again, err)
		}
	})
}

// fixed answers every call with the same response.
type fixed struct {
	info ModelInfo
	resp Response
}

func (f fixed) Info() ModelInfo { return f.info }

func (f fixed) Generate(ctx context.Context, req Request) (*Response, error) {
	r := f.resp
	return &r, nil
}

func TestPriced(t *testing.T) {
	u := Usage{PromptTokens: 2000, CompletionTokens: 100}
	tests := []struct {
		name      string
		info      ModelInfo
		respModel string
		want      float64
		wantKnown bool
	}{
		{"priced by the reported model", ModelInfo{Provider: "openai", Name: "gpt-4o"}, "gpt-4o-2024-05-13", (2000*5 + 100*15) / 1e6, true},
		{"reported model unknown, asked one known", ModelInfo{Provider: "openai", Name: "gpt-4o"}, "strange-alias", (2000*2.5 + 100*10) / 1e6, true},
		{"local", ModelInfo{Provider: "ollama", Name: "llava"}, "llava:latest", 0, true},
		{"unknown", ModelInfo{Provider: "openai", Name: "mystery"}, "mystery", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			pm := Priced(fixed{info: tt.info, resp: Response{Choices: []Choice{{Text: "x"}}, Usage: u, Model: tt.respModel}}, DefaultPrices()).
				WithLogger(slog.New(slog.NewTextHandler(&logs, nil)))
			for range 3 {
				resp, err := pm.Generate(context.Background(), Request{})
				if err != nil {
					t.Fatal(err)
				}
				if math.Abs(resp.Usage.CostUSD-tt.want) > 1e-12 || resp.Usage.PromptTokens != u.PromptTokens {
					t.Errorf("Generate() usage = %+v, want cost %v", resp.Usage, tt.want)
				}
			}
			if pm.Known() != tt.wantKnown {
				t.Errorf("Known() = %v, want %v", pm.Known(), tt.wantKnown)
			}
			wantWarnings := 0
			if !tt.wantKnown {
				wantWarnings = 1
			}
			if n := strings.Count(logs.String(), "level=WARN"); n != wantWarnings {
				t.Errorf("logs = %q, want %d warning(s)", logs.String(), wantWarnings)
			}
			if pm.Info() != tt.info {
				t.Errorf("Info() = %v, want %v", pm.Info(), tt.info)
			}
		})
	}
}
