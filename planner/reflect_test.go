package planner_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/pilotkit/pilot/agent"
	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/planner"
	"github.com/pilotkit/pilot/policy"
)

// lessonModel is a model on the trap tree (a paid API's stand-in, through
// the real policy.LLMPolicy prompts and parser): it answers branch a
// everywhere until a prompt carries the lesson it gave when asked to
// reflect; then it walks to the optimum, c a b.
type lessonModel struct {
	mu          sync.Mutex
	reflections int
	sawLesson   bool
}

const lesson = "Branch a is a trap: start with c, then a, then b."

func (m *lessonModel) Info() policy.ModelInfo {
	return policy.ModelInfo{Provider: "test", Name: "lessons"}
}

func (m *lessonModel) Generate(_ context.Context, req policy.Request) (*policy.Response, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	last := req.Messages[len(req.Messages)-1].Text()
	if strings.Contains(last, "what went wrong") {
		m.reflections++
		return &policy.Response{Choices: []policy.Choice{{Text: lesson}}}, nil
	}
	answer := "Action: a()"
	if strings.Contains(last, lesson) {
		m.sawLesson = true
		next := map[string]string{`at ""`: "c", `at "c"`: "a", `at "ca"`: "b"}
		for at, b := range next {
			if strings.Contains(last, at) {
				answer = "Action: " + b + "()"
			}
		}
	}
	n := max(req.N, 1)
	var cs []policy.Choice
	for range n {
		cs = append(cs, policy.Choice{Text: "The next branch.\n" + answer})
	}
	return &policy.Response{Choices: cs}, nil
}

// MCTS over a model's samples reflects on the failed attempts and puts
// the lesson in later prompts (LATS), which leads it out of the trap;
// without reflections the same model never proposes anything but the
// trap.
func TestMCTSReflections(t *testing.T) {
	run := func(noReflect bool) (*agent.Trajectory, *lessonModel) {
		m := &lessonModel{}
		llm := policy.LLM(m, policy.LLMOptions{})
		p, err := planner.NewMCTS(planner.Samples(llm), planner.Oracle{}, planner.Options{Depth: 3, Branch: 2, Budget: 12, NoReflect: noReflect})
		if err != nil {
			t.Fatal(err)
		}
		traj, err := agent.Run(t.Context(), trapTree(), env.Task{Instruction: "reach the best leaf"}, p, agent.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return traj, m
	}
	traj, m := run(false)
	if !traj.Success || m.reflections == 0 || !m.sawLesson {
		t.Fatalf("with reflections: success %v after %q, %d reflections, lesson seen %v; want the optimum through the lesson", traj.Success, stepTexts(traj), m.reflections, m.sawLesson)
	}
	rec, ok := traj.Steps[0].Meta["search"].(*planner.Record)
	if !ok || len(rec.Reflections) == 0 || rec.Reflections[0] != lesson {
		t.Errorf("the first search's record has reflections %v, want the lesson", rec.Reflections)
	}
	traj, m = run(true)
	if traj.Success || m.reflections != 0 {
		t.Errorf("without reflections: success %v, %d reflections; want the trap and none", traj.Success, m.reflections)
	}
}

func stepTexts(traj *agent.Trajectory) string {
	var s []string
	for _, st := range traj.Steps {
		s = append(s, st.ActionText)
	}
	return strings.Join(s, " ")
}
