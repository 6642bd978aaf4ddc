package evals

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// Store keeps the results of a run as its episodes end. Run calls Add
// from one goroutine at a time, once per finished episode, and Close once
// at the end. An error from Add stops the run.
type Store interface {
	Add(r Result) error
	Close() error
}

// JSONLStore is a Store that appends each result to a file as one JSON
// line, in one write, so a killed run keeps the lines of the episodes that
// finished. ReadResults reads the file back.
type JSONLStore struct {
	f *os.File
}

var _ Store = (*JSONLStore)(nil)

// CreateJSONL creates a JSONL store at path. It refuses a file that is
// already there (an error wrapping os.ErrExist): a run directory holds one
// run.
func CreateJSONL(path string) (*JSONLStore, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o644)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("results store: %w: the run directory already holds a run; choose another run directory", err)
		}
		return nil, fmt.Errorf("results store: %w", err)
	}
	return &JSONLStore{f: f}, nil
}

// Add appends r as one line.
func (s *JSONLStore) Add(r Result) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("results store: encode %s: %w", r.TaskID, err)
	}
	if _, err := s.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("results store: %w", err)
	}
	return nil
}

// Close closes the file.
func (s *JSONLStore) Close() error { return s.f.Close() }

// ReadResults reads the results a JSONLStore wrote, one a line. Errors
// name the line.
func ReadResults(r io.Reader) ([]Result, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	var out []Result
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var res Result
		if err := json.Unmarshal(line, &res); err != nil {
			return out, fmt.Errorf("results line %d: %w", n, err)
		}
		out = append(out, res)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("results: read: %w", err)
	}
	return out, nil
}
