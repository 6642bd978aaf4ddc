// Package serial finds and opens serial ports: USB-serial adapters of
// robot arms (go.bug.st/serial) or, in tests and the simulator, a
// pseudo-terminal handed in through an Opener.
package serial

import (
	"io"
	"time"
)

// Port is an open serial line.
type Port interface {
	io.ReadWriteCloser
	// SetReadTimeout bounds how long Read waits for the first byte: when
	// d passes with nothing received, Read returns 0, nil (go.bug.st/serial's
	// contract). d < 0 waits forever.
	SetReadTimeout(d time.Duration) error
	// ResetInputBuffer drops bytes received and not yet read.
	ResetInputBuffer() error
}

// Config is how to open a port.
type Config struct {
	Baud        int           // bits per second; 0 means 1,000,000 (Feetech STS default)
	ReadTimeout time.Duration // initial read timeout; 0 means 100 ms
}

// Opener opens the port at path. The default opens a real port with
// go.bug.st/serial; tests and the simulator hand in their own (gobot's
// PortOpener seam).
type Opener func(path string, cfg Config) (Port, error)
