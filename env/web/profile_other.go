//go:build !unix

package web

import "os"

// lockProfile does nothing where flock is missing.
func lockProfile(string) (*os.File, error) { return nil, nil }

// sweepProfiles removes nothing where a live profile cannot be told from a
// stale one.
func sweepProfiles(string) int { return 0 }
