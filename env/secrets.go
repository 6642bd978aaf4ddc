package env

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
)

// Secrets are values an agent may type but must never see or record: a
// card number, a password. Tasks and actions name them by placeholder,
// <secret:NAME>; WithSecrets puts the value in at the last moment and
// takes it out of everything the env returns.
type Secrets map[string]string

// MinSecretLen is the shortest secret Secrets take: a shorter value could
// not be told from ordinary text when it is masked in observations.
const MinSecretLen = 4

// placeholderRE matches <secret:NAME>; secretNameRE a NAME.
var (
	placeholderRE = regexp.MustCompile(`<secret:([A-Za-z0-9_]+)>`)
	secretNameRE  = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
)

// Placeholder is the text that stands for the secret name.
func Placeholder(name string) string { return "<secret:" + name + ">" }

// SecretEnvPrefix is the prefix of the environment variables
// LoadSecrets reads: PILOT_SECRET_CARD_NUMBER is <secret:card_number>.
const SecretEnvPrefix = "PILOT_SECRET_"

// LoadSecrets reads the secrets of the environment variables
// PILOT_SECRET_<NAME> (the name lower-cased) and, when path is not "",
// of a file of NAME=VALUE lines (blank lines and # comments skipped); the
// file wins. Errors name the line, never a value.
func LoadSecrets(environ []string, path string) (Secrets, error) {
	s := Secrets{}
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(k, SecretEnvPrefix) {
			continue
		}
		name := strings.ToLower(strings.TrimPrefix(k, SecretEnvPrefix))
		if err := s.add(name, v); err != nil {
			return nil, fmt.Errorf("secret from $%s: %w", k, err)
		}
	}
	if path == "" {
		return s, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("secrets file: %w", err)
	}
	defer f.Close()
	fs, err := ParseSecrets(f)
	if err != nil {
		return nil, fmt.Errorf("secrets file %s: %w", path, err)
	}
	maps.Copy(s, fs)
	return s, nil
}

// ParseSecrets reads NAME=VALUE lines.
func ParseSecrets(r io.Reader) (Secrets, error) {
	s := Secrets{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for line := 1; sc.Scan(); line++ {
		t := strings.TrimSpace(sc.Text())
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		name, v, ok := strings.Cut(t, "=")
		if !ok {
			return nil, fmt.Errorf("line %d: want NAME=VALUE", line)
		}
		if err := s.add(strings.TrimSpace(name), v); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s Secrets) add(name, v string) error {
	switch {
	case !secretNameRE.MatchString(name):
		return fmt.Errorf("secret name %q: want letters, digits and _", clipName(name))
	case len(v) < MinSecretLen:
		return fmt.Errorf("secret %s is shorter than %d characters: it could not be masked in what the agent sees", name, MinSecretLen)
	case strings.ContainsAny(v, "\n\r"):
		return fmt.Errorf("secret %s spans lines", name)
	}
	s[name] = v
	return nil
}

func clipName(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// Fill replaces the placeholders of s with their values. An unknown name
// is an error that names it (and where a value would come from).
func (s Secrets) Fill(text string) (string, error) {
	var missing []string
	out := placeholderRE.ReplaceAllStringFunc(text, func(m string) string {
		name := placeholderRE.FindStringSubmatch(m)[1]
		v, ok := s[name]
		if !ok {
			missing = append(missing, name)
			return m
		}
		return v
	})
	if len(missing) > 0 {
		return text, fmt.Errorf("secret %s is not set: set $%s%s or put %s=… in the secrets file", missing[0], SecretEnvPrefix, strings.ToUpper(missing[0]), missing[0])
	}
	return out, nil
}

// Mask replaces every secret value in text with its placeholder, longest
// first.
func (s Secrets) Mask(text string) string {
	if len(s) == 0 || text == "" {
		return text
	}
	names := slices.SortedFunc(maps.Keys(s), func(a, b string) int { return len(s[b]) - len(s[a]) })
	for _, n := range names {
		text = strings.ReplaceAll(text, s[n], Placeholder(n))
	}
	return text
}

// WithSecrets returns e with secrets: the placeholders in an action's
// arguments are replaced by their values just before e sees it, and the
// values are replaced by their placeholders in everything e returns
// (observation text, URL, title, errors, choices, info strings, Go
// errors). A placeholder without a value is the step's error, as a bad
// argument is. Images are not masked: a secret typed into a visible text
// field shows in a screenshot (password fields show dots).
//
// With no secrets at all it still refuses a placeholder (nothing to type
// for it) and masks nothing. It keeps e's snapshots (env.Snapshotter)
// when e has them.
func WithSecrets(e Env, s Secrets) Env {
	w := &secretEnv{inner: e, s: s}
	if _, ok := e.(Snapshotter); ok {
		return &secretSnapEnv{w}
	}
	return w
}

type secretEnv struct {
	inner Env
	s     Secrets
	last  Observation // the last observation given, masked: a refused step shows it again
}

func (w *secretEnv) Spec() Spec { return w.inner.Spec() }

func (w *secretEnv) Reset(ctx context.Context, t Task) (Observation, error) {
	obs, err := w.inner.Reset(ctx, t)
	w.last = w.maskObs(obs)
	return w.last, w.maskErr(err)
}

func (w *secretEnv) Step(ctx context.Context, a Action) (Step, error) {
	filled := a
	filled.Args = slices.Clone(a.Args)
	for i, arg := range a.Args {
		v, err := w.s.Fill(arg)
		if err != nil {
			// Nothing typed: the page as it was, with the error.
			obs := w.last
			obs.Error = fmt.Sprintf("%s: %v", a.Name, err)
			return Step{Obs: obs}, nil
		}
		filled.Args[i] = v
	}
	st, err := w.inner.Step(ctx, filled)
	if len(w.s) == 0 {
		w.last = st.Obs
		return st, err // nothing to mask
	}
	st.Obs = w.maskObs(st.Obs)
	w.last = st.Obs
	st.Reason = w.s.Mask(st.Reason)
	if len(st.Info) > 0 {
		info := make(map[string]any, len(st.Info))
		for k, v := range st.Info {
			info[k] = w.maskAny(v)
		}
		st.Info = info
	}
	return st, w.maskErr(err)
}

func (w *secretEnv) Close() error { return w.maskErr(w.inner.Close()) }

func (w *secretEnv) maskObs(o Observation) Observation {
	o.Text, o.URL, o.Title, o.Error = w.s.Mask(o.Text), w.s.Mask(o.URL), w.s.Mask(o.Title), w.s.Mask(o.Error)
	if len(o.Choices) > 0 {
		cs := make([]Action, len(o.Choices))
		for i, c := range o.Choices {
			c.Args = slices.Clone(c.Args)
			for j := range c.Args {
				c.Args[j] = w.s.Mask(c.Args[j])
			}
			cs[i] = c
		}
		o.Choices = cs
	}
	return o
}

func (w *secretEnv) maskAny(v any) any {
	switch x := v.(type) {
	case string:
		return w.s.Mask(x)
	case []string:
		out := make([]string, len(x))
		for i, s := range x {
			out[i] = w.s.Mask(s)
		}
		return out
	case nil, bool, int, int64, float64:
		return v
	}
	// Anything else (a struct, a map, a list of them: a task's
	// evaluations) is masked through its JSON form, which is what a
	// trajectory records; it stays as it is when it holds no secret.
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var g any
	if json.Unmarshal(b, &g) != nil {
		return v
	}
	changed := false
	g = w.maskJSON(g, &changed)
	if !changed {
		return v
	}
	return g
}

// maskJSON masks the strings of a decoded JSON value.
func (w *secretEnv) maskJSON(v any, changed *bool) any {
	switch x := v.(type) {
	case string:
		m := w.s.Mask(x)
		*changed = *changed || m != x
		return m
	case []any:
		for i := range x {
			x[i] = w.maskJSON(x[i], changed)
		}
	case map[string]any:
		for k := range x {
			x[k] = w.maskJSON(x[k], changed)
		}
	}
	return v
}

func (w *secretEnv) maskErr(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if m := w.s.Mask(msg); m != msg {
		return &maskedError{msg: m, err: err}
	}
	return err
}

// maskedError is an error whose text had a secret: it reads masked and
// still matches errors.Is of what it wraps.
type maskedError struct {
	msg string
	err error
}

func (e *maskedError) Error() string { return e.msg }
func (e *maskedError) Is(target error) bool {
	return errors.Is(e.err, target)
}

type secretSnapEnv struct{ *secretEnv }

type secretState struct {
	State
	obs Observation
}

func (s secretState) Observation() Observation { return s.obs }

func (w *secretSnapEnv) Snapshot(ctx context.Context) (State, error) {
	st, err := w.inner.(Snapshotter).Snapshot(ctx)
	if err != nil {
		return nil, w.maskErr(err)
	}
	return secretState{State: st, obs: w.maskObs(st.Observation())}, nil
}

func (w *secretSnapEnv) Restore(ctx context.Context, s State) error {
	ss, ok := s.(secretState)
	if !ok {
		return fmt.Errorf("secrets: restore: %w", ErrForeignState)
	}
	if err := w.inner.(Snapshotter).Restore(ctx, ss.State); err != nil {
		return w.maskErr(err)
	}
	w.last = ss.obs
	return nil
}

// Irreversible asks the inner env, when it can tell (env.Irreversible).
func (w *secretEnv) Irreversible(obs Observation, a Action) string {
	if ir, ok := w.inner.(Irreversible); ok {
		return ir.Irreversible(obs, a)
	}
	return ""
}

// Brief is the inner env's (Briefer), masked.
func (w *secretEnv) Brief() string {
	if b, ok := w.inner.(Briefer); ok {
		return w.s.Mask(b.Brief())
	}
	return ""
}

// Replayed is the inner env's (Replayer): a page with secrets still
// replays its restores.
func (w *secretEnv) Replayed() bool {
	r, ok := w.inner.(Replayer)
	return ok && r.Replayed()
}
