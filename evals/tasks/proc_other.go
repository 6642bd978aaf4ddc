//go:build !unix

package tasks

import "os/exec"

// killGroup leaves cmd as it is: its context's end kills the program only.
func killGroup(*exec.Cmd) {}
