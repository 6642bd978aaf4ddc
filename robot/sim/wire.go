package sim

import (
	"time"

	"golang.org/x/sys/unix"
)

// The wire model (Options.WireTiming). A Feetech bus is one half-duplex
// line: the host's instruction and the servos' status packets take turns on
// it, each byte 10 bits long (start, 8 data, stop), so at 1 Mbaud a byte
// lasts 10 µs. The simulator keeps the time until which the line is busy:
//
//   - an instruction of N bytes whose bytes reached the pseudo-terminal at
//     t occupies the line from max(t, busy) for N·10/baud;
//   - the servo acts when its last byte is in (the physics runs to that
//     moment), waits its Return_Delay_Time (2 µs per unit) and sends its
//     status of M bytes, which occupies the line for M·10/baud; in a
//     SYNC_READ each listed servo starts after the previous one ended and
//     its own delay;
//   - each status is written to the pseudo-terminal when its last byte
//     would have arrived, and busy moves to that moment (to the end of the
//     instruction when nothing answers).
//
// So a SYNC_WRITE followed at once by a SYNC_READ waits for the line, and
// a cycle of SYNC_READ of six positions and SYNC_WRITE of six goals (88
// bytes) takes 0.88 ms at 1 Mbaud however fast the host is. The bytes of
// an instruction are taken to arrive when the simulator reads them, so the
// pseudo-terminal's own latency (some 20–40 µs each way on Linux) comes on
// top: to keep it small the server polls the master awake for a moment
// after each request (spinRead) and paces with a spin (waitUntil). Collisions (a host
// sending while a servo answers) are not modelled: the instruction waits.

// reply is one status packet in a batch of answers: where it ends in the
// batch and how long its servo waits before sending.
type reply struct {
	end   int
	delay time.Duration
}

// returnDelay is the wait of Return_Delay_Time units.
func returnDelay(units byte) time.Duration { return time.Duration(units) * 2 * time.Microsecond }

// bus keeps the time on a half-duplex line, as offsets from a start.
type bus struct {
	baud int
	busy time.Duration // the line is taken until then
}

// bytesTime is how long n bytes take on the line.
func (b *bus) bytesTime(n int) time.Duration {
	return time.Duration(int64(n) * 10 * int64(time.Second) / int64(b.baud))
}

// instruction places an instruction of n bytes that arrived at t and
// returns when its last byte is in.
func (b *bus) instruction(t time.Duration, n int) time.Duration {
	b.busy = max(t, b.busy) + b.bytesTime(n)
	return b.busy
}

// status places a status of m bytes sent delay after the line went quiet
// and returns when its last byte is in.
func (b *bus) status(delay time.Duration, m int) time.Duration {
	b.busy += delay + b.bytesTime(m)
	return b.busy
}

// Pacing: time.Sleep wakes up to a millisecond late, so waitUntil sleeps
// in the kernel (nanosleep; the serving thread's timer slack is 1 ns, so
// it wakes some 20–40 µs late) to spinMargin before the target and spins
// the rest with sched_yield. Sleeping between the statuses of a sync read,
// rather than spinning through, leaves the processor to the kernel worker
// that moves each status through the pseudo-terminal: spun through, they
// would all reach the client at the end.
const spinMargin = 60 * time.Microsecond

// waitUntil returns when time.Since(start) ≥ target.
func waitUntil(start time.Time, target time.Duration) {
	for {
		d := target - time.Since(start)
		if d <= 0 {
			return
		}
		if d > spinMargin {
			ts := unix.NsecToTimespec(int64(d - spinMargin))
			_ = unix.Nanosleep(&ts, nil) // EINTR: loop again
			continue
		}
		unix.RawSyscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
	}
}
