//go:build !unix

package web

import "os/exec"

// ownProcessGroup is a no-op where process groups do not exist.
func ownProcessGroup(*exec.Cmd) {}

// killGroup is a no-op where process groups do not exist.
func killGroup(int) {}

// shmDir is "" where there is no /dev/shm.
func shmDir() string { return "" }
