package evals

import (
	"fmt"
	"maps"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"
)

// A Manifest says how to reproduce a run: what made it, with which
// suite, engine, seeds, policy and model, and every flag. It is stored
// when the run starts; a resume is refused when its manifest differs
// (Diff). It never holds a secret: keys stay out of Flags.
type Manifest struct {
	Pilot  string `json:"pilot"`            // the pilot version, as `pilot version` prints it
	Commit string `json:"commit,omitempty"` // the VCS revision the binary was built from, "+dirty" when modified
	Go     string `json:"go"`               // the Go version
	OS     string `json:"os"`               // GOOS/GOARCH

	Suite  string `json:"suite"`
	Split  string `json:"split"`
	Engine string `json:"engine"`
	// EngineVersion is the Chromium version for the chromium engine
	// ("HeadlessChrome/131.0.6778.85"), "" when there is none to give.
	EngineVersion string `json:"engine_version,omitempty"`
	Seed          int64  `json:"seed"`
	Policy        string `json:"policy"`
	PolicySeed    int64  `json:"policy_seed"`
	Model         string `json:"model,omitempty"`
	BaseURL       string `json:"base_url,omitempty"`
	// Flags are the command's flags as given (name → value), secrets
	// excluded.
	Flags map[string]string `json:"flags,omitempty"`
	// Args give the flags again, for a resume: ["--suite=shop", …].
	Args []string `json:"args,omitempty"`
	// Planned are the planned episodes' keys, in order: task ids, with
	// ".r<n>" for the repeats of --repeat (evals.EpisodeKey).
	Planned []string `json:"planned"`
	Retries int      `json:"retries"`
	// Shard is "I/N" for one shard of a study run over several processes
	// (--shard), "" for a whole run; Planned is then the shard's slice.
	Shard   string    `json:"shard,omitempty"`
	Started time.Time `json:"started"`
}

// NewManifest returns a manifest with what the running binary knows of
// itself filled in: the Go version, the OS, and the VCS revision that
// `go build` stamped (version is the caller's version string).
func NewManifest(version string) Manifest {
	m := Manifest{Pilot: version, Go: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH, Started: time.Now().UTC()}
	if rev, modified := VCSRevision(); rev != "" {
		m.Commit = rev
		if modified {
			m.Commit += "+dirty"
		}
	}
	return m
}

// VCSRevision returns the VCS revision that `go build` stamped into the
// running binary, and whether its tree was modified; "" when none was.
func VCSRevision() (rev string, modified bool) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "", false
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	return rev, modified
}

// resumeFree are the flags a resume may change: how the run is carried
// out, not what it measures.
var resumeFree = map[string]bool{
	"workers": true, "verbose": true, "json": true, "resume": true, "run-dir": true, "browser": true,
	"port": true, // a simulator's pseudo-terminal has a new path each time
}

// fieldFlags are the flags that a Manifest field holds the effect of.
var fieldFlags = map[string]bool{
	"suite": true, "split": true, "engine": true, "seed": true, "policy": true, "policy-seed": true,
	"model": true, "base-url": true, "retries": true, "shard": true,
}

// ResumeFree says whether a resume may give the flag name anew: it
// changes how the run is carried out, not what it measures.
func ResumeFree(name string) bool { return resumeFree[name] }

// Diff lists how o differs from m in what a run measures, one line each
// ("--seed: 1 in the run, 2 now"); nil when a run with o may resume a run
// with m. The workers, the output and the browser's address may change;
// the pilot version may too (it is recorded, the experiment is not).
func (m Manifest) Diff(o Manifest) []string {
	var out []string
	field := func(name, a, b string) {
		if a != b {
			out = append(out, fmt.Sprintf("%s: %q in the run, %q now", name, a, b))
		}
	}
	field("suite", m.Suite, o.Suite)
	field("split", m.Split, o.Split)
	field("engine", m.Engine, o.Engine)
	field("seed", fmt.Sprint(m.Seed), fmt.Sprint(o.Seed))
	field("policy", m.Policy, o.Policy)
	field("policy seed", fmt.Sprint(m.PolicySeed), fmt.Sprint(o.PolicySeed))
	field("model", m.Model, o.Model)
	field("base URL", m.BaseURL, o.BaseURL)
	field("retries", fmt.Sprint(m.Retries), fmt.Sprint(o.Retries))
	field("shard", m.Shard, o.Shard)
	names := slices.Sorted(maps.Keys(m.Flags))
	for n := range o.Flags {
		if _, ok := m.Flags[n]; !ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, n := range slices.Compact(names) {
		if resumeFree[n] || fieldFlags[n] {
			continue // a field above says it, when it differs
		}
		a, inA := m.Flags[n]
		b, inB := o.Flags[n]
		switch {
		case !inA:
			out = append(out, fmt.Sprintf("--%s %s: not given in the run", n, b))
		case !inB:
			out = append(out, fmt.Sprintf("--%s %s: given in the run, not now", n, a))
		case a != b:
			out = append(out, fmt.Sprintf("--%s: %s in the run, %s now", n, a, b))
		}
	}
	if !slices.Equal(m.Planned, o.Planned) {
		out = append(out, fmt.Sprintf("planned episodes: %d in the run (%s), %d now (%s)",
			len(m.Planned), abbrev(m.Planned), len(o.Planned), abbrev(o.Planned)))
	}
	return out
}

func abbrev(ids []string) string {
	if len(ids) <= 3 {
		return strings.Join(ids, ", ")
	}
	return ids[0] + ", " + ids[1] + " … " + ids[len(ids)-1]
}
