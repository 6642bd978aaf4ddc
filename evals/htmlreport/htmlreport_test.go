package htmlreport_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pilotkit/pilot/agent"
	"github.com/pilotkit/pilot/evals"
	"github.com/pilotkit/pilot/evals/htmlreport"
	"github.com/pilotkit/pilot/evals/runstore"
)

const evil = `<script>alert("x")</script>`

// makeRun stores n results, every third a failure and every tenth an
// error, the text of each from a hostile page.
func makeRun(t testing.TB, dir, policy string, n, repeat int) {
	t.Helper()
	m := evals.NewManifest("test")
	m.Suite, m.Policy, m.Engine = "shop/test", policy, "lite"
	m.Flags = map[string]string{"suite": "shop", "url": evil}
	var rs []evals.Result
	for i := range n {
		for r := 1; r <= repeat; r++ {
			id := fmt.Sprintf("t%04d", i)
			res := evals.Result{TaskID: id, Attempt: 1, Steps: 5, Reason: evil, Outcome: evals.OutcomeSuccess, Success: true, Reward: 1}
			if repeat > 1 {
				res.Repeat, res.Episode = r, evals.EpisodeKey(id, r)
			}
			switch {
			case i%10 == 9:
				res.Outcome, res.Success, res.Reward, res.ErrorKind, res.Error = evals.OutcomeError, false, 0, evals.KindBackend, "the browser is gone "+evil
			case i%3 == 2:
				res.Outcome, res.Success, res.Reward, res.Missed = evals.OutcomeFailure, false, 0.5, []string{"price"}
			}
			tr := &agent.Trajectory{}
			for s := range 5 {
				tr.Steps = append(tr.Steps, agent.StepRecord{Index: s, ActionText: evil, EnvTime: time.Duration(s+1) * time.Millisecond, PolicyTime: time.Millisecond})
			}
			res.Trajectory = tr
			rs = append(rs, res)
			m.Planned = append(m.Planned, res.Key())
		}
	}
	db, err := runstore.Create(dir, m)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, r := range rs {
		if err := db.Add(r); err != nil {
			t.Fatal(err)
		}
	}
}

func TestWrite(t *testing.T) {
	tmp := t.TempDir()
	a, b := filepath.Join(tmp, "a"), filepath.Join(tmp, "b")
	makeRun(t, a, "expert", 30, 1)
	makeRun(t, b, evil, 10, 3)
	runs, err := htmlreport.Load(context.Background(), []string{a, b})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := htmlreport.Write(&out, runs, htmlreport.Options{}); err != nil {
		t.Fatal(err)
	}
	page := out.String()
	if strings.Contains(page, "<script>") {
		t.Errorf("the report holds an unescaped <script> from a run")
	}
	for _, want := range []string{
		"&lt;script&gt;",         // escaped, not dropped
		"<svg",                   // the charts, inline
		"pass^k: all k attempts", // the repeated run's curve
		"[", "backend", "price",  // intervals, error kinds, failures missed
		filepath.ToSlash(filepath.Join(a, "episodes", "t0000", "trajectory.jsonl")),
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if strings.Contains(page, "ZgotmplZ") {
		t.Errorf("html/template refused a link of the report")
	}
	if n := strings.Count(page, "<svg"); n != 4 {
		t.Errorf("%d charts, want 4 (success, reward, latency, pass^k)", n)
	}
	// 30 tasks, 3 errors: 27 scored, 18 successes.
	if !strings.Contains(page, "<td class=\"n\">27</td><td class=\"n\">66.7%</td>") {
		t.Errorf("the table lacks run a's 27 scored episodes at 66.7%%")
	}
}

// BenchmarkReport1000 loads and writes the report of a run of 1,000
// episodes (target ≤ 5 s; docs/benchmarks.md).
//
//	go test -run '^$' -bench Report1000 -benchtime 3x ./evals/htmlreport/
func BenchmarkReport1000(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "run")
	makeRun(b, dir, "expert", 1000, 1)
	b.ResetTimer()
	for range b.N {
		runs, err := htmlreport.Load(context.Background(), []string{dir})
		if err != nil {
			b.Fatal(err)
		}
		var out bytes.Buffer
		if err := htmlreport.Write(&out, runs, htmlreport.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
