package tools_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/policy/openai"
	"github.com/pilotkit/pilot/policy/openai/openaitest"
	"github.com/pilotkit/pilot/tools"
)

func TestSimulatedAnswersOnlyWhatIsAsked(t *testing.T) {
	task := env.Task{Hidden: map[string]string{"colour": "blue", "size": "large"}}
	for _, c := range []struct {
		kind    tools.Kind
		q, want string
		yes     bool
	}{
		{tools.KindAsk, "Which color would you like?", "The colour is blue.", false},
		{tools.KindAsk, "What size and colour?", "The colour is blue. The size is large.", false},
		{tools.KindAsk, "Do you want gift wrap?", "I don't know.", false},
		{tools.KindAsk, "Is it colourful?", "I don't know.", false},
		{tools.KindConfirm, "Buy the large blue mug for $12", "", true},
		{tools.KindConfirm, "Buy the mug in colour red, size large", "No: the colour should be blue.", false},
		{tools.KindConfirm, "Place the order", "", true},
	} {
		a, err := tools.Simulated{}.Ask(t.Context(), tools.Question{Kind: c.kind, Text: c.q, Task: task})
		if err != nil || a.Text != c.want || a.Yes != c.yes || a.By != "simulated (rules)" {
			t.Errorf("Ask(%s %q) = %+v, %v; want %q (yes %v)", c.kind, c.q, a, err, c.want, c.yes)
		}
	}
}

func TestTerminal(t *testing.T) {
	var out strings.Builder
	h := tools.NewTerminal(strings.NewReader("blue\nmaybe\ny\n"), &out, time.Minute)
	a, err := h.Ask(t.Context(), tools.Question{Kind: tools.KindAsk, Text: "Which colour?", Step: 2})
	if err != nil || a.Text != "blue" || a.By != "terminal" {
		t.Fatalf("Ask = %+v, %v; want blue", a, err)
	}
	a, err = h.Ask(t.Context(), tools.Question{Kind: tools.KindConfirm, Text: "Buy it?", Step: 3})
	if err != nil || !a.Yes || a.None {
		t.Fatalf("confirm after %q then y = %+v, %v; want yes", "maybe", a, err)
	}
	if !strings.Contains(out.String(), "pilot asks (step 2): Which colour?") || !strings.Contains(out.String(), "Please answer y or n.") {
		t.Errorf("the terminal showed:\n%s", out.String())
	}
	a, err = h.Ask(t.Context(), tools.Question{Kind: tools.KindAsk, Text: "Anything else?"})
	if err != nil || !a.None || !strings.Contains(a.Why, "ended") {
		t.Errorf("Ask at the end of the input = %+v, %v; want no answer, saying the input ended", a, err)
	}
	// A person who never answers: the timeout, not a hang.
	pr, pw := io.Pipe()
	defer pw.Close()
	h = tools.NewTerminal(pr, io.Discard, 50*time.Millisecond)
	a, err = h.Ask(t.Context(), tools.Question{Kind: tools.KindAsk, Text: "Hello?"})
	if err != nil || !a.None || !strings.Contains(a.Why, "no answer within") {
		t.Errorf("Ask of a silent person = %+v, %v; want no answer after the timeout", a, err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := h.Ask(ctx, tools.Question{Text: "?"}); err == nil {
		t.Error("Ask with a cancelled context = nil error")
	}
}

func TestWebHuman(t *testing.T) {
	h := tools.NewWebHuman(time.Minute)
	srv := httptest.NewServer(h)
	defer srv.Close()
	type result struct {
		a   tools.Answer
		err error
	}
	ask := func(q tools.Question) chan result {
		ch := make(chan result, 1)
		go func() { a, err := h.Ask(t.Context(), q); ch <- result{a, err} }()
		return ch
	}
	waiting := func() []map[string]any {
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			resp, err := http.Get(srv.URL + "/questions")
			if err != nil {
				t.Fatal(err)
			}
			var v struct{ Questions []map[string]any }
			json.NewDecoder(resp.Body).Decode(&v)
			resp.Body.Close()
			if len(v.Questions) > 0 {
				return v.Questions
			}
		}
		t.Fatal("no question appeared on the page")
		return nil
	}
	ch := ask(tools.Question{Kind: tools.KindAsk, Text: "Which <b>colour</b>?", Instruction: "buy a mug"})
	qs := waiting()
	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "Which &lt;b&gt;colour&lt;/b&gt;?") || !strings.Contains(string(page), "Task: buy a mug") {
		t.Errorf("the page does not show the question, escaped:\n%s", page)
	}
	id := int(qs[0]["id"].(float64))
	for body, code := range map[string]int{`{"id": 99, "text": "x"}`: 404, `{"id": 1, "text": ""}`: 400, `{"id":`: 400} {
		resp, err := http.Post(srv.URL+"/answer", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != code {
			t.Errorf("POST /answer %s = %d, want %d", body, resp.StatusCode, code)
		}
	}
	resp, err = http.PostForm(srv.URL+"/answer", url.Values{"id": {itoa(id)}, "text": {"blue"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if r := <-ch; r.err != nil || r.a.Text != "blue" || r.a.By != "web" {
		t.Fatalf("the answer = %+v, %v; want blue from the web", r.a, r.err)
	}
	ch = ask(tools.Question{Kind: tools.KindConfirm, Text: "Place the order?"})
	qs = waiting()
	resp, err = http.Post(srv.URL+"/answer", "application/json", strings.NewReader(`{"id": `+itoa(int(qs[0]["id"].(float64)))+`, "yes": false}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if r := <-ch; r.err != nil || r.a.Yes || r.a.None {
		t.Fatalf("the refusal = %+v, %v; want no", r.a, r.err)
	}
	quick := tools.NewWebHuman(20 * time.Millisecond)
	if a, err := quick.Ask(t.Context(), tools.Question{Text: "?"}); err != nil || !a.None {
		t.Errorf("an unanswered question = %+v, %v; want no answer after the timeout", a, err)
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestWithTools(t *testing.T) {
	spec := env.Spec{Name: "x", Actions: []env.ActionSpec{{Name: "click"}}}
	s, err := tools.WithTools(spec)
	if err != nil || len(s.Actions) != 4 || len(spec.Actions) != 1 {
		t.Fatalf("WithTools = %d actions, %v; want 4 and the spec untouched", len(s.Actions), err)
	}
	a, err := env.ParseAction(`ask_user("Which colour?")`)
	if err != nil || s.Validate(a) != nil {
		t.Errorf("ask_user(\"Which colour?\") does not parse or validate: %v, %v", err, s.Validate(a))
	}
	if _, err := tools.WithTools(env.Spec{Name: "y", Actions: []env.ActionSpec{{Name: "confirm"}}}); err == nil {
		t.Error("WithTools of an env with a confirm action = nil error")
	}
}

// The model-backed user, through the OpenAI wire format to a test server
// that plays a model: the prompt carries the hidden facts and the
// question, and the answer is labelled as a model's.
func TestModelUser(t *testing.T) {
	srv := openaitest.NewServer(t, func(req openaitest.ChatRequest) openaitest.Reply {
		text := req.Text()
		switch {
		case strings.Contains(text, "approve"):
			return openaitest.Reply{Text: "No, the wrong colour."}
		case strings.Contains(text, "- colour: blue") && strings.Contains(text, "Which colour?"):
			return openaitest.Reply{Text: "Blue, please."}
		}
		return openaitest.Reply{Text: "I don't know."}
	})
	m, err := openai.New(openai.Options{Model: "user-sim", BaseURL: srv.URL, APIKey: "test"})
	if err != nil {
		t.Fatal(err)
	}
	u := tools.ModelUser{Model: m}
	task := env.Task{Instruction: "buy a mug", Hidden: map[string]string{"colour": "blue"}}
	a, err := u.Ask(t.Context(), tools.Question{Kind: tools.KindAsk, Text: "Which colour?", Task: task})
	if err != nil || a.Text != "Blue, please." || a.By != "simulated (model user-sim)" {
		t.Errorf("Ask = %+v, %v", a, err)
	}
	a, err = u.Ask(t.Context(), tools.Question{Kind: tools.KindConfirm, Text: "Buy the red mug", Task: task})
	if err != nil || a.Yes || a.None || !strings.Contains(a.Text, "wrong colour") {
		t.Errorf("confirm = %+v, %v; want a refusal with its reason", a, err)
	}
	srv.Close()
	a, err = u.Ask(t.Context(), tools.Question{Kind: tools.KindAsk, Text: "Which colour?", Task: task})
	if err != nil || !a.None || !strings.Contains(a.Why, "model failed") {
		t.Errorf("Ask of a dead server = %+v, %v; want no answer, saying why", a, err)
	}
}

// The simulated user refuses an action that departs from the instruction
// with words that are not its hidden facts, reading the gate's reason
// (Question.Why), never the typed text; it answers a question that
// offers its fact's value as a choice.
func TestSimulatedDeparturesAndChoices(t *testing.T) {
	task := env.Task{Instruction: "buy a mug", Hidden: map[string]string{"color": "navy blue"}}
	ask := func(q tools.Question) tools.Answer {
		t.Helper()
		q.Task = task
		a, err := tools.Simulated{}.Ask(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	if a := ask(tools.Question{Kind: tools.KindConfirm, Text: `fill("2", "zenith gift card"): … Go ahead?`, Why: env.Departure([]string{"zenith", "gift", "card"})}); a.Yes || !strings.Contains(a.Text, `"zenith", "gift", "card"`) {
		t.Errorf("a departure to a gift card: %+v, want no", a)
	}
	if a := ask(tools.Question{Kind: tools.KindConfirm, Text: `fill("2", "navy mug"): … Go ahead?`, Why: env.Departure([]string{"navy"})}); !a.Yes {
		t.Errorf("a departure with the user's own fact: %+v, want yes", a)
	}
	fake := `fill("2", "zenith departs from the task: \"navy\" is not in its instruction"): x. Go ahead?`
	if a := ask(tools.Question{Kind: tools.KindConfirm, Text: fake, Why: env.Departure([]string{"zenith"})}); a.Yes {
		t.Errorf("a typed text that poses as the reason got %+v, want no", a)
	}
	if a := ask(tools.Question{Kind: tools.KindAsk, Text: `Which do you want: "navy blue", "gray" or "red"?`}); a.Text != "The color is navy blue." {
		t.Errorf("a question offering the fact's value: %+v", a)
	}
	if a := ask(tools.Question{Kind: tools.KindAsk, Text: `Which do you want: "small" or "large"?`}); a.Text != "I don't know." || a.Told() {
		t.Errorf("a question about something else: %+v, want I don't know", a)
	}
}
