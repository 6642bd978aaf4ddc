package lite

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pilotkit/pilot/env"
)

// Remote reads a real site over the network: links, cookies the site
// sets, redirects; a site that is down is a page that says so.
func TestRemote(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "s", Value: "1", Path: "/"})
		fmt.Fprint(w, `<!doctype html><title>home</title><a href="/go">Next</a>`)
	})
	mux.HandleFunc("/go", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/end", http.StatusFound) })
	mux.HandleFunc("/end", func(w http.ResponseWriter, r *http.Request) {
		c, _ := r.Cookie("s")
		fmt.Fprintf(w, `<!doctype html><title>end</title><p>cookie %v</p>`, c != nil)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	b := New(Remote(nil), Options{Origin: srv.URL})
	obs, err := b.Reset(context.Background(), env.Task{StartURL: srv.URL + "/"})
	if err != nil || obs.Title != "home" {
		t.Fatalf("reset: %v %q", err, obs.Title)
	}
	st, err := b.Step(context.Background(), env.A("click", "1"))
	if err != nil || st.Obs.URL != srv.URL+"/end" || !strings.Contains(st.Obs.Text, "cookie true") {
		t.Fatalf("click: %v\n%s", err, st.Obs.Text)
	}
	srv.Close()
	obs, err = b.Reset(context.Background(), env.Task{StartURL: srv.URL + "/"})
	if err != nil || !strings.Contains(obs.Text, "Status: 502") || !strings.Contains(obs.Text, "lite: cannot reach "+srv.URL+"/") {
		t.Errorf("a site that is down: %v\n%s", err, obs.Text)
	}
}
