package main

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// portMode describes a device's permissions and group: "crw-rw---- group dialout".
func portMode(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fi.Mode().String()
	}
	group := strconv.FormatUint(uint64(st.Gid), 10)
	if g, err := user.LookupGroupId(group); err == nil {
		group = g.Name
	}
	return fmt.Sprintf("%s group %s", fi.Mode(), group)
}

// portAccess reports whether this user may open path for reading and
// writing, without opening it (which would toggle DTR and may reset a
// board).
func portAccess(path string) error {
	const rw = 0x4 | 0x2 // R_OK | W_OK
	if err := syscall.Access(path, rw); err != nil {
		return fmt.Errorf("access %s: %w", path, err)
	}
	return nil
}
