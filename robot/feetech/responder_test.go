//go:build linux

package feetech

import (
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/pilotkit/pilot/robot/serial"
)

// The tests play the servos on the master side of a real pseudo-terminal:
// a responder reads instruction frames and answers from register maps.

type testServo struct {
	regs    [256]byte
	errBits byte
	pending []byte // REG_WRITE: address, data...
}

// fault rewrites the responder's answer to the n-th instruction (from 1):
// out is written instead of reply (nil: nothing); hangUp closes the master.
type fault func(n int, inst Frame, reply []byte) (out []byte, hangUp bool)

type responder struct {
	master *os.File
	done   chan struct{}

	mu      sync.Mutex
	servos  map[byte]*testServo
	fault   fault
	echo    bool     // write each instruction back first (no direction control)
	chunk   int      // write answers in pieces of this many bytes (0: at once)
	baud    int      // answer only while the line runs at this speed (0: any)
	frames  [][]byte // every instruction frame received
	record  bool
	count   int
	counted chan struct{} // made by waitInstructions, closed at the next instruction
}

// openTestPTY returns a pollable master and the open slave of a new
// pseudo-terminal. pty.Open leaves the master blocking (it calls Fd), where
// Close cannot interrupt a Read, so it is re-opened non-blocking.
func openTestPTY(t testing.TB) (master, slave *os.File) {
	t.Helper()
	m, s, err := pty.Open()
	if err != nil {
		t.Fatalf("pty.Open: %v", err)
	}
	fd, err := unix.FcntlInt(m.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("dup pty master: %v", err)
	}
	m.Close()
	if err := unix.SetNonblock(fd, true); err != nil {
		t.Fatalf("pty master non-blocking: %v", err)
	}
	return os.NewFile(uintptr(fd), "/dev/ptmx"), s
}

// newResponder starts a responder with servos ids on a new pseudo-terminal
// and returns it with the path of the line's servo side. The test's copy of
// the slave stays open, so that the line survives a Bus closing and
// reopening it (Scan); cleanup stops the responder and waits for it.
func newResponder(t testing.TB, ids ...byte) (*responder, string) {
	t.Helper()
	master, slave := openTestPTY(t)
	r := &responder{master: master, done: make(chan struct{}), servos: map[byte]*testServo{}}
	for _, id := range ids {
		r.servos[id] = newTestServo(id)
	}
	go r.run()
	t.Cleanup(func() {
		r.master.Close()
		<-r.done
		slave.Close()
	})
	return r, slave.Name()
}

// Timeouts of the tests. A heavily loaded test machine was seen to stall
// the test process for up to 2 s. A reply that must arrive within a timeout
// gets patient; a reply that a test drops on purpose costs deliberate, and
// such tests leave room for extra retries.
const (
	patient    = 10 * time.Second
	deliberate = time.Second
)

// newTestBus returns a Bus over a pseudo-terminal whose other end plays
// servos ids. Options.Timeout defaults to patient here.
func newTestBus(t testing.TB, opts Options, ids ...byte) (*Bus, *responder) {
	t.Helper()
	r, path := newResponder(t, ids...)
	if opts.Timeout == 0 {
		opts.Timeout = patient
	}
	return newBusAt(t, path, opts), r
}

// newBusAt opens path and returns a Bus on it, closed at cleanup.
func newBusAt(t testing.TB, path string, opts Options) *Bus {
	t.Helper()
	p, err := serial.Open(path, serial.Config{})
	if err != nil {
		t.Fatalf("serial.Open(%s) = %v", path, err)
	}
	b := NewBus(p, opts)
	t.Cleanup(func() { b.Close() })
	return b
}

func newTestServo(id byte) *testServo {
	s := &testServo{}
	put16(s.regs[:], Model.Addr(), ModelSTS3215)
	s.regs[ID.Addr()] = id
	put16(s.regs[:], PresentPosition.Addr(), 2000+10*int(id))
	put16(s.regs[:], GoalPosition.Addr(), 2000+10*int(id))
	s.regs[PresentVoltage.Addr()] = 120
	s.regs[PresentTemperature.Addr()] = 30 + id
	return s
}

func put16(regs []byte, addr byte, v int) { regs[addr], regs[addr+1] = byte(v), byte(v>>8) }

// set runs f with the responder locked, to change its servos or faults.
func (r *responder) set(f func(r *responder)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(r)
}

// reg16 reads a servo's 2-byte register as the responder holds it.
func (r *responder) reg16(id byte, reg Register) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return reg.Decode(r.servos[id].regs[reg.Addr():])
}

// instructions is how many instruction frames arrived.
func (r *responder) instructions() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.count
}

// waitInstructions waits until n instruction frames arrived (the bus may
// return before the responder has read its last instruction) or a
// generous time passed, and returns the count.
func (r *responder) waitInstructions(n int) int {
	timeout := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		if r.counted == nil {
			r.counted = make(chan struct{})
		}
		count, counted := r.count, r.counted
		r.mu.Unlock()
		if count >= n {
			return count
		}
		select {
		case <-counted:
		case <-timeout:
			return count
		}
	}
}

func (r *responder) recorded() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.frames...)
}

func (r *responder) run() {
	defer close(r.done)
	buf := make([]byte, 0, 4096)
	in := make([]byte, 1024)
	var out []byte
	for {
		n, err := r.master.Read(in)
		if err != nil {
			return // closed by the test, or the servo side is gone
		}
		buf = append(buf, in[:n]...)
		for {
			f, k, err := ScanFrame(buf, InstructionKind)
			if errors.Is(err, ErrShortFrame) {
				buf = buf[:copy(buf, buf[k:])]
				break
			}
			if err == nil {
				var hangUp bool
				out, hangUp = r.answer(f, buf[k-f.Len():k], out[:0])
				if hangUp {
					r.master.Close()
					return
				}
				if !r.write(out) {
					return
				}
			}
			buf = buf[:copy(buf, buf[k:])]
		}
	}
}

// write sends out to the bus, in pieces if asked to.
func (r *responder) write(out []byte) bool {
	r.mu.Lock()
	chunk := r.chunk
	r.mu.Unlock()
	if chunk <= 0 {
		chunk = len(out)
	}
	for len(out) > 0 {
		k := min(chunk, len(out))
		if _, err := r.master.Write(out[:k]); err != nil {
			return false
		}
		out = out[k:]
	}
	return true
}

// answer applies instruction f and appends what the servos send back.
func (r *responder) answer(f Frame, raw, out []byte) ([]byte, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.count++
	if r.counted != nil {
		close(r.counted)
		r.counted = nil
	}
	if r.record {
		r.frames = append(r.frames, append([]byte(nil), raw...))
	}
	if r.echo {
		out = append(out, raw...)
	}
	start := len(out)
	if r.baud == 0 || r.lineBaud() == r.baud {
		out = r.apply(f, out)
	}
	if r.fault != nil {
		reply := append([]byte(nil), out[start:]...)
		rewritten, hangUp := r.fault(r.count, f, reply)
		out = append(out[:start], rewritten...)
		return out, hangUp
	}
	return out, false
}

// lineBaud is the speed the servo side set (the master reports the
// slave's termios).
func (r *responder) lineBaud() int {
	var speed uint32
	sc, err := r.master.SyscallConn()
	if err != nil {
		return -1
	}
	sc.Control(func(fd uintptr) {
		if tio, err := unix.IoctlGetTermios(int(fd), unix.TCGETS2); err == nil {
			speed = tio.Ospeed
		}
	})
	return int(speed)
}

func (r *responder) apply(f Frame, out []byte) []byte {
	p := f.Params
	s := r.servos[f.ID]
	answers := s != nil // a broadcast has no servo of its own: no answer
	switch f.Code {
	case InstPing:
	case InstRead:
		if s == nil || len(p) != 2 || int(p[0])+int(p[1]) > 256 {
			return out
		}
		return AppendFrame(out, f.ID, s.errBits, s.regs[p[0]:int(p[0])+int(p[1])]...)
	case InstWrite:
		if len(p) < 2 {
			return out
		}
		r.each(f.ID, func(s *testServo) { s.write(p[0], p[1:]) })
	case InstRegWrite:
		r.each(f.ID, func(s *testServo) { s.pending = append([]byte(nil), p...) })
	case InstAction:
		r.each(f.ID, func(s *testServo) {
			if len(s.pending) >= 2 {
				s.write(s.pending[0], s.pending[1:])
			}
			s.pending = nil
		})
	case InstSyncRead:
		if len(p) < 2 {
			return out
		}
		addr, n := int(p[0]), int(p[1])
		for _, id := range p[2:] {
			if s := r.servos[id]; s != nil && addr+n <= 256 {
				out = AppendFrame(out, id, s.errBits, s.regs[addr:addr+n]...)
			}
		}
		return out
	case InstSyncWrite:
		if len(p) < 2 || p[1] == 0 {
			return out
		}
		addr, n := p[0], int(p[1])
		for rest := p[2:]; len(rest) >= n+1; rest = rest[n+1:] {
			if s := r.servos[rest[0]]; s != nil {
				s.write(addr, rest[1:n+1])
			}
		}
		return out
	default:
		return out
	}
	if !answers {
		return out
	}
	return AppendFrame(out, f.ID, s.errBits)
}

// each runs f on servo id, or on every servo for BroadcastID.
func (r *responder) each(id byte, f func(*testServo)) {
	if id == BroadcastID {
		for _, s := range r.servos {
			f(s)
		}
		return
	}
	if s := r.servos[id]; s != nil {
		f(s)
	}
}

// write stores data at addr; a goal position is reached at once.
func (s *testServo) write(addr byte, data []byte) {
	if int(addr)+len(data) > 256 {
		return
	}
	const goal, present = 42, 56 // Goal_Position, Present_Position
	copy(s.regs[addr:], data)
	if addr <= goal && int(addr)+len(data) >= goal+2 {
		copy(s.regs[present:], s.regs[goal:goal+2])
	}
}
