package agent_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pilotkit/pilot/agent"
	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/policy"
)

func sample() *agent.Trajectory {
	return &agent.Trajectory{
		Task:   env.Task{ID: "shop-1", Suite: "shop", Instruction: "buy a cable", Answer: "42", Seed: 7, Hidden: map[string]string{"color": "red"}},
		Env:    "shop",
		Policy: "gpt",
		Start:  time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC),
		Reset:  agent.ObsRecord{SHA256: "ab", Text: "page\nwith \"quotes\"", URL: "http://x", Title: "X", Images: []agent.ImageRef{{MIME: "image/png", Path: "images/reset-0.png", W: 10, H: 5}}},
		Steps: []agent.StepRecord{
			{Index: 0, ActionText: `click("12")`, Action: env.A("click", "12"), Thought: "look", Obs: agent.ObsRecord{SHA256: "cd", Error: "no element with id 12"},
				PolicyTime: time.Millisecond, EnvTime: 2 * time.Millisecond, Usage: policy.Usage{PromptTokens: 5, CompletionTokens: 2, CostUSD: 0.001, Latency: time.Second},
				Meta: map[string]any{"model": "m", "temp": 0.5, "tags": []any{"a"}}},
			{Index: 1, ActionText: `move_joints([1, -2.5])`, Action: env.Action{Name: "move_joints", Vec: []float64{1, -2.5}}, Reward: 1, Terminated: true, Reason: "done",
				Obs: agent.ObsRecord{SHA256: "ef", State: []float64{0.25, -1}}},
		},
		Terminated: true,
		Reason:     "done",
		Return:     1,
		Reward:     1,
		Duration:   1500 * time.Millisecond,
		Success:    true,
		Usage:      policy.Usage{PromptTokens: 5, CompletionTokens: 2, CostUSD: 0.001, Latency: time.Second},
		Error:      "",
	}
}

func TestJSONLRoundTrip(t *testing.T) {
	run, err := agent.Run(context.Background(), newCounter(), task, policy.Replay(acts(`inc()`, `stop("1")`)), agent.Options{})
	if err != nil {
		t.Fatal(err)
	}
	empty := sample()
	empty.Steps = nil
	empty.Error = "agent: reset failed"
	for name, traj := range map[string]*agent.Trajectory{"sample": sample(), "run": run, "no steps": empty} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := traj.WriteJSONL(&buf); err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(buf.String(), "\n"); n != len(traj.Steps)+2 {
				t.Errorf("WriteJSONL wrote %d lines, want %d", n, len(traj.Steps)+2)
			}
			back, err := agent.ReadJSONL(&buf)
			if err != nil {
				t.Fatalf("ReadJSONL() error = %v", err)
			}
			if !reflect.DeepEqual(back, traj) {
				t.Errorf("ReadJSONL(WriteJSONL(t)) =\n%+v\nwant\n%+v", back, traj)
			}
		})
	}
}

func TestJSONLLines(t *testing.T) {
	var buf bytes.Buffer
	if err := sample().WriteJSONL(&buf); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	for i, prefix := range []string{`{"type":"episode",`, `{"type":"step","index":0,"action":"click(\"12\")",`, `{"type":"step","index":1,`, `{"type":"end","steps":2,"terminated":true,`} {
		if !strings.HasPrefix(lines[i], prefix) {
			t.Errorf("line %d = %s; want it to start %s", i+1, lines[i], prefix)
		}
	}
}

func TestReadJSONLRejects(t *testing.T) {
	var buf bytes.Buffer
	if err := sample().WriteJSONL(&buf); err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(buf.String(), "\n") // header, step 0, step 1, end, ""
	head, s0, s1, end := lines[0], lines[1], lines[2], lines[3]
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"garbage", head + "hello\n" + end, "trajectory line 2: not a JSON object"},
		{"no header", s0 + end, "trajectory line 1: want the {\"type\":\"episode\"} line first"},
		{"unknown type", head + `{"type":"frame"}` + "\n", `trajectory line 2: unknown line type "frame"`},
		{"bad field", head + `{"type":"step","index":"x"}` + "\n", "trajectory line 2: bad step line"},
		{"out of order", head + s1 + s0 + end, "trajectory line 2: step index 1, want 0"},
		{"wrong count", head + s0 + end, "trajectory line 3: the end line counts 2 steps but the file holds 1"},
		{"after end", head + s0 + s1 + end + s0, "trajectory line 5: \"step\" line after the end line"},
		{"two episodes", head + head, "trajectory line 2: a second episode line"},
		{"empty", "", "no episode line"},
		{"cut short", head + s0, "trajectory: no end line after 1 steps"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := agent.ReadJSONL(strings.NewReader(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ReadJSONL() error = %v; want one containing %q", err, tt.want)
			}
		})
	}
	// A cut-short file still yields what it holds.
	traj, err := agent.ReadJSONL(strings.NewReader(head + s0 + "\n\n"))
	if !errors.Is(err, io.ErrUnexpectedEOF) || traj == nil || len(traj.Steps) != 1 {
		t.Errorf("ReadJSONL(cut short) = %v, %v; want 1 step and io.ErrUnexpectedEOF", traj, err)
	}
}

func TestWriteJSONLError(t *testing.T) {
	bad := sample()
	bad.Steps[0].Meta = map[string]any{"f": func() {}}
	if err := bad.WriteJSONL(io.Discard); err == nil || !strings.Contains(err.Error(), "encode step 0") {
		t.Errorf("WriteJSONL(unencodable meta) error = %v; want one naming step 0", err)
	}
	if err := sample().WriteJSONL(failWriter{}); err == nil || !strings.Contains(err.Error(), "trajectory: write") {
		t.Errorf("WriteJSONL(failing writer) error = %v; want a write error", err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }
