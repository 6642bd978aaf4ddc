package serve

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pilotkit/pilot/agent"
	"github.com/pilotkit/pilot/evals"
	"github.com/pilotkit/pilot/policy/expert"
)

// storeSession matches the shop's per-episode path in URLs, which
// differs between two episodes of the same task.
var storeSession = regexp.MustCompile(`/s/[0-9a-f]+/`)

// expertRun plays the shop expert on task i in an env of the server's
// own suite, directly: what the HTTP episode must match.
func expertRun(t *testing.T, s *Server, i int) *agent.Trajectory {
	t.Helper()
	ctx := context.Background()
	e, err := s.loaded.NewEnv(ctx, 100+i)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	traj, err := agent.Run(ctx, e, s.loaded.Suite.Tasks[i], expert.Shop(), agent.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !traj.Success {
		t.Fatalf("the expert failed task %d: %s", i, traj.Reason)
	}
	return traj
}

func sameText(a, b string) bool {
	return storeSession.ReplaceAllString(a, "/s/X/") == storeSession.ReplaceAllString(b, "/s/X/")
}

// TestServeShopEpisode plays the expert's episode over HTTP on the lite
// shop, every other click as a tool call, and checks every observation
// against the one the env gave directly, the reward, the end of the
// episode, a reset in the same session and its close.
func TestServeShopEpisode(t *testing.T) {
	t.Parallel()
	s, hs := shopLite(t, Options{})
	traj := expertRun(t, s, 3)
	var info Suite
	callOK(t, 200, "GET", hs.URL+"/v1/suite", nil, &info)
	if info.Suite != "shop/test" || info.Engine != "lite" || len(info.Tasks) == 0 || info.Tasks[3] != traj.Task.ID {
		t.Fatalf("GET /v1/suite = %+v, want shop/test on lite with task 3 %s", info, traj.Task.ID)
	}
	var sess Session
	callOK(t, 201, "POST", hs.URL+"/v1/sessions", map[string]any{"task": traj.Task.ID}, &sess)
	if sess.Task.ID != traj.Task.ID || sess.Task.Instruction != traj.Task.Instruction || sess.Episode != 1 {
		t.Fatalf("session task = %+v, want %s", sess.Task, traj.Task.ID)
	}
	if !sameText(sess.Observation.Text, traj.Reset.Text) {
		t.Fatalf("reset observation:\n%s\nwant (as the env gives it):\n%s", sess.Observation.Text, traj.Reset.Text)
	}
	if !strings.Contains(sess.Observation.Text, sess.Observation.URL) || sess.Observation.Title == "" {
		t.Errorf("observation URL %q, title %q: want them, as in the text", sess.Observation.URL, sess.Observation.Title)
	}
	stepURL := hs.URL + "/v1/sessions/" + sess.Session + "/step"
	var last Step
	for i, rec := range traj.Steps {
		body := map[string]any{"action": rec.ActionText}
		if rec.Action.Name == "click" && i%2 == 0 {
			args, _ := json.Marshal(map[string]string{"id": rec.Action.Arg(0)})
			body = map[string]any{"tool_call": map[string]any{"name": "click", "arguments": string(args)}}
		}
		callOK(t, 200, "POST", stepURL, body, &last)
		if last.Action != rec.ActionText || !sameText(last.Observation.Text, rec.Obs.Text) || last.Steps != i+1 {
			t.Fatalf("step %d %s = %s, steps %d, observation:\n%s\nwant:\n%s", i, rec.ActionText, last.Action, last.Steps, last.Observation.Text, rec.Obs.Text)
		}
		if last.Reward != rec.Reward || last.Terminated != rec.Terminated || last.Truncated != rec.Truncated {
			t.Fatalf("step %d = reward %g terminated %v truncated %v, want %g %v %v", i, last.Reward, last.Terminated, last.Truncated, rec.Reward, rec.Terminated, rec.Truncated)
		}
	}
	if !last.Terminated || last.Reward != 1 || last.Info["breakdown"] == nil {
		t.Fatalf("the last step = %+v, want terminated with reward 1 and its breakdown", last)
	}
	code, out := call(t, "POST", stepURL, map[string]any{"action": `click("1")`})
	if msg := errorText(t, out); code != http.StatusConflict || !strings.Contains(msg, "/reset") {
		t.Errorf("a step after the end = %d %q, want 409 that says to reset", code, msg)
	}
	var got Session
	callOK(t, 200, "GET", hs.URL+"/v1/sessions/"+sess.Session, nil, &got)
	if !got.Done || got.Steps != len(traj.Steps) || got.Observation.Text != last.Observation.Text {
		t.Errorf("GET the session = done %v, %d steps, want done after %d with the last observation", got.Done, got.Steps, len(traj.Steps))
	}
	var again Session
	callOK(t, 200, "POST", hs.URL+"/v1/sessions/"+sess.Session+"/reset", map[string]any{"index": 3}, &again)
	if again.Episode != 2 || again.Done || again.Steps != 0 || !sameText(again.Observation.Text, traj.Reset.Text) {
		t.Errorf("reset = episode %d, done %v, steps %d, want a new episode", again.Episode, again.Done, again.Steps)
	}
	callOK(t, 200, "POST", stepURL, map[string]any{"action": traj.Steps[0].ActionText}, &last)
	if !sameText(last.Observation.Text, traj.Steps[0].Obs.Text) {
		t.Errorf("the first step after the reset:\n%s\nwant:\n%s", last.Observation.Text, traj.Steps[0].Obs.Text)
	}
	var closed Closed
	callOK(t, 200, "DELETE", hs.URL+"/v1/sessions/"+sess.Session, nil, &closed)
	code, out = call(t, "POST", stepURL, map[string]any{"action": `click("1")`})
	if msg := errorText(t, out); code != http.StatusGone || !strings.Contains(msg, "closed (DELETE)") {
		t.Errorf("a step after DELETE = %d %q, want 410", code, msg)
	}
}

// TestServeBadInput sends what a careless client sends: each answer is a
// 4xx with {"error"} that says what to do, and the session's episode is
// untouched.
func TestServeBadInput(t *testing.T) {
	t.Parallel()
	s, hs, _, _ := fakeServer(t, Options{MaxBody: 4096})
	var sess Session
	callOK(t, 201, "POST", hs.URL+"/v1/sessions", nil, &sess)
	sid := hs.URL + "/v1/sessions/" + sess.Session
	step := sid + "/step"
	tests := []struct {
		name, method, url, ctype, body string
		want                           int
		msg                            string // in the error
	}{
		{"malformed JSON", "POST", step, "", `{"action": "noop()"`, 400, "not JSON"},
		{"not an object", "POST", step, "", `["noop()"]`, 400, "must be a JSON object"},
		{"unknown field", "POST", step, "", `{"action": "noop()", "acton": 1}`, 400, `unknown field "acton"`},
		{"wrong type", "POST", step, "", `{"action": 12}`, 400, `field "action" must be a JSON string`},
		{"two values", "POST", step, "", `{"action": "noop()"} {}`, 400, "more than one JSON value"},
		{"empty body", "POST", step, "", ``, 400, "the body is empty"},
		{"no action", "POST", step, "", `{}`, 400, "give the action"},
		{"unparsable action", "POST", step, "", `{"action": "click(\"3\""}`, 400, "cannot parse action"},
		{"action and tool call", "POST", step, "", `{"action": "noop()", "tool_call": {"name": "noop"}}`, 400, "not both"},
		{"unknown tool", "POST", step, "", `{"tool_call": {"name": "fly", "arguments": "{}"}}`, 400, `unknown action "fly"`},
		{"tool without name", "POST", step, "", `{"tool_call": {"arguments": "{}"}}`, 400, "the name is missing"},
		{"bad tool arguments", "POST", step, "", `{"tool_call": {"name": "say", "arguments": "{\"txt\": \"hi\"}"}}`, 400, `missing argument "text"`},
		{"tool arguments not JSON", "POST", step, "", `{"tool_call": {"name": "say", "arguments": "{text"}}`, 400, "not a JSON object"},
		{"tool arguments a number", "POST", step, "", `{"tool_call": {"name": "say", "arguments": 3}}`, 400, "a JSON object or a string"},
		{"tool type", "POST", step, "", `{"tool_call": {"type": "code", "function": {"name": "noop"}}}`, 400, "want function"},
		{"bad images", "POST", step, "", `{"action": "noop()", "images": "jpeg"}`, 400, "want url, base64 or none"},
		{"images twice", "POST", step + "?images=url", "", `{"action": "noop()", "images": "base64"}`, 400, "give one"},
		{"body too large", "POST", step, "", `{"action": "say(\"` + strings.Repeat("x", 5000) + `\")"}`, 413, "larger than 4096 bytes"},
		{"not JSON content", "POST", step, "text/plain", `{"action": "noop()"}`, 415, "application/json"},
		{"form content", "POST", hs.URL + "/v1/sessions", "application/x-www-form-urlencoded", `task=t0`, 415, "application/json"},
		{"unknown session", "POST", hs.URL + "/v1/sessions/nope/step", "", `{"action": "noop()"}`, 404, "POST /v1/sessions"},
		{"unknown session GET", "GET", hs.URL + "/v1/sessions/nope", "", ``, 404, "no session"},
		{"unknown task", "POST", hs.URL + "/v1/sessions", "", `{"task": "t9"}`, 400, `no task "t9"`},
		{"task and index", "POST", hs.URL + "/v1/sessions", "", `{"task": "t0", "index": 1}`, 400, "not both"},
		{"index out of range", "POST", hs.URL + "/v1/sessions", "", `{"index": 2}`, 400, "index 0 to 1"},
		{"unknown reset field", "POST", sid + "/reset", "", `{"tsk": "t1"}`, 400, `unknown field "tsk"`},
		{"wrong method", "PUT", step, "", `{}`, 405, "takes POST"},
		{"unknown route", "GET", hs.URL + "/v2/sessions", "", ``, 404, "GET /v1/suite"},
		{"image index", "GET", sid + "/images/x", "", ``, 400, "its index"},
		{"no image", "GET", sid + "/images/0", "", ``, 404, "has 0 images"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, tt.url, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			ct := tt.ctype
			if ct == "" {
				ct = "application/json"
			}
			req.Header.Set("Content-Type", ct)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var e Error
			err = json.NewDecoder(resp.Body).Decode(&e)
			resp.Body.Close()
			if err != nil || resp.StatusCode != tt.want || !strings.Contains(e.Error, tt.msg) {
				t.Errorf("%s %s %s = %d %q (%v), want %d with %q", tt.method, tt.url, clip(tt.body, 60), resp.StatusCode, e.Error, err, tt.want, tt.msg)
			}
		})
	}
	// None of it stepped the env: the next step is the first.
	var st Step
	callOK(t, 200, "POST", step, map[string]any{"action": "noop()"}, &st)
	if st.Steps != 1 || st.Observation.Text != "step 1: noop()" {
		t.Errorf("the step after the bad requests = %d steps, %q; want the first", st.Steps, st.Observation.Text)
	}
	// A bad action that parses is the episode's: the env says what was wrong.
	callOK(t, 200, "POST", step, map[string]any{"action": `fly("high")`}, &st)
	if st.Steps != 2 || !strings.Contains(st.Observation.Error, `unknown action "fly"`) {
		t.Errorf("an unknown action = %d steps, error %q; want the env's observation error", st.Steps, st.Observation.Error)
	}
	// The task's answer stays on the server.
	_, out := call(t, "GET", sid, nil)
	if strings.Contains(string(out), "secret answer") {
		t.Errorf("GET the session tells the task's answer: %s", out)
	}
	_ = s
}

// TestServeHost refuses a request addressed to a host that is not
// loopback (DNS rebinding).
func TestServeHost(t *testing.T) {
	t.Parallel()
	_, hs, _, _ := fakeServer(t, Options{})
	for host, want := range map[string]int{"evil.example:80": 403, "10.0.0.1:8765": 403, "localhost:8765": 200, "127.0.0.1": 200, "[::1]:1": 200} {
		req, _ := http.NewRequest("GET", hs.URL+"/v1/suite", nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET /v1/suite with Host %s = %d, want %d", host, resp.StatusCode, want)
		}
	}
}

func TestServeTooManySessions(t *testing.T) {
	t.Parallel()
	_, hs, fs, _ := fakeServer(t, Options{MaxSessions: 2})
	var a, b Session
	callOK(t, 201, "POST", hs.URL+"/v1/sessions", map[string]any{}, &a)
	callOK(t, 201, "POST", hs.URL+"/v1/sessions", map[string]any{"task": "t1"}, &b)
	code, out := call(t, "POST", hs.URL+"/v1/sessions", map[string]any{})
	if msg := errorText(t, out); code != http.StatusTooManyRequests || !strings.Contains(msg, "DELETE /v1/sessions/{id}") {
		t.Errorf("a third session = %d %q, want 429 that says to close one", code, msg)
	}
	callOK(t, 200, "DELETE", hs.URL+"/v1/sessions/"+a.Session, nil, nil)
	callOK(t, 201, "POST", hs.URL+"/v1/sessions", map[string]any{}, nil)
	if got := fs.closes.Load(); got != 2 { // the describing env and a
		t.Errorf("envs closed = %d, want 2", got)
	}
}

// TestServeExpiry moves the janitor's clock: a session idle past the
// timeout is closed and answers 410, one in use is not.
func TestServeExpiry(t *testing.T) {
	t.Parallel()
	s, hs, fs, clk := fakeServer(t, Options{IdleTimeout: 10 * time.Minute})
	var idle, used, busy Session
	callOK(t, 201, "POST", hs.URL+"/v1/sessions", nil, &idle)
	callOK(t, 201, "POST", hs.URL+"/v1/sessions", nil, &used)
	callOK(t, 201, "POST", hs.URL+"/v1/sessions", nil, &busy)
	// busy is in a step the whole time.
	var wg sync.WaitGroup
	wg.Go(func() {
		code, out := call(t, "POST", hs.URL+"/v1/sessions/"+busy.Session+"/step", map[string]any{"action": "wait()"})
		if code != 200 {
			t.Errorf("the long step = %d %s, want 200", code, out)
		}
	})
	<-fs.entered
	clk.advance(9 * time.Minute)
	callOK(t, 200, "POST", hs.URL+"/v1/sessions/"+used.Session+"/step", map[string]any{"action": "noop()"}, nil)
	if n := s.expire(); n != 0 {
		t.Fatalf("expire after 9 minutes closed %d sessions, want 0", n)
	}
	clk.advance(2 * time.Minute)
	before := fs.closes.Load()
	if n := s.expire(); n != 1 {
		t.Fatalf("expire after 11 minutes closed %d sessions, want 1 (idle; used was touched 2 minutes ago, busy is in a step)", n)
	}
	if fs.closes.Load() != before+1 {
		t.Errorf("the expired session's env was not closed")
	}
	code, out := call(t, "POST", hs.URL+"/v1/sessions/"+idle.Session+"/step", map[string]any{"action": "noop()"})
	if msg := errorText(t, out); code != http.StatusGone || !strings.Contains(msg, "expired after 11m0s idle") {
		t.Errorf("a step on the expired session = %d %q, want 410 that says it expired after 11m0s idle", code, msg)
	}
	callOK(t, 200, "GET", hs.URL+"/v1/sessions/"+used.Session, nil, nil)
	fs.unblock()
	wg.Wait()
	clk.advance(time.Hour)
	if n := s.expire(); n != 2 {
		t.Errorf("expire an hour later closed %d, want both others", n)
	}
}

// TestServeJanitor lets the janitor itself expire a session, on its
// own ticker, by the test's clock.
func TestServeJanitor(t *testing.T) {
	t.Parallel()
	_, hs, _, clk := fakeServer(t, Options{IdleTimeout: time.Minute, JanitorEvery: 5 * time.Millisecond})
	var sess Session
	callOK(t, 201, "POST", hs.URL+"/v1/sessions", nil, &sess)
	clk.advance(2 * time.Minute)
	// Poll what does not touch the session (a GET of it would).
	deadline := time.Now().Add(time.Minute)
	for {
		var info Suite
		callOK(t, 200, "GET", hs.URL+"/v1/suite", nil, &info)
		if info.Sessions == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the janitor did not expire the session within a minute")
		}
		time.Sleep(5 * time.Millisecond)
	}
	code, out := call(t, "GET", hs.URL+"/v1/sessions/"+sess.Session, nil)
	if msg := errorText(t, out); code != http.StatusGone || !strings.Contains(msg, "expired after 2m0s idle") {
		t.Errorf("GET the expired session = %d %q, want 410 that says it expired", code, msg)
	}
}

// TestServeBusy: a request on a session in use gets 409 at once.
func TestServeBusy(t *testing.T) {
	t.Parallel()
	_, hs, fs, _ := fakeServer(t, Options{})
	var sess Session
	callOK(t, 201, "POST", hs.URL+"/v1/sessions", nil, &sess)
	step := hs.URL + "/v1/sessions/" + sess.Session + "/step"
	var wg sync.WaitGroup
	wg.Go(func() { callOK(t, 200, "POST", step, map[string]any{"action": "wait()"}, nil) })
	<-fs.entered
	code, out := call(t, "POST", step, map[string]any{"action": "noop()"})
	if msg := errorText(t, out); code != http.StatusConflict || !strings.Contains(msg, "one request at a time") {
		t.Errorf("a step while another runs = %d %q, want 409", code, msg)
	}
	code, _ = call(t, "POST", hs.URL+"/v1/sessions/"+sess.Session+"/reset", nil)
	if code != http.StatusConflict {
		t.Errorf("a reset while a step runs = %d, want 409", code)
	}
	callOK(t, 200, "GET", hs.URL+"/v1/sessions/"+sess.Session, nil, nil) // reads need no env
	fs.unblock()
	wg.Wait()
	var st Step
	callOK(t, 200, "POST", step, map[string]any{"action": "noop()"}, &st)
	if st.Steps != 2 {
		t.Errorf("steps = %d, want 2", st.Steps)
	}
}

// TestServeEnvError: an env's Go error is a 502 (a step past the
// timeout a 504) and closes the session.
func TestServeEnvError(t *testing.T) {
	t.Parallel()
	_, hs, fs, _ := fakeServer(t, Options{StepTimeout: 50 * time.Millisecond})
	for _, tt := range []struct {
		action string
		want   int
		msg    string
	}{
		{"fail()", http.StatusBadGateway, "the fake backend is gone"},
		{"wait()", http.StatusGatewayTimeout, "took longer than 50ms"},
	} {
		var sess Session
		callOK(t, 201, "POST", hs.URL+"/v1/sessions", nil, &sess)
		before := fs.closes.Load()
		code, out := call(t, "POST", hs.URL+"/v1/sessions/"+sess.Session+"/step", map[string]any{"action": tt.action})
		if msg := errorText(t, out); code != tt.want || !strings.Contains(msg, tt.msg) || !strings.Contains(msg, "POST /v1/sessions") {
			t.Errorf("%s = %d %q, want %d with %q and what to do", tt.action, code, msg, tt.want, tt.msg)
		}
		if fs.closes.Load() != before+1 {
			t.Errorf("%s: the env was not closed", tt.action)
		}
		code, out = call(t, "GET", hs.URL+"/v1/sessions/"+sess.Session, nil)
		if msg := errorText(t, out); code != http.StatusGone || !strings.Contains(msg, "env failed") {
			t.Errorf("%s: the session afterwards = %d %q, want 410", tt.action, code, msg)
		}
	}
}

// TestServeImages: URLs by default, base64 when asked, none; an old URL
// answers 410.
func TestServeImages(t *testing.T) {
	t.Parallel()
	_, hs, _, _ := fakeServer(t, Options{})
	var sess Session
	callOK(t, 201, "POST", hs.URL+"/v1/sessions", nil, &sess)
	step := hs.URL + "/v1/sessions/" + sess.Session + "/step"
	var st Step
	callOK(t, 200, "POST", step, map[string]any{"action": "snap()"}, &st)
	if len(st.Observation.Images) != 1 || st.Observation.Images[0].URL == "" || st.Observation.Images[0].Data != "" {
		t.Fatalf("images = %+v, want one URL", st.Observation.Images)
	}
	u := st.Observation.Images[0].URL
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || string(body) != "\x89PNG fake" {
		t.Errorf("GET %s = %d %s %q (%v), want the PNG", u, resp.StatusCode, resp.Header.Get("Content-Type"), body, err)
	}
	var got Session
	callOK(t, 200, "GET", hs.URL+"/v1/sessions/"+sess.Session+"?images=base64", nil, &got)
	if im := got.Observation.Images; len(im) != 1 || im[0].Data != "iVBORyBmYWtl" || im[0].URL != "" {
		t.Errorf("images=base64 = %+v, want the bytes", im)
	}
	callOK(t, 200, "POST", step+"?images=none", map[string]any{"action": "snap()"}, &st)
	if len(st.Observation.Images) != 0 {
		t.Errorf("images=none = %+v, want none", st.Observation.Images)
	}
	code, out := call(t, "GET", u, nil)
	if msg := errorText(t, out); code != http.StatusGone || !strings.Contains(msg, "earlier observation") {
		t.Errorf("GET an old image URL = %d %q, want 410", code, msg)
	}
}

// TestServeClose: Close ends a step in flight, closes every env and the
// suite, and later requests get 503.
func TestServeClose(t *testing.T) {
	t.Parallel()
	fs := newFake()
	s, err := New(context.Background(), Options{Def: evals.Def{Name: "fake"}, Loaded: fs.loaded()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	defer fs.unblock()
	hs := srv.URL
	var a, b Session
	callOK(t, 201, "POST", hs+"/v1/sessions", nil, &a)
	callOK(t, 201, "POST", hs+"/v1/sessions", nil, &b)
	var wg sync.WaitGroup
	wg.Go(func() {
		code, _ := call(t, "POST", hs+"/v1/sessions/"+a.Session+"/step", map[string]any{"action": "wait()"})
		if code != http.StatusBadGateway {
			t.Errorf("the step in flight at Close = %d, want 502", code)
		}
	})
	<-fs.entered
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if got := fs.closes.Load(); got != 3 || !fs.closed.Load() {
		t.Errorf("after Close: %d envs closed (want 3) and the suite closed %v", got, fs.closed.Load())
	}
	code, out := call(t, "POST", hs+"/v1/sessions", nil)
	if msg := errorText(t, out); code != http.StatusServiceUnavailable {
		t.Errorf("a new session after Close = %d %q, want 503", code, msg)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close again = %v", err)
	}
}

// TestServeConcurrentSessions plays the expert on four tasks at once,
// one session each, on the lite shop.
func TestServeConcurrentSessions(t *testing.T) {
	t.Parallel()
	s, hs := shopLite(t, Options{MaxSessions: 4})
	var wg sync.WaitGroup
	for i := range 4 {
		traj := expertRun(t, s, i)
		wg.Go(func() {
			var sess Session
			callOK(t, 201, "POST", hs.URL+"/v1/sessions", map[string]any{"index": i}, &sess)
			var st Step
			for _, rec := range traj.Steps {
				callOK(t, 200, "POST", hs.URL+"/v1/sessions/"+sess.Session+"/step", map[string]any{"action": rec.ActionText}, &st)
				if !sameText(st.Observation.Text, rec.Obs.Text) {
					t.Errorf("task %d, %s: the observation differs from the env's", i, rec.ActionText)
					return
				}
			}
			if !st.Terminated || st.Reward != 1 {
				t.Errorf("task %d: the last step = reward %g terminated %v, want 1 and true", i, st.Reward, st.Terminated)
			}
			callOK(t, 200, "DELETE", hs.URL+"/v1/sessions/"+sess.Session, nil, nil)
		})
	}
	wg.Wait()
	var info Suite
	callOK(t, 200, "GET", hs.URL+"/v1/suite", nil, &info)
	if info.Sessions != 0 {
		t.Errorf("sessions open after all closed = %d, want 0", info.Sessions)
	}
}

// TestServeMaxSteps truncates an episode, as Gymnasium's TimeLimit.
func TestServeMaxSteps(t *testing.T) {
	t.Parallel()
	_, hs, _, _ := fakeServer(t, Options{MaxSteps: 2})
	var sess Session
	callOK(t, 201, "POST", hs.URL+"/v1/sessions", nil, &sess)
	var st Step
	for range 2 {
		callOK(t, 200, "POST", hs.URL+"/v1/sessions/"+sess.Session+"/step", map[string]any{"action": "noop()"}, &st)
	}
	if !st.Truncated || st.Terminated || !strings.Contains(st.Reason, "step limit 2") {
		t.Errorf("the second step = truncated %v terminated %v %q, want truncated by the step limit", st.Truncated, st.Terminated, st.Reason)
	}
}
