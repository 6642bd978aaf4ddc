package web

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pilotkit/pilot/env"
)

// The tests in this file hold the web env to ordinary real-site markup:
// elements that only scripts make clickable, hidden inputs behind their
// labels, shadow DOM, inputs that are not typed into, covers, and the
// actions beyond click and fill. Each failed on the tree of before.

func reset(t *testing.T, e *Env, url string) env.Observation {
	t.Helper()
	obs, err := e.Reset(ctxT(t), env.Task{StartURL: url})
	if err != nil {
		t.Fatal(err)
	}
	return obs
}

func has(t *testing.T, obs env.Observation, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(obs.Text, w) {
			t.Errorf("the observation lacks %q:\n%s", w, obs.Text)
		}
	}
}

func lacks(t *testing.T, obs env.Observation, bad ...string) {
	t.Helper()
	for _, b := range bad {
		if strings.Contains(obs.Text, b) {
			t.Errorf("the observation has %q:\n%s", b, obs.Text)
		}
	}
}

func TestListenerClickables(t *testing.T) {
	t.Parallel()
	e, obs := openPage(t, "/real/listeners.html")
	// The START cover, the +/- counters, jQuery-style links without href,
	// an onclick div and a pointer-cursor div all get ids; a container
	// whose click handler holds a button does not (the button does).
	has(t, obs, `] clickable "START"`, `] clickable "+"`, `] clickable "-"`, `] clickable "Next"`, `] clickable "Say hi"`, `] clickable "Pick me"`, `] clickable "Press keys here"`, `] button "Inner button"`)
	lacks(t, obs, `clickable "Inner button"`)
	st := step(t, e, `click("`+idOf(t, obs, `clickable "START"`)+`")`)
	lacks(t, st.Obs, `"START"`)
	st = step(t, e, `click("`+idOf(t, st.Obs, `clickable "+"`)+`")`)
	has(t, st.Obs, `StaticText "Count: 1"`)
	st = step(t, e, `click("`+idOf(t, st.Obs, `clickable "Next"`)+`")`)
	has(t, st.Obs, `StaticText "Count: 11"`)
	st = step(t, e, `click("`+idOf(t, st.Obs, `clickable "-"`)+`")`)
	has(t, st.Obs, `StaticText "Count: 10"`)
	st = step(t, e, `click("`+idOf(t, st.Obs, `clickable "Pick me"`)+`")`)
	has(t, st.Obs, `StaticText "picked"`)
	found := false
	for _, c := range st.Obs.Choices {
		found = found || c.Name == "click" && c.Arg(0) == idOf(t, st.Obs, `clickable "Say hi"`)
	}
	if !found {
		t.Errorf("the clickable div is not among the choices: %v", st.Obs.Choices)
	}
}

func TestNamesAndTextAsRead(t *testing.T) {
	t.Parallel()
	e, obs := openPage(t, "/real/markup.html")
	has(t, obs,
		`StaticText "The quick brown fox jumps."`, // one line, not five
		`] combobox "Country" value="France"`,     // the label, not its options
		`] checkbox "Remember me"`,                // the label of a hidden input is the control
		`] checkbox "I accept the terms"`,
		`] button "More info"`)
	lacks(t, obs, `Country France Japan`, `Secret details text`, `Decorative text`, `Offscreen text`, `Far away`)
	st := step(t, e, `click("`+idOf(t, obs, `checkbox "Remember me"`)+`")`)
	has(t, st.Obs, `checkbox "Remember me" checked`)
	st = step(t, e, `click("`+idOf(t, st.Obs, `button "More info"`)+`")`)
	has(t, st.Obs, `Secret details text`)
	// A submission the browser refuses shows why, on each field.
	st = step(t, e, `click("`+idOf(t, st.Obs, `button "Send"`)+`")`)
	has(t, st.Obs, `textbox "Query" value="" required focused invalid="Please fill out this field."`,
		`textbox "Mail" value="nope" invalid="Please include an '@' in the email address. 'nope' is missing an '@'."`)
	st = step(t, e, `fill("`+idOf(t, st.Obs, `"Query"`)+`", "mugs")`)
	has(t, st.Obs, `textbox "Query" value="mugs" required focused`)
	lacks(t, st.Obs, `Please fill out this field`)
}

func TestStatusOfThePage(t *testing.T) {
	t.Parallel()
	_, obs := openPage(t, "/no/such/page")
	has(t, obs, "Status: 404 Not Found\n")
	_, obs = openPage(t, "/fast")
	lacks(t, obs, "Status:")
}

func TestShadowIDsAct(t *testing.T) {
	t.Parallel()
	e, obs := openPage(t, "/real/shadow.html")
	has(t, obs, `StaticText "Closed shadow text"`)
	st := step(t, e, `click("`+idOf(t, obs, `button "Open shadow button"`)+`")`)
	if st.Obs.Error != "" {
		t.Fatalf("click in an open shadow root: %s", st.Obs.Error)
	}
	has(t, st.Obs, `StaticText "open clicked"`)
	st = step(t, e, `click("`+idOf(t, st.Obs, `button "Closed shadow button"`)+`")`)
	if st.Obs.Error != "" {
		t.Fatalf("click in a closed shadow root: %s", st.Obs.Error)
	}
	has(t, st.Obs, `StaticText "closed clicked"`)
}

func TestFillEveryInputType(t *testing.T) {
	t.Parallel()
	srv := site(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cv.txt"), []byte("my cv\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, Options{UploadDir: dir})
	obs := reset(t, e, srv.URL+"/real/inputs.html")
	for _, c := range []struct{ field, value, shown string }{
		{"Day", "2026-12-04", `value="2026-12-04"`},
		{"At", "14:30", `value="14:30"`},
		{"When", "2026-12-04T14:30", `value="2026-12-04T14:30"`},
		{"Month", "2026-12", `value="2026-12"`},
		{"Week", "2026-W49", `value="2026-W49"`},
		{"Colour", "#FF8800", `value="#ff8800"`},
		{"Volume", "7", `value="7"`},
		{"Count", "42", `value="42"`},
		{"Notes", "new notes", `value="new notes"`},
	} {
		st := step(t, e, `fill("`+idOf(t, obs, `"`+c.field+`"`)+`", "`+c.value+`")`)
		if st.Obs.Error != "" {
			t.Errorf("fill %s with %q: %s", c.field, c.value, st.Obs.Error)
		}
		has(t, st.Obs, `"`+c.field+`" `+c.shown)
		if c.field != "Notes" {
			// The page heard it as it hears a person: input, then change.
			has(t, st.Obs, `StaticText "changed `+strings.ToLower(map[string]string{"Day": "day", "At": "at", "When": "when", "Month": "month", "Week": "week", "Colour": "colour", "Volume": "vol", "Count": "count"}[c.field])+`"`)
		}
		obs = st.Obs
	}
	for _, c := range []struct{ field, value, want string }{
		{"Day", "12/04/2026", "takes a date as YYYY-MM-DD"},
		{"At", "2pm", "takes a time as HH:MM"},
		{"Colour", "orange", "takes a colour as #rrggbb"},
		{"Volume", "50", "takes a number from 0 to 10"},
		{"Count", "many", "takes a number such as 42"},
		{"File", "x", "use upload to choose a file"},
	} {
		st := step(t, e, `fill("`+idOf(t, obs, `"`+c.field+`"`)+`", "`+c.value+`")`)
		if !strings.Contains(st.Obs.Error, c.want) {
			t.Errorf("fill %s with %q: error %q, want one saying %q", c.field, c.value, st.Obs.Error, c.want)
		}
		obs = st.Obs
	}
	has(t, obs, `"Day" value="2026-12-04"`) // a refused value leaves the old one
	file := idOf(t, obs, `button "File"`)
	st := step(t, e, `upload("`+file+`", "cv.txt")`)
	if st.Obs.Error != "" {
		t.Fatalf("upload: %s", st.Obs.Error)
	}
	has(t, st.Obs, `StaticText "file cv.txt: my cv"`)
	for _, bad := range []string{"../cv.txt", "/etc/passwd", "missing.txt"} {
		if st := step(t, e, `upload("`+file+`", "`+bad+`")`); !strings.Contains(st.Obs.Error, "upload") {
			t.Errorf("upload %q: error %q, want a refusal", bad, st.Obs.Error)
		}
	}
	if other, _ := openPage(t, "/real/inputs.html"); !strings.Contains(step(t, other, `upload("`+file+`", "cv.txt")`).Obs.Error, "--upload-dir") {
		t.Errorf("upload without an upload directory: error %q, want one naming --upload-dir", st.Obs.Error)
	}
}

// openPage resets a pooled Env to path on the test site.
func openPage(t *testing.T, path string) (*Env, env.Observation) {
	t.Helper()
	srv := site(t)
	e := pooledEnv(t)
	return e, reset(t, e, srv.URL+path)
}

func TestNoSilentClicks(t *testing.T) {
	t.Parallel()
	e, obs := openPage(t, "/real/cover.html")
	st := step(t, e, `click("`+idOf(t, obs, `button "Under the banner"`)+`")`)
	if !strings.Contains(st.Obs.Error, "is covered by a div#banner") || !strings.Contains(st.Obs.Error, "Cookies banner") {
		t.Errorf("click on a covered button: error %q, want one naming the banner", st.Obs.Error)
	}
	lacks(t, st.Obs, `"pressed"`)
	st = step(t, e, `click("`+idOf(t, obs, `button "Disabled button"`)+`")`)
	if !strings.Contains(st.Obs.Error, "is a disabled button") {
		t.Errorf("click on a disabled button: error %q", st.Obs.Error)
	}
	st = step(t, e, `click("`+idOf(t, st.Obs, `button "Accept"`)+`")`)
	st = step(t, e, `click("`+idOf(t, st.Obs, `button "Under the banner"`)+`")`)
	if st.Obs.Error != "" {
		t.Errorf("click once the banner is gone: %s", st.Obs.Error)
	}
	has(t, st.Obs, `button "pressed"`)
	st = step(t, e, `click("99999")`)
	if !strings.Contains(st.Obs.Error, "no element with id 99999") {
		t.Errorf("click on an unknown id: %q", st.Obs.Error)
	}
}

func TestMoreActions(t *testing.T) {
	t.Parallel()
	e, obs := openPage(t, "/real/cover.html")
	obs = step(t, e, `click("`+idOf(t, obs, `button "Accept"`)+`")`).Obs
	st := step(t, e, `double_click("`+idOf(t, obs, `clickable "Double me"`)+`")`)
	has(t, st.Obs, `StaticText "double-clicked"`)
	st = step(t, e, `drag("`+idOf(t, st.Obs, `clickable "Drag me"`)+`", "`+idOf(t, st.Obs, `"Drop here"`)+`")`)
	if st.Obs.Error != "" {
		t.Fatalf("drag: %s", st.Obs.Error)
	}
	has(t, st.Obs, `StaticText "dropped payload"`)
	st = step(t, e, `drag("`+idOf(t, st.Obs, `clickable "Knob"`)+`", "`+idOf(t, st.Obs, `"Rail"`)+`")`)
	has(t, st.Obs, `StaticText "knob on the rail"`)
	keys := idOf(t, st.Obs, `textbox "Keys"`)
	step(t, e, `fill("`+keys+`", "hello")`)
	step(t, e, `press("Control+a")`)
	st = step(t, e, `press("Backspace")`)
	has(t, st.Obs, `textbox "Keys" value="" focused`)
	st = step(t, e, `click("`+idOf(t, st.Obs, `button "Confirm later"`)+`")`)
	st = step(t, e, `wait_for("order confirmed", "5000")`)
	if st.Obs.Error != "" {
		t.Errorf("wait_for: %s", st.Obs.Error)
	}
	has(t, st.Obs, `StaticText "Order confirmed"`)
	st = step(t, e, `wait_for("never there", "100")`)
	if !strings.Contains(st.Obs.Error, `wait_for "never there": the text did not appear within 0.1s`) {
		t.Errorf("wait_for a missing text: error %q", st.Obs.Error)
	}
	if st := step(t, e, `wait("20")`); st.Obs.Error != "" {
		t.Errorf("wait: %s", st.Obs.Error)
	}
	if st := step(t, e, `wait("60000")`); !strings.Contains(st.Obs.Error, "at most") {
		t.Errorf("wait 60 s: error %q, want the cap", st.Obs.Error)
	}
}
