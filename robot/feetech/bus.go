package feetech

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pilotkit/pilot/robot/serial"
)

// Errors of the bus, matched with errors.Is. Each error returned wraps one
// of them and says which servo, which operation and what to check.
var (
	// ErrNoStatus: a servo did not answer within the reply timeout, on
	// every attempt. Check power, the ID and the baud rate.
	ErrNoStatus = errors.New("no status packet")
	// ErrCorrupt: a servo's answer arrived damaged (bad checksum, an
	// impossible length or error byte) on the last attempt.
	ErrCorrupt = errors.New("corrupt status packet")
	// ErrWrongID: a status packet came from a servo that was not asked,
	// and the one asked did not answer.
	ErrWrongID = errors.New("status packet from the wrong servo")
	// ErrPortClosed: the Bus was closed.
	ErrPortClosed = errors.New("bus closed")
	// ErrPortGone: reading or writing the serial port failed (the adapter
	// was unplugged, the simulator's end of the pseudo-terminal closed).
	// It is never retried: open the port again.
	ErrPortGone = errors.New("serial port gone")
	// ErrInvalidArgument: a call's arguments cannot make a valid packet;
	// nothing was sent.
	ErrInvalidArgument = errors.New("invalid argument")
)

// Defaults and limits of the bus.
const (
	DefaultBaud    = 1_000_000
	DefaultRetries = 2
	// ReplyLatency is what the default reply timeout allows on top of the
	// time the bytes take on the wire: the servo's Return_Delay_Time (up
	// to 0.5 ms at the factory setting) and the USB adapter's latency
	// (about 1 ms for the CH340/CH343 boards of SO-101 kits). The Feetech
	// SDK allows 50 ms. An FTDI adapter holds short replies for its
	// latency timer, 16 ms by default: set Options.Timeout to 25ms, or
	// write 1 to /sys/bus/usb-serial/devices/ttyUSB0/latency_timer.
	ReplyLatency = 10 * time.Millisecond
	// MaxDataLen is the most data bytes one read or write moves.
	MaxDataLen = 250
	// readSlice bounds each wait on the port, so that a cancelled context
	// or Close is noticed within it.
	readSlice = 5 * time.Millisecond
)

// Options configure a Bus. The zero value suits an SO-101 arm at the
// factory baud rate.
type Options struct {
	// Baud is the line's speed, used for the default reply timeout; 0
	// means DefaultBaud.
	Baud int
	// Timeout is how long each attempt waits for the replies, from the
	// moment the instruction is written. 0 (or negative) means the
	// Feetech SDK's formula with ReplyLatency in place of its 50 ms:
	// 10 bits per byte at Baud for the instruction, the replies and 3
	// bytes more, plus ReplyLatency (10.19 ms for a 2-byte read at 1 Mbaud,
	// 10.65 ms for a sync read of 6×2 bytes).
	Timeout time.Duration
	// Retries is how many more attempts follow a timeout, a corrupt reply
	// or a reply from the wrong servo: 0 means DefaultRetries, negative
	// means none.
	Retries int
	// Logger receives a debug record for each retry; nil discards.
	Logger *slog.Logger
}

// Stats counts what happened on a Bus since NewBus.
type Stats struct {
	Transactions int64 // calls that sent an instruction
	Retries      int64 // attempts after the first
	Timeouts     int64 // attempts that ended with replies missing
	Corrupt      int64 // damaged frames, and replies of the wrong length
	WrongID      int64 // status packets from a servo that was not asked
	ServoErrors  int64 // status packets with error bits set
}

// Bus talks to Feetech STS servos on one serial line. It runs one
// transaction at a time and is safe for concurrent use (a control loop and
// a watchdog may share it).
//
// A status packet with error bits set still carries valid data: Read,
// ReadReg, SyncRead and SyncReadReg return the data together with a
// *ServoError (for the sync reads, errors.Join of one per servo). Callers
// test for it with errors.As and keep the data:
//
//	pos, err := bus.ReadReg(ctx, 3, feetech.PresentPosition)
//	var se *feetech.ServoError
//	if errors.As(err, &se) { log.Printf("servo %d: %v", se.ID, se) } else if err != nil { return err }
//
// Adapters without direction control echo each instruction; the Bus skips
// the echo. A status can be byte for byte the instruction (a ping answered
// with only the voltage bit). Once the Bus has seen a reply come with or
// without an echo it knows which; before that, such a frame alone is taken
// as the servo's answer when the timeout passes.
type Bus struct {
	port    serial.Port
	log     *slog.Logger
	baud    int
	timeout time.Duration // 0: computed per transaction
	retries int

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error

	nTransactions, nRetries, nTimeouts, nCorrupt, nWrongID, nServoErrors atomic.Int64

	mu sync.Mutex // one transaction at a time; guards the fields below
	// Buffers reused by every transaction.
	params []byte
	tx     []byte // the instruction on the wire
	rx     []byte // received bytes; rx[:rxn] not yet parsed
	rxn    int
	want   []byte // ids that answer, in order
	got    []bool // got[i]: want[i] answered
	errs   []byte // error byte of each answer
	data   []byte // data of each answer, n bytes per id
	// readTimeout is the timeout last set on the port (-1: not yet).
	readTimeout time.Duration
	// echo is what is known of the adapter echoing our own instruction.
	echo echoState
}

type echoState int

const (
	echoUnknown echoState = iota
	echoYes               // seen: an echo, then a reply
	echoNo                // seen: a reply with no echo before it
)

// NewBus returns a Bus on port p. The Bus owns p: Close closes it.
func NewBus(p serial.Port, opts Options) *Bus {
	b := &Bus{
		port:        p,
		log:         opts.Logger,
		baud:        opts.Baud,
		timeout:     opts.Timeout,
		retries:     opts.Retries,
		rx:          make([]byte, 1024),
		readTimeout: -1,
	}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	if b.baud <= 0 {
		b.baud = DefaultBaud
	}
	if b.timeout < 0 {
		b.timeout = 0
	}
	switch {
	case b.retries == 0:
		b.retries = DefaultRetries
	case b.retries < 0:
		b.retries = 0
	}
	return b
}

// Close closes the port. A transaction in flight ends with ErrPortClosed
// within a few milliseconds; Close waits for it. Calling Close again
// returns the first call's result.
func (b *Bus) Close() error {
	b.closeOnce.Do(func() {
		b.closed.Store(true)
		b.mu.Lock()
		defer b.mu.Unlock()
		b.closeErr = b.port.Close()
	})
	return b.closeErr
}

// Stats returns the bus's counters.
func (b *Bus) Stats() Stats {
	return Stats{
		Transactions: b.nTransactions.Load(),
		Retries:      b.nRetries.Load(),
		Timeouts:     b.nTimeouts.Load(),
		Corrupt:      b.nCorrupt.Load(),
		WrongID:      b.nWrongID.Load(),
		ServoErrors:  b.nServoErrors.Load(),
	}
}

// Ping asks servo id to answer. It returns nil, a *ServoError (the servo
// answered with error bits set) or why it did not answer.
func (b *Bus) Ping(ctx context.Context, id byte) error {
	return b.ping(ctx, id, 0, -1)
}

// ping with a timeout and retries for this call (0 and -1: the bus's).
func (b *Bus) ping(ctx context.Context, id byte, timeout time.Duration, retries int) error {
	t := txn{inst: InstPing, id: id, timeout: timeout, retries: retries}
	if err := checkID(&t, id, false); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tx = AppendFrame(b.tx[:0], id, InstPing)
	b.want = append(b.want[:0], id)
	if err := b.transact(ctx, &t); err != nil {
		return err
	}
	return b.servoError(0)
}

// Read reads n bytes from address addr of servo id. With error bits in the
// status it returns the data and a *ServoError.
func (b *Bus) Read(ctx context.Context, id, addr byte, n int) ([]byte, error) {
	t := txn{inst: InstRead, id: id, addr: addr, n: n, retries: -1}
	if err := b.read(ctx, &t); err != nil {
		return nil, err
	}
	defer b.mu.Unlock()
	return append([]byte(nil), b.data[:n]...), b.servoError(0)
}

// read runs a READ and returns holding b.mu when it succeeds, so that the
// caller can take the data (and errorOf) before unlocking.
func (b *Bus) read(ctx context.Context, t *txn) error {
	if err := checkID(t, t.id, false); err != nil {
		return err
	}
	if err := checkRange(t, t.addr, t.n); err != nil {
		return err
	}
	t.replyN = t.n
	b.mu.Lock()
	b.params = append(b.params[:0], t.addr, byte(t.n))
	b.tx = AppendFrame(b.tx[:0], t.id, InstRead, b.params...)
	b.want = append(b.want[:0], t.id)
	if err := b.transact(ctx, t); err != nil {
		b.mu.Unlock()
		return err
	}
	return nil
}

// Write writes data at address addr of servo id and waits for its status,
// unless id is BroadcastID (no servo answers a broadcast).
func (b *Bus) Write(ctx context.Context, id, addr byte, data []byte) error {
	return b.write(ctx, &txn{inst: InstWrite, id: id, addr: addr, n: len(data), retries: -1}, data)
}

// RegWrite stores data for address addr in servo id, to be written when
// an Action arrives; it waits for the status unless id is BroadcastID.
func (b *Bus) RegWrite(ctx context.Context, id, addr byte, data []byte) error {
	return b.write(ctx, &txn{inst: InstRegWrite, id: id, addr: addr, n: len(data), retries: -1}, data)
}

func (b *Bus) write(ctx context.Context, t *txn, data []byte) error {
	if err := checkID(t, t.id, true); err != nil {
		return err
	}
	if err := checkRange(t, t.addr, len(data)); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.params = append(append(b.params[:0], t.addr), data...)
	b.tx = AppendFrame(b.tx[:0], t.id, t.inst, b.params...)
	return b.finishStatus(ctx, t)
}

// finishStatus runs the instruction in b.tx, waiting for an empty status
// from t.id unless it is BroadcastID. b.mu is held.
func (b *Bus) finishStatus(ctx context.Context, t *txn) error {
	b.want = b.want[:0]
	if t.id != BroadcastID {
		b.want = append(b.want, t.id)
	}
	if err := b.transact(ctx, t); err != nil {
		return err
	}
	if len(b.want) == 0 {
		return nil
	}
	return b.servoError(0)
}

// Action makes servo id (usually BroadcastID: every servo at once) apply
// what RegWrite stored. Only a single servo answers.
func (b *Bus) Action(ctx context.Context, id byte) error {
	t := txn{inst: InstAction, id: id, retries: -1}
	if err := checkID(&t, id, true); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tx = AppendFrame(b.tx[:0], id, InstAction)
	return b.finishStatus(ctx, &t)
}

// SyncRead reads n bytes at address addr of every servo in ids with one
// instruction; each servo answers with its own status packet. It returns
// the data per servo, in the order of ids. A retry re-issues the whole
// sync read; when the last attempt fails the error names the servos that
// did not answer. With error bits in some answers it returns all the data
// and errors.Join of a *ServoError per servo.
func (b *Bus) SyncRead(ctx context.Context, addr byte, n int, ids []byte) ([][]byte, error) {
	t := txn{inst: InstSyncRead, id: BroadcastID, addr: addr, n: n, ids: ids, retries: -1}
	if err := b.syncRead(ctx, &t); err != nil {
		return nil, err
	}
	defer b.mu.Unlock()
	flat := append([]byte(nil), b.data[:len(ids)*n]...)
	out := make([][]byte, len(ids))
	for i := range out {
		out[i] = flat[i*n : (i+1)*n : (i+1)*n]
	}
	return out, b.servoErrors(ids)
}

// syncRead runs a SYNC_READ and returns holding b.mu when it succeeds.
func (b *Bus) syncRead(ctx context.Context, t *txn) error {
	if err := checkIDs(t, t.ids, 4); err != nil {
		return err
	}
	if err := checkRange(t, t.addr, t.n); err != nil {
		return err
	}
	t.replyN = t.n
	b.mu.Lock()
	b.params = append(append(b.params[:0], t.addr, byte(t.n)), t.ids...)
	b.tx = AppendFrame(b.tx[:0], BroadcastID, InstSyncRead, b.params...)
	b.want = append(b.want[:0], t.ids...)
	if err := b.transact(ctx, t); err != nil {
		b.mu.Unlock()
		return err
	}
	return nil
}

// SyncWrite writes data[i] (n bytes each) at address addr of servo ids[i],
// all with one broadcast instruction; no servo answers.
func (b *Bus) SyncWrite(ctx context.Context, addr byte, n int, ids []byte, data [][]byte) error {
	t := txn{inst: InstSyncWrite, id: BroadcastID, addr: addr, n: n, ids: ids, retries: -1}
	if err := checkSyncWrite(&t, len(data)); err != nil {
		return err
	}
	for i, d := range data {
		if len(d) != n {
			return t.invalid("data for servo %d has %d bytes, want %d", ids[i], len(d), n)
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.params = append(b.params[:0], addr, byte(n))
	for i, id := range ids {
		b.params = append(append(b.params, id), data[i]...)
	}
	return b.sendSyncWrite(ctx, &t)
}

func (b *Bus) sendSyncWrite(ctx context.Context, t *txn) error {
	b.tx = AppendFrame(b.tx[:0], BroadcastID, InstSyncWrite, b.params...)
	b.want = b.want[:0]
	return b.transact(ctx, t)
}

// ReadReg reads register r of servo id and decodes it (sign-magnitude
// where the register is signed). With error bits in the status it returns
// the value and a *ServoError.
func (b *Bus) ReadReg(ctx context.Context, id byte, r Register) (int, error) {
	t := txn{inst: InstRead, id: id, addr: r.Addr(), n: r.Size(), reg: r.Name(), retries: -1}
	if err := checkReg(&t, r); err != nil {
		return 0, err
	}
	if err := b.read(ctx, &t); err != nil {
		return 0, err
	}
	v := r.Decode(b.data[:r.Size()])
	err := b.servoError(0)
	b.mu.Unlock()
	return v, err
}

// WriteReg encodes v for register r and writes it to servo id (or to all
// servos with BroadcastID). A value out of the register's range is an
// error and nothing is sent.
func (b *Bus) WriteReg(ctx context.Context, id byte, r Register, v int) error {
	t := txn{inst: InstWrite, id: id, addr: r.Addr(), n: r.Size(), reg: r.Name(), retries: -1}
	if err := checkReg(&t, r); err != nil {
		return err
	}
	raw, err := r.Encode(v)
	if err != nil {
		return t.invalid("%s", strings.TrimPrefix(err.Error(), "feetech: "))
	}
	return b.write(ctx, &t, raw)
}

// SyncReadReg reads register r of every servo in ids and decodes the
// values, in the order of ids. With error bits in some answers it returns
// all the values and errors.Join of a *ServoError per servo.
func (b *Bus) SyncReadReg(ctx context.Context, r Register, ids []byte) ([]int, error) {
	t := txn{inst: InstSyncRead, id: BroadcastID, addr: r.Addr(), n: r.Size(), reg: r.Name(), ids: ids, retries: -1}
	if err := checkReg(&t, r); err != nil {
		return nil, err
	}
	if err := b.syncRead(ctx, &t); err != nil {
		return nil, err
	}
	defer b.mu.Unlock()
	vals := make([]int, len(ids))
	for i := range vals {
		vals[i] = r.Decode(b.data[i*r.Size():])
	}
	return vals, b.servoErrors(ids)
}

// SyncWriteReg encodes vals[i] for register r and writes it to servo
// ids[i], all with one broadcast instruction. A value out of the
// register's range is an error and nothing is sent.
func (b *Bus) SyncWriteReg(ctx context.Context, r Register, ids []byte, vals []int) error {
	t := txn{inst: InstSyncWrite, id: BroadcastID, addr: r.Addr(), n: r.Size(), reg: r.Name(), ids: ids, retries: -1}
	if err := checkReg(&t, r); err != nil {
		return err
	}
	if err := checkSyncWrite(&t, len(vals)); err != nil {
		return err
	}
	for i, v := range vals {
		if _, err := ToSignMagnitude(v, r.SignBit(), r.Size()); err != nil {
			_, err = r.Encode(v) // the same check, with the register's message
			return t.invalid("servo %d: %s", ids[i], strings.TrimPrefix(err.Error(), "feetech: "))
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.params = append(b.params[:0], r.Addr(), byte(r.Size()))
	for i, id := range ids {
		u, _ := ToSignMagnitude(vals[i], r.SignBit(), r.Size())
		b.params = append(b.params, id, byte(u))
		if r.Size() == 2 {
			b.params = append(b.params, byte(u>>8))
		}
	}
	return b.sendSyncWrite(ctx, &t)
}

// servoError is the *ServoError of answer i, or nil. b.mu is held.
func (b *Bus) servoError(i int) error {
	if b.errs[i] == 0 {
		return nil
	}
	return &ServoError{ID: b.want[i], Bits: b.errs[i]}
}

// servoErrors joins the *ServoError of every answer. b.mu is held.
func (b *Bus) servoErrors(ids []byte) error {
	var errs []error
	for i := range ids {
		if err := b.servoError(i); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// txn describes one transaction, for the wire and for error messages.
type txn struct {
	inst    byte
	id      byte // the instruction's ID (BroadcastID for the sync ones)
	addr    byte
	n       int    // data bytes read or written (per servo)
	replyN  int    // data bytes in each answer (0: a bare status)
	reg     string // register name, "" for raw addresses
	ids     []byte // the servos of a sync instruction
	timeout time.Duration
	retries int // -1: the bus's
}

// String says what the transaction does, for error messages.
func (t *txn) String() string {
	what := fmt.Sprintf("%d bytes at address %d", t.n, t.addr)
	if t.reg != "" {
		what = t.reg
	}
	switch t.inst {
	case InstPing:
		return fmt.Sprintf("ping servo %d", t.id)
	case InstRead:
		return fmt.Sprintf("read %s from servo %d", what, t.id)
	case InstWrite:
		return fmt.Sprintf("write %s to %s", what, target(t.id))
	case InstRegWrite:
		return fmt.Sprintf("reg-write %s to %s", what, target(t.id))
	case InstAction:
		return fmt.Sprintf("action on %s", target(t.id))
	case InstSyncRead:
		return fmt.Sprintf("sync read of %s from servos %s", what, idList(t.ids))
	case InstSyncWrite:
		return fmt.Sprintf("sync write of %s to servos %s", what, idList(t.ids))
	}
	return fmt.Sprintf("instruction 0x%02X to %s", t.inst, target(t.id))
}

func target(id byte) string {
	if id == BroadcastID {
		return "all servos (broadcast)"
	}
	return "servo " + strconv.Itoa(int(id))
}

func idList(ids []byte) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(int(id))
	}
	return strings.Join(s, ", ")
}

func (t *txn) invalid(format string, args ...any) error {
	return fmt.Errorf("feetech: %s: %s: %w", t.String(), fmt.Sprintf(format, args...), ErrInvalidArgument)
}

func checkID(t *txn, id byte, broadcastOK bool) error {
	if id <= MaxID || broadcastOK && id == BroadcastID {
		return nil
	}
	if broadcastOK {
		return t.invalid("ID %d is neither a servo ID (0..%d) nor broadcast (%d)", id, MaxID, BroadcastID)
	}
	return t.invalid("ID %d is not a servo ID (0..%d)", id, MaxID)
}

func checkRange(t *txn, addr byte, n int) error {
	if n < 1 || n > MaxDataLen {
		return t.invalid("length %d is outside 1..%d", n, MaxDataLen)
	}
	if int(addr)+n > 256 {
		return t.invalid("%d bytes from address %d run past the end of the control table (255)", n, addr)
	}
	return nil
}

// checkIDs checks a sync instruction's servo list; extra is the instruction
// length (LEN) besides the ids.
func checkIDs(t *txn, ids []byte, extra int) error {
	if len(ids) == 0 {
		return t.invalid("no servo IDs")
	}
	if len(ids)+extra > 255 {
		return t.invalid("%d servos do not fit in one instruction (at most %d)", len(ids), 255-extra)
	}
	var seen [256]bool
	for _, id := range ids {
		if id > MaxID {
			return t.invalid("ID %d is not a servo ID (0..%d)", id, MaxID)
		}
		if seen[id] {
			return t.invalid("servo %d is listed twice", id)
		}
		seen[id] = true
	}
	return nil
}

func checkSyncWrite(t *txn, nData int) error {
	if err := checkRange(t, t.addr, t.n); err != nil {
		return err
	}
	if err := checkIDs(t, t.ids, 4); err != nil {
		return err
	}
	if nData != len(t.ids) {
		return t.invalid("%d values for %d servos", nData, len(t.ids))
	}
	if l := len(t.ids)*(t.n+1) + 4; l > 255 {
		return t.invalid("%d servos × %d bytes do not fit in one instruction (LEN %d > 255)", len(t.ids), t.n, l)
	}
	return nil
}

func checkReg(t *txn, r Register) error {
	if r.Size() != 1 && r.Size() != 2 {
		return t.invalid("%s has size %d, want 1 or 2 (use the feetech register constants, or LookupReg)", r.Name(), r.Size())
	}
	return nil
}

// replyTimeout is the default reply timeout: 10 bits per byte at baud for
// the bytes sent, the bytes expected and 3 more, plus ReplyLatency.
func replyTimeout(baud, sent, reply int) time.Duration {
	wire := time.Duration(10*(sent+reply+3)) * time.Second / time.Duration(baud)
	return wire + ReplyLatency
}

// transact sends b.tx and collects a status from every servo in b.want,
// retrying as configured. b.mu is held.
func (b *Bus) transact(ctx context.Context, t *txn) error {
	if b.closed.Load() {
		return fmt.Errorf("feetech: %s: %w", t.String(), ErrPortClosed)
	}
	b.nTransactions.Add(1)
	timeout := t.timeout
	if timeout <= 0 {
		timeout = b.timeout
	}
	if timeout <= 0 {
		timeout = replyTimeout(b.baud, len(b.tx), len(b.want)*(MinStatusLen+t.replyN))
	}
	retries := t.retries
	if retries < 0 {
		retries = b.retries
	}
	b.prepare(len(b.want), t.replyN)
	start := time.Now()
	var o outcome
	attempt := 0
	for ; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("feetech: %s: %w", t.String(), err)
		}
		if b.closed.Load() {
			return fmt.Errorf("feetech: %s: %w", t.String(), ErrPortClosed)
		}
		if attempt > 0 {
			b.nRetries.Add(1)
		}
		if err := b.port.ResetInputBuffer(); err != nil {
			return b.portError(t, "dropping stale input", err)
		}
		b.rxn = 0
		if err := b.writeAll(); err != nil {
			return b.portError(t, "writing", err)
		}
		if len(b.want) == 0 {
			return nil
		}
		o = b.await(ctx, t, timeout)
		if o.fatal != nil || o.done {
			return o.fatal
		}
		if o.timedOut {
			b.nTimeouts.Add(1)
		}
		if attempt >= retries {
			break
		}
		if b.log.Enabled(ctx, slog.LevelDebug) {
			b.log.LogAttrs(ctx, slog.LevelDebug, "feetech retry", slog.String("op", t.String()),
				slog.Int("attempt", attempt+2), slog.String("reason", o.reason(b)))
		}
	}
	return b.failure(t, o, attempt+1, time.Since(start), timeout)
}

// prepare sizes the answer buffers for k answers of n bytes.
func (b *Bus) prepare(k, n int) {
	if cap(b.got) < k {
		b.got = make([]bool, k)
		b.errs = make([]byte, k)
	}
	b.got, b.errs = b.got[:k], b.errs[:k]
	if cap(b.data) < k*n {
		b.data = make([]byte, k*n)
	}
	b.data = b.data[:k*n]
}

func (b *Bus) writeAll() error {
	for p := b.tx; len(p) > 0; {
		n, err := b.port.Write(p)
		if err != nil {
			return err
		}
		if n <= 0 {
			return io.ErrShortWrite
		}
		p = p[n:]
	}
	return nil
}

// portError is a failed read or write of the port: ErrPortClosed after
// Close, else ErrPortGone.
func (b *Bus) portError(t *txn, doing string, err error) error {
	if b.closed.Load() {
		return fmt.Errorf("feetech: %s: %w", t.String(), ErrPortClosed)
	}
	return fmt.Errorf("feetech: %s: %w: %s the port failed (the adapter was unplugged, or the other end closed); open the port again: %w",
		t.String(), ErrPortGone, doing, err)
}

// outcome is how one attempt ended.
type outcome struct {
	done     bool  // every servo answered
	fatal    error // not worth retrying: the port, the context, Close
	timedOut bool  // the timeout passed with answers missing
	corrupt  error // the last damaged frame seen, or a reply of the wrong length
	wrongID  int   // the last servo that answered without being asked, or -1
}

func (o outcome) reason(b *Bus) string {
	switch {
	case o.corrupt != nil:
		return o.corrupt.Error()
	case o.wrongID >= 0:
		return fmt.Sprintf("status from servo %d", o.wrongID)
	}
	return "timeout waiting for " + b.missing()
}

// missing names the servos that have not answered. b.mu is held.
func (b *Bus) missing() string {
	var ids []byte
	for i, ok := range b.got {
		if !ok {
			ids = append(ids, b.want[i])
		}
	}
	if len(ids) == 1 {
		return "servo " + strconv.Itoa(int(ids[0]))
	}
	return "servos " + idList(ids)
}

// failure is the error after the last attempt failed.
func (b *Bus) failure(t *txn, o outcome, attempts int, elapsed, timeout time.Duration) error {
	who := b.missing()
	plural := "s"
	if attempts == 1 {
		plural = ""
	}
	after := fmt.Sprintf("after %v, %d attempt%s of %v (%s)", roundDur(elapsed), attempts, plural, roundDur(timeout), t.String())
	switch {
	case o.corrupt != nil:
		return fmt.Errorf("feetech: %w while waiting for %s %s: check the cable and connectors, the power supply, "+
			"and that no other program uses the port: %w", ErrCorrupt, who, after, o.corrupt)
	case o.wrongID >= 0:
		return fmt.Errorf("feetech: %w: servo %d answered while waiting for %s %s: "+
			"check that no two servos share an ID and that no other program uses the port", ErrWrongID, o.wrongID, who, after)
	}
	return fmt.Errorf("feetech: %w from %s %s: check power, the ID and the baud rate", ErrNoStatus, who, after)
}

func roundDur(d time.Duration) time.Duration {
	if d >= 100*time.Millisecond {
		return d.Round(time.Millisecond)
	}
	return d.Round(10 * time.Microsecond)
}

// await reads until every servo in b.want answered, the timeout passes,
// the context ends or the port fails. b.mu is held.
func (b *Bus) await(ctx context.Context, t *txn, timeout time.Duration) outcome {
	o := outcome{wrongID: -1}
	clear(b.got)
	clear(b.errs)
	pending := len(b.want)
	deadline := time.Now().Add(timeout)
	ctxDeadline, hasCtxDeadline := ctx.Deadline()
	// An adapter without direction control echoes our instruction. A frame
	// identical to it is skipped once, unless the adapter is known not to
	// echo; when nothing else answers, it was a servo's status after all
	// (a ping answered with error bit 1 is byte for byte the ping).
	skipEcho := b.echo != echoNo
	echoAt := -1 // where the skipped echo began in the stream, else -1
	sawFrame := false
	for {
		off := 0
		for off < b.rxn {
			buf := b.rx[off:b.rxn]
			if skipEcho && echoAt < 0 {
				if h := headerStart(buf); h >= 0 {
					rest := buf[h:]
					if len(rest) >= len(b.tx) && bytes.Equal(rest[:len(b.tx)], b.tx) {
						echoAt = off + h
						off += h + len(b.tx)
						continue
					}
					if len(rest) < len(b.tx) && bytes.Equal(rest, b.tx[:len(rest)]) {
						off += h
						break // wait: it may become our echo
					}
				}
			}
			f, k, err := ScanFrame(buf, StatusKind)
			off += k
			if err == ErrShortFrame {
				break
			}
			sawFrame = true
			if err != nil {
				b.nCorrupt.Add(1)
				o.corrupt = err
				var fe *FrameError
				if errors.As(err, &fe) && len(fe.Bytes) > 2 && b.pending(fe.Bytes[2]) {
					// The answer we wait for arrived damaged: retry now.
					b.compact(off)
					return o
				}
				continue
			}
			if b.accept(t, f, &o) {
				if echoAt >= 0 {
					b.echo = echoYes
				} else if b.echo == echoUnknown {
					b.echo = echoNo
				}
				pending--
				if pending == 0 {
					o.done = true
					b.compact(off)
					return o
				}
			}
		}
		b.compact(off)

		if b.closed.Load() {
			o.fatal = fmt.Errorf("feetech: %s: %w", t.String(), ErrPortClosed)
			return o
		}
		if err := ctx.Err(); err != nil {
			o.fatal = fmt.Errorf("feetech: %s: %w", t.String(), err)
			return o
		}
		now := time.Now()
		wait := deadline.Sub(now)
		if hasCtxDeadline {
			if d := ctxDeadline.Sub(now); d <= 0 {
				o.fatal = fmt.Errorf("feetech: %s: %w", t.String(), context.DeadlineExceeded)
				return o
			} else if d < wait {
				wait = d
			}
		}
		if wait <= 0 {
			if echoAt >= 0 && !sawFrame && b.echo != echoYes && pending == 1 {
				// The "echo" was the only answer: take it as the status.
				if f, _, err := ScanFrame(b.tx, StatusKind); err == nil && b.accept(t, f, &o) {
					o.done = true
					return o
				}
			}
			o.timedOut = true
			return o
		}
		wait = min(wait, readSlice)
		if wait != b.readTimeout {
			if err := b.port.SetReadTimeout(wait); err != nil {
				o.fatal = b.portError(t, "setting the read timeout of", err)
				return o
			}
			b.readTimeout = wait
		}
		if b.rxn == len(b.rx) {
			// Cannot happen with frames of at most 259 bytes; never spin.
			b.rxn = 0
		}
		n, err := b.port.Read(b.rx[b.rxn:])
		if n > 0 {
			b.rxn += n
		}
		if err != nil {
			o.fatal = b.portError(t, "reading", err)
			return o
		}
	}
}

// accept records a well-formed status frame if a servo we wait for sent
// it, and counts it otherwise. It reports whether it was a new answer.
func (b *Bus) accept(t *txn, f Frame, o *outcome) bool {
	i := bytes.IndexByte(b.want, f.ID)
	if i < 0 {
		b.nWrongID.Add(1)
		o.wrongID = int(f.ID)
		return false
	}
	if b.got[i] {
		return false // a duplicate
	}
	if len(f.Params) != t.replyN {
		b.nCorrupt.Add(1)
		o.corrupt = fmt.Errorf("status from servo %d has %d data bytes, want %d", f.ID, len(f.Params), t.replyN)
		return false
	}
	copy(b.data[i*t.replyN:], f.Params)
	b.errs[i] = f.Code
	b.got[i] = true
	if f.Code != 0 {
		b.nServoErrors.Add(1)
	}
	return true
}

func (b *Bus) pending(id byte) bool {
	i := bytes.IndexByte(b.want, id)
	return i >= 0 && !b.got[i]
}

// compact drops the first off bytes of the receive buffer.
func (b *Bus) compact(off int) {
	if off == 0 {
		return
	}
	b.rxn = copy(b.rx, b.rx[off:b.rxn])
}

// headerStart is the index of the first FF FF in buf (or of a final FF
// that may begin one), or -1.
func headerStart(buf []byte) int {
	for i := 0; i < len(buf); i++ {
		if buf[i] == 0xFF && (i+1 == len(buf) || buf[i+1] == 0xFF) {
			return i
		}
	}
	return -1
}
