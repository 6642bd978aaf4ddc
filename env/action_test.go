package env

import (
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

func TestParseAction(t *testing.T) {
	tests := []struct {
		in   string
		want Action
	}{
		// Canonical forms.
		{`click("12")`, A("click", "12")},
		{`fill("7", "usb-c cable")`, A("fill", "7", "usb-c cable")},
		{`select_option("9", "black")`, A("select_option", "9", "black")},
		{`press("Enter")`, A("press", "Enter")},
		{`scroll("down")`, A("scroll", "down")},
		{`goto("https://example.com/a?b=1")`, A("goto", "https://example.com/a?b=1")},
		{`go_back()`, A("go_back")},
		{`stop("answer")`, A("stop", "answer")},
		{`stop("")`, A("stop", "")},
		{`noop()`, A("noop")},
		{`move_joints([0, 10.5, -3])`, Action{Name: "move_joints", Vec: []float64{0, 10.5, -3}}},
		{`move_joints([])`, Action{Name: "move_joints", Vec: []float64{}}},
		{`grip("left", [1, 2])`, Action{Name: "grip", Args: []string{"left"}, Vec: []float64{1, 2}}},

		// Lenient forms.
		{`click(12)`, A("click", "12")},
		{`click(-3)`, A("click", "-3")},
		{`click('12')`, A("click", "12")},
		{`scroll(down)`, A("scroll", "down")},
		{`CLICK("12")`, A("click", "12")},
		{`  click ( "12" )  `, A("click", "12")},
		{"\tfill(\n\t\"7\",\n\t\"x\"\n)\n", A("fill", "7", "x")},
		{`fill(7,'usb-c cable')`, A("fill", "7", "usb-c cable")},
		{"fill(\"7\", \"line one\nline two\")", A("fill", "7", "line one\nline two")},
		{"fill(\"7\", \"a\tb\r\")", A("fill", "7", "a\tb\r")},
		{`move_joints([ 1 , -2.5e1,+3 ])`, Action{Name: "move_joints", Vec: []float64{1, -25, 3}}},
		{"move_joints(\n[\n0\n]\n)", Action{Name: "move_joints", Vec: []float64{0}}},

		// Escapes.
		{`fill("7", "say \"hi\"")`, A("fill", "7", `say "hi"`)},
		{`fill("7", 'say "hi"')`, A("fill", "7", `say "hi"`)},
		{`fill("7", 'it\'s')`, A("fill", "7", "it's")},
		{`fill("7", "it\'s")`, A("fill", "7", "it's")},
		{`fill("7", "it's")`, A("fill", "7", "it's")},
		{`fill("7", "back\\slash")`, A("fill", "7", `back\slash`)},
		{`fill("7", "\\")`, A("fill", "7", `\`)},
		{`fill("7", "tab\tnew\nline")`, A("fill", "7", "tab\tnew\nline")},
		{`fill("7", "caf\u00e9 \x41")`, A("fill", "7", "café A")},
		{`fill("7", "café")`, A("fill", "7", "café")},
		{`fill("7", "(a, b)")`, A("fill", "7", "(a, b)")},
		{`fill("7", "\xff")`, A("fill", "7", "\xff")},
		{"fill(\"7\", \"\xff\")", A("fill", "7", "\uFFFD")}, // raw invalid UTF-8
	}
	for _, tt := range tests {
		got, err := ParseAction(tt.in)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("ParseAction(%q) = %#v, %v, want %#v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseActionErrors(t *testing.T) {
	tests := []struct {
		in      string
		pos     int
		msgPart string
	}{
		{``, 0, "empty action"},
		{"   \n", 4, "empty action"},
		{`("12")`, 0, "expected an action name"},
		{`12()`, 0, "expected an action name"},
		{`click`, 5, "expected '('"},
		{`click "12")`, 6, "expected '('"},
		{`click("12"`, 10, "missing ')'"},
		{`click(`, 6, "missing ')'"},
		{`click("12",`, 11, "missing ')'"},
		{`click("12" "13")`, 11, "expected ',' or ')'"},
		{`click("12`, 6, "unterminated string"},
		{`click('12")`, 6, "unterminated string"},
		{`click("12\`, 9, "unterminated escape"},
		{`click("\q")`, 6, "bad escape"},
		{`click("12") x`, 12, "unexpected text after ')'"},
		{`click("12"))`, 11, "unexpected text after ')'"},
		{`click("12");`, 11, "unexpected text after ')'"},
		{`click(,)`, 6, "expected an argument"},
		{`click("12",)`, 11, "expected an argument"},
		{`click(a b)`, 8, "expected ',' or ')'"},
		{`click(a;b)`, 7, "unquoted argument"},
		{`move_joints([0, NaN])`, 16, "expected a number"},
		{`move_joints([Inf])`, 13, "expected a number"},
		{`move_joints([1e999])`, 13, "bad number"},
		{`move_joints([1..2])`, 13, "bad number"},
		{`move_joints([1 2])`, 15, "expected ',' or ']'"},
		{`move_joints([1, 2`, 17, "missing ']'"},
		{`move_joints([1,`, 15, "missing ']'"},
		{`move_joints([0, 1], "x")`, 20, "vector [...] must be the last"},
		{`move_joints([0], [1])`, 17, "vector [...] must be the last"},
		{"click(\"a\\\nb\")", 6, "bad escape"},
		{strings.Repeat("x", MaxActionLen+1), MaxActionLen, "longer than"},
	}
	for _, tt := range tests {
		got, err := ParseAction(tt.in)
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("ParseAction(%q) = %v, %v, want a *ParseError", clip(tt.in, 40), got, err)
			continue
		}
		if pe.Pos != tt.pos || !strings.Contains(pe.Msg, tt.msgPart) {
			t.Errorf("ParseAction(%q) error at byte %d: %q, want byte %d: %q", clip(tt.in, 40), pe.Pos, pe.Msg, tt.pos, tt.msgPart)
		}
		if !got.Equal(Action{}) {
			t.Errorf("ParseAction(%q) = %v with an error, want the zero Action", clip(tt.in, 40), got)
		}
	}
}

func TestParseErrorMessage(t *testing.T) {
	long := `fill("7", "` + strings.Repeat("a", 200)
	_, err := ParseAction(long)
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("ParseAction(long unterminated) = %v, want a *ParseError", err)
	}
	if len(pe.Input) > 80+len("…") {
		t.Errorf("ParseError.Input has %d bytes, want at most 80 and an ellipsis", len(pe.Input))
	}
	msg := err.Error()
	for _, part := range []string{"at byte 10", "unterminated string", `click("12")`} {
		if !strings.Contains(msg, part) {
			t.Errorf("ParseAction(long unterminated).Error() = %q, want it to contain %q", msg, part)
		}
	}
}

func TestActionStringRoundTrip(t *testing.T) {
	tests := []Action{
		A("noop"),
		A("click", "12"),
		A("fill", "7", "usb-c cable"),
		A("stop", ""),
		A("fill", "7", `say "hi"`),
		A("fill", "7", `it's`),
		A("fill", "7", `back\slash`),
		A("fill", "7", "line one\nline two\r\n\ttab"),
		A("fill", "7", "café ☕ 日本"),
		A("fill", "7", "\x00\x01\x7f"),
		A("fill", "7", "\xff\xfe"),
		A("fill", "7", "(a, b), [c]"),
		A("fill", "7", "\u2028\ufeff"),
		{Name: "move_joints", Vec: []float64{0, 10.5, -3}},
		{Name: "move_joints", Vec: []float64{}},
		{Name: "move_joints", Vec: []float64{math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64, 1e-300, 1.0 / 3}},
		{Name: "move_joints", Vec: []float64{math.Copysign(0, -1)}},
		{Name: "grip", Args: []string{"left", "x"}, Vec: []float64{1, 2}},
	}
	for _, a := range tests {
		s := a.String()
		got, err := ParseAction(s)
		if err != nil || !got.Equal(a) {
			t.Errorf("ParseAction(%q) = %#v, %v, want %#v", s, got, err, a)
		}
	}
}

func TestActionString(t *testing.T) {
	tests := []struct {
		a    Action
		want string
	}{
		{A("go_back"), `go_back()`},
		{A("click", "12"), `click("12")`},
		{A("fill", "7", "usb-c cable"), `fill("7", "usb-c cable")`},
		{A("fill", "7", `a "b"`), `fill("7", "a \"b\"")`},
		{Action{Name: "move_joints", Vec: []float64{0, 10.5, -3}}, `move_joints([0, 10.5, -3])`},
		{Action{Name: "move_joints", Vec: []float64{}}, `move_joints([])`},
		{Action{Name: "grip", Args: []string{"left"}, Vec: []float64{1}}, `grip("left", [1])`},
	}
	for _, tt := range tests {
		if got := tt.a.String(); got != tt.want {
			t.Errorf("%#v.String() = %s, want %s", tt.a, got, tt.want)
		}
	}
}

func TestActionEqual(t *testing.T) {
	tests := []struct {
		a, b Action
		want bool
	}{
		{A("click", "12"), A("click", "12"), true},
		{A("click", "12"), A("click", "13"), false},
		{A("click", "12"), A("press", "12"), false},
		{A("noop"), Action{Name: "noop", Args: []string{}}, true},
		{Action{Name: "m", Vec: []float64{}}, Action{Name: "m"}, false},
		{Action{Name: "m", Vec: []float64{1}}, Action{Name: "m", Vec: []float64{1}}, true},
		{Action{Name: "m", Vec: []float64{1}}, Action{Name: "m", Vec: []float64{2}}, false},
	}
	for _, tt := range tests {
		if got := tt.a.Equal(tt.b); got != tt.want {
			t.Errorf("%v.Equal(%v) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestActionArg(t *testing.T) {
	a := A("fill", "7", "x")
	tests := []struct {
		i    int
		want string
	}{{0, "7"}, {1, "x"}, {2, ""}, {-1, ""}}
	for _, tt := range tests {
		if got := a.Arg(tt.i); got != tt.want {
			t.Errorf("%v.Arg(%d) = %q, want %q", a, tt.i, got, tt.want)
		}
	}
}

// Specs used by the ActionSpec tests.
var (
	fillSpec = ActionSpec{Name: "fill", Doc: "Type text into a field.", Params: []Param{
		{Name: "id", Type: Integer, Doc: "element id"},
		{Name: "text", Type: String, Doc: "the text"},
	}}
	scrollSpec = ActionSpec{Name: "scroll", Doc: "Scroll the page.", Params: []Param{
		{Name: "direction", Type: String, Enum: []string{"up", "down"}},
	}}
	stopSpec = ActionSpec{Name: "stop", Doc: "End the episode.", Params: []Param{
		{Name: "answer", Type: String, Optional: true},
	}}
	moveSpec = ActionSpec{Name: "move_joints", Doc: "Set joint targets.", Params: []Param{
		{Name: "targets", Type: Vector, Doc: "degrees"},
	}}
	gripSpec = ActionSpec{Name: "grip", Params: []Param{
		{Name: "side", Type: String},
		{Name: "force", Type: Vector, Optional: true},
	}}
	noopSpec   = ActionSpec{Name: "noop", Doc: "Do nothing."}
	moveToSpec = ActionSpec{Name: "move_to", Params: []Param{
		{Name: "x", Type: Number}, {Name: "y", Type: Number}, {Name: "z", Type: Number},
	}}
)

func TestActionSpecValidate(t *testing.T) {
	tests := []struct {
		spec ActionSpec
		a    Action
	}{
		{fillSpec, A("fill", "7", "x")},
		{fillSpec, A("fill", " 7 ", "")},
		{fillSpec, A("fill", "-1", "x")},
		{scrollSpec, A("scroll", "down")},
		{stopSpec, A("stop")},
		{stopSpec, A("stop", "42")},
		{moveSpec, Action{Name: "move_joints", Vec: []float64{1, 2}}},
		{moveSpec, Action{Name: "move_joints", Vec: []float64{}}},
		{gripSpec, A("grip", "left")},
		{gripSpec, Action{Name: "grip", Args: []string{"left"}, Vec: []float64{1}}},
		{noopSpec, A("noop")},
		{moveToSpec, A("move_to", "0.2", "-1e-2", " 3 ")},
	}
	for _, tt := range tests {
		if err := tt.spec.Validate(tt.a); err != nil {
			t.Errorf("%s.Validate(%v) = %v, want nil", tt.spec.Name, tt.a, err)
		}
	}
}

func TestActionSpecValidateErrors(t *testing.T) {
	tests := []struct {
		spec    ActionSpec
		a       Action
		msgPart string
	}{
		{fillSpec, A("click", "7"), "is not fill"},
		{fillSpec, A("fill", "7"), "takes 2 argument(s), got 1"},
		{fillSpec, A("fill", "7", "x", "y"), "got 3"},
		{fillSpec, A("fill", "seven", "x"), "id must be an integer"},
		{fillSpec, A("fill", "7.5", "x"), "id must be an integer"},
		{fillSpec, Action{Name: "fill", Args: []string{"7", "x"}, Vec: []float64{1}}, "takes no vector"},
		{scrollSpec, A("scroll", "left"), "must be one of up, down"},
		{scrollSpec, A("scroll", "Down"), "must be one of"},
		{stopSpec, A("stop", "a", "b"), "takes 0 to 1 arguments"},
		{moveSpec, A("move_joints"), "needs the vector targets"},
		{moveSpec, A("move_joints", "1"), "takes 0 argument(s)"},
		{gripSpec, A("grip"), "write grip(side, force?)"},
		{noopSpec, A("noop", ""), "takes 0 argument(s)"},
		{moveToSpec, A("move_to", "0.2", "x", "0"), "y must be a finite number"},
		{moveToSpec, A("move_to", "0.2", "0", "NaN"), "z must be a finite number"},
		{moveToSpec, A("move_to", "Inf", "0", "0"), "x must be a finite number"},
	}
	for _, tt := range tests {
		err := tt.spec.Validate(tt.a)
		if err == nil || !strings.Contains(err.Error(), tt.msgPart) {
			t.Errorf("%s.Validate(%v) = %v, want an error containing %q", tt.spec.Name, tt.a, err, tt.msgPart)
		}
	}
}

func TestSpecValidate(t *testing.T) {
	spec := Spec{Name: "test", Actions: []ActionSpec{fillSpec, noopSpec}}
	if err := spec.Validate(A("noop")); err != nil {
		t.Errorf("Spec.Validate(noop()) = %v, want nil", err)
	}
	if err := spec.Validate(A("fill", "x", "y")); err == nil {
		t.Errorf("Spec.Validate(fill(\"x\", \"y\")) = nil, want an integer error")
	}
	err := spec.Validate(A("jump"))
	if err == nil || !strings.Contains(err.Error(), "unknown action \"jump\": test knows fill, noop") {
		t.Errorf("Spec.Validate(jump()) = %v, want an unknown action error listing fill, noop", err)
	}
}

func TestSignature(t *testing.T) {
	tests := []struct {
		spec ActionSpec
		want string
	}{
		{fillSpec, "fill(id, text)"},
		{stopSpec, "stop(answer?)"},
		{noopSpec, "noop()"},
		{gripSpec, "grip(side, force?)"},
	}
	for _, tt := range tests {
		if got := tt.spec.Signature(); got != tt.want {
			t.Errorf("%s.Signature() = %q, want %q", tt.spec.Name, got, tt.want)
		}
	}
}

// schema is the part of a JSON schema that JSONSchema produces.
type schema struct {
	Type                 string             `json:"type"`
	Description          string             `json:"description"`
	Properties           map[string]*schema `json:"properties"`
	Required             []string           `json:"required"`
	AdditionalProperties *bool              `json:"additionalProperties"`
	Enum                 []string           `json:"enum"`
	Items                *schema            `json:"items"`
}

func TestJSONSchema(t *testing.T) {
	tests := []struct {
		spec     ActionSpec
		types    map[string]string // property → JSON type
		required []string
	}{
		{fillSpec, map[string]string{"id": "integer", "text": "string"}, []string{"id", "text"}},
		{scrollSpec, map[string]string{"direction": "string"}, []string{"direction"}},
		{stopSpec, map[string]string{"answer": "string"}, []string{}},
		{moveSpec, map[string]string{"targets": "array"}, []string{"targets"}},
		{gripSpec, map[string]string{"side": "string", "force": "array"}, []string{"side"}},
		{noopSpec, map[string]string{}, []string{}},
		{moveToSpec, map[string]string{"x": "number", "y": "number", "z": "number"}, []string{"x", "y", "z"}},
	}
	for _, tt := range tests {
		b, err := json.Marshal(tt.spec.JSONSchema())
		if err != nil {
			t.Errorf("json.Marshal(%s.JSONSchema()) = %v", tt.spec.Name, err)
			continue
		}
		if !json.Valid(b) {
			t.Errorf("%s.JSONSchema() marshals to invalid JSON: %s", tt.spec.Name, b)
			continue
		}
		var s schema
		if err := json.Unmarshal(b, &s); err != nil {
			t.Errorf("%s.JSONSchema() = %s: %v", tt.spec.Name, b, err)
			continue
		}
		if s.Type != "object" || s.AdditionalProperties == nil || *s.AdditionalProperties {
			t.Errorf("%s.JSONSchema() = %s, want an object without additional properties", tt.spec.Name, b)
		}
		if s.Required == nil || !slices.Equal(s.Required, tt.required) {
			t.Errorf("%s.JSONSchema() required = %v, want %v (an array, never null): %s", tt.spec.Name, s.Required, tt.required, b)
		}
		if len(s.Properties) != len(tt.types) {
			t.Errorf("%s.JSONSchema() has %d properties, want %d: %s", tt.spec.Name, len(s.Properties), len(tt.types), b)
		}
		for name, typ := range tt.types {
			p := s.Properties[name]
			if p == nil || p.Type != typ {
				t.Errorf("%s.JSONSchema() property %q = %+v, want type %s", tt.spec.Name, name, p, typ)
				continue
			}
			if typ == "array" && (p.Items == nil || p.Items.Type != "number") {
				t.Errorf("%s.JSONSchema() property %q items = %+v, want numbers", tt.spec.Name, name, p.Items)
			}
		}
	}

	b, _ := json.Marshal(scrollSpec.JSONSchema())
	var s schema
	if err := json.Unmarshal(b, &s); err != nil || !slices.Equal(s.Properties["direction"].Enum, []string{"up", "down"}) {
		t.Errorf("scroll.JSONSchema() = %s, want direction's enum [up down]", b)
	}
	b, _ = json.Marshal(fillSpec.JSONSchema())
	if err := json.Unmarshal(b, &s); err != nil || s.Properties["id"].Description != "element id" {
		t.Errorf("fill.JSONSchema() = %s, want id's description %q", b, "element id")
	}
}

func TestTool(t *testing.T) {
	b, err := json.Marshal(fillSpec.Tool())
	if err != nil {
		t.Fatalf("json.Marshal(fill.Tool()) = %v", err)
	}
	var tool struct {
		Name        string `json:"name"`
		Description string `json:"description"`
		Parameters  schema `json:"parameters"`
	}
	if err := json.Unmarshal(b, &tool); err != nil {
		t.Fatalf("fill.Tool() = %s: %v", b, err)
	}
	if tool.Name != "fill" || tool.Description != fillSpec.Doc || tool.Parameters.Type != "object" || len(tool.Parameters.Properties) != 2 {
		t.Errorf("fill.Tool() = %s, want name, description and an object of 2 parameters", b)
	}
}

func TestFromToolCall(t *testing.T) {
	tests := []struct {
		spec ActionSpec
		args string
		want Action
	}{
		{fillSpec, `{"id": "7", "text": "usb-c cable"}`, A("fill", "7", "usb-c cable")},
		{fillSpec, `{"id": 7, "text": "usb-c cable"}`, A("fill", "7", "usb-c cable")},
		{fillSpec, `{"text": "x", "id": 12}`, A("fill", "12", "x")},
		{fillSpec, `{"id": 7, "text": 42}`, A("fill", "7", "42")},
		{fillSpec, `{"id": 7, "text": -1.5e3}`, A("fill", "7", "-1.5e3")},
		{fillSpec, ` {"id":7,"text":""} `, A("fill", "7", "")},
		{scrollSpec, `{"direction": "down"}`, A("scroll", "down")},
		{stopSpec, `{}`, A("stop")},
		{stopSpec, ``, A("stop")},
		{stopSpec, `{"answer": null}`, A("stop")},
		{stopSpec, `{"answer" :  null }`, A("stop")},
		{stopSpec, `{"answer": "42"}`, A("stop", "42")},
		{noopSpec, `{}`, A("noop")},
		{moveSpec, `{"targets": [0, 10.5, -3]}`, Action{Name: "move_joints", Vec: []float64{0, 10.5, -3}}},
		{moveSpec, `{"targets": []}`, Action{Name: "move_joints", Vec: []float64{}}},
		{gripSpec, `{"side": "left"}`, A("grip", "left")},
		{gripSpec, `{"side": "left", "force": null}`, A("grip", "left")},
		{gripSpec, `{"force": [1], "side": "left"}`, Action{Name: "grip", Args: []string{"left"}, Vec: []float64{1}}},
	}
	for _, tt := range tests {
		got, err := tt.spec.FromToolCall(tt.args)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("%s.FromToolCall(%q) = %#v, %v, want %#v", tt.spec.Name, tt.args, got, err, tt.want)
		}
	}
}

func TestFromToolCallErrors(t *testing.T) {
	twoOptional := ActionSpec{Name: "two", Params: []Param{
		{Name: "a", Type: String, Optional: true},
		{Name: "b", Type: String, Optional: true},
	}}
	tests := []struct {
		spec    ActionSpec
		args    string
		msgPart string
	}{
		{fillSpec, `{"id": 7}`, `missing argument "text"`},
		{fillSpec, `{"text": "x"}`, `missing argument "id"`},
		{fillSpec, `{"id": null, "text": "x"}`, `missing argument "id"`},
		{fillSpec, `{"id": 7, "text": "x", "clear": true}`, `unknown argument "clear"`},
		{noopSpec, `{"x": 1}`, `unknown argument "x"`},
		{fillSpec, `{"id": "seven", "text": "x"}`, "must be an integer"},
		{fillSpec, `{"id": 7.5, "text": "x"}`, "must be an integer"},
		{fillSpec, `{"id": true, "text": "x"}`, "must be a string or a number"},
		{fillSpec, `{"id": 7, "text": ["x"]}`, "must be a string or a number"},
		{fillSpec, `{"id": 7, "text": {"x": 1}}`, "must be a string or a number"},
		{fillSpec, `[7, "x"]`, "not a JSON object"},
		{fillSpec, `{"id": 7,`, "not a JSON object"},
		{fillSpec, `"x"`, "not a JSON object"},
		{scrollSpec, `{"direction": "sideways"}`, "must be one of"},
		{moveSpec, `{}`, `missing argument "targets"`},
		{moveSpec, `{"targets": null}`, `missing argument "targets"`},
		{moveSpec, `{"targets": "0, 1"}`, "must be an array of numbers"},
		{moveSpec, `{"targets": [0, "x"]}`, "must be an array of numbers"},
		{twoOptional, `{"b": "x"}`, `"b" given after an omitted optional argument`},
	}
	for _, tt := range tests {
		got, err := tt.spec.FromToolCall(tt.args)
		if err == nil || !strings.Contains(err.Error(), tt.msgPart) {
			t.Errorf("%s.FromToolCall(%q) = %v, %v, want an error containing %q", tt.spec.Name, tt.args, got, err, tt.msgPart)
		}
	}
}

func TestFromToolCallWrapsJSONError(t *testing.T) {
	_, err := fillSpec.FromToolCall(`{"id": 7,`)
	var syn *json.SyntaxError
	if !errors.As(err, &syn) {
		t.Errorf("fill.FromToolCall(bad JSON) = %v, want it to wrap a *json.SyntaxError", err)
	}
}
