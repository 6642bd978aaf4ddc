package evals

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/env/web"
	"github.com/pilotkit/pilot/planner"
	"github.com/pilotkit/pilot/policy"
)

// Engines a suite may run on. A suite lists the ones it supports; the
// first is its default.
const (
	EngineChromium = "chromium" // headless Chromium over CDP (env/web)
	EngineLite     = "lite"     // pilot's browser without JavaScript (env/web/lite)
	EngineFast     = "fast"     // a simulator inside pilot, simulated time
	EngineSerial   = "serial"   // a serial port: a real arm or `pilot robot sim`
	EngineNative   = "native"   // the env is plain Go (CartPole)
)

// Def is a suite as it is registered once, after Gymnasium's register: its
// name, its splits, how to make its env on each engine it supports, its
// scripted expert and what a learner needs. pilot run, eval and train and
// the loading of trained policies read it from a Registry.
type Def struct {
	// Name is the suite's name, such as "shop" or "robot:reach".
	Name string
	// Doc is one line for `pilot suites` and --help.
	Doc string
	// Splits are the values LoadOptions.Split takes; the first is the
	// default.
	Splits []string
	// Engines are the engines Load supports; the first is the default.
	Engines []string
	// Params are the suite's own options (LoadOptions.Params), such as
	// the shop's catalog size.
	Params []Param
	// MaxSteps, if not 0, is the suite's step limit by default (-1: no
	// limit) where the agent's default (agent.DefaultMaxSteps) does not
	// fit.
	MaxSteps int
	// Policy is the policy an episode uses when none is named: "expert",
	// or one of Loaded.Policies.
	Policy string
	// Load makes the suite ready to run with o (already checked against
	// Splits, Engines and Params).
	Load func(ctx context.Context, o LoadOptions) (*Loaded, error)
	// Expert makes the scripted expert of one episode; nil when the suite
	// has none.
	Expert func(task env.Task) policy.Policy
	// Trained opens a network trained on this suite, by what follows
	// "nn:" in a policy name: a shipped name or a weights file (pilot
	// train's policy.nn). It returns the maker of each episode's policy.
	// Nil when the suite plays no trained policies.
	Trained func(spec string) (func(env.Task) (policy.Policy, error), error)
	// Learn says how pilot train trains a policy on the suite; nil when
	// it cannot.
	Learn *Learner
	// Shipped names the trained networks pilot ships for this suite
	// (nn:NAME).
	Shipped []string
	// Missed, when set, names what a failed episode missed, from its
	// result (Config.Missed): the report's failure breakdown.
	Missed func(Result) []string
	// Tags, when set, labels a scored episode's result (Config.Tags), such
	// as the shop's "attack address" and "attack address succeeded": the
	// report counts each tag.
	Tags func(Result) []string
	// Plan, when set, is what planners (--planner) use of the suite
	// beyond its envs' snapshots: proposers for its policies and its own
	// value functions.
	Plan *Planning
}

// Planning is a suite's help to the planners.
type Planning struct {
	// Engines are those whose envs save their state (env.Snapshotter):
	// a planner runs on them only.
	Engines []string
	// Propose returns the proposer of one of the suite's policies (the
	// shop scorer's top-k candidates), false for a policy it knows
	// nothing of.
	Propose func(p policy.Policy) (planner.Proposer, bool)
	// Values are the suite's value functions by name ("heuristic",
	// "critic"), besides the oracle and the model judge that every suite
	// has. Make gets the episode's policy (a critic reads its network).
	Values map[string]ValueDef
	// Box is the continuous action space CEM samples (the arm's joint
	// targets), nil when the suite has none. CEM plans in the env on an
	// engine that saves its state, and in the env's simulated twin
	// (env.Twinned) on one that does not.
	Box *planner.Box
}

// A ValueDef is one of a suite's value functions.
type ValueDef struct {
	Doc  string
	Make func(p policy.Policy) (planner.Value, error)
}

// Learner is what pilot train needs to train on a suite.
type Learner struct {
	// Doc is one line for --help.
	Doc string
	// Algos are the algorithms it trains with ("ppo", "bc"); the first
	// is the default.
	Algos []string
	// Demos says whether it clones a number of expert episodes
	// (TrainOptions.Demos) and keeps the clone as PPO's KL reference, so
	// that KLCoef needs no From.
	Demos bool
	// Train runs the training.
	Train func(ctx context.Context, o TrainOptions) (*TrainResult, error)
}

// TrainOptions say how to train.
type TrainOptions struct {
	// Algo is one of the Learner's Algos.
	Algo string
	// Steps of PPO; 0 for the suite's budget.
	Steps int
	// Seed seeds the networks, the envs and the sampling: the same seed
	// gives the same run.
	Seed int64
	// Dir is the run directory; Train creates it.
	Dir string
	// Plot is the plot's file name in Dir (.png or .svg); "" for
	// curves.png.
	Plot string
	// From starts from this saved policy (fine-tuning).
	From string
	// KLCoef penalises the KL divergence to the starting policy; KLSet
	// says whether it was given (a suite may have its own default).
	KLCoef float64
	KLSet  bool
	// Demos is how many expert episodes to clone (0: all).
	Demos int
	// Traces are run directories (pilot eval, such as with a planner)
	// whose successful episodes are cloned besides the expert's: expert
	// iteration, for suites that clone demonstrations.
	Traces []string
	// CheckpointEvery saves the policy every N updates (0: never).
	CheckpointEvery int
	// Progress gets progress lines; nil discards them.
	Progress io.Writer
}

// TrainResult is what a training run did.
type TrainResult struct {
	Steps        int      `json:"steps"`
	StepsToSolve int      `json:"steps_to_solve"` // 0: not solved
	FinalGreedy  float64  `json:"final_greedy_return"`
	WallSeconds  float64  `json:"wall_s"`
	StepsPerSec  float64  `json:"steps_per_sec"`
	Policy       string   `json:"policy"`
	Plot         string   `json:"plot,omitempty"`
	Warnings     []string `json:"warnings,omitempty"`
	// Figures are the suite's own results by snake_case name (the
	// robot's success through the serial path, the shop's test success
	// before and after PPO): JSON values.
	Figures map[string]any `json:"-"`
	// Summary, when not "", is the line that says how it went.
	Summary string `json:"-"`
}

// Param is a suite's own option.
type Param struct {
	Name, Doc string
	// Required says the suite cannot load without it (the MiniWoB
	// checkout's folder).
	Required bool
	// Check, when not nil, rejects a bad value before anything loads,
	// with an error that says what it wants.
	Check func(value string) error
}

// LoadOptions say how to load a suite.
type LoadOptions struct {
	// Split is the split of the tasks; "" for the suite's default.
	Split string
	// Engine runs the envs; "" for the suite's default.
	Engine string
	// Seed seeds the suite (the shop's catalog, the robot's tasks).
	Seed int64
	// PolicySeed seeds the suite's own random policies.
	PolicySeed int64
	// Screenshot adds an image to each observation: "", "png" or "jpeg".
	Screenshot string
	// BrowserURL attaches the chromium engine to a running Chrome; a
	// comma-separated list is a browser fleet, one endpoint per worker,
	// round robin (WorkerBrowser).
	BrowserURL string
	// Port is the serial port of the serial engine.
	Port string
	// OpenNetwork lets a web suite's pages load from anywhere. By
	// default a suite served on 127.0.0.1 loads from that host only (in
	// Chromium any of its ports; in lite its exact origin): every request
	// a page makes elsewhere (a link, an image, fetch, a beacon) is
	// blocked.
	OpenNetwork bool
	// Obs sizes a web suite's observations for a model (a token budget,
	// the change since the last step).
	Obs web.ObsOptions
	// MaxSteps and MaxTime are the run's limits of an episode, as the
	// agent keeps them (0: none): an env that scores an episode at its
	// end (a task file's) scores it at them too.
	MaxSteps int
	MaxTime  time.Duration
	// Secrets are the run's secrets (env.WithSecrets fills them in the
	// agent's actions): an env that sends text out of pilot (to a judge
	// model) masks them first.
	Secrets env.Secrets
	// Judge, when set, is the model that judges answers for the
	// evaluators that ask one (a task file's fuzzy match).
	Judge policy.Model
	// Params are the suite's own options by name (see Def.Params).
	Params map[string]string
	// Logger gets the envs' warnings; nil discards them.
	Logger *slog.Logger
}

// Loaded is a suite ready to run.
type Loaded struct {
	// Suite holds the split's tasks; its name is "<suite>/<split>".
	Suite Suite
	// NewEnv makes a worker's env (see Config.NewEnv).
	NewEnv func(ctx context.Context, worker int) (env.Env, error)
	// Policies are the suite's own policies by name, such as the demo's
	// "plan"; each makes the policy of one episode.
	Policies map[string]func(task env.Task) (policy.Policy, error)
	// Close releases what Load started (a server); nil for nothing. It
	// runs after every env is closed.
	Close func() error
}

// WorkerBrowser returns the browser endpoint of worker (from 0) in
// BrowserURL's list, round robin; "" when there is none.
func (o LoadOptions) WorkerBrowser(worker int) string {
	if o.BrowserURL == "" {
		return ""
	}
	list := strings.Split(o.BrowserURL, ",")
	return strings.TrimSpace(list[worker%len(list)])
}

// Task returns the loaded task with the id.
func (l *Loaded) Task(id string) (env.Task, error) {
	for _, t := range l.Suite.Tasks {
		if t.ID == id {
			return t, nil
		}
	}
	ids := make([]string, 0, 3)
	for _, t := range l.Suite.Tasks[:min(3, len(l.Suite.Tasks))] {
		ids = append(ids, t.ID)
	}
	return env.Task{}, fmt.Errorf("suite %s has no task %q: its %d tasks are %s…", l.Suite.Name, id, len(l.Suite.Tasks), strings.Join(ids, ", "))
}

// Registry holds suite definitions by name. The zero value is empty and
// ready to use; it is not safe for concurrent Register.
type Registry struct {
	defs []Def
}

// Register adds d. A name taken already, or a definition without a name,
// splits, engines or Load, is an error.
func (r *Registry) Register(d Def) error {
	switch {
	case d.Name == "":
		return errors.New("register a suite: it has no name")
	case len(d.Splits) == 0 || len(d.Engines) == 0 || d.Load == nil:
		return fmt.Errorf("register suite %s: it needs splits, engines and Load", d.Name)
	case strings.ContainsAny(d.Name, "/ \t\n"):
		return fmt.Errorf("register suite %q: a name has no '/' or spaces", d.Name)
	}
	if _, ok := r.Lookup(d.Name); ok {
		return fmt.Errorf("register suite %s: the name is taken", d.Name)
	}
	r.defs = append(r.defs, d)
	return nil
}

// Lookup returns the suite named name.
func (r *Registry) Lookup(name string) (Def, bool) {
	for _, d := range r.defs {
		if d.Name == name {
			return d, true
		}
	}
	return Def{}, false
}

// All returns the suites in the order they were registered.
func (r *Registry) All() []Def { return slices.Clone(r.defs) }

// Names returns the suites' names, comma-separated, for messages.
func (r *Registry) Names() string {
	names := make([]string, len(r.defs))
	for i, d := range r.defs {
		names[i] = d.Name
	}
	return strings.Join(names, ", ")
}

// Find returns the suite named name, or an error that lists the suites.
func (r *Registry) Find(name string) (Def, error) {
	if d, ok := r.Lookup(name); ok {
		return d, nil
	}
	if name == "" {
		return Def{}, fmt.Errorf("no suite given: want one of %s", r.Names())
	}
	return Def{}, fmt.Errorf("unknown suite %q: want one of %s", name, r.Names())
}

// Check fills o's defaults from d and checks it: the split, the engine
// and the params must be d's. The default engine is d's first, or the
// serial engine when o has a port and d runs on it.
func (d Def) Check(o *LoadOptions) error {
	if o.Split == "" {
		o.Split = d.Splits[0]
	}
	if o.Engine == "" {
		o.Engine = d.Engines[0]
		if o.Port != "" && slices.Contains(d.Engines, EngineSerial) {
			o.Engine = EngineSerial // a port names the serial engine
		}
	}
	if !slices.Contains(d.Splits, o.Split) {
		return fmt.Errorf("suite %s has no split %q: want one of %s", d.Name, o.Split, strings.Join(d.Splits, ", "))
	}
	if !slices.Contains(d.Engines, o.Engine) {
		return fmt.Errorf("suite %s does not run on engine %q: it runs on %s", d.Name, o.Engine, strings.Join(d.Engines, ", "))
	}
	for k, v := range o.Params {
		if i := slices.IndexFunc(d.Params, func(p Param) bool { return p.Name == k }); i >= 0 {
			if c := d.Params[i].Check; c != nil {
				if err := c(v); err != nil {
					return fmt.Errorf("suite %s: %s=%s: %w", d.Name, k, v, err)
				}
			}
			continue
		}
		if len(d.Params) == 0 {
			return fmt.Errorf("suite %s takes no parameter %q", d.Name, k)
		}
		names := make([]string, len(d.Params))
		for i, p := range d.Params {
			names[i] = p.Name
		}
		return fmt.Errorf("suite %s has no parameter %q: it takes %s", d.Name, k, strings.Join(names, ", "))
	}
	for _, p := range d.Params {
		if _, ok := o.Params[p.Name]; p.Required && !ok {
			return fmt.Errorf("suite %s needs its parameter %s: %s (--param %s=VALUE)", d.Name, p.Name, p.Doc, p.Name)
		}
	}
	if o.Engine == EngineSerial && o.Port == "" {
		return fmt.Errorf("suite %s on the serial engine needs a port (a real arm's /dev/ttyACM0, or the path `pilot robot sim` prints)", d.Name)
	}
	if o.Engine != EngineSerial && o.Port != "" {
		return fmt.Errorf("a port is for the serial engine, not %s", o.Engine)
	}
	if o.Engine != EngineChromium && o.BrowserURL != "" {
		return fmt.Errorf("a browser URL is for the chromium engine, not %s", o.Engine)
	}
	if o.Engine == EngineLite && o.Screenshot != "" {
		return fmt.Errorf("the lite engine takes no screenshots: it lays nothing out")
	}
	return nil
}

// Open checks o against d and loads the suite.
func (d Def) Open(ctx context.Context, o LoadOptions) (*Loaded, error) {
	if err := d.Check(&o); err != nil {
		return nil, err
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	l, err := d.Load(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("load suite %s: %w", d.Name, err)
	}
	return l, nil
}
