package sim

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/pilotkit/pilot/robot/feetech"
)

// PTY serves a simulated arm on a pseudo-terminal: a program opens Path
// as it would open /dev/ttyACM0 and talks the Feetech protocol to it.
//
// One goroutine serves the terminal with blocking poll(2) and read(2) on
// the master (not the runtime's poller, whose wake-ups add latency to
// every request); with wire timing it has an OS thread of its own whose
// timer slack is 1 ns, for precise pacing. A second goroutine moves the
// physics along with the wall clock between requests.
type PTY struct {
	s     *Sim
	fd    int      // the master, non-blocking; closed by the serving goroutine as it ends
	wake  int      // eventfd: written to stop the serving goroutine
	slave *os.File // held open so the terminal does not hang up between clients
	path  string
	start time.Time     // wall-clock origin
	base  time.Duration // simulated time at start
	wire  bool
	bus   bus            // used by the serving goroutine only
	pfds  [2]unix.PollFd // likewise
	done  chan struct{}  // closed by stop
	stopO sync.Once
	close sync.Once
	wg    sync.WaitGroup

	stopCtx  func() bool
	closeErr error
}

// tickEvery is how often the physics catches up with the wall clock while
// no request comes, so that the world (and a camera) sees the arm move.
const tickEvery = 10 * time.Millisecond

// spinRead is how long the serving goroutine, with wire timing, polls the
// master awake after a request before it blocks.
const spinRead = time.Millisecond

// errStopped ends the serving goroutine.
var errStopped = errors.New("sim: pty stopped")

// ServePTY opens a pseudo-terminal, sets it raw and answers the Feetech
// protocol on it until ctx is done or the PTY is closed; either way the
// master is closed and a client's next read or write fails. The physics
// runs in real time from now on: a request is answered at the simulated
// time Now() + the wall time since ServePTY. Close the PTY to wait for
// its goroutines.
func (s *Sim) ServePTY(ctx context.Context) (*PTY, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sim: cannot serve a pty: %w", err)
	}
	m, t, err := pty.Open()
	if err != nil {
		return nil, fmt.Errorf("sim: cannot open a pseudo-terminal (is /dev/ptmx there and devpts mounted?): %w", err)
	}
	if err := makeRaw(t); err != nil {
		m.Close()
		t.Close()
		return nil, fmt.Errorf("sim: cannot set %s raw: %w", t.Name(), err)
	}
	fd, err := unix.Dup(int(m.Fd()))
	m.Close()
	if err == nil {
		unix.CloseOnExec(fd)
		if err = unix.SetNonblock(fd, true); err != nil {
			unix.Close(fd)
		}
	}
	if err != nil {
		t.Close()
		return nil, fmt.Errorf("sim: cannot take the pty master: %w", err)
	}
	wake, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(fd)
		t.Close()
		return nil, fmt.Errorf("sim: cannot make an eventfd to stop the pty server: %w", err)
	}
	p := &PTY{
		s:     s,
		fd:    fd,
		wake:  wake,
		slave: t,
		path:  t.Name(),
		wire:  s.wire,
		bus:   bus{baud: s.baud},
		done:  make(chan struct{}),
	}
	p.pfds[0] = unix.PollFd{Fd: int32(fd)}
	p.pfds[1] = unix.PollFd{Fd: int32(wake), Events: unix.POLLIN}

	s.mu.Lock()
	p.base, p.start = s.now, time.Now()
	s.mu.Unlock()
	p.wg.Add(2)
	go p.serve()
	go p.tick()
	p.stopCtx = context.AfterFunc(ctx, p.stop)

	s.ptyMu.Lock()
	closed := s.ptys == nil
	if !closed {
		s.ptys[p] = struct{}{}
	}
	s.ptyMu.Unlock()
	if closed {
		p.Close()
		return nil, fmt.Errorf("sim: cannot serve a pty: %w", ErrClosed)
	}
	s.log.Info("sim: serving the arm on a pseudo-terminal", "path", p.path, "wire_timing", p.wire)
	return p, nil
}

// Path is the terminal to open: /dev/pts/N.
func (p *PTY) Path() string { return p.path }

// Close stops serving and closes the terminal: a client's next read or
// write fails, as when a USB adapter is pulled. It waits for the serving
// goroutines and is idempotent.
func (p *PTY) Close() error {
	p.close.Do(func() {
		p.stopCtx()
		p.stop()
		p.wg.Wait()
		var errs []error
		if err := unix.Close(p.wake); err != nil {
			errs = append(errs, fmt.Errorf("sim: closing the eventfd of %s: %w", p.path, err))
		}
		if err := p.slave.Close(); err != nil {
			errs = append(errs, fmt.Errorf("sim: closing %s: %w", p.path, err))
		}
		p.closeErr = errors.Join(errs...)
		p.s.ptyMu.Lock()
		delete(p.s.ptys, p)
		p.s.ptyMu.Unlock()
	})
	return p.closeErr
}

// stop tells both goroutines to end.
func (p *PTY) stop() {
	p.stopO.Do(func() {
		close(p.done)
		one := [8]byte{1}
		unix.Write(p.wake, one[:]) // cannot fail: the counter is far from full
	})
}

// elapsed is the simulated time now by the wall clock.
func (p *PTY) elapsed() time.Duration { return p.base + time.Since(p.start) }

// serve reads instructions and writes answers until stopped, then closes
// the master.
func (p *PTY) serve() {
	defer p.wg.Done()
	defer unix.Close(p.fd)
	if p.wire {
		// Never unlocked: the thread, with its timer slack, ends with
		// the goroutine.
		runtime.LockOSThread()
		unix.Prctl(unix.PR_SET_TIMERSLACK, 1, 0, 0, 0) // best effort: pacing is coarser without
	}
	in := make([]byte, 0, 1<<16) // a frame is at most 259 bytes: serve never leaves more
	out := make([]byte, 0, 4096)
	reps := make([]reply, 0, 16)
	for {
		n, err := p.read(in[len(in):cap(in)])
		if err != nil {
			p.failed("reading", err)
			return
		}
		in = in[:len(in)+n]
		t := p.elapsed()
		var used int
		if p.wire {
			used, err = p.answerPaced(in, t, out, reps)
		} else {
			used, err = p.answer(in, t, out)
		}
		if err != nil {
			p.failed("writing", err)
			return
		}
		in = in[:copy(in, in[used:])]
	}
}

// read reads what the client wrote, waiting for it: with wire timing,
// awake for spinRead (sched_yield between tries), then blocked in poll.
func (p *PTY) read(b []byte) (int, error) {
	var spun time.Time
	for {
		n, err := unix.Read(p.fd, b)
		switch {
		case err == nil && n > 0:
			return n, nil
		case err == nil:
			return 0, errors.New("end of file on the pty master")
		case err == unix.EINTR:
			continue
		case err != unix.EAGAIN:
			return 0, err
		}
		if p.wire {
			// The next request usually follows within microseconds:
			// waiting for it awake saves the wake-up.
			if spun.IsZero() {
				spun = time.Now()
			}
			if time.Since(spun) < spinRead {
				unix.RawSyscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
				continue
			}
		}
		if err := p.wait(unix.POLLIN); err != nil {
			return 0, err
		}
	}
}

// write writes all of b to the client.
func (p *PTY) write(b []byte) error {
	for len(b) > 0 {
		n, err := unix.Write(p.fd, b)
		switch {
		case err == nil:
			b = b[n:]
			continue
		case err == unix.EINTR:
			continue
		case err != unix.EAGAIN:
			return err
		}
		if err := p.wait(unix.POLLOUT); err != nil { // the client is not reading
			return err
		}
	}
	return nil
}

// wait blocks until the master is ready for events or stop is called.
func (p *PTY) wait(events int16) error {
	p.pfds[0].Events = events
	for {
		_, err := unix.Poll(p.pfds[:], -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if p.pfds[1].Revents != 0 {
			return errStopped
		}
		if p.pfds[0].Revents != 0 {
			return nil // ready, or an error the next read or write reports
		}
	}
}

// failed logs why serving stopped, unless it was told to.
func (p *PTY) failed(op string, err error) {
	if !errors.Is(err, errStopped) {
		p.s.log.Warn("sim: stopped serving the pty", "path", p.path, "op", op, "err", err)
	}
}

// answer handles every complete frame in in at time t and writes all the
// answers at once.
func (p *PTY) answer(in []byte, t time.Duration, out []byte) (int, error) {
	s := p.s
	s.mu.Lock()
	s.advanceTo(t)
	used, out, _ := s.serve(in, out[:0], nil)
	s.mu.Unlock()
	return used, p.write(out)
}

// answerPaced handles the frames in in one by one on the wire model and
// writes each status when its last byte would have arrived.
func (p *PTY) answerPaced(in []byte, t time.Duration, out []byte, reps []reply) (int, error) {
	s := p.s
	off := 0
	for off < len(in) {
		f, n, err := feetech.ScanFrame(in[off:], feetech.InstructionKind)
		off += n
		if err != nil {
			if errors.Is(err, feetech.ErrShortFrame) {
				break
			}
			continue
		}
		done := p.bus.instruction(t, n)
		s.mu.Lock()
		s.advanceTo(done)
		out, reps = s.exec(f, out[:0], reps[:0])
		s.mu.Unlock()
		prev := 0
		for _, r := range reps {
			at := p.bus.status(r.delay, r.end-prev)
			waitUntil(p.start, at-p.base)
			if err := p.write(out[prev:r.end]); err != nil {
				return off, err
			}
			prev = r.end
		}
	}
	return off, nil
}

// tick keeps the physics up with the wall clock between requests.
func (p *PTY) tick() {
	defer p.wg.Done()
	tk := time.NewTicker(tickEvery)
	defer tk.Stop()
	for {
		select {
		case <-p.done:
			return
		case <-tk.C:
			p.s.mu.Lock()
			p.s.advanceTo(p.elapsed())
			p.s.mu.Unlock()
		}
	}
}

// makeRaw sets the terminal raw (cfmakeraw): no echo, no line editing, no
// translation of bytes, 8 bits.
func makeRaw(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var opErr error
	err = rc.Control(func(fd uintptr) {
		tio, err := unix.IoctlGetTermios(int(fd), unix.TCGETS)
		if err != nil {
			opErr = err
			return
		}
		tio.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
		tio.Oflag &^= unix.OPOST
		tio.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
		tio.Cflag &^= unix.CSIZE | unix.PARENB
		tio.Cflag |= unix.CS8
		tio.Cc[unix.VMIN] = 1
		tio.Cc[unix.VTIME] = 0
		opErr = unix.IoctlSetTermios(int(fd), unix.TCSETS, tio)
	})
	return errors.Join(err, opErr)
}
