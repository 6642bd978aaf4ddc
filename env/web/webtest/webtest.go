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
// creates in the temporary directory and removes on Close.
const ProfilePattern = "pilot-chrome-*"

// Main runs the tests and fails the run when they leave a browser profile
// directory behind: an Env that was not closed, or a Close that did not
// clean up. Call it from TestMain: func TestMain(m *testing.M) { webtest.Main(m) }.
func Main(m *testing.M) {
	before := profiles()
	code := m.Run()
	if code == 0 {
		for d := range profiles() {
			if !before[d] {
				fmt.Fprintf(os.Stderr, "leaked browser profile directory %s: close every web.Env\n", d)
				code = 1
			}
		}
	}
	os.Exit(code)
}

func profiles() map[string]bool {
	m, _ := filepath.Glob(filepath.Join(os.TempDir(), ProfilePattern))
	out := make(map[string]bool, len(m))
	for _, d := range m {
		out[d] = true
	}
	return out
}
