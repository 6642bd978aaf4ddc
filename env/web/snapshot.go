package web

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/env/web/tree"
)

// Snapshots of a page in Chromium are replays: a browser cannot fork a
// tab, so a state is the URL of the page the last navigation opened, the
// actions taken on it since (fills, clicks that changed no URL), the
// tab's history and the context's cookies. Restore sets the cookies back,
// opens the URL, replays the actions and checks that the page reads as it
// did: a site whose pages are not the same for the same requests (a
// clock, a server that remembers the agent's earlier steps) fails with
// env.ErrNotRestorable. The server's own state is not saved: an env over
// a site it controls (the shop) saves that beside (shop.Env).

var _ env.Snapshotter = (*Env)(nil)

// trail is what a replay needs: the page a navigation opened and the
// actions on it since.
type trail struct {
	url     string
	actions []env.Action
}

// state is a saved page.
type state struct {
	e      *Env
	ep     *episode
	hist   []trail // the tab's history, oldest first, each entry's trail
	histAt int     // the current entry
	// cookies are the context's.
	cookies []*network.Cookie
	obs     env.Observation
	done    bool
}

func (s *state) Observation() env.Observation { return s.obs }

func cloneHist(h []trail) []trail {
	out := make([]trail, len(h))
	for i, t := range h {
		out[i] = trail{url: t.url, actions: slices.Clone(t.actions)}
	}
	return out
}

// startHist begins the history of an episode on the page Reset opened:
// the tab's entries as Chromium lists them, the last one current.
func (e *Env) startHist(ctx context.Context, obs env.Observation) error {
	ep := e.ep
	var h page.GetNavigationHistoryResult
	err := runBounded(ctx, ep.ctx, func(c context.Context) error {
		var err error
		h, err = chromedp.Call(c, page.GetNavigationHistory, cdp.Empty{})
		return err
	})
	if err != nil {
		return err
	}
	ep.hist, ep.histAt, ep.virtual = nil, 0, false
	for i, en := range h.Entries {
		ep.hist = append(ep.hist, trail{url: en.URL})
		if i == int(h.CurrentIndex) {
			ep.histAt = i
		}
	}
	if len(ep.hist) == 0 {
		ep.hist = []trail{{url: obs.URL}}
	}
	ep.hist[ep.histAt].url = obs.URL
	ep.last = obs
	return nil
}

// noteStep records a step for replays: a navigation opens a history
// entry (or moves along the history), any other action that did not fail
// joins the current entry's trail.
func (ep *episode) noteStep(a env.Action, navigated bool, obs env.Observation) {
	ep.last = obs
	if len(ep.hist) == 0 {
		return
	}
	switch {
	case navigated && (a.Name == "go_back" || a.Name == "go_forward"):
		if !ep.virtual { // historyMove moved the virtual history itself
			if a.Name == "go_back" {
				ep.histAt = max(ep.histAt-1, 0)
			} else {
				ep.histAt = min(ep.histAt+1, len(ep.hist)-1)
			}
		}
		ep.hist[ep.histAt].url = obs.URL
	case navigated:
		ep.hist = append(ep.hist[:ep.histAt+1], trail{url: obs.URL})
		ep.histAt++
	case obs.Error == "":
		t := &ep.hist[ep.histAt]
		t.actions = append(t.actions, a)
	}
}

// Snapshot saves the page for a replay: it costs a cookie read (well
// under a millisecond); Restore costs a page load and a replay.
func (e *Env) Snapshot(ctx context.Context) (env.State, error) {
	switch {
	case e.closed:
		return nil, fmt.Errorf("web: snapshot: %w", env.ErrClosed)
	case e.ep == nil:
		return nil, fmt.Errorf("web: snapshot: %w", env.ErrNotReset)
	case e.ep.dead != nil:
		return nil, fmt.Errorf("web: snapshot: %w", e.ep.dead)
	}
	ep := e.ep
	if len(ep.hist) == 0 {
		return nil, fmt.Errorf("web: snapshot: %w: the episode's history is unknown", env.ErrNotRestorable)
	}
	if !ep.hooks.empty() {
		return nil, fmt.Errorf("web: snapshot: %w: the episode runs a task's hooks (scripts, an evaluator in the page), which a restore would not replay", env.ErrNotRestorable)
	}
	st := &state{e: e, ep: ep, hist: cloneHist(ep.hist), histAt: ep.histAt, obs: ep.last, done: ep.done}
	err := runBounded(ctx, ep.ctx, func(c context.Context) error {
		id := browserContext(c)
		if id == "" {
			// Never the default context: a restore would clear the
			// cookies of a browser pilot shares with its user.
			return fmt.Errorf("%w: the tab has no browser context of its own", env.ErrNotRestorable)
		}
		r, err := chromedp.CallBrowser(c, storage.GetCookies, storage.GetCookiesParams{BrowserContextID: id})
		st.cookies = r.Cookies
		return err
	})
	if err != nil {
		return nil, e.fail(ctx, "snapshot: read the cookies", err)
	}
	return st, nil
}

// Restore brings back a saved page by replay (see Snapshot). The steps
// replayed are not steps of the episode.
func (e *Env) Restore(ctx context.Context, s env.State) error {
	st, ok := s.(*state)
	switch {
	case e.closed:
		return fmt.Errorf("web: restore: %w", env.ErrClosed)
	case !ok || st == nil || st.e != e:
		return fmt.Errorf("web: restore: %w", env.ErrForeignState)
	case st.ep != e.ep:
		return fmt.Errorf("web: restore: %w", env.ErrStaleState)
	case e.ep.dead != nil:
		return fmt.Errorf("web: restore: %w", e.ep.dead)
	}
	ep := e.ep
	e.shaper.Reset() // the next observation shows the whole tree
	err := runBounded(ctx, ep.ctx, func(c context.Context) error {
		id := browserContext(c)
		if _, err := chromedp.CallBrowser(c, storage.ClearCookies, storage.ClearCookiesParams{BrowserContextID: id}); err != nil {
			return err
		}
		if len(st.cookies) == 0 {
			return nil
		}
		_, err := chromedp.CallBrowser(c, storage.SetCookies, storage.SetCookiesParams{Cookies: cookieParams(st.cookies), BrowserContextID: id})
		return err
	})
	if err != nil {
		return e.fail(ctx, "restore: the cookies", err)
	}
	cur := st.hist[st.histAt]
	obs, msg, err := e.replay(ctx, cur)
	if err != nil {
		return e.fail(ctx, "restore: open "+cur.url, err)
	}
	if msg != "" {
		return fmt.Errorf("web: restore: %w: %s", env.ErrNotRestorable, msg)
	}
	if d := pageDiff(obs, st.obs); d != "" {
		return fmt.Errorf("web: restore: %w: after opening %s and replaying %d actions the page differs from the saved one: %s; the site does not answer the same requests the same way", env.ErrNotRestorable, cur.url, len(cur.actions), d)
	}
	ep.hist, ep.histAt, ep.virtual = cloneHist(st.hist), st.histAt, true
	ep.last, ep.done = st.obs, st.done
	return nil
}

// pageDiff says where two observations of a page differ, "" when their
// URL and text agree.
func pageDiff(got, want env.Observation) string {
	if got.URL != want.URL {
		return fmt.Sprintf("the URL is %s, not %s", got.URL, want.URL)
	}
	if got.Text == want.Text {
		return ""
	}
	g, w := strings.Split(got.Text, "\n"), strings.Split(want.Text, "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d reads %q, not %q", i+1, clip(gl, 120), clip(wl, 120))
		}
	}
	return "the text differs"
}

// clip cuts s to at most n bytes, at a character's start, with "…".
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}

// browserContext is the id of the tab's browser context (each episode
// has its own): the cookies' scope.
func browserContext(c context.Context) cdp.BrowserContextID {
	if cc := chromedp.FromContext(c); cc != nil {
		return cc.BrowserContextID
	}
	return ""
}

// cookieParams turns read cookies into cookies to set.
func cookieParams(cs []*network.Cookie) []*network.CookieParam {
	out := make([]*network.CookieParam, 0, len(cs))
	for _, c := range cs {
		p := &network.CookieParam{Name: c.Name, Value: c.Value, Domain: c.Domain, Path: c.Path, Secure: c.Secure, HTTPOnly: c.HTTPOnly,
			SameSite: c.SameSite, Priority: c.Priority, SourceScheme: c.SourceScheme, SourcePort: c.SourcePort, PartitionKey: c.PartitionKey}
		if !c.Session {
			p.Expires = cdp.TimeSinceEpoch(c.Expires)
		}
		out = append(out, p)
	}
	return out
}

// replay opens t's page and replays its actions. msg says why the page
// could not be brought back (a load or an action that failed); err is a
// browser's failure.
func (e *Env) replay(ctx context.Context, t trail) (obs env.Observation, msg string, err error) {
	ep := e.ep
	snap, _ := ep.state.snapshot()
	errText, err := e.callNavigate(ctx, t.url)
	if err != nil {
		return obs, "", err
	}
	if errText != "" {
		return obs, fmt.Sprintf("%s did not load: %s", t.url, errText), nil
	}
	if obs, err = e.settleObserve(ctx, -1, snap.navSeq, true, ""); err != nil {
		return obs, "", err
	}
	for i, a := range t.actions {
		snap, _ := ep.state.snapshot()
		r, err := e.do(ctx, a)
		if err != nil {
			return obs, "", err
		}
		if r.err != "" {
			return obs, fmt.Sprintf("replayed action %d of %d, %s, failed: %s", i+1, len(t.actions), a, r.err), nil
		}
		if obs, err = e.settleObserve(ctx, r.mark, snap.navSeq, r.nav, ""); err != nil {
			return obs, "", err
		}
	}
	return obs, "", nil
}

// historyMove is go_back and go_forward after a restore: the tab's own
// history holds the replays' loads, so the saved history is walked by
// replaying its entries (their URL, then what was done on them, as
// Chromium restores a page's form fields on a move back).
func (e *Env) historyMove(ctx context.Context, delta int) (actResult, error) {
	ep := e.ep
	i := ep.histAt + delta
	name := "go_forward"
	if delta < 0 {
		name = "go_back"
	}
	if i < 0 || i >= len(ep.hist) {
		if delta < 0 {
			return refused("go_back: there is no earlier page in this tab's history"), nil
		}
		return refused("go_forward: there is no later page in this tab's history"), nil
	}
	if msg := e.checkURL(ep.hist[i].url); msg != "" {
		return refused("history move refused: %s", msg), nil
	}
	_, msg, err := e.replay(ctx, ep.hist[i])
	if err != nil {
		return actResult{}, err
	}
	// A page brought back by the history has its fields, not its focus.
	err = runBounded(ctx, ep.ctx, func(c context.Context) error {
		_, err := chromedp.Run(c, chromedp.Evaluate[chromedp.Void]("document.activeElement && document.activeElement.blur && document.activeElement.blur()"))
		return err
	})
	if err != nil {
		return actResult{}, err
	}
	if msg != "" {
		return actResult{err: name + ": the page could not be brought back: " + msg, mark: -1}, nil
	}
	ep.histAt = i
	return actResult{mark: -1, nav: true}, nil
}

var (
	_ env.Replayer     = (*Env)(nil)
	_ env.Irreversible = (*Env)(nil)
)

// Replayed reports true: a restore replays requests to the site, which
// keeps whatever they did.
func (e *Env) Replayed() bool { return true }

// irreversibleWords are the labels of controls that commit something on
// the site's side.
var irreversibleWords = regexp.MustCompile(`(?i)\b(buy|purchase|place (your )?order|order now|pay|checkout and pay|submit|send|delete|remove|confirm|book|subscribe|unsubscribe|transfer|donate|sign ?up|register|publish|post|apply|cancel (my |your )?(order|subscription|account))\b`)

// Irreversible flags a click on (or Enter into, or a submit of) an
// element whose label reads like a commitment: buy, place order, pay,
// submit, send, delete, confirm, subscribe, … A guess from the words on
// the page: it errs on the side of caution.
func (e *Env) Irreversible(obs env.Observation, a env.Action) string {
	return IrreversibleAction(obs, a)
}

// IrreversibleAction is Env.Irreversible for any env whose observations
// are env/web's (the lite engine's too).
func IrreversibleAction(obs env.Observation, a env.Action) string {
	var l string
	switch a.Name {
	case "click":
		l, _ = tree.Line(obs.Text, a.Arg(0))
	case "press":
		if !strings.EqualFold(a.Arg(0), "Enter") {
			return ""
		}
		n, ok := tree.Focused(obs.Text)
		if !ok {
			return ""
		}
		l, _ = tree.Line(obs.Text, n.ID)
		if label := irreversibleWords.FindString(l); label != "" {
			return fmt.Sprintf("Enter on %s may commit something on the site (%q)", l, label)
		}
		return ""
	}
	if label := irreversibleWords.FindString(l); label != "" {
		return fmt.Sprintf("%s may commit something on the site (%q)", l, label)
	}
	return ""
}
