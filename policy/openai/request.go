package openai

import (
	"cmp"
	"encoding/base64"
	"fmt"
	"math"
	"slices"
	"strings"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/pilotkit/pilot/policy"
)

// Placeholders for messages the API would reject as empty: an earlier
// answer with no text and no tool call, and a tool call with no output.
const (
	emptyAnswer = "(empty answer)"
	emptyResult = "(no output)"
)

// reasoningModel reports whether go-openai treats the model as an OpenAI
// reasoning model (o1, o3, o4, gpt-5 and later families): those take
// max_completion_tokens only and a fixed temperature of 1.
func reasoningModel(name string) bool {
	for _, p := range []string{"o1", "o3", "o4", "gpt-5", "gpt-6"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// chatRequest maps req to a go-openai request.
//
// Sampling: a nil Temperature or Seed sends none. go-openai drops a zero
// temperature from the JSON (omitempty), so 0 is sent as the smallest
// float32 above 0 (1e-45), which every server treats as greedy.
// Reasoning models get no temperature at all.
//
// MaxTokens goes out as max_completion_tokens to OpenAI's own API and to
// reasoning models (OpenAI rejects max_tokens for those, and go-openai
// refuses to send it), and as max_tokens to every other server: Ollama,
// llama.cpp and LM Studio read only max_tokens.
func (m *Model) chatRequest(req policy.Request) (goopenai.ChatCompletionRequest, error) {
	creq := goopenai.ChatCompletionRequest{Model: m.info.Name}
	if len(req.Messages) == 0 {
		return creq, fmt.Errorf("openai: model %s: the request has no messages", m.info)
	}
	images := false
	for i, msg := range req.Messages {
		cm, hasImages, err := chatMessage(msg)
		if err != nil {
			return creq, fmt.Errorf("openai: model %s: message %d: %w", m.info, i, err)
		}
		images = images || hasImages
		creq.Messages = append(creq.Messages, cm)
	}
	if images && !m.info.Images {
		return creq, fmt.Errorf("openai: model %s is set up without images (Options.Images): %w", m.info, policy.ErrNoImages)
	}

	if len(req.Tools) > 0 {
		if !m.info.Tools {
			return creq, fmt.Errorf("openai: model %s is set up without tools (Options.Tools): %w", m.info, policy.ErrNoTools)
		}
		for _, t := range req.Tools {
			if t.Name == "" {
				return creq, fmt.Errorf("openai: model %s: a tool has no name", m.info)
			}
			params := any(t.Parameters)
			if t.Parameters == nil {
				params = map[string]any{"type": "object", "properties": map[string]any{}}
			}
			creq.Tools = append(creq.Tools, goopenai.Tool{
				Type:     goopenai.ToolTypeFunction,
				Function: &goopenai.FunctionDefinition{Name: t.Name, Description: t.Description, Parameters: params},
			})
		}
		switch req.ToolChoice {
		case "":
		case "auto", "none", "required":
			creq.ToolChoice = req.ToolChoice
		default:
			found := false
			for _, t := range req.Tools {
				found = found || t.Name == req.ToolChoice
			}
			if !found {
				return creq, fmt.Errorf("openai: model %s: tool choice %q is not auto, none, required or one of the tools", m.info, req.ToolChoice)
			}
			creq.ToolChoice = goopenai.ToolChoice{Type: goopenai.ToolTypeFunction, Function: goopenai.ToolFunction{Name: req.ToolChoice}}
		}
	}

	reasoning := reasoningModel(m.info.Name)
	if t := req.Temperature; t != nil && !reasoning {
		if math.IsNaN(*t) || math.IsInf(*t, 0) || *t < 0 {
			return creq, fmt.Errorf("openai: model %s: temperature %v is not a number from 0 up", m.info, *t)
		}
		creq.Temperature = float32(*t)
		if creq.Temperature == 0 {
			creq.Temperature = math.SmallestNonzeroFloat32
		}
	}
	if req.Seed != nil {
		s := int(*req.Seed)
		creq.Seed = &s
	}
	if req.N < 0 {
		return creq, fmt.Errorf("openai: model %s: n = %d, want 1 or more", m.info, req.N)
	}
	if req.N > 1 {
		creq.N = req.N
	}
	if req.MaxTokens < 0 {
		return creq, fmt.Errorf("openai: model %s: max tokens = %d, want 0 (the server's default) or more", m.info, req.MaxTokens)
	}
	if m.official || reasoning {
		creq.MaxCompletionTokens = req.MaxTokens
	} else {
		creq.MaxTokens = req.MaxTokens
	}
	return creq, nil
}

// chatMessage maps one message. Images go as data: URLs in a multi-part
// content, and only in user messages (the only role the API takes them
// in); a text-only message goes as a plain string, which every server
// takes.
func chatMessage(msg policy.Message) (goopenai.ChatCompletionMessage, bool, error) {
	cm := goopenai.ChatCompletionMessage{Role: string(msg.Role)}
	hasImages := false
	for _, p := range msg.Parts {
		if p.IsImage() {
			hasImages = true
			if len(p.Data) == 0 {
				return cm, false, fmt.Errorf("an image part (%s) has no bytes", p.MIME)
			}
		}
	}
	if hasImages && msg.Role != policy.RoleUser {
		return cm, false, fmt.Errorf("a %s message holds an image: the API takes images in user messages only", msg.Role)
	}
	text := msg.Text()
	switch msg.Role {
	case policy.RoleSystem, policy.RoleUser:
		if text == "" && !hasImages {
			return cm, false, fmt.Errorf("the %s message has no text and no image", msg.Role)
		}
	case policy.RoleAssistant:
		for _, tc := range msg.ToolCalls {
			cm.ToolCalls = append(cm.ToolCalls, goopenai.ToolCall{
				ID:       tc.ID,
				Type:     goopenai.ToolTypeFunction,
				Function: goopenai.FunctionCall{Name: tc.Name, Arguments: tc.Arguments},
			})
		}
		if text == "" && len(msg.ToolCalls) == 0 {
			text = emptyAnswer
		}
	case policy.RoleTool:
		if msg.ToolCallID == "" {
			return cm, false, fmt.Errorf("the tool message does not say which call it answers (ToolCallID)")
		}
		cm.ToolCallID = msg.ToolCallID
		if text == "" {
			text = emptyResult
		}
	default:
		return cm, false, fmt.Errorf("unknown role %q (want system, user, assistant or tool)", msg.Role)
	}
	if len(msg.ToolCalls) > 0 && msg.Role != policy.RoleAssistant {
		return cm, false, fmt.Errorf("a %s message holds tool calls: only assistant messages do", msg.Role)
	}
	if !hasImages {
		cm.Content = text
		return cm, false, nil
	}
	for _, p := range msg.Parts {
		switch {
		case p.IsImage():
			cm.MultiContent = append(cm.MultiContent, goopenai.ChatMessagePart{
				Type:     goopenai.ChatMessagePartTypeImageURL,
				ImageURL: &goopenai.ChatMessageImageURL{URL: DataURL(p.MIME, p.Data)},
			})
		case p.Text != "":
			cm.MultiContent = append(cm.MultiContent, goopenai.ChatMessagePart{Type: goopenai.ChatMessagePartTypeText, Text: p.Text})
		}
	}
	return cm, true, nil
}

// DataURL returns data as a base64 data: URL, the form the API takes
// images in: "data:image/png;base64,iVBORw0…".
func DataURL(mime string, data []byte) string {
	return "data:" + mime + ";base64," + base64.StdEncoding.EncodeToString(data)
}

// response maps a decoded chat completion. Choices come in index order. A
// choice whose text is empty but that carries a refusal gets the refusal
// as its text; an old-style function_call becomes a tool call. A tool call
// without an ID (some local servers, function_call) gets one, "call_<choice>_<n>",
// so that the tool message answering it can name it.
func (m *Model) response(r goopenai.ChatCompletionResponse, rec *record) (*policy.Response, error) {
	if len(r.Choices) == 0 {
		return nil, m.badResponse(rec, "the response has no choices")
	}
	if r.Usage.PromptTokens < 0 || r.Usage.CompletionTokens < 0 {
		return nil, m.badResponse(rec, fmt.Sprintf("the response counts negative tokens (prompt %d, completion %d)", r.Usage.PromptTokens, r.Usage.CompletionTokens))
	}
	choices := slices.Clone(r.Choices)
	slices.SortStableFunc(choices, func(a, b goopenai.ChatCompletionChoice) int { return cmp.Compare(a.Index, b.Index) })
	resp := &policy.Response{Model: r.Model}
	if resp.Model == "" {
		resp.Model = m.info.Name
	}
	for i, c := range choices {
		msg := c.Message
		ch := policy.Choice{Text: msg.Content, FinishReason: string(c.FinishReason)}
		if ch.Text == "" && len(msg.MultiContent) > 0 {
			var parts []string
			for _, p := range msg.MultiContent {
				if p.Type == goopenai.ChatMessagePartTypeText || p.Text != "" {
					parts = append(parts, p.Text)
				}
			}
			ch.Text = strings.Join(parts, "\n")
		}
		if ch.Text == "" && msg.Refusal != "" {
			ch.Text = msg.Refusal
		}
		if ch.FinishReason == string(goopenai.FinishReasonNull) {
			ch.FinishReason = ""
		}
		for _, tc := range msg.ToolCalls {
			ch.ToolCalls = append(ch.ToolCalls, policy.ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: tc.Function.Arguments})
		}
		if fc := msg.FunctionCall; fc != nil && fc.Name != "" {
			ch.ToolCalls = append(ch.ToolCalls, policy.ToolCall{Name: fc.Name, Arguments: fc.Arguments})
		}
		for j := range ch.ToolCalls {
			if ch.ToolCalls[j].ID == "" {
				ch.ToolCalls[j].ID = fmt.Sprintf("call_%d_%d", i, j)
			}
		}
		resp.Choices = append(resp.Choices, ch)
	}
	resp.Usage.PromptTokens = r.Usage.PromptTokens
	resp.Usage.CompletionTokens = r.Usage.CompletionTokens
	return resp, nil
}
