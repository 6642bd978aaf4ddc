package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pilotkit/pilot/env"
)

// Pages that fight back: every step ends within its bounds with an
// observation (and an error where one is due), and the Env goes on to the
// next episode.

func TestPagesThatFightBack(t *testing.T) {
	t.Parallel()
	srv := site(t)
	e := newEnv(t, Options{SettleTimeout: 400 * time.Millisecond, NetworkIdleTimeout: 200 * time.Millisecond})
	for _, c := range []struct {
		button string
		want   string // in the observation's error ("" for none)
	}{
		{"Churn forever", ""},
		{"Fetch forever", ""},
		{"Alert forever", "stopped its running script"},
		{"Spin forever", "did not yield"},
		{"Break prototypes", ""},
	} {
		t.Run(c.button, func(t *testing.T) {
			obs := reset(t, e, srv.URL+"/real/fight.html")
			st := step(t, e, `click("`+idOf(t, obs, `button "`+c.button+`"`)+`")`)
			if !strings.Contains(st.Obs.Error, c.want) {
				t.Errorf("error %q, want one with %q", st.Obs.Error, c.want)
			}
			if st.Obs.URL == "" || !strings.Contains(st.Obs.Text, "Title: Fight") {
				t.Errorf("no observation of the page:\n%s", st.Obs.Text)
			}
			if c.button == "Alert forever" && strings.Count(st.Obs.Error, "dialog said") > maxNotes {
				t.Errorf("%d dialog notes, want at most %d", strings.Count(st.Obs.Error, "dialog said"), maxNotes)
			}
			// The next step and the next episode work.
			step(t, e, `noop()`)
			if obs := reset(t, e, srv.URL+"/fast"); !strings.Contains(obs.Text, "loaded fast") {
				t.Errorf("the next episode:\n%s", obs.Text)
			}
		})
	}
}

func TestHugePage(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		b.WriteString("<!doctype html><title>Huge</title>")
		for i := range 25000 {
			fmt.Fprintf(&b, "<div><button>b%d</button></div>", i)
		}
		fmt.Fprint(w, b.String())
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	e := newEnv(t, Options{Obs: ObsOptions{MaxTokens: 2000}})
	obs := reset(t, e, srv.URL+"/huge")
	has(t, obs, `button "b0"`, `lines below`)
	if n := env.EstimateTokens(obs.Text); n > 2000 {
		t.Errorf("%d tokens, budget 2000", n)
	}
	st := step(t, e, `click("`+idOf(t, obs, `button "b3"`)+`")`)
	if st.Obs.Error != "" {
		t.Errorf("click on a 50,000-element page: %s", st.Obs.Error)
	}
}
