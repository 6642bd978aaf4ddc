package shopnn

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/pilotkit/pilot/agent"
	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/policy"
	"github.com/pilotkit/pilot/policy/expert"
)

// MaxSteps is the default limit of env steps (actions) in a training or
// evaluation episode; the expert needs 11 on average.
const MaxSteps = 40

// Decision is one choice in an episode: the page, the candidate taken and
// the reward that followed until the next choice. LogP, Value and Ref are
// filled by the learner.
type Decision struct {
	Page   Page
	Chosen int
	Reward float64

	LogP, Value float64
	Ref         []float64 // the reference policy's log-probabilities
}

// Episode is one shop episode as the learners see it.
type Episode struct {
	Task      env.Task
	Decisions []Decision
	// Reward is the shop's reward for the order (0 without one).
	Reward                float64
	Success               bool // an order with reward 1
	Terminated, Truncated bool
	Actions               int // env steps taken
	// Last is the page the episode was cut on, when Truncated.
	Last *Page
	// Unmatched counts the expert's actions that no candidate
	// starts with (Demonstrate only).
	Unmatched int
}

// Play runs one episode of task on e with the agent a (greedy or sampling,
// by a.Rng), for at most maxSteps actions, and returns its decisions.
func Play(ctx context.Context, e env.Env, task env.Task, a *Agent, maxSteps int) (Episode, error) {
	ep := Episode{Task: task}
	a.onChoice = func(p Page, k int) { ep.Decisions = append(ep.Decisions, Decision{Page: p, Chosen: k}) }
	defer func() { a.onChoice = nil }()
	last, err := ep.run(ctx, e, a, maxSteps)
	if err != nil {
		return ep, err
	}
	if ep.Truncated && ep.Actions >= maxSteps {
		p := Read(a.goals.Goal(), last.Text, &a.mem)
		ep.Last = &p
	}
	return ep, nil
}

// run plays ep.Task on e with p through agent.Run, for at most maxSteps
// actions: the policy appends ep's decisions as it acts, and an observer
// credits each step's reward to the last of them. It returns the last
// observation.
func (ep *Episode) run(ctx context.Context, e env.Env, p policy.Policy, maxSteps int) (env.Observation, error) {
	var last env.Observation
	credit := agent.ObserverFunc(func(_ context.Context, ev agent.Event) error {
		switch ev.Kind {
		case agent.EventReset:
			last = *ev.Obs
		case agent.EventStep:
			ep.Actions++
			if n := len(ep.Decisions); n > 0 {
				ep.Decisions[n-1].Reward += ev.Step.Reward
			}
			last = *ev.Obs
		}
		return nil
	})
	traj, err := agent.Run(ctx, e, ep.Task, p, agent.Options{MaxSteps: max(1, maxSteps), DropObsText: true, Observers: []agent.Observer{credit}})
	if err != nil {
		return last, fmt.Errorf("shop episode %s: %w", ep.Task.ID, err)
	}
	ep.Terminated, ep.Truncated = traj.Terminated, traj.Truncated
	if traj.Terminated {
		ep.Reward, ep.Success = traj.Reward, traj.Success
	}
	return last, nil
}

// Demonstrate runs one episode of task on e with the scripted shop expert
// (expert.Shop) and labels each of its choices with the candidate
// that starts with the expert's action: the data for behaviour cloning.
// The expert's actions that continue a chosen candidate (the click after a
// search's fill) are not choices; actions no candidate starts with are
// counted in Unmatched.
func Demonstrate(ctx context.Context, e env.Env, task env.Task, maxSteps int) (Episode, error) {
	return DemonstrateWith(ctx, e, task, expert.Shop(), maxSteps)
}

// DemonstrateWith is Demonstrate with another teacher: each of the
// teacher's actions that starts one of the page's candidates is a
// decision to clone. A replay of a recorded episode (policy.Replay of a
// search-improved trajectory) makes its steps demonstrations: expert
// iteration.
func DemonstrateWith(ctx context.Context, e env.Env, task env.Task, x policy.Policy, maxSteps int) (Episode, error) {
	ep := Episode{Task: task}
	goal := expert.ParseShopInstruction(task.Instruction)
	var mem Memory
	var queue []env.Action
	label := policy.Func(func(ctx context.Context, in policy.Input) (policy.Decision, error) {
		d, err := x.Act(ctx, in)
		if err != nil {
			return d, fmt.Errorf("shop teacher: %w", err)
		}
		if in.Obs.Error == "" && len(queue) > 0 && queue[0].Equal(d.Action) {
			queue = queue[1:]
			return d, nil
		}
		queue = nil
		p := Read(goal, in.Obs.Text, &mem)
		for k, c := range p.Cands {
			if c.Actions[0].Equal(d.Action) {
				ep.Decisions = append(ep.Decisions, Decision{Page: p, Chosen: k})
				mem.Note(c)
				queue = c.Actions[1:]
				return d, nil
			}
		}
		ep.Unmatched++
		return d, nil
	})
	if r, ok := x.(policy.Resetter); ok {
		r.ResetEpisode(task)
	}
	_, err := ep.run(ctx, e, label, maxSteps)
	return ep, err
}

// Result sums up episodes.
type Result struct {
	Episodes   int     `json:"episodes"`
	Success    float64 `json:"success"`     // share of episodes with reward 1
	MeanReward float64 `json:"mean_reward"` // the shop's reward, 0 without an order
	MeanSteps  float64 `json:"mean_steps"`
}

// Summarize returns the success rate, mean reward and mean steps of eps.
func Summarize(eps []Episode) Result {
	r := Result{Episodes: len(eps)}
	if len(eps) == 0 {
		return Result{Success: math.NaN(), MeanReward: math.NaN(), MeanSteps: math.NaN()}
	}
	for _, ep := range eps {
		r.Success += b2f(ep.Success)
		r.MeanReward += ep.Reward
		r.MeanSteps += float64(ep.Actions)
	}
	n := float64(len(eps))
	r.Success, r.MeanReward, r.MeanSteps = r.Success/n, r.MeanReward/n, r.MeanSteps/n
	return r
}

// Pool runs episodes on workers, each with its own env from newEnv.
type Pool struct {
	envs []env.Env
}

// NewPool opens n envs with newEnv.
func NewPool(n int, newEnv func() (env.Env, error)) (*Pool, error) {
	p := &Pool{}
	for range max(n, 1) {
		e, err := newEnv()
		if err != nil {
			p.Close()
			return nil, err
		}
		p.envs = append(p.envs, e)
	}
	return p, nil
}

// Close closes the envs.
func (p *Pool) Close() error {
	var first error
	for _, e := range p.envs {
		if err := e.Close(); err != nil && first == nil {
			first = err
		}
	}
	p.envs = nil
	return first
}

// Run runs episode i of n with run(ctx, env, i) on the pool's workers and
// returns the episodes in order of i. The first error stops the run.
func (p *Pool) Run(ctx context.Context, n int, run func(ctx context.Context, e env.Env, i int) (Episode, error)) ([]Episode, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := make([]Episode, n)
	errs := make(chan error, len(p.envs))
	next := make(chan int)
	go func() {
		defer close(next)
		for i := range n {
			select {
			case next <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	for _, e := range p.envs {
		go func() {
			for i := range next {
				ep, err := run(ctx, e, i)
				if err != nil {
					cancel()
					errs <- err
					for range next {
					}
					return
				}
				out[i] = ep
			}
			errs <- nil
		}()
	}
	var first error
	for range p.envs {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	if first == nil {
		first = ctx.Err()
	}
	return out, first
}

// Evaluate plays tasks greedily with m on the pool and sums them up.
func (p *Pool) Evaluate(ctx context.Context, m *Model, tasks []env.Task, maxSteps int) (Result, []Episode, error) {
	eps, err := p.Run(ctx, len(tasks), func(ctx context.Context, e env.Env, i int) (Episode, error) {
		return Play(ctx, e, tasks[i], NewAgent(m), maxSteps)
	})
	if err != nil {
		return Result{}, nil, err
	}
	return Summarize(eps), eps, nil
}

// Imitations runs teachers[i] on tasks[i] on the pool (DemonstrateWith).
func (p *Pool) Imitations(ctx context.Context, tasks []env.Task, teachers []policy.Policy, maxSteps int) ([]Episode, error) {
	if len(teachers) != len(tasks) {
		return nil, fmt.Errorf("shopnn: %d teachers for %d tasks: want one each", len(teachers), len(tasks))
	}
	return p.Run(ctx, len(tasks), func(ctx context.Context, e env.Env, i int) (Episode, error) {
		return DemonstrateWith(ctx, e, tasks[i], teachers[i], maxSteps)
	})
}

// Demonstrations runs the expert on tasks on the pool.
func (p *Pool) Demonstrations(ctx context.Context, tasks []env.Task, maxSteps int) ([]Episode, error) {
	return p.Run(ctx, len(tasks), func(ctx context.Context, e env.Env, i int) (Episode, error) {
		return Demonstrate(ctx, e, tasks[i], maxSteps)
	})
}

// episodeRng is the sampling generator of episode i of update u.
func episodeRng(seed int64, u, i int) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), uint64(u)<<32|uint64(i)))
}
