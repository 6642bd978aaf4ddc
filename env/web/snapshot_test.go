package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pilotkit/pilot/env"
)

// replaySite serves pages for the replay tests: a cookie set by a click,
// the same with local storage (which a snapshot does not keep), and a
// page that is different at every load.
func replaySite(t testing.TB) *httptest.Server {
	mux := http.NewServeMux()
	page := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `<!doctype html><html><head><title>Replay</title></head><body>`+body+`</body></html>`)
		}
	}
	mux.HandleFunc("/cookie", page(`<p id="c"></p><input aria-label="Name"><button onclick="document.cookie='k=v; path=/'; show()">Remember</button>
<script>function show(){document.getElementById('c').textContent='cookie: ['+document.cookie+']'} show()</script>`))
	mux.HandleFunc("/storage", page(`<p id="s"></p><button onclick="localStorage.setItem('k','v'); show()">Remember</button>
<script>function show(){document.getElementById('s').textContent='storage: ['+(localStorage.getItem('k')||'')+']'} show()</script>`))
	mux.HandleFunc("/random", page(`<p id="r"></p><script>document.getElementById('r').textContent='lucky number '+Math.random()</script>`))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func mustStep(t testing.TB, e *Env, a env.Action) env.Step {
	t.Helper()
	st, err := e.Step(context.Background(), a)
	if err != nil || st.Obs.Error != "" {
		t.Fatalf("Step(%v) = %v, %q", a, err, st.Obs.Error)
	}
	return st
}

// A replay restore brings back the page's fields and the context's
// cookies: a cookie set after the snapshot is gone, a field typed before
// it is typed again.
func TestReplayRestoresCookiesAndFields(t *testing.T) {
	t.Parallel()
	srv := replaySite(t)
	e := pooledEnv(t)
	obs, err := e.Reset(t.Context(), env.Task{StartURL: srv.URL + "/cookie"})
	if err != nil {
		t.Fatal(err)
	}
	id := func(obs env.Observation, s string) string {
		for line := range strings.SplitSeq(obs.Text, "\n") {
			if strings.Contains(line, s) {
				return line[strings.Index(line, "[")+1 : strings.Index(line, "]")]
			}
		}
		t.Fatalf("no %q in\n%s", s, obs.Text)
		return ""
	}
	st := mustStep(t, e, env.A("fill", id(obs, `textbox "Name"`), "Ada"))
	snap, err := e.Snapshot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	st = mustStep(t, e, env.A("click", id(st.Obs, `button "Remember"`)))
	if !strings.Contains(st.Obs.Text, "cookie: [k=v]") {
		t.Fatalf("the click set no cookie:\n%s", st.Obs.Text)
	}
	if err := e.Restore(t.Context(), snap); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	again := mustStep(t, e, env.A("noop"))
	if !strings.Contains(again.Obs.Text, "cookie: []") || !strings.Contains(again.Obs.Text, `value="Ada"`) {
		t.Errorf("after Restore the page reads\n%s\nwant no cookie and the name typed", again.Obs.Text)
	}
}

// What a replay cannot bring back is reported, never papered over: local
// storage written after the snapshot, a page that differs at every load.
func TestReplayRefusesWhatItCannotRestore(t *testing.T) {
	t.Parallel()
	srv := replaySite(t)
	e := pooledEnv(t)
	for _, c := range []struct {
		path, click, want string
	}{
		{"/storage", "Remember", `reads "  StaticText \"storage: [v]\""`},
		{"/random", "", "lucky number"},
	} {
		obs, err := e.Reset(t.Context(), env.Task{StartURL: srv.URL + c.path})
		if err != nil {
			t.Fatal(err)
		}
		snap, err := e.Snapshot(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if c.click != "" {
			line := obs.Text[strings.Index(obs.Text, `button "`+c.click)-5:]
			mustStep(t, e, env.A("click", line[strings.Index(line, "[")+1:strings.Index(line, "]")]))
		}
		err = e.Restore(t.Context(), snap)
		if !errors.Is(err, env.ErrNotRestorable) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "does not answer the same requests the same way") {
			t.Errorf("%s: Restore = %v, want env.ErrNotRestorable saying what differs (%q)", c.path, err, c.want)
		}
	}
}

// BenchmarkReplayRestore is a replay restore on the 200-element page
// after n clicks that change it without navigating: a page load, then n
// replayed actions. (t(n=10) − t(n=0)) / 10 is the cost per replayed
// action.
func BenchmarkReplayRestore(b *testing.B) {
	srv := site(b)
	for _, n := range []int{0, 10} {
		b.Run(fmt.Sprintf("actions=%d", n), func(b *testing.B) {
			e := pooledEnv(b)
			obs, err := e.Reset(context.Background(), env.Task{StartURL: srv.URL + "/big.html?n=1"})
			if err != nil {
				b.Fatal(err)
			}
			line := obs.Text[strings.Index(obs.Text, `button "Toggle"`)-5:]
			toggle := env.A("click", line[strings.Index(line, "[")+1:strings.Index(line, "]")])
			for range n {
				mustStep(b, e, toggle)
			}
			snap, err := e.Snapshot(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if err := e.Restore(context.Background(), snap); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestIrreversibleWords(t *testing.T) {
	obs := env.Observation{Text: "[1] button \"Search\"\n[2] button \"Place order\"\n  [3] link \"Delete my account\"\n[4] link \"Next page\"\n[5] textbox \"Comment\" value=\"hi\" focused\n[6] button \"Post comment\""}
	for _, c := range []struct {
		a    env.Action
		want bool
	}{
		{env.A("click", "1"), false}, {env.A("click", "2"), true}, {env.A("click", "3"), true}, {env.A("click", "4"), false},
		{env.A("click", "6"), true}, {env.A("press", "Enter"), false}, {env.A("fill", "2", "x"), false}, {env.A("click", "99"), false},
	} {
		if got := (&Env{}).Irreversible(obs, c.a); (got != "") != c.want {
			t.Errorf("Irreversible(%v) = %q, want flagged %v", c.a, got, c.want)
		}
	}
}
