package env_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/pilotkit/pilot/env"
)

// echo is an env whose observation repeats the last action's arguments,
// as a page shows what was typed into a text field.
type echo struct{ last string }

func (e *echo) Spec() env.Spec {
	return env.Spec{Name: "echo", Actions: []env.ActionSpec{{Name: "type", Params: []env.Param{{Name: "text", Type: env.String}}}, {Name: "fail", Params: []env.Param{{Name: "text", Type: env.String}}}}}
}
func (e *echo) Reset(context.Context, env.Task) (env.Observation, error) {
	return env.Observation{Text: "empty"}, nil
}
func (e *echo) Step(_ context.Context, a env.Action) (env.Step, error) {
	if a.Name == "fail" {
		return env.Step{}, errors.Join(env.ErrBackendLost, errors.New("lost while typing "+a.Arg(0)))
	}
	e.last = a.Arg(0)
	type verdict struct {
		Detail string `json:"detail"`
	}
	return env.Step{Obs: env.Observation{Text: `textbox value="` + a.Arg(0) + `"`, Title: a.Arg(0)}, Info: map[string]any{"typed": a.Arg(0), "verdicts": []verdict{{Detail: "the answer " + a.Arg(0) + " is wrong"}}, "n": 3}, Reason: "typed " + a.Arg(0)}, nil
}
func (e *echo) Close() error { return nil }

func TestWithSecrets(t *testing.T) {
	inner := &echo{}
	s := env.Secrets{"card": "4111111111111111"}
	e := env.WithSecrets(inner, s)
	if _, err := e.Reset(t.Context(), env.Task{}); err != nil {
		t.Fatal(err)
	}
	st, err := e.Step(t.Context(), env.A("type", "card <secret:card> ok"))
	if err != nil {
		t.Fatal(err)
	}
	if inner.last != "card 4111111111111111 ok" {
		t.Errorf("the env got %q, want the value filled in", inner.last)
	}
	nested := fmt.Sprint(st.Info["verdicts"])
	for what, got := range map[string]string{"text": st.Obs.Text, "title": st.Obs.Title, "reason": st.Reason, "info": st.Info["typed"].(string), "a struct in info": nested} {
		if strings.Contains(got, "4111") || !strings.Contains(got, "<secret:card>") {
			t.Errorf("the %s %q holds the value, or lacks the placeholder", what, got)
		}
	}
	if st.Info["n"] != 3 {
		t.Errorf("info without a secret changed: %v", st.Info["n"])
	}
	st, err = e.Step(t.Context(), env.A("type", "<secret:pin>"))
	if err != nil || !strings.Contains(st.Obs.Error, "secret pin is not set: set $PILOT_SECRET_PIN") || inner.last != "card 4111111111111111 ok" {
		t.Errorf("an unknown secret: %v, %q (the env got %q); want the step's error and nothing typed", err, st.Obs.Error, inner.last)
	}
	if !strings.Contains(st.Obs.Text, `textbox value="card <secret:card> ok"`) {
		t.Errorf("a refused step shows %q; want the page as it was (masked)", st.Obs.Text)
	}
	_, err = e.Step(t.Context(), env.A("fail", "<secret:card>"))
	if err == nil || strings.Contains(err.Error(), "4111") || !errors.Is(err, env.ErrBackendLost) {
		t.Errorf("an env error with the value: %v; want it masked and still env.ErrBackendLost", err)
	}
}

func TestLoadSecrets(t *testing.T) {
	s, err := env.LoadSecrets([]string{"PILOT_SECRET_CARD_NUMBER=4111111111111111", "HOME=/root"}, "")
	if err != nil || s["card_number"] != "4111111111111111" || len(s) != 1 {
		t.Fatalf("LoadSecrets = %v, %v", s, err)
	}
	for _, c := range []struct{ text, want string }{
		{"pw=abc", "shorter than 4"},
		{"no equals sign", "line 1: want NAME=VALUE"},
		{"\n# c\nbad name!=secret1", "line 3: secret name"},
	} {
		_, err := env.ParseSecrets(strings.NewReader(c.text))
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "secret1") {
			t.Errorf("ParseSecrets(%q) = %v, want %q and no value", c.text, err, c.want)
		}
	}
}

func FuzzParseSecrets(f *testing.F) {
	for _, s := range []string{"a=bcde", "# x\nCARD=4111 1111\n", "=", "x=\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		s, err := env.ParseSecrets(strings.NewReader(text))
		if err != nil {
			return
		}
		for name, v := range s {
			if len(v) < env.MinSecretLen {
				t.Fatalf("secret %s of %d characters accepted", name, len(v))
			}
			if got := s.Mask("x" + v + "y"); strings.Contains(got, v) && !strings.Contains(env.Placeholder(name), v) {
				t.Fatalf("Mask left %q in %q", v, got)
			}
		}
	})
}

// With no secrets set, a placeholder is refused, not typed as it is.
func TestWithNoSecrets(t *testing.T) {
	inner := &echo{}
	e := env.WithSecrets(inner, nil)
	if _, err := e.Reset(t.Context(), env.Task{}); err != nil {
		t.Fatal(err)
	}
	st, err := e.Step(t.Context(), env.A("type", "<secret:card>"))
	if err != nil || !strings.Contains(st.Obs.Error, "secret card is not set") || inner.last != "" || st.Obs.Text != "empty" {
		t.Errorf("a placeholder with no secrets: %v, %+v (the env got %q); want the step's error on the page as it was, nothing typed", err, st.Obs, inner.last)
	}
	if st, err := e.Step(t.Context(), env.A("type", "hello")); err != nil || inner.last != "hello" || st.Obs.Title != "hello" {
		t.Errorf("plain text with no secrets: %v, %+v", err, st.Obs)
	}
}
