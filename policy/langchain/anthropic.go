package langchain

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/anthropic"

	"github.com/pilotkit/pilot/policy"
)

// Anthropic defaults.
const (
	// DefaultAnthropicURL is Anthropic's API.
	DefaultAnthropicURL = "https://api.anthropic.com"
	// AnthropicKeyEnv holds the Anthropic key.
	AnthropicKeyEnv = "ANTHROPIC_API_KEY"
	// anthropicTemperature is the Messages API's default temperature, sent
	// when the request leaves it nil: langchaingo always sends one.
	anthropicTemperature = 1.0
)

func newAnthropic(m *Model, o Options, hc *http.Client) error {
	m.key, m.keyFrom = apiKey(o, AnthropicKeyEnv)
	if m.key == "" {
		return fmt.Errorf("langchain: no Anthropic API key: set %s in the environment (pilot never takes keys from flags)", AnthropicKeyEnv)
	}
	base := strings.TrimRight(strings.TrimSpace(o.BaseURL), "/")
	if base == "" {
		base = DefaultAnthropicURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("langchain: Anthropic base URL %q is not an http(s) URL: want e.g. %s", o.BaseURL, DefaultAnthropicURL)
	}
	base = strings.TrimSuffix(base, "/v1")
	m.baseURL = base

	legacy := strings.HasPrefix(o.Model, "claude-2") || strings.HasPrefix(o.Model, "claude-instant")
	m.info.Images, m.info.Tools = !legacy, !legacy
	if o.Images != nil {
		m.info.Images = *o.Images
	}
	if o.Tools != nil {
		m.info.Tools = *o.Tools
	}
	llm, err := anthropic.New(
		anthropic.WithToken(m.key),
		anthropic.WithModel(o.Model),
		anthropic.WithBaseURL(base+"/v1"),
		anthropic.WithHTTPClient(recordingClient(hc, nil)),
	)
	if err != nil {
		return fmt.Errorf("langchain: anthropic client: %w", err)
	}
	m.llm = llm
	m.d = &anthropicDialect{}
	return nil
}

// anthropicDialect speaks Anthropic's Messages API through langchaingo.
//
// langchaingo sends one content block per assistant or tool message
// (the first part), so an assistant turn with text and tool calls goes as
// consecutive assistant messages, and each tool result as its own user
// message: the Messages API joins consecutive turns of one role.
type anthropicDialect struct{}

func (d *anthropicDialect) messages(req policy.Request) ([]llms.MessageContent, error) {
	names := toolNames(req)
	var system []string
	var out []llms.MessageContent
	for i, msg := range req.Messages {
		switch msg.Role {
		case policy.RoleSystem:
			if hasImage(msg) {
				return nil, fmt.Errorf("message %d: an image in a system message", i)
			}
			system = append(system, textOf(msg))
		case policy.RoleUser:
			parts := userParts(msg)
			if len(parts) == 0 {
				return nil, fmt.Errorf("message %d: an empty user message", i)
			}
			out = append(out, llms.MessageContent{Role: llms.ChatMessageTypeHuman, Parts: parts})
		case policy.RoleAssistant:
			if t := textOf(msg); strings.TrimSpace(t) != "" {
				out = append(out, llms.TextParts(llms.ChatMessageTypeAI, t))
			}
			for _, tc := range msg.ToolCalls {
				if !json.Valid([]byte(argsOrEmpty(tc.Arguments))) {
					return nil, fmt.Errorf("message %d: tool call %q: arguments are not JSON", i, tc.Name)
				}
				out = append(out, llms.MessageContent{Role: llms.ChatMessageTypeAI, Parts: []llms.ContentPart{llms.ToolCall{
					ID: tc.ID, Type: "function",
					FunctionCall: &llms.FunctionCall{Name: tc.Name, Arguments: argsOrEmpty(tc.Arguments)},
				}}})
			}
		case policy.RoleTool:
			if msg.ToolCallID == "" {
				return nil, fmt.Errorf("message %d: a tool message without ToolCallID", i)
			}
			out = append(out, llms.MessageContent{Role: llms.ChatMessageTypeTool, Parts: []llms.ContentPart{llms.ToolCallResponse{
				ToolCallID: msg.ToolCallID, Name: names[msg.ToolCallID], Content: textOf(msg),
			}}})
			if imgs := imageParts(msg); len(imgs) > 0 {
				out = append(out, llms.MessageContent{Role: llms.ChatMessageTypeHuman, Parts: imgs})
			}
		default:
			return nil, fmt.Errorf("message %d: unknown role %q", i, msg.Role)
		}
	}
	if len(system) > 0 {
		out = append([]llms.MessageContent{llms.TextParts(llms.ChatMessageTypeSystem, strings.Join(system, "\n\n"))}, out...)
	}
	return out, nil
}

// userParts returns a user message's non-empty texts and images in order
// (the Messages API refuses empty text blocks).
func userParts(msg policy.Message) []llms.ContentPart {
	var parts []llms.ContentPart
	for _, p := range msg.Parts {
		switch {
		case p.IsImage():
			parts = append(parts, llms.BinaryPart(p.MIME, p.Data))
		case strings.TrimSpace(p.Text) != "":
			parts = append(parts, llms.TextPart(p.Text))
		}
	}
	return parts
}

func imageParts(msg policy.Message) []llms.ContentPart {
	var parts []llms.ContentPart
	for _, p := range msg.Parts {
		if p.IsImage() {
			parts = append(parts, llms.BinaryPart(p.MIME, p.Data))
		}
	}
	return parts
}

func hasImage(msg policy.Message) bool {
	for _, p := range msg.Parts {
		if p.IsImage() {
			return true
		}
	}
	return false
}

func (d *anthropicDialect) options(req policy.Request) []llms.CallOption {
	opts := []llms.CallOption{llms.WithTemperature(temperature(req, anthropicTemperature))}
	if req.MaxTokens > 0 {
		opts = append(opts, llms.WithMaxTokens(req.MaxTokens))
	}
	// langchaingo sends no tool_choice: "none" drops the tools unless the
	// conversation already holds tool calls (the API then wants them
	// defined); "required" is left to the prompt.
	if len(req.Tools) > 0 && (req.ToolChoice != "none" || hasToolCalls(req)) {
		opts = append(opts, llms.WithTools(tools(req.Tools)))
	}
	return opts
}

func (d *anthropicDialect) calls(req policy.Request) int {
	return max(1, req.N)
}

func (d *anthropicDialect) response(resp *llms.ContentResponse, ex *exchange) (*policy.Response, error) {
	if resp == nil || len(resp.Choices) == 0 {
		return nil, errors.New("no content blocks")
	}
	// langchaingo makes a choice of each content block: they are one
	// answer.
	var ch policy.Choice
	var texts []string
	var usage policy.Usage
	for i, c := range resp.Choices {
		if c == nil {
			return nil, fmt.Errorf("content block %d is empty", i)
		}
		if i == 0 {
			ch.FinishReason = anthropicStop(c.StopReason)
			usage.PromptTokens = toInt(c.GenerationInfo["InputTokens"])
			usage.CompletionTokens = toInt(c.GenerationInfo["OutputTokens"])
		}
		if c.Content != "" {
			texts = append(texts, c.Content)
		}
		for _, tc := range c.ToolCalls {
			if tc.FunctionCall == nil {
				continue
			}
			ch.ToolCalls = append(ch.ToolCalls, policy.ToolCall{ID: tc.ID, Name: tc.FunctionCall.Name, Arguments: tc.FunctionCall.Arguments})
		}
	}
	ch.Text = strings.Join(texts, "")
	_, _, body, _, _, _ := ex.snapshot()
	var meta struct {
		Model string `json:"model"`
	}
	_ = json.Unmarshal(body, &meta)
	return &policy.Response{Choices: []policy.Choice{ch}, Usage: usage, Model: meta.Model}, nil
}

// anthropicStop maps a stop_reason to policy's words.
func anthropicStop(s string) string {
	switch s {
	case "end_turn", "stop_sequence":
		return "stop"
	case "max_tokens":
		return "length"
	case "tool_use":
		return "tool_calls"
	case "refusal":
		return "content_filter"
	}
	return s
}

// errorBody reads {"type":"error","error":{"type":…,"message":…}}.
func (d *anthropicDialect) errorBody(body []byte) (code, msg string) {
	var e struct {
		Error struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil {
		return e.Error.Type, strings.TrimSpace(e.Error.Message)
	}
	return "", ""
}

func (d *anthropicDialect) classify(status int, code, msg string) error {
	switch code {
	case "authentication_error", "permission_error":
		return policy.ErrAuth
	case "rate_limit_error":
		return policy.ErrRateLimited
	}
	l := strings.ToLower(msg)
	if status == http.StatusBadRequest && strings.Contains(l, "image") && strings.Contains(l, "not support") {
		return policy.ErrNoImages
	}
	return nil
}
