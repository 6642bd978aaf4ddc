package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/evals"
)

// FuzzStepRequest sends any body to POST /v1/sessions/{id}/step of a
// fresh session, through the whole handler: the answer is 200 with a
// step whose action reads back as it was applied, or an error status
// with {"error": "..."}; nothing panics and no request hangs.
func FuzzStepRequest(f *testing.F) {
	for _, seed := range []string{
		`{"action": "noop()"}`,
		`{"action": "say(\"hi\")", "images": "base64"}`,
		`{"action": "say('a\\'b', 3)"}`,
		`{"tool_call": {"name": "say", "arguments": "{\"text\": \"hi\"}"}}`,
		`{"tool_call": {"name": "say", "arguments": {"text": 7}}}`,
		`{"tool_call": {"id": "c1", "type": "function", "function": {"name": "stop", "arguments": "{}"}}}`,
		`{"tool_call": {"name": "say", "arguments": null}}`,
		`{"action": "fail()"}`,
		`{"action": "click(\"3\""}`,
		`{"action": "noop()"} {}`,
		`{"actions": []}`,
		`[1, 2]`,
		`null`,
		``,
		"\x00\xff{",
	} {
		f.Add(seed)
	}
	fs := newFake()
	fs.entered = nil
	fs.unblock()
	s, err := New(context.Background(), Options{Def: evals.Def{Name: "fake"}, Loaded: fs.loaded(), MaxSessions: 1 << 20, MaxBody: 1 << 10})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = s.Close() })
	send := func(method, path, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, "http://127.0.0.1"+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		return w
	}
	f.Fuzz(func(t *testing.T, body string) {
		w := send("POST", "/v1/sessions", "")
		var sess Session
		if w.Code != http.StatusCreated || json.Unmarshal(w.Body.Bytes(), &sess) != nil {
			t.Fatalf("POST /v1/sessions = %d %s", w.Code, w.Body)
		}
		defer send("DELETE", "/v1/sessions/"+sess.Session, "")
		w = send("POST", "/v1/sessions/"+sess.Session+"/step", body)
		dec := json.NewDecoder(bytes.NewReader(w.Body.Bytes()))
		dec.DisallowUnknownFields()
		if w.Code != http.StatusOK {
			var e Error
			if err := dec.Decode(&e); err != nil || e.Error == "" {
				t.Fatalf("step %q = %d %s: want {\"error\": \"...\"} (%v)", body, w.Code, w.Body, err)
			}
			switch w.Code {
			case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusBadGateway:
			default:
				t.Fatalf("step %q = %d %s: want 200, 400, 413 or 502 (fail())", body, w.Code, e.Error)
			}
			return
		}
		var st Step
		if err := dec.Decode(&st); err != nil {
			t.Fatalf("step %q = 200 %s: %v", body, w.Body, err)
		}
		a, err := env.ParseAction(st.Action)
		if err != nil || a.String() != st.Action {
			t.Fatalf("step %q applied %q, which does not read back (%v)", body, st.Action, err)
		}
		if st.Steps != 1 || !strings.HasPrefix(st.Observation.Text, "step 1: "+st.Action) {
			t.Fatalf("step %q = %d steps, %q: want the env's first step of %s", body, st.Steps, st.Observation.Text, st.Action)
		}
	})
}
