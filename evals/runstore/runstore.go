// Package runstore keeps an eval run in a SQLite database in its run
// directory (RUNDIR/run.db, modernc.org/sqlite: pure Go, WAL): the run's
// manifest (how to reproduce it), the planned episodes, every attempt of
// every episode with its result, and the steps of each, which point into
// the episode's trajectory file rather than copy its observations.
//
// A DB is an evals.Store (an evals.AttemptStore): evals.Run writes each
// episode as it ends, in one transaction, so a process killed at any
// moment leaves every finished episode in the database and none twice
// (a unique index holds one final result per task). Resume reads the
// final results back (Results) for evals.Config.Done.
//
//	db, err := runstore.Create(dir, manifest)   // a new run
//	db, err := runstore.Open(dir)               // an existing one: resume, report, export
package runstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the database/sql driver "sqlite"

	"github.com/pilotkit/pilot/agent"
	"github.com/pilotkit/pilot/evals"
)

// File is the database's name in a run directory.
const File = "run.db"

// The database's identity: PRAGMA application_id says it is pilot's run
// database, PRAGMA user_version which schema it has.
const (
	appID         = 0x70696c74 // "pilt"
	schemaVersion = 1
)

// ErrNotRun is wrapped by Open's error for a file that is not a pilot run
// database: corrupt, another program's, or from a newer pilot.
var ErrNotRun = errors.New("not a pilot run database")

const schema = `
CREATE TABLE run (
	id          INTEGER PRIMARY KEY CHECK (id = 1),
	manifest    TEXT NOT NULL,
	started     TEXT NOT NULL,
	finished    TEXT,
	interrupted INTEGER NOT NULL DEFAULT 0,
	report      TEXT
);
CREATE TABLE planned (
	idx     INTEGER PRIMARY KEY,
	episode TEXT NOT NULL UNIQUE
);
CREATE TABLE episodes (
	episode     TEXT NOT NULL REFERENCES planned(episode),
	attempt     INTEGER NOT NULL,
	final       INTEGER NOT NULL,
	outcome     TEXT NOT NULL,
	error_kind  TEXT NOT NULL DEFAULT '',
	success     INTEGER NOT NULL,
	reward      REAL NOT NULL,
	steps       INTEGER NOT NULL,
	tokens      INTEGER NOT NULL,
	cost_usd    REAL NOT NULL,
	duration_ns INTEGER NOT NULL,
	result      TEXT NOT NULL,
	trajectory  TEXT NOT NULL,
	ended       TEXT NOT NULL,
	PRIMARY KEY (episode, attempt)
);
CREATE UNIQUE INDEX one_final ON episodes (episode) WHERE final = 1;
CREATE TABLE steps (
	episode    TEXT NOT NULL,
	attempt    INTEGER NOT NULL,
	idx        INTEGER NOT NULL,
	action     TEXT NOT NULL,
	reward     REAL NOT NULL,
	terminated INTEGER NOT NULL,
	truncated  INTEGER NOT NULL,
	obs_error  TEXT NOT NULL,
	env_ns     INTEGER NOT NULL,
	policy_ns  INTEGER NOT NULL,
	tokens     INTEGER NOT NULL,
	cost_usd   REAL NOT NULL,
	unchanged  INTEGER NOT NULL,
	PRIMARY KEY (episode, attempt, idx),
	FOREIGN KEY (episode, attempt) REFERENCES episodes (episode, attempt) ON DELETE CASCADE
);
`

// DB is a run's database. Its methods are safe for one writer (evals.Run
// calls them one at a time) and any number of readers in other processes.
type DB struct {
	db       *sql.DB
	dir      string
	manifest evals.Manifest
	lock     *os.File // held by a writer (Create, Resume); nil for a reader
}

var _ evals.AttemptStore = (*DB)(nil)

// dsn is the database's connection string. Only the creator sets WAL
// (it stays set in the file): a reader must not change a file it may yet
// refuse as another program's.
func dsn(path string, create bool) string {
	s := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)"
	if create {
		s += "&_pragma=journal_mode(WAL)"
	}
	return s
}

// Create makes the database of a new run in dir (created if need be) and
// stores m, its planned episodes (m.Planned) and its start. It refuses a
// directory that already holds a run database (an error wrapping
// os.ErrExist), so that nothing is overwritten.
func Create(dir string, m evals.Manifest) (*DB, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("run store: %w", err)
	}
	path := filepath.Join(dir, File)
	// Claim the name first: O_EXCL refuses a run that is already there,
	// also one that another process is creating.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("run store: %w: %s already holds a run (resume it with the same flags, or choose another run directory)", err, dir)
		}
		return nil, fmt.Errorf("run store: %w", err)
	}
	f.Close()
	lk, err := lock(dir)
	if err != nil {
		os.Remove(path)
		return nil, err
	}
	d, err := open(path, dir, true)
	if err != nil {
		os.Remove(path)
		lk.Close()
		return nil, err
	}
	d.lock = lk
	if err := d.init(m); err != nil {
		d.Close()
		os.Remove(path)
		return nil, err
	}
	d.manifest = m
	return d, nil
}

func (d *DB) init(m evals.Manifest) error {
	man, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("run store: encode the manifest: %w", err)
	}
	tx, err := d.db.Begin()
	if err != nil {
		return fmt.Errorf("run store: %w", err)
	}
	defer tx.Rollback()
	stmts := []string{fmt.Sprintf("PRAGMA application_id = %d", appID), fmt.Sprintf("PRAGMA user_version = %d", schemaVersion), schema}
	for _, s := range stmts {
		if _, err := tx.Exec(s); err != nil {
			return fmt.Errorf("run store: create the schema: %w", err)
		}
	}
	started := m.Started
	if started.IsZero() {
		started = time.Now().UTC()
	}
	if _, err := tx.Exec(`INSERT INTO run (id, manifest, started) VALUES (1, ?, ?)`, string(man), started.Format(time.RFC3339Nano)); err != nil {
		return fmt.Errorf("run store: %w", err)
	}
	for i, id := range m.Planned {
		if _, err := tx.Exec(`INSERT INTO planned (idx, episode) VALUES (?, ?)`, i, id); err != nil {
			return fmt.Errorf("run store: plan episode %d (%s): %w", i, id, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("run store: %w", err)
	}
	return nil
}

// Open opens the database of the run in dir. It refuses, with what to
// do, a directory without one (an error wrapping os.ErrNotExist; a run of
// an older pilot, which has results.jsonl only, is named as such), and a
// file that is not a pilot run database (ErrNotRun).
func Open(dir string) (*DB, error) {
	path := filepath.Join(dir, File)
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			if _, jerr := os.Stat(filepath.Join(dir, evals.ResultsFile)); jerr == nil {
				return nil, fmt.Errorf("run store: %s holds a run of an older pilot (%s, no %s): it cannot be resumed or read here; start a new run directory: %w", dir, evals.ResultsFile, File, err)
			}
			return nil, fmt.Errorf("run store: no run in %s (no %s): %w", dir, File, err)
		}
		return nil, fmt.Errorf("run store: %w", err)
	}
	d, err := open(path, dir, false)
	if err != nil {
		return nil, err
	}
	if err := d.check(); err != nil {
		d.db.Close()
		return nil, err
	}
	return d, nil
}

func open(path, dir string, create bool) (*DB, error) {
	db, err := sql.Open("sqlite", dsn(path, create))
	if err != nil {
		return nil, fmt.Errorf("run store: open %s: %w", path, err)
	}
	// One connection: the writes are serial anyway, and SQLite's own
	// locking then never makes this process wait for itself.
	db.SetMaxOpenConns(1)
	return &DB{db: db, dir: dir}, nil
}

// check verifies that the database is pilot's, of this schema, and reads
// its manifest.
func (d *DB) check() error {
	path := filepath.Join(d.dir, File)
	var id, version int64
	if err := d.db.QueryRow(`PRAGMA application_id`).Scan(&id); err != nil {
		return fmt.Errorf("run store: %s: %w: %v (is the file corrupt?)", path, ErrNotRun, err)
	}
	if id == 0 {
		var tables int
		if err := d.db.QueryRow(`SELECT count(*) FROM sqlite_master`).Scan(&tables); err == nil && tables == 0 {
			return fmt.Errorf("run store: %s: %w: it is empty: a run killed as it started (remove it and start again), or not pilot's", path, ErrNotRun)
		}
	}
	if id != appID {
		return fmt.Errorf("run store: %s: %w: it is another program's SQLite database (application_id %#x); nothing was changed", path, ErrNotRun, id)
	}
	if err := d.db.QueryRow(`PRAGMA user_version`).Scan(&version); err != nil {
		return fmt.Errorf("run store: %s: %w: %v", path, ErrNotRun, err)
	}
	if version != schemaVersion {
		return fmt.Errorf("run store: %s: %w: schema %d, this pilot reads schema %d: use the pilot that made it", path, ErrNotRun, version, schemaVersion)
	}
	var man string
	if err := d.db.QueryRow(`SELECT manifest FROM run WHERE id = 1`).Scan(&man); err != nil {
		return fmt.Errorf("run store: %s: %w: no run row: %v", path, ErrNotRun, err)
	}
	if err := json.Unmarshal([]byte(man), &d.manifest); err != nil {
		return fmt.Errorf("run store: %s: %w: its manifest does not decode: %v", path, ErrNotRun, err)
	}
	return nil
}

// Dir is the run directory.
func (d *DB) Dir() string { return d.dir }

// Manifest is the run's manifest, as stored when it was created.
func (d *DB) Manifest() evals.Manifest { return d.manifest }

// Add stores the final result of an episode with its steps, in one
// transaction. A second final result for a task is refused.
func (d *DB) Add(r evals.Result) error { return d.add(r, true) }

// AddAttempt stores an attempt that ended in an error and is played
// again.
func (d *DB) AddAttempt(r evals.Result) error { return d.add(r, false) }

func (d *DB) add(r evals.Result, final bool) error {
	res, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("run store: encode the result of %s: %w", r.TaskID, err)
	}
	traj := filepath.Join(evals.EpisodesDir, r.Key(), agent.TrajectoryFile)
	if !final {
		traj = filepath.Join(evals.AttemptsDir, fmt.Sprintf("%s-%d", r.Key(), r.Attempt), agent.TrajectoryFile)
	}
	tx, err := d.db.Begin()
	if err != nil {
		return fmt.Errorf("run store: %w", err)
	}
	defer tx.Rollback()
	_, err = tx.Exec(`INSERT INTO episodes (episode, attempt, final, outcome, error_kind, success, reward, steps, tokens, cost_usd, duration_ns, result, trajectory, ended)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.Key(), max(r.Attempt, 1), final, r.Outcome, r.ErrorKind, r.Success, r.Reward, r.Steps, r.Tokens, r.CostUSD, int64(r.Duration),
		string(res), traj, time.Now().UTC().Format(time.RFC3339Nano))
	if err != nil {
		if strings.Contains(err.Error(), "UNIQUE") || strings.Contains(err.Error(), "PRIMARY KEY") {
			return fmt.Errorf("run store: episode %s (attempt %d) is already stored: %w", r.Key(), r.Attempt, err)
		}
		if strings.Contains(err.Error(), "FOREIGN KEY") {
			return fmt.Errorf("run store: episode %s is not among the run's planned episodes: %w", r.Key(), err)
		}
		return fmt.Errorf("run store: store %s: %w", r.TaskID, err)
	}
	if t := r.Trajectory; t != nil && len(t.Steps) > 0 {
		st, err := tx.Prepare(`INSERT INTO steps (episode, attempt, idx, action, reward, terminated, truncated, obs_error, env_ns, policy_ns, tokens, cost_usd, unchanged)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return fmt.Errorf("run store: %w", err)
		}
		defer st.Close()
		for _, s := range t.Steps {
			if _, err := st.Exec(r.Key(), max(r.Attempt, 1), s.Index, s.ActionText, s.Reward, s.Terminated, s.Truncated, s.Obs.Error,
				int64(s.EnvTime), int64(s.PolicyTime), s.Usage.Tokens(), s.Usage.CostUSD, s.Unchanged); err != nil {
				return fmt.Errorf("run store: store step %d of %s: %w", s.Index, r.TaskID, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("run store: store %s: %w", r.TaskID, err)
	}
	return nil
}

// Results returns the final results, in planned order.
func (d *DB) Results() ([]evals.Result, error) {
	return d.results(`SELECT e.result FROM episodes e JOIN planned p ON p.episode = e.episode WHERE e.final = 1 ORDER BY p.idx`)
}

// Attempts returns the attempts that were played again, by task in
// planned order and then by attempt.
func (d *DB) Attempts() ([]evals.Result, error) {
	return d.results(`SELECT e.result FROM episodes e JOIN planned p ON p.episode = e.episode WHERE e.final = 0 ORDER BY p.idx, e.attempt`)
}

func (d *DB) results(q string) ([]evals.Result, error) {
	rows, err := d.db.Query(q)
	if err != nil {
		return nil, fmt.Errorf("run store: read the results: %w", err)
	}
	defer rows.Close()
	var out []evals.Result
	for rows.Next() {
		var b string
		if err := rows.Scan(&b); err != nil {
			return out, fmt.Errorf("run store: read the results: %w", err)
		}
		var r evals.Result
		if err := json.Unmarshal([]byte(b), &r); err != nil {
			return out, fmt.Errorf("run store: a stored result does not decode: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("run store: read the results: %w", err)
	}
	return out, nil
}

// StepTimes returns the env's and the policy's time of every step of the
// final results, for the report's latency percentiles.
func (d *DB) StepTimes() (envTimes, policyTimes []time.Duration, err error) {
	rows, err := d.db.Query(`SELECT s.env_ns, s.policy_ns FROM steps s JOIN episodes e ON e.episode = s.episode AND e.attempt = s.attempt WHERE e.final = 1`)
	if err != nil {
		return nil, nil, fmt.Errorf("run store: read the steps: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e, p int64
		if err := rows.Scan(&e, &p); err != nil {
			return nil, nil, fmt.Errorf("run store: read the steps: %w", err)
		}
		envTimes, policyTimes = append(envTimes, time.Duration(e)), append(policyTimes, time.Duration(p))
	}
	return envTimes, policyTimes, rows.Err()
}

// Report is the run's report as the store has it: the final results,
// their numbers (evals.Summarize), every attempt retried, the step
// latencies, the manifest, whether the run is complete or was
// interrupted. There is no wall time: a run may span processes.
func (d *DB) Report(ctx context.Context) (*evals.Report, error) {
	rs, err := d.Results()
	if err != nil {
		return nil, err
	}
	st, err := d.Status(ctx)
	if err != nil {
		return nil, err
	}
	attempts, err := d.Attempts()
	if err != nil {
		return nil, err
	}
	envTimes, policyTimes, err := d.StepTimes()
	if err != nil {
		return nil, err
	}
	m := d.manifest
	rep := evals.Summarize(m.Suite, st.Planned, rs)
	rep.SetLatencies(envTimes, policyTimes)
	rep.Policy, rep.RunDir, rep.Manifest, rep.Start = m.Policy, d.dir, &m, st.Started
	rep.Interrupted, rep.Retries = st.Ended && !rep.Complete, len(attempts)
	return rep, nil
}

// Resume prepares a run for another process: it drops what the episodes
// without a final result left (the attempts of an episode that was being
// retried when the process stopped), so that they are played afresh, and
// returns the final results for evals.Config.Done.
//
// Resume makes d the run's writer: it fails with ErrBusy while another
// process writes the run, and holds the run until Close.
func (d *DB) Resume() ([]evals.Result, error) {
	if d.lock == nil {
		lk, err := lock(d.dir)
		if err != nil {
			return nil, err
		}
		d.lock = lk
	}
	rows, err := d.db.Query(`SELECT episode, attempt FROM episodes WHERE final = 0 AND episode NOT IN (SELECT episode FROM episodes WHERE final = 1)`)
	if err != nil {
		return nil, fmt.Errorf("run store: clear the unfinished episodes: %w", err)
	}
	var stale []string
	for rows.Next() {
		var key string
		var attempt int
		if err := rows.Scan(&key, &attempt); err == nil {
			stale = append(stale, filepath.Join(d.dir, evals.AttemptsDir, fmt.Sprintf("%s-%d", key, attempt)))
		}
	}
	rows.Close()
	if _, err := d.db.Exec(`DELETE FROM episodes WHERE final = 0 AND episode NOT IN (SELECT episode FROM episodes WHERE final = 1)`); err != nil {
		return nil, fmt.Errorf("run store: clear the unfinished episodes: %w", err)
	}
	for _, dir := range stale {
		if err := os.RemoveAll(dir); err != nil {
			return nil, fmt.Errorf("run store: clear an unfinished attempt: %w", err)
		}
	}
	if _, err := d.db.Exec(`UPDATE run SET finished = NULL, interrupted = 0 WHERE id = 1`); err != nil {
		return nil, fmt.Errorf("run store: %w", err)
	}
	return d.Results()
}

// Status is what the run table says of the run.
type Status struct {
	Planned, Finished int  // planned episodes, and those with a final result
	Ended             bool // a process finished the run, complete or not
	Interrupted       bool // the last process was stopped before the end
	Started, EndedAt  time.Time
}

// Status reads the run's status.
func (d *DB) Status(ctx context.Context) (Status, error) {
	var s Status
	var started string
	var finished sql.NullString
	if err := d.db.QueryRowContext(ctx, `SELECT started, finished, interrupted FROM run WHERE id = 1`).Scan(&started, &finished, &s.Interrupted); err != nil {
		return s, fmt.Errorf("run store: %w", err)
	}
	s.Started, _ = time.Parse(time.RFC3339Nano, started)
	if finished.Valid {
		s.Ended = true
		s.EndedAt, _ = time.Parse(time.RFC3339Nano, finished.String)
	}
	if err := d.db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM planned), (SELECT count(*) FROM episodes WHERE final = 1)`).Scan(&s.Planned, &s.Finished); err != nil {
		return s, fmt.Errorf("run store: %w", err)
	}
	return s, nil
}

// Finish records that a process ended the run, with its report, and
// whether it was interrupted before every planned episode had a result.
func (d *DB) Finish(rep *evals.Report) error {
	var b []byte
	if rep != nil {
		var err error
		if b, err = json.Marshal(rep); err != nil {
			return fmt.Errorf("run store: encode the report: %w", err)
		}
	}
	interrupted := rep != nil && rep.Interrupted
	if _, err := d.db.Exec(`UPDATE run SET finished = ?, interrupted = ?, report = ? WHERE id = 1`,
		time.Now().UTC().Format(time.RFC3339Nano), interrupted, string(b)); err != nil {
		return fmt.Errorf("run store: %w", err)
	}
	return nil
}

// ExportJSONL writes the final results as JSON lines, in planned order:
// results.jsonl as earlier pilots wrote it, for pandas and jq.
func (d *DB) ExportJSONL(w io.Writer) error {
	rs, err := d.Results()
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, r := range rs {
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("run store: export: %w", err)
		}
	}
	return nil
}

// Close closes the database. evals.Run calls it at the end of a run.
func (d *DB) Close() error {
	err := d.db.Close()
	if d.lock != nil {
		d.lock.Close() // releases the lock
		d.lock = nil
	}
	if err != nil {
		return fmt.Errorf("run store: close: %w", err)
	}
	return nil
}
