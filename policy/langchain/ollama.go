package langchain

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/ollama"

	"github.com/pilotkit/pilot/policy"
)

// Ollama defaults.
const (
	// DefaultOllamaURL is where `ollama serve` listens by default.
	DefaultOllamaURL = "http://127.0.0.1:11434"
	// ollamaTemperature is Ollama's documented default temperature
	// (docs/modelfile.md), sent when the request leaves it nil:
	// langchaingo always sends one.
	ollamaTemperature = 0.8
	// probeTimeout bounds New's question to the server.
	probeTimeout = 10 * time.Second
)

func newOllama(ctx context.Context, m *Model, o Options, hc *http.Client) error {
	base, err := ollamaBaseURL(o.BaseURL, os.Getenv("OLLAMA_HOST"))
	if err != nil {
		return err
	}
	m.baseURL = base
	m.info.BaseURL = base
	if o.Tools != nil && *o.Tools {
		return fmt.Errorf("langchain: tools for ollama:%s: langchaingo's native Ollama client sends no tool definitions; "+
			"use --model openai:%s --base-url %s/v1 for tool calling", o.Model, o.Model, base)
	}
	var modify func(*http.Request)
	if o.APIKey != "" {
		m.key, m.keyFrom = o.APIKey, "Options.APIKey"
		key := o.APIKey
		modify = func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+key) }
	}
	client := recordingClient(hc, modify)

	show, err := ollamaShow(ctx, client, base, o.Model)
	if err != nil {
		return err
	}
	switch {
	case o.Images != nil:
		m.info.Images = *o.Images
	case show != nil:
		m.info.Images = show.vision(o.Model)
	default:
		m.info.Images = ollamaVisionName(o.Model)
		m.log.Warn("could not read the model's capabilities from Ollama; guessing from its name",
			"model", o.Model, "images", m.info.Images)
	}
	m.info.Tools = false

	llm, err := ollama.New(ollama.WithModel(o.Model), ollama.WithServerURL(base), ollama.WithHTTPClient(client))
	if err != nil {
		return fmt.Errorf("langchain: ollama client: %w", err)
	}
	m.llm = llm
	m.d = &ollamaDialect{}
	return nil
}

// ollamaBaseURL returns the server's root URL: the option, else
// $OLLAMA_HOST (which may lack a scheme or port), else the default.
func ollamaBaseURL(opt, env string) (string, error) {
	raw := strings.TrimSpace(opt)
	from := "base URL"
	if raw == "" && strings.TrimSpace(env) != "" {
		raw, from = strings.TrimSpace(env), "OLLAMA_HOST"
	}
	if raw == "" {
		return DefaultOllamaURL, nil
	}
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("langchain: %s %q is not an http(s) address: want e.g. %s", from, raw, DefaultOllamaURL)
	}
	if u.Port() == "" && from == "OLLAMA_HOST" {
		u.Host += ":11434"
	}
	if u.Hostname() == "0.0.0.0" {
		// The address the server listens on, not one to call.
		u.Host = strings.Replace(u.Host, "0.0.0.0", "127.0.0.1", 1)
	}
	s := strings.TrimRight(u.String(), "/")
	if strings.HasSuffix(s, "/v1") {
		return "", fmt.Errorf("langchain: %s %q is Ollama's OpenAI-compatible endpoint: the native API lives at the server's root (%s), "+
			"or use --model openai:<model> with this base URL", from, raw, strings.TrimSuffix(s, "/v1"))
	}
	return s, nil
}

// ollamaShowAnswer is the part of POST /api/show pilot reads.
type ollamaShowAnswer struct {
	Capabilities []string `json:"capabilities"`
	Details      struct {
		Families []string `json:"families"`
	} `json:"details"`
	ModelInfo map[string]any `json:"model_info"`
}

// vision reports whether the model takes images: the server's
// capabilities (Ollama ≥ 0.6.4), else a vision tower in its metadata,
// else its name.
func (s *ollamaShowAnswer) vision(name string) bool {
	if s.Capabilities != nil {
		return slices.Contains(s.Capabilities, "vision")
	}
	for k := range s.ModelInfo {
		if strings.Contains(k, ".vision.") {
			return true
		}
	}
	if slices.Contains(s.Details.Families, "clip") || slices.Contains(s.Details.Families, "mllama") {
		return true
	}
	return ollamaVisionName(name)
}

// ollamaVisionName guesses from a model's name whether it takes images.
func ollamaVisionName(name string) bool {
	n := strings.ToLower(name)
	for _, s := range []string{"llava", "vision", "moondream", "minicpm-v", "-vl", "vl:", "qwen2.5vl", "qwen3vl",
		"llama4", "mistral-small3.1", "mistral-small3.2", "gemma3n", "granite3.2-vision"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	// gemma3 sees from 4b up; the 270m and 1b sizes are text only.
	return strings.HasPrefix(n, "gemma3") && !strings.Contains(n, ":1b") && !strings.Contains(n, ":270m")
}

// ollamaShow asks the server about the model. A server that does not
// answer, a model that is not there and refused credentials are errors;
// an answer pilot cannot read is nil (the caller guesses).
func ollamaShow(ctx context.Context, c *http.Client, base, model string) (*ollamaShowAnswer, error) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	body, _ := json.Marshal(map[string]string{"model": model})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/show", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("langchain: ollama request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("langchain: Ollama at %s did not answer POST /api/show within %s: is the server overloaded, or is %s another service? (%w)",
				base, probeTimeout, base, ctx.Err())
		}
		return nil, fmt.Errorf("langchain: cannot reach Ollama: is `ollama serve` running at %s? (%w)", base, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("langchain: reading Ollama's /api/show answer from %s: %w", base, err)
	}
	var oerr struct {
		Error string `json:"error"`
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		if json.Unmarshal(b, &oerr) == nil && oerr.Error != "" {
			return nil, fmt.Errorf("langchain: Ollama at %s has no model %q (%s): run `ollama pull %s`", base, model, shorten(oerr.Error), model)
		}
		return nil, fmt.Errorf("langchain: %s answered 404 to POST /api/show: is it an Ollama server? The native API lives at the server's root", base)
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, fmt.Errorf("langchain: Ollama at %s refused the request (HTTP %d): %w", base, resp.StatusCode, policy.ErrAuth)
	case resp.StatusCode != http.StatusOK:
		return nil, nil
	}
	var s ollamaShowAnswer
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, nil
	}
	return &s, nil
}

// ollamaDialect speaks Ollama's native chat API through langchaingo.
type ollamaDialect struct{}

func (d *ollamaDialect) messages(req policy.Request) ([]llms.MessageContent, error) {
	var out []llms.MessageContent
	for i, msg := range req.Messages {
		var role llms.ChatMessageType
		switch msg.Role {
		case policy.RoleSystem:
			role = llms.ChatMessageTypeSystem
		case policy.RoleUser:
			role = llms.ChatMessageTypeHuman
		case policy.RoleAssistant:
			role = llms.ChatMessageTypeAI
		case policy.RoleTool:
			role = llms.ChatMessageTypeTool
		default:
			return nil, fmt.Errorf("message %d: unknown role %q", i, msg.Role)
		}
		// langchaingo's Ollama client takes one text part per message
		// (Ollama's "content") and any number of images ("images").
		mc := llms.MessageContent{Role: role}
		var texts []string
		var images []llms.ContentPart
		for _, p := range msg.Parts {
			if p.IsImage() {
				if role == llms.ChatMessageTypeSystem {
					return nil, fmt.Errorf("message %d: an image in a system message", i)
				}
				images = append(images, llms.BinaryPart(p.MIME, p.Data))
				continue
			}
			texts = append(texts, p.Text)
		}
		mc.Parts = append(mc.Parts, llms.TextPart(strings.Join(texts, "\n")))
		mc.Parts = append(mc.Parts, images...)
		out = append(out, mc)
	}
	return out, nil
}

func (d *ollamaDialect) options(req policy.Request) []llms.CallOption {
	opts := []llms.CallOption{llms.WithTemperature(temperature(req, ollamaTemperature))}
	if req.Seed != nil {
		opts = append(opts, llms.WithSeed(int(*req.Seed)))
	}
	if req.MaxTokens > 0 {
		opts = append(opts, llms.WithMaxTokens(req.MaxTokens))
	}
	return opts
}

func (d *ollamaDialect) calls(req policy.Request) int { return max(1, req.N) }

// ollamaLine is one line of /api/chat's answer (a stream of JSON
// objects; the last has "done": true and the counts).
type ollamaLine struct {
	Model   string `json:"model"`
	Message *struct {
		Content string `json:"content"`
	} `json:"message"`
	Done            bool   `json:"done"`
	DoneReason      string `json:"done_reason"`
	PromptEvalCount int    `json:"prompt_eval_count"`
	EvalCount       int    `json:"eval_count"`
	Error           string `json:"error"`
}

// ollamaStream reads an /api/chat answer as Ollama sends it: the text,
// and the final line. langchaingo stops silently on a stream without a
// final line (or with a line over its buffer): this is the check.
func ollamaStream(body []byte) (text string, final ollamaLine, err error) {
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 64<<10), maxBody)
	var b strings.Builder
	done := false
	n := 0
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		n++
		if done {
			return "", final, errors.New("data after the final (done) line")
		}
		var l ollamaLine
		if err := json.Unmarshal(line, &l); err != nil {
			return "", final, fmt.Errorf("line %d is not a JSON object: %w", n, err)
		}
		if l.Error != "" {
			return "", final, fmt.Errorf("the server reported: %s", l.Error)
		}
		if l.Message != nil {
			b.WriteString(l.Message.Content)
		}
		if l.Done {
			done, final = true, l
		}
	}
	if err := sc.Err(); err != nil {
		return "", final, err
	}
	if !done {
		return "", final, fmt.Errorf("the answer ended after %d lines without its final (done) line", n)
	}
	return b.String(), final, nil
}

func (d *ollamaDialect) response(resp *llms.ContentResponse, ex *exchange) (*policy.Response, error) {
	_, _, body, over, readErr, _ := ex.snapshot()
	if over || readErr != nil {
		return nil, errors.New("the answer was not read whole")
	}
	text, final, err := ollamaStream(body)
	if err != nil {
		return nil, err
	}
	if resp == nil || len(resp.Choices) != 1 || resp.Choices[0] == nil {
		return nil, errors.New("langchaingo returned no choice")
	}
	c := resp.Choices[0]
	if c.Content != text {
		return nil, fmt.Errorf("langchaingo read %d bytes of a %d-byte answer", len(c.Content), len(text))
	}
	reason := final.DoneReason
	if reason == "" {
		reason = "stop" // Ollama before 0.3 sent no done_reason
	}
	return &policy.Response{
		Choices: []policy.Choice{{Text: c.Content, FinishReason: reason}},
		Usage: policy.Usage{
			PromptTokens:     toInt(c.GenerationInfo["PromptTokens"]),
			CompletionTokens: toInt(c.GenerationInfo["CompletionTokens"]),
		},
		Model: final.Model,
	}, nil
}

func (d *ollamaDialect) errorBody(body []byte) (code, msg string) {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil {
		return "", strings.TrimSpace(e.Error)
	}
	return "", ""
}

func (d *ollamaDialect) classify(status int, code, msg string) error {
	l := strings.ToLower(msg)
	switch {
	case strings.Contains(l, "missing data required for image input"),
		strings.Contains(l, "does not support") && (strings.Contains(l, "vision") || strings.Contains(l, "image")):
		return policy.ErrNoImages
	case strings.Contains(l, "does not support tools"):
		return policy.ErrNoTools
	}
	return nil
}

// streamError finds an error line in a 2xx answer: Ollama reports errors
// that happen after it sent the headers that way.
func (d *ollamaDialect) streamError(body []byte) (msg string, sentinel error) {
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 64<<10), maxBody)
	for sc.Scan() {
		var l struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(sc.Bytes(), &l) == nil && l.Error != "" {
			msg := shorten(strings.TrimSpace(l.Error))
			return msg, d.classify(0, "", msg)
		}
	}
	return "", nil
}
