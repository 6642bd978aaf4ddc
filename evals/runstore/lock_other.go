//go:build !unix

package runstore

import (
	"errors"
	"os"
)

// ErrBusy is wrapped by the error of a writer that finds another process
// writing the run.
var ErrBusy = errors.New("the run is in use by another process")

// lock does nothing where flock is missing: two writers are not refused.
func lock(string) (*os.File, error) { return nil, nil }
