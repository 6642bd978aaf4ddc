package sim

import (
	"fmt"
	"sync"
	"time"

	"github.com/pilotkit/pilot/robot/serial"
)

// Port returns an in-process serial port to the arm, for the fast mode
// that needs no pseudo-terminal: Write takes instruction frames (in any
// pieces) and queues the answers at once, at the simulated time Now (time
// does not advance on its own: sleep on Clock between control cycles);
// Read returns queued bytes, or 0, nil at once when there are none, as a
// read that timed out. There is no wire timing. Faults apply. Each call
// returns a new port with its own buffers; Close is a no-op that does not
// close the Sim. After Sim.Close, Read and Write fail with ErrClosed.
func (s *Sim) Port() serial.Port { return &port{s: s} }

type port struct {
	s       *Sim
	mu      sync.Mutex
	in      []byte // the start of a frame not yet complete
	out     []byte // answers not yet read
	outRead int    // bytes of out already read
	timeout time.Duration
}

var _ serial.Port = (*port)(nil)

func (p *port) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, fmt.Errorf("sim: writing to the in-process port: %w", ErrClosed)
	}
	p.in = append(p.in, b...)
	if p.outRead == len(p.out) {
		p.out, p.outRead = p.out[:0], 0
	}
	var used int
	used, p.out, _ = s.serve(p.in, p.out, nil)
	p.in = p.in[:copy(p.in, p.in[used:])]
	return len(b), nil
}

func (p *port) Read(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.s
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return 0, fmt.Errorf("sim: reading from the in-process port: %w", ErrClosed)
	}
	n := copy(b, p.out[p.outRead:])
	p.outRead += n
	return n, nil
}

// SetReadTimeout is kept for the interface: reads never wait, since
// nothing arrives while the caller waits.
func (p *port) SetReadTimeout(d time.Duration) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.timeout = d
	return nil
}

// ResetInputBuffer drops answers not yet read.
func (p *port) ResetInputBuffer() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.out, p.outRead = p.out[:0], 0
	return nil
}

// Close does nothing: the Sim lives on.
func (p *port) Close() error { return nil }
