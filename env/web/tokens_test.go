package web

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pilotkit/pilot/env"
)

// BenchmarkObsTokens reports the size of an observation, in estimated
// cl100k tokens, on the realistic pages of testdata/pages: TodoMVC, a
// MiniWoB++-style flight form, a long article, a 1,000-row table and a
// docs page, whole and under a budget of 2,000 tokens. (The shop's are in
// env/shop's BenchmarkObsTokens.) With PILOT_DUMP_OBS=DIR it writes each
// observation there, for scripts/tokens.sh to count with js-tiktoken.
//
//	go test -run '^$' -bench ObsTokens -benchtime 1x ./env/web/
func BenchmarkObsTokens(b *testing.B) {
	srv := site(b)
	pages := []tokenPage{
		{"todomvc", "/pages/todomvc.html", []string{`click:button "Delete"`, `click:link "Active"`}},
		{"flight", "/pages/flight.html", []string{`click:clickable "START"`, `click:button "Search"`}},
		{"article", "/pages/article.html", nil},
		{"table", "/pages/table.html", nil},
		{"docs", "/pages/docs.html", nil},
	}
	dump := os.Getenv("PILOT_DUMP_OBS")
	for _, budget := range []int{0, 2000} {
		tag := "whole"
		if budget > 0 {
			tag = "budget2000"
		}
		b.Run(tag, func(b *testing.B) { benchTokens(b, srv.URL, pages, budget, dump) })
	}
}

type tokenPage struct {
	name, path string
	actions    []string // steps after Reset: verb:line-it-acts-on
}

func benchTokens(b *testing.B, base string, pages []tokenPage, budget int, dump string) {
	{
		e := newEnv(b, Options{Obs: ObsOptions{MaxTokens: budget}})
		var all []int
		for b.Loop() {
			all = all[:0]
			for _, p := range pages {
				obs, err := e.Reset(context.Background(), env.Task{StartURL: base + p.path})
				if err != nil {
					b.Fatal(err)
				}
				seen := []env.Observation{obs}
				for _, a := range p.actions {
					verb, line, _ := strings.Cut(a, ":")
					st, err := e.Step(context.Background(), env.A(verb, idOf(b, obs, line)))
					if err != nil {
						b.Fatal(err)
					}
					obs = st.Obs
					seen = append(seen, obs)
				}
				for i, o := range seen {
					n := env.EstimateTokens(o.Text)
					all = append(all, n)
					if budget == 0 && i == 0 {
						b.ReportMetric(float64(n), p.name+"-tokens")
					}
					if dump != "" {
						name := filepath.Join(dump, p.name+"-"+strings.Repeat("b", min(budget, 1))+string(rune('0'+i))+".txt")
						if err := os.WriteFile(name, []byte(o.Text), 0o644); err != nil {
							b.Fatal(err)
						}
					}
				}
			}
		}
		s := slices.Clone(all)
		slices.Sort(s)
		b.ReportMetric(float64(s[len(s)/2]), "median-tokens")
		b.ReportMetric(float64(s[len(s)-1]), "max-tokens")
	}
}
