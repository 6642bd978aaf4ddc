package shop

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/env/web/tree"
)

// Env is the shop as an env.Env: a browser environment (a web.Env, or any
// env.Env whose Reset opens Task.StartURL) on a Store. Each Reset starts a
// store episode for the task and opens its start page; the episode
// terminates when the order is placed, with the store's reward and its
// breakdown in Info["breakdown"] (and the purchase in Info["purchase"]),
// or when the agent calls stop() first, with reward 0.
//
// Like every env.Env it is not safe for concurrent use; run parallel
// episodes on separate Envs, on one Store.
type Env struct {
	inner   env.Env
	store   *Store
	baseURL string

	episode string // the store episode, "" until a Reset succeeds
	done    bool
	closed  bool
	epoch   int             // counts Resets, so that a saved state knows its episode
	last    env.Observation // the observation of the last Reset or Step
}

var _ env.Env = (*Env)(nil)

// NewEnv returns the shop env over inner, on store served at baseURL
// (such as ServeLocal returns). The Env owns inner: Close closes it.
func NewEnv(inner env.Env, store *Store, baseURL string) *Env {
	return &Env{inner: inner, store: store, baseURL: baseURL}
}

// Spec is the inner env's spec, named "shop".
func (e *Env) Spec() env.Spec {
	s := e.inner.Spec()
	s.Name = "shop"
	return s
}

// Reset starts an episode of the shop task t.ID (such as shop-test-0042)
// and returns the observation of its start page. The instruction is the
// task's, whatever t says.
func (e *Env) Reset(ctx context.Context, t env.Task) (env.Observation, error) {
	if e.closed {
		return env.Observation{}, fmt.Errorf("shop: reset: %w", env.ErrClosed)
	}
	e.episode, e.done = "", false
	e.epoch++
	task, ok := e.store.Tasks().Task(t.ID)
	if !ok {
		return env.Observation{}, fmt.Errorf("shop: reset: %w %q: shop task ids look like shop-test-0042; list them with `pilot shop tasks --split test`", ErrUnknownTask, t.ID)
	}
	ep, err := e.store.StartEpisode(task.ID, e.baseURL)
	if err != nil {
		return env.Observation{}, fmt.Errorf("shop: reset: %w", err)
	}
	it := e.store.EnvTask(task)
	it.Seed = t.Seed
	if t.Hidden != nil {
		it.Hidden = t.Hidden
	}
	it.StartURL = ep.StartURL
	obs, err := e.inner.Reset(ctx, it)
	if err != nil {
		return obs, fmt.Errorf("shop: reset: %w", err)
	}
	e.episode = ep.ID
	e.last = obs
	return obs, nil
}

// Step applies a in the browser, then ends the episode when the order is
// placed (reward from the store) or when the agent stopped (reward 0).
func (e *Env) Step(ctx context.Context, a env.Action) (env.Step, error) {
	switch {
	case e.closed:
		return env.Step{}, fmt.Errorf("shop: step %s: %w", a, env.ErrClosed)
	case e.episode == "":
		return env.Step{}, fmt.Errorf("shop: step %s: %w", a, env.ErrNotReset)
	case e.done:
		return env.Step{}, fmt.Errorf("shop: step %s: %w", a, env.ErrEpisodeOver)
	}
	st, err := e.inner.Step(ctx, a)
	if err != nil {
		return st, err
	}
	ep, ok := e.store.Episode(e.episode)
	switch {
	case ok && ep.Status == "done":
		st.Terminated, st.Truncated = true, false
		st.Reward = ep.Reward
		st.Reason = fmt.Sprintf("order placed: reward %.3g", ep.Reward)
		info := maps.Clone(st.Info)
		if info == nil {
			info = map[string]any{}
		}
		info["breakdown"], info["purchase"], info["episode_id"] = *ep.Breakdown, *ep.Purchase, ep.ID
		st.Info = info
	case st.Terminated:
		st.Reward = 0
		st.Reason = "stopped without buying"
	}
	if ok && ep.Attack != nil {
		info := maps.Clone(st.Info)
		if info == nil {
			info = map[string]any{}
		}
		info["attack"] = *ep.Attack
		st.Info = info
	}
	e.done = st.Done()
	e.last = st.Obs
	return st, nil
}

var _ env.Snapshotter = (*Env)(nil)

// state is the shop env's saved state: the store's session and the
// browser's.
type state struct {
	e       *Env
	epoch   int
	session session
	inner   env.State
	done    bool
	obs     env.Observation
}

func (s *state) Observation() env.Observation { return s.obs }

// Snapshot saves the episode: the store's session (what was chosen for
// Buy Now, the order once placed) and the browser's own state (its page,
// history and form fields), which needs an inner env that snapshots (the
// lite browser does). The store's part costs well under a microsecond.
func (e *Env) Snapshot(ctx context.Context) (env.State, error) {
	switch {
	case e.closed:
		return nil, fmt.Errorf("shop: snapshot: %w", env.ErrClosed)
	case e.episode == "":
		return nil, fmt.Errorf("shop: snapshot: %w", env.ErrNotReset)
	}
	snap, err := env.Snapshots(e.inner)
	if err != nil {
		return nil, fmt.Errorf("shop: snapshot: %w", err)
	}
	sess, ok := e.store.view(e.episode)
	if !ok {
		return nil, fmt.Errorf("shop: snapshot: episode %s is no longer in the store (more than %d sessions since)", e.episode, MaxSessions)
	}
	in, err := snap.Snapshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("shop: snapshot: %w", err)
	}
	return &state{e: e, epoch: e.epoch, session: sess, inner: in, done: e.done, obs: e.last}, nil
}

// Restore brings back a state that Snapshot saved since the last Reset:
// the store's session first, then the browser's.
func (e *Env) Restore(ctx context.Context, st env.State) error {
	s, ok := st.(*state)
	switch {
	case e.closed:
		return fmt.Errorf("shop: restore: %w", env.ErrClosed)
	case !ok || s == nil || s.e != e:
		return fmt.Errorf("shop: restore: %w", env.ErrForeignState)
	case s.epoch != e.epoch || e.episode == "":
		return fmt.Errorf("shop: restore: %w", env.ErrStaleState)
	}
	snap, err := env.Snapshots(e.inner)
	if err != nil {
		return fmt.Errorf("shop: restore: %w", err)
	}
	if !e.store.setSession(s.session) {
		return fmt.Errorf("shop: restore: episode %s is no longer in the store (more than %d sessions since)", e.episode, MaxSessions)
	}
	if err := snap.Restore(ctx, s.inner); err != nil {
		return fmt.Errorf("shop: restore: %w", err)
	}
	e.done, e.last = s.done, s.obs
	return nil
}

// Close closes the inner env. It is idempotent.
func (e *Env) Close() error {
	if e.closed {
		return nil
	}
	e.closed = true
	return e.inner.Close()
}

// EnvTask turns a shop task into the env.Task that agents and evals run:
// its id, the suite "shop" and the instruction.
func (s *Store) EnvTask(t Task) env.Task {
	return env.Task{ID: t.ID, Suite: "shop", Instruction: t.Instruction, Hidden: t.Hidden}
}

// ServeLocal serves the store on a free port of 127.0.0.1 and returns its
// base URL (http://127.0.0.1:PORT) and stop, which shuts the server down
// (waiting up to 5 seconds for requests in flight) and must be called.
// ctx bounds the listen only; it does not stop the server.
func ServeLocal(ctx context.Context, store *Store) (baseURL string, stop func() error, err error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("shop: serve: %w", err)
	}
	srv := &http.Server{
		Handler:           store,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       requestTimeout,
		WriteTimeout:      requestTimeout,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	stop = sync.OnceValue(func() error {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := srv.Shutdown(sctx)
		if err != nil {
			err = errors.Join(err, srv.Close())
		}
		if serr := <-served; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, serr)
		}
		if err != nil {
			return fmt.Errorf("shop: stop serving: %w", err)
		}
		return nil
	})
	return "http://" + ln.Addr().String(), stop, nil
}

var _ env.Irreversible = (*Env)(nil)

// Irreversible flags the shop's commitments: a click on Buy Now (it
// chooses the item and its options for the checkout) or on Place order
// (it ends the episode with the order as it stands), or Enter on the
// checkout page.
func (e *Env) Irreversible(obs env.Observation, a env.Action) string {
	var id string
	switch a.Name {
	case "click":
		id = a.Arg(0)
	case "press":
		if strings.EqualFold(a.Arg(0), "Enter") && strings.Contains(obs.Text, `button "Place order"`) {
			return "Enter on the checkout page places the order"
		}
		return ""
	default:
		return ""
	}
	n, _ := tree.Element(obs.Text, id)
	switch {
	case n.Role == "button" && n.Name == "Place order":
		return "Place order buys the item as chosen and ships it to the address given"
	case n.Role == "button" && n.Name == "Buy Now":
		return "Buy Now chooses this item and its options for the order"
	}
	return ""
}
