package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/env/envtest"
	"github.com/pilotkit/pilot/env/web/webtest"
)

// TestMain fails the run when a test leaks a browser profile directory
// or process: pilot must close the browser whatever happens to the
// episode. It stops the browser that the tests share.
func TestMain(m *testing.M) { webtest.Main(m) }

// launch starts the shared browser.
func launch(ctx context.Context) (string, func() error, error) { return Launch(ctx, Options{}) }

// sharedBrowser returns the address of the package's one browser
// (webtest.Browser), which most tests attach to: each gets its own browser
// contexts, so they run in parallel.
func sharedBrowser(t testing.TB) string {
	t.Helper()
	u, err := webtest.Browser(launch)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// site serves testdata plus a few dynamic pages.
func site(t testing.TB) *httptest.Server {
	mux := http.NewServeMux()
	mux.Handle("/", http.FileServer(http.Dir("testdata")))
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	mux.HandleFunc("/fast", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "loaded fast")
	})
	mux.HandleFunc("/big.html", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, bigPage(r.URL.Query().Get("n")))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// bigPage has about 200 elements: a toggle that changes the page without
// navigating, and a link that navigates.
func bigPage(n string) string {
	var b strings.Builder
	b.WriteString(`<!doctype html><html><head><title>Big page ` + n + `</title></head><body>`)
	b.WriteString(`<h1>Catalog</h1><button id="t" onclick="document.getElementById('st').textContent = 'clicked ' + (++window.k || (window.k = 1))">Toggle</button><p id="st">not clicked</p>`)
	b.WriteString(`<a id="next" href="/big.html?n=` + n + `x">Next page</a><ul>`)
	for i := range 50 {
		fmt.Fprintf(&b, `<li><a href="/item/%d">Item %d</a> <span>$%d.99</span> <button>Add %d</button></li>`, i, i, i+3, i)
	}
	b.WriteString(`</ul></body></html>`)
	return b.String()
}

// envs are the Envs with the default options on the shared browser, lent
// to one test after another.
var envs = webtest.NewPool(func() (*Env, error) {
	u, err := webtest.Browser(launch)
	if err != nil {
		return nil, err
	}
	return New(Options{BrowserURL: u})
})

// pooledEnv returns an Env with the default options, on the shared
// browser, for t (which starts with Reset).
func pooledEnv(t testing.TB) *Env {
	t.Helper()
	e, err := envs.Get(t)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// newEnv returns an Env on the shared browser (or on o.BrowserURL),
// closed with the test.
func newEnv(t testing.TB, o Options) *Env {
	t.Helper()
	if o.BrowserURL == "" {
		o.BrowserURL = sharedBrowser(t)
	}
	return newOwnEnv(t, o)
}

// newOwnEnv returns an Env that launches its own browser (unless
// o.BrowserURL is set), closed with the test: for the tests about the
// browser's life.
func newOwnEnv(t testing.TB, o Options) *Env {
	t.Helper()
	e, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return e
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// idOf finds the id of the first line of the observation containing s.
func idOf(t testing.TB, obs env.Observation, s string) string {
	t.Helper()
	for _, line := range strings.Split(obs.Text, "\n") {
		if strings.Contains(line, s) {
			line = strings.TrimSpace(line)
			if strings.HasPrefix(line, "[") {
				return line[1:strings.Index(line, "]")]
			}
		}
	}
	t.Fatalf("no element line containing %q in:\n%s", s, obs.Text)
	return ""
}

func step(t testing.TB, e *Env, text string) env.Step {
	t.Helper()
	a, err := env.ParseAction(text)
	if err != nil {
		t.Fatal(err)
	}
	st, err := e.Step(ctxT(t), a)
	if err != nil {
		t.Fatalf("Step(%s): %v", text, err)
	}
	return st
}

func TestConformance(t *testing.T) {
	t.Parallel()
	srv := site(t)
	e := newEnv(t, Options{}) // not pooledEnv: envtest.Check closes it
	// The walk of the snapshot check stays on the test's server: the
	// form's "Elsewhere" link goes to a host that does not resolve, whose
	// error page is not the same twice.
	envtest.Check(t, e, env.Task{Instruction: "look at the form", StartURL: srv.URL + "/form.html"},
		envtest.Walk(env.A("fill", "6", "mug"), env.A("select_option", "7", "blue"), env.A("click", "2"), env.A("go_back")))
}

func TestObservation(t *testing.T) {
	t.Parallel()
	srv := site(t)
	e := pooledEnv(t)
	obs, err := e.Reset(ctxT(t), env.Task{StartURL: srv.URL + "/form.html"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"URL: " + srv.URL + "/form.html", "Title: Form page",
		`link "Next page"`, `heading "Find a mug" level=1`, `textbox "Search" value=""`,
		`combobox "Color" value="red"`, `option "green" selected`[:0] + `option "green" disabled`,
		`checkbox "Gift wrap"`, `button "Add to cart"`, `img "A blue mug"`,
		`iframe "Reviews"`, `StaticText "Great mug, five stars"`, `button "Like"`,
	} {
		if !strings.Contains(obs.Text, want) {
			t.Errorf("observation lacks %q:\n%s", want, obs.Text)
		}
	}
	for _, gone := range []string{"Invisible button", "Ghost button", "R0lGOD"} {
		if strings.Contains(obs.Text, gone) {
			t.Errorf("observation shows hidden %q:\n%s", gone, obs.Text)
		}
	}
	if len(obs.Choices) == 0 {
		t.Error("no choices listed")
	}
}

func TestActions(t *testing.T) {
	t.Parallel()
	srv := site(t)
	e := pooledEnv(t)
	obs, err := e.Reset(ctxT(t), env.Task{StartURL: srv.URL + "/form.html"})
	if err != nil {
		t.Fatal(err)
	}
	add := idOf(t, obs, `button "Add to cart"`)
	st := step(t, e, `click("`+add+`")`)
	if !strings.Contains(st.Obs.Text, `StaticText "Added 1"`) {
		t.Fatalf("click did not update the page:\n%s", st.Obs.Text)
	}
	if got := idOf(t, st.Obs, `button "Add to cart"`); got != add {
		t.Errorf("id of the button changed from %s to %s across a step", add, got)
	}
	like := idOf(t, obs, `button "Like"`)
	st = step(t, e, `click("`+like+`")`)
	if !strings.Contains(st.Obs.Text, `button "Liked"`) {
		t.Errorf("click in the iframe did not land:\n%s", st.Obs.Text)
	}
	q := idOf(t, obs, `textbox "Search"`)
	st = step(t, e, `fill("`+q+`", "blue mug")`)
	if !strings.Contains(st.Obs.Text, `textbox "Search" value="blue mug"`) {
		t.Errorf("fill:\n%s", st.Obs.Text)
	}
	st = step(t, e, `fill("`+q+`", "red mug")`)
	if !strings.Contains(st.Obs.Text, `value="red mug"`) {
		t.Errorf("fill does not replace the old text:\n%s", st.Obs.Text)
	}
	color := idOf(t, obs, `combobox "Color"`)
	st = step(t, e, `select_option("`+color+`", "Blue")`)
	if !strings.Contains(st.Obs.Text, `combobox "Color" value="blue"`) {
		t.Errorf("select_option:\n%s", st.Obs.Text)
	}
	gift := idOf(t, obs, `checkbox "Gift wrap"`)
	st = step(t, e, `click("`+gift+`")`)
	if !strings.Contains(st.Obs.Text, `checkbox "Gift wrap" checked`) {
		t.Errorf("checkbox click:\n%s", st.Obs.Text)
	}
	alert := idOf(t, obs, `button "Alert me"`)
	st = step(t, e, `click("`+alert+`")`)
	if !strings.Contains(st.Obs.Error, "hello there") {
		t.Errorf("the alert's text is not reported: %q", st.Obs.Error)
	}
	step(t, e, `click("`+q+`")`)
	st = step(t, e, `press("Enter")`)
	if !strings.Contains(st.Obs.URL, "/next.html?q=red+mug&color=blue&gift=on") || !strings.Contains(st.Obs.Text, "You arrived") {
		t.Fatalf("Enter did not submit the form: %s\n%s", st.Obs.URL, st.Obs.Text)
	}
	st = step(t, e, `go_back()`)
	if !strings.HasSuffix(st.Obs.URL, "/form.html") || !strings.Contains(st.Obs.Text, "Find a mug") {
		t.Errorf("go_back: %s\n%s", st.Obs.URL, st.Obs.Text)
	}
	st = step(t, e, `go_forward()`)
	if !strings.Contains(st.Obs.Text, "You arrived") {
		t.Errorf("go_forward: %s", st.Obs.Text)
	}
	st = step(t, e, `goto("`+srv.URL+`/big.html?n=1")`)
	if st.Obs.Title != "Big page 1" {
		t.Errorf("goto: title %q", st.Obs.Title)
	}
	st = step(t, e, `scroll("down")`)
	if !strings.Contains(st.Obs.Text, "Scroll: ") || strings.Contains(st.Obs.Text, "Scroll: 0 of") {
		t.Errorf("scroll down did not move the page:\n%s", st.Obs.Text[:200])
	}
	st = step(t, e, `hover("`+idOf(t, st.Obs, `link "Next page"`)+`")`)
	if st.Obs.Error != "" {
		t.Errorf("hover: %s", st.Obs.Error)
	}
	next := idOf(t, st.Obs, `link "Next page"`)
	st = step(t, e, `click("`+next+`")`)
	if st.Obs.Title != "Big page 1x" {
		t.Errorf("click on a link: title %q", st.Obs.Title)
	}
}

func TestBadActionsAreObservations(t *testing.T) {
	t.Parallel()
	srv := site(t)
	e := pooledEnv(t)
	obs, err := e.Reset(ctxT(t), env.Task{StartURL: srv.URL + "/form.html"})
	if err != nil {
		t.Fatal(err)
	}
	add := idOf(t, obs, `button "Add to cart"`)
	cases := []struct{ action, want string }{
		{`click("9999")`, "no element with id 9999"},
		{`fill("` + add + `", "x")`, "not a text field"},
		{`select_option("` + add + `", "x")`, "not a select"},
		{`select_option("` + idOf(t, obs, `combobox "Color"`) + `", "purple")`, `has no option "purple": its options are "red", "blue", "green"`},
		{`press("Hyper+q")`, "unknown modifier"},
		{`goto("not a url")`, "not an absolute URL"},
		{`teleport("mars")`, `unknown action "teleport"`},
		{`click()`, "click takes 1 argument"},
		{`scroll("sideways")`, "direction must be one of"},
		{`go_forward()`, "no later page"},
	}
	for _, c := range cases {
		a, err := env.ParseAction(c.action)
		if err != nil {
			t.Fatal(err)
		}
		st, err := e.Step(ctxT(t), a)
		if err != nil {
			t.Fatalf("Step(%s) = error %v, want an observation error", c.action, err)
		}
		if !strings.Contains(st.Obs.Error, c.want) || !strings.Contains(st.Obs.Text, "Error: "+st.Obs.Error) {
			t.Errorf("Step(%s): Obs.Error = %q, want it to contain %q and to be in the text", c.action, st.Obs.Error, c.want)
		}
		if st.Done() {
			t.Errorf("Step(%s) ended the episode", c.action)
		}
	}
}

func TestHiddenElement(t *testing.T) {
	t.Parallel()
	srv := site(t)
	e := pooledEnv(t)
	if _, err := e.Reset(ctxT(t), env.Task{StartURL: srv.URL + "/form.html"}); err != nil {
		t.Fatal(err)
	}
	// The hidden buttons carry no id in the observation; give one by hand,
	// as a stale id of an element that has since been hidden would.
	r, err := e.callPilot(ctxT(t), `find("1") && (document.getElementById('ghost').setAttribute('data-pilot-id', 'g1'), {})`, false)
	if err != nil || r.Error != "" {
		t.Fatal(err, r.Error)
	}
	st := step(t, e, `click("g1")`)
	if !strings.Contains(st.Obs.Error, "element g1 is hidden") {
		t.Errorf("click on a hidden element: Obs.Error = %q", st.Obs.Error)
	}
}

func TestAllowlist(t *testing.T) {
	t.Parallel()
	srv := site(t)
	e := newEnv(t, Options{AllowDomains: []string{"127.0.0.1"}})
	obs, err := e.Reset(ctxT(t), env.Task{StartURL: srv.URL + "/form.html"})
	if err != nil {
		t.Fatal(err)
	}
	st := step(t, e, `goto("https://example.com/")`)
	if !strings.Contains(st.Obs.Error, "example.com is outside the allowed domains (127.0.0.1)") {
		t.Errorf("goto outside: %q", st.Obs.Error)
	}
	st = step(t, e, `click("`+idOf(t, obs, `link "Elsewhere"`)+`")`)
	if !strings.Contains(st.Obs.Error, "leaves the allowed domains") || !strings.HasSuffix(st.Obs.URL, "/form.html") {
		t.Errorf("link outside: %q at %s", st.Obs.Error, st.Obs.URL)
	}
	// Navigations the agent cannot see coming: a form and a script.
	st = step(t, e, `goto("`+srv.URL+`/hang.html")`)
	for _, b := range []string{`button "Leave by form"`, `button "Leave by script"`} {
		st2 := step(t, e, `click("`+idOf(t, st.Obs, b)+`")`)
		if !strings.Contains(st2.Obs.Error, "navigation refused: outside.invalid is outside the allowed domains") {
			t.Errorf("%s: Obs.Error = %q", b, st2.Obs.Error)
		}
		if !strings.HasSuffix(st2.Obs.URL, "/hang.html") {
			t.Errorf("%s: the page left to %s", b, st2.Obs.URL)
		}
	}
	if _, err := New(Options{AllowDomains: []string{"http://x.com/"}}); err == nil {
		t.Error("New accepted a URL as an allowed domain")
	}
}

func TestIsolationBetweenEpisodes(t *testing.T) {
	t.Parallel()
	srv := site(t)
	e := pooledEnv(t)
	obs, err := e.Reset(ctxT(t), env.Task{StartURL: srv.URL + "/cookie.html"})
	if err != nil {
		t.Fatal(err)
	}
	st := step(t, e, `click("`+idOf(t, obs, `button "Remember me"`)+`")`)
	if !strings.Contains(st.Obs.Text, "cookie: [visited=yes]") || !strings.Contains(st.Obs.Text, "storage: [1]") {
		t.Fatalf("the page did not set its cookie:\n%s", st.Obs.Text)
	}
	obs, err = e.Reset(ctxT(t), env.Task{StartURL: srv.URL + "/cookie.html"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(obs.Text, "cookie: []") || !strings.Contains(obs.Text, "storage: []") {
		t.Errorf("the cookie or storage of the last episode leaked:\n%s", obs.Text)
	}
}

func TestSettle(t *testing.T) {
	t.Parallel()
	srv := site(t)
	e := pooledEnv(t)
	obs, err := e.Reset(ctxT(t), env.Task{StartURL: srv.URL + "/hang.html"})
	if err != nil {
		t.Fatal(err)
	}
	st := step(t, e, `click("`+idOf(t, obs, `button "Late"`)+`")`)
	if !strings.Contains(st.Obs.Text, "late text") {
		t.Errorf("a change made in a timer after the click was not waited for:\n%s", st.Obs.Text)
	}
	st = step(t, e, `click("`+idOf(t, obs, `button "Load quickly"`)+`")`)
	if !strings.Contains(st.Obs.Text, "loaded fast") {
		t.Errorf("a fetch after the click was not waited for:\n%s", st.Obs.Text)
	}
}

func TestCancelMidStep(t *testing.T) {
	t.Parallel()
	srv := site(t)
	e := newEnv(t, Options{NetworkIdleTimeout: time.Minute, SettleTimeout: time.Minute})
	obs, err := e.Reset(ctxT(t), env.Task{StartURL: srv.URL + "/hang.html"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	_, err = e.Step(ctx, env.A("click", idOf(t, obs, `button "Load forever"`)))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Step with a cancelled context = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("Step took %v to notice the cancellation", d)
	}
	// The session survives: the browser and the tab still work.
	st := step(t, e, `noop()`)
	if !strings.Contains(st.Obs.Text, "Load forever") {
		t.Errorf("after a cancelled step the page is gone:\n%s", st.Obs.Text)
	}
}

func TestKilledBrowser(t *testing.T) {
	t.Parallel()
	srv := site(t)
	e := newOwnEnv(t, Options{})
	if _, err := e.Reset(ctxT(t), env.Task{StartURL: srv.URL + "/form.html"}); err != nil {
		t.Fatal(err)
	}
	pid := e.BrowserPID()
	if pid == 0 {
		t.Fatal("no browser pid")
	}
	if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_, err := e.Step(ctxT(t), env.A("noop"))
	for i := 0; err == nil && i < 50; i++ { // the kill takes a moment to be seen
		time.Sleep(20 * time.Millisecond)
		_, err = e.Step(ctxT(t), env.A("noop"))
	}
	if !errors.Is(err, ErrBrowserGone) || !errors.Is(err, env.ErrBackendLost) || !strings.Contains(err.Error(), "the next Reset starts a new browser") {
		t.Fatalf("Step after the browser was killed = %v, want ErrBrowserGone (an env.ErrBackendLost)", err)
	}
	if _, err := e.Step(ctxT(t), env.A("noop")); !errors.Is(err, ErrBrowserGone) {
		t.Errorf("second Step = %v, want ErrBrowserGone again", err)
	}
	obs, err := e.Reset(ctxT(t), env.Task{StartURL: srv.URL + "/form.html"})
	if err != nil {
		t.Fatalf("Reset after the browser died: %v", err)
	}
	if !strings.Contains(obs.Text, "Find a mug") || e.BrowserPID() == pid {
		t.Errorf("Reset did not start a new browser (pid %d, was %d)", e.BrowserPID(), pid)
	}
}

func TestChromeMissing(t *testing.T) {
	t.Setenv("PILOT_CHROME", "/nonexistent/chromium")
	_, err := New(Options{})
	if !errors.Is(err, ErrChromeNotFound) || !strings.Contains(err.Error(), "apt-get install chromium") || !strings.Contains(err.Error(), "PILOT_CHROME") {
		t.Errorf("New without Chromium = %v, want ErrChromeNotFound naming the install command", err)
	}
}

func TestScreenshot(t *testing.T) {
	t.Parallel()
	srv := site(t)
	e := newEnv(t, Options{Screenshot: "jpeg", Viewport: Size{800, 600}})
	obs, err := e.Reset(ctxT(t), env.Task{StartURL: srv.URL + "/form.html"})
	if err != nil {
		t.Fatal(err)
	}
	if len(obs.Images) != 1 || obs.Images[0].MIME != "image/jpeg" {
		t.Fatalf("images = %v", obs.Images)
	}
	cfg, err := decodeConfig(obs.Images[0].Data)
	if err != nil || cfg.Width != 800 || cfg.Height != 600 {
		t.Errorf("screenshot is %dx%d (%v), want 800x600", cfg.Width, cfg.Height, err)
	}
}

func TestStopAnswer(t *testing.T) {
	t.Parallel()
	srv := site(t)
	e := pooledEnv(t)
	task := env.Task{StartURL: srv.URL + "/form.html", Answer: "Blue Mug"}
	for _, c := range []struct {
		answer string
		reward float64
	}{{"blue  mug", 1}, {"red mug", 0}} {
		if _, err := e.Reset(ctxT(t), task); err != nil {
			t.Fatal(err)
		}
		st := step(t, e, `stop("`+c.answer+`")`)
		if !st.Terminated || st.Truncated || st.Reward != c.reward {
			t.Errorf("stop(%q) = terminated %v, reward %v; want terminated, reward %v", c.answer, st.Terminated, st.Reward, c.reward)
		}
	}
}

// TestFrameNavigation: a link in a frame loads its page in the frame; the
// page around it stays.
func TestFrameNavigation(t *testing.T) {
	t.Parallel()
	srv := site(t)
	e := pooledEnv(t)
	obs, err := e.Reset(ctxT(t), env.Task{StartURL: srv.URL + "/frames.html"})
	if err != nil {
		t.Fatal(err)
	}
	link := idOf(t, obs, `link "Open next in the frame"`)
	st := step(t, e, `click("`+link+`")`)
	if st.Obs.URL != srv.URL+"/frames.html" || strings.Contains(st.Obs.Text, "inline frame") {
		t.Fatalf("after the click in the frame: URL %s\n%s", st.Obs.URL, st.Obs.Text)
	}
	if !strings.Contains(st.Obs.Text, `iframe "Inline"`) || !strings.Contains(st.Obs.Text, `heading "You arrived" level=2`) {
		t.Errorf("the frame does not show next.html:\n%s", st.Obs.Text)
	}
	like := idOf(t, st.Obs, `button "Like"`)
	st = step(t, e, `click("`+like+`")`)
	if !strings.Contains(st.Obs.Text, `button "Liked"`) {
		t.Errorf("the other frame stopped answering:\n%s", st.Obs.Text)
	}
}

// A browser that dies while a step waits for the page (here a navigation
// whose server never answers) ends the step with ErrBrowserGone at once:
// the step does not sit out its settle timeout (10 minutes here; the
// step's context, 2 minutes, would end it with another error).
func TestBrowserKilledDuringSettle(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{}, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><title>Start</title><a href="/hang">Hang</a>`)
	})
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) {
		select {
		case arrived <- struct{}{}:
		default:
		}
		<-r.Context().Done()
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	e := newOwnEnv(t, Options{SettleTimeout: 10 * time.Minute})
	obs, err := e.Reset(ctxT(t), env.Task{StartURL: srv.URL + "/"})
	if err != nil {
		t.Fatal(err)
	}
	var link string
	for _, c := range obs.Choices {
		if c.Name == "click" {
			link = c.Args[0]
		}
	}
	pid := e.BrowserPID()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := e.Step(ctx, env.A("click", link))
		done <- err
	}()
	select {
	case <-arrived:
	case err := <-done:
		t.Fatalf("the step ended before its navigation reached the server: %v", err)
	}
	if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err = <-done
	if !errors.Is(err, ErrBrowserGone) || ctx.Err() != nil {
		t.Errorf("Step during which the browser died = %v (step context: %v); want ErrBrowserGone before the step's deadline", err, ctx.Err())
	}
}
