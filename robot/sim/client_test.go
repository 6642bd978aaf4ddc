package sim

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/pilotkit/pilot/robot/feetech"
	"github.com/pilotkit/pilot/robot/serial"
)

// A test client of the Feetech protocol, written here on purpose (not the
// robot/feetech bus client): the simulator is checked byte for byte
// against frames built with feetech.AppendFrame and parsed with
// feetech.ScanFrame.

// transport opens a client to a Sim: over a real pseudo-terminal with
// robot/serial.Open, or in-process through Port with the Clock.
type transport struct {
	name string
	open func(tb testing.TB, s *Sim) *client
}

var transports = []transport{
	{name: "pty", open: openPTYClient},
	{name: "inprocess", open: openPortClient},
}

// client speaks the protocol over a port.
type client struct {
	tb       testing.TB
	port     serial.Port
	buf      []byte
	realTime bool
	start    time.Time
	clock    *Clock
	patience time.Duration // how long to wait for an answer in real time
}

func openPTYClient(tb testing.TB, s *Sim) *client {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	p, err := s.ServePTY(ctx)
	if err != nil {
		tb.Fatalf("ServePTY: %v", err)
	}
	tb.Cleanup(func() {
		if err := p.Close(); err != nil {
			tb.Errorf("PTY.Close: %v", err)
		}
	})
	port, err := serial.Open(p.Path(), serial.Config{ReadTimeout: 20 * time.Millisecond})
	if err != nil {
		tb.Fatalf("serial.Open(%s): %v", p.Path(), err)
	}
	tb.Cleanup(func() { port.Close() })
	// A busy machine can hold the simulator's answers up for a second and
	// more: a generous patience.
	return &client{tb: tb, port: port, realTime: true, start: time.Now(), patience: 10 * time.Second}
}

func openPortClient(tb testing.TB, s *Sim) *client {
	return &client{tb: tb, port: s.Port(), clock: s.Clock()}
}

// now is the client's time: wall time since it opened, or simulated time.
func (c *client) now() time.Duration {
	if c.realTime {
		return time.Since(c.start)
	}
	return c.clock.Now()
}

// pass lets d go by: a real sleep between polls, or advancing the clock.
func (c *client) pass(d time.Duration) {
	if c.realTime {
		time.Sleep(d)
		return
	}
	if err := c.clock.Sleep(context.Background(), d); err != nil {
		c.tb.Fatalf("Clock.Sleep: %v", err)
	}
}

// eventually polls cond every 10 ms until it holds, for up to limit of
// the client's time.
func (c *client) eventually(limit time.Duration, what string, cond func() bool) {
	c.tb.Helper()
	end := c.now() + limit
	for !cond() {
		if c.now() > end {
			c.tb.Fatalf("after %v: %s never happened", limit, what)
		}
		c.pass(10 * time.Millisecond)
	}
}

var errNoStatus = errors.New("no status packet")

// exchange sends req and reads want status packets. It returns the frames
// read (params copied) and errNoStatus when fewer came in time, or the
// scanner's error for a corrupt packet.
func (c *client) exchange(req []byte, want int) ([]feetech.Frame, error) {
	c.tb.Helper()
	if _, err := c.port.Write(req); err != nil {
		return nil, fmt.Errorf("write: %w", err)
	}
	return c.receive(want, c.patience)
}

func (c *client) receive(want int, patience time.Duration) ([]feetech.Frame, error) {
	var frames []feetech.Frame
	deadline := time.Now().Add(patience)
	tmp := make([]byte, 512)
	for len(frames) < want {
		f, n, err := feetech.ScanFrame(c.buf, feetech.StatusKind)
		if err == nil {
			f.Params = append([]byte(nil), f.Params...)
			frames = append(frames, f)
			c.buf = c.buf[n:]
			continue
		}
		if !errors.Is(err, feetech.ErrShortFrame) {
			c.buf = c.buf[n:]
			return frames, err
		}
		n, err = c.port.Read(tmp)
		if err != nil {
			return frames, fmt.Errorf("read: %w", err)
		}
		c.buf = append(c.buf, tmp[:n]...)
		if n == 0 && (!c.realTime || time.Now().After(deadline)) {
			return frames, errNoStatus
		}
	}
	return frames, nil
}

// reset drops whatever is buffered.
func (c *client) reset() {
	c.tb.Helper()
	c.buf = c.buf[:0]
	if err := c.port.ResetInputBuffer(); err != nil {
		c.tb.Fatalf("ResetInputBuffer: %v", err)
	}
}

// one sends req and wants exactly one status from id.
func (c *client) one(req []byte, id byte) feetech.Frame {
	c.tb.Helper()
	fs, err := c.exchange(req, 1)
	if err != nil {
		c.tb.Fatalf("request % X: %v", req, err)
	}
	if fs[0].ID != id {
		c.tb.Fatalf("request % X answered by ID %d, want %d", req, fs[0].ID, id)
	}
	return fs[0]
}

func (c *client) ping(id byte) feetech.Frame {
	c.tb.Helper()
	return c.one(feetech.AppendFrame(nil, id, feetech.InstPing), id)
}

// read reads register r of id and returns its value and the status bits.
func (c *client) read(id byte, r feetech.Register) (int, byte) {
	c.tb.Helper()
	f := c.one(feetech.AppendFrame(nil, id, feetech.InstRead, r.Addr(), byte(r.Size())), id)
	if len(f.Params) != r.Size() {
		c.tb.Fatalf("read %s of %d: %d data bytes, want %d", r.Name(), id, len(f.Params), r.Size())
	}
	return r.Decode(f.Params), f.Code
}

func (c *client) get(id byte, name feetech.Register) int {
	c.tb.Helper()
	v, _ := c.read(id, name)
	return v
}

// set writes register name of id and wants a clean status.
func (c *client) set(id byte, name feetech.Register, v int) {
	c.tb.Helper()
	r := name
	data, err := r.Encode(v)
	if err != nil {
		c.tb.Fatalf("encode %s = %d: %v", name, v, err)
	}
	f := c.one(feetech.AppendFrame(nil, id, feetech.InstWrite, append([]byte{r.Addr()}, data...)...), id)
	if f.Code&bitInstruction != 0 {
		c.tb.Fatalf("write %s = %d to %d: status 0x%02X", name, v, id, f.Code)
	}
}

func syncReadFrame(r feetech.Register, ids []byte) []byte {
	return feetech.AppendFrame(nil, feetech.BroadcastID, feetech.InstSyncRead, append([]byte{r.Addr(), byte(r.Size())}, ids...)...)
}

func syncWriteFrame(tb testing.TB, r feetech.Register, ids []byte, vals []int) []byte {
	p := []byte{r.Addr(), byte(r.Size())}
	for i, id := range ids {
		data, err := r.Encode(vals[i])
		if err != nil {
			tb.Fatalf("encode %s = %d: %v", r.Name(), vals[i], err)
		}
		p = append(append(p, id), data...)
	}
	return feetech.AppendFrame(nil, feetech.BroadcastID, feetech.InstSyncWrite, p...)
}

// silent sends req, which must get no answer: a ping to barrier after it
// must be the next thing that comes back (the simulator answers in order).
func (c *client) silent(req []byte, barrier byte) {
	c.tb.Helper()
	if _, err := c.port.Write(req); err != nil {
		c.tb.Fatalf("write % X: %v", req, err)
	}
	fs, err := c.exchange(feetech.AppendFrame(nil, barrier, feetech.InstPing), 1)
	if err != nil {
		c.tb.Fatalf("ping %d after % X: %v", barrier, req, err)
	}
	if fs[0].ID != barrier || len(fs[0].Params) != 0 {
		c.tb.Fatalf("after % X the next status is ID %d params % X, want the ping status of %d: the request was answered", req, fs[0].ID, fs[0].Params, barrier)
	}
}
