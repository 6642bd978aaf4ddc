// Package export turns a run's trajectories into fine-tuning data: the
// steps of successful episodes as supervised examples (SFT), and the
// siblings of a search tree as preference pairs (DPO), in the JSONL chat
// formats that Hugging Face TRL's SFTTrainer and DPOTrainer and OpenAI's
// fine-tuning accept.
//
// Each example's prompt is what a text-only model would have been shown
// at that step (policy.TextPrompt: the env's actions and rules, the task,
// the earlier steps and the observation), and each answer is an action
// in the form the model policy parses ("Action: click(\"3\")"), so that a
// model trained on the file can be run with pilot's --model as it is.
package export

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/pilotkit/pilot/agent"
	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/evals"
	"github.com/pilotkit/pilot/evals/runstore"
	"github.com/pilotkit/pilot/planner"
	"github.com/pilotkit/pilot/policy"
)

// Formats of the output.
const (
	TRL    = "trl"    // TRL's conversational formats: {"messages"}; {"prompt", "chosen", "rejected"}
	OpenAI = "openai" // OpenAI fine-tuning: {"messages"}; {"input", "preferred_output", "non_preferred_output"}
)

// DefaultMargin is how much more a chosen candidate must be valued than
// a rejected sibling for a preference pair.
const DefaultMargin = 0.1

// Options configure an export.
type Options struct {
	// Format is TRL (the default) or OpenAI.
	Format string
	// Spec is the env's spec of the run (its actions, for the prompt).
	Spec env.Spec
	// Margin is the least value difference of a preference pair; 0
	// means DefaultMargin.
	Margin float64
	// Prompt configures the prompt as the model policy does (history
	// length, observation cut).
	Prompt policy.LLMOptions
}

func (o *Options) check() error {
	switch o.Format {
	case "":
		o.Format = TRL
	case TRL, OpenAI:
	default:
		return fmt.Errorf("export: format %q: want %s or %s", o.Format, TRL, OpenAI)
	}
	if o.Margin == 0 {
		o.Margin = DefaultMargin
	}
	if !(o.Margin > 0) {
		return fmt.Errorf("export: margin %v: want more than 0", o.Margin)
	}
	if len(o.Spec.Actions) == 0 {
		return errors.New("export: the env's spec has no actions: the prompt needs them")
	}
	return nil
}

// Stats count what an export read and wrote.
type Stats struct {
	Episodes   int // final episodes of the run
	Used       int // episodes that gave examples
	Examples   int // lines written
	Skipped    int // steps left out (a failed action; no observation text)
	Searches   int // searched steps read (DPO)
	NoText     int // episodes whose trajectory has no observation text
	Missing    int // episodes without a trajectory file
	Unreadable int // trajectories that did not parse
}

type message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// step is one decision point of a trajectory: the prompt and what was
// done.
type step struct {
	system, user string
	rec          agent.StepRecord
}

// steps lists the decision points of traj with their prompts.
func steps(traj *agent.Trajectory, o Options) ([]step, bool) {
	var out []step
	var hist []policy.Turn
	obs := traj.Reset
	for _, s := range traj.Steps {
		if obs.Text == "" && len(obs.State) == 0 {
			return nil, false // DropObsText: nothing to prompt with
		}
		in := policy.Input{Task: traj.Task, Spec: o.Spec, Step: s.Index, History: hist,
			Obs: env.Observation{Text: obs.Text, URL: obs.URL, Title: obs.Title, Error: obs.Error, State: obs.State}}
		sys, user := policy.TextPrompt(in, o.Prompt)
		out = append(out, step{system: sys, user: user, rec: s})
		hist = append(hist, policy.Turn{Action: s.Action, Error: s.Obs.Error, Reward: s.Reward})
		obs = s.Obs
	}
	return out, true
}

func answer(action string) string { return "Action: " + action }

// SFT writes one example per step of every successful episode of the run
// in dir: the prompt and the action taken. Steps whose action failed are
// left out.
func SFT(dir string, w io.Writer, o Options) (Stats, error) {
	if err := o.check(); err != nil {
		return Stats{}, err
	}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	var stats Stats
	st, err := each(dir, &stats, func(r evals.Result, traj *agent.Trajectory) error {
		if !r.Success {
			return nil
		}
		ss, ok := steps(traj, o)
		if !ok {
			return errNoText
		}
		wrote := false
		for _, s := range ss {
			if s.rec.Obs.Error != "" {
				stats.Skipped++
				continue
			}
			msgs := []message{{"system", s.system}, {"user", s.user}, {"assistant", answer(s.rec.ActionText)}}
			if err := enc.Encode(map[string]any{"messages": msgs}); err != nil {
				return err
			}
			stats.Examples++
			wrote = true
		}
		if wrote {
			return errUsed
		}
		return nil
	})
	if err == nil {
		err = bw.Flush()
	}
	return st, err
}

// DPO writes a preference pair for every searched step of the run in dir
// (an episode played with --planner bfs or mcts, succeeded or not): the
// candidate the search committed, chosen, against each sibling it valued
// at least Margin lower, rejected. Both answer the same prompt, the state
// the search started from.
func DPO(dir string, w io.Writer, o Options) (Stats, error) {
	if err := o.check(); err != nil {
		return Stats{}, err
	}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	var stats Stats
	st, err := each(dir, &stats, func(r evals.Result, traj *agent.Trajectory) error {
		ss, ok := steps(traj, o)
		if !ok {
			return errNoText
		}
		wrote := false
		for _, s := range ss {
			rec, ok := searchOf(s.rec)
			if !ok {
				continue
			}
			stats.Searches++
			for _, p := range pairs(rec, o.Margin) {
				prompt := []message{{"system", s.system}, {"user", s.user}}
				chosen := []message{{"assistant", answer(p[0])}}
				rejected := []message{{"assistant", answer(p[1])}}
				var line any
				if o.Format == OpenAI {
					line = map[string]any{"input": map[string]any{"messages": prompt}, "preferred_output": chosen, "non_preferred_output": rejected}
				} else {
					line = map[string]any{"prompt": prompt, "chosen": chosen, "rejected": rejected}
				}
				if err := enc.Encode(line); err != nil {
					return err
				}
				stats.Examples++
				wrote = true
			}
		}
		if wrote {
			return errUsed
		}
		return nil
	})
	if err == nil {
		err = bw.Flush()
	}
	return st, err
}

// searchOf reads a step's tree search record, if it has one.
func searchOf(s agent.StepRecord) (planner.Record, bool) {
	raw, ok := s.Meta["search"]
	if !ok {
		return planner.Record{}, false
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return planner.Record{}, false
	}
	var rec planner.Record
	if err := json.Unmarshal(b, &rec); err != nil || len(rec.Nodes) == 0 || len(rec.Path) < 2 {
		return planner.Record{}, false // a plan step, CEM, or no tree
	}
	return rec, true
}

// pairs lists (chosen, rejected) first actions: the root's child on the
// chosen path against each valued sibling at least margin lower.
func pairs(rec planner.Record, margin float64) [][2]string {
	byID := map[int]planner.NodeRecord{}
	for _, n := range rec.Nodes {
		byID[n.ID] = n
	}
	chosen, ok := byID[rec.Path[1]]
	if !ok || !chosen.Valued {
		return nil
	}
	first := func(n planner.NodeRecord) string {
		if n.First != "" {
			return n.First
		}
		return n.Action
	}
	var out [][2]string
	for _, n := range rec.Nodes {
		if n.Parent != chosen.Parent || n.ID == chosen.ID || !n.Valued || n.Value > chosen.Value-margin {
			continue
		}
		if first(n) == first(chosen) {
			continue // the same first action: no preference between answers
		}
		out = append(out, [2]string{first(chosen), first(n)})
	}
	return out
}

var (
	errUsed   = errors.New("used")
	errNoText = errors.New("no observation text")
)

// each calls fn for the trajectory of every final episode of the run in
// dir, counting into st; fn returns errUsed for an episode that gave
// examples, errNoText for one it could not prompt from.
func each(dir string, st *Stats, fn func(evals.Result, *agent.Trajectory) error) (Stats, error) {
	results, err := readResults(dir)
	if err != nil {
		return *st, err
	}
	for _, r := range results {
		st.Episodes++
		f, err := os.Open(filepath.Join(dir, evals.EpisodesDir, r.Key(), agent.TrajectoryFile))
		if errors.Is(err, os.ErrNotExist) {
			st.Missing++
			continue
		}
		if err != nil {
			return *st, fmt.Errorf("export: %w", err)
		}
		traj, err := agent.ReadJSONL(f)
		f.Close()
		if err != nil {
			st.Unreadable++
			continue
		}
		switch err := fn(r, traj); {
		case errors.Is(err, errUsed):
			st.Used++
		case errors.Is(err, errNoText):
			st.NoText++
		case err != nil:
			return *st, fmt.Errorf("export: %w", err)
		}
	}
	if st.Episodes > 0 && st.NoText == st.Episodes {
		return *st, fmt.Errorf("export: the run's trajectories keep no observation text (it was run with the text dropped): nothing to prompt with")
	}
	return *st, nil
}

// readResults reads the final results of the run in dir from its store.
func readResults(dir string) ([]evals.Result, error) {
	db, err := runstore.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	defer db.Close()
	rs, err := db.Results()
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	return rs, nil
}
