package web

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/pilotkit/pilot/env"
)

// actResult is what an action did: an error for the agent (not a Go
// error), the page's mutation count before it, and whether it started a
// navigation that Step must wait for.
type actResult struct {
	err  string
	mark int
	nav  bool
}

func refused(format string, args ...any) actResult {
	return actResult{err: fmt.Sprintf(format, args...), mark: -2}
}

// do performs a valid action. A Go error means the browser failed.
func (e *Env) do(ctx context.Context, a env.Action) (actResult, error) {
	switch a.Name {
	case "click", "hover":
		return e.pointer(ctx, a)
	case "fill":
		return e.fill(ctx, a.Arg(0), a.Arg(1))
	case "select_option":
		return e.pageAction(ctx, "selectOption("+jsArgs(a.Arg(0), a.Arg(1))+")")
	case "press":
		return e.press(ctx, a.Arg(0))
	case "scroll":
		args := make([]any, len(a.Args))
		for i, s := range a.Args {
			args[i] = s
		}
		return e.pageAction(ctx, "scroll("+jsArgs(args...)+")")
	case "goto":
		return e.gotoURL(ctx, a.Arg(0))
	case "go_back":
		return e.history(ctx, -1)
	case "go_forward":
		return e.history(ctx, +1)
	case "noop", "stop":
		return actResult{mark: -2}, nil
	}
	return refused("action %s is not supported by the web environment", a.Name), nil
}

// pageAction runs an action that the page helper performs by itself.
func (e *Env) pageAction(ctx context.Context, call string) (actResult, error) {
	r, err := e.callPilot(ctx, call, false)
	if err != nil {
		return actResult{}, err
	}
	if r.Error != "" {
		return refused("%s", r.Error), nil
	}
	return actResult{mark: r.Mutations}, nil
}

// pointer clicks or hovers the centre of an element with real mouse events.
func (e *Env) pointer(ctx context.Context, a env.Action) (actResult, error) {
	id := a.Arg(0)
	r, err := e.callPilot(ctx, "point("+jsArgs(id)+")", false)
	if err != nil {
		return actResult{}, err
	}
	if r.Error != "" {
		return refused("%s", r.Error), nil
	}
	if a.Name == "click" && r.Href != "" {
		if msg := e.checkURL(r.Href); msg != "" && !strings.HasPrefix(r.Href, "javascript:") {
			return refused("click %s refused: the link leaves the allowed domains: %s", id, msg), nil
		}
	}
	// A click is a press and a release at the point (Chromium moves the
	// pointer there first, with the hover events a page expects). A
	// separate move would cost a frame: moves are aligned to animation
	// frames, presses and releases are not.
	events := []input.DispatchMouseEventType{chromedp.MousePressed, chromedp.MouseReleased}
	if a.Name == "hover" {
		events = []input.DispatchMouseEventType{chromedp.MouseMoved}
	}
	err = runBounded(ctx, e.ep.ctx, func(c context.Context) error {
		for _, typ := range events {
			p := input.DispatchMouseEventParams{Type: typ, X: r.X, Y: r.Y}
			if typ != chromedp.MouseMoved {
				p.Button = input.MouseButtonLeft
				p.ClickCount = 1
			}
			if _, err := chromedp.Call(c, input.DispatchMouseEvent, p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return actResult{}, err
	}
	return actResult{mark: r.Mutations}, nil
}

// fill focuses a text field, selects its content and types text over it.
func (e *Env) fill(ctx context.Context, id, text string) (actResult, error) {
	r, err := e.callPilot(ctx, "prepareFill("+jsArgs(id)+")", false)
	if err != nil {
		return actResult{}, err
	}
	if r.Error != "" {
		return refused("%s", r.Error), nil
	}
	err = runBounded(ctx, e.ep.ctx, func(c context.Context) error {
		if text == "" {
			return chromedp.Do(c, chromedp.KeyEvent(kb.Backspace))
		}
		_, err := chromedp.Call(c, input.InsertText, input.InsertTextParams{Text: text})
		return err
	})
	if err != nil {
		return actResult{}, err
	}
	if _, err := e.callPilot(ctx, "afterFill("+jsArgs(id)+")", false); err != nil && !contextGone(err) {
		return actResult{}, err
	}
	return actResult{mark: r.Mutations}, nil
}

// press sends a key, with optional modifiers (Control+a), to the focused
// element.
func (e *Env) press(ctx context.Context, spec string) (actResult, error) {
	key, mods, msg := ParseKey(spec)
	if msg != "" {
		return refused("%s", msg), nil
	}
	r, err := e.callPilot(ctx, "mark()", false)
	if err != nil {
		return actResult{}, err
	}
	var opts []chromedp.KeyOption
	if mods != 0 {
		opts = append(opts, chromedp.KeyModifiers(mods))
	}
	err = runBounded(ctx, e.ep.ctx, func(c context.Context) error {
		return chromedp.Do(c, chromedp.KeyEvent(string(key), opts...))
	})
	if err != nil {
		return actResult{}, err
	}
	return actResult{mark: r.Mutations}, nil
}

// ParseKey reads the key of a press action: "Enter", "a",
// "Control+Shift+ArrowDown". It returns the key (a character, or the rune
// chromedp's keyboard table has for a named key), the modifiers, and what
// is wrong with spec ("" when nothing is). env/web/lite reads keys with it
// too.
func ParseKey(spec string) (rune, chromedp.Modifier, string) {
	parts := strings.Split(spec, "+")
	if strings.HasSuffix(spec, "++") || spec == "+" { // the plus key itself
		parts = append(parts[:len(parts)-2], "+")
	}
	var mods chromedp.Modifier
	for _, m := range parts[:len(parts)-1] {
		switch strings.ToLower(strings.TrimSpace(m)) {
		case "control", "ctrl":
			mods |= chromedp.ModifierCtrl
		case "shift":
			mods |= chromedp.ModifierShift
		case "alt", "option":
			mods |= chromedp.ModifierAlt
		case "meta", "cmd", "command":
			mods |= chromedp.ModifierMeta
		default:
			return 0, 0, fmt.Sprintf("press %q: unknown modifier %q (use Control, Shift, Alt or Meta)", spec, m)
		}
	}
	name := parts[len(parts)-1]
	if name == "" {
		return 0, 0, fmt.Sprintf("press %q: no key given (e.g. Enter, Tab, ArrowDown, a)", spec)
	}
	if r := []rune(name); len(r) == 1 {
		return r[0], mods, ""
	}
	switch strings.ToLower(name) {
	case "space":
		return ' ', mods, ""
	case "esc":
		name = "Escape"
	case "return":
		name = "Enter"
	case "del":
		name = "Delete"
	case "up", "down", "left", "right":
		name = "Arrow" + name
	}
	for r, k := range kb.Keys {
		if strings.EqualFold(k.Key, name) && k.Text == "" || strings.EqualFold(k.Key, name) && r == '\r' {
			return r, mods, ""
		}
	}
	return 0, 0, fmt.Sprintf("press %q: unknown key (use a name such as Enter, Tab, Escape, Backspace, ArrowDown, PageDown, Home, or one character)", spec)
}

// gotoURL opens an absolute URL, within the allowlist.
func (e *Env) gotoURL(ctx context.Context, raw string) (actResult, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Scheme == "" || (u.Host == "" && u.Scheme != "about" && u.Scheme != "data" && u.Scheme != "file") {
		return refused("goto %q: not an absolute URL: write it with http:// or https://", raw), nil
	}
	switch u.Scheme {
	case "http", "https", "about", "file", "data":
	default:
		return refused("goto %q: the scheme %s is not supported (use http or https)", raw, u.Scheme), nil
	}
	if msg := e.checkURL(u.String()); msg != "" {
		return refused("goto refused: %s", msg), nil
	}
	errText, err := e.callNavigate(ctx, u.String())
	if err != nil {
		return actResult{}, err
	}
	if errText != "" {
		return actResult{err: fmt.Sprintf("goto %s: the page did not load: %s", u, errText), mark: -1}, nil
	}
	return actResult{mark: -1, nav: true}, nil
}

// history moves back (-1) or forward (+1) in the tab's history.
func (e *Env) history(ctx context.Context, delta int) (actResult, error) {
	if e.ep.virtual {
		return e.historyMove(ctx, delta)
	}
	var h page.GetNavigationHistoryResult
	err := runBounded(ctx, e.ep.ctx, func(c context.Context) error {
		var err error
		h, err = chromedp.Call(c, page.GetNavigationHistory, cdp.Empty{})
		return err
	})
	if err != nil {
		return actResult{}, err
	}
	i := int(h.CurrentIndex) + delta
	if i < 0 || i >= len(h.Entries) {
		if delta < 0 {
			return refused("go_back: there is no earlier page in this tab's history"), nil
		}
		return refused("go_forward: there is no later page in this tab's history"), nil
	}
	if msg := e.checkURL(h.Entries[i].URL); msg != "" {
		return refused("history move refused: %s", msg), nil
	}
	err = runBounded(ctx, e.ep.ctx, func(c context.Context) error {
		_, err := chromedp.Call(c, page.NavigateToHistoryEntry, page.NavigateToHistoryEntryParams{EntryID: h.Entries[i].ID})
		return err
	})
	if err != nil {
		return actResult{}, err
	}
	return actResult{mark: -1, nav: true}, nil
}

// inDomains reports whether host is one of domains (lower case) or a
// subdomain of one.
func inDomains(host string, domains []string) bool {
	host = strings.ToLower(host)
	for _, d := range domains {
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}

// checkURL returns why u is outside the allowed domains, or "" when it is
// allowed (always, without an allowlist).
func (e *Env) checkURL(raw string) string {
	if len(e.opts.AllowDomains) == 0 {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Sprintf("%q is not a valid URL", raw)
	}
	switch u.Scheme {
	case "about", "data", "blob", "javascript":
		return ""
	case "http", "https":
	default:
		return fmt.Sprintf("%s is not an http(s) URL on the allowed domains (%s)", raw, strings.Join(e.opts.AllowDomains, ", "))
	}
	host := strings.ToLower(u.Hostname())
	if inDomains(host, e.opts.AllowDomains) {
		return ""
	}
	return fmt.Sprintf("%s is outside the allowed domains (%s)", host, strings.Join(e.opts.AllowDomains, ", "))
}
