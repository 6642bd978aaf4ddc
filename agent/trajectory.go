package agent

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/policy"
)

// Trajectory is one episode as it happened: the unit that evals store,
// viewers show and learners train on.
type Trajectory struct {
	Task   env.Task
	Env    string // the env's Spec().Name
	Policy string // Options.PolicyName
	Start  time.Time
	// Reset is the observation Reset returned.
	Reset ObsRecord
	Steps []StepRecord

	// Terminated and Truncated are the last step's, as the env reported
	// them, except that a budget (Options) that ends the episode sets
	// Truncated. Reason says why the episode ended: the env's reason, or
	// the budget's ("step limit 50 reached").
	Terminated bool
	Truncated  bool
	Reason     string

	Return   float64 // the sum of the step rewards
	Reward   float64 // the last step's reward, 0 when there were no steps
	Duration time.Duration
	// Success is Terminated && Reward >= 1: the env ended the task and
	// its final reward is full marks; or, when the last step's Info has
	// env.InfoSuccess (envs with shaped rewards), Terminated and that
	// verdict.
	Success bool
	// Usage sums the policy's usage over the steps.
	Usage policy.Usage
	// Questions counts the questions asked of the Human (ask_user and
	// confirm within the budget).
	Questions int
	// Error is the error Run returned, "" when the episode ran to its end.
	Error string
}

// StepRecord is one step of a trajectory.
type StepRecord struct {
	// Index is the step's 0-based index, the same as policy.Input.Step.
	Index int `json:"index"`
	// ActionText is the action's canonical text form: click("12").
	ActionText string     `json:"action"`
	Action     env.Action `json:"act"`
	Thought    string     `json:"thought,omitempty"`
	// Reward, Terminated, Truncated and Reason are what env.Step returned.
	Reward     float64 `json:"reward"`
	Terminated bool    `json:"terminated,omitempty"`
	Truncated  bool    `json:"truncated,omitempty"`
	Reason     string  `json:"reason,omitempty"`
	// Obs is the observation that followed the action.
	Obs        ObsRecord      `json:"obs"`
	PolicyTime time.Duration  `json:"policy_ns"`
	EnvTime    time.Duration  `json:"env_ns"`
	Usage      policy.Usage   `json:"usage,omitzero"`
	Meta       map[string]any `json:"meta,omitempty"`
	// Info is env.Step.Info: what the env reports beside the observation,
	// such as the shop's reward breakdown.
	Info map[string]any `json:"info,omitempty"`
	// Unchanged counts how many steps in a row, this one included, the
	// policy repeated the action before it and the observation stayed
	// the same (same SHA256): 0 when something changed. A policy stuck on
	// a move that does nothing (a gripper that cannot reach, a button that
	// does not respond) shows here and in Progress's warning, rather than
	// silently spending the step budget.
	Unchanged int `json:"unchanged,omitempty"`
	// Tool is the step's tool call (ask_user, confirm,
	// report_infeasible), nil for an env step.
	Tool *ToolCall `json:"tool,omitempty"`
	// Gate is what the confirmation gate did before an irreversible
	// action (Options.Confirm), nil when it was not asked.
	Gate *Gate `json:"gate,omitempty"`
}

// ObsRecord is what a trajectory keeps of an observation.
type ObsRecord struct {
	// SHA256 is the hex SHA-256 of the observation's Text followed by its
	// State (each value as 8 little-endian bytes of its IEEE 754 bits). It
	// identifies the observation even when Text is dropped.
	SHA256 string `json:"sha256"`
	// Text is the observation's text, "" when Options.DropObsText is set.
	Text string `json:"text,omitempty"`
	// Tokens estimates the tokens of Text in OpenAI's cl100k_base encoding
	// (env.EstimateTokens): what the observation costs a model's context.
	Tokens int       `json:"tokens,omitempty"`
	URL    string    `json:"url,omitempty"`
	Title  string    `json:"title,omitempty"`
	Error  string    `json:"error,omitempty"`
	State  []float64 `json:"state,omitempty"`
	// Images describes the observation's images. Their bytes are not
	// kept: an observer that stores them (Recorder) fills in Path.
	Images []ImageRef `json:"images,omitempty"`
}

// ImageRef describes one image of an observation.
type ImageRef struct {
	MIME string `json:"mime"`
	// Path is where an observer stored the image, slash-separated and
	// relative to its record directory ("images/step-0003-0.jpg"); ""
	// when no one stored it.
	Path string `json:"path,omitempty"`
	W    int    `json:"w,omitempty"`
	H    int    `json:"h,omitempty"`
}

// recordObs digests an observation.
func recordObs(o *env.Observation, keepText bool) ObsRecord {
	r := ObsRecord{URL: o.URL, Title: o.Title, Error: o.Error, SHA256: digest(o.Text, o.State), Tokens: env.EstimateTokens(o.Text)}
	if keepText {
		r.Text = o.Text
	}
	if len(o.State) > 0 {
		r.State = append([]float64(nil), o.State...)
	}
	if len(o.Images) > 0 {
		r.Images = make([]ImageRef, len(o.Images))
		for i, im := range o.Images {
			r.Images[i] = ImageRef{MIME: im.MIME, W: im.W, H: im.H}
		}
	}
	return r
}

func digest(text string, state []float64) string {
	// Copy through a stack buffer: []byte(text) would allocate a copy of
	// the whole text on every step.
	var buf [4096]byte
	h := sha256.New()
	for len(text) > 0 {
		n := copy(buf[:], text)
		h.Write(buf[:n])
		text = text[n:]
	}
	b := buf[:0]
	for _, v := range state {
		if len(b)+8 > len(buf) {
			h.Write(b)
			b = buf[:0]
		}
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	h.Write(b)
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0]))
}

// The JSON lines format: a header line, one line per step, an end line.
type (
	headerLine struct {
		Type   string    `json:"type"` // "episode"
		Task   env.Task  `json:"task"`
		Env    string    `json:"env"`
		Policy string    `json:"policy,omitempty"`
		Start  time.Time `json:"start"`
		Reset  ObsRecord `json:"reset"`
	}
	stepLine struct {
		Type string `json:"type"` // "step"
		*StepRecord
	}
	endLine struct {
		Type       string        `json:"type"` // "end"
		Steps      int           `json:"steps"`
		Terminated bool          `json:"terminated"`
		Truncated  bool          `json:"truncated"`
		Reason     string        `json:"reason,omitempty"`
		Return     float64       `json:"return"`
		Reward     float64       `json:"reward"`
		Duration   time.Duration `json:"duration_ns"`
		Success    bool          `json:"success"`
		Usage      policy.Usage  `json:"usage,omitzero"`
		Questions  int           `json:"questions,omitempty"`
		Error      string        `json:"error,omitempty"`
	}
)

func (t *Trajectory) headerJSON() ([]byte, error) {
	return marshalLine(headerLine{Type: "episode", Task: t.Task, Env: t.Env, Policy: t.Policy, Start: t.Start, Reset: t.Reset})
}

func stepJSON(s *StepRecord) ([]byte, error) {
	return marshalLine(stepLine{Type: "step", StepRecord: s})
}

func (t *Trajectory) endJSON() ([]byte, error) {
	return marshalLine(endLine{
		Type: "end", Steps: len(t.Steps), Terminated: t.Terminated, Truncated: t.Truncated, Reason: t.Reason,
		Return: t.Return, Reward: t.Reward, Duration: t.Duration, Success: t.Success, Usage: t.Usage, Questions: t.Questions, Error: t.Error,
	})
}

func marshalLine(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// WriteJSONL writes the trajectory as JSON lines: a header
// {"type":"episode",...}, one {"type":"step",...} per step and a final
// {"type":"end",...}. ReadJSONL reads it back.
func (t *Trajectory) WriteJSONL(w io.Writer) error {
	bw := bufio.NewWriter(w)
	b, err := t.headerJSON()
	if err != nil {
		return fmt.Errorf("trajectory: encode the episode line: %w", err)
	}
	bw.Write(b)
	for i := range t.Steps {
		b, err := stepJSON(&t.Steps[i])
		if err != nil {
			return fmt.Errorf("trajectory: encode step %d: %w (Meta values must be JSON-encodable, rewards finite)", t.Steps[i].Index, err)
		}
		bw.Write(b)
	}
	if b, err = t.endJSON(); err != nil {
		return fmt.Errorf("trajectory: encode the end line: %w", err)
	}
	bw.Write(b)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("trajectory: write: %w", err)
	}
	return nil
}

// MaxLineBytes bounds one line ReadJSONL accepts.
const MaxLineBytes = 64 << 20

// ReadJSONL reads a trajectory written by WriteJSONL or by a Recorder.
// Errors name the line. A file that stops before its end line (a run that
// was killed) yields the trajectory so far and an error wrapping
// io.ErrUnexpectedEOF.
func ReadJSONL(r io.Reader) (*Trajectory, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLineBytes)
	var (
		t     *Trajectory
		ended bool
		n     int
	)
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var head struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(line, &head); err != nil {
			return t, fmt.Errorf("trajectory line %d: not a JSON object: %w", n, err)
		}
		if ended {
			return t, fmt.Errorf("trajectory line %d: %q line after the end line: one file holds one episode", n, head.Type)
		}
		if t == nil && head.Type != "episode" {
			return nil, fmt.Errorf("trajectory line %d: want the {\"type\":\"episode\"} line first, got type %q", n, head.Type)
		}
		switch head.Type {
		case "episode":
			if t != nil {
				return t, fmt.Errorf("trajectory line %d: a second episode line: one file holds one episode", n)
			}
			var h headerLine
			if err := json.Unmarshal(line, &h); err != nil {
				return nil, fmt.Errorf("trajectory line %d: bad episode line: %w", n, err)
			}
			t = &Trajectory{Task: h.Task, Env: h.Env, Policy: h.Policy, Start: h.Start, Reset: h.Reset}
		case "step":
			var s StepRecord
			if err := json.Unmarshal(line, &stepLine{StepRecord: &s}); err != nil {
				return t, fmt.Errorf("trajectory line %d: bad step line: %w", n, err)
			}
			if s.Index != len(t.Steps) {
				return t, fmt.Errorf("trajectory line %d: step index %d, want %d: steps must come in order", n, s.Index, len(t.Steps))
			}
			t.Steps = append(t.Steps, s)
		case "end":
			var e endLine
			if err := json.Unmarshal(line, &e); err != nil {
				return t, fmt.Errorf("trajectory line %d: bad end line: %w", n, err)
			}
			if e.Steps != len(t.Steps) {
				return t, fmt.Errorf("trajectory line %d: the end line counts %d steps but the file holds %d", n, e.Steps, len(t.Steps))
			}
			t.Terminated, t.Truncated, t.Reason = e.Terminated, e.Truncated, e.Reason
			t.Return, t.Reward, t.Duration, t.Success = e.Return, e.Reward, e.Duration, e.Success
			t.Usage, t.Error, t.Questions = e.Usage, e.Error, e.Questions
			ended = true
		default:
			return t, fmt.Errorf("trajectory line %d: unknown line type %q: want episode, step or end", n, head.Type)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return t, fmt.Errorf("trajectory line %d: longer than %d bytes: %w", n+1, MaxLineBytes, err)
		}
		return t, fmt.Errorf("trajectory line %d: read: %w", n+1, err)
	}
	if t == nil {
		return nil, fmt.Errorf("trajectory: no episode line: the input is empty: %w", io.ErrUnexpectedEOF)
	}
	if !ended {
		return t, fmt.Errorf("trajectory: no end line after %d steps: the run was cut short: %w", len(t.Steps), io.ErrUnexpectedEOF)
	}
	return t, nil
}

// Actions returns the actions of the trajectory's steps, in order: give
// them to policy.Replay to reproduce the episode.
func (t *Trajectory) Actions() []env.Action {
	acts := make([]env.Action, len(t.Steps))
	for i, s := range t.Steps {
		acts[i] = s.Action
	}
	return acts
}
