package env

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Action is one thing the agent does. Its canonical text form is a call:
// click("12"), fill("7", "usb-c cable"), go_back(), move_joints([0, 10.5]).
// Args are positional strings; Vec carries a continuous-control vector.
type Action struct {
	Name string    `json:"name"`
	Args []string  `json:"args,omitempty"`
	Vec  []float64 `json:"vec,omitempty"`
}

// A constructs an action from a name and positional string arguments.
func A(name string, args ...string) Action { return Action{Name: name, Args: args} }

// Arg returns the i-th argument, or "" when there is none.
func (a Action) Arg(i int) string {
	if i < 0 || i >= len(a.Args) {
		return ""
	}
	return a.Args[i]
}

// String returns the canonical text form, which ParseAction reads back
// (given a lower-case name of letters, digits and '_', and a finite Vec, as
// every parsed action has).
func (a Action) String() string {
	var b strings.Builder
	b.WriteString(a.Name)
	b.WriteByte('(')
	for i, s := range a.Args {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(s))
	}
	if a.Vec != nil {
		if len(a.Args) > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('[')
		for i, v := range a.Vec {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
		}
		b.WriteByte(']')
	}
	b.WriteByte(')')
	return b.String()
}

// Equal reports whether two actions are the same.
func (a Action) Equal(b Action) bool {
	return a.Name == b.Name && slices.Equal(a.Args, b.Args) && slices.Equal(a.Vec, b.Vec) &&
		(a.Vec == nil) == (b.Vec == nil)
}

// MaxActionLen bounds the text ParseAction accepts.
const MaxActionLen = 64 << 10

// ParseError says where and why an action text could not be read.
type ParseError struct {
	Input string // the text, cut to 80 bytes
	Pos   int    // byte offset of the problem
	Msg   string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("cannot parse action %q: at byte %d: %s (the form is name(\"arg\", ...), e.g. click(\"12\"))", e.Input, e.Pos, e.Msg)
}

// ParseAction reads an action in its canonical text form. It is lenient
// where a model would be sloppy — single quotes, bare numbers or words as
// arguments (click(12)), spaces — and strict about everything else. Any
// input yields an Action or a *ParseError; it never panics.
func ParseAction(s string) (Action, error) {
	p := actionParser{src: s}
	a, err := p.parse()
	if err != nil {
		in := s
		if len(in) > 80 {
			in = in[:80] + "…"
		}
		err.Input = in
		return Action{}, err
	}
	return a, nil
}

type actionParser struct {
	src string
	pos int
}

func (p *actionParser) fail(pos int, format string, args ...any) *ParseError {
	return &ParseError{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *actionParser) skipSpace() {
	for p.pos < len(p.src) && strings.IndexByte(" \t\r\n", p.src[p.pos]) >= 0 {
		p.pos++
	}
}

func isIdent(c byte, first bool) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || !first && '0' <= c && c <= '9'
}

func (p *actionParser) parse() (Action, *ParseError) {
	if len(p.src) > MaxActionLen {
		return Action{}, p.fail(MaxActionLen, "action is longer than %d bytes", MaxActionLen)
	}
	p.skipSpace()
	start := p.pos
	for p.pos < len(p.src) && isIdent(p.src[p.pos], p.pos == start) {
		p.pos++
	}
	if p.pos == start {
		if p.pos >= len(p.src) {
			return Action{}, p.fail(p.pos, "empty action")
		}
		return Action{}, p.fail(p.pos, "expected an action name, found %q", p.src[p.pos])
	}
	a := Action{Name: strings.ToLower(p.src[start:p.pos])}
	p.skipSpace()
	if p.pos >= len(p.src) || p.src[p.pos] != '(' {
		return Action{}, p.fail(p.pos, "expected '(' after the action name %q", a.Name)
	}
	p.pos++
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == ')' {
		p.pos++
	} else {
		for {
			p.skipSpace()
			if p.pos >= len(p.src) {
				return Action{}, p.fail(p.pos, "unexpected end: missing ')'")
			}
			if a.Vec != nil {
				return Action{}, p.fail(p.pos, "the vector [...] must be the last argument")
			}
			switch c := p.src[p.pos]; {
			case c == '"' || c == '\'':
				s, err := p.quoted(c)
				if err != nil {
					return Action{}, err
				}
				a.Args = append(a.Args, s)
			case c == '[':
				v, err := p.vector()
				if err != nil {
					return Action{}, err
				}
				a.Vec = v
			default:
				s, err := p.bare()
				if err != nil {
					return Action{}, err
				}
				a.Args = append(a.Args, s)
			}
			p.skipSpace()
			if p.pos >= len(p.src) {
				return Action{}, p.fail(p.pos, "unexpected end: missing ')'")
			}
			if p.src[p.pos] == ')' {
				p.pos++
				break
			}
			if p.src[p.pos] != ',' {
				return Action{}, p.fail(p.pos, "expected ',' or ')' after an argument, found %q", p.src[p.pos])
			}
			p.pos++
		}
	}
	p.skipSpace()
	if p.pos < len(p.src) {
		return Action{}, p.fail(p.pos, "unexpected text after ')': %q", clip(p.src[p.pos:], 20))
	}
	return a, nil
}

// quoted reads a string in double or single quotes with Go escapes.
func (p *actionParser) quoted(q byte) (string, *ParseError) {
	start := p.pos
	p.pos++
	var b strings.Builder
	b.WriteByte('"')
	for {
		if p.pos >= len(p.src) {
			return "", p.fail(start, "unterminated string: missing closing %c", q)
		}
		c := p.src[p.pos]
		switch {
		case c == q:
			p.pos++
			b.WriteByte('"')
			s, err := strconv.Unquote(b.String())
			if err != nil {
				return "", p.fail(start, "bad escape in string")
			}
			return s, nil
		case c == '\\':
			if p.pos+1 >= len(p.src) {
				return "", p.fail(p.pos, "unterminated escape")
			}
			if n := p.src[p.pos+1]; n == '\'' || n == '"' {
				if n == '"' {
					b.WriteString(`\"`)
				} else {
					b.WriteByte('\'')
				}
				p.pos += 2
				continue
			}
			b.WriteString(p.src[p.pos : p.pos+2])
			p.pos += 2
		case c == '"': // inside single quotes
			b.WriteString(`\"`)
			p.pos++
		case c == '\n':
			b.WriteString(`\n`)
			p.pos++
		case c == '\r':
			b.WriteString(`\r`)
			p.pos++
		case c == '\t':
			b.WriteString(`\t`)
			p.pos++
		default:
			b.WriteByte(c)
			p.pos++
		}
	}
}

// bare reads an unquoted argument: a number or a word.
func (p *actionParser) bare() (string, *ParseError) {
	start := p.pos
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if c == ',' || c == ')' || c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			break
		}
		if !(isIdent(c, false) || c == '-' || c == '+' || c == '.') {
			return "", p.fail(p.pos, "unexpected %q in an unquoted argument: put text in double quotes", c)
		}
		p.pos++
	}
	if p.pos == start {
		return "", p.fail(p.pos, "expected an argument")
	}
	return p.src[start:p.pos], nil
}

// vector reads [n, n, ...].
func (p *actionParser) vector() ([]float64, *ParseError) {
	p.pos++ // '['
	v := []float64{}
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == ']' {
		p.pos++
		return v, nil
	}
	for {
		p.skipSpace()
		start := p.pos
		for p.pos < len(p.src) && strings.IndexByte("0123456789+-.eE", p.src[p.pos]) >= 0 {
			p.pos++
		}
		if p.pos == start {
			if p.pos >= len(p.src) {
				return nil, p.fail(p.pos, "unexpected end: missing ']'")
			}
			return nil, p.fail(p.pos, "expected a number in the vector, found %q", p.src[p.pos])
		}
		f, err := strconv.ParseFloat(p.src[start:p.pos], 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, p.fail(start, "bad number %q in the vector", p.src[start:p.pos])
		}
		v = append(v, f)
		p.skipSpace()
		if p.pos >= len(p.src) {
			return nil, p.fail(p.pos, "unexpected end: missing ']'")
		}
		switch p.src[p.pos] {
		case ']':
			p.pos++
			return v, nil
		case ',':
			p.pos++
		default:
			return nil, p.fail(p.pos, "expected ',' or ']' in the vector, found %q", p.src[p.pos])
		}
	}
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// ActionSpec describes one action: its name, what it does and its
// parameters. It yields the JSON schema offered to tool-calling models.
type ActionSpec struct {
	Name   string  `json:"name"`
	Doc    string  `json:"description"`
	Params []Param `json:"params,omitempty"`
}

// ParamType is the JSON type of a parameter.
type ParamType string

// Parameter types.
const (
	String  ParamType = "string"
	Integer ParamType = "integer" // still carried as text in Action.Args
	Number  ParamType = "number"  // a finite decimal, carried as text in Action.Args
	Vector  ParamType = "vector"  // carried in Action.Vec
)

// Param is one positional parameter of an action.
type Param struct {
	Name     string    `json:"name"`
	Type     ParamType `json:"type"`
	Doc      string    `json:"description"`
	Enum     []string  `json:"enum,omitempty"`
	Optional bool      `json:"optional,omitempty"`
}

// Signature returns the action's call form for prompts: fill(id, text).
func (s ActionSpec) Signature() string {
	names := make([]string, len(s.Params))
	for i, p := range s.Params {
		names[i] = p.Name
		if p.Optional {
			names[i] += "?"
		}
	}
	return s.Name + "(" + strings.Join(names, ", ") + ")"
}

// Validate checks a's arguments against the spec: their count, enums,
// integers and the vector.
func (s ActionSpec) Validate(a Action) error {
	if a.Name != s.Name {
		return fmt.Errorf("action %s is not %s", a.Name, s.Name)
	}
	var strs []Param
	var vec *Param
	for i := range s.Params {
		if s.Params[i].Type == Vector {
			vec = &s.Params[i]
		} else {
			strs = append(strs, s.Params[i])
		}
	}
	required := 0
	for _, p := range strs {
		if !p.Optional {
			required++
		}
	}
	if len(a.Args) < required || len(a.Args) > len(strs) {
		return fmt.Errorf("%s takes %s, got %d argument(s): write %s", s.Name, count(required, len(strs)), len(a.Args), s.Signature())
	}
	for i, arg := range a.Args {
		p := strs[i]
		if p.Type == Integer {
			if _, err := strconv.Atoi(strings.TrimSpace(arg)); err != nil {
				return fmt.Errorf("%s: %s must be an integer, got %q", s.Name, p.Name, arg)
			}
		}
		if p.Type == Number {
			if f, err := strconv.ParseFloat(strings.TrimSpace(arg), 64); err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
				return fmt.Errorf("%s: %s must be a finite number, got %q", s.Name, p.Name, arg)
			}
		}
		if len(p.Enum) > 0 && !slices.Contains(p.Enum, arg) {
			return fmt.Errorf("%s: %s must be one of %s, got %q", s.Name, p.Name, strings.Join(p.Enum, ", "), arg)
		}
	}
	switch {
	case vec == nil && a.Vec != nil:
		return fmt.Errorf("%s takes no vector", s.Name)
	case vec != nil && !vec.Optional && a.Vec == nil:
		return fmt.Errorf("%s needs the vector %s: write %s", s.Name, vec.Name, s.Signature())
	}
	return nil
}

func count(lo, hi int) string {
	if lo == hi {
		return fmt.Sprintf("%d argument(s)", lo)
	}
	return fmt.Sprintf("%d to %d arguments", lo, hi)
}

// JSONSchema returns the JSON schema of the action's parameters, as an
// object with one property per parameter.
func (s ActionSpec) JSONSchema() map[string]any {
	props := map[string]any{}
	required := []string{}
	for _, p := range s.Params {
		var prop map[string]any
		switch p.Type {
		case Vector:
			prop = map[string]any{"type": "array", "items": map[string]any{"type": "number"}}
		case Integer:
			prop = map[string]any{"type": "integer"}
		case Number:
			prop = map[string]any{"type": "number"}
		default:
			prop = map[string]any{"type": "string"}
		}
		if p.Doc != "" {
			prop["description"] = p.Doc
		}
		if len(p.Enum) > 0 {
			prop["enum"] = p.Enum
		}
		props[p.Name] = prop
		if !p.Optional {
			required = append(required, p.Name)
		}
	}
	return map[string]any{
		"type":                 "object",
		"properties":           props,
		"required":             required,
		"additionalProperties": false,
	}
}

// Tool returns the action as a function description for tool-calling
// models: {"name", "description", "parameters"}.
func (s ActionSpec) Tool() map[string]any {
	return map[string]any{"name": s.Name, "description": s.Doc, "parameters": s.JSONSchema()}
}

// FromToolCall builds an action from a tool call's JSON arguments, as a
// model sends them, and validates it.
func (s ActionSpec) FromToolCall(argsJSON string) (Action, error) {
	var raw map[string]json.RawMessage
	if strings.TrimSpace(argsJSON) == "" {
		argsJSON = "{}"
	}
	if err := json.Unmarshal([]byte(argsJSON), &raw); err != nil {
		return Action{}, fmt.Errorf("tool call %s: arguments are not a JSON object: %w", s.Name, err)
	}
	a := Action{Name: s.Name}
	known := map[string]bool{}
	missing := false
	for _, p := range s.Params {
		known[p.Name] = true
		v, ok := raw[p.Name]
		if ok && string(v) == "null" {
			ok = false // models send null for an argument they leave out
		}
		if !ok {
			if !p.Optional {
				return Action{}, fmt.Errorf("tool call %s: missing argument %q", s.Name, p.Name)
			}
			missing = true
			continue
		}
		if p.Type == Vector {
			if err := json.Unmarshal(v, &a.Vec); err != nil {
				return Action{}, fmt.Errorf("tool call %s: %s must be an array of numbers: %w", s.Name, p.Name, err)
			}
			continue
		}
		if missing {
			return Action{}, fmt.Errorf("tool call %s: %q given after an omitted optional argument", s.Name, p.Name)
		}
		var str string
		if err := json.Unmarshal(v, &str); err != nil {
			var num json.Number
			dec := json.NewDecoder(strings.NewReader(string(v)))
			dec.UseNumber()
			if err2 := dec.Decode(&num); err2 != nil {
				return Action{}, fmt.Errorf("tool call %s: %s must be a string or a number, got %s", s.Name, p.Name, clip(string(v), 40))
			}
			str = num.String()
		}
		a.Args = append(a.Args, str)
	}
	for k := range raw {
		if !known[k] {
			return Action{}, fmt.Errorf("tool call %s: unknown argument %q (it takes %s)", s.Name, k, s.Signature())
		}
	}
	if err := s.Validate(a); err != nil {
		return Action{}, err
	}
	return a, nil
}

// Validate checks a against the spec's vocabulary.
func (s Spec) Validate(a Action) error {
	as, ok := s.Action(a.Name)
	if !ok {
		names := make([]string, len(s.Actions))
		for i, x := range s.Actions {
			names[i] = x.Name
		}
		return fmt.Errorf("unknown action %q: %s knows %s", a.Name, s.Name, strings.Join(names, ", "))
	}
	return as.Validate(a)
}
