package policy

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/pilotkit/pilot/env"
)

// MaxAnswerLen bounds the answer ParseAnswer reads.
const MaxAnswerLen = 256 << 10

// ErrNoActionInAnswer is wrapped when an answer names no action at all.
var ErrNoActionInAnswer = errors.New("no action found in the answer")

// ParseAnswer reads the action in a model's text answer and returns it with
// the reasoning before it. The action is the last line of the form
// "Action: click("12")" (markdown emphasis and backticks allowed); without
// such a line, the last line that is a valid action of spec on its own, or
// that ends with one. The action must be one of spec's and fit its
// parameters.
func ParseAnswer(text string, spec env.Spec) (env.Action, string, error) {
	if len(text) > MaxAnswerLen {
		return env.Action{}, "", fmt.Errorf("the answer is %d bytes long, more than %d: answer with one short action", len(text), MaxAnswerLen)
	}
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	// An explicit "Action:" line decides.
	for i := len(lines) - 1; i >= 0; i-- {
		rest, ok := cutActionLabel(lines[i])
		if !ok {
			continue
		}
		a, err := parseCandidate(rest, spec)
		if err != nil {
			return env.Action{}, "", err
		}
		return a, thoughtBefore(lines[:i]), nil
	}
	for i := len(lines) - 1; i >= 0; i-- {
		l := cleanLine(lines[i])
		if l == "" || strings.HasPrefix(l, "```") {
			continue
		}
		if a, err := parseCandidate(l, spec); err == nil {
			return a, thoughtBefore(lines[:i]), nil
		}
		// "I will click("12")": the line ends with an action.
		if a, ok := trailingAction(l, spec); ok {
			return a, thoughtBefore(lines[:i+1]), nil
		}
	}
	ex := `click("12")`
	if s, ok := exampleAction(spec); ok {
		ex = s
	}
	return env.Action{}, "", fmt.Errorf("%w: end the answer with a line such as Action: %s", ErrNoActionInAnswer, ex)
}

// cutActionLabel returns what follows "Action:" at the start of l.
func cutActionLabel(l string) (string, bool) {
	l = strings.TrimSpace(l)
	l = strings.TrimLeft(l, "*_#>- ")
	if len(l) < 7 || !strings.EqualFold(l[:6], "action") {
		return "", false
	}
	l = strings.TrimLeft(l[6:], "*_ ")
	if !strings.HasPrefix(l, ":") {
		return "", false
	}
	return cleanLine(strings.TrimLeft(l[1:], "*_ ")), true
}

// cleanLine strips list markers, emphasis and backticks around an action.
func cleanLine(l string) string {
	l = strings.TrimSpace(l)
	l = strings.TrimLeft(l, "-*> ")
	l = strings.Trim(l, "`* ")
	l = strings.TrimSuffix(l, ".")
	return strings.TrimSpace(l)
}

func parseCandidate(s string, spec env.Spec) (env.Action, error) {
	a, err := env.ParseAction(s)
	if err != nil {
		return env.Action{}, err
	}
	if err := spec.Validate(a); err != nil {
		return env.Action{}, err
	}
	return a, nil
}

// trailingAction finds an action of spec that ends line l.
func trailingAction(l string, spec env.Spec) (env.Action, bool) {
	if !strings.HasSuffix(l, ")") {
		return env.Action{}, false
	}
	for _, as := range spec.Actions {
		for i := strings.LastIndex(l, as.Name+"("); i >= 0; i = strings.LastIndex(l[:i], as.Name+"(") {
			if i > 0 && isIdentByte(l[i-1]) {
				continue
			}
			if a, err := parseCandidate(l[i:], spec); err == nil {
				return a, true
			}
		}
	}
	return env.Action{}, false
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func thoughtBefore(lines []string) string {
	var keep []string
	for _, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			continue
		}
		keep = append(keep, l)
	}
	return strings.TrimSpace(strings.Join(keep, "\n"))
}

// ParseConfidence reads the confidence a model states beside stop: a line
// "Confidence: 0.8" (or 80%), any case, the last such line winning. ok is
// false when there is none, or when the value is not a number in [0, 1]
// (a percentage in [0, 100]).
func ParseConfidence(text string) (conf float64, ok bool) {
	if len(text) > MaxAnswerLen {
		return 0, false
	}
	defer func() {
		if !ok {
			conf = 0
		}
	}()
	for _, line := range strings.Split(text, "\n") {
		l := strings.TrimSpace(cleanLine(line))
		if len(l) < len("confidence:") || !strings.EqualFold(l[:len("confidence:")], "confidence:") {
			continue
		}
		v := strings.Trim(l[len("confidence:"):], " *`_")
		pct := strings.HasSuffix(v, "%")
		v = strings.TrimSpace(strings.TrimSuffix(v, "%"))
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			ok = false
			continue
		}
		if pct {
			f /= 100
		}
		if f < 0 || f > 1 {
			ok = false
			continue
		}
		conf, ok = f, true
	}
	return conf, ok
}
