//go:build unix

package runstore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// lockFile is the name of the lock a writing process holds in the run
// directory.
const lockFile = "run.lock"

// ErrBusy is wrapped by the error of a writer that finds another process
// writing the run.
var ErrBusy = errors.New("the run is in use by another process")

// lock takes the exclusive lock (flock) of the run in dir, held until the
// returned file is closed, and writes this process's id into it. A killed
// process's lock goes with it.
func lock(dir string) (*os.File, error) {
	path := filepath.Join(dir, lockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("run store: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b := make([]byte, 32)
		n, _ := f.ReadAt(b, 0)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			who := "another process"
			if pid, perr := strconv.Atoi(strings.TrimSpace(string(b[:n]))); perr == nil {
				who = "process " + strconv.Itoa(pid)
			}
			return nil, fmt.Errorf("run store: %s: %w: %s is running it; wait for it to end, or stop it and resume", dir, ErrBusy, who)
		}
		return nil, fmt.Errorf("run store: lock %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}
