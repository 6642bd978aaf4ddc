package serial

import (
	"fmt"
	"os"
	"time"

	bugst "go.bug.st/serial"
)

// Defaults of Config.
const (
	DefaultBaud        = 1_000_000
	DefaultReadTimeout = 100 * time.Millisecond
)

var _ Opener = Open

// Open opens the serial port at path with go.bug.st/serial: 8 data bits,
// no parity, one stop bit, cfg.Baud (0 means DefaultBaud) and a read
// timeout of cfg.ReadTimeout (0 means DefaultReadTimeout, negative waits
// forever). It is the default Opener.
//
// The port is opened exclusively: a second Open of the same device, from
// this process or another, fails with ErrBusy ("port in use") until the
// first is closed. Errors wrap ErrPermission, ErrBusy or ErrNotFound where
// they are one of them, and say what to do.
func Open(path string, cfg Config) (Port, error) {
	if cfg.Baud == 0 {
		cfg.Baud = DefaultBaud
	}
	if cfg.Baud < 0 {
		return nil, fmt.Errorf("serial: cannot open %s: baud rate %d is negative", path, cfg.Baud)
	}
	if cfg.ReadTimeout == 0 {
		cfg.ReadTimeout = DefaultReadTimeout
	}
	p, err := bugst.Open(path, &bugst.Mode{
		BaudRate: cfg.Baud,
		DataBits: 8,
		Parity:   bugst.NoParity,
		StopBits: bugst.OneStopBit,
	})
	if err != nil {
		return nil, classifyOpenError(path, cfg, err, List)
	}
	lock, err := lockPort(path)
	if err != nil {
		p.Close()
		return nil, err
	}
	port := &bugstPort{Port: p, path: path, lock: lock}
	if err := port.SetReadTimeout(cfg.ReadTimeout); err != nil {
		port.Close()
		return nil, fmt.Errorf("serial: cannot set the read timeout of %s to %v: %w", path, cfg.ReadTimeout, err)
	}
	return port, nil
}

// bugstPort is a go.bug.st/serial port. The embedded Port keeps its other
// methods (SetDTR, Drain, Break...) reachable by a type assertion.
type bugstPort struct {
	bugst.Port
	path string
	lock *os.File // holds the exclusive lock on the device; nil without one
}

// Close closes the port and releases its lock.
func (p *bugstPort) Close() error {
	err := p.Port.Close()
	if p.lock != nil {
		p.lock.Close()
	}
	return err
}

// SetReadTimeout maps every negative d to "wait forever" (go.bug.st/serial
// accepts only its NoTimeout, -1).
func (p *bugstPort) SetReadTimeout(d time.Duration) error {
	if d < 0 {
		d = bugst.NoTimeout
	}
	return p.Port.SetReadTimeout(d)
}

// String is the port's path.
func (p *bugstPort) String() string { return p.path }
