package lite_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/env/web"
	"github.com/pilotkit/pilot/env/web/lite"
	"github.com/pilotkit/pilot/env/web/webtest"
)

// TestMain fails the run when the Chromium comparison leaks a browser
// profile directory or process, and stops the shared browser.
func TestMain(m *testing.M) { webtest.Main(m) }

// scrollLine is env/web's Scroll line, which lite (without layout) does
// not have.
var scrollLine = regexp.MustCompile(`(?m)^Scroll: [0-9]+ of [0-9]+ px\n`)

// webEnvs are env/web Envs on the test binary's shared browser
// (webtest.Browser), lent to one scenario after another.
var webEnvs = webtest.NewPool(func() (*web.Env, error) {
	u, err := webtest.Browser(func(ctx context.Context) (string, func() error, error) {
		return web.Launch(ctx, web.Options{})
	})
	if err != nil {
		return nil, err
	}
	return web.New(web.Options{BrowserURL: u})
})

// newWeb returns an Env of webEnvs for t; it skips t without Chromium.
func newWeb(t *testing.T) *web.Env {
	t.Helper()
	w, err := webEnvs.Get(t)
	if errors.Is(err, web.ErrChromeNotFound) {
		t.Skipf("no Chromium: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestMatchesChromium runs every scenario of the site (see site_test.go)
// in Chromium (env/web with pilot.js) and in lite, and checks that each
// observation is the same: text, URL, title, error, choices. The
// scenarios run in parallel, on pooled Envs.
func TestMatchesChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("the comparison with Chromium takes half a minute")
	}
	t.Parallel()
	srv := httptest.NewServer(site())
	t.Cleanup(srv.Close)
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			w := newWeb(t)
			l := lite.New(site(), lite.Options{})
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			task := env.Task{StartURL: srv.URL + sc.start}
			wo, err := w.Reset(ctx, task)
			if err != nil {
				t.Fatalf("web Reset: %v", err)
			}
			lo, err := l.Reset(ctx, task)
			if err != nil {
				t.Fatalf("lite Reset: %v", err)
			}
			sameObs(t, "Reset", wo, lo, sc.racyFocus...)
			for _, s := range sc.actions {
				a, err := env.ParseAction(s)
				if err != nil {
					t.Fatal(err)
				}
				ws, err := w.Step(ctx, a)
				if err != nil {
					t.Fatalf("web Step(%s): %v", a, err)
				}
				ls, err := l.Step(ctx, a)
				if err != nil {
					t.Fatalf("lite Step(%s): %v", a, err)
				}
				sameObs(t, a.String(), ws.Obs, ls.Obs, sc.racyFocus...)
				if ws.Terminated != ls.Terminated || ws.Reward != ls.Reward {
					t.Errorf("%s: web terminated %v reward %v, lite %v %v", a, ws.Terminated, ws.Reward, ls.Terminated, ls.Reward)
				}
				if ws.Done() {
					break
				}
			}
		})
	}
}

func sameObs(t *testing.T, what string, w, l env.Observation, racyFocus ...string) {
	t.Helper()
	wt := scrollLine.ReplaceAllString(w.Text, "")
	lt := l.Text
	if len(racyFocus) > 0 {
		wt, lt = unfocus(wt, racyFocus), unfocus(lt, racyFocus)
	}
	if wt != lt {
		t.Fatalf("%s: the observations differ\n%s", what, lineDiff(wt, lt))
	}
	if w.URL != l.URL || w.Title != l.Title || w.Error != l.Error {
		t.Errorf("%s: web URL %q title %q error %q; lite URL %q title %q error %q", what, w.URL, w.Title, w.Error, l.URL, l.Title, l.Error)
	}
	var wc []env.Action
	for _, c := range w.Choices {
		if c.Name != "scroll" {
			wc = append(wc, c)
		}
	}
	if !slices.EqualFunc(wc, l.Choices, env.Action.Equal) {
		t.Errorf("%s: web choices %v\nlite choices %v", what, wc, l.Choices)
	}
}

func lineDiff(web, lite string) string {
	wl, ll := strings.Split(web, "\n"), strings.Split(lite, "\n")
	var b strings.Builder
	for i := range max(len(wl), len(ll)) {
		var w, l string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(ll) {
			l = ll[i]
		}
		if w != l {
			fmt.Fprintf(&b, "line %d:\n  web:  %s\n  lite: %s\n", i+1, w, l)
		}
	}
	return b.String() + "--- web:\n" + web + "\n--- lite:\n" + lite
}

// unfocus drops the focused state from the lines that name one of names.
func unfocus(text string, names []string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		for _, n := range names {
			if strings.Contains(l, n) {
				lines[i] = strings.Replace(l, " focused", "", 1)
			}
		}
	}
	return strings.Join(lines, "\n")
}
