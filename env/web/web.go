// Package web is pilot's browser environment: headless Chromium over the
// Chrome DevTools Protocol (chromedp).
//
// An Env owns one browser (launched, or attached to with Options.BrowserURL)
// and gives each episode a fresh tab in its own browser context, so no
// cookie or storage leaks from one episode to the next. The observation is
// a compact text tree of the page in which every interactive or meaningful
// element carries a stable id (the data-pilot-id attribute), plus the URL,
// the title, the last action's error and, optionally, a screenshot. See
// docs/observation.md for the format and the action grammar.
package web

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/css"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/pilotkit/pilot/env"
)

//go:embed pilot.js
var pilotJS string

// Size is a width and a height in CSS pixels.
type Size struct{ W, H int }

// Options configure a web Env. The zero value is usable.
type Options struct {
	// ChromePath is the browser binary; default $PILOT_CHROME, else
	// /usr/bin/chromium or the first Chromium or Chrome on PATH.
	ChromePath string
	// BrowserURL attaches to a running browser (ws://host:port/devtools/browser/…,
	// or http://host:port) instead of launching one.
	BrowserURL string
	// Viewport is the page size; default 1280×800.
	Viewport Size
	// Screenshot adds a screenshot to each observation: "png" or "jpeg";
	// "" for none (the default).
	Screenshot string
	// JPEGQuality is the screenshot's JPEG quality, 1–100; default 80.
	JPEGQuality int
	// AllowDomains, when set, restricts navigation: goto, a link or a form
	// that leaves these domains (or their subdomains) is refused with an
	// observation error.
	AllowDomains []string
	// QuietWindow is how long the DOM must stay unchanged after an action
	// that changed it before the page counts as settled; default 5ms. A
	// page that did not change pays no wait.
	QuietWindow time.Duration
	// SettleTimeout bounds how long a step waits for the page to settle
	// (navigation, network, DOM); default 10s. A page still busy then is
	// observed as it is.
	SettleTimeout time.Duration
	// NetworkIdleTimeout bounds the wait for in-flight requests (XHR,
	// images) after an action; default 2s.
	NetworkIdleTimeout time.Duration
	// Obs sizes the observation for a model: a token budget, or the
	// change since the last step.
	Obs ObsOptions
	// UploadDir is the directory the upload action takes files from; ""
	// refuses uploads.
	UploadDir string
	// Logger receives debug logs; default slog.Default().
	Logger *slog.Logger
}

func (o Options) withDefaults() (Options, error) {
	if o.Viewport.W == 0 && o.Viewport.H == 0 {
		o.Viewport = Size{1280, 800}
	}
	if o.Viewport.W < 100 || o.Viewport.H < 100 || o.Viewport.W > 8000 || o.Viewport.H > 8000 {
		return o, fmt.Errorf("viewport %dx%d: want between 100x100 and 8000x8000", o.Viewport.W, o.Viewport.H)
	}
	switch o.Screenshot {
	case "", "png", "jpeg":
	case "jpg":
		o.Screenshot = "jpeg"
	default:
		return o, fmt.Errorf("screenshot format %q: want png, jpeg or none", o.Screenshot)
	}
	if o.JPEGQuality == 0 {
		o.JPEGQuality = 80
	}
	if o.JPEGQuality < 1 || o.JPEGQuality > 100 {
		return o, fmt.Errorf("jpeg quality %d: want 1 to 100", o.JPEGQuality)
	}
	if o.QuietWindow == 0 {
		o.QuietWindow = 5 * time.Millisecond
	}
	if o.SettleTimeout == 0 {
		o.SettleTimeout = 10 * time.Second
	}
	if o.NetworkIdleTimeout == 0 {
		o.NetworkIdleTimeout = 2 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.BrowserURL != "" {
		u, err := url.Parse(o.BrowserURL)
		if err != nil || u.Host == "" || (u.Scheme != "ws" && u.Scheme != "wss" && u.Scheme != "http" && u.Scheme != "https") {
			return o, fmt.Errorf("browser address %q: want ws://host:port/devtools/browser/… or http://host:port (a Chrome started with --remote-debugging-port)", o.BrowserURL)
		}
	}
	if err := o.Obs.Validate(); err != nil {
		return o, err
	}
	if o.UploadDir != "" {
		abs, err := filepath.Abs(o.UploadDir)
		if err == nil {
			abs, err = filepath.EvalSymlinks(abs)
		}
		if fi, serr := os.Stat(abs); err != nil || serr != nil || !fi.IsDir() {
			return o, fmt.Errorf("upload directory %q: not a directory: create it, or name the one holding the files to upload", o.UploadDir)
		}
		o.UploadDir = abs
	}
	for i, d := range o.AllowDomains {
		d = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(d), "."))
		if d == "" || strings.ContainsAny(d, "/:?# ") {
			return o, fmt.Errorf("allowed domain %q: want a host name such as example.com", o.AllowDomains[i])
		}
		o.AllowDomains[i] = d
	}
	return o, nil
}

// Env is the web environment. It is not safe for concurrent use; run
// parallel episodes on separate Envs (one browser each).
type Env struct {
	opts Options
	spec env.Spec // built once: Step validates every action against it
	// session is the life of the browser: Reset and Step contexts bound
	// each call, never the browser (a step's deadline must not kill it).
	session     context.Context
	stopSession context.CancelFunc

	b      *browser
	ep     *episode
	shaper *Shaper           // the observation's size (Options.Obs)
	spare  chan spareEpisode // the next episode's tab, being opened
	bg     sync.WaitGroup    // background work: opening and closing tabs
	closed bool
}

var _ env.Env = (*Env)(nil)

// New returns a web environment. It finds the browser now, so a missing
// Chromium is reported here, and starts it on the first Reset.
func New(opts Options) (*Env, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	if o.BrowserURL == "" && o.ChromePath == "" {
		if o.ChromePath, err = FindChrome(); err != nil {
			return nil, fmt.Errorf("web: %w", err)
		}
	}
	session, stop := context.WithCancel(context.Background())
	return &Env{opts: o, spec: specFor(o), session: session, stopSession: stop, shaper: NewShaper(o.Obs)}, nil
}

// Actions is the web action vocabulary.
func Actions() []env.ActionSpec {
	id := env.Param{Name: "id", Type: env.String, Doc: "the element's id, the number in [brackets] in the observation"}
	return []env.ActionSpec{
		{Name: "click", Doc: "Click an element.", Params: []env.Param{id}},
		{Name: "fill", Doc: "Replace the text of a text field with text.", Params: []env.Param{id, {Name: "text", Type: env.String, Doc: "the text to type"}}},
		{Name: "select_option", Doc: "Choose an option of a select (drop-down) by its visible text.", Params: []env.Param{id, {Name: "option", Type: env.String, Doc: "the option's text"}}},
		{Name: "press", Doc: "Press a key on the focused element: Enter, Tab, Escape, Backspace, ArrowDown, … or a combination such as Control+a.", Params: []env.Param{{Name: "key", Type: env.String, Doc: "the key name"}}},
		{Name: "scroll", Doc: "Scroll the page (or the element id) by most of a screen.", Params: []env.Param{{Name: "direction", Type: env.String, Enum: []string{"up", "down", "left", "right"}, Doc: "where to scroll"}, {Name: "id", Type: env.String, Optional: true, Doc: "a scrollable element; the page when omitted"}}},
		{Name: "goto", Doc: "Open a URL.", Params: []env.Param{{Name: "url", Type: env.String, Doc: "an absolute http(s) URL"}}},
		{Name: "go_back", Doc: "Go back to the previous page."},
		{Name: "go_forward", Doc: "Go forward to the next page."},
		{Name: "hover", Doc: "Move the mouse over an element.", Params: []env.Param{id}},
		{Name: "double_click", Doc: "Double-click an element.", Params: []env.Param{id}},
		{Name: "drag", Doc: "Drag one element onto another with the mouse.", Params: []env.Param{
			{Name: "from", Type: env.String, Doc: "the id of the element to drag"},
			{Name: "to", Type: env.String, Doc: "the id of the element to drop it on"}}},
		{Name: "upload", Doc: "Choose a file for a file input, from the directory pilot allows uploads from.", Params: []env.Param{id,
			{Name: "file", Type: env.String, Doc: "the file's path inside the upload directory"}}},
		{Name: "wait", Doc: "Wait for the page to change by itself, up to 10 seconds.", Params: []env.Param{
			{Name: "ms", Type: env.Integer, Doc: "milliseconds to wait, at most 10000"}}},
		{Name: "wait_for", Doc: "Wait until a text appears on the page.", Params: []env.Param{
			{Name: "text", Type: env.String, Doc: "the text to wait for"},
			{Name: "timeout_ms", Type: env.Integer, Optional: true, Doc: "how long to wait, at most 30000; default 5000"}}},
		{Name: "noop", Doc: "Do nothing and look again."},
		{Name: "stop", Doc: "End the episode, with the answer when the task asks for one.", Params: []env.Param{{Name: "answer", Type: env.String, Optional: true, Doc: "the answer, or empty"}}},
	}
}

// Spec describes the environment.
func (e *Env) Spec() env.Spec { return e.spec }

func specFor(o Options) env.Spec {
	mod := []string{"text"}
	if o.Screenshot != "" {
		mod = append(mod, "image")
	}
	return env.Spec{Name: "web", Actions: Actions(), Modalities: mod}
}

// episode is one task in one tab, in its own browser context.
type episode struct {
	ctx    context.Context // the tab
	cancel context.CancelFunc
	state  *pageState
	task   env.Task
	wg     sync.WaitGroup // the tab's event handlers

	done bool
	dead error // the browser died under this episode

	// For snapshots (snapshot.go): the history's entries and what was
	// done on each, the last observation; after a restore the history
	// is walked by replays (virtual).
	hist    []trail
	histAt  int
	virtual bool
	last    env.Observation

	mu     sync.Mutex
	notes  []string // blocked navigations, dialogs: shown with the next observation
	notesN int      // how many there were, shown or not
	// burst counts the dialogs since burstStart (dialogBurst).
	burst      int
	burstStart time.Time
	blocked    []string // subresource requests the allowlist refused, for the next step
	blockedN   int

	hooks Hooks  // the task's scripts and scorer (ResetWith)
	brief string // the instruction Hooks.Instruction read
	steps int    // steps taken, for the scorer's Turn
}

func (ep *episode) note(s string) {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	ep.notesN++
	if len(ep.notes) < maxNotes {
		ep.notes = append(ep.notes, s)
	}
}

// noteFirst records a note that the cap does not hide, ahead of the others.
func (ep *episode) noteFirst(s string) {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	if slices.Contains(ep.notes, s) {
		return
	}
	ep.notes = append([]string{s}, ep.notes...)
}

// maxNotes bounds the notes one observation shows (a page that opens
// dialogs in a loop).
const maxNotes = 10

// maxDialogs is how many dialogs a page may open within a second before
// pilot takes it for a script in a loop.
const maxDialogs = 20

// dialogBurst counts a dialog and reports whether more than maxDialogs
// came within a second.
func (ep *episode) dialogBurst() bool {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	now := time.Now()
	if now.Sub(ep.burstStart) > time.Second {
		ep.burstStart, ep.burst = now, 0
	}
	ep.burst++
	if ep.burst > maxDialogs {
		ep.burstStart, ep.burst = now, 0
		return true
	}
	return false
}

// maxBlocked bounds the blocked requests one step lists.
const maxBlocked = 50

// block notes a subresource request the allowlist refused.
func (ep *episode) block(s string) {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	ep.blockedN++
	if len(ep.blocked) < maxBlocked {
		ep.blocked = append(ep.blocked, s)
	}
}

// takeBlocked returns the requests refused since the last call and how
// many there were in all.
func (ep *episode) takeBlocked() ([]string, int) {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	b, n := ep.blocked, ep.blockedN
	ep.blocked, ep.blockedN = nil, 0
	return b, n
}

func (ep *episode) takeNotes() []string {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	n := ep.notes
	if ep.notesN > len(n) {
		n = append(n, fmt.Sprintf("and %d more like these", ep.notesN-len(n)))
	}
	ep.notes, ep.notesN = nil, 0
	return n
}

func (ep *episode) close() {
	ep.cancel()
	ep.wg.Wait()
}

// Reset starts a new episode: a fresh tab in a fresh browser context,
// opened on t.StartURL (about:blank when empty). A browser that died is
// replaced by a new one.
func (e *Env) Reset(ctx context.Context, t env.Task) (env.Observation, error) {
	return e.reset(ctx, t, Hooks{})
}

func (e *Env) reset(ctx context.Context, t env.Task, h Hooks) (env.Observation, error) {
	if e.ep != nil {
		e.ep.brief = "" // no instruction of the last episode outlives this Reset
	}
	if e.closed {
		return env.Observation{}, fmt.Errorf("web: reset: %w", env.ErrClosed)
	}
	if t.StartURL != "" {
		if msg := e.checkURL(t.StartURL); msg != "" {
			return env.Observation{}, fmt.Errorf("web: reset: start URL: %s", msg)
		}
	}
	if e.ep != nil {
		// The old tab and its browser context go away in the background.
		old := e.ep
		e.ep = nil
		e.bg.Go(old.close)
	}
	if !e.b.alive() {
		e.dropSpare()
		if e.b != nil {
			e.opts.Logger.Info("web: the browser is gone; starting a new one")
			if err := e.b.close(); err != nil {
				e.opts.Logger.Warn("web: closing the dead browser", "err", err)
			}
			e.b = nil
		}
		b, err := launchBrowser(ctx, e.session, e.opts)
		if err != nil {
			return env.Observation{}, fmt.Errorf("web: %w", err)
		}
		e.b = b
	}
	ep := e.takeSpare(ctx)
	if ep == nil {
		var err error
		if ep, err = e.newEpisode(ctx, e.b); err != nil {
			return env.Observation{}, e.fail(ctx, "reset", err)
		}
	}
	ep.task = t
	ep.hooks = h
	e.ep = ep
	e.shaper.Reset()
	if err := e.installInit(ctx, h); err != nil {
		return env.Observation{}, e.fail(ctx, "reset", err)
	}
	if t.StartURL != "" {
		res, err := e.callNavigate(ctx, t.StartURL)
		if err != nil {
			return env.Observation{}, e.fail(ctx, "reset", err)
		}
		if res != "" {
			return env.Observation{}, fmt.Errorf("web: reset: cannot open %s: %s", t.StartURL, res)
		}
	}
	before, err := e.runSetup(ctx, h)
	if err != nil {
		ep.done = true
		if ctx.Err() != nil {
			return env.Observation{}, fmt.Errorf("web: reset: setup: %w", ctx.Err())
		}
		if errors.Is(err, env.ErrEvaluate) {
			return env.Observation{}, fmt.Errorf("web: reset: %w", err)
		}
		return env.Observation{}, e.fail(ctx, "reset: setup", err)
	}
	obs, err := e.settleObserve(ctx, -1, 0, false, "")
	if err != nil {
		return env.Observation{}, e.fail(ctx, "reset", err)
	}
	if before != "" && !sameDocument(before, obs.URL) {
		ep.done = true
		return env.Observation{}, fmt.Errorf("web: reset: %w", errSetupNavigated(before, obs.URL))
	}
	if err := e.startHist(ctx, obs); err != nil {
		return env.Observation{}, e.fail(ctx, "reset: read the history", err)
	}
	e.prepareSpare()
	return obs, nil
}

// spareEpisode is a tab in a fresh browser context, opened in the
// background while an episode runs, so that the next Reset does not wait
// for a renderer to start.
type spareEpisode struct {
	ep  *episode
	b   *browser
	err error
}

// prepareSpare opens the next episode's tab in the background.
func (e *Env) prepareSpare() {
	if e.spare != nil {
		return
	}
	ch := make(chan spareEpisode, 1)
	e.spare = ch
	b := e.b
	e.bg.Go(func() {
		ctx, cancel := context.WithTimeout(e.session, time.Minute)
		defer cancel()
		ep, err := e.newEpisode(ctx, b)
		ch <- spareEpisode{ep: ep, b: b, err: err}
	})
}

// takeSpare returns the spare tab when it is (or soon becomes) ready and
// still usable, else nil.
func (e *Env) takeSpare(ctx context.Context) *episode {
	if e.spare == nil {
		return nil
	}
	ch := e.spare
	e.spare = nil
	select {
	case s := <-ch:
		if s.err != nil || s.b != e.b || !s.b.alive() || s.ep.ctx.Err() != nil {
			if s.ep != nil {
				e.bg.Go(s.ep.close)
			}
			return nil
		}
		return s.ep
	case <-ctx.Done():
		e.bg.Go(func() { closeSpare(ch) })
		return nil
	}
}

// dropSpare closes the spare tab, if any, in the background.
func (e *Env) dropSpare() {
	if e.spare != nil {
		ch := e.spare
		e.spare = nil
		e.bg.Go(func() { closeSpare(ch) })
	}
}

func closeSpare(ch <-chan spareEpisode) {
	if s := <-ch; s.ep != nil {
		s.ep.close()
	}
}

// newEpisode opens a tab in a fresh browser context of b, with pilot's page
// helper and event handlers installed. It may run in the background: it
// reads nothing of e but its options.
func (e *Env) newEpisode(ctx context.Context, b *browser) (*episode, error) {
	state := newPageState()
	tctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext(), chromedp.WithListener(state.onEvent))
	ep := &episode{ctx: tctx, cancel: cancel, state: state}
	// The first run on the tab's own context creates the tab and binds its
	// life to that context (not to ctx, which only bounds the wait).
	if err := startBounded(ctx, tctx, cancel, func(c context.Context) error { return chromedp.Do(c) }); err != nil {
		ep.close()
		return nil, fmt.Errorf("open a tab: %w", err)
	}
	err := runBounded(ctx, tctx, func(c context.Context) error {
		// chromedp mirrors the DOM and the style sheets of the page for its
		// node queries; pilot observes through its page helper instead, and
		// the mirror costs every mutation an event and every navigation a
		// full DOM.getDocument. Turn it off, with the other domains pilot
		// does not read.
		for _, cmd := range []cdp.Command[cdp.Empty, cdp.Empty]{css.Disable, dom.Disable, log.Disable} {
			if _, err := chromedp.Call(c, cmd, cdp.Empty{}); err != nil {
				return fmt.Errorf("disable %s: %w", cmd.Method, err)
			}
		}
		if _, err := chromedp.Call(c, page.SetLifecycleEventsEnabled, page.SetLifecycleEventsEnabledParams{Enabled: false}); err != nil {
			return fmt.Errorf("disable lifecycle events: %w", err)
		}
		if len(e.opts.AllowDomains) > 0 {
			e.guardNavigation(ep)
		}
		e.dismissDialogs(ep)
		_, err := chromedp.Call(c, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: pilotJS, RunImmediately: new(true)})
		if err != nil {
			return fmt.Errorf("install the page helper: %w", err)
		}
		_, err = chromedp.Call(c, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
			Width: int64(e.opts.Viewport.W), Height: int64(e.opts.Viewport.H), DeviceScaleFactor: 1,
		})
		if err != nil {
			return fmt.Errorf("set the viewport: %w", err)
		}
		if len(e.opts.AllowDomains) > 0 {
			// Every request the page makes, of every type, passes the
			// allowlist (guardNavigation); WebSockets, which the Fetch
			// domain does not see, by a guard in the page.
			_, err = chromedp.Call(c, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{
				URLPattern: "*", RequestStage: fetch.RequestStageRequest,
			}}})
			if err != nil {
				return fmt.Errorf("enable the request guard: %w", err)
			}
			_, err = chromedp.Call(c, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: wsGuard(e.opts.AllowDomains), RunImmediately: new(true)})
			if err != nil {
				return fmt.Errorf("install the WebSocket guard: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		ep.close()
		return nil, err
	}
	return ep, nil
}

// guardNavigation refuses every request outside the allowed domains,
// whatever starts it: a page load (a link, a form, a script, a redirect)
// is refused with a note in the next observation's error; a subresource
// (an image, a script, fetch or XHR, a beacon, a worker's script) is
// failed and listed in the next step's Info["blocked_requests"].
func (e *Env) guardNavigation(ep *episode) {
	events := chromedp.Events(ep.ctx, fetch.RequestPaused)
	ep.wg.Go(func() {
		for ev, err := range events {
			if err != nil {
				return
			}
			if msg := e.checkURL(ev.Request.URL); msg != "" {
				if ev.ResourceType == network.ResourceTypeDocument {
					ep.note("navigation refused: " + msg)
					_, _ = chromedp.Call(ep.ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonAborted})
					ep.state.noteAbort()
					continue
				}
				ep.block(fmt.Sprintf("%s %s %s", strings.ToLower(string(ev.ResourceType)), ev.Request.Method, clip(ev.Request.URL, 200)))
				_, _ = chromedp.Call(ep.ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonBlockedByClient})
				continue
			}
			_, _ = chromedp.Call(ep.ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
		}
	})
}

// dismissDialogs closes alert, confirm and prompt dialogs, which would
// otherwise block the page, and tells the agent what they said.
func (e *Env) dismissDialogs(ep *episode) {
	events := chromedp.Events(ep.ctx, page.JavascriptDialogOpening)
	ep.wg.Go(func() {
		for ev, err := range events {
			if err != nil {
				return
			}
			accept := ev.Type == page.DialogTypeAlert || ev.Type == page.DialogTypeBeforeunload
			article := "a"
			if ev.Type == page.DialogTypeAlert {
				article = "an"
			}
			ep.note(fmt.Sprintf("%s %s dialog said %q; pilot answered %s", article, ev.Type, ev.Message, map[bool]string{true: "OK", false: "Cancel"}[accept]))
			_, _ = chromedp.Call(ep.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: accept})
			if ep.dialogBurst() {
				// Dialog after dialog: a script in a loop. Stop it.
				ep.noteFirst(fmt.Sprintf("the page opened more than %d dialogs within a second: pilot stopped its running script", maxDialogs))
				// Chromium answers once the script has stopped, which takes
				// the next dialog's answer: do not wait here.
				ep.wg.Go(func() {
					c, cancel := context.WithTimeout(ep.ctx, stuckGrace)
					defer cancel()
					_, _ = chromedp.Call(c, runtime.TerminateExecution, cdp.Empty{})
				})
			}
		}
	})
}

// Step applies a and returns the settled page.
func (e *Env) Step(ctx context.Context, a env.Action) (env.Step, error) {
	switch {
	case e.closed:
		return env.Step{}, fmt.Errorf("web: step: %w", env.ErrClosed)
	case e.ep == nil:
		return env.Step{}, fmt.Errorf("web: step: %w", env.ErrNotReset)
	case e.ep.dead != nil:
		return env.Step{}, fmt.Errorf("web: step: %w; call Reset to start a new browser", e.ep.dead)
	case e.ep.done:
		return env.Step{}, fmt.Errorf("web: step: %w", env.ErrEpisodeOver)
	}
	if err := ctx.Err(); err != nil {
		return env.Step{}, fmt.Errorf("web: step %s: %w", a, err)
	}
	var st env.Step
	actErr := ""
	mark, navBefore, expectNav := -1, 0, false
	if err := e.Spec().Validate(a); err != nil {
		actErr = err.Error()
	} else {
		snap, _ := e.ep.state.snapshot()
		navBefore = snap.navSeq
		r, err := e.do(ctx, a)
		if err != nil {
			return env.Step{}, e.fail(ctx, "step "+a.String(), err)
		}
		actErr, mark, expectNav = r.err, r.mark, r.nav
		if a.Name == "stop" {
			st.Terminated = true
			st.Reason = "the agent stopped"
			st.Info = map[string]any{"answer": a.Arg(0)}
			if want := e.ep.task.Answer; want != "" {
				if normAnswer(a.Arg(0)) == normAnswer(want) {
					st.Reward = 1
				}
			}
		}
	}
	if actErr != "" {
		mark = -2 // nothing happened: no need to wait for quiet
	}
	t0 := time.Now()
	obs, err := e.settleObserve(ctx, mark, navBefore, expectNav, actErr)
	if err != nil {
		return env.Step{}, e.fail(ctx, "step "+a.String(), err)
	}
	e.opts.Logger.Debug("web: step", "action", a.String(), "settle+observe", time.Since(t0))
	st.Obs = obs
	if blocked, n := e.ep.takeBlocked(); n > 0 {
		if st.Info == nil {
			st.Info = map[string]any{}
		}
		st.Info["blocked_requests"] = blocked
		if n > len(blocked) {
			st.Info["blocked_requests_total"] = n
		}
	}
	after, _ := e.ep.state.snapshot()
	e.ep.noteStep(a, actErr == "" && after.navSeq > navBefore, obs)
	step := e.ep.steps
	e.ep.steps++
	if err := e.score(ctx, &st, a, step); err != nil {
		e.ep.done = true
		return st, fmt.Errorf("web: step %s: %w", a, err)
	}
	e.ep.done = st.Terminated
	return st, nil
}

func normAnswer(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}

// Close ends the episode and stops the browser (or disconnects from it)
// and removes its user-data-dir. It is idempotent.
func (e *Env) Close() error {
	if e.closed {
		return nil
	}
	e.closed = true
	if e.ep != nil {
		e.ep.close()
		e.ep = nil
	}
	e.dropSpare()
	e.bg.Wait()
	var err error
	if e.b != nil {
		err = e.b.close()
		e.b = nil
	}
	e.stopSession()
	return err
}

// BrowserPID returns the process id of the browser that this Env started,
// or 0 when none runs or the browser is remote.
func (e *Env) BrowserPID() int {
	if e.b == nil || e.b.remote {
		return 0
	}
	return e.b.pid()
}

// fail turns an error of a browser call into Step's Go error: the caller's
// cancellation, or a dead browser (which the next Reset replaces).
func (e *Env) fail(ctx context.Context, what string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("web: %s: %w", what, cerr)
	}
	// chromedp reports a lost connection (wrapping context.Canceled) a moment
	// before it cancels the browser's context: wait for that moment briefly.
	if errors.Is(err, context.Canceled) && e.b.alive() {
		select {
		case <-e.b.ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
	if !e.b.alive() || (e.ep != nil && e.ep.ctx.Err() != nil) || errors.Is(err, context.Canceled) {
		gone := fmt.Errorf("%w: chromium exited or the connection to it was lost (%v)", ErrBrowserGone, err)
		if e.ep != nil {
			e.ep.dead = gone
		}
		return fmt.Errorf("web: %s: %w; the next Reset starts a new browser", what, gone)
	}
	return fmt.Errorf("web: %s: %w", what, err)
}

// startBounded runs first, the first call on a chromedp context c, which
// starts its browser or tab for the life of c, and gives up (cancelling c)
// when ctx ends first.
func startBounded(ctx, c context.Context, cancel context.CancelFunc, first func(context.Context) error) error {
	done := make(chan error, 1)
	go func() { done <- first(c) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		cancel()
		<-done
		return ctx.Err()
	}
}

// runBounded runs f on the tab's context c, returning early (and failing
// the call) when ctx ends. The browser outlives ctx.
func runBounded(ctx, c context.Context, f func(context.Context) error) error {
	oc, cancel := opContext(ctx, c)
	defer cancel()
	return f(oc)
}

// opContext derives a context for one browser operation from the tab's
// context c: it ends when ctx ends (or at ctx's deadline) without ending c.
func opContext(ctx, c context.Context) (context.Context, context.CancelFunc) {
	oc, cancel := context.WithCancelCause(c)
	stop := context.AfterFunc(ctx, func() { cancel(context.Cause(ctx)) })
	return oc, func() {
		stop()
		cancel(context.Canceled)
	}
}

// evalResult is what the page helper's functions return.
type evalResult struct {
	Missing   bool   `json:"missing"`
	Error     string `json:"error"`
	Unloading bool   `json:"unloading"`
	// Frame says only a frame is unloading, not the page.
	Frame     bool    `json:"frame"`
	Mutations int     `json:"mutations"`
	X         float64 `json:"x"`
	Y         float64 `json:"y"`
	Href      string  `json:"href"`
	X2        float64 `json:"x2"`
	Y2        float64 `json:"y2"`
	Set       bool    `json:"set"`
	Waited    float64 `json:"waited"`
	Obs       *pageObs
}

type pageObs struct {
	Text      string `json:"text"`
	URL       string `json:"url"`
	Title     string `json:"title"`
	Count     int    `json:"count"`
	ScrollY   int    `json:"scrollY"`
	ScrollMax int    `json:"scrollMax"`
	// Status is the HTTP status of the document (0 when unknown).
	Status int `json:"status"`
	// ViewFirst and ViewLast are the tree lines of the first and the last
	// element in the viewport (-1: none).
	ViewFirst int `json:"viewFirst"`
	ViewLast  int `json:"viewLast"`
	// Error says the page's scripts kept the helper from reading it.
	Error   string `json:"error"`
	Choices []struct {
		Name string   `json:"name"`
		Args []string `json:"args"`
	} `json:"choices"`
}

// callPilot calls window.__pilot.<call> in the page, installing the helper
// first when the document lacks it.
func (e *Env) callPilot(ctx context.Context, call string, await bool) (evalResult, error) {
	expr := "window.__pilot ? window.__pilot." + call + " : ({missing: true})"
	var opts []chromedp.EvaluateOption
	if await {
		opts = append(opts, chromedp.EvalAwaitPromise)
	}
	var r evalResult
	err := runBounded(ctx, e.ep.ctx, func(c context.Context) error {
		var err error
		r, err = chromedp.Run(c, chromedp.Evaluate[evalResult](expr, opts...))
		if err == nil && r.Missing {
			if _, err = chromedp.Run(c, chromedp.Evaluate[chromedp.Void](pilotJS)); err != nil {
				return fmt.Errorf("install the page helper: %w", err)
			}
			r, err = chromedp.Run(c, chromedp.Evaluate[evalResult](expr, opts...))
		}
		return err
	})
	return r, err
}

// jsArgs encodes Go values as JavaScript call arguments.
func jsArgs(args ...any) string {
	parts := make([]string, len(args))
	for i, a := range args {
		b, _ := json.Marshal(a)
		parts[i] = string(b)
	}
	return strings.Join(parts, ", ")
}

// contextGone reports errors of a call whose document went away during
// the call: a navigation, not a failure.
func contextGone(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "Execution context was destroyed") ||
		strings.Contains(s, "Cannot find context with specified id") ||
		strings.Contains(s, "Inspected target navigated or closed") ||
		strings.Contains(s, "uniqueContextId not found")
}

// settleObserve waits for the page to settle after an action and returns
// the observation. mark is the page's mutation count before the action
// (-1: wait for any quiet; -2: nothing happened, do not wait). When
// expectNav is set, a navigation is under way and is waited for first.
func (e *Env) settleObserve(ctx context.Context, mark, navBefore int, expectNav bool, actErr string) (env.Observation, error) {
	ep := e.ep
	// The waits for page events end when the tab does: a browser that
	// dies sends no more events, and the step must say so at once, not
	// after the settle timeout.
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	defer context.AfterFunc(ep.ctx, stop)()
	deadline := time.Now().Add(e.opts.SettleTimeout)
	snap0, _ := ep.state.snapshot()
	abortsBefore := snap0.aborts
	if expectNav {
		if _, err := ep.state.waitFor(ctx, deadline, func(s pageSnapshot) bool { return s.navSeq > navBefore || s.loading }); err != nil {
			return env.Observation{}, err
		}
	}
	for attempt := 0; ; attempt++ {
		if mark != -2 {
			if _, err := ep.state.waitFor(ctx, deadline, func(s pageSnapshot) bool { return !s.loading }); err != nil {
				return env.Observation{}, err
			}
			netDeadline := time.Now().Add(e.opts.NetworkIdleTimeout)
			if deadline.Before(netDeadline) {
				netDeadline = deadline
			}
			if _, err := ep.state.waitFor(ctx, netDeadline, func(s pageSnapshot) bool { return s.inflight == 0 || s.loading }); err != nil {
				return env.Observation{}, err
			}
		}
		quiet := e.opts.QuietWindow.Milliseconds()
		left := max(time.Until(deadline).Milliseconds(), 0)
		m, net := mark, e.opts.NetworkIdleTimeout.Milliseconds()
		if m == -2 {
			m, left = -1, 0
		}
		r, err := e.settleCall(ctx, "settle("+jsArgs(m, quiet, left, net)+")", time.Until(deadline))
		if contextGone(err) && attempt < 20 && time.Now().Before(deadline) {
			mark = -1
			continue
		}
		if err != nil {
			return env.Observation{}, err
		}
		if r.Unloading && attempt < 20 && time.Now().Before(deadline) {
			snap, _ := ep.state.snapshot()
			// A navigation starts (the frame begins loading) right after
			// beforeunload; one that has not started soon never will.
			navStart := time.Now().Add(2 * time.Second)
			if deadline.Before(navStart) {
				navStart = deadline
			}
			// A frame that unloads has navigated once a frame did.
			ok, err := ep.state.waitFor(ctx, navStart, func(s pageSnapshot) bool {
				return s.navSeq > navBefore || s.loading || s.aborts > abortsBefore || r.Frame && s.frameSeq > snap0.frameSeq
			})
			if err != nil {
				return env.Observation{}, err
			}
			if !ok || snap.aborts > abortsBefore || !snap.loading && snap.navSeq == navBefore {
				// The navigation never came (refused, a download, a 204): the page stays.
				if _, err := e.callPilot(ctx, "clearUnloading()", false); err != nil && !contextGone(err) {
					return env.Observation{}, err
				}
			}
			navBefore, mark = snap.navSeq, -1
			continue
		}
		if r.Obs == nil && r.Unloading {
			return env.Observation{}, fmt.Errorf("the page was still unloading after the settle timeout (%s): a navigation began and never completed; raise web.Options.SettleTimeout for a slow site", e.opts.SettleTimeout)
		}
		if r.Obs == nil {
			return env.Observation{}, errors.New("the page helper returned no observation")
		}
		e.opts.Logger.Debug("web: settled", "attempts", attempt+1, "dom-wait-ms", r.Waited, "elements", r.Obs.Count)
		return e.observation(ctx, *r.Obs, actErr)
	}
}

// stuckGrace is how long past the settle timeout pilot waits for a page
// whose scripts do not yield (an endless loop, dialogs in a loop) before
// it stops them.
const stuckGrace = 2 * time.Second

// settleCall runs the page helper's settle, bounded: a page whose main
// thread never yields (a script in an endless loop, alert after alert)
// cannot answer, so after the settle time and a grace pilot stops the
// running script (yieldOrStop) and observes the page as it is.
func (e *Env) settleCall(ctx context.Context, call string, left time.Duration) (evalResult, error) {
	var r evalResult
	stopped, err := e.yieldOrStop(ctx, max(left, 0)+stuckGrace, "", func(c context.Context) error {
		var err error
		r, err = e.callPilot(c, call, true)
		return err
	})
	if !stopped || err != nil {
		return r, err
	}
	cctx, cancel := context.WithTimeoutCause(ctx, stuckGrace, errStuck)
	defer cancel()
	r, err = e.callPilot(cctx, "settle("+jsArgs(-1, 0, 0, 0)+")", true)
	if err != nil && ctx.Err() == nil && context.Cause(cctx) == errStuck {
		return evalResult{}, fmt.Errorf("the page did not answer even after pilot stopped its script (%s): the tab is stuck; Reset opens a new one", stuckGrace)
	}
	return r, err
}

// observation builds the env.Observation from the page helper's tree, the
// action's error (first) and the notes (refused navigations, dialogs), and
// adds the screenshot.
func (e *Env) observation(ctx context.Context, p pageObs, actErr string) (env.Observation, error) {
	obs := env.Observation{URL: p.URL, Title: p.Title}
	for _, c := range p.Choices {
		obs.Choices = append(obs.Choices, env.Action{Name: c.Name, Args: c.Args})
	}
	if p.ScrollY < p.ScrollMax {
		obs.Choices = append(obs.Choices, env.A("scroll", "down"))
	}
	if p.ScrollY > 0 {
		obs.Choices = append(obs.Choices, env.A("scroll", "up"))
	}
	var errs []string
	if actErr != "" {
		errs = append(errs, actErr)
	}
	if p.Error != "" {
		errs = append(errs, p.Error)
	}
	obs.Error = strings.Join(append(errs, e.ep.takeNotes()...), "; ")
	if e.shaper.Active() {
		tree := p.Text
		p.Text = ""
		header := env.EstimateTokens(render(p, obs.Error))
		p.Text = e.shaper.Shape(tree, p.URL, p.ViewFirst, p.ViewLast, header)
	}
	obs.Text = render(p, obs.Error)
	if e.opts.Screenshot != "" {
		img, err := e.screenshot(ctx)
		if err != nil {
			return env.Observation{}, err
		}
		obs.Images = []env.Image{img}
	}
	return obs, nil
}

func render(p pageObs, errText string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "URL: %s\nTitle: %s\n", p.URL, p.Title)
	if s := StatusLine(p.Status); s != "" {
		b.WriteString(s)
	}
	if errText != "" {
		fmt.Fprintf(&b, "Error: %s\n", errText)
	}
	if p.ScrollMax > 0 {
		fmt.Fprintf(&b, "Scroll: %d of %d px\n", p.ScrollY, p.ScrollMax)
	}
	b.WriteByte('\n')
	if p.Text == "" {
		b.WriteString("(the page is empty)")
	} else {
		b.WriteString(p.Text)
	}
	return b.String()
}

// StatusLine is the observation's line for a document's HTTP status: ""
// for a page that loaded (below 400, or unknown), else "Status: 404 Not
// Found\n". env/web/lite writes it too.
func StatusLine(code int) string {
	if code < 400 || code > 999 {
		return ""
	}
	if t := http.StatusText(code); t != "" {
		return fmt.Sprintf("Status: %d %s\n", code, t)
	}
	return fmt.Sprintf("Status: %d\n", code)
}

func (e *Env) screenshot(ctx context.Context) (env.Image, error) {
	p := page.CaptureScreenshotParams{Format: page.CaptureScreenshotFormatPng, OptimizeForSpeed: new(true)}
	mime := "image/png"
	if e.opts.Screenshot == "jpeg" {
		p.Format = page.CaptureScreenshotFormatJpeg
		p.Quality = new(int64(e.opts.JPEGQuality))
		mime = "image/jpeg"
	}
	var data []byte
	err := runBounded(ctx, e.ep.ctx, func(c context.Context) error {
		res, err := chromedp.Call(c, page.CaptureScreenshot, p)
		data = res.Data
		return err
	})
	if err != nil {
		return env.Image{}, fmt.Errorf("screenshot: %w", err)
	}
	return env.Image{MIME: mime, Data: data, W: e.opts.Viewport.W, H: e.opts.Viewport.H}, nil
}

// callNavigate opens u in the tab. It returns the browser's error text
// for a page that failed to load (an observation, not a Go error).
func (e *Env) callNavigate(ctx context.Context, u string) (string, error) {
	var res page.NavigateResult
	err := runBounded(ctx, e.ep.ctx, func(c context.Context) error {
		var err error
		res, err = chromedp.Call(c, page.Navigate, page.NavigateParams{URL: u})
		return err
	})
	if err != nil {
		return "", err
	}
	if res.ErrorText != "" {
		if res.ErrorText == "net::ERR_ABORTED" {
			return "", nil // the guard has noted why
		}
		return res.ErrorText, nil
	}
	return "", nil
}

// wsGuard is a page script that refuses WebSockets to hosts outside the
// allowed domains (the Fetch domain does not see them).
func wsGuard(domains []string) string {
	b, _ := json.Marshal(domains)
	return `(function(){const allowed=` + string(b) + `;const WS=window.WebSocket;if(!WS||WS.__pilotGuard)return;
function ok(u){try{const h=new URL(u,location.href).hostname.toLowerCase();return allowed.some(function(d){return h===d||h.endsWith('.'+d)})}catch(e){return false}}
const G=function(u,p){if(!ok(u))throw new DOMException('pilot: WebSocket to '+u+' refused: outside the allowed domains','SecurityError');return p===undefined?new WS(u):new WS(u,p)};
G.prototype=WS.prototype;G.CONNECTING=0;G.OPEN=1;G.CLOSING=2;G.CLOSED=3;G.__pilotGuard=true;window.WebSocket=G})();`
}
