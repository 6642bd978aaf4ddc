package viewer_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/pilotkit/pilot/agent"
	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/env/web"
	"github.com/pilotkit/pilot/env/web/webtest"
	"github.com/pilotkit/pilot/evals"
	"github.com/pilotkit/pilot/evals/runstore"
	"github.com/pilotkit/pilot/evals/suites"
	"github.com/pilotkit/pilot/evals/viewer"
	"github.com/pilotkit/pilot/planner"
	"github.com/pilotkit/pilot/policy"
)

func TestMain(m *testing.M) { webtest.Main(m) }

// makeRun plays four shop tasks in lite into a run: the expert on the
// first two, the random policy (which fails: 20 steps) on the others.
func makeRun(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	d, err := suites.Builtin().Find("shop")
	if err != nil {
		t.Fatal(err)
	}
	o := evals.LoadOptions{Engine: evals.EngineLite, Seed: 1}
	l, err := d.Open(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	s := evals.Suite{Name: l.Suite.Name, Tasks: l.Suite.Tasks[:4]}
	dir := filepath.Join(t.TempDir(), "run")
	m := evals.NewManifest("test")
	m.Suite, m.Policy, m.Engine = s.Name, "mixed", "lite"
	for _, tk := range s.Tasks {
		m.Planned = append(m.Planned, tk.ID)
	}
	db, err := runstore.Create(dir, m)
	if err != nil {
		t.Fatal(err)
	}
	random := l.Policies["random"]
	_, err = evals.Run(ctx, s, evals.Config{
		NewEnv: l.NewEnv,
		NewPolicy: func(tk env.Task) (policy.Policy, error) {
			if tk.ID == s.Tasks[0].ID || tk.ID == s.Tasks[1].ID {
				return d.Expert(tk), nil
			}
			return random(tk)
		},
		Agent:  agent.Options{MaxSteps: 20},
		RunDir: dir,
		Store:  db,
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// The viewer in real Chromium, driven by pilot's own web env: a replay
// opens the failed episodes, goes to the first, and its third action is on
// the page.
func TestViewerInChromium(t *testing.T) {
	dir := makeRun(t)
	v, err := viewer.New(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(v)
	defer srv.Close()

	u, err := webtest.Browser(func(ctx context.Context) (string, func() error, error) { return web.Launch(ctx, web.Options{}) })
	if errors.Is(err, web.ErrChromeNotFound) {
		t.Skipf("no Chromium: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	e, err := web.New(web.Options{BrowserURL: u})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	task := env.Task{ID: "view", Instruction: "open the first failed episode and read its third action", StartURL: srv.URL + "/?outcome=failure"}
	obs, err := e.Reset(ctx, task)
	if err != nil {
		t.Fatal(err)
	}
	// The failed episodes are the random policy's: shop-test-0002 first.
	m := regexp.MustCompile(`\[(\d+)\] link "shop-test-0002"`).FindStringSubmatch(obs.Text)
	if m == nil || strings.Contains(obs.Text, `"shop-test-0000"`) {
		t.Fatalf("the failed episodes' page:\n%s\nwant a link to shop-test-0002 and none to the expert's successes", obs.Text)
	}
	traj, err := agent.Run(ctx, e, task, policy.Replay([]env.Action{env.A("click", m[1])}), agent.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, evals.EpisodesDir, "shop-test-0002", agent.TrajectoryFile))
	if err != nil {
		t.Fatal(err)
	}
	stored, err := agent.ReadJSONL(f)
	f.Close()
	if err != nil || len(stored.Steps) < 3 {
		t.Fatalf("the stored episode: %v, %v", stored, err)
	}
	third := stored.Steps[2].ActionText
	last := traj.Steps[len(traj.Steps)-1].Obs
	// The observation quotes the heading's text as Go does: click(\"6\").
	heading := `heading "Step 2: ` + strings.ReplaceAll(third, `"`, `\"`) + `"`
	if !strings.Contains(last.Text, heading) || !strings.Contains(last.URL, "/episode/shop-test-0002") {
		t.Errorf("the episode's page (%s):\n%s\nwant its third action %q as step 2", last.URL, last.Text, third)
	}
}

// Untrusted text is escaped; bad requests are refused.
func TestViewerEscapesAndRefuses(t *testing.T) {
	dir := t.TempDir()
	m := evals.NewManifest("test")
	m.Suite, m.Policy, m.Planned = "x/test", "p", []string{"t1"}
	db, err := runstore.Create(dir, m)
	if err != nil {
		t.Fatal(err)
	}
	rec := agent.NewRecorder(filepath.Join(dir, evals.EpisodesDir, "t1"))
	evil := `<img src=x onerror=alert(1)>`
	tr := &agent.Trajectory{Task: env.Task{ID: "t1", Instruction: evil}}
	search := &planner.Record{Planner: "mcts", EnvSteps: 7, ValueCalls: 3, Path: []int{0, 1}, Stopped: "value budget spent",
		Nodes:   []planner.NodeRecord{{ID: 0, Parent: -1}, {ID: 1, Parent: 0, Depth: 1, Action: `click("` + evil + `")`, Value: 0.8, Valued: true, Visits: 2}, {ID: 2, Parent: 0, Depth: 1, Action: `click("2")`, Value: 0.1, Valued: true, Visits: 1}},
		Skipped: []string{evil + ": not explored"}, Reflections: []string{"lesson " + evil}}
	tr.Steps = []agent.StepRecord{
		{Index: 0, ActionText: `type("1", "` + evil + `")`, Obs: agent.ObsRecord{Text: evil}, Meta: map[string]any{"answer": evil, "prompt": "--- user\n" + evil, "model": "openai:gpt-4o", "search": search}},
		{Index: 1, ActionText: `move_joints([1, 2])`, Meta: map[string]any{"search": &planner.CEMRecord{Planner: "cem", Model: "twin", Iterations: 3, Sequences: 96, EnvSteps: 768, Best: 0.25}}},
	}
	for _, ev := range []agent.Event{{Kind: agent.EventReset, Traj: tr}, {Kind: agent.EventStep, Traj: tr, Step: &tr.Steps[0]}, {Kind: agent.EventStep, Traj: tr, Step: &tr.Steps[1]}, {Kind: agent.EventEnd, Traj: tr}} {
		if err := rec.OnEvent(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Add(evals.Result{TaskID: "t1", Attempt: 1, Outcome: evals.OutcomeFailure, Reason: evil}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	v, err := viewer.New(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	v.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/episode/t1", nil))
	if !strings.Contains(w.Body.String(), "the model's prompt</summary>") || !strings.Contains(w.Body.String(), "--- user") {
		t.Errorf("the episode page lacks the model's prompt:\n%s", w.Body.String())
	}
	for _, want := range []string{"search: mcts: 3 nodes, 7 env steps, 3 value calls", `<tr class="path"><td>· click(`, "Not explored: ", "Lesson: lesson ", "search: cem in the twin: 96 sequences over 3 iterations, 768 env steps"} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("the episode page lacks %q (the steps' searches):\n%s", want, w.Body.String())
		}
	}
	for path, want := range map[string]int{"/": 200, "/episode/t1": 200, "/episode/nope": 404, "/?outcome=maybe": 400, "/files/t1/images/..%2frun.db": 404} {
		w := httptest.NewRecorder()
		v.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		if w.Code != want {
			t.Errorf("GET %s = %d, want %d", path, w.Code, want)
		}
		if strings.Contains(w.Body.String(), "<img src=x") {
			t.Errorf("GET %s holds the untrusted markup unescaped", path)
		}
	}
}

// BenchmarkOpen1000 opens a run of 1,000 episodes and serves its episode
// list (target ≤ 1 s; docs/benchmarks.md).
//
//	go test -run '^$' -bench Open1000 -benchtime 5x ./evals/viewer/
func BenchmarkOpen1000(b *testing.B) {
	dir := b.TempDir()
	m := evals.NewManifest("bench")
	m.Suite, m.Policy = "shop/test", "expert"
	for i := range 1000 {
		m.Planned = append(m.Planned, "t"+strconv.Itoa(i))
	}
	db, err := runstore.Create(dir, m)
	if err != nil {
		b.Fatal(err)
	}
	for _, id := range m.Planned {
		if err := db.Add(evals.Result{TaskID: id, Attempt: 1, Outcome: evals.OutcomeSuccess, Success: true, Reward: 1, Steps: 11, Reason: "order placed"}); err != nil {
			b.Fatal(err)
		}
	}
	db.Close()
	b.ResetTimer()
	for range b.N {
		v, err := viewer.New(context.Background(), dir)
		if err != nil {
			b.Fatal(err)
		}
		w := httptest.NewRecorder()
		v.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
		if w.Code != 200 || !strings.Contains(w.Body.String(), "t999") {
			b.Fatalf("GET / = %d", w.Code)
		}
	}
}
