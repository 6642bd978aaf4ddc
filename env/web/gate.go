package web

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/env/web/tree"
)

// A GateRule marks actions on a site as irreversible, beyond the labels
// env/web guesses from (IrreversibleAction), so that the agent's
// confirmation gate asks before them. Write one as KIND:PATTERN:
//
//	url:GLOB      a click, an Enter or a submit on a page whose URL matches
//	              GLOB (* is any text, ? one character), or a goto to such
//	              a URL: url:*/checkout*, url:https://bank.example/transfer*
//	button:TEXT   a click on a control whose label contains TEXT (any case):
//	              button:Transfer, button:Send money
//	field:KIND    text typed into a field of that kind: card-number, cvc,
//	              password, or any text its label contains: field:card-number,
//	              field:IBAN
//
// Parse one with ParseGateRule.
type GateRule struct {
	Kind    string // url, button or field
	Pattern string // as written
	re      *regexp.Regexp
}

// fieldKinds are the field kinds a rule names, with the labels they match.
var fieldKinds = map[string]string{
	"card-number": `(?i)\bcard ?(number|no\b|#)|\bcredit ?card|\bdebit ?card|\bcc-?num`,
	"cvc":         `(?i)\b(cvc|cvv2?|csc|security code|card code)\b`,
	"password":    `(?i)\bpass(word|code|phrase)?\b|\bpin\b`,
}

// ParseGateRule reads a rule written as KIND:PATTERN (see GateRule). It
// rejects anything else with an error that says what it wants.
func ParseGateRule(s string) (GateRule, error) {
	const want = "want url:GLOB, button:TEXT or field:KIND (card-number, cvc, password, or a label's text), such as url:*/checkout* or field:card-number"
	if !utf8.ValidString(s) {
		return GateRule{}, fmt.Errorf("irreversible rule: not valid text (UTF-8): %s", want)
	}
	kind, pat, ok := strings.Cut(strings.TrimSpace(s), ":")
	kind = strings.ToLower(strings.TrimSpace(kind))
	pat = strings.TrimSpace(pat)
	if !ok || pat == "" {
		return GateRule{}, fmt.Errorf("irreversible rule %q: %s", clip(s, 80), want)
	}
	if len(pat) > 500 || strings.ContainsFunc(pat, func(r rune) bool { return r < ' ' }) {
		return GateRule{}, fmt.Errorf("irreversible rule %q: the pattern must be one line of at most 500 bytes", clip(s, 80))
	}
	r := GateRule{Kind: kind, Pattern: pat}
	switch kind {
	case "url":
		var b strings.Builder
		b.WriteString("(?i)^")
		for _, c := range pat {
			switch c {
			case '*':
				b.WriteString(".*")
			case '?':
				b.WriteString(".")
			default:
				b.WriteString(regexp.QuoteMeta(string(c)))
			}
		}
		b.WriteString("$")
		r.re = regexp.MustCompile(b.String()) // quoted: always compiles
	case "button":
		r.re = regexp.MustCompile(`(?i)` + regexp.QuoteMeta(pat))
	case "field":
		if expr, ok := fieldKinds[strings.ToLower(pat)]; ok {
			r.re = regexp.MustCompile(expr)
		} else {
			r.re = regexp.MustCompile(`(?i)` + regexp.QuoteMeta(pat))
		}
	default:
		return GateRule{}, fmt.Errorf("irreversible rule %q: unknown kind %q: %s", clip(s, 80), clip(kind, 20), want)
	}
	return r, nil
}

// matchURL matches a URL as written and as normalised (scheme and host in
// lower case, the default port dropped, the path decoded), so that
// HTTPS://BANK.EXAMPLE:443/%74ransfer is https://bank.example/transfer.
func (r GateRule) matchURL(raw string) bool {
	if r.re.MatchString(raw) {
		return true
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return false
	}
	n := strings.ToLower(u.Scheme) + "://" + siteOf(strings.ToLower(u.Scheme)+"://"+u.Host) + u.Path
	if u.RawQuery != "" {
		n += "?" + u.RawQuery
	}
	return r.re.MatchString(n)
}

// String is the rule as written.
func (r GateRule) String() string { return r.Kind + ":" + r.Pattern }

// Match says why a, taken where obs was observed, falls under the rule;
// "" when it does not.
func (r GateRule) Match(obs env.Observation, a env.Action) string {
	if r.re == nil {
		return ""
	}
	switch r.Kind {
	case "url":
		switch a.Name {
		case "goto":
			if r.matchURL(a.Arg(0)) {
				return fmt.Sprintf("goto %s: the rule %s marks it irreversible", clip(a.Arg(0), 120), r)
			}
		case "click", "press":
			if a.Name == "press" && !strings.EqualFold(a.Arg(0), "Enter") {
				return ""
			}
			if r.matchURL(obs.URL) {
				return fmt.Sprintf("%s on %s: the rule %s marks the page's actions irreversible", a.Name, clip(obs.URL, 120), r)
			}
		}
	case "button":
		if a.Name != "click" {
			return ""
		}
		if n, ok := tree.Element(obs.Text, a.Arg(0)); ok && r.re.MatchString(n.Name) {
			return fmt.Sprintf("%q: the rule %s marks it irreversible", n.Name, r)
		}
	case "field":
		if a.Name != "fill" {
			return ""
		}
		if n, ok := tree.Element(obs.Text, a.Arg(0)); ok && r.re.MatchString(n.Name) {
			return fmt.Sprintf("typing into %q: the rule %s marks it irreversible", n.Name, r)
		}
	}
	return ""
}
