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

// killGroup kills what is left of the process group of the browser whose
// process id is pid (it leads its own group: see ownProcessGroup).
func killGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }

// shmDir returns /dev/shm when it is a writable memory file system of at
// least 1 GiB, else "". Browser profiles and shared memory are faster
// there than in a temporary directory on disk.
func shmDir() string {
	const dir = "/dev/shm"
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return ""
	}
	if uint64(st.Bavail)*uint64(st.Bsize) < 1<<30 || syscall.Access(dir, 2 /* W_OK */) != nil {
		return ""
	}
	return dir
}
