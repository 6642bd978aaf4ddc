// Package ppo trains small neural policies from reward with Proximal
// Policy Optimization, following CleanRL's ppo.py (and
// ppo_continuous_action.py) detail for detail: parallel envs, rollouts, GAE,
// per-minibatch advantage normalisation, the clipped surrogate, a clipped
// value loss, an entropy bonus, epochs × minibatches, learning-rate
// annealing and global gradient clipping — with truncation bootstrapped
// (Gymnasium's time limits are not terminal) and, for fine-tuning, a KL
// penalty to a frozen reference policy.
package ppo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/pilotkit/pilot/policy/nn"
)

// Env is an environment as a learner sees it: a state vector in, an
// action out, no strings. Like env.Env it takes a context and returns
// errors: an error (a lost serial port, a cancelled context) stops the
// learner, which returns it; terminated and truncated are kept apart, as
// in Gymnasium, because a learner bootstraps on truncation only.
type Env interface {
	// Reset starts an episode drawn from rng.
	Reset(ctx context.Context, rng *rand.Rand) ([]float64, error)
	// Step applies a.
	Step(ctx context.Context, a Action) (obs []float64, reward float64, terminated, truncated bool, err error)
}

// Action is a discrete action or a continuous vector.
type Action struct {
	Discrete   int
	Continuous []float64
}

// Space says what a policy outputs.
type Space struct {
	// Discrete is the number of actions of a categorical policy; 0 for a
	// continuous one.
	Discrete int
	// Dim is the size of a continuous action; its values are the mean of
	// a diagonal Gaussian, unbounded (the env clips).
	Dim int
}

// Config of a training run. Zero fields take CleanRL's defaults.
type Config struct {
	ObsSize int
	Action  Space

	TotalSteps  int     // env steps over all envs; default 500,000
	NumEnvs     int     // default 4
	NumSteps    int     // rollout length per env; default 128
	Minibatches int     // default 4
	Epochs      int     // default 4
	LR          float64 // default 2.5e-4 (3e-4 continuous)
	NoAnnealLR  bool
	Gamma       float64 // default 0.99
	Lambda      float64 // GAE λ, default 0.95
	ClipCoef    float64 // default 0.2
	NoClipVLoss bool
	NoNormAdv   bool
	EntCoef     float64 // default 0.01 (0 continuous); negative means 0
	VFCoef      float64 // default 0.5
	MaxGradNorm float64 // default 0.5
	TargetKL    float64 // stop an update's epochs early above it; 0: never
	Hidden      []int   // default 64, 64
	Seed        int64

	// Reference and KLCoef add KLCoef · KL(π ‖ π_ref) to the loss: fine-
	// tuning that stays near a behaviour-cloned policy.
	Reference *Policy
	KLCoef    float64

	// EvalEvery runs EvalEpisodes greedy episodes on a fresh env every
	// that many updates (0: never); training stops once their mean return
	// reaches SolvedReturn (0: never).
	EvalEvery    int
	EvalEpisodes int
	SolvedReturn float64

	// Curriculum, when set, is called before each rollout with the
	// fraction of training done (0..1): the env can raise its difficulty.
	Curriculum func(progress float64)
	// Sanity trains on the first rollout only, again and again: the
	// policy loss must fall and the KL must grow, or something is wrong.
	Sanity bool
	// OnUpdate is called after every update with its statistics.
	OnUpdate func(Stats)
}

func (c *Config) defaults() error {
	if c.ObsSize <= 0 {
		return errors.New("ppo: Config.ObsSize must be positive")
	}
	if (c.Action.Discrete > 0) == (c.Action.Dim > 0) {
		return errors.New("ppo: Config.Action needs either Discrete > 0 or Dim > 0")
	}
	def := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	deff := func(p *float64, v float64) {
		if *p == 0 {
			*p = v
		}
	}
	def(&c.TotalSteps, 500_000)
	def(&c.NumEnvs, 4)
	def(&c.NumSteps, 128)
	def(&c.Minibatches, 4)
	def(&c.Epochs, 4)
	if c.Action.Discrete > 0 {
		deff(&c.LR, 2.5e-4)
		deff(&c.EntCoef, 0.01)
	} else {
		deff(&c.LR, 3e-4)
	}
	if c.EntCoef < 0 {
		c.EntCoef = 0
	}
	deff(&c.Gamma, 0.99)
	deff(&c.Lambda, 0.95)
	deff(&c.ClipCoef, 0.2)
	deff(&c.VFCoef, 0.5)
	deff(&c.MaxGradNorm, 0.5)
	if c.Hidden == nil {
		c.Hidden = []int{64, 64}
	}
	def(&c.EvalEpisodes, 20)
	if batch := c.NumEnvs * c.NumSteps; batch%c.Minibatches != 0 {
		return fmt.Errorf("ppo: batch %d (NumEnvs × NumSteps) is not divisible by Minibatches %d", batch, c.Minibatches)
	}
	for _, v := range []float64{c.LR, c.Gamma, c.Lambda, c.ClipCoef, c.VFCoef, c.MaxGradNorm, c.EntCoef, c.KLCoef, c.TargetKL} {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return fmt.Errorf("ppo: a coefficient is %v: want a finite number ≥ 0", v)
		}
	}
	if c.Reference != nil && (c.Reference.ObsSize != c.ObsSize || c.Reference.Space != c.Action) {
		return errors.New("ppo: the reference policy's observation or action space differs from the one trained")
	}
	return nil
}

// Policy is an actor (logits or Gaussian mean) and a critic (a value).
type Policy struct {
	ObsSize int
	Space   Space
	Actor   *nn.MLP
	Critic  *nn.MLP
	// LogStd is the Gaussian's state-independent log standard deviation
	// (continuous actions only).
	LogStd []float64
}

// NewPolicy builds a policy with CleanRL's initialisation: orthogonal,
// gain √2 in hidden layers, 0.01 on the actor's output, 1 on the critic's;
// log std 0.
func NewPolicy(obsSize int, space Space, hidden []int, rng *rand.Rand) *Policy {
	out := space.Discrete
	if out == 0 {
		out = space.Dim
	}
	sizes := func(o int) []int { return append(append([]int{obsSize}, hidden...), o) }
	p := &Policy{ObsSize: obsSize, Space: space,
		Actor:  nn.NewMLP(sizes(out), nn.Tanh, 0.01, rng),
		Critic: nn.NewMLP(sizes(1), nn.Tanh, 1, rng),
	}
	if space.Dim > 0 {
		p.LogStd = make([]float64, space.Dim)
	}
	return p
}

// Clone returns a deep copy (a frozen reference).
func (p *Policy) Clone() *Policy {
	c := &Policy{ObsSize: p.ObsSize, Space: p.Space, Actor: p.Actor.Clone(), Critic: p.Critic.Clone()}
	c.LogStd = slices.Clone(p.LogStd)
	return c
}

// Act chooses an action for obs: sampled, or the most likely (the mean)
// when greedy. It returns the action's log-probability.
func (p *Policy) Act(obs []float64, greedy bool, rng *rand.Rand) (Action, float64) {
	out := p.Actor.Predict(obs)
	if p.Space.Discrete > 0 {
		a := nn.Argmax(out)
		if !greedy {
			a = nn.CategoricalSample(out, rng)
		}
		return Action{Discrete: a}, nn.CategoricalLogProb(out, a)
	}
	x := slices.Clone(out)
	if !greedy {
		x = nn.GaussianSample(out, p.LogStd, rng, x)
	}
	return Action{Continuous: x}, nn.GaussianLogProb(out, p.LogStd, x)
}

// Value is the critic's estimate of obs.
func (p *Policy) Value(obs []float64) float64 { return p.Critic.Predict(obs)[0] }

// params are the trained tensors: actor, critic and log std.
func (p *Policy) params(logStd *nn.Param) []*nn.Param {
	ps := append(p.Actor.Params(), p.Critic.Params()...)
	if logStd != nil {
		ps = append(ps, logStd)
	}
	return ps
}

// Stats are one update's diagnostics.
type Stats struct {
	Update       int           `json:"update"`
	Steps        int           `json:"steps"` // env steps so far
	Elapsed      time.Duration `json:"elapsed_ns"`
	StepsPerSec  float64       `json:"steps_per_sec"`
	LR           float64       `json:"lr"`
	PolicyLoss   float64       `json:"policy_loss"`
	ValueLoss    float64       `json:"value_loss"`
	Entropy      float64       `json:"entropy"`
	ApproxKL     float64       `json:"approx_kl"`
	RefKL        float64       `json:"ref_kl,omitempty"` // KL to the reference policy
	ClipFrac     float64       `json:"clip_frac"`
	ExplainedVar float64       `json:"explained_variance"`
	GradNorm     float64       `json:"grad_norm"`
	AdvMean      float64       `json:"adv_mean"`
	AdvStd       float64       `json:"adv_std"`
	AdvP05       float64       `json:"adv_p05"`
	AdvP95       float64       `json:"adv_p95"`
	// EpisodeReturn is the mean return of training episodes that ended
	// in this rollout (NaN when none did); Episodes counts them.
	EpisodeReturn float64 `json:"episode_return"`
	Episodes      int     `json:"episodes"`
	// GreedyReturn is the mean return of the greedy evaluation after
	// this update, NaN when there was none.
	GreedyReturn float64  `json:"greedy_return"`
	Warnings     []string `json:"warnings,omitempty"`
}

// Result is a finished training run.
type Result struct {
	Policy *Policy
	Stats  []Stats
	// SolvedAt is the env step count at which the greedy return first
	// reached SolvedReturn, 0 if it never did.
	SolvedAt int
	// FinalGreedy is the last greedy evaluation's mean return.
	FinalGreedy float64
	Steps       int
	Elapsed     time.Duration
}

// ErrNaN is wrapped when a loss or a gradient is not a number.
var ErrNaN = errors.New("NaN or Inf in training")
