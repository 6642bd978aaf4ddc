package web

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
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
	case "click", "hover", "double_click":
		return e.pointer(ctx, a)
	case "drag":
		return e.drag(ctx, a.Arg(0), a.Arg(1))
	case "upload":
		return e.upload(ctx, a.Arg(0), a.Arg(1))
	case "wait":
		return e.wait(ctx, a.Arg(0))
	case "wait_for":
		return e.waitFor(ctx, a.Arg(0), a.Arg(1))
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
	mode := "click"
	if a.Name == "hover" {
		mode = "hover"
	}
	r, err := e.callPilot(ctx, "point("+jsArgs(id, mode)+")", false)
	if err != nil {
		return actResult{}, err
	}
	if r.Error != "" {
		return refused("%s", r.Error), nil
	}
	if a.Name != "hover" && r.Href != "" {
		if msg := e.checkURL(r.Href); msg != "" && !strings.HasPrefix(r.Href, "javascript:") {
			return refused("click %s refused: the link leaves the allowed domains: %s", id, msg), nil
		}
	}
	// A click is a press and a release at the point (Chromium moves the
	// pointer there first, with the hover events a page expects). A
	// separate move would cost a frame: moves are aligned to animation
	// frames, presses and releases are not.
	type ev struct {
		typ   input.DispatchMouseEventType
		count int64
	}
	events := []ev{{chromedp.MousePressed, 1}, {chromedp.MouseReleased, 1}}
	switch a.Name {
	case "hover":
		events = []ev{{chromedp.MouseMoved, 0}}
	case "double_click":
		events = append(events, ev{chromedp.MousePressed, 2}, ev{chromedp.MouseReleased, 2})
	}
	err = e.dispatch(ctx, func(c context.Context) error {
		for _, m := range events {
			p := input.DispatchMouseEventParams{Type: m.typ, X: r.X, Y: r.Y}
			if m.typ != chromedp.MouseMoved {
				p.Button = input.MouseButtonLeft
				p.ClickCount = m.count
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
	r, err := e.callPilot(ctx, "prepareFill("+jsArgs(id, text)+")", false)
	if err != nil {
		return actResult{}, err
	}
	if r.Error != "" {
		return refused("%s", r.Error), nil
	}
	if r.Set { // a date, time, colour or range input: the page set it
		return actResult{mark: r.Mutations}, nil
	}
	err = e.dispatch(ctx, func(c context.Context) error {
		if text == "" {
			return chromedp.Do(c, chromedp.KeyEvent(kb.Backspace))
		}
		_, err := chromedp.Call(c, input.InsertText, input.InsertTextParams{Text: text})
		return err
	})
	if err != nil {
		return actResult{}, err
	}
	after, err := e.callPilot(ctx, "afterFill("+jsArgs(id, text)+")", false)
	if err != nil && !contextGone(err) {
		return actResult{}, err
	}
	if after.Error != "" {
		return actResult{err: after.Error, mark: r.Mutations}, nil
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
	err = e.dispatch(ctx, func(c context.Context) error {
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

// Bounds of the waiting actions.
const (
	maxWait        = 10 * time.Second
	defaultWaitFor = 5 * time.Second
	maxWaitFor     = 30 * time.Second
)

// drag presses the mouse on from, moves it to to and releases it there.
// An HTML drag and drop (draggable elements) is handed to pilot by the
// browser and dropped with drag events, as a person's drag would.
func (e *Env) drag(ctx context.Context, from, to string) (actResult, error) {
	r, err := e.callPilot(ctx, "dragPoints("+jsArgs(from, to)+")", false)
	if err != nil {
		return actResult{}, err
	}
	if r.Error != "" {
		return refused("%s", r.Error), nil
	}
	snap, _ := e.ep.state.snapshot()
	mouse := func(c context.Context, typ input.DispatchMouseEventType, x, y float64) error {
		p := input.DispatchMouseEventParams{Type: typ, X: x, Y: y, Button: input.MouseButtonLeft, Buttons: 1}
		if typ != chromedp.MouseMoved {
			p.ClickCount = 1
		}
		if typ == chromedp.MouseReleased {
			p.Buttons = 0
		}
		_, err := chromedp.Call(c, input.DispatchMouseEvent, p)
		return err
	}
	err = e.dispatch(ctx, func(c context.Context) error {
		if _, err := chromedp.Call(c, input.SetInterceptDrags, input.SetInterceptDragsParams{Enabled: true}); err != nil {
			return err
		}
		defer chromedp.Call(c, input.SetInterceptDrags, input.SetInterceptDragsParams{Enabled: false}) //nolint:errcheck // best effort
		if _, err := chromedp.Call(c, input.DispatchMouseEvent, input.DispatchMouseEventParams{Type: chromedp.MouseMoved, X: r.X, Y: r.Y}); err != nil {
			return err
		}
		if err := mouse(c, chromedp.MousePressed, r.X, r.Y); err != nil {
			return err
		}
		const steps = 5
		for i := 1; i <= steps; i++ {
			f := float64(i) / steps
			if err := mouse(c, chromedp.MouseMoved, r.X+(r.X2-r.X)*f, r.Y+(r.Y2-r.Y)*f); err != nil {
				return err
			}
		}
		if now, _ := e.ep.state.snapshot(); now.dragSeq > snap.dragSeq {
			data := e.ep.state.lastDrag()
			for _, typ := range []input.DispatchDragEventType{input.DispatchDragEventTypeDragEnter, input.DispatchDragEventTypeDragOver, input.DispatchDragEventTypeDrop} {
				p := input.DispatchDragEventParams{Type: typ, X: r.X2, Y: r.Y2, Data: data}
				if _, err := chromedp.Call(c, input.DispatchDragEvent, p); err != nil {
					return err
				}
			}
		}
		return mouse(c, chromedp.MouseReleased, r.X2, r.Y2)
	})
	if err != nil {
		return actResult{}, err
	}
	return actResult{mark: r.Mutations}, nil
}

// uploadPath resolves file inside dir, refusing paths that leave it.
func uploadPath(dir, file string) (string, string) {
	if dir == "" {
		return "", "upload is off: allow it with --upload-dir DIR (web.Options.UploadDir) and name a file inside DIR"
	}
	if file == "" || filepath.IsAbs(file) || strings.HasPrefix(filepath.ToSlash(filepath.Clean(file)), "../") || filepath.Clean(file) == ".." {
		return "", fmt.Sprintf("upload %q: name a file inside the upload directory %s, by a relative path", file, dir)
	}
	p := filepath.Join(dir, filepath.Clean(file))
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", fmt.Sprintf("upload %q: there is no such file in the upload directory %s", file, dir)
	}
	if rel, err := filepath.Rel(dir, real); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Sprintf("upload %q: the file leads outside the upload directory %s", file, dir)
	}
	fi, err := os.Stat(real)
	if err != nil || !fi.Mode().IsRegular() {
		return "", fmt.Sprintf("upload %q: not a regular file in the upload directory %s", file, dir)
	}
	return real, ""
}

// upload sets a file input's file, as the browser's file chooser would.
func (e *Env) upload(ctx context.Context, id, file string) (actResult, error) {
	path, msg := uploadPath(e.opts.UploadDir, file)
	if msg != "" {
		return refused("%s", msg), nil
	}
	r, err := e.callPilot(ctx, "prepareUpload("+jsArgs(id)+")", false)
	if err != nil {
		return actResult{}, err
	}
	if r.Error != "" {
		return refused("%s", r.Error), nil
	}
	err = runBounded(ctx, e.ep.ctx, func(c context.Context) error {
		res, err := chromedp.Call(c, runtime.Evaluate, runtime.EvaluateParams{Expression: "window.__pilot.fileInput(" + jsArgs(id) + ")"})
		if err != nil {
			return err
		}
		if res.ExceptionDetails != nil || res.Result == nil || res.Result.ObjectID == "" {
			return fmt.Errorf("find file input %s: %v", id, res.ExceptionDetails)
		}
		defer chromedp.Call(c, runtime.ReleaseObject, runtime.ReleaseObjectParams{ObjectID: res.Result.ObjectID}) //nolint:errcheck // best effort
		_, err = chromedp.Call(c, dom.SetFileInputFiles, dom.SetFileInputFilesParams{Files: []string{path}, ObjectID: res.Result.ObjectID})
		return err
	})
	if err != nil {
		return actResult{}, err
	}
	return actResult{mark: r.Mutations}, nil
}

// parseMillis reads a wait's milliseconds, capped at max.
func parseMillis(what, s string, def, max time.Duration) (time.Duration, string) {
	if s == "" {
		return def, ""
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 {
		return 0, fmt.Sprintf("%s: %q is not a number of milliseconds (e.g. 500)", what, s)
	}
	d := time.Duration(n) * time.Millisecond
	if d > max {
		return 0, fmt.Sprintf("%s: %d ms is longer than the %d ms pilot waits at most", what, n, max.Milliseconds())
	}
	return d, ""
}

// wait lets the page run by itself for a while.
func (e *Env) wait(ctx context.Context, ms string) (actResult, error) {
	d, msg := parseMillis("wait", ms, 0, maxWait)
	if msg != "" {
		return refused("%s", msg), nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return actResult{}, ctx.Err()
	}
	return actResult{mark: -1}, nil
}

// waitFor waits until text is in the observation.
func (e *Env) waitFor(ctx context.Context, text, ms string) (actResult, error) {
	d, msg := parseMillis("wait_for", ms, defaultWaitFor, maxWaitFor)
	if msg != "" {
		return refused("%s", msg), nil
	}
	if strings.TrimSpace(text) == "" {
		return refused("wait_for: give the text to wait for"), nil
	}
	r, err := e.callPilot(ctx, "waitFor("+jsArgs(text, d.Milliseconds())+")", true)
	if err != nil {
		return actResult{}, err
	}
	if r.Error != "" {
		return actResult{err: r.Error, mark: -2}, nil
	}
	return actResult{mark: -1}, nil
}

// dispatch sends input (mouse, keys, text) to the page. Chromium answers
// once the page has handled it; a handler that never returns (an endless
// loop, alert after alert) would hold the step for ever, so after the
// settle time and a grace pilot stops the page's running script and goes
// on (yieldOrStop).
func (e *Env) dispatch(ctx context.Context, f func(context.Context) error) error {
	_, err := e.yieldOrStop(ctx, e.opts.SettleTimeout+stuckGrace, " after the input", func(c context.Context) error {
		return runBounded(c, e.ep.ctx, f)
	})
	return err
}

// yieldOrStop runs f, a call that the page answers, for at most bound. A
// page that has not answered by then is taken for a script that does not
// yield: pilot stops it (terminate), notes so in the next observation
// (what says when: " after the input"), and reports stopped.
func (e *Env) yieldOrStop(ctx context.Context, bound time.Duration, what string, f func(context.Context) error) (stopped bool, err error) {
	cctx, cancel := context.WithTimeoutCause(ctx, bound, errStuck)
	err = f(cctx)
	stuck := context.Cause(cctx) == errStuck
	cancel()
	if err == nil || ctx.Err() != nil || !stuck {
		return false, err
	}
	e.ep.noteFirst(fmt.Sprintf("the page's scripts did not yield for %s%s (an endless loop, or dialogs one after another): pilot stopped the running script", bound.Round(time.Millisecond), what))
	if err := e.terminate(ctx); err != nil {
		return true, fmt.Errorf("stop the page's script: %w", err)
	}
	return true, nil
}

// terminate stops the page's running script (Runtime.terminateExecution).
// A termination already under way (the dialog guard's) is as good.
func (e *Env) terminate(ctx context.Context) error {
	err := runBounded(ctx, e.ep.ctx, func(c context.Context) error {
		_, err := chromedp.Call(c, runtime.TerminateExecution, cdp.Empty{})
		return err
	})
	if err != nil && strings.Contains(err.Error(), "termination request in progress") {
		return nil
	}
	return err
}

// errStuck is the cause of a wait that a page which does not yield ended.
var errStuck = errors.New("the page's scripts did not yield")
