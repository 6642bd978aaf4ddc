// Package env is the contract every pilot environment meets: Gymnasium's
// reset/step/close in Go, with terminated (the task ended) kept apart from
// truncated (a limit outside the task cut the episode short).
//
// An environment reports two kinds of trouble differently. A bad action (an
// unknown element id, a hidden element, a URL outside the allowlist) is part
// of the episode: Step returns no error and the next Observation carries the
// text in Observation.Error, so the agent can see and recover. A Go error is
// for what ends the session: a dead browser, a lost serial port, a cancelled
// context, or a caller that broke the contract (Step before Reset, Step after
// the episode ended, use after Close).
package env

import (
	"context"
	"errors"
	"time"
)

// Env is one environment. Methods are not safe for concurrent use: one
// goroutine drives an episode. Run episodes in parallel on separate Envs.
type Env interface {
	// Spec describes the environment: its name, actions and modalities.
	Spec() Spec
	// Reset starts a new episode of task and returns the first observation.
	Reset(ctx context.Context, t Task) (Observation, error)
	// Step applies a and returns what followed.
	Step(ctx context.Context, a Action) (Step, error)
	// Close releases everything the environment holds. It is idempotent.
	Close() error
}

// Errors for callers that break the contract. Environments wrap them so
// errors.Is works.
var (
	ErrNotReset    = errors.New("step before reset: call Reset to start an episode first")
	ErrEpisodeOver = errors.New("episode is over: the last step was terminated or truncated; call Reset to start a new one")
	ErrClosed      = errors.New("environment is closed")
)

// ErrBackendLost is wrapped by the error of an environment whose backend
// went away under it: the browser died, the serial port was unplugged. It
// is an infrastructure fault, not the policy's: a harness reruns the
// episode (evals' retries) on the next Reset, which starts a new backend
// where the environment can.
var ErrBackendLost = errors.New("the environment's backend is gone")

// ErrEvaluate is wrapped by the error of an episode whose task could not
// be scored or set up: its evaluator threw or did not return, its setup
// script failed or navigated away. It is the task's fault, not the
// policy's nor the backend's: the episode is recorded as an error, and
// running it again gives the same.
var ErrEvaluate = errors.New("the task's evaluator failed")

// Briefer is an env whose episodes learn their instruction as they start:
// a MiniWoB page draws its utterance from its seed. After Reset, Brief
// returns the episode's instruction, "" when the task's own stands; the
// agent gives the policy that one.
type Briefer interface {
	Brief() string
}

// BackendLost returns an error whose text is msg and which errors.Is
// ErrBackendLost: an environment's own sentinel for a lost backend, such
// as web.ErrBrowserGone.
func BackendLost(msg string) error { return &lostError{msg} }

type lostError struct{ msg string }

func (e *lostError) Error() string        { return e.msg }
func (e *lostError) Is(target error) bool { return target == ErrBackendLost }

// Spec describes an environment.
type Spec struct {
	Name       string       // e.g. "web", "shop", "robot:reach"
	Actions    []ActionSpec // the action vocabulary, in canonical order
	Modalities []string     // what observations carry: "text", "image", "state"
}

// Action returns the spec of the named action and whether it exists.
func (s Spec) Action(name string) (ActionSpec, bool) {
	for _, a := range s.Actions {
		if a.Name == name {
			return a, true
		}
	}
	return ActionSpec{}, false
}

// Task is what an episode is asked to do.
type Task struct {
	ID          string `json:"id,omitempty"`
	Suite       string `json:"suite,omitempty"`
	Instruction string `json:"instruction"`
	// StartURL is where a web episode starts.
	StartURL string `json:"start_url,omitempty"`
	// Answer, when set, is the expected argument of stop(): the episode
	// earns reward 1 when the agent stops with it (compared case- and
	// space-insensitively), 0 otherwise.
	Answer string `json:"answer,omitempty"`
	Seed   int64  `json:"seed,omitempty"`
	// Hidden holds what only a simulated user knows (for clarification).
	Hidden map[string]string `json:"hidden,omitempty"`
}

// Image is one encoded picture: a screenshot or a camera frame.
type Image struct {
	MIME string `json:"mime"` // "image/png" or "image/jpeg"
	Data []byte `json:"-"`
	W    int    `json:"w,omitempty"`
	H    int    `json:"h,omitempty"`
}

// Observation is what the agent sees after Reset or Step.
type Observation struct {
	// Text is the full text a text-only policy reads: for the web, the URL,
	// title, the last action's error and the element tree with ids.
	Text string
	// URL and Title of the page, where there is one.
	URL, Title string
	// Error is the last action's error, "" when it went well. It is also
	// part of Text.
	Error  string
	Images []Image
	// State is proprioception or a classic-control state vector.
	State []float64
	// Choices are the valid actions now, where the env can list them.
	Choices []Action
}

// Empty reports whether the observation carries nothing at all.
func (o Observation) Empty() bool {
	return o.Text == "" && len(o.Images) == 0 && len(o.State) == 0
}

// Step is the result of one Env.Step.
type Step struct {
	Obs        Observation
	Reward     float64
	Terminated bool // the task ended: success or failure
	Truncated  bool // a limit outside the task cut it: steps, time
	// Reason says why the episode ended, when it did.
	Reason string
	// Info carries what the env reports beside the observation (e.g. a
	// reward breakdown). Trajectories record it, so its values must
	// encode as JSON.
	Info map[string]any
}

// InfoSuccess is the Step.Info key (a bool) with which an env whose
// rewards are shaped says whether the task succeeded; without it, success
// is a final reward of 1.
const InfoSuccess = "success"

// Done reports whether the episode is over.
func (s Step) Done() bool { return s.Terminated || s.Truncated }

// Stats are an episode's statistics, as Gymnasium's RecordEpisodeStatistics
// keeps them.
type Stats struct {
	Return   float64       `json:"return"`
	Length   int           `json:"length"`
	Duration time.Duration `json:"duration_ns"`
}
