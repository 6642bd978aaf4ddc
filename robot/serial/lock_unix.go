//go:build unix

package serial

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockPort takes an exclusive advisory lock (flock) on the device at
// path, held until the returned file is closed. go.bug.st/serial sets
// TIOCEXCL, which root ignores; the lock refuses a second pilot on the
// port whoever runs it.
func lockPort(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOCTTY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("serial: cannot open %s: %w: another process has it open "+
				"(another pilot, a LeRobot script, a serial monitor); stop it and retry "+
				"(`fuser -v %s` shows which)", path, ErrBusy, path)
		}
		return nil, fmt.Errorf("serial: cannot lock %s: %w", path, err)
	}
	return f, nil
}
