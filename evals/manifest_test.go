package evals_test

import (
	"strings"
	"testing"

	"github.com/pilotkit/pilot/evals"
)

// A resume may change how a run is carried out (workers, output), never
// what it measures: Diff names each difference.
func TestManifestDiff(t *testing.T) {
	m := evals.Manifest{Suite: "shop/test", Split: "test", Engine: "lite", Seed: 1, Policy: "expert", Retries: 2,
		Flags: map[string]string{"suite": "shop", "engine": "lite", "workers": "2", "max-steps": "30"}, Planned: []string{"a", "b", "c", "d"}}
	same := m
	same.Flags = map[string]string{"suite": "shop", "engine": "lite", "workers": "8", "max-steps": "30", "json": "true"}
	same.Pilot = "v0.2.0"
	if d := m.Diff(same); d != nil {
		t.Errorf("Diff with other workers, --json and another version = %q, want none", d)
	}
	other := m
	other.Seed = 2
	other.Flags = map[string]string{"suite": "shop", "engine": "lite", "seed": "2"}
	other.Planned = []string{"a", "b"}
	got := strings.Join(m.Diff(other), "\n")
	if strings.Contains(got, "--seed") {
		t.Errorf("Diff =\n%s\nsays the seed twice: once, as a field, is enough", got)
	}
	for _, want := range []string{`seed: "1" in the run, "2" now`, "--max-steps 30: given in the run, not now", "planned episodes: 4 in the run (a, b … d), 2 now (a, b)"} {
		if !strings.Contains(got, want) {
			t.Errorf("Diff =\n%s\nwant a line %q", got, want)
		}
	}
}

func TestNewManifest(t *testing.T) {
	m := evals.NewManifest("v1.2.3")
	if m.Pilot != "v1.2.3" || !strings.HasPrefix(m.Go, "go") || !strings.Contains(m.OS, "/") || m.Started.IsZero() {
		t.Errorf("NewManifest = %+v; want the version, Go, OS and a start time", m)
	}
}
