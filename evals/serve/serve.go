// Package serve exposes a registered suite's envs as JSON over HTTP, for
// agents and learners written in any language: a client opens a session
// (one env, reset on one of the suite's tasks), steps it with actions in
// pilot's grammar (click("12")) or as a model's tool calls, reads each
// observation as pilot prints it, with its images as URLs or base64, and
// closes it. GET /openapi.json describes every route.
//
//	h, err := serve.New(ctx, serve.Options{Def: suites.Shop(), Load: evals.LoadOptions{Engine: "lite"}})
//	defer h.Close()
//	http.Serve(ln, h) // ln on 127.0.0.1
//
// A bad action is part of the episode, as everywhere in pilot: the env
// answers with an observation whose error says what was wrong. A request
// that cannot become an action (an action that does not parse, a tool call
// of an unknown action) is a 400 and the episode goes on untouched. An
// env's Go error (a dead browser, a step past Options.StepTimeout) is a
// 502 or 504 and closes the session.
//
// Requests on one session run one at a time: a request that comes while
// another holds the session's env gets 409 at once, and may send again.
// Sessions of different clients run in parallel. A session nobody touched
// for Options.IdleTimeout is closed by the server's janitor, and its id
// answers 410 with how long it was idle.
//
// The server answers only requests addressed to a loopback host (a page
// cannot reach it through DNS rebinding) and POSTs of Content-Type
// application/json (a page cannot post to it without a CORS preflight,
// which it refuses). It never logs a request's body: actions may type
// secrets.
package serve

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/evals"
)

// Defaults of Options.
const (
	DefaultMaxSessions = 4
	DefaultIdleTimeout = 10 * time.Minute
	DefaultStepTimeout = 2 * time.Minute
	DefaultMaxBody     = 1 << 20
)

// gonePerServer bounds the ended sessions the server remembers, to tell
// an expired or closed id (410) from one it never gave (404).
const gonePerServer = 10000

// Options configure a Server.
type Options struct {
	// Def is the suite. Without Loaded, New opens it with Load (checked
	// by Def.Open: an engine, split or parameter the suite does not have
	// is an error).
	Def evals.Def
	// Load says how to load Def: split, engine, seed, parameters. With
	// Loaded it only describes the suite in GET /v1/suite.
	Load evals.LoadOptions
	// Loaded, when not nil, is the suite already loaded (a task file's
	// suite, a test's fake). The server owns it: Close closes it.
	Loaded *evals.Loaded
	// MaxSessions bounds the sessions open at once (each one env: in
	// Chromium, one browser); 0 for DefaultMaxSessions.
	MaxSessions int
	// IdleTimeout closes a session that no request touched for this long;
	// 0 for DefaultIdleTimeout.
	IdleTimeout time.Duration
	// StepTimeout bounds one reset or step of an env; one that takes
	// longer ends its session (504). 0 for DefaultStepTimeout.
	StepTimeout time.Duration
	// MaxSteps truncates an episode after this many steps (env.TimeLimit);
	// 0 for no limit.
	MaxSteps int
	// MaxBody bounds a request's body in bytes; 0 for DefaultMaxBody.
	MaxBody int64
	// Wrap, when not nil, wraps each session's env (such as
	// env.WithSecrets), inside the step limit.
	Wrap func(env.Env) env.Env
	// Logger gets a line per session opened and closed and the envs'
	// errors (never a request's body); nil discards them.
	Logger *slog.Logger
	// Now is the janitor's clock; nil for time.Now. Tests move it.
	Now func() time.Time
	// JanitorEvery is how often the janitor looks for idle sessions; 0
	// for a quarter of IdleTimeout, at most a minute.
	JanitorEvery time.Duration
}

// Server is the http.Handler of one loaded suite. Make it with New and
// stop it with Close.
type Server struct {
	o      Options
	loaded *evals.Loaded
	spec   env.Spec
	suite  Suite // the static part of GET /v1/suite
	mux    *http.ServeMux
	doc    []byte // GET /openapi.json
	done   chan struct{}
	bg     sync.WaitGroup // the janitor
	once   sync.Once
	err    error // Close's

	mu       sync.Mutex
	sessions map[string]*session
	gone     map[string]string // ended session → why, for 410
	goneFIFO []string
	opening  sync.WaitGroup // sessions being made (Close waits for them)
	pending  int            // how many
	workers  int            // envs made so far: the next worker index
	closed   bool
}

var _ http.Handler = (*Server)(nil)

// session is one client's env.
type session struct {
	id     string
	worker int
	env    env.Env

	// busy is held by the request that uses env; another one gets 409.
	busy sync.Mutex
	// Guarded by busy:
	dead string // why the session ended, "" while it lives

	// Guarded by Server.mu:
	lastUsed time.Time

	// Guarded by obsMu (written with busy held too): the episode, for
	// GET /v1/sessions/{id} and the images.
	obsMu   sync.Mutex
	task    env.Task
	episode int
	steps   int
	done    bool
	obs     env.Observation
	seq     int // counts observations: an image URL names its own
}

// New loads the suite (unless o.Loaded is given), makes one env to read
// its action vocabulary, and starts the janitor. ctx bounds the loading
// only; Close stops the server.
func New(ctx context.Context, o Options) (*Server, error) {
	if o.MaxSessions <= 0 {
		o.MaxSessions = DefaultMaxSessions
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.StepTimeout <= 0 {
		o.StepTimeout = DefaultStepTimeout
	}
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.JanitorEvery <= 0 {
		o.JanitorEvery = min(o.IdleTimeout/4, time.Minute)
	}
	if o.MaxSteps < 0 {
		return nil, fmt.Errorf("serve: max steps %d: want 0 (no limit) or more", o.MaxSteps)
	}
	l := o.Loaded
	if l == nil {
		if o.Def.Load == nil {
			return nil, errors.New("serve: no suite: give Options.Def (a registered suite) or Options.Loaded")
		}
		if err := o.Def.Check(&o.Load); err != nil {
			return nil, fmt.Errorf("serve: %w", err)
		}
		var err error
		if l, err = o.Def.Open(ctx, o.Load); err != nil {
			return nil, fmt.Errorf("serve: %w", err)
		}
	}
	s := &Server{o: o, loaded: l, done: make(chan struct{}), sessions: map[string]*session{}, gone: map[string]string{}}
	if err := s.describe(ctx); err != nil {
		return nil, errors.Join(err, s.closeLoaded())
	}
	s.mux = http.NewServeMux()
	for _, rt := range s.routes() {
		s.mux.HandleFunc(rt.method+" "+rt.path, rt.handle)
	}
	s.mux.HandleFunc("/", s.noRoute)
	doc, err := json.MarshalIndent(s.openAPI(), "", "  ")
	if err != nil {
		return nil, errors.Join(fmt.Errorf("serve: the OpenAPI description: %w", err), s.closeLoaded())
	}
	s.doc = doc
	s.bg.Go(s.janitor)
	return s, nil
}

// describe reads the suite's action vocabulary from an env of its own,
// closed at once (a web env starts no browser before its first Reset).
func (s *Server) describe(ctx context.Context) error {
	l := s.loaded
	if l.NewEnv == nil {
		return errors.New("serve: the loaded suite has no NewEnv")
	}
	e, err := l.NewEnv(ctx, 0)
	if err != nil {
		return fmt.Errorf("serve: make an env of %s: %w", l.Suite.Name, err)
	}
	e = s.wrap(e)
	s.spec = e.Spec()
	if err := e.Close(); err != nil {
		return fmt.Errorf("serve: close the env that gave %s's actions: %w", l.Suite.Name, err)
	}
	name := s.o.Def.Name
	if name == "" {
		name, _, _ = strings.Cut(l.Suite.Name, "/")
	}
	s.suite = Suite{
		Name: name, Suite: l.Suite.Name, Doc: s.o.Def.Doc, Split: s.o.Load.Split, Engine: s.o.Load.Engine, Seed: s.o.Load.Seed,
		Env: s.spec.Name, Modalities: nonNil(s.spec.Modalities), Tasks: make([]string, len(l.Suite.Tasks)),
		MaxSteps: s.o.MaxSteps, MaxSessions: s.o.MaxSessions, IdleSeconds: s.o.IdleTimeout.Seconds(),
	}
	for i, t := range l.Suite.Tasks {
		s.suite.Tasks[i] = t.ID
	}
	for _, a := range s.spec.Actions {
		s.suite.Actions = append(s.suite.Actions, ActionSpec{Name: a.Name, Description: a.Doc, Signature: a.Signature(), Parameters: a.JSONSchema()})
	}
	s.suite.Actions = nonNil(s.suite.Actions)
	return nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// wrap is a session's env as the client drives it.
func (s *Server) wrap(e env.Env) env.Env {
	if s.o.Wrap != nil {
		e = s.o.Wrap(e)
	}
	if s.o.MaxSteps > 0 {
		e = env.TimeLimit(e, s.o.MaxSteps, 0)
	}
	return e
}

// Close stops the janitor, ends the envs' calls in flight, closes every
// session's env and then the loaded suite. Requests after it get 503. It
// is idempotent.
func (s *Server) Close() error {
	s.once.Do(func() {
		s.mu.Lock()
		s.closed = true
		var open []*session
		for id, sess := range s.sessions {
			open = append(open, sess)
			s.forget(id, "the server was stopped")
		}
		s.mu.Unlock()
		close(s.done) // cancels the envs' calls in flight
		s.bg.Wait()
		var errs []error
		for _, sess := range open {
			sess.busy.Lock()
			if sess.dead == "" {
				sess.dead = "the server was stopped"
				if err := sess.env.Close(); err != nil {
					errs = append(errs, fmt.Errorf("close session %s: %w", sess.id, err))
				}
			}
			sess.busy.Unlock()
		}
		s.opening.Wait() // sessions being made close their own env
		errs = append(errs, s.closeLoaded())
		s.err = errors.Join(errs...)
	})
	return s.err
}

func (s *Server) closeLoaded() error {
	if s.loaded.Close == nil {
		return nil
	}
	if err := s.loaded.Close(); err != nil {
		return fmt.Errorf("serve: close suite %s: %w", s.loaded.Suite.Name, err)
	}
	return nil
}

// forget removes the session id and remembers why it ended. s.mu is held.
func (s *Server) forget(id, why string) {
	delete(s.sessions, id)
	if _, ok := s.gone[id]; !ok {
		s.goneFIFO = append(s.goneFIFO, id)
	}
	s.gone[id] = why
	for len(s.goneFIFO) > gonePerServer {
		delete(s.gone, s.goneFIFO[0])
		s.goneFIFO = s.goneFIFO[1:]
	}
}

// janitor closes idle sessions until Close.
func (s *Server) janitor() {
	t := time.NewTicker(s.o.JanitorEvery)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
			s.expire()
		}
	}
}

// expire closes the sessions idle for longer than IdleTimeout by the
// clock, but for those a request holds, and returns how many it closed.
func (s *Server) expire() int {
	now := s.o.Now()
	var idle []*session
	s.mu.Lock()
	for id, sess := range s.sessions {
		if d := now.Sub(sess.lastUsed); d > s.o.IdleTimeout && sess.busy.TryLock() {
			s.forget(id, fmt.Sprintf("session %s expired after %s idle (the server closes sessions idle for %s): create a new one with POST /v1/sessions", id, d.Round(time.Second), s.o.IdleTimeout))
			idle = append(idle, sess)
		}
	}
	s.mu.Unlock()
	for _, sess := range idle {
		sess.dead = "expired"
		s.closeEnv(sess, "expired")
		sess.busy.Unlock()
	}
	return len(idle)
}

// closeEnv closes a session's env, logging why and any error.
func (s *Server) closeEnv(sess *session, why string) {
	if err := sess.env.Close(); err != nil {
		s.o.Logger.Warn("serve: close a session's env", "session", sess.id, "why", why, "err", err)
		return
	}
	s.o.Logger.Info("serve: session closed", "session", sess.id, "why", why)
}

// opCtx is the context of one env call: the request's values, not its
// cancellation (a client that hangs up mid-step does not break the env;
// the session keeps the step's result), ended by StepTimeout and by
// Close. Call the returned func when the call is over.
func (s *Server) opCtx(r *http.Request) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), s.o.StepTimeout)
	over := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		select {
		case <-s.done:
			cancel()
		case <-over:
		}
	})
	return ctx, func() { close(over); wg.Wait(); cancel() }
}

// ServeHTTP answers a request addressed to a loopback host.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !loopbackHost(r.Host) {
		writeError(w, http.StatusForbidden, fmt.Sprintf("host %q is not a loopback address: the server answers requests to 127.0.0.1, localhost or [::1] only", clip(r.Host, 60)))
		return
	}
	sw := &statusWriter{ResponseWriter: w}
	start := time.Now()
	s.mux.ServeHTTP(sw, r)
	// The route and the status only: a body may carry secrets.
	s.o.Logger.Debug("serve: request", "method", r.Method, "route", r.Pattern, "status", sw.status, "duration", time.Since(start))
}

func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// httpError is an answer other than 2xx.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func errorf(status int, format string, args ...any) *httpError {
	return &httpError{status, fmt.Sprintf(format, args...)}
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, Error{Error: msg})
}

// writeJSON writes v as the answer; a value that does not encode is a 500.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // a page's "<" and ">" stay as they are
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		b.Reset()
		_ = enc.Encode(Error{Error: fmt.Sprintf("the answer does not encode as JSON: %v", err)})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// readBody decodes a POST's JSON body into v, within MaxBody.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, v any, emptyOK bool, want string) *httpError {
	ct := r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
		return errorf(http.StatusUnsupportedMediaType, "Content-Type %q: send the body as application/json (Content-Type: application/json)", clip(ct, 40))
	}
	err := decodeJSON(http.MaxBytesReader(w, r.Body, s.o.MaxBody), v, emptyOK, want)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return errorf(http.StatusRequestEntityTooLarge, "the body is larger than %d bytes: send a smaller one (an action is at most %d bytes)", tooBig.Limit, env.MaxActionLen)
	case err != nil:
		return errorf(http.StatusBadRequest, "%v", err)
	}
	return nil
}

// lookup finds a live session and touches it.
func (s *Server) lookup(id string) (*session, *httpError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errorf(http.StatusServiceUnavailable, "the server is stopping")
	}
	sess, ok := s.sessions[id]
	if !ok {
		if why, gone := s.gone[id]; gone {
			return nil, errorf(http.StatusGone, "%s", why)
		}
		return nil, errorf(http.StatusNotFound, "no session %q: create one with POST /v1/sessions", clip(id, 40))
	}
	sess.lastUsed = s.o.Now()
	return sess, nil
}

// hold takes a session's env for one request; release it with
// s.release.
func (s *Server) hold(sess *session) *httpError {
	if !sess.busy.TryLock() {
		s.mu.Lock()
		why, gone := s.gone[sess.id]
		s.mu.Unlock()
		if gone {
			return errorf(http.StatusGone, "%s", why)
		}
		return errorf(http.StatusConflict, "session %s is busy with another request: send one request at a time per session (open more sessions to run in parallel)", sess.id)
	}
	if sess.dead != "" {
		sess.busy.Unlock()
		s.mu.Lock()
		why := s.gone[sess.id]
		s.mu.Unlock()
		if why == "" {
			why = "session " + sess.id + " is closed"
		}
		return errorf(http.StatusGone, "%s", why)
	}
	return nil
}

func (s *Server) release(sess *session) {
	s.mu.Lock()
	sess.lastUsed = s.o.Now()
	s.mu.Unlock()
	sess.busy.Unlock()
}

// kill ends a session after its env's Go error; sess.busy is held.
func (s *Server) kill(sess *session, what string, err error, a *env.Action) *httpError {
	msg := err.Error()
	logged := msg
	if a != nil { // an action may type a secret: the log gets its name only
		logged = strings.ReplaceAll(logged, a.String(), a.Name+"(…)")
	}
	why := fmt.Sprintf("session %s was closed after its env failed to %s: %s; create a new one with POST /v1/sessions", sess.id, what, msg)
	s.mu.Lock()
	s.forget(sess.id, why)
	s.mu.Unlock()
	sess.dead = "env error"
	s.o.Logger.Warn("serve: env error: the session is closed", "session", sess.id, "op", what, "err", logged)
	s.closeEnv(sess, "env error")
	status := http.StatusBadGateway
	if errors.Is(err, context.DeadlineExceeded) {
		status = http.StatusGatewayTimeout
		why = fmt.Sprintf("the env took longer than %s to %s: session %s is closed; create a new one with POST /v1/sessions (%s)", s.o.StepTimeout, what, sess.id, msg)
	}
	return &httpError{status, why}
}

// task picks the task of a reset.
func (s *Server) task(q SessionRequest) (env.Task, *httpError) {
	tasks := s.loaded.Suite.Tasks
	var t env.Task
	switch {
	case q.Task != "" && q.Index != nil:
		return t, errorf(http.StatusBadRequest, `give either "task" (an id) or "index", not both`)
	case len(tasks) == 0:
		return t, errorf(http.StatusConflict, "suite %s has no tasks", s.loaded.Suite.Name)
	case q.Index != nil && (*q.Index < 0 || *q.Index >= len(tasks)):
		return t, errorf(http.StatusBadRequest, "index %d: suite %s has %d tasks, index 0 to %d", *q.Index, s.loaded.Suite.Name, len(tasks), len(tasks)-1)
	case q.Index != nil:
		t = tasks[*q.Index]
	case q.Task != "":
		var err error
		if t, err = s.loaded.Task(q.Task); err != nil {
			return t, errorf(http.StatusBadRequest, "%v; GET /v1/suite lists them", err)
		}
	default:
		t = tasks[0]
	}
	if q.Seed != nil {
		t.Seed = *q.Seed
	}
	return t, nil
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read does not fail
	return hex.EncodeToString(b[:])
}

// observation is what the client sees of obs, with images as mode says.
func (s *Server) observation(r *http.Request, sess *session, obs env.Observation, seq int, mode string) Observation {
	o := Observation{Text: obs.Text, URL: obs.URL, Title: obs.Title, Error: obs.Error, State: nonNil(obs.State), Choices: []string{}, Images: []Image{}}
	for _, c := range obs.Choices {
		o.Choices = append(o.Choices, c.String())
	}
	if mode == ImagesNone {
		return o
	}
	for i, im := range obs.Images {
		x := Image{MIME: im.MIME, W: im.W, H: im.H}
		if mode == ImagesBase64 {
			x.Data = base64.StdEncoding.EncodeToString(im.Data)
		} else {
			x.URL = fmt.Sprintf("http://%s/v1/sessions/%s/images/%d?obs=%d", r.Host, sess.id, i, seq)
		}
		o.Images = append(o.Images, x)
	}
	return o
}

func clientTask(t env.Task) Task {
	return Task{ID: t.ID, Suite: t.Suite, Instruction: t.Instruction, StartURL: t.StartURL, Seed: t.Seed}
}

// sessionView is GET /v1/sessions/{id}'s answer.
func (s *Server) sessionView(r *http.Request, sess *session, mode string) Session {
	sess.obsMu.Lock()
	defer sess.obsMu.Unlock()
	return Session{Session: sess.id, Task: clientTask(sess.task), Episode: sess.episode, Steps: sess.steps, Done: sess.done,
		Observation: s.observation(r, sess, sess.obs, sess.seq, mode)}
}

// The handlers.

func (s *Server) getSuite(w http.ResponseWriter, _ *http.Request) {
	info := s.suite
	s.mu.Lock()
	info.Sessions = len(s.sessions)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, info)
}

func (s *Server) getOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(s.doc)
}

func (s *Server) createSession(w http.ResponseWriter, r *http.Request) {
	t, mode, ok := s.sessionRequest(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		writeError(w, http.StatusServiceUnavailable, "the server is stopping")
		return
	case len(s.sessions)+s.pending >= s.o.MaxSessions:
		n := len(s.sessions) + s.pending
		s.mu.Unlock()
		writeError(w, http.StatusTooManyRequests, fmt.Sprintf("%d sessions are open, the most this server takes (--max-sessions %d): close one with DELETE /v1/sessions/{id}, or wait for an idle one to expire (after %s)", n, s.o.MaxSessions, s.o.IdleTimeout))
		return
	}
	s.pending++
	worker := s.workers
	s.workers++
	s.opening.Add(1)
	s.mu.Unlock()
	defer s.opening.Done()
	sess, obs, e := s.open(r, worker, t)
	s.mu.Lock()
	s.pending--
	if e == nil && s.closed {
		e = errorf(http.StatusServiceUnavailable, "the server is stopping")
		sess.dead = "the server was stopped"
		s.mu.Unlock()
		s.closeEnv(sess, "the server was stopped")
		s.mu.Lock()
	}
	if e != nil {
		s.mu.Unlock()
		writeError(w, e.status, e.msg)
		return
	}
	sess.lastUsed = s.o.Now()
	s.sessions[sess.id] = sess
	s.mu.Unlock()
	s.o.Logger.Info("serve: session opened", "session", sess.id, "task", t.ID, "worker", worker)
	w.Header().Set("Location", "/v1/sessions/"+sess.id)
	writeJSON(w, http.StatusCreated, Session{Session: sess.id, Task: clientTask(sess.task), Episode: 1, Observation: s.observation(r, sess, obs, 1, mode)})
}

// open makes a session's env and resets it on t.
func (s *Server) open(r *http.Request, worker int, t env.Task) (*session, env.Observation, *httpError) {
	ctx, done := s.opCtx(r)
	defer done()
	e, err := s.loaded.NewEnv(ctx, worker)
	if err != nil {
		s.o.Logger.Warn("serve: make an env", "worker", worker, "err", err)
		return nil, env.Observation{}, errorf(http.StatusBadGateway, "make an env of %s: %v: no session was opened; try again, or check the server's log", s.loaded.Suite.Name, err)
	}
	e = s.wrap(e)
	obs, err := e.Reset(ctx, t)
	if err != nil {
		s.o.Logger.Warn("serve: reset a new env", "worker", worker, "task", t.ID, "err", err)
		status := http.StatusBadGateway
		if errors.Is(err, context.DeadlineExceeded) {
			status = http.StatusGatewayTimeout
		}
		return nil, env.Observation{}, errorf(status, "reset on task %s: %v: no session was opened; try again, or check the server's log", t.ID, errors.Join(err, e.Close()))
	}
	t = briefed(e, t)
	sess := &session{id: newID(), worker: worker, env: e, task: t, episode: 1, obs: obs, seq: 1}
	return sess, obs, nil
}

// briefed is t with the instruction the env's page gave as the episode
// began (env.Briefer: MiniWoB's utterance), when it gave one.
func briefed(e env.Env, t env.Task) env.Task {
	if b, ok := e.(env.Briefer); ok {
		if s := b.Brief(); s != "" {
			t.Instruction = s
		}
	}
	return t
}

func (s *Server) getSession(w http.ResponseWriter, r *http.Request) {
	mode, err := imageMode("", r.URL.Query().Get("images"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	sess, e := s.lookup(r.PathValue("id"))
	if e != nil {
		writeError(w, e.status, e.msg)
		return
	}
	writeJSON(w, http.StatusOK, s.sessionView(r, sess, mode))
}

// sessionRequest reads a session's reset request (POST /v1/sessions and
// its reset): the task and the image mode; it answers a bad one itself.
func (s *Server) sessionRequest(w http.ResponseWriter, r *http.Request) (env.Task, string, bool) {
	var q SessionRequest
	if e := s.readBody(w, r, &q, true, `{"task": "<id>"} or {} for the first task`); e != nil {
		writeError(w, e.status, e.msg)
		return env.Task{}, "", false
	}
	mode, err := imageMode(q.Images, r.URL.Query().Get("images"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return env.Task{}, "", false
	}
	t, e := s.task(q)
	if e != nil {
		writeError(w, e.status, e.msg)
		return env.Task{}, "", false
	}
	return t, mode, true
}

func (s *Server) resetSession(w http.ResponseWriter, r *http.Request) {
	sess, e := s.lookup(r.PathValue("id"))
	if e != nil {
		writeError(w, e.status, e.msg)
		return
	}
	t, mode, ok := s.sessionRequest(w, r)
	if !ok {
		return
	}
	if e := s.hold(sess); e != nil {
		writeError(w, e.status, e.msg)
		return
	}
	defer s.release(sess)
	ctx, done := s.opCtx(r)
	obs, err := sess.env.Reset(ctx, t)
	done()
	if err != nil {
		e := s.kill(sess, "reset on task "+t.ID, err, nil)
		writeError(w, e.status, e.msg)
		return
	}
	t = briefed(sess.env, t)
	sess.obsMu.Lock()
	sess.task, sess.obs, sess.steps, sess.done = t, obs, 0, false
	sess.episode++
	sess.seq++
	out := Session{Session: sess.id, Task: clientTask(t), Episode: sess.episode, Observation: s.observation(r, sess, obs, sess.seq, mode)}
	sess.obsMu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) stepSession(w http.ResponseWriter, r *http.Request) {
	sess, e := s.lookup(r.PathValue("id"))
	if e != nil {
		writeError(w, e.status, e.msg)
		return
	}
	var q StepRequest
	if e := s.readBody(w, r, &q, false, `{"action": "click(\"12\")"} or {"tool_call": {"name": "click", "arguments": "{\"id\": \"12\"}"}}`); e != nil {
		writeError(w, e.status, e.msg)
		return
	}
	mode, err := imageMode(q.Images, r.URL.Query().Get("images"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	a, err := q.action(s.spec)
	if err != nil {
		writeError(w, http.StatusBadRequest, "the step was not taken: "+err.Error())
		return
	}
	if e := s.hold(sess); e != nil {
		writeError(w, e.status, e.msg)
		return
	}
	defer s.release(sess)
	if sess.done { // written with busy held
		writeError(w, http.StatusConflict, fmt.Sprintf("the episode of session %s is over after %d steps: start another with POST /v1/sessions/%s/reset, or close it with DELETE", sess.id, sess.steps, sess.id))
		return
	}
	ctx, done := s.opCtx(r)
	st, err := sess.env.Step(ctx, a)
	done()
	if err != nil {
		e := s.kill(sess, "step", err, &a)
		writeError(w, e.status, e.msg)
		return
	}
	sess.obsMu.Lock()
	sess.obs, sess.done = st.Obs, st.Done()
	sess.steps++
	sess.seq++
	out := Step{Observation: s.observation(r, sess, st.Obs, sess.seq, mode), Action: a.String(), Reward: st.Reward,
		Terminated: st.Terminated, Truncated: st.Truncated, Reason: st.Reason, Info: st.Info, Steps: sess.steps}
	sess.obsMu.Unlock()
	if out.Info == nil {
		out.Info = map[string]any{}
	}
	if _, err := json.Marshal(out.Info); err != nil {
		out.Info = map[string]any{"error": fmt.Sprintf("the env's info does not encode as JSON: %v", err)}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) deleteSession(w http.ResponseWriter, r *http.Request) {
	sess, e := s.lookup(r.PathValue("id"))
	if e != nil {
		writeError(w, e.status, e.msg)
		return
	}
	// Wait for a request in flight (bounded by StepTimeout), unlike the
	// others: a client that gives up on a step may still close.
	sess.busy.Lock()
	defer sess.busy.Unlock()
	if sess.dead != "" {
		s.mu.Lock()
		why := s.gone[sess.id]
		s.mu.Unlock()
		writeError(w, http.StatusGone, why)
		return
	}
	s.mu.Lock()
	s.forget(sess.id, fmt.Sprintf("session %s was closed (DELETE): create a new one with POST /v1/sessions", sess.id))
	s.mu.Unlock()
	sess.dead = "closed"
	err := sess.env.Close()
	if err != nil {
		s.o.Logger.Warn("serve: close a session's env", "session", sess.id, "why", "DELETE", "err", err)
		writeError(w, http.StatusBadGateway, fmt.Sprintf("session %s is closed, but its env's Close failed: %v", sess.id, err))
		return
	}
	s.o.Logger.Info("serve: session closed", "session", sess.id, "why", "DELETE")
	writeJSON(w, http.StatusOK, Closed{Session: sess.id, Closed: true})
}

func (s *Server) getImage(w http.ResponseWriter, r *http.Request) {
	sess, e := s.lookup(r.PathValue("id"))
	if e != nil {
		writeError(w, e.status, e.msg)
		return
	}
	n, err := strconv.Atoi(r.PathValue("n"))
	sess.obsMu.Lock()
	imgs, seq := sess.obs.Images, sess.seq
	sess.obsMu.Unlock()
	switch {
	case err != nil || n < 0:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("image %q: want its index in the observation's images, from 0", clip(r.PathValue("n"), 20)))
		return
	case r.URL.Query().Has("obs") && r.URL.Query().Get("obs") != strconv.Itoa(seq):
		writeError(w, http.StatusGone, fmt.Sprintf("that image was of an earlier observation (obs=%s; the session is at obs=%d): take the URLs of the last observation", clip(r.URL.Query().Get("obs"), 20), seq))
		return
	case n >= len(imgs):
		writeError(w, http.StatusNotFound, fmt.Sprintf("the last observation of session %s has %d images: ask for 0 to %d (the server serves screenshots with --screenshot png or jpeg)", sess.id, len(imgs), len(imgs)-1))
		return
	}
	w.Header().Set("Content-Type", imgs[n].MIME)
	w.Header().Set("Cache-Control", "no-store")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(imgs[n].Data))
}

// noRoute answers what no route serves: 405 with the methods the path
// takes, else 404 with the routes.
func (s *Server) noRoute(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
		r2 := r.Clone(r.Context())
		r2.Method = m
		if _, p := s.mux.Handler(r2); p != "/" && p != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("%s %s: the route takes %s", r.Method, clip(r.URL.Path, 80), strings.Join(allow, ", ")))
		return
	}
	var routes []string
	for _, rt := range s.routes() {
		routes = append(routes, rt.method+" "+rt.path)
	}
	writeError(w, http.StatusNotFound, fmt.Sprintf("no route %s %s: the routes are %s (GET /openapi.json describes them)", r.Method, clip(r.URL.Path, 80), strings.Join(routes, ", ")))
}
