//go:build unix

package web

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// profileLock is the file in a profile that the pilot using it holds
// locked (flock) while its browser lives: a profile whose lock is free
// belongs to a pilot that was killed.
const profileLock = ".pilot-lock"

// lockProfile takes the lock of the profile dir, held until the returned
// file is closed (or the process dies).
func lockProfile(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, profileLock), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// staleAfter is how old a profile without a lock file must be to count as
// left behind: a pilot that is starting a browser creates the lock a
// moment after the directory.
const staleAfter = time.Minute

// sweepProfiles removes the profiles under base (pilot-chrome-*) that no
// live pilot holds: those that a killed run left in /dev/shm or the temp
// directory. It returns how many it removed.
func sweepProfiles(base string) int {
	dirs, _ := filepath.Glob(filepath.Join(base, "pilot-chrome-*"))
	removed := 0
	for _, d := range dirs {
		f, err := os.OpenFile(filepath.Join(d, profileLock), os.O_RDWR, 0)
		if err != nil {
			// No lock file: an older pilot's, or one being made now. It is
			// stale when it is old and no Chromium holds it (Chromium's own
			// SingletonLock names its process).
			if fi, serr := os.Stat(d); serr != nil || !fi.IsDir() || time.Since(fi.ModTime()) < staleAfter || chromiumAlive(d) {
				continue
			}
		} else {
			// A young profile may be one whose pilot has created the lock
			// file and not yet taken the lock.
			fi, serr := os.Stat(d)
			busy := serr != nil || time.Since(fi.ModTime()) < staleAfter ||
				syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil
			if busy {
				f.Close()
				continue
			}
			// Held by us now: remove it while no one can claim it.
			defer f.Close()
		}
		if os.RemoveAll(d) == nil {
			removed++
		}
	}
	return removed
}

// chromiumAlive reports whether the Chromium that Chromium's SingletonLock
// in the profile names ("hostname-pid") is still running.
func chromiumAlive(profile string) bool {
	target, err := os.Readlink(filepath.Join(profile, "SingletonLock"))
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(target, '-')
	pid, err := strconv.Atoi(target[i+1:])
	if err != nil || pid <= 0 {
		return true // unreadable: leave it be
	}
	return syscall.Kill(pid, 0) == nil || errors.Is(syscall.Kill(pid, 0), syscall.EPERM)
}
