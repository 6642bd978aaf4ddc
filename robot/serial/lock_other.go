//go:build !unix

package serial

import "os"

// lockPort is a no-op where flock is not available; the system's own
// exclusive open applies.
func lockPort(string) (*os.File, error) { return nil, nil }
