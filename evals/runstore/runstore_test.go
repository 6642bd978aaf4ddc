package runstore_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/pilotkit/pilot/agent"
	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/evals"
	"github.com/pilotkit/pilot/evals/runstore"
	"github.com/pilotkit/pilot/policy"
)

func manifest(ids ...string) evals.Manifest {
	m := evals.NewManifest("test")
	m.Suite, m.Split, m.Engine, m.Policy, m.Seed = "toy/test", "test", "native", "script", 1
	m.Planned = ids
	return m
}

// toy is an env whose task says in Hidden["do"] how its one step ends:
// win, lose, or crash (a lost backend, once per task unless "always").
type toy struct {
	task    env.Task
	crashed map[string]int
}

func (e *toy) Spec() env.Spec {
	return env.Spec{Name: "toy", Modalities: []string{"text"}, Actions: []env.ActionSpec{{Name: "go"}}}
}

func (e *toy) Reset(_ context.Context, t env.Task) (env.Observation, error) {
	e.task = t
	return env.Observation{Text: "ready " + t.ID}, nil
}

func (e *toy) Step(_ context.Context, a env.Action) (env.Step, error) {
	switch e.task.Hidden["do"] {
	case "crash":
		if e.crashed[e.task.ID]++; e.crashed[e.task.ID] == 1 {
			return env.Step{}, env.BackendLost("the toy's backend died")
		}
	case "lose":
		return env.Step{Obs: env.Observation{Text: "lost"}, Terminated: true}, nil
	}
	return env.Step{Obs: env.Observation{Text: "won"}, Reward: 1, Terminated: true}, nil
}

func (e *toy) Close() error { return nil }

func toyTasks(dos ...string) evals.Suite {
	s := evals.Suite{Name: "toy/test"}
	for i, do := range dos {
		s.Tasks = append(s.Tasks, env.Task{ID: "t" + string(rune('0'+i)), Hidden: map[string]string{"do": do}})
	}
	return s
}

func ids(s evals.Suite) []string {
	var out []string
	for _, t := range s.Tasks {
		out = append(out, t.ID)
	}
	return out
}

func runToy(t *testing.T, dir string, s evals.Suite, db *runstore.DB, done []evals.Result) *evals.Report {
	t.Helper()
	crashed := map[string]int{}
	rep, err := evals.Run(context.Background(), s, evals.Config{
		NewEnv: func(context.Context, int) (env.Env, error) { return &toy{crashed: crashed}, nil },
		NewPolicy: func(env.Task) (policy.Policy, error) {
			return policy.Func(func(context.Context, policy.Input) (policy.Decision, error) {
				return policy.Decision{Action: env.A("go")}, nil
			}), nil
		},
		Agent:   agent.Options{PolicyName: "script"},
		RunDir:  dir,
		Store:   db,
		Retries: 1,
		Done:    done,
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return rep
}

// A run in the database: final results in planned order, the retried
// attempt apart, the steps, the end of the run; then the JSONL export.
func TestRunIntoTheStore(t *testing.T) {
	dir := t.TempDir()
	s := toyTasks("win", "lose", "crash", "win")
	db, err := runstore.Create(dir, manifest(ids(s)...))
	if err != nil {
		t.Fatal(err)
	}
	rep := runToy(t, dir, s, db, nil)
	if rep.Successes != 3 || rep.Retries != 1 || !rep.Complete {
		t.Fatalf("report %+v; want 3 successes, 1 retry, complete", rep)
	}
	db, err = runstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rs, err := db.Results()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rs {
		got = append(got, r.TaskID+":"+r.Outcome)
	}
	if strings.Join(got, " ") != "t0:success t1:failure t2:success t3:success" {
		t.Errorf("stored results %v; want t0..t3 in order with their outcomes", got)
	}
	if rs[2].Attempt != 2 {
		t.Errorf("t2 = %+v, want its second attempt", rs[2])
	}
	as, err := db.Attempts()
	if err != nil || len(as) != 1 || as[0].TaskID != "t2" || as[0].Attempt != 1 || as[0].ErrorKind != evals.KindBackend {
		t.Errorf("attempts %+v, %v; want t2's first, a backend error", as, err)
	}
	st, err := db.Status(context.Background())
	if err != nil || st.Planned != 4 || st.Finished != 4 || !st.Ended || st.Interrupted {
		t.Errorf("status %+v, %v; want 4 of 4, ended, not interrupted", st, err)
	}
	if m := db.Manifest(); m.Suite != "toy/test" || len(m.Planned) != 4 {
		t.Errorf("manifest %+v", m)
	}
	raw, err := sql.Open("sqlite", filepath.Join(dir, runstore.File))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var steps int
	var action string
	if err := raw.QueryRow(`SELECT count(*), max(action) FROM steps`).Scan(&steps, &action); err != nil || steps != 4 || action != "go()" {
		t.Errorf("steps table: %d rows, action %q, %v; want 4 final steps of go() (the crashed attempt recorded none)", steps, action, err)
	}
	envTimes, policyTimes, err := db.StepTimes()
	if err != nil || len(envTimes) != 4 || len(policyTimes) != 4 || envTimes[0] <= 0 {
		t.Errorf("StepTimes = %v, %v, %v; want the 4 final steps' times", envTimes, policyTimes, err)
	}
	var b bytes.Buffer
	if err := db.ExportJSONL(&b); err != nil {
		t.Fatal(err)
	}
	back, err := evals.ReadResults(&b)
	if err != nil || len(back) != 4 || back[1].TaskID != "t1" || back[1].Outcome != evals.OutcomeFailure {
		t.Errorf("export read back: %+v, %v", back, err)
	}
}

// A resume after a process stopped: the done episodes are not played
// again, the others are, and nothing is stored twice.
func TestResume(t *testing.T) {
	dir := t.TempDir()
	s := toyTasks("win", "win", "lose", "win")
	db, err := runstore.Create(dir, manifest(ids(s)...))
	if err != nil {
		t.Fatal(err)
	}
	first := evals.Suite{Name: s.Name, Tasks: s.Tasks[:2]} // the process "stopped" after two
	runToy(t, dir, first, db, nil)
	db, err = runstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	done, err := db.Resume()
	if err != nil || len(done) != 2 {
		t.Fatalf("Resume = %d results, %v; want 2", len(done), err)
	}
	rep := runToy(t, dir, s, db, done)
	if rep.Episodes != 4 || rep.Successes != 3 || !rep.Complete {
		t.Errorf("resumed report %+v; want 4 episodes, 3 successes", rep)
	}
	db, err = runstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rs, _ := db.Results()
	if len(rs) != 4 {
		t.Errorf("%d final results stored, want 4", len(rs))
	}
	if err := db.Add(rs[0]); err == nil || !strings.Contains(err.Error(), "already stored") {
		t.Errorf("a second final result of t0 = %v; want it refused", err)
	}
	if err := db.Add(evals.Result{TaskID: "zz", Attempt: 1, Outcome: evals.OutcomeSuccess}); err == nil || !strings.Contains(err.Error(), "not among the run's planned") {
		t.Errorf("a result of an unplanned task = %v; want it refused", err)
	}
}

// Bad run directories are refused with what to do, and left as they were.
func TestRefusals(t *testing.T) {
	dir := t.TempDir()
	db, err := runstore.Create(dir, manifest("a"))
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := runstore.Create(dir, manifest("a")); !errors.Is(err, os.ErrExist) || !strings.Contains(err.Error(), "already holds a run") {
		t.Errorf("Create over a run = %v; want os.ErrExist", err)
	}

	// Two writers of one run: the second is refused while the first
	// holds it, and gets it once the first is closed.
	w1, err := runstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w1.Resume(); err != nil {
		t.Fatalf("Resume: %v", err)
	}
	w2, err := runstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w2.Resume(); !errors.Is(err, runstore.ErrBusy) || !strings.Contains(err.Error(), "process ") {
		t.Errorf("a second writer's Resume = %v; want ErrBusy naming the process", err)
	}
	w1.Close()
	if _, err := w2.Resume(); err != nil {
		t.Errorf("Resume after the first writer closed = %v", err)
	}
	w2.Close()

	empty := t.TempDir()
	if _, err := runstore.Open(empty); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "no run in") {
		t.Errorf("Open of an empty directory = %v", err)
	}

	old := t.TempDir()
	os.WriteFile(filepath.Join(old, evals.ResultsFile), []byte(`{"task_id":"a"}`+"\n"), 0o644)
	if _, err := runstore.Open(old); err == nil || !strings.Contains(err.Error(), "older pilot") {
		t.Errorf("Open of an old run directory = %v; want it named as an older pilot's", err)
	}

	corrupt := t.TempDir()
	junk := bytes.Repeat([]byte("not a database "), 500)
	os.WriteFile(filepath.Join(corrupt, runstore.File), junk, 0o644)
	if _, err := runstore.Open(corrupt); !errors.Is(err, runstore.ErrNotRun) {
		t.Errorf("Open of a corrupt file = %v; want ErrNotRun", err)
	}
	if b, _ := os.ReadFile(filepath.Join(corrupt, runstore.File)); !bytes.Equal(b, junk) {
		t.Errorf("Open changed the corrupt file")
	}

	foreign := t.TempDir()
	f, err := sql.Open("sqlite", filepath.Join(foreign, runstore.File))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Exec(`CREATE TABLE notes (body TEXT)`); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := runstore.Open(foreign); !errors.Is(err, runstore.ErrNotRun) || !strings.Contains(err.Error(), "another program's") {
		t.Errorf("Open of another program's database = %v; want ErrNotRun naming it", err)
	}
}

// A resume drops the attempts of an episode that was being retried when
// its process stopped, rows and directories, so that it is played afresh;
// the attempts of finished episodes stay.
func TestResumeDropsUnfinishedAttempts(t *testing.T) {
	dir := t.TempDir()
	db, err := runstore.Create(dir, manifest("a", "b"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []evals.Result{
		{TaskID: "a", Attempt: 1, Outcome: evals.OutcomeError, ErrorKind: evals.KindBackend},
		{TaskID: "b", Attempt: 1, Outcome: evals.OutcomeError, ErrorKind: evals.KindBackend},
	} {
		if err := db.AddAttempt(r); err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Join(dir, evals.AttemptsDir, r.TaskID+"-1"), 0o755)
	}
	if err := db.Add(evals.Result{TaskID: "a", Attempt: 2, Outcome: evals.OutcomeSuccess, Success: true}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = runstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	done, err := db.Resume()
	if err != nil || len(done) != 1 || done[0].TaskID != "a" {
		t.Fatalf("Resume = %+v, %v; want a's result", done, err)
	}
	as, _ := db.Attempts()
	if len(as) != 1 || as[0].TaskID != "a" {
		t.Errorf("attempts after the resume %+v; want a's only", as)
	}
	if _, err := os.Stat(filepath.Join(dir, evals.AttemptsDir, "b-1")); !os.IsNotExist(err) {
		t.Errorf("b's unfinished attempt directory is still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, evals.AttemptsDir, "a-1")); err != nil {
		t.Errorf("a's attempt directory is gone: %v", err)
	}
}
