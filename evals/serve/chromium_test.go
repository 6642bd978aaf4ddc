package serve

import (
	"bytes"
	"encoding/base64"
	"image/png"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/pilotkit/pilot/env/web"
	"github.com/pilotkit/pilot/evals"
	"github.com/pilotkit/pilot/evals/suites"
)

// TestServeChromium serves the shop in headless Chromium with
// screenshots: the observation's image URL serves the PNG it describes,
// and images=base64 carries it in the answer. The only Chromium test
// here: one browser, two steps.
func TestServeChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no Chromium")
	}
	if _, err := web.FindChrome(); err != nil {
		t.Skipf("no Chromium: %v", err)
	}
	t.Parallel()
	_, hs := start(t, Options{Def: suites.Shop(), MaxSessions: 1, Load: evals.LoadOptions{
		Engine: evals.EngineChromium, Seed: 1, Screenshot: "png", Params: map[string]string{"products": "300"}}})
	var sess Session
	callOK(t, 201, "POST", hs.URL+"/v1/sessions", map[string]any{"index": 0}, &sess)
	if !strings.Contains(sess.Observation.Text, `searchbox "Search"`) || len(sess.Observation.Images) != 1 {
		t.Fatalf("the first observation = %q with %d images, want the search page and its screenshot", sess.Observation.Text, len(sess.Observation.Images))
	}
	im := sess.Observation.Images[0]
	resp, err := http.Get(im.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	cfg, err := png.DecodeConfig(resp.Body)
	if err != nil || resp.Header.Get("Content-Type") != "image/png" || cfg.Width != im.W || cfg.Height != im.H {
		t.Errorf("GET %s = %s %dx%d (%v), want a PNG of %dx%d", im.URL, resp.Header.Get("Content-Type"), cfg.Width, cfg.Height, err, im.W, im.H)
	}
	var st Step
	callOK(t, 200, "POST", hs.URL+"/v1/sessions/"+sess.Session+"/step", map[string]any{"action": `fill("5", "usb cable")`, "images": "base64"}, &st)
	if len(st.Observation.Images) != 1 || st.Observation.Images[0].URL != "" {
		t.Fatalf("images = %+v, want one in base64", st.Observation.Images)
	}
	raw, err := base64.StdEncoding.DecodeString(st.Observation.Images[0].Data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.DecodeConfig(bytes.NewReader(raw)); err != nil {
		t.Errorf("the base64 image is not a PNG: %v", err)
	}
	if !strings.Contains(st.Observation.Text, `value="usb cable"`) {
		t.Errorf("after the fill:\n%s\nwant the value typed", st.Observation.Text)
	}
	callOK(t, 200, "DELETE", hs.URL+"/v1/sessions/"+sess.Session, nil, nil)
}

// TestServeMiniWoB serves the MiniWoB protocol's test tasks: a session's
// task carries the utterance the page drew, at the first reset and at a
// reset of the session, and a step that solves it ends the episode with
// reward 1.
func TestServeMiniWoB(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no Chromium")
	}
	if _, err := web.FindChrome(); err != nil {
		t.Skipf("no Chromium: %v", err)
	}
	t.Parallel()
	_, hs := start(t, Options{Def: suites.MiniWoB(), MaxSessions: 1, MaxSteps: 20, Load: evals.LoadOptions{
		Engine: evals.EngineChromium, Seed: 1, Params: map[string]string{"dir": "../../testdata/miniwob", "tasks": "click-button", "seeds": "2"}}})
	var sess Session
	callOK(t, 201, "POST", hs.URL+"/v1/sessions", map[string]any{"index": 0}, &sess)
	want := regexp.MustCompile(`^Click on the "(\w+)" button\.$`)
	m := want.FindStringSubmatch(sess.Task.Instruction)
	if m == nil {
		t.Fatalf("the session's instruction is %q, not the page's utterance", sess.Task.Instruction)
	}
	id := ""
	for _, line := range strings.Split(sess.Observation.Text, "\n") {
		if strings.Contains(line, `button "`+m[1]+`"`) {
			id = strings.TrimSpace(line)[1:strings.Index(strings.TrimSpace(line), "]")]
		}
	}
	var st Step
	callOK(t, 200, "POST", hs.URL+"/v1/sessions/"+sess.Session+"/step", map[string]any{"action": `click("` + id + `")`}, &st)
	if st.Reward != 1 || !st.Terminated {
		t.Errorf("the click on %s: reward %v terminated %v", m[1], st.Reward, st.Terminated)
	}
	callOK(t, 200, "POST", hs.URL+"/v1/sessions/"+sess.Session+"/reset", map[string]any{"index": 1}, &sess)
	if !want.MatchString(sess.Task.Instruction) || sess.Task.ID != "click-button.s1" {
		t.Errorf("after a reset: task %+v", sess.Task)
	}
}
