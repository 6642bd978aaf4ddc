// Package webtest holds test helpers for code that drives the web
// environment.
package webtest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// ProfilePattern matches the browser profile directories that env/web
// creates (in $PILOT_PROFILE_DIR, else /dev/shm or the temporary
// directory) and removes on Close.
const ProfilePattern = "pilot-chrome-*"

// Main runs the tests and fails the run when they leave a browser profile
// directory behind: an Env that was not closed, or a Close that did not
// clean up. Call it from TestMain: func TestMain(m *testing.M) { webtest.Main(m) }.
//
// It points PILOT_PROFILE_DIR at a directory of this test binary's own, so
// that the packages go test runs in parallel do not see each other's
// browsers.
func Main(m *testing.M) {
	dir, err := os.MkdirTemp("", "pilot-test-profiles-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, "webtest:", err)
		os.Exit(1)
	}
	os.Setenv("PILOT_PROFILE_DIR", dir)
	code := m.Run()
	left, _ := filepath.Glob(filepath.Join(dir, ProfilePattern))
	if code == 0 {
		for _, d := range left {
			fmt.Fprintf(os.Stderr, "leaked browser profile directory %s: close every web.Env\n", d)
			code = 1
		}
	}
	os.RemoveAll(dir)
	os.Exit(code)
}
