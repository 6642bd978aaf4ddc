package ppo

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/env/robotenv"
	"github.com/pilotkit/pilot/policy"
)

// Reach is the robot's reach task (env/robotenv) as a learner's Env, in
// the simulator's fast in-process mode (the same servo protocol and
// physics, simulated time): observations are the joints, the tip and the
// target, scaled to about ±1; an action moves the five arm joints by up to
// ReachMaxDelta degrees, through the arm's safety layer.
type Reach struct {
	e    env.Env
	last env.Observation
	// Episodes and Successes count finished episodes and those that
	// reached the target.
	Episodes, Successes int
}

// ReachObsSize and ReachActDim size the reach policy.
const (
	ReachObsSize  = 14
	ReachActDim   = 5
	ReachMaxDelta = 8.0 // degrees per step
	// reachRewardScale turns the reward's metres into numbers PPO likes.
	reachRewardScale = 10
)

// NewReach returns a learner env over e, a robotenv env of the reach task
// (built with robotenv.NewFast for training, or robotenv.Dial for a real
// serial path).
func NewReach(e env.Env) *Reach { return &Reach{e: e} }

// ReachFeatures turns a reach observation's State into the policy's input.
func ReachFeatures(state []float64) []float64 {
	f := make([]float64, 0, ReachObsSize)
	for i := 0; i < 5; i++ {
		f = append(f, state[i]/90)
	}
	tip, target := state[6:9], state[9:12]
	for i := range 3 {
		f = append(f, tip[i]*5)
	}
	for i := range 3 {
		f = append(f, target[i]*5)
	}
	for i := range 3 {
		f = append(f, (target[i]-tip[i])*10)
	}
	return f
}

// ReachAction turns a policy output into the env's move_joints action from
// the current state.
func ReachAction(state, out []float64) env.Action {
	goal := make([]float64, 6)
	for i := 0; i < 5; i++ {
		goal[i] = state[i] + math.Max(-1, math.Min(1, out[i]))*ReachMaxDelta
	}
	goal[5] = state[5]
	return env.Action{Name: "move_joints", Vec: goal}
}

// Reset starts an episode on a task drawn from rng.
func (r *Reach) Reset(ctx context.Context, rng *rand.Rand) ([]float64, error) {
	obs, err := r.e.Reset(ctx, env.Task{Seed: int64(rng.Uint32())})
	if err != nil {
		return nil, fmt.Errorf("reach env: %w", err)
	}
	r.last = obs
	return ReachFeatures(obs.State), nil
}

// Step moves the joints.
func (r *Reach) Step(ctx context.Context, a Action) ([]float64, float64, bool, bool, error) {
	st, err := r.e.Step(ctx, ReachAction(r.last.State, a.Continuous))
	if err != nil {
		return nil, 0, false, false, fmt.Errorf("reach env: %w", err)
	}
	r.last = st.Obs
	if st.Done() {
		r.Episodes++
		if ok, _ := st.Info[env.InfoSuccess].(bool); ok {
			r.Successes++
		}
	}
	return ReachFeatures(st.Obs.State), st.Reward * reachRewardScale, st.Terminated, st.Truncated, nil
}

// ReachPolicy drives the reach task with a trained policy, greedily: a
// policy.Policy for pilot run and pilot eval.
func ReachPolicy(p *Policy) policy.Policy {
	return policy.Func(func(_ context.Context, in policy.Input) (policy.Decision, error) {
		if len(in.Obs.State) != len(robotenv.StateNames(robotenv.Reach)) {
			return policy.Decision{}, fmt.Errorf("nn reach policy: the observation has %d state values, want %d (the robot:reach task)", len(in.Obs.State), len(robotenv.StateNames(robotenv.Reach)))
		}
		a, _ := p.Act(ReachFeatures(in.Obs.State), true, nil)
		return policy.Decision{Action: ReachAction(in.Obs.State, a.Continuous)}, nil
	})
}

// ReachConfig trains the reach task.
func ReachConfig(seed int64) Config {
	return Config{
		ObsSize: ReachObsSize, Action: Space{Dim: ReachActDim},
		TotalSteps: 300_000, NumEnvs: 8, NumSteps: 128, Minibatches: 8, Epochs: 10,
		LR: 3e-4, Gamma: 0.99, Lambda: 0.95, ClipCoef: 0.2, VFCoef: 0.5, MaxGradNorm: 0.5,
		Seed: seed, EvalEvery: 5, EvalEpisodes: 20, SolvedReturn: 10,
	}
}

// NewReachFast returns a reach learner env in the fast in-process mode.
func NewReachFast(ctx context.Context, seed int64) (*Reach, func() error, error) {
	rig, err := robotenv.NewFast(ctx, robotenv.RigOptions{Seed: seed})
	if err != nil {
		return nil, nil, err
	}
	e, err := robotenv.New(rig, robotenv.Options{Task: robotenv.Reach})
	if err != nil {
		rig.Close()
		return nil, nil, err
	}
	return NewReach(e), e.Close, nil
}
