package lite

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/env/web"
)

// Options configure a Browser. The zero value allows every URL.
type Options struct {
	// Origin, if set (e.g. "http://127.0.0.1:8080"), is the only origin the
	// browser may load; a link or goto elsewhere fails the action with an
	// Error in the observation, like env/web's allowlist.
	Origin string
	// Obs sizes the observation for a model, as env/web's Options.Obs. Lite
	// has no layout: its viewport is the top of the page, and scroll moves
	// it by the lines a budget shows.
	Obs web.ObsOptions
}

// Browser is an env.Env over an http.Handler. It is not safe for
// concurrent use; run parallel episodes on separate Browsers (which may
// share a handler that is safe for concurrent use).
type Browser struct {
	h      http.Handler
	origin string // normalized Options.Origin; "" allows all
	optErr error  // a bad Options.Origin, reported by Reset
	spec   env.Spec
	ep     *episode
	closed bool
	epoch  int             // counts Resets, so that a saved state knows its episode
	last   env.Observation // the observation of the last Reset or Step
	shaper *web.Shaper
}

var _ env.Env = (*Browser)(nil)

// New returns a Browser that sends every request to h in-process (no
// network); the URL's host is kept only for display and for resolving
// links.
func New(h http.Handler, opts Options) *Browser {
	b := &Browser{h: h, spec: env.Spec{Name: "web-lite", Actions: web.Actions(), Modalities: []string{"text"}}, shaper: web.NewShaper(opts.Obs)}
	if err := opts.Obs.Validate(); err != nil {
		b.optErr = err
	}
	if opts.Origin != "" {
		u, err := parseURL(opts.Origin)
		if err != nil || !u.isHTTP() || (u.path != "/" && u.path != "") || u.hasQuery || u.hasFrag || u.userinfo != "" {
			b.optErr = fmt.Errorf("origin %q: want scheme://host[:port], such as http://127.0.0.1:8080", opts.Origin)
		} else {
			b.origin = u.origin()
		}
	}
	return b
}

// Spec describes the browser: env/web's actions, text observations.
func (b *Browser) Spec() env.Spec { return b.spec }

// Reset starts a new episode: no cookies, a history of about:blank, then
// t.StartURL (required, an absolute http(s) URL) opened.
func (b *Browser) Reset(ctx context.Context, t env.Task) (env.Observation, error) {
	switch {
	case b.closed:
		return env.Observation{}, fmt.Errorf("lite: reset: %w", env.ErrClosed)
	case b.optErr != nil:
		return env.Observation{}, fmt.Errorf("lite: reset: %w", b.optErr)
	case t.StartURL == "":
		return env.Observation{}, fmt.Errorf("lite: reset: the task has no StartURL: the lite browser opens an absolute http(s) URL")
	}
	start, err := parseURL(t.StartURL)
	if err != nil || !start.isHTTP() {
		return env.Observation{}, fmt.Errorf("lite: reset: start URL %q: want an absolute http(s) URL", t.StartURL)
	}
	if msg := b.checkURL(start); msg != "" {
		return env.Observation{}, fmt.Errorf("lite: reset: start URL: %s", msg)
	}
	if err := ctx.Err(); err != nil {
		return env.Observation{}, fmt.Errorf("lite: reset: %w", err)
	}
	b.ep = nil
	b.epoch++
	b.shaper.Reset()
	ep := &episode{
		jar:     newCookies(),
		hist:    []entry{{url: blankURL, doc: 0}},
		page:    newPage(blankDocument(), 0),
		nextDoc: 1,
		saved:   map[int][]savedControl{},
		answer:  t.Answer,
	}
	prev := b.ep
	b.ep = ep
	lerr, err := b.navigate(ctx, request{method: http.MethodGet, url: start}, false)
	if err != nil {
		b.ep = prev
		return env.Observation{}, fmt.Errorf("lite: reset: %w", err)
	}
	msg := ""
	if lerr != nil {
		if !lerr.refused {
			b.ep = prev
			return env.Observation{}, fmt.Errorf("lite: reset: cannot open %s: %s", t.StartURL, lerr.text)
		}
		msg = lerr.message()
	}
	b.last = b.observation(msg)
	return b.last, nil
}

// Step applies a and returns the page after it.
func (b *Browser) Step(ctx context.Context, a env.Action) (env.Step, error) {
	switch {
	case b.closed:
		return env.Step{}, fmt.Errorf("lite: step: %w", env.ErrClosed)
	case b.ep == nil:
		return env.Step{}, fmt.Errorf("lite: step: %w", env.ErrNotReset)
	case b.ep.done:
		return env.Step{}, fmt.Errorf("lite: step: %w", env.ErrEpisodeOver)
	}
	if err := ctx.Err(); err != nil {
		return env.Step{}, fmt.Errorf("lite: step %s: %w", a, err)
	}
	var st env.Step
	actErr := ""
	if err := b.spec.Validate(a); err != nil {
		actErr = err.Error()
	} else {
		msg, err := b.do(ctx, a)
		if err != nil {
			return env.Step{}, fmt.Errorf("lite: step %s: %w", a, err)
		}
		actErr = msg
		if a.Name == "stop" {
			st.Terminated = true
			st.Reason = "the agent stopped"
			st.Info = map[string]any{"answer": a.Arg(0)}
			if want := b.ep.answer; want != "" && normAnswer(a.Arg(0)) == normAnswer(want) {
				st.Reward = 1
			}
		}
	}
	st.Obs = b.observation(actErr)
	b.last = st.Obs
	if err := b.score(ctx, &st, a); err != nil {
		b.ep.done = true
		return st, fmt.Errorf("lite: step %s: %w", a, err)
	}
	b.ep.done = st.Terminated
	return st, nil
}

func normAnswer(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}

// Close ends the episode. It is idempotent.
func (b *Browser) Close() error {
	b.closed = true
	b.ep = nil
	return nil
}

// observation renders the page in env/web's format (without the Scroll
// line: lite has no layout).
func (b *Browser) observation(actErr string) env.Observation {
	p := b.ep.page
	text, w := p.observe()
	obs := env.Observation{URL: p.doc.url.String(), Title: p.doc.title, Error: actErr, Choices: w.choices}
	var sb strings.Builder
	sb.Grow(len(text) + 256)
	fmt.Fprintf(&sb, "URL: %s\nTitle: %s\n", obs.URL, obs.Title)
	sb.WriteString(web.StatusLine(p.doc.status))
	if actErr != "" {
		fmt.Fprintf(&sb, "Error: %s\n", actErr)
	}
	sb.WriteByte('\n')
	if b.shaper.Active() {
		text = b.shaper.Shape(text, obs.URL, -1, -1, env.EstimateTokens(sb.String()))
	}
	if text == "" {
		sb.WriteString("(the page is empty)")
	} else {
		sb.WriteString(text)
	}
	obs.Text = sb.String()
	return obs
}

// checkURL returns why u is outside the allowed origin, or "" when it is
// allowed (always, without Options.Origin).
func (b *Browser) checkURL(u webURL) string {
	if b.origin == "" {
		return ""
	}
	switch u.scheme {
	case "about", "data", "blob", "javascript":
		return ""
	case "http", "https":
	default:
		return fmt.Sprintf("%s is not an http(s) URL of the allowed origin (%s)", u, b.origin)
	}
	if o := u.origin(); o != b.origin {
		return fmt.Sprintf("%s is outside the allowed origin (%s)", o, b.origin)
	}
	return ""
}

var _ env.Irreversible = (*Browser)(nil)

// Irreversible flags what env/web's Env flags: a click on (or Enter
// into) a control whose label reads like a commitment (web.IrreversibleAction).
func (b *Browser) Irreversible(obs env.Observation, a env.Action) string {
	return web.IrreversibleAction(obs, a)
}
