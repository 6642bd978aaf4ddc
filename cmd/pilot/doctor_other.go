//go:build !linux

package main

import "os"

// portMode describes a device's permissions.
func portMode(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return fi.Mode().String()
}

// portAccess is not checked on this system.
func portAccess(string) error { return nil }
