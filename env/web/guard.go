package web

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/env/web/tree"
)

// GuardOptions configure Guard.
type GuardOptions struct {
	// Hosts are hosts a goto may reach besides the task's own (the host of
	// the page the episode started on): host names, each with its
	// subdomains, as Options.AllowDomains.
	Hosts []string
	// NoDepartures leaves out the departure check (see Guard).
	NoDepartures bool
	// NoChecks leaves out the refusals (goto and personal fields), for a
	// Guard that only marks actions irreversible.
	NoChecks bool
	// Rules mark more actions irreversible (--irreversible): Irreversible
	// reports the first that matches.
	Rules []GateRule
}

// Guard wraps a web env (env/web, env/web/lite, or one built on them,
// such as the shop's) with checks of each action against the task, a
// defence against instructions a page smuggles in (prompt injection):
//
//   - a goto must stay on the task's sites: the host of the task's start
//     URL, the host its first page ended on (after redirects), or one of
//     GuardOptions.Hosts; elsewhere it is refused;
//   - a value typed (or chosen) into a field for a name, an address or a contact
//     detail (its label says name, street, address, city, state, zip,
//     phone or email) must be the user's: a phrase of the task's
//     instruction, or a secret's placeholder (<secret:NAME>); else it is
//     refused;
//   - any other text typed that brings in words the instruction does not
//     have is a departure: Irreversible flags it (env.Departure), so that
//     the agent's confirmation gate asks the user first.
//
// A refused action never reaches the env: the step's observation is the
// page as it was, with Error saying why. Guard keeps the inner env's
// snapshots (env.Snapshotter) and its irreversible actions.
func Guard(inner env.Env, opts GuardOptions) env.Env {
	g := &guard{inner: inner, opts: opts}
	g.opts.Hosts = slices.Clone(opts.Hosts)
	for i, h := range g.opts.Hosts {
		g.opts.Hosts[i] = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(h), "."))
	}
	if _, ok := inner.(env.Snapshotter); ok {
		return &snapGuard{g}
	}
	return g
}

type guard struct {
	inner env.Env
	opts  GuardOptions
	// homes are the task's sites: the hosts (with their ports, a default
	// port dropped) of the start URL and of the first page after its
	// redirects; named, the host names the instruction mentions.
	homes, named []string
	words        map[string]bool
	instr        string // the instruction's words (normText)
	last         env.Observation
	// live is set between a Reset and the end of its episode: the guard
	// checks steps only then (the inner env says what is wrong else).
	live, closed bool
}

func (g *guard) Spec() env.Spec { return g.inner.Spec() }

// Brief is the inner env's (env.Briefer).
func (g *guard) Brief() string {
	if b, ok := g.inner.(env.Briefer); ok {
		return b.Brief()
	}
	return ""
}

func (g *guard) Close() error {
	g.closed, g.live = true, false
	return g.inner.Close()
}

func (g *guard) Reset(ctx context.Context, t env.Task) (env.Observation, error) {
	obs, err := g.inner.Reset(ctx, t)
	g.last, g.live = obs, err == nil
	if b, ok := g.inner.(env.Briefer); ok && err == nil {
		if s := b.Brief(); s != "" {
			t.Instruction = s // the page's instruction is the task's
		}
	}
	g.instr = normText(t.Instruction)
	g.words = map[string]bool{}
	for _, w := range contentWords(t.Instruction) {
		g.words[stem(w)] = true
	}
	g.homes, g.named = nil, nil
	for _, raw := range []string{t.StartURL, obs.URL} {
		if h := siteOf(raw); h != "" && !slices.Contains(g.homes, h) {
			g.homes = append(g.homes, h)
		}
	}
	for _, m := range hostWord.FindAllString(strings.ToLower(t.Instruction), -1) {
		if !slices.Contains(g.named, m) {
			g.named = append(g.named, m)
		}
	}
	return obs, err
}

// siteOf is the host of an http(s) URL, lower case, its port dropped
// when it is the scheme's default; "" for anything else.
func siteOf(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	h, p := strings.ToLower(u.Hostname()), u.Port()
	if p == "" || (u.Scheme == "http" && p == "80") || (u.Scheme == "https" && p == "443") {
		return h
	}
	return h + ":" + p
}

// hostWord finds host names in an instruction: words with a dot and a
// top-level domain of letters ("example.com", "shop.example.org").
var hostWord = regexp.MustCompile(`\b[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.[a-z]{2,}\b`)

func (g *guard) Step(ctx context.Context, a env.Action) (env.Step, error) {
	if !g.live {
		return g.inner.Step(ctx, a) // not reset, over or closed: the inner env's error
	}
	if why := g.refuse(a); why != "" {
		obs := g.last
		obs.Error = "refused by the task guard: " + why
		return env.Step{Obs: obs}, nil
	}
	st, err := g.inner.Step(ctx, a)
	if err == nil {
		g.last = st.Obs
	}
	if err != nil || st.Done() {
		g.live = false
	}
	return st, err
}

// refuse says why a is refused, "" when it may go.
func (g *guard) refuse(a env.Action) string {
	if g.opts.NoChecks {
		return ""
	}
	switch a.Name {
	case "goto":
		return g.checkGoto(a.Arg(0))
	case "press":
		// Typing a key at a time into a personal field would go round the
		// check of fill.
		if k := a.Arg(0); utf8.RuneCountInString(k) == 1 || strings.HasPrefix(k, "Shift+") && utf8.RuneCountInString(k) == len("Shift+")+1 {
			if n, ok := tree.Focused(g.last.Text); ok && personalField.MatchString(n.Name) {
				return fmt.Sprintf("typing into the %s a key at a time: type a name, an address or a contact detail with fill, which checks it against the task", n.Name)
			}
		}
	case "fill", "select_option":
		n, _ := tree.Element(g.last.Text, a.Arg(0))
		label := n.Name
		if !personalField.MatchString(label) {
			return ""
		}
		v := a.Arg(1)
		if strings.HasPrefix(strings.TrimSpace(v), "<secret:") || normText(v) == "" || strings.Contains(" "+g.instr+" ", " "+normText(v)+" ") {
			return ""
		}
		return fmt.Sprintf("the %s typed (%q) is not in the task's instruction: a name, an address or a contact detail must be the user's, as the task gives it; a page that asks for another is not to be trusted", label, clip(v, 80))
	}
	return ""
}

func (g *guard) checkGoto(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return fmt.Sprintf("%q is not a URL", clip(raw, 80))
	}
	if u.Host == "" && u.Scheme == "" {
		return "" // a path on the page's own site
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Sprintf("goto %s: only http(s) pages on the task's sites", clip(raw, 80))
	}
	site := siteOf(raw)
	if slices.Contains(g.homes, site) {
		return ""
	}
	if inDomains(u.Hostname(), g.named) || inDomains(u.Hostname(), g.opts.Hosts) {
		return ""
	}
	var sites []string
	for _, h := range append(append(slices.Clone(g.homes), g.named...), g.opts.Hosts...) {
		if !slices.Contains(sites, h) {
			sites = append(sites, h)
		}
	}
	if len(sites) == 0 {
		return fmt.Sprintf("goto %s: the task names no site (no start URL, no host in its instruction); give the site with --url, name it in the task, or allow it with --allow-domain", site)
	}
	return fmt.Sprintf("goto %s leaves the task's sites (%s): the task did not ask for it; a site the task needs goes in its instruction or in --allow-domain (or run with --guard=false)", site, strings.Join(sites, ", "))
}

// Irreversible flags what the rules mark, the inner env's irreversible
// actions, then text typed that departs from the instruction.
func (g *guard) Irreversible(obs env.Observation, a env.Action) string {
	for _, r := range g.opts.Rules {
		if why := r.Match(obs, a); why != "" {
			return why
		}
	}
	if ir, ok := g.inner.(env.Irreversible); ok {
		if why := ir.Irreversible(obs, a); why != "" {
			return why
		}
	}
	if g.opts.NoDepartures || a.Name != "fill" || len(g.words) == 0 {
		// (With no instruction there is nothing to depart from.)
		return ""
	}
	if n, _ := tree.Element(obs.Text, a.Arg(0)); personalField.MatchString(n.Name) {
		return "" // Step checks these
	}
	v := a.Arg(1)
	if strings.HasPrefix(strings.TrimSpace(v), "<secret:") {
		return ""
	}
	var out []string
	for _, w := range contentWords(v) {
		if !g.words[stem(w)] && !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	if len(out) == 0 {
		return ""
	}
	return env.Departure(out)
}

type snapGuard struct{ *guard }

// guardState is a snapshot of the guarded env: the inner one's and the
// page the guard last saw.
type guardState struct {
	inner env.State
	last  env.Observation
	live  bool
}

func (s guardState) Observation() env.Observation { return s.inner.Observation() }

func (g *snapGuard) Snapshot(ctx context.Context) (env.State, error) {
	st, err := g.inner.(env.Snapshotter).Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	return guardState{inner: st, last: g.last, live: g.live}, nil
}

func (g *snapGuard) Restore(ctx context.Context, s env.State) error {
	if g.closed {
		return fmt.Errorf("web guard: restore: %w", env.ErrClosed)
	}
	gs, ok := s.(guardState)
	if !ok {
		return fmt.Errorf("web guard: restore: %w", env.ErrForeignState)
	}
	if err := g.inner.(env.Snapshotter).Restore(ctx, gs.inner); err != nil {
		return err
	}
	g.last, g.live = gs.last, gs.live
	return nil
}

// personalField matches the labels of fields for a person's name,
// address or contact details.
var personalField = regexp.MustCompile(`(?i)\b(full name|first name|last name|surname|name|recipient|ship to|street|address|city|town|state|province|zip|postal|post code|postcode|country|phone|telephone|mobile|tel|e-?mail)\b`)

// stopWords are words too common to mark a departure: function words
// and the words of a query's price and rating.
var stopWords = map[string]bool{
	"the": true, "and": true, "for": true, "with": true, "from": true, "that": true, "this": true,
	"are": true, "was": true, "you": true, "your": true, "our": true, "not": true, "but": true, "all": true,
	"any": true, "can": true, "has": true, "have": true, "into": true, "its": true, "one": true, "out": true,
	"under": true, "below": true, "less": true, "than": true, "over": true, "above": true, "least": true, "most": true,
	"price": true, "dollars": true, "usd": true, "cheap": true, "cheapest": true, "best": true, "rating": true, "stars": true,
	"pair": true, "set": true, "new": true,
}

// stem folds a word's plural and possessive ("kettles", "boxes",
// "user's" → kettle, box, user), so that a search in the singular is
// not a departure from an instruction in the plural.
func stem(w string) string {
	w = strings.TrimSuffix(w, "'s")
	switch {
	case len(w) > 4 && strings.HasSuffix(w, "ies"):
		return w[:len(w)-3] + "y"
	case len(w) > 4 && (strings.HasSuffix(w, "ses") || strings.HasSuffix(w, "xes") || strings.HasSuffix(w, "ches") || strings.HasSuffix(w, "shes")):
		return w[:len(w)-2]
	case len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss"):
		return w[:len(w)-1]
	}
	return w
}

// contentWords are the words of s that carry meaning: lower case, letters
// and digits, three characters or more, not numbers, no stop words.
func contentWords(s string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\'' }) {
		w = strings.Trim(w, "'")
		if len([]rune(w)) >= 3 && !stopWords[w] && strings.ContainsFunc(w, unicode.IsLetter) {
			out = append(out, w)
		}
	}
	return out
}

// normText is the words of s (letters and digits) in lower case, one
// space between them.
func normText(s string) string {
	return strings.Join(strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }), " ")
}

// Replayed is the inner env's (env.Replayer): a guarded Chromium page
// still replays its restores.
func (g *guard) Replayed() bool {
	r, ok := g.inner.(env.Replayer)
	return ok && r.Replayed()
}
