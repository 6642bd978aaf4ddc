//go:build linux

package webtest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// A process is a browser process of this test binary.
type process struct {
	pid  int
	kind string // "browser", or Chromium's --type: renderer, zygote, …
}

func (p process) String() string { return fmt.Sprintf("%d (%s)", p.pid, p.kind) }

func (p process) kill() { _ = syscall.Kill(p.pid, syscall.SIGKILL) }

// processesUnder lists the processes whose command line names a
// user-data-dir in dir: the browsers of this test binary and their
// helpers.
func processesUnder(dir string) []process {
	flag := []byte("--user-data-dir=" + dir + string(filepath.Separator))
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	var procs []process
	for _, f := range cmdlines {
		b, err := os.ReadFile(f)
		if err != nil || !bytes.Contains(b, flag) {
			continue
		}
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(f)))
		if err != nil || pid == os.Getpid() {
			continue
		}
		p := process{pid: pid, kind: "browser"}
		// Chromium's helpers rewrite their command line as one string.
		for _, arg := range bytes.FieldsFunc(b, func(r rune) bool { return r == 0 || r == ' ' }) {
			if t, ok := bytes.CutPrefix(arg, []byte("--type=")); ok {
				p.kind = string(t)
			}
		}
		procs = append(procs, p)
	}
	return procs
}
