// Package classic holds classic-control environments with their exact
// reference dynamics, for checking and training the learners: CartPole-v1
// as Gymnasium defines it.
//
// Each environment has two faces. As an env.Env it speaks the pilot
// contract (named actions, text and state observations, Go errors for
// contract breaches). Its fast path (ResetState, StepState) takes and
// returns plain arrays without allocating, for learners that step millions
// of times.
package classic

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/pilotkit/pilot/env"
)

// CartPole-v1's constants, as gymnasium/envs/classic_control/cartpole.py
// sets them.
const (
	Gravity        = 9.8
	MassCart       = 1.0
	MassPole       = 0.1
	TotalMass      = MassPole + MassCart // 1.1, the same float64 as Python's 0.1 + 1.0
	Length         = 0.5                 // half the pole's length
	PoleMassLength = MassPole * Length   // 0.05, the same float64 as Python's 0.1 * 0.5
	ForceMag       = 10.0                // newtons
	Tau            = 0.02                // seconds between state updates

	// XThreshold is how far the cart may go from the centre, in metres.
	XThreshold = 2.4
	// ThetaThreshold is 12° in radians, the float64 that Python's
	// 12 * 2 * math.pi / 360 computes step by step. Go's exact constant
	// arithmetic would round π/15 to the float64 one ulp above it.
	ThetaThreshold = 0x1.acee9f37bebd5p-3 // 0.20943951023931953

	// MaxSteps is CartPole-v1's step limit (its registered TimeLimit).
	MaxSteps = 500
	// ResetBound bounds the start state: each of the four variables is
	// drawn uniformly from [-ResetBound, ResetBound).
	ResetBound = 0.05
)

// Actions of the fast path, as Gymnasium numbers them.
const (
	PushLeft  = 0
	PushRight = 1
)

// Names of the actions in the env.Env face.
const (
	ActionPushLeft  = "push_left"
	ActionPushRight = "push_right"
)

// Reasons a CartPole episode ends, in env.Step.Reason.
const (
	ReasonPoleFell   = "pole fell"
	ReasonOffTrack   = "cart left the track"
	ReasonStepLimit  = "step limit 500 reached"
	reasonBothFailed = ReasonPoleFell + "; " + ReasonOffTrack
)

// seedStream is the second word of the PCG seed Reset derives from
// Task.Seed ("cartpole" in ASCII).
const seedStream = 0x63617274706f6c65

// CartPole is Gymnasium's CartPole-v1 with its TimeLimit of 500 steps: a
// pole hinged on a cart on a frictionless track, pushed left or right with
// 10 N every 0.02 s.
//
// The state is [x, x_dot, theta, theta_dot] (metres, m/s, radians from
// upright with positive to the right, rad/s) and is kept in float64 and
// integrated with the explicit Euler step in Gymnasium's order, operation
// by operation. Observations are the state rounded to float32 and widened
// back to float64, because Gymnasium returns np.array(state,
// dtype=np.float32): an observation here is the float32 Gymnasium returns,
// exactly, while the state itself never passes through float32, as in
// Gymnasium. sin θ and cos θ are correctly rounded (sincos), as glibc's,
// which Python's math calls, nearly always are: a step lands on
// Gymnasium-on-glibc's state bit for bit, and so do whole episodes (the
// reference episodes in testdata, 300 to 500 steps, to the last bit and
// the same last step), except where glibc's sin or cos is not correctly
// rounded itself (glibc promises an error below one ulp; it misses about
// 3 in 1,000 arguments of |θ| < 0.3, a few in 100,000 of |θ| < 0.05) or where
// pow(v, 2), which Python's v**2 is, differs from v*v and that reaches the
// state. TestGymnasiumArithmeticLive counts 1 such step in 100,000 of
// balanced episodes and 26 in 330,000 of noisier ones; from there the
// unstable pole parts the two trajectories. Gymnasium on another C library
// differs from Gymnasium on glibc in the same way.
//
// An episode terminates when |x| > 2.4 or |theta| > 12° and is truncated
// after 500 steps; every step earns reward 1, the terminating one too. Two
// choices differ from gym.make("CartPole-v1"): a step that both terminates
// and reaches the limit is reported terminated and not truncated, as
// env.TimeLimit does (Gymnasium's TimeLimit sets both), and Reset draws the
// start state from Go's PCG seeded with Task.Seed, not from NumPy's
// generator, so a seed gives a different start than in Gymnasium (use
// SetState to start from a state Gymnasium reported).
//
// A CartPole is not safe for concurrent use.
type CartPole struct {
	s      [4]float64
	steps  int // steps since the start of the episode
	beyond int // Gymnasium's steps_beyond_terminated; -1 for None

	started bool // an episode exists
	over    bool // it terminated or was truncated
	closed  bool
	epoch   int    // counts episodes, so that a saved state knows its own
	lastErr string // the error of the last observation, for Snapshot
}

// NewCartPole returns a CartPole with no episode yet: call Reset,
// ResetState or SetState first.
func NewCartPole() *CartPole { return &CartPole{beyond: -1} }

var _ env.Env = (*CartPole)(nil)

// Spec returns the environment's name ("cartpole"), its two actions and
// its modalities.
func (c *CartPole) Spec() env.Spec {
	return env.Spec{
		Name: "cartpole",
		Actions: []env.ActionSpec{
			{Name: ActionPushLeft, Doc: "push the cart to the left with 10 N for 0.02 s"},
			{Name: ActionPushRight, Doc: "push the cart to the right with 10 N for 0.02 s"},
		},
		Modalities: []string{"state", "text"},
	}
}

// Reset starts an episode from a state drawn uniformly within ±0.05 by a
// PCG generator seeded with t.Seed: the same seed gives the same start.
// It is ResetState with rand.New(rand.NewPCG(uint64(t.Seed), k)) for a
// fixed k.
func (c *CartPole) Reset(ctx context.Context, t env.Task) (env.Observation, error) {
	if c.closed {
		return env.Observation{}, fmt.Errorf("classic: cartpole: reset: %w", env.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return env.Observation{}, fmt.Errorf("classic: cartpole: reset: %w", err)
	}
	c.ResetState(rand.New(rand.NewPCG(uint64(t.Seed), seedStream)))
	return c.observation(""), nil
}

// Step applies push_left() or push_right(). Any other action (an unknown
// name, an argument, a vector) does not move the simulation: Gymnasium
// would assert, here the step comes back with the reason in
// Observation.Error, reward 0, the unchanged state, and it does not count
// towards the 500-step limit. A Go error means the caller broke the
// contract (Step before Reset, after the episode ended, after Close) or
// ctx is done.
func (c *CartPole) Step(ctx context.Context, a env.Action) (env.Step, error) {
	switch {
	case c.closed:
		return env.Step{}, fmt.Errorf("classic: cartpole: step %s: %w", a, env.ErrClosed)
	case !c.started:
		return env.Step{}, fmt.Errorf("classic: cartpole: step %s: %w", a, env.ErrNotReset)
	case c.over:
		return env.Step{}, fmt.Errorf("classic: cartpole: step %s: %w", a, env.ErrEpisodeOver)
	}
	if err := ctx.Err(); err != nil {
		return env.Step{}, fmt.Errorf("classic: cartpole: step %s: %w", a, err)
	}
	action, ok := actionIndex(a)
	if !ok {
		c.lastErr = c.actionError(a)
		return env.Step{Obs: c.observation(c.lastErr)}, nil
	}
	c.lastErr = ""
	_, reward, terminated, truncated := c.StepState(action)
	st := env.Step{Obs: c.observation(""), Reward: reward, Terminated: terminated, Truncated: truncated}
	switch {
	case terminated:
		st.Reason = failure(c.s)
	case truncated:
		st.Reason = ReasonStepLimit
	}
	return st, nil
}

// Close ends the environment; Reset and Step fail with env.ErrClosed
// after it. It is idempotent and returns nil. The fast path does not look
// at it.
func (c *CartPole) Close() error {
	c.closed = true
	return nil
}

// ResetState starts an episode from a state drawn uniformly within ±0.05
// with rng, as Gymnasium's reset draws low + (high-low)*u for each of the
// four variables in order, and returns the first observation.
func (c *CartPole) ResetState(rng *rand.Rand) [4]float64 {
	var s [4]float64
	for i := range s {
		s[i] = -ResetBound + float64((ResetBound-(-ResetBound))*rng.Float64())
	}
	return c.SetState(s)
}

// SetState starts an episode from s, [x, x_dot, theta, theta_dot], and
// returns the first observation: to replay a Gymnasium trajectory, for a
// planner, or to test.
func (c *CartPole) SetState(s [4]float64) [4]float64 {
	c.s = s
	c.steps, c.beyond = 0, -1
	c.started, c.over = true, false
	c.epoch++
	c.lastErr = ""
	return observe(s)
}

// cartState is a CartPole's saved state.
type cartState struct {
	c       *CartPole
	epoch   int
	s       [4]float64
	steps   int
	beyond  int
	over    bool
	lastErr string
	obs     env.Observation
}

func (s *cartState) Observation() env.Observation { return s.obs }

var _ env.Snapshotter = (*CartPole)(nil)

// Snapshot saves the episode's state: the four variables, the step count
// and whether the episode is over. It costs a few dozen nanoseconds.
func (c *CartPole) Snapshot(ctx context.Context) (env.State, error) {
	switch {
	case c.closed:
		return nil, fmt.Errorf("classic: cartpole: snapshot: %w", env.ErrClosed)
	case !c.started:
		return nil, fmt.Errorf("classic: cartpole: snapshot: %w", env.ErrNotReset)
	}
	return &cartState{c: c, epoch: c.epoch, s: c.s, steps: c.steps, beyond: c.beyond, over: c.over, lastErr: c.lastErr, obs: c.observation(c.lastErr)}, nil
}

// Restore brings back a state that Snapshot saved in this episode.
func (c *CartPole) Restore(ctx context.Context, st env.State) error {
	s, ok := st.(*cartState)
	switch {
	case c.closed:
		return fmt.Errorf("classic: cartpole: restore: %w", env.ErrClosed)
	case !ok || s == nil || s.c != c:
		return fmt.Errorf("classic: cartpole: restore: %w", env.ErrForeignState)
	case s.epoch != c.epoch:
		return fmt.Errorf("classic: cartpole: restore: %w", env.ErrStaleState)
	}
	c.s, c.steps, c.beyond, c.over, c.lastErr = s.s, s.steps, s.beyond, s.over, s.lastErr
	return nil
}

// State returns the current state [x, x_dot, theta, theta_dot] in full
// float64 precision (observations are rounded to float32).
func (c *CartPole) State() [4]float64 { return c.s }

// StepState pushes the cart left (PushLeft, 0) or right (PushRight, 1) for
// one step and returns the observation, the reward and whether the episode
// terminated or was truncated. It does not allocate.
//
// It does not refuse steps after the end, as Gymnasium's CartPoleEnv does
// not: the simulation goes on, steps after a termination earn 0 while the
// state stays outside the limits, and every step from the 500th on is
// truncated unless it terminates. Call ResetState when an episode is over.
// It panics before the first ResetState, SetState or Reset, and on an
// action other than 0 or 1 (Gymnasium asserts on both).
func (c *CartPole) StepState(action int) (obs [4]float64, reward float64, terminated, truncated bool) {
	if !c.started {
		panic("classic: CartPole.StepState before the first ResetState, SetState or Reset")
	}
	force := ForceMag
	switch action {
	case PushRight:
	case PushLeft:
		force = -ForceMag
	default:
		panic(fmt.Sprintf("classic: CartPole.StepState(%d): the action must be PushLeft (0) or PushRight (1)", action))
	}
	sintheta, costheta := sincos(c.s[2])
	euler(&c.s, force, sintheta, costheta)
	c.steps++
	terminated = outside(c.s)
	reward = 1
	if terminated {
		if c.beyond >= 0 {
			reward = 0 // a step after termination: undefined in Gymnasium, worth 0
		}
		c.beyond++
	}
	truncated = !terminated && c.steps >= MaxSteps
	if terminated || truncated {
		c.over = true
	}
	return observe(c.s), reward, terminated, truncated
}

// euler advances s by one step of Gymnasium's CartPole dynamics with the
// "euler" integrator, given sin θ and cos θ (StepState passes sincos's,
// correctly rounded). Each product that feeds a sum is converted
// explicitly so that no platform fuses it into a multiply-add: every
// operation rounds as Python's does.
func euler(s *[4]float64, force, sintheta, costheta float64) {
	x, xDot, theta, thetaDot := s[0], s[1], s[2], s[3]
	temp := (force + float64(PoleMassLength*(thetaDot*thetaDot)*sintheta)) / TotalMass
	thetaacc := (float64(Gravity*sintheta) - float64(costheta*temp)) /
		(Length * (4.0/3.0 - MassPole*(costheta*costheta)/TotalMass))
	xacc := temp - PoleMassLength*thetaacc*costheta/TotalMass
	s[0] = x + float64(Tau*xDot)
	s[1] = xDot + float64(Tau*xacc)
	s[2] = theta + float64(Tau*thetaDot)
	s[3] = thetaDot + float64(Tau*thetaacc)
}

// outside reports whether s is past a termination limit.
func outside(s [4]float64) bool {
	return s[0] < -XThreshold || s[0] > XThreshold || s[2] < -ThetaThreshold || s[2] > ThetaThreshold
}

// failure says which limit a terminal state passed.
func failure(s [4]float64) string {
	fell := s[2] < -ThetaThreshold || s[2] > ThetaThreshold
	off := s[0] < -XThreshold || s[0] > XThreshold
	switch {
	case fell && off:
		return reasonBothFailed
	case off:
		return ReasonOffTrack
	default:
		return ReasonPoleFell
	}
}

// observe rounds the state to float32, as Gymnasium's observations are.
func observe(s [4]float64) [4]float64 {
	var o [4]float64
	for i, v := range s {
		o[i] = float64(float32(v))
	}
	return o
}

// actionIndex maps push_left() and push_right() to PushLeft and PushRight.
func actionIndex(a env.Action) (int, bool) {
	if len(a.Args) != 0 || a.Vec != nil {
		return 0, false
	}
	switch a.Name {
	case ActionPushLeft:
		return PushLeft, true
	case ActionPushRight:
		return PushRight, true
	}
	return 0, false
}

// actionError says why a is not an action of the spec.
func (c *CartPole) actionError(a env.Action) string {
	err := c.Spec().Validate(a)
	if err == nil { // Validate refuses all that actionIndex refuses; a safety net
		err = fmt.Errorf("%s is not push_left() or push_right()", a)
	}
	return err.Error() + ": the cart did not move"
}

// observation returns the current observation with errMsg as its error.
func (c *CartPole) observation(errMsg string) env.Observation {
	o := observe(c.s)
	text := fmt.Sprintf("cartpole step %d/%d: x=%+.4f m, x_dot=%+.4f m/s, theta=%+.4f rad (%+.2f°), theta_dot=%+.4f rad/s; the episode ends when |x| > %.1f m or |theta| > 12°",
		c.steps, MaxSteps, o[0], o[1], o[2], o[2]*180/math.Pi, o[3], XThreshold)
	if errMsg != "" {
		text += "; error: " + errMsg
	}
	return env.Observation{
		Text:    text,
		Error:   errMsg,
		State:   o[:],
		Choices: []env.Action{{Name: ActionPushLeft}, {Name: ActionPushRight}},
	}
}
