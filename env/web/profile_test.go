//go:build unix

package web

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pilotkit/pilot/env"
)

// A killed run's profiles are removed by the next; those of live pilots
// (our lock, or Chromium's SingletonLock naming a live process) and one
// being made right now are not.
func TestSweepProfiles(t *testing.T) {
	base := t.TempDir()
	mk := func(name string, old bool) string {
		d := filepath.Join(base, "pilot-chrome-"+name)
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if old {
			past := time.Now().Add(-time.Hour)
			os.Chtimes(d, past, past)
		}
		return d
	}
	freeLock := mk("killed", true)
	f, err := lockProfile(freeLock)
	if err != nil {
		t.Fatal(err)
	}
	f.Close() // the process that held it is gone
	os.Chtimes(freeLock, time.Now().Add(-time.Hour), time.Now().Add(-time.Hour))
	young := mk("lock-not-yet-taken", false)
	yf, err := os.Create(filepath.Join(young, profileLock))
	if err != nil {
		t.Fatal(err)
	}
	yf.Close()
	held := mk("live", false)
	hf, err := lockProfile(held)
	if err != nil {
		t.Fatal(err)
	}
	defer hf.Close()
	oldNoLock := mk("old-pilot-killed", true)
	fresh := mk("starting", false)
	chromium := mk("old-pilot-live", true)
	if err := os.Symlink("host-"+strconv.Itoa(os.Getpid()), filepath.Join(chromium, "SingletonLock")); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(chromium, time.Now().Add(-time.Hour), time.Now().Add(-time.Hour))
	other := filepath.Join(base, "not-ours")
	os.Mkdir(other, 0o700)

	if n := sweepProfiles(base); n != 2 {
		t.Errorf("sweepProfiles removed %d, want 2", n)
	}
	for d, want := range map[string]bool{freeLock: false, oldNoLock: false, held: true, fresh: true, chromium: true, other: true, young: true} {
		if _, err := os.Stat(d); (err == nil) != want {
			t.Errorf("%s: exists %v, want %v", filepath.Base(d), err == nil, want)
		}
	}
}

// A Chromium that fails to start is reported by its last line of output,
// not all of it.
func TestChromeStartupNoise(t *testing.T) {
	script := filepath.Join(t.TempDir(), "chromium")
	noise := "#!/bin/sh\nfor i in 1 2 3 4 5; do echo \"[1203/1:ERROR:gpu_init.cc($i)] noise line $i\" >&2; done\nexit 1\n"
	if err := os.WriteFile(script, []byte(noise), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PILOT_CHROME", script)
	e, err := New(Options{})
	if err == nil {
		defer e.Close()
		_, err = e.Reset(ctxT(t), env.Task{StartURL: "about:blank"})
	}
	if err == nil || !strings.Contains(err.Error(), "noise line 5 (and 4 more lines of Chromium's output)") || strings.Contains(err.Error(), "noise line 1") {
		t.Errorf("starting a Chromium that fails = %v; want its last line and a count of the rest", err)
	}
}
