//go:build unix

package web

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup starts the browser in a process group of its own.
func ownProcessGroup(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
}
