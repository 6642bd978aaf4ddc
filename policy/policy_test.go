package policy_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/policy"
)

var (
	withNoop = env.Spec{Name: "t", Actions: []env.ActionSpec{{Name: "noop"}, {Name: "click"}}}
	withStop = env.Spec{Name: "t", Actions: []env.ActionSpec{{Name: "stop", Params: []env.Param{{Name: "answer", Type: env.String}}}}}
	bare     = env.Spec{Name: "bare", Actions: []env.ActionSpec{{Name: "click"}}}
)

func TestRandom(t *testing.T) {
	choices := []env.Action{env.A("click", "1"), env.A("click", "2"), env.A("click", "3")}
	tests := []struct {
		name    string
		spec    env.Spec
		choices []env.Action
		want    string // action text, or "" when an error is wanted
		wantErr string
	}{
		{"one choice", bare, choices[:1], `click("1")`, ""},
		{"no choices with noop", withNoop, nil, `noop()`, ""},
		{"no choices without noop", bare, nil, "", "lists no choices"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := policy.Random(1)
			d, err := p.Act(context.Background(), policy.Input{Spec: tt.spec, Obs: env.Observation{Choices: tt.choices}})
			got := d.Action.String()
			if err != nil {
				got = ""
			}
			if got != tt.want || !errContains(err, tt.wantErr) {
				t.Errorf("Act() = %s, %v; want %s, error containing %q", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func errContains(err error, s string) bool {
	if s == "" {
		return err == nil
	}
	return err != nil && strings.Contains(err.Error(), s)
}

func TestRandomSeeded(t *testing.T) {
	choices := make([]env.Action, 10)
	for i := range choices {
		choices[i] = env.A("click", string(rune('a'+i)))
	}
	run := func(seed int64) string {
		p := policy.Random(seed)
		var b strings.Builder
		for i := range 50 {
			d, err := p.Act(context.Background(), policy.Input{Spec: bare, Step: i, Obs: env.Observation{Choices: choices}})
			if err != nil {
				t.Fatal(err)
			}
			b.WriteString(d.Action.Arg(0))
		}
		return b.String()
	}
	a, b, c := run(7), run(7), run(8)
	if a != b {
		t.Errorf("Random(7) gave %s then %s; want the same sequence", a, b)
	}
	if a == c {
		t.Errorf("Random(7) and Random(8) both gave %s; want different sequences", a)
	}
	seen := map[rune]bool{}
	for _, r := range a {
		seen[r] = true
	}
	if len(seen) < 5 {
		t.Errorf("Random(7) over 50 steps picked only %d of 10 choices: %s", len(seen), a)
	}
}

func TestReplay(t *testing.T) {
	list := []env.Action{env.A("click", "1"), env.A("fill", "2", "x")}
	tests := []struct {
		name    string
		spec    env.Spec
		step    int
		want    string
		wantErr string
	}{
		{"first", bare, 0, `click("1")`, ""},
		{"second", bare, 1, `fill("2", "x")`, ""},
		{"ran out with stop in the spec", withStop, 2, "", "replay: all 2 actions were played"},
		{"ran out", bare, 2, "", "replay: all 2 actions were played"},
		{"negative step", bare, -1, "", "negative"},
	}
	p := policy.Replay(list)
	list[0] = env.A("changed") // Replay keeps its own copy
	if _, err := p.Act(context.Background(), policy.Input{Spec: withStop, Step: 2}); !errors.Is(err, policy.ErrDone) {
		t.Errorf("Act past the list: error %v, want one wrapping policy.ErrDone", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := p.Act(context.Background(), policy.Input{Spec: tt.spec, Step: tt.step})
			got := d.Action.String()
			if err != nil {
				got = ""
			}
			if got != tt.want || !errContains(err, tt.wantErr) {
				t.Errorf("Act(step %d) = %s, %v; want %s, error containing %q", tt.step, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for name, p := range map[string]policy.Policy{"random": policy.Random(1), "replay": policy.Replay(nil)} {
		if _, err := p.Act(ctx, policy.Input{Spec: withNoop}); !errors.Is(err, context.Canceled) {
			t.Errorf("%s.Act(cancelled ctx) error = %v, want context.Canceled", name, err)
		}
	}
}

func TestLoadActions(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string
		wantErr string
	}{
		{"empty", "", nil, ""},
		{"comments and blanks", "# a plan\n\nclick(\"12\")\n   \n  # indented comment\nfill('7', \"usb-c cable\")\r\nstop()\n",
			[]string{`click("12")`, `fill("7", "usb-c cable")`, `stop()`}, ""},
		{"no final newline", "go_back()", []string{`go_back()`}, ""},
		{"vector", "move_joints([0, 10.5])", []string{`move_joints([0, 10.5])`}, ""},
		{"bad line named", "click(1)\n# ok\nclick(\n", nil, "actions file line 3: cannot parse action"},
		{"garbage first line", "hello world\n", nil, "actions file line 1: cannot parse action"},
		{"too long", "click(1)\n" + strings.Repeat("x", env.MaxActionLen+2000), nil, "actions file line 2: line is longer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := policy.LoadActions(strings.NewReader(tt.in))
			var texts []string
			for _, a := range got {
				texts = append(texts, a.String())
			}
			if strings.Join(texts, "|") != strings.Join(tt.want, "|") || !errContains(err, tt.wantErr) {
				t.Errorf("LoadActions(%.40q) = %q, %v; want %q, error containing %q", tt.in, texts, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestReadActionsFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.txt")
	bad := filepath.Join(dir, "bad.txt")
	if err := os.WriteFile(good, []byte("click(\"1\")\nstop(\"done\")\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("click(\"1\")\n)(\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	acts, err := policy.ReadActionsFile(good)
	if err != nil || len(acts) != 2 || !acts[1].Equal(env.A("stop", "done")) {
		t.Errorf("ReadActionsFile(good) = %v, %v; want [click(\"1\") stop(\"done\")], nil", acts, err)
	}
	if _, err := policy.ReadActionsFile(bad); !errContains(err, "bad.txt: actions file line 2:") {
		t.Errorf("ReadActionsFile(bad) error = %v; want it to name the file and line 2", err)
	}
	if _, err := policy.ReadActionsFile(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadActionsFile(missing) error = %v; want os.ErrNotExist", err)
	}
}

var lineErr = regexp.MustCompile(`^actions file line [1-9][0-9]*: `)

func FuzzLoadActions(f *testing.F) {
	for _, s := range []string{
		"", "click(\"12\")\n", "# c\n\nfill('7', \"a b\")\n", "click(\n", "stop()\r\nx", "move_joints([1, 2e3])\n)\n",
		"a(\"\\\"\")\n", "\xff\xfe(\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		acts, err := policy.LoadActions(strings.NewReader(s))
		if err != nil {
			if !lineErr.MatchString(err.Error()) {
				t.Fatalf("LoadActions(%q) error %q does not name a line", s, err)
			}
			return
		}
		for _, a := range acts {
			back, err := env.ParseAction(a.String())
			if err != nil || !back.Equal(a) {
				t.Fatalf("LoadActions(%q) gave %s, which does not read back: %v, %v", s, a, back, err)
			}
		}
	})
}
