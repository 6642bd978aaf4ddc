package runstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pilotkit/pilot/evals"
)

// Merge joins the runs of a study's shards (pilot eval --shard I/N, one
// run directory each) into a new run in into: one manifest (the shards',
// without the shard), the planned episodes in the study's order, every
// attempt and result with its steps, and the trajectory directories
// (copied). It refuses, changing nothing, shards of different studies (a
// manifest that differs in what it measures), a missing or repeated shard,
// an unfinished shard, and an into that holds a run.
func Merge(ctx context.Context, into string, shardDirs []string) (*DB, error) {
	if len(shardDirs) == 0 {
		return nil, errors.New("run store: merge: no shards given")
	}
	var dbs []*DB
	defer func() {
		for _, d := range dbs {
			d.Close()
		}
	}()
	for _, dir := range shardDirs {
		d, err := Open(dir)
		if err != nil {
			return nil, fmt.Errorf("run store: merge: %w", err)
		}
		dbs = append(dbs, d)
	}
	// Order the shards by I and check they make one study.
	shards := make([]evals.Shard, len(dbs))
	for i, d := range dbs {
		s, err := evals.ParseShard(d.manifest.Shard)
		if err != nil {
			return nil, fmt.Errorf("run store: merge: %s is not a shard (its manifest has no shard I/N): %w", d.dir, err)
		}
		shards[i] = s
	}
	n := shards[0].N
	if len(dbs) != n {
		return nil, fmt.Errorf("run store: merge: %d runs given, the study has %d shards: give all %d", len(dbs), n, n)
	}
	order := make([]*DB, n)
	for i, s := range shards {
		if s.N != n {
			return nil, fmt.Errorf("run store: merge: %s is shard %s, %s is shard %s: not one study", dbs[0].dir, shards[0], dbs[i].dir, s)
		}
		if order[s.I-1] != nil {
			return nil, fmt.Errorf("run store: merge: shard %s twice (%s and %s)", s, order[s.I-1].dir, dbs[i].dir)
		}
		order[s.I-1] = dbs[i]
	}
	study := studyOf(order[0].manifest)
	for _, d := range order[1:] {
		if diff := study.Diff(studyOf(d.manifest)); diff != nil {
			return nil, fmt.Errorf("run store: merge: %s and %s are shards of different studies:\n  %s", order[0].dir, d.dir, strings.Join(diff, "\n  "))
		}
	}
	for _, d := range order {
		st, err := d.Status(ctx)
		if err != nil {
			return nil, err
		}
		if st.Finished != st.Planned {
			return nil, fmt.Errorf("run store: merge: shard %s (%s) has %d of %d results: resume it first (pilot eval --resume %s)", d.manifest.Shard, d.dir, st.Finished, st.Planned, d.dir)
		}
	}
	// The study's plan: shard I holds episodes I-1, I-1+N, …
	var planned []string
	for j := 0; ; j++ {
		added := false
		for _, d := range order {
			if j < len(d.manifest.Planned) {
				planned = append(planned, d.manifest.Planned[j])
				added = true
			}
		}
		if !added {
			break
		}
	}
	m := order[0].manifest
	m.Shard, m.Planned = "", planned
	m.Started = earliest(order)
	m.Flags = clearShard(m.Flags)
	m.Args = slices.DeleteFunc(slices.Clone(m.Args), func(a string) bool { return strings.HasPrefix(a, "--shard=") || strings.HasPrefix(a, "--run-dir=") })
	if entries, err := os.ReadDir(into); err == nil && len(entries) > 0 {
		if _, serr := os.Stat(filepath.Join(into, File)); serr == nil {
			return nil, fmt.Errorf("run store: merge: %s already holds a run: choose a new --into", into)
		}
		return nil, fmt.Errorf("run store: merge: %s is not empty: choose a new --into", into)
	}
	out, err := Create(into, m)
	if err != nil {
		return nil, fmt.Errorf("run store: merge: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			out.Close()
			os.RemoveAll(into)
		}
	}()
	for _, d := range order {
		if err := out.copyRows(d); err != nil {
			return nil, err
		}
		for _, sub := range []string{evals.EpisodesDir, evals.AttemptsDir} {
			if err := copyTree(filepath.Join(d.dir, sub), filepath.Join(into, sub)); err != nil {
				return nil, fmt.Errorf("run store: merge: copy %s of %s: %w", sub, d.dir, err)
			}
		}
	}
	rep, err := out.Report(ctx)
	if err != nil {
		return nil, err
	}
	if err := out.Finish(rep); err != nil {
		return nil, err
	}
	ok = true
	return out, nil
}

// studyOf is m without what differs between the shards of one study.
func studyOf(m evals.Manifest) evals.Manifest {
	m.Shard, m.Planned, m.Args, m.Started = "", nil, nil, time.Time{}
	m.Flags = clearShard(m.Flags)
	return m
}

func clearShard(flags map[string]string) map[string]string {
	out := make(map[string]string, len(flags))
	for k, v := range flags {
		if k != "shard" && k != "run-dir" {
			out[k] = v
		}
	}
	return out
}

func earliest(dbs []*DB) time.Time {
	t := dbs[0].manifest.Started
	for _, d := range dbs[1:] {
		if d.manifest.Started.Before(t) {
			t = d.manifest.Started
		}
	}
	return t
}

// copyRows copies every episode and step row of src into d, in one
// transaction.
func (d *DB) copyRows(src *DB) error {
	tx, err := d.db.Begin()
	if err != nil {
		return fmt.Errorf("run store: merge: %w", err)
	}
	defer tx.Rollback()
	rows, err := src.db.Query(`SELECT episode, attempt, final, outcome, error_kind, success, reward, steps, tokens, cost_usd, duration_ns, result, trajectory, ended FROM episodes`)
	if err != nil {
		return fmt.Errorf("run store: merge: read %s: %w", src.dir, err)
	}
	for rows.Next() {
		v := make([]any, 14)
		p := make([]any, len(v))
		for i := range v {
			p[i] = &v[i]
		}
		if err := rows.Scan(p...); err != nil {
			rows.Close()
			return fmt.Errorf("run store: merge: read %s: %w", src.dir, err)
		}
		if _, err := tx.Exec(`INSERT INTO episodes (episode, attempt, final, outcome, error_kind, success, reward, steps, tokens, cost_usd, duration_ns, result, trajectory, ended)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, v...); err != nil {
			rows.Close()
			return fmt.Errorf("run store: merge: episode %v of %s: %w", v[0], src.dir, err)
		}
	}
	rows.Close()
	srows, err := src.db.Query(`SELECT episode, attempt, idx, action, reward, terminated, truncated, obs_error, env_ns, policy_ns, tokens, cost_usd, unchanged FROM steps`)
	if err != nil {
		return fmt.Errorf("run store: merge: read %s: %w", src.dir, err)
	}
	defer srows.Close()
	for srows.Next() {
		v := make([]any, 13)
		p := make([]any, len(v))
		for i := range v {
			p[i] = &v[i]
		}
		if err := srows.Scan(p...); err != nil {
			return fmt.Errorf("run store: merge: read %s: %w", src.dir, err)
		}
		if _, err := tx.Exec(`INSERT INTO steps (episode, attempt, idx, action, reward, terminated, truncated, obs_error, env_ns, policy_ns, tokens, cost_usd, unchanged)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, v...); err != nil {
			return fmt.Errorf("run store: merge: a step of %v in %s: %w", v[0], src.dir, err)
		}
	}
	if err := srows.Err(); err != nil {
		return fmt.Errorf("run store: merge: read %s: %w", src.dir, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("run store: merge: %w", err)
	}
	return nil
}

// copyTree copies the files under src into dst (made as needed); a
// missing src copies nothing.
func copyTree(src, dst string) error {
	err := filepath.WalkDir(src, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if e.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
