package tools

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/pilotkit/pilot/env"
)

// Simulated is a rule-based simulated user, τ-bench style but without a
// model: it holds the task's hidden facts (Task.Hidden: "colour" →
// "blue") and answers only what a question asks about: the facts whose
// name (or a word of it, or a synonym: colour/color, size/sizes) the
// question mentions, or whose value it offers as a choice; "I don't
// know." otherwise. It approves a confirmation unless the summary names a
// hidden fact with another value than the hidden one, or the action
// departs from the instruction (env.Departure, read from Question.Why)
// with words that are not its hidden facts. It is deterministic: the same
// questions get the same answers.
type Simulated struct{}

var _ Human = Simulated{}

// synonyms are other words for a fact's name.
var synonyms = map[string][]string{
	"colour": {"color"}, "color": {"colour"}, "size": {"big", "small", "large"},
	"address": {"ship", "shipping", "deliver", "delivery"}, "quantity": {"how many"},
}

// Ask answers from q.Task.Hidden.
func (Simulated) Ask(_ context.Context, q Question) (Answer, error) {
	facts := q.Task.Hidden
	text := strings.ToLower(q.Text)
	var names []string
	for name := range facts {
		// A question names the fact, or offers its value as a choice
		// ("navy or gray?" is about the colour).
		if mentions(text, name) || (q.Kind != KindConfirm && facts[name] != "" && hasWord(text, strings.ToLower(facts[name]))) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	if q.Kind == KindConfirm {
		if words, ok := env.DepartureWords(q.Why); ok {
			// The action brings in words the instruction lacks: the user
			// agrees only when they are the user's own hidden facts.
			known := map[string]bool{}
			for _, v := range facts {
				for _, w := range strings.FieldsFunc(strings.ToLower(v), func(r rune) bool { return !isWordRune(r) }) {
					known[w] = true
				}
			}
			var unknown []string
			for _, w := range words {
				if !known[strings.ToLower(w)] {
					unknown = append(unknown, strconv.Quote(w))
				}
			}
			if len(unknown) > 0 {
				return Answer{Yes: false, Text: "No: I did not ask for " + strings.Join(unknown, ", ") + ".", By: "simulated (rules)"}, nil
			}
		}
		for _, name := range names {
			if v := strings.ToLower(facts[name]); !strings.Contains(text, v) {
				return Answer{Yes: false, Text: fmt.Sprintf("No: the %s should be %s.", name, facts[name]), By: "simulated (rules)"}, nil
			}
		}
		return Answer{Yes: true, By: "simulated (rules)"}, nil
	}
	if len(names) == 0 {
		return Answer{Text: "I don't know.", By: "simulated (rules)"}, nil
	}
	var parts []string
	for _, name := range names {
		parts = append(parts, fmt.Sprintf("The %s is %s.", name, facts[name]))
	}
	return Answer{Text: strings.Join(parts, " "), By: "simulated (rules)"}, nil
}

// mentions reports whether text (lower case) names the fact name: the
// name, one of its words, or a synonym, as whole words.
func mentions(text, name string) bool {
	words := strings.FieldsFunc(strings.ToLower(name), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	cands := append([]string{strings.ToLower(name)}, words...)
	for _, w := range words {
		cands = append(cands, synonyms[w]...)
	}
	for _, c := range cands {
		if c != "" && hasWord(text, c) {
			return true
		}
	}
	return false
}

func hasWord(text, w string) bool {
	for i := 0; ; {
		j := strings.Index(text[i:], w)
		if j < 0 {
			return false
		}
		j += i
		before := j == 0 || !isWordRune(rune(text[j-1]))
		end := j + len(w)
		after := end == len(text) || !isWordRune(rune(text[end])) || text[end] == 's'
		if before && after {
			return true
		}
		i = j + 1
	}
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }
