//go:build unix

package tasks

import (
	"os/exec"
	"syscall"
)

// killGroup runs cmd in a process group of its own and kills the whole
// group when its context ends: a program's children go with it.
func killGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		if cmd.Process == nil {
			return nil
		}
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
