package main

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/evals"
	"github.com/pilotkit/pilot/evals/suites"
	"github.com/pilotkit/pilot/policy"
)

// newPolicy makes each episode's policy.
type newPolicy func(task env.Task) (policy.Policy, error)

// The policies every suite may name, besides its own (Loaded.Policies)
// and a model (--model).
const policyNamesDoc = "expert (the suite's scripted expert), random (uniform among the observation's choices, seeded by --policy-seed and the task; the shop's also types searches from the instruction), nn:NAME|FILE (a trained network: shipped, such as nn:shop or nn:reach, or pilot train's policy.nn), or one of the suite's own (the demo's plan)"

// resolvePolicy finds the policy name for suite d: the expert, random, a
// trained network, or one of the loaded suite's own. l may be nil before
// the suite is loaded: then the suite's own policies are taken on trust
// and resolved again once it is.
func resolvePolicy(d evals.Def, l *evals.Loaded, name string, seed int64) (newPolicy, error) {
	if spec, ok := strings.CutPrefix(name, "nn:"); ok {
		if d.Trained == nil {
			return nil, usagef("--policy %s: suite %s plays no trained networks", name, d.Name)
		}
		if !slices.Contains(d.Shipped, spec) && !strings.ContainsAny(spec, "/.") {
			if _, err := os.Stat(spec); err != nil {
				return nil, usagef("--policy %s: %s", name, shippedElsewhere(spec, d))
			}
		}
		p, err := d.Trained(spec)
		if err != nil {
			return nil, usagef("--policy %s: %v", name, err)
		}
		return p, nil
	}
	if l == nil {
		return nil, nil // resolved once the suite is loaded: it may have its own
	}
	if p, ok := l.Policies[name]; ok {
		return p, nil // the suite's own, such as the shop's random that searches
	}
	if eps, ok := strings.CutPrefix(name, "expert:"); ok && d.Expert != nil {
		e, err := strconv.ParseFloat(eps, 64)
		if err != nil || !(e >= 0 && e <= 1) {
			return nil, usagef("--policy %s: want expert:EPS, the expert with a random mistake at a share EPS of its steps (0..1), such as expert:0.3", name)
		}
		return func(t env.Task) (policy.Policy, error) {
			h := fnv.New64a()
			h.Write([]byte(t.ID))
			return policy.Noisy(d.Expert(t), e, seed^t.Seed^int64(h.Sum64()))
		}, nil
	}
	switch {
	case name == "expert" && d.Expert != nil:
		return func(t env.Task) (policy.Policy, error) { return d.Expert(t), nil }, nil
	case name == "random":
		return func(t env.Task) (policy.Policy, error) {
			h := fnv.New64a()
			h.Write([]byte(t.ID))
			return policy.Random(seed ^ t.Seed ^ int64(h.Sum64())), nil
		}, nil
	}
	own := []string{"random"}
	if d.Trained != nil {
		own = append(own, "nn:NAME|FILE")
	}
	if d.Expert != nil {
		own = append([]string{"expert", "expert:EPS"}, own...)
	}
	for n := range l.Policies {
		if !slices.Contains(own, n) {
			own = append(own, n)
		}
	}
	return nil, usagef("suite %s has no policy %q: want one of %s", d.Name, name, strings.Join(own, ", "))
}

// shippedElsewhere says which networks pilot ships, and for which suites,
// when spec names none of d's.
func shippedElsewhere(spec string, d evals.Def) string {
	var all []string
	owner := ""
	for _, s := range suites.Builtin().All() {
		for _, n := range s.Shipped {
			all = append(all, fmt.Sprintf("%s (%s)", n, s.Name))
			if n == spec {
				owner = s.Name
			}
		}
	}
	if owner != "" {
		return fmt.Sprintf("the shipped network %s was trained on suite %s, not %s", spec, owner, d.Name)
	}
	return fmt.Sprintf("pilot ships no network %q: it ships %s; or give the path of a weights file (pilot train's policy.nn)", spec, strings.Join(all, ", "))
}

// describeSuites lists the suites for --help.
func describeSuites(reg *evals.Registry) string {
	var b strings.Builder
	for _, d := range reg.All() {
		fmt.Fprintf(&b, "  %-12s %s (splits: %s; engines: %s; default policy: %s)\n", d.Name, d.Doc, strings.Join(d.Splits, ", "), strings.Join(d.Engines, ", "), d.Policy)
	}
	return b.String()
}

// splitInfo is a split and its task count.
type splitInfo struct {
	Name  string `json:"name"`
	Tasks int    `json:"tasks"`
}

// suiteInfo is one suite of pilot suites --json.
type suiteInfo struct {
	Name    string      `json:"name"`
	Doc     string      `json:"doc"`
	Splits  []splitInfo `json:"splits"`
	Engines []string    `json:"engines"`
	Params  []string    `json:"params,omitempty"`
	// Required are the params without which the suite has no tasks;
	// its splits then count -1 tasks.
	Required []string `json:"required_params,omitempty"`
	Policy   string   `json:"default_policy"`
	Expert   bool     `json:"expert"`
	Trained  bool     `json:"trained_policies"`
}

func newSuitesCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "suites",
		Short: "List the registered suites: splits, task counts, engines",
		Long: `List the suites that pilot run --suite, pilot eval --suite and the nn:
policies know: each suite's splits with their task counts, the engines it
runs on (the first is the default), its parameters and its default policy.
Counting the tasks loads each split (the shop builds its catalog).`,
		Example: `  pilot suites
  pilot suites --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			infos, err := listSuites(cmd.Context(), suites.Builtin())
			if err != nil {
				return err
			}
			return writeSuites(cmd.OutOrStdout(), infos, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object on stdout: {\"suites\": [...]}")
	return cmd
}

func listSuites(ctx context.Context, reg *evals.Registry) ([]suiteInfo, error) {
	var infos []suiteInfo
	for _, d := range reg.All() {
		info := suiteInfo{Name: d.Name, Doc: d.Doc, Engines: d.Engines, Policy: d.Policy, Expert: d.Expert != nil, Trained: d.Trained != nil}
		for _, p := range d.Params {
			info.Params = append(info.Params, p.Name)
			if p.Required {
				info.Required = append(info.Required, p.Name)
			}
		}
		needs := ""
		for _, p := range d.Params {
			if p.Required {
				needs = p.Name
			}
		}
		for _, split := range d.Splits {
			if needs != "" {
				// Its tasks are in what the parameter names.
				info.Splits = append(info.Splits, splitInfo{Name: split, Tasks: -1})
				continue
			}
			l, err := d.Open(ctx, evals.LoadOptions{Split: split, Seed: 1, Engine: lightEngine(d)})
			if err != nil {
				return nil, err
			}
			info.Splits = append(info.Splits, splitInfo{split, len(l.Suite.Tasks)})
			if l.Close != nil {
				if err := l.Close(); err != nil {
					return nil, fmt.Errorf("suite %s: %w", d.Name, err)
				}
			}
		}
		infos = append(infos, info)
	}
	return infos, nil
}

// lightEngine is the engine that loads d without a port: listing opens no
// env, but the serial engine needs a port to load.
func lightEngine(d evals.Def) string {
	for _, e := range d.Engines {
		if e != evals.EngineSerial {
			return e
		}
	}
	return d.Engines[0]
}

func writeSuites(w io.Writer, infos []suiteInfo, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		return enc.Encode(struct {
			Suites []suiteInfo `json:"suites"`
		}{infos})
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "suite\tsplits (tasks)\tengines\tdefault policy\tabout")
	for _, s := range infos {
		var parts []string
		for _, sp := range s.Splits {
			if sp.Tasks < 0 {
				parts = append(parts, sp.Name+" (from --param "+strings.Join(s.Required, ",")+")")
				continue
			}
			parts = append(parts, fmt.Sprintf("%s %d", sp.Name, sp.Tasks))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Name, strings.Join(parts, ", "), strings.Join(s.Engines, ", "), s.Policy, s.Doc)
	}
	return tw.Flush()
}
