package lite_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/env/envtest"
	"github.com/pilotkit/pilot/env/shop"
	"github.com/pilotkit/pilot/env/web"
	"github.com/pilotkit/pilot/env/web/lite"
)

var update = flag.Bool("update", false, "rewrite the golden observations in testdata")

// host is where the tests' site lives: lite sends every URL to its
// handler, whatever the host.
const host = "http://site.test"

// session is one episode in a Browser, for tests.
type session struct {
	t   testing.TB
	b   *lite.Browser
	obs env.Observation
	st  env.Step
}

func open(t testing.TB, h http.Handler, path string, opts lite.Options) *session {
	t.Helper()
	b := lite.New(h, opts)
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	obs, err := b.Reset(t.Context(), env.Task{StartURL: host + path})
	if err != nil {
		t.Fatalf("Reset(%s): %v", path, err)
	}
	return &session{t: t, b: b, obs: obs}
}

// do takes an action in its text form.
func (s *session) do(action string) env.Step {
	s.t.Helper()
	a, err := env.ParseAction(action)
	if err != nil {
		s.t.Fatal(err)
	}
	st, err := s.b.Step(s.t.Context(), a)
	if err != nil {
		s.t.Fatalf("Step(%s): %v", a, err)
	}
	s.st, s.obs = st, st.Obs
	return st
}

// ok takes an action that must not fail.
func (s *session) ok(action string) {
	s.t.Helper()
	if st := s.do(action); st.Obs.Error != "" {
		s.t.Fatalf("Step(%s): observation error %q\n%s", action, st.Obs.Error, st.Obs.Text)
	}
}

// id returns the id of the first element line containing sub.
func (s *session) id(sub string) string {
	s.t.Helper()
	for line := range strings.SplitSeq(s.obs.Text, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") && strings.Contains(line, sub) {
			return line[1:strings.Index(line, "]")]
		}
	}
	s.t.Fatalf("no element line containing %q in:\n%s", sub, s.obs.Text)
	return ""
}

// has fails unless the observation has a line containing each of lines.
func (s *session) has(lines ...string) {
	s.t.Helper()
	for _, l := range lines {
		if !strings.Contains(s.obs.Text, l) {
			s.t.Errorf("the observation lacks %q:\n%s", l, s.obs.Text)
		}
	}
}

// tree is the element tree of an observation, without its header.
func tree(obs env.Observation) string {
	_, t, _ := strings.Cut(obs.Text, "\n\n")
	return t
}

// page serves body as the HTML of every path.
func page(body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, body)
	})
}

// TestGolden checks the observation of every page of the test site
// against testdata (which TestMatchesChromium checks against Chromium).
func TestGolden(t *testing.T) {
	paths := make([]string, 0, len(pages))
	for p := range pages {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		t.Run(p, func(t *testing.T) {
			s := open(t, site(), p, lite.Options{})
			file := filepath.Join("testdata", strings.ReplaceAll(strings.Trim(p, "/"), "/", "_")+".txt")
			if *update {
				if err := os.WriteFile(file, []byte(s.obs.Text+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run go test -update to write it)", err)
			}
			if got := s.obs.Text + "\n"; got != string(want) {
				t.Errorf("Reset(%s) observation differs from %s:\n%s", p, file, lineDiff(string(want), got))
			}
		})
	}
}

// TestRules covers each rule of pilot.js's tree, one page each.
func TestRules(t *testing.T) {
	for _, tc := range []struct {
		name, html, want string
	}{
		{"input and tag roles",
			`<input type=number value=3><input type=search placeholder=Find><input type=range><input type=email value=" a@b.c ">` +
				`<select><option>a</select><select multiple><option>b</select><textarea>t</textarea><input type=image alt=Go><input type=color>`,
			`[1] spinbutton value="3"
[2] searchbox "Find" value=""
[3] slider value="50"
[4] textbox value="a@b.c"
[5] combobox value="a"
  [6] option "a" selected
[7] listbox value=""
  [8] option "b"
[9] textbox value="t"
[10] button "Go"
[11] button value="#000000"`},
		{"explicit roles",
			`<div role="tab switch">T</div><div role="presentation"><h2>H</h2></div><div role="none">n</div>` +
				`<a>no href</a><a href="/x">yes</a><section aria-label="S">s</section><section>plain</section><div role=" ">blank</div>`,
			`[1] tab "T"
[2] heading "H" level=2
StaticText "n"
StaticText "no href"
[3] link "yes"
[4] region "S"
  StaticText "s"
StaticText "plain"
StaticText "blank"`},
		{"names",
			`<span id=a>Alpha</span><button aria-labelledby="a missing">x</button><button aria-label=" Close  dialog ">×</button>` +
				`<label for=f>Full name</label><input id=f><label>Email <input type=email></label><label for=f>Second label</label>` +
				`<img alt="Logo"><img alt="  "><input type=submit><input type=reset value="Clear"><fieldset><legend>Color</legend></fieldset>` +
				`<a href=/x>Red <b>mug</b>$9</a><input title="Titled"><input title="" placeholder="Ph"><table><caption>Cap</caption></table>`,
			`StaticText "Alpha"
[1] button "Alpha"
  StaticText "x"
[2] button "Close dialog"
  StaticText "×"
[3] textbox "Full name Second label" value=""
[4] textbox "Email" value=""
[5] img "Logo"
[6] img
[7] button "Submit"
[8] button "Clear"
[9] group "Color"
  [10] legend "Color"
[11] link "Red mug $9"
[12] textbox "Titled" value=""
[13] textbox "Ph" value=""
[14] table "Cap"
  StaticText "Cap"`},
		{"quiet content and labels",
			`<a href=/x>Link <span>text</span></a><a href=/y><img alt=Pic></a><h1>Title <a href=/z>inner</a></h1>` +
				`<label>Orphan</label><label>Keep <input type=checkbox> me <a href=/w>terms</a></label>`,
			`[1] link "Link text"
[2] link
  [3] img "Pic"
[4] heading "Title inner" level=1
  [5] link "inner"
[6] label
  StaticText "Orphan"
[7] checkbox "Keep me terms"
[8] link "terms"`},
		{"hidden",
			`<p hidden>h</p><p aria-hidden="true">a</p><input type=hidden name=x value=1><p style="color: red; display : none">d</p>` +
				`<div style="visibility:hidden">v <a href=/h>gone</a> <span style="visibility:visible"><a href=/v>back</a></span></div>` +
				`<dialog>closed</dialog><template><p>t</p></template><script>s()</script><style>p{}</style><svg><text>svg</text></svg>` +
				`<p hidden style="display:block">forced</p><p style="opacity:0">clear</p><p>shown</p>`,
			`[1] link "back"
[2] paragraph
  StaticText "forced"
[3] paragraph
  StaticText "shown"`},
		{"states",
			`<input value=v readonly required><input type=checkbox checked><input type=password value=s><input disabled>` +
				`<h3>T</h3><div role=button aria-expanded=false aria-disabled=true>B</div><div role=checkbox aria-checked=mixed>M</div>` +
				`<div role=option aria-selected=true>O</div><div role=heading aria-level=4>L</div>` +
				`<select><option>a<option selected>b<option disabled>c</select><select multiple><option selected>x<option selected>y</select>`,
			`[1] textbox value="v" readonly required
[2] checkbox checked
[3] textbox value="••••"
[4] textbox value="" disabled
[5] heading "T" level=3
[6] button "B" expanded=false disabled
[7] checkbox checked=mixed
  StaticText "M"
[8] option "O" selected
[9] heading "L" level=4
[10] combobox value="b"
  [11] option "a"
  [12] option "b" selected
  [13] option "c" disabled
[14] listbox value="x, y"
  [15] option "x" selected
  [16] option "y" selected`},
		{"clean",
			"<p>  a \t b\u00a0\u00a0c\u2003d \n</p><p>\"quoted\" back\\slash \x01</p><a href=/x> spaced \n link </a>",
			`[1] paragraph
  StaticText "a b c d"
[2] paragraph
  StaticText "\"quoted\" back\\slash \u0001"
[3] link "spaced link"`},
		{"limits",
			"<p>" + strings.Repeat("ab", 249) + "x😀tail</p><a href=/x>" + strings.Repeat("n", 301) + "</a>" +
				`<input value="` + strings.Repeat("v", 201) + `"><select><option>` + strings.Repeat("o", 201) + `</select>`,
			`[1] paragraph
  StaticText "` + strings.Repeat("ab", 249) + `x\ud83d…"
[2] link "` + strings.Repeat("n", 300) + `…"
[3] textbox value="` + strings.Repeat("v", 200) + `…"
[4] combobox value="` + strings.Repeat("o", 201) + `"
  [5] option "` + strings.Repeat("o", 200) + `…" selected`},
		{"empty", `<!-- nothing -->`, ``},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t, page(tc.html), "/", lite.Options{})
			want := tc.want
			if want == "" {
				want = "(the page is empty)"
			}
			if got := tree(s.obs); got != want {
				t.Errorf("tree of %s:\n%s", tc.html, lineDiff(want, got))
			}
		})
	}
}

func TestChoices(t *testing.T) {
	s := open(t, page(`<a href=/a>A</a><button disabled>Off</button><input type=checkbox aria-label=C>`+
		`<select aria-label=S><option>x<option disabled>y<option>z</select><input aria-label=T><div role=tab>Tab</div>`), "/", lite.Options{})
	want := []env.Action{
		env.A("click", "1"), env.A("click", "3"), env.A("select_option", "4", "x"), env.A("select_option", "4", "z"), env.A("click", "9"),
	}
	if !slices.EqualFunc(s.obs.Choices, want, env.Action.Equal) {
		t.Errorf("Choices = %v, want %v", s.obs.Choices, want)
	}
}

func TestHeader(t *testing.T) {
	s := open(t, site(), "/roles", lite.Options{})
	if s.obs.URL != host+"/roles" || s.obs.Title != "Roles page" || s.obs.Error != "" {
		t.Errorf("URL %q, title %q, error %q", s.obs.URL, s.obs.Title, s.obs.Error)
	}
	if want := "URL: " + host + "/roles\nTitle: Roles page\n\n[1] navigation\n"; !strings.HasPrefix(s.obs.Text, want) {
		t.Errorf("the observation starts with %q, want %q", s.obs.Text[:min(len(s.obs.Text), len(want))], want)
	}
	s.do(`click("999")`)
	if want := "URL: " + host + "/roles\nTitle: Roles page\nError: no element with id 999 on the page: use an id from the current observation\n\n[1] navigation\n"; !strings.HasPrefix(s.obs.Text, want) {
		t.Errorf("after a bad click the observation starts %q, want %q", s.obs.Text[:min(len(s.obs.Text), len(want))], want)
	}
	if strings.Contains(s.obs.Text, "Scroll:") {
		t.Errorf("the observation has a Scroll line; lite has no layout")
	}
	if sp := s.b.Spec(); sp.Name != "web-lite" || len(sp.Actions) == 0 || !slices.Equal(sp.Modalities, []string{"text"}) {
		t.Errorf("Spec() = %+v", sp)
	}
}

func TestFormGet(t *testing.T) {
	s := open(t, site(), "/form", lite.Options{})
	s.ok(`fill("` + s.id(`"Query"`) + `", "blue mug")`)
	s.has(`textbox "Query" value="blue mug" focused`)
	s.ok(`click("` + s.id(`"Gift"`) + `")`)
	s.ok(`click("` + s.id(`radio "Red"`) + `")`)
	s.has(`radio "Red" checked focused`, `radio "Blue"`+"\n")
	s.ok(`select_option("` + s.id(`"Size"`) + `", "large")`)
	s.has(`combobox "Size" value="Large" focused`)
	s.ok(`fill("` + s.id(`"Note"`) + `", "two\nlines")`)
	s.ok(`click("` + s.id(`button "Search"`) + `")`)
	want := host + "/echo?q=blue+mug&gift=on&wrap=yes&color=red&size=Large&note=two%0D%0Alines&n=1&token=t+1&go=1"
	if s.obs.URL != want {
		t.Errorf("URL after the submit = %s, want %s", s.obs.URL, want)
	}
	s.has(`StaticText "GET"`)
	if strings.Contains(s.obs.Text, "focused") {
		t.Errorf("a new page has a focused element:\n%s", s.obs.Text)
	}
}

func TestFormPost(t *testing.T) {
	s := open(t, site(), "/form", lite.Options{})
	s.ok(`fill("` + s.id(`"Post field"`) + `", "a b&c~é")`)
	s.ok(`press("Enter")`)
	if s.obs.URL != host+"/echo" {
		t.Errorf("URL after a post = %s", s.obs.URL)
	}
	s.has(`StaticText "POST"`, `StaticText "p=a+b%26c%7E%C3%A9"`)

	// A post answered by 303: the history has the GET it led to, not the post.
	s = open(t, site(), "/form", lite.Options{})
	s.ok(`fill("` + s.id(`"Query"`) + `", "x y")`)
	s.ok(`click("` + s.id(`button "Post it"`) + `")`)
	if want := host + "/echo?posted=q=x+y%26wrap=yes%26color=blue%26size=s%26note=%26n=1%26token=t+1%26alt=2"; s.obs.URL != want {
		t.Errorf("URL after post and 303 = %s, want %s", s.obs.URL, want)
	}
	s.ok(`go_back()`)
	if s.obs.URL != host+"/form" {
		t.Errorf("go_back after post and 303 went to %s, want the form", s.obs.URL)
	}
	s.has(`textbox "Query" value="x y"`) // the form state comes back
	s.ok(`go_forward()`)
	s.has(`StaticText "GET"`)
}

func TestImplicitSubmission(t *testing.T) {
	s := open(t, site(), "/form", lite.Options{})
	// One text field and no button: Enter submits.
	s.ok(`fill("` + s.id(`"Only field"`) + `", "solo")`)
	s.ok(`press("Enter")`)
	if s.obs.URL != host+"/echo?only=solo" {
		t.Errorf("Enter in a lone field went to %s", s.obs.URL)
	}
	s.ok(`go_back()`)
	// Two fields and no button: nothing.
	s.ok(`fill("` + s.id(`"One"`) + `", "a")`)
	s.ok(`press("Enter")`)
	// A disabled default button: nothing.
	s.ok(`fill("` + s.id(`textbox "X"`) + `", "a")`)
	s.ok(`press("Enter")`)
	if s.obs.URL != host+"/form" {
		t.Errorf("Enter submitted a form it must not: %s", s.obs.URL)
	}
	// The default button's name and value go with the form.
	s.ok(`fill("` + s.id(`"Query"`) + `", "enter")`)
	s.ok(`press("Enter")`)
	if !strings.HasPrefix(s.obs.URL, host+"/echo?q=enter&") || !strings.HasSuffix(s.obs.URL, "&go=1") {
		t.Errorf("Enter in the search form went to %s", s.obs.URL)
	}
}

func TestValidation(t *testing.T) {
	s := open(t, site(), "/form", lite.Options{})
	s.ok(`click("` + s.id(`button "Check"`) + `")`)
	s.has(`textbox "Required" value="" required focused`)
	s.ok(`fill("` + s.id(`"Required"`) + `", "x")`)
	s.ok(`fill("` + s.id(`"Mail"`) + `", "not mail")`)
	s.ok(`click("` + s.id(`button "Check"`) + `")`)
	s.has(`textbox "Mail" value="not mail" focused`)
	s.ok(`fill("` + s.id(`"Mail"`) + `", "a@b.c")`)
	s.ok(`click("` + s.id(`button "Check"`) + `")`)
	if s.obs.URL != host+"/echo?req=x&em=a%40b.c" {
		t.Errorf("URL = %s", s.obs.URL)
	}
}

func TestRadios(t *testing.T) {
	s := open(t, page(`<form><input type=radio name=c value=1 aria-label=A1><input type=radio name=c value=2 aria-label=A2 checked></form>`+
		`<form><input type=radio name=c value=1 aria-label=B1 checked></form><input type=radio name=c aria-label=C1 checked>`), "/", lite.Options{})
	s.ok(`click("2")`)
	if got, want := tree(s.obs), "[1] form\n  [2] radio \"A1\" checked focused\n  [3] radio \"A2\"\n[4] form\n  [5] radio \"B1\" checked\n[6] radio \"C1\" checked"; got != want {
		t.Errorf("after clicking A1:\n%s", lineDiff(want, got))
	}
	s.ok(`click("2")`)
	s.has(`[2] radio "A1" checked focused`)
	s.ok(`press("Tab")`)
	s.has(`[5] radio "B1" checked focused`)
}

func TestLabelClick(t *testing.T) {
	s := open(t, page(`<label><img alt=Pic> <input type=checkbox> Keep</label><label for=t>Name</label><p>x</p><input id=t>`), "/", lite.Options{})
	s.ok(`click("1")`) // the picture inside the label clicks its checkbox
	s.has(`[2] checkbox "Keep" checked focused`)
	s.ok(`click("3")`) // a paragraph takes the focus away
	s.has(`[2] checkbox "Keep" checked` + "\n")
}

func TestRedirects(t *testing.T) {
	mux := site()
	mux.HandleFunc("/r307", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/echo?kept=1", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	mux.HandleFunc("/post307", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `<!doctype html><form method=post action=/r307><input name=a value=b aria-label=A><button>Go</button></form><a href=/loop>Loop</a>`)
	})
	s := open(t, mux, "/redirect", lite.Options{})
	if s.obs.URL != host+"/echo?from=1#top" {
		t.Errorf("after 302 and 301: URL %s, want /echo?from=1#top", s.obs.URL)
	}
	s = open(t, mux, "/post307", lite.Options{})
	s.ok(`click("3")`)
	s.has(`StaticText "POST"`, `StaticText "kept=1"`, `StaticText "a=b"`)
	s.ok(`go_back()`)
	s.do(`click("4")`)
	if s.obs.Error != "the page did not load: net::ERR_TOO_MANY_REDIRECTS" || s.obs.URL != host+"/post307" {
		t.Errorf("a redirect loop: URL %s, error %q", s.obs.URL, s.obs.Error)
	}
}

func TestHistory(t *testing.T) {
	s := open(t, site(), "/form", lite.Options{})
	s.ok(`fill("` + s.id(`"Query"`) + `", "kept")`)
	s.ok(`click("` + s.id(`link "Link"`) + `")`)
	s.ok(`go_back()`)
	if s.obs.URL != host+"/form" {
		t.Fatalf("go_back went to %s", s.obs.URL)
	}
	s.has(`textbox "Query" value="kept"`+"\n", `[1] form`)
	s.ok(`go_forward()`)
	if s.obs.URL != host+"/echo?from=link" {
		t.Errorf("go_forward went to %s", s.obs.URL)
	}
	if s.do(`go_forward()`); s.obs.Error != "go_forward: there is no later page in this tab's history" {
		t.Errorf("go_forward at the end: error %q", s.obs.Error)
	}
	s.ok(`go_back()`)
	s.ok(`go_back()`)
	if s.obs.URL != "about:blank" || !strings.HasSuffix(s.obs.Text, "\n\n(the page is empty)") {
		t.Errorf("the first page of the history is not about:blank:\n%s", s.obs.Text)
	}
	if s.do(`go_back()`); s.obs.Error != "go_back: there is no earlier page in this tab's history" {
		t.Errorf("go_back at the start: error %q", s.obs.Error)
	}

	// A link to the page itself replaces its entry.
	s = open(t, site(), "/form", lite.Options{})
	s.ok(`click("` + s.id(`"Same page"`) + `")`)
	s.ok(`go_back()`)
	if s.obs.URL != "about:blank" {
		t.Errorf("after a link to the same page, go_back went to %s, want about:blank", s.obs.URL)
	}

	// A fragment link keeps the document (and its state) and adds an entry.
	s = open(t, site(), "/form", lite.Options{})
	s.ok(`fill("` + s.id(`"Query"`) + `", "same doc")`)
	s.ok(`click("` + s.id(`"Fragment"`) + `")`)
	if s.obs.URL != host+"/form#sec" {
		t.Errorf("fragment link: URL %s", s.obs.URL)
	}
	s.has(`value="same doc"`)
	s.ok(`go_back()`)
	if s.obs.URL != host+"/form" {
		t.Errorf("go_back from a fragment: URL %s", s.obs.URL)
	}
}

func TestIDs(t *testing.T) {
	s := open(t, site(), "/form", lite.Options{})
	before := idLines(s.obs.Text)
	s.ok(`fill("2", "x")`)
	s.ok(`click("7")`)
	if after := idLines(s.obs.Text); !slices.Equal(before, after) {
		t.Errorf("ids changed on the same page:\n%v\n%v", before, after)
	}
	s.ok(`click("` + s.id(`link "Link"`) + `")`)
	if ids := idLines(s.obs.Text); len(ids) == 0 || !strings.HasPrefix(ids[0], "1 ") {
		t.Errorf("ids on a new page do not start at 1: %v", ids)
	}
}

// idLines lists "id role" for each element line.
func idLines(text string) []string {
	var out []string
	re := regexp.MustCompile(`(?m)^\s*\[(\d+)\] (\S+)`)
	for _, m := range re.FindAllStringSubmatch(text, -1) {
		out = append(out, m[1]+" "+m[2])
	}
	return out
}

func TestFocusAndKeys(t *testing.T) {
	s := open(t, site(), "/tabs", lite.Options{})
	var got []string
	for range 8 {
		s.ok(`press("Tab")`)
		got = append(got, focusedLine(s.obs.Text))
	}
	// The span with tabindex=0 takes the focus (and is a clickable); past
	// the last stop the focus leaves the page.
	want := []string{`[1] link "First"`, `[2] radio "R1"`, `[5] radio "S2" checked`, `[7] clickable "Span stop"`, `[8] combobox "Sel" value="a"`,
		`[10] textbox "TA" value=""`, `[11] link "Last"`, ``}
	if !slices.Equal(got, want) {
		t.Errorf("Tab stops:\n%q\nwant\n%q", got, want)
	}
	s = open(t, site(), "/form", lite.Options{})
	q := s.id(`"Query"`)
	s.ok(`fill("` + q + `", "ab")`)
	for _, k := range []string{"c", "Backspace", "Shift+X", "Space"} {
		s.ok(`press("` + k + `")`)
	}
	s.has(`textbox "Query" value="abX" focused`)
	s.ok(`press("Control+a")`)
	s.ok(`press("z")`)
	s.has(`textbox "Query" value="z" focused`)
	s.ok(`press("Tab")`)
	s.ok(`press(" ")`)
	s.has(`checkbox "Gift" checked focused`)
	s.ok(`press("Escape")`)
	if s.do(`press("Hyper+x")`); !strings.Contains(s.obs.Error, `unknown modifier "Hyper"`) {
		t.Errorf("press(Hyper+x): error %q", s.obs.Error)
	}
}

func focusedLine(text string) string {
	for line := range strings.SplitSeq(text, "\n") {
		if strings.HasSuffix(line, " focused") {
			return strings.TrimSuffix(strings.TrimSpace(line), " focused")
		}
	}
	return ""
}

func TestErrors(t *testing.T) {
	s := open(t, site(), "/form", lite.Options{})
	link, query, size := s.id(`link "Link"`), s.id(`"Query"`), s.id(`"Size"`)
	small := s.id(`option "Small"`)
	for _, tc := range []struct{ action, want string }{
		{`click("999")`, "no element with id 999 on the page: use an id from the current observation"},
		{`click("02")`, "no element with id 02 on the page: use an id from the current observation"},
		{`fill("` + link + `", "x")`, "element " + link + " is a link, not a text field: fill works on text fields and on date, time, colour and range inputs"},
		{`fill("` + s.id(`"Disabled field"`) + `", "x")`, "element " + s.id(`"Disabled field"`) + " is disabled"},
		{`select_option("` + query + `", "x")`, "element " + query + " is a textbox, not a select: use click for other elements"},
		{`select_option("` + size + `", "Huge")`, "select " + size + ` has no option "Huge": its options are "Small", "Large"`},
		{`click("` + small + `")`, "element " + small + " is hidden: it cannot be used now"},
		{`click("` + s.id(`option "a"`) + `")`, "element " + s.id(`option "a"`) + " is an option: use select_option on its select"},
		{`no_such_action()`, `unknown action "no_such_action": web-lite knows click, fill, select_option, press, scroll, goto, go_back, go_forward, hover, double_click, drag, upload, wait, wait_for, noop, stop`},
		{`click()`, "click takes 1 argument(s), got 0 argument(s): write click(id)"},
		{`goto("/relative")`, `goto "/relative": not an absolute URL: write it with http:// or https://`},
		{`goto("ftp://x/")`, `goto "ftp://x/": the scheme ftp is not supported (use http or https)`},
		{`press("")`, `press "": no key given (e.g. Enter, Tab, ArrowDown, a)`},
	} {
		st := s.do(tc.action)
		if st.Obs.Error != tc.want {
			t.Errorf("%s: error %q, want %q", tc.action, st.Obs.Error, tc.want)
		}
		if st.Obs.URL != host+"/form" || !strings.Contains(st.Obs.Text, "\nError: "+tc.want+"\n\n[1] form\n") || st.Done() {
			t.Errorf("%s: the page did not stay as it was with the error:\n%s", tc.action, st.Obs.Text)
		}
	}
	s.ok(`hover("` + link + `")`)
	s.ok(`scroll("down")`)
	s.ok(`scroll("up", "` + link + `")`)
	if s.do(`scroll("down", "999")`); s.obs.Error == "" {
		t.Errorf("scroll of an unknown element: no error")
	}
}

func TestOrigin(t *testing.T) {
	mux := site()
	mux.HandleFunc("/out", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `<a href="http://other.test/x">Away</a><form action="http://other.test/f"><button>Send away</button></form><a href="/redirect-out">Bounce</a><a href="javascript:void(0)">JS</a>`)
	})
	mux.HandleFunc("/redirect-out", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://other.test/", http.StatusFound)
	})
	opts := lite.Options{Origin: host}
	s := open(t, mux, "/out", opts)
	const away = "http://other.test is outside the allowed origin (http://site.test)"
	for _, tc := range []struct{ action, want string }{
		{`click("1")`, "click 1 refused: the link leaves the allowed origin: " + away},
		{`click("3")`, "navigation refused: " + away},
		{`click("4")`, "navigation refused: " + away},
		{`goto("http://other.test/")`, "goto refused: " + away},
		{`click("5")`, ""},
	} {
		if s.do(tc.action); s.obs.Error != tc.want || s.obs.URL != host+"/out" {
			t.Errorf("%s: URL %s, error %q, want %q", tc.action, s.obs.URL, s.obs.Error, tc.want)
		}
	}
	s.ok(`goto("` + host + `/echo")`)

	b := lite.New(mux, opts)
	if _, err := b.Reset(t.Context(), env.Task{StartURL: "http://other.test/"}); err == nil || !strings.Contains(err.Error(), away) {
		t.Errorf("Reset off the origin = %v, want an error naming the origin", err)
	}
	if _, err := b.Reset(t.Context(), env.Task{}); err == nil || !strings.Contains(err.Error(), "StartURL") {
		t.Errorf("Reset without a StartURL = %v", err)
	}
	if _, err := b.Reset(t.Context(), env.Task{StartURL: "/relative"}); err == nil {
		t.Errorf("Reset with a relative StartURL = nil error")
	}
	if _, err := lite.New(mux, lite.Options{Origin: "site.test"}).Reset(t.Context(), env.Task{StartURL: host + "/"}); err == nil || !strings.Contains(err.Error(), "origin") {
		t.Errorf("Reset with a bad Origin = %v", err)
	}
	// Without an Origin, every host goes to the handler.
	s = open(t, mux, "/out", lite.Options{})
	s.ok(`click("1")`)
	if s.obs.URL != "http://other.test/x" || s.obs.Title != "" || !strings.Contains(s.obs.Text, "404 page not found") {
		t.Errorf("off-site link without an origin:\n%s", s.obs.Text)
	}
}

func TestStop(t *testing.T) {
	b := lite.New(site(), lite.Options{})
	ctx := t.Context()
	if _, err := b.Step(ctx, env.A("noop")); !errors.Is(err, env.ErrNotReset) {
		t.Errorf("Step before Reset = %v, want ErrNotReset", err)
	}
	if _, err := b.Reset(ctx, env.Task{StartURL: host + "/form", Answer: "Blue Mug"}); err != nil {
		t.Fatal(err)
	}
	st, err := b.Step(ctx, env.A("stop", " blue  mug "))
	if err != nil || !st.Terminated || st.Truncated || st.Reward != 1 || st.Reason != "the agent stopped" || st.Info["answer"] != " blue  mug " {
		t.Errorf("stop = %+v, %v", st, err)
	}
	if _, err := b.Step(ctx, env.A("noop")); !errors.Is(err, env.ErrEpisodeOver) {
		t.Errorf("Step after stop = %v, want ErrEpisodeOver", err)
	}
	if _, err := b.Reset(ctx, env.Task{StartURL: host + "/form", Answer: "x"}); err != nil {
		t.Fatal(err)
	}
	if st, _ := b.Step(ctx, env.A("stop", "y")); !st.Terminated || st.Reward != 0 {
		t.Errorf("a wrong answer: %+v", st)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Step(ctx, env.A("noop")); !errors.Is(err, env.ErrClosed) {
		t.Errorf("Step after Close = %v", err)
	}
}

func TestConformance(t *testing.T) {
	envtest.Check(t, lite.New(site(), lite.Options{Origin: host}), env.Task{StartURL: host + "/form"})
}

func TestResponses(t *testing.T) {
	mux := site()
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(strings.Repeat("<p>x</p>", 1<<14))
		for range (lite.MaxBodyBytes / len(chunk)) + 2 {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/panic", func(w http.ResponseWriter, r *http.Request) { panic("boom") })
	mux.HandleFunc("/links", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `<a href=/big>Big</a><a href=/panic>Panic</a><a href=/missing>Missing</a><a href=/nocontent>None</a><a href=/text>Text</a><a href=/echo download>Get</a>`)
	})
	s := open(t, mux, "/links", lite.Options{})
	for _, tc := range []struct{ click, url, err, has string }{
		{"1", host + "/links", "the page did not load: the response of http://site.test/big is larger than 8 MiB, the lite browser's limit", `[1] link "Big"`},
		{"2", host + "/links", "the page did not load: net::ERR_EMPTY_RESPONSE (the handler panicked: boom)", `[2] link "Panic"`},
		{"4", host + "/links", "", `[4] link "None" focused`},
		{"6", host + "/links", "", `[6] link "Get" focused`},
		{"3", host + "/missing", "", `[1] heading "404" level=1`},
	} {
		s.do(`click("` + tc.click + `")`)
		if s.obs.URL != tc.url || s.obs.Error != tc.err || !strings.Contains(s.obs.Text, tc.has) {
			t.Errorf("click(%s): URL %s, error %q, want %s, %q and %q in:\n%s", tc.click, s.obs.URL, s.obs.Error, tc.url, tc.err, tc.has, s.obs.Text)
		}
	}
	s = open(t, mux, "/text", lite.Options{})
	if got := tree(s.obs); got != `StaticText "plain text second line"` || s.obs.Title != "" {
		t.Errorf("a text page: title %q, tree %q", s.obs.Title, got)
	}
}

func TestCancel(t *testing.T) {
	mux := site()
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	s := open(t, mux, "/form", lite.Options{})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	_, err := s.b.Step(ctx, env.A("goto", host+"/slow"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Step with a handler that outlives the context = %v, want DeadlineExceeded", err)
	}
	s.ok(`noop()`)
	if s.obs.URL != host+"/form" {
		t.Errorf("after a cancelled step the page is %s", s.obs.URL)
	}
}

func TestCookies(t *testing.T) {
	s := open(t, site(), "/cookie?set=v1", lite.Options{})
	s.has(`StaticText "cookie none"`)
	s.ok(`click("2")`)
	s.has(`StaticText "cookie v1"`)
	if _, err := s.b.Reset(t.Context(), env.Task{StartURL: host + "/cookie"}); err != nil {
		t.Fatal(err)
	}
	s.ok(`noop()`)
	s.has(`StaticText "cookie none"`) // a new episode has no cookies
}

func TestFrames(t *testing.T) {
	s := open(t, site(), "/frames", lite.Options{})
	s.has("[2] iframe \"Srcdoc frame\"\n  [3] paragraph\n    StaticText \"inner doc\"\n  [4] link \"frame link\"",
		"[5] iframe \"Same origin\"\n  [6] paragraph\n    StaticText \"GET\"",
		`[10] iframe "Blank"`+"\n", `[11] iframe "Elsewhere" (cross-origin, not shown)`)
	s.ok(`click("4")`) // the link navigates its frame, not the page
	if s.obs.URL != host+"/frames" {
		t.Errorf("a frame's link moved the page to %s", s.obs.URL)
	}
	s.has("[2] iframe \"Srcdoc frame\"\n  [13] paragraph\n    StaticText \"GET\"") // new elements, new ids
}

func TestTargets(t *testing.T) {
	mux := site()
	mux.HandleFunc("/targets", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `<!doctype html><a href="/echo?to=frame" target="f">Into the frame</a><a href="/echo?to=tab" target="_blank">New tab</a>`+
			`<a href="/echo?to=top" target="_top">Top</a><iframe name="f" srcdoc="<p>frame</p>" title="F"></iframe>`)
	})
	s := open(t, mux, "/targets", lite.Options{})
	s.ok(`click("1")`)
	s.has("[4] iframe \"F\"\n  [6] paragraph\n    StaticText \"GET\"\n  [7] paragraph\n    StaticText \"to=frame\"")
	s.ok(`click("2")`) // a new tab: the agent's tab stays
	if s.obs.URL != host+"/targets" || focusedLine(s.obs.Text) != `[2] link "New tab"` {
		t.Errorf("a link to a new tab: URL %s\n%s", s.obs.URL, s.obs.Text)
	}
	s.ok(`click("3")`)
	if s.obs.URL != host+"/echo?to=top" {
		t.Errorf("target=_top: URL %s", s.obs.URL)
	}
}

func TestEnctypes(t *testing.T) {
	mux := site()
	mux.HandleFunc("/enctypes", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `<!doctype html><form method=post action=/echo enctype="multipart/form-data"><input name="a" value="1 2" aria-label=A>`+
			`<input type=file name=f aria-label=F><button>Multipart</button></form>`+
			`<form method=post action=/echo enctype="text/plain"><textarea name=t aria-label=T>x</textarea><button>Plain</button></form>`)
	})
	s := open(t, mux, "/enctypes", lite.Options{})
	s.ok(`click("4")`)
	want := "--" + "----PilotLiteFormBoundary7MA4YWxkTrZu0gW\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1 2\r\n"
	if !strings.Contains(s.obs.Text, jsonText(want)) || !strings.Contains(s.obs.Text, `name=\"f\"; filename=\"\"`) {
		t.Errorf("multipart body:\n%s", s.obs.Text)
	}
	s.ok(`go_back()`)
	s.ok(`fill("6", "two\nlines")`)
	s.ok(`click("7")`)
	s.has(`StaticText "t=two lines"`) // "t=two\r\nlines\r\n", cleaned
}

// jsonText is how the tree quotes s (after cleaning).
func jsonText(s string) string {
	b, _ := json.Marshal(strings.Join(strings.Fields(s), " "))
	return strings.Trim(string(b), `"`)
}

// FuzzTree feeds any bytes to the browser as a page: it must not panic,
// and the tree must be well formed: ids counting from 1 in order, quoted
// names and texts that parse, nesting one level at a time, choices that
// fit the spec and name ids of the page.
func FuzzTree(f *testing.F) {
	for _, p := range pages {
		f.Add([]byte(p))
	}
	for _, s := range []string{"", "<", "<a href=x>", "<select><option>", "\x00\xff<p>\xc3", "<table><td><form><input>", "<label for=a><input id=a><label>", strings.Repeat("<div>", 300)} {
		f.Add([]byte(s))
	}
	line := regexp.MustCompile(`^((?:  )*)(?:\[(\d+)\] (\S.*)|StaticText ("(?:[^"\\]|\\.)*"))$`)
	f.Fuzz(func(t *testing.T, data []byte) {
		// The fuzzing engine has no timeout: a page that hangs the browser
		// crashes the worker, which records the input.
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				panic(fmt.Sprintf("the browser hangs on %q", data))
			}
		}()
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.Write(data)
		})
		b := lite.New(h, lite.Options{Origin: host})
		obs, err := b.Reset(t.Context(), env.Task{StartURL: host + "/"})
		if err != nil {
			t.Fatal(err)
		}
		checkTree(t, b.Spec(), obs, line)
		// A few actions on what the page offers.
		for i, c := range obs.Choices {
			if i >= 3 {
				break
			}
			st, err := b.Step(t.Context(), c)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(st.Obs.Text, "URL: ") {
				t.Fatalf("Step(%s) observation:\n%s", c, st.Obs.Text)
			}
		}
		for _, a := range []env.Action{env.A("fill", "1", "x\ny"), env.A("press", "Enter"), env.A("press", "Tab"), env.A("go_back")} {
			if _, err := b.Step(t.Context(), a); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func checkTree(t *testing.T, spec env.Spec, obs env.Observation, line *regexp.Regexp) {
	t.Helper()
	tr := tree(obs)
	if tr == "(the page is empty)" {
		return
	}
	ids := map[string]bool{}
	prevDepth := 0
	next := 1
	for i, l := range strings.Split(tr, "\n") {
		m := line.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("line %d %q is neither an element nor a text", i+1, l)
		}
		depth := len(m[1]) / 2
		if depth > prevDepth+1 || i == 0 && depth != 0 {
			t.Fatalf("line %d %q is nested %d levels below the line before", i+1, l, depth-prevDepth)
		}
		prevDepth = depth
		q := m[4]
		if m[2] != "" {
			if m[2] != strconv.Itoa(next) {
				t.Fatalf("line %d has id %s, want %d (ids count up in walk order)", i+1, m[2], next)
			}
			next++
			ids[m[2]] = true
			_, rest, _ := strings.Cut(m[3], " ")
			q = jsonPrefix.FindString(rest)
		}
		var s string
		if err := json.Unmarshal([]byte(q), &s); q != "" && err != nil {
			t.Fatalf("line %d: %s is not a JSON string: %v", i+1, q, err)
		}
	}
	for _, c := range obs.Choices {
		if err := spec.Validate(c); err != nil || !ids[c.Arg(0)] {
			t.Fatalf("choice %s: %v (ids %v)", c, err, ids)
		}
	}
}

// jsonPrefix matches the JSON string at the start of a text.
var jsonPrefix = regexp.MustCompile(`^"(?:[^"\\]|\\.)*"`)

// shopResults opens a results page of the shop in lite.
func shopResults(b testing.TB) (*lite.Browser, string, string) {
	b.Helper()
	store, err := shop.NewStore(shop.StoreOptions{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	tasks, _ := store.Tasks().Split("test")
	ep, err := store.StartEpisode(tasks[0].ID, "http://shop.test")
	if err != nil {
		b.Fatal(err)
	}
	br := lite.New(store, lite.Options{Origin: "http://shop.test"})
	if _, err := br.Reset(b.Context(), env.Task{StartURL: ep.StartURL}); err != nil {
		b.Fatal(err)
	}
	s := &session{t: b, b: br}
	s.ok(`noop()`)
	s.ok(`fill("` + s.id("searchbox") + `", "black")`)
	s.ok(`click("` + s.id(`button "Search"`) + `")`)
	next := s.id(`link "Next >"`)
	s.ok(`click("` + next + `")`)
	return br, next, s.id(`link "< Prev"`)
}

// BenchmarkStep is one step on a results page of the shop (ten results):
// observe only (noop), and a click that loads the next page of results.
func BenchmarkStep(b *testing.B) {
	b.Run("noop", func(b *testing.B) {
		br, _, _ := shopResults(b)
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := br.Step(ctx, env.A("noop")); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("click", func(b *testing.B) {
		br, next, prev := shopResults(b)
		ctx := context.Background()
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			// On page 2, "Next >" and "< Prev" keep their ids on pages 1 to 3.
			id := prev
			if i%2 == 1 {
				id = next
			}
			i++
			st, err := br.Step(ctx, env.A("click", id))
			if err != nil || st.Obs.Error != "" {
				b.Fatalf("%v %q", err, st.Obs.Error)
			}
		}
	})
}

func Example() {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><title>Hello</title><h1>Hi</h1><form action=/greet><input name=who aria-label=Name><button>Greet</button></form>`)
	})
	mux.HandleFunc("/greet", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><title>Greeting</title><p>Hello, %s!</p>`, r.URL.Query().Get("who"))
	})
	b := lite.New(mux, lite.Options{Origin: "http://example.test"})
	defer b.Close()
	ctx := context.Background()
	obs, _ := b.Reset(ctx, env.Task{StartURL: "http://example.test/"})
	fmt.Println(obs.Text)
	b.Step(ctx, env.A("fill", "3", "Ada"))
	st, _ := b.Step(ctx, env.A("click", "4"))
	fmt.Println(st.Obs.Text)
	// Output:
	// URL: http://example.test/
	// Title: Hello
	//
	// [1] heading "Hi" level=1
	// [2] form
	//   [3] textbox "Name" value=""
	//   [4] button "Greet"
	// URL: http://example.test/greet?who=Ada
	// Title: Greeting
	//
	// [1] paragraph
	//   StaticText "Hello, Ada!"
}

// TestObsBudget: a budget cuts lite's tree from the top of the page (its
// viewport), and scroll moves through the rest.
func TestObsBudget(t *testing.T) {
	var b strings.Builder
	for i := range 300 {
		fmt.Fprintf(&b, `<p><a href="/r/%d">link %d</a></p>`, i, i)
	}
	s := open(t, page(b.String()), "/", lite.Options{Obs: web.ObsOptions{MaxTokens: 300}})
	s.has(`link "link 0"`, `lines below`)
	if n := env.EstimateTokens(s.obs.Text); n > 300 {
		t.Errorf("observation of %d tokens, budget 300", n)
	}
	s.ok(`scroll("down")`)
	s.has(`lines above`)
	if strings.Contains(s.obs.Text, `link "link 0"`) {
		t.Errorf("scroll down still shows the first link:\n%s", s.obs.Text)
	}
	s.ok(`scroll("up")`)
	s.has(`link "link 0"`)
	if b := lite.New(page("x"), lite.Options{Obs: web.ObsOptions{MaxTokens: 5}}); true {
		if _, err := b.Reset(t.Context(), env.Task{StartURL: host + "/"}); err == nil || !strings.Contains(err.Error(), "at least") {
			t.Errorf("a budget of 5 tokens: %v, want an error", err)
		}
	}
}
