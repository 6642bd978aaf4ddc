package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/pilotkit/pilot/env"
)

// The wire types. Their JSON tags and doc tags are the OpenAPI
// description's schemas (see openapi.go): a field without omitempty is
// required there, and every response carries it.

// Suite is GET /v1/suite: what the server serves.
type Suite struct {
	Name        string       `json:"name" doc:"the registered suite, such as shop"`
	Suite       string       `json:"suite" doc:"the loaded suite and split, such as shop/test"`
	Doc         string       `json:"doc" doc:"one line on the suite"`
	Split       string       `json:"split"`
	Engine      string       `json:"engine" doc:"what runs the envs: chromium, lite, fast, serial or native"`
	Seed        int64        `json:"seed" doc:"the suite's seed (the shop's catalog and tasks)"`
	Env         string       `json:"env" doc:"the env's name (env.Spec)"`
	Modalities  []string     `json:"modalities" doc:"what observations carry: text, image, state"`
	Tasks       []string     `json:"tasks" doc:"the ids of the split's tasks, in order; POST /v1/sessions takes one (task) or its position (index)"`
	Actions     []ActionSpec `json:"actions" doc:"the action vocabulary: each action as a tool for tool-calling models, with its text form"`
	MaxSteps    int          `json:"max_steps" doc:"steps an episode may take before it is truncated; 0 for no limit"`
	MaxSessions int          `json:"max_sessions" doc:"sessions open at once at most"`
	IdleSeconds float64      `json:"idle_timeout_s" doc:"a session idle this long is closed"`
	Sessions    int          `json:"sessions" doc:"sessions open now"`
}

// ActionSpec is one action: a tool description ({name, description,
// parameters}, as OpenAI's function tools take it) and its call form.
type ActionSpec struct {
	Name        string         `json:"name"`
	Description string         `json:"description"`
	Signature   string         `json:"signature" doc:"the action's text form, such as fill(id, text): write fill(\"7\", \"usb-c cable\")"`
	Parameters  map[string]any `json:"parameters" doc:"the JSON schema of the tool call's arguments"`
}

// SessionRequest is the body of POST /v1/sessions and of POST
// /v1/sessions/{id}/reset. Every field is optional: the default task is
// the split's first.
type SessionRequest struct {
	Task   string `json:"task,omitempty" doc:"the task's id, one of GET /v1/suite's tasks"`
	Index  *int   `json:"index,omitempty" doc:"the task's position in GET /v1/suite's tasks, from 0 (instead of task)"`
	Seed   *int64 `json:"seed,omitempty" doc:"the episode's seed (env.Task.Seed); the task's own by default"`
	Images string `json:"images,omitempty" doc:"how observations carry images: url (default), base64 or none"`
}

// StepRequest is the body of POST /v1/sessions/{id}/step: an action in
// pilot's grammar, or a tool call.
type StepRequest struct {
	Action   string    `json:"action,omitempty" doc:"the action in pilot's grammar, such as click(\"12\") or fill(\"7\", \"usb-c cable\")"`
	ToolCall *ToolCall `json:"tool_call,omitempty" doc:"the action as a model's tool call (instead of action)"`
	Images   string    `json:"images,omitempty" doc:"how the observation carries images: url (default), base64 or none"`
}

// ToolCall is an action as a tool-calling model sends it: a name and
// its arguments, a JSON object or (as in OpenAI's tool calls) a string
// that holds one. OpenAI's own shape, {"id", "type": "function",
// "function": {"name", "arguments"}}, is taken too.
type ToolCall struct {
	ID        string          `json:"id,omitempty" doc:"the model's call id; ignored"`
	Type      string          `json:"type,omitempty" doc:"function, when given"`
	Name      string          `json:"name,omitempty" doc:"the action's name (or function.name)"`
	Arguments json.RawMessage `json:"arguments,omitempty" doc:"a JSON object of the action's parameters, or a string that holds one"`
	Function  *ToolFunction   `json:"function,omitempty" doc:"OpenAI's form: the name and arguments (instead of name and arguments)"`
}

// ToolFunction is the function of an OpenAI tool call.
type ToolFunction struct {
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments,omitempty"`
}

// Task is what an episode is asked to do, as the client sees it: the
// expected answer and what only a simulated user knows stay on the server.
type Task struct {
	ID          string `json:"id"`
	Suite       string `json:"suite"`
	Instruction string `json:"instruction"`
	StartURL    string `json:"start_url,omitempty"`
	Seed        int64  `json:"seed"`
}

// Observation is env.Observation on the wire.
type Observation struct {
	Text    string    `json:"text" doc:"the observation as pilot prints it and a text-only policy reads it: for the web, the URL, title, the last action's error and the element tree with ids"`
	URL     string    `json:"url"`
	Title   string    `json:"title"`
	Error   string    `json:"error" doc:"the last action's error, empty when it went well (also part of text)"`
	State   []float64 `json:"state" doc:"proprioception or a classic-control state vector"`
	Choices []string  `json:"choices" doc:"the valid actions now, in pilot's grammar, where the env lists them"`
	Images  []Image   `json:"images" doc:"screenshots or camera frames"`
}

// Image is one picture of an observation: a URL to GET it from (valid
// until the session's next step or reset), or its bytes in base64.
type Image struct {
	MIME string `json:"mime" doc:"image/png or image/jpeg"`
	W    int    `json:"w,omitempty"`
	H    int    `json:"h,omitempty"`
	URL  string `json:"url,omitempty" doc:"where to GET the image (images=url)"`
	Data string `json:"data,omitempty" doc:"the image, base64 (images=base64)"`
}

// Session is the answer to POST /v1/sessions, POST
// /v1/sessions/{id}/reset and GET /v1/sessions/{id}.
type Session struct {
	Session     string      `json:"session" doc:"the session's id, for the routes under /v1/sessions/{id}"`
	Task        Task        `json:"task"`
	Episode     int         `json:"episode" doc:"the session's episodes so far, this one included"`
	Steps       int         `json:"steps" doc:"the steps of this episode so far"`
	Done        bool        `json:"done" doc:"the episode is over (terminated or truncated): reset or delete the session"`
	Observation Observation `json:"observation" doc:"the last observation"`
}

// Step is the answer to POST /v1/sessions/{id}/step: Gymnasium's step.
type Step struct {
	Observation Observation    `json:"observation"`
	Action      string         `json:"action" doc:"the action applied, in pilot's grammar"`
	Reward      float64        `json:"reward"`
	Terminated  bool           `json:"terminated" doc:"the task ended: success or failure"`
	Truncated   bool           `json:"truncated" doc:"a limit outside the task cut the episode: steps, time"`
	Reason      string         `json:"reason" doc:"why the episode ended, when it did"`
	Info        map[string]any `json:"info" doc:"what the env reports beside the observation, such as the shop's reward breakdown"`
	Steps       int            `json:"steps" doc:"the steps of this episode so far, this one included"`
}

// Closed is the answer to DELETE /v1/sessions/{id}.
type Closed struct {
	Session string `json:"session"`
	Closed  bool   `json:"closed"`
}

// Error is the body of every 4xx and 5xx answer.
type Error struct {
	Error string `json:"error" doc:"what went wrong and what to do"`
}

// Image delivery modes (SessionRequest.Images, StepRequest.Images and the
// images query parameter).
const (
	ImagesURL    = "url"
	ImagesBase64 = "base64"
	ImagesNone   = "none"
)

// decodeJSON reads one JSON object of r into v, strictly: unknown fields,
// trailing data and (unless empty is allowed) an empty body are errors
// whose text says what the body should be.
func decodeJSON(r io.Reader, v any, emptyOK bool, want string) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err // the caller tells a body too large from the rest
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		if emptyOK {
			return nil
		}
		return fmt.Errorf("the body is empty: send %s", want)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.ErrUnexpectedEOF):
			return fmt.Errorf("the body is not JSON (it ends in the middle of a value): send %s", want)
		case errors.As(err, &syn):
			return fmt.Errorf("the body is not JSON (at byte %d: %v): send %s", syn.Offset, err, want)
		case errors.As(err, &typ) && typ.Field != "":
			return fmt.Errorf("field %q must be a JSON %s, not %s: send %s", typ.Field, jsonKind(typ.Type.Kind().String()), typ.Value, want)
		case errors.As(err, &typ):
			return fmt.Errorf("the body must be a JSON object, not %s: send %s", typ.Value, want)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return fmt.Errorf("%s: send %s", strings.TrimPrefix(err.Error(), "json: "), want)
		default:
			return fmt.Errorf("the body does not decode (%v): send %s", err, want)
		}
	}
	if dec.More() {
		return fmt.Errorf("the body holds more than one JSON value: send %s", want)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("the body holds more than one JSON value: send %s", want)
	}
	return nil
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "struct", "map":
		return "object"
	case "slice", "array":
		return "array"
	case "ptr":
		return "value"
	}
	return "number"
}

// action turns a step request into an action of spec: the text parsed
// with env.ParseAction, or the tool call read by the action's
// FromToolCall. The error says what to send instead.
func (q *StepRequest) action(spec env.Spec) (env.Action, error) {
	switch {
	case q.Action != "" && q.ToolCall != nil:
		return env.Action{}, errors.New(`give either "action" or "tool_call", not both`)
	case q.Action == "" && q.ToolCall == nil:
		return env.Action{}, errors.New(`give the action: {"action": "click(\"12\")"} or {"tool_call": {"name": "click", "arguments": "{\"id\": \"12\"}"}}`)
	case q.Action != "":
		a, err := env.ParseAction(q.Action)
		if err != nil {
			return env.Action{}, fmt.Errorf("%w; GET /v1/suite lists the actions", err)
		}
		return a, nil
	}
	name, args, err := q.ToolCall.parts()
	if err != nil {
		return env.Action{}, err
	}
	as, ok := spec.Action(name)
	if !ok {
		return env.Action{}, fmt.Errorf("tool call: unknown action %q: %s knows %s", name, spec.Name, actionNames(spec))
	}
	a, err := as.FromToolCall(args)
	if err != nil {
		return env.Action{}, fmt.Errorf("%w; GET /v1/suite gives each action's parameters", err)
	}
	return a, nil
}

// parts returns the call's name and its arguments as a JSON text.
func (c *ToolCall) parts() (name, args string, err error) {
	name, raw := c.Name, c.Arguments
	if c.Function != nil {
		if c.Name != "" || len(c.Arguments) > 0 {
			return "", "", errors.New(`tool call: give name and arguments, or function {name, arguments}, not both`)
		}
		name, raw = c.Function.Name, c.Function.Arguments
	}
	if c.Type != "" && c.Type != "function" {
		return "", "", fmt.Errorf("tool call: type %q: want function", c.Type)
	}
	if name == "" {
		return "", "", errors.New(`tool call: the name is missing: {"name": "click", "arguments": {"id": "12"}}`)
	}
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return name, "{}", nil
	case raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", "", fmt.Errorf("tool call %s: arguments: %w", name, err)
		}
		return name, s, nil
	case raw[0] == '{':
		return name, string(raw), nil
	}
	return "", "", fmt.Errorf("tool call %s: arguments must be a JSON object or a string that holds one, not %s", name, clip(string(raw), 40))
}

func actionNames(spec env.Spec) string {
	names := make([]string, len(spec.Actions))
	for i, a := range spec.Actions {
		names[i] = a.Name
	}
	return strings.Join(names, ", ")
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// imageMode checks an images mode, "" for the default.
func imageMode(body, query string) (string, error) {
	for _, m := range []string{body, query} {
		switch m {
		case "", ImagesURL, ImagesBase64, ImagesNone:
		default:
			return "", fmt.Errorf("images %q: want url, base64 or none", clip(m, 20))
		}
	}
	switch {
	case body != "" && query != "" && body != query:
		return "", fmt.Errorf("images is %s in the body and %s in the query: give one", body, query)
	case body != "":
		return body, nil
	case query != "":
		return query, nil
	}
	return ImagesURL, nil
}
