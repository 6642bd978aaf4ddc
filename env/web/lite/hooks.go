package lite

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/env/web"
)

var _ web.HookedEnv = (*Browser)(nil)

// ResetWith starts an episode as Reset does, scored by h.Reward after
// every step. Lite runs no JavaScript: hooks with scripts (Init, Setup,
// Instruction) are refused.
func (b *Browser) ResetWith(ctx context.Context, t env.Task, h web.Hooks) (env.Observation, error) {
	if h.Scripted() {
		return env.Observation{}, fmt.Errorf("lite: reset: task %s: %w: it runs scripts in the page (init, setup or instruction), and the lite engine runs no JavaScript: run it on the chromium engine", t.ID, env.ErrEvaluate)
	}
	obs, err := b.Reset(ctx, t)
	if err != nil {
		return obs, err
	}
	b.ep.reward = h.Reward
	return obs, nil
}

// score runs the episode's Scorer after a step.
func (b *Browser) score(ctx context.Context, st *env.Step, a env.Action) error {
	ep := b.ep
	step := ep.steps
	ep.steps++
	if ep.reward == nil {
		return nil
	}
	t := web.Turn{Step: step, Action: a, Obs: st.Obs}
	if a.Name == "stop" {
		t.Stopped, t.Answer = true, a.Arg(0)
	}
	s, err := ep.reward(ctx, litePage{b}, t)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("score step %d: %w", step, ctx.Err())
		}
		return web.ScoreError(step, err)
	}
	web.ApplyScore(st, s)
	return nil
}

// litePage is the episode's page as a Scorer reads it.
type litePage struct{ b *Browser }

func (p litePage) URL() string { return p.b.ep.page.doc.url.String() }

func (p litePage) Evaluate(context.Context, string) (json.RawMessage, error) {
	return nil, web.ErrNoScript
}

// HTML serialises the document as it is now, its controls' values as
// attributes (what Chromium's outerHTML shows of a page whose scripts set
// none).
func (p litePage) HTML(context.Context) (string, error) {
	d := p.b.ep.page.doc
	// The controls' state goes into their attributes for the rendering,
	// as env/web's Page shows it, and is put back after.
	type saved struct {
		n           *html.Node
		attr        []html.Attribute
		first, last *html.Node
	}
	var undo []saved
	defer func() {
		for _, u := range undo {
			u.n.Attr, u.n.FirstChild, u.n.LastChild = u.attr, u.first, u.last
		}
	}()
	for n, c := range d.ctl {
		if n.Type != html.ElementNode {
			continue
		}
		undo = append(undo, saved{n, n.Attr, n.FirstChild, n.LastChild})
		n.Attr = slices.Clone(n.Attr)
		flag := func(key string, on bool) {
			if on {
				setAttr(n, key, "")
			} else {
				removeAttr(n, key)
			}
		}
		switch {
		case n.DataAtom == atom.Option:
			flag("selected", c.selected)
		case n.DataAtom == atom.Textarea:
			t := &html.Node{Type: html.TextNode, Data: c.value, Parent: n}
			n.FirstChild, n.LastChild = t, t
		case n.DataAtom == atom.Input:
			switch inputType(n) {
			case "checkbox", "radio":
				flag("checked", c.checked)
			case "password":
				removeAttr(n, "value")
			case "file":
			default:
				setAttr(n, "value", c.value)
			}
		}
	}
	var buf bytes.Buffer
	if err := html.Render(&buf, d.root); err != nil {
		return "", fmt.Errorf("serialise the page: %w", err)
	}
	return buf.String(), nil
}

// Fetch gets u through the handler with the episode's cookies; the page
// shown stays.
func (p litePage) Fetch(ctx context.Context, u string) (int, string, error) {
	cur := p.b.ep.page.doc.url
	target, err := resolveURL(&cur, u)
	if err != nil || !target.isHTTP() {
		return 0, "", fmt.Errorf("fetch %q: want an http(s) URL", u)
	}
	resp, lerr, err := p.b.fetch(ctx, p.b.ep.jar, request{method: http.MethodGet, url: target})
	if err != nil {
		return 0, "", fmt.Errorf("fetch %s: %w", u, err)
	}
	if lerr != nil {
		return 0, "", fmt.Errorf("fetch %s: %s", u, lerr.message())
	}
	return resp.status, string(resp.body), nil
}
