package feetech

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pilotkit/pilot/robot/serial"
)

// Found is a servo that answered a Scan.
type Found struct {
	Baud  int
	ID    byte
	Model int // the Model register (ModelSTS3215 = 777); 0 if it could not be read
}

// ScanLatency is what Scan's ping timeout allows on top of the wire time:
// shorter than ReplyLatency, because most IDs pinged by a scan are absent.
const ScanLatency = 5 * time.Millisecond

// Scan opens the port at path at each baud rate in turn (nil means the
// eight rates of the STS Baud_Rate register: 1M, 500k, 250k, 128k, 115200,
// 57600, 38400, 19200), pings every id (nil means 0..MaxID) with a short
// timeout and no retry, and reads the Model of each servo that answers.
// progress, if not nil, is called before each ping. open nil means
// serial.Open. An absent ID costs one ping timeout: the wire time plus
// ScanLatency, 5.2 ms at 1 Mbaud and 12.8 ms at 19200 baud, so all 253 IDs
// at all eight rates take about 15 s; pass the ids you expect to be quicker.
//
// A servo that answers with error bits set is found all the same. Scan
// returns what it found so far together with the error that stopped it
// (the context, or the port).
//
// Over an adapter that echoes (no direction control), a ping nobody
// answers is byte for byte a ping answered with the voltage bit. Scan pings
// the IDs that answered before the first unambiguous answer again, and
// drops an ID whose Model read is its own echo.
func Scan(ctx context.Context, open serial.Opener, path string, bauds []int, ids []byte, progress func(baud int, id byte)) ([]Found, error) {
	return scan(ctx, open, path, bauds, ids, progress, scanTimeouts{latency: ScanLatency})
}

// ScanWithLatency is Scan with latency in place of ScanLatency, and a bus
// timeout of latency for the Model reads: for a bus whose servos answer
// late, such as a simulator sharing the machine's CPUs.
func ScanWithLatency(ctx context.Context, open serial.Opener, path string, bauds []int, ids []byte, progress func(baud int, id byte), latency time.Duration) ([]Found, error) {
	return scan(ctx, open, path, bauds, ids, progress, scanTimeouts{latency: latency, bus: latency})
}

// scanTimeouts are Scan's timeouts; tests on a loaded machine lengthen
// them.
type scanTimeouts struct {
	latency time.Duration // added to a ping's wire time
	bus     time.Duration // Options.Timeout for reading the Model (0: default)
}

func scan(ctx context.Context, open serial.Opener, path string, bauds []int, ids []byte, progress func(baud int, id byte), st scanTimeouts) ([]Found, error) {
	if open == nil {
		open = serial.Open
	}
	if len(bauds) == 0 {
		bauds = []int{1_000_000, 500_000, 250_000, 128_000, 115_200, 57_600, 38_400, 19_200}
	}
	if len(ids) == 0 {
		ids = make([]byte, int(MaxID)+1)
		for i := range ids {
			ids[i] = byte(i)
		}
	}
	for _, id := range ids {
		if id > MaxID {
			return nil, fmt.Errorf("feetech: scan %s: ID %d is not a servo ID (0..%d): %w", path, id, MaxID, ErrInvalidArgument)
		}
	}
	for _, baud := range bauds {
		if baud <= 0 {
			return nil, fmt.Errorf("feetech: scan %s: baud rate %d: %w", path, baud, ErrInvalidArgument)
		}
	}
	var found []Found
	for _, baud := range bauds {
		more, err := scanBaud(ctx, open, path, baud, ids, progress, st)
		found = append(found, more...)
		if err != nil {
			return found, err
		}
	}
	return found, nil
}

func scanBaud(ctx context.Context, open serial.Opener, path string, baud int, ids []byte, progress func(int, byte), st scanTimeouts) (found []Found, err error) {
	p, err := open(path, serial.Config{Baud: baud, ReadTimeout: readSlice})
	if err != nil {
		return nil, fmt.Errorf("feetech: scan %s at %d baud: %w", path, baud, err)
	}
	bus := NewBus(p, Options{Baud: baud, Timeout: st.bus})
	defer func() {
		if cerr := bus.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("feetech: scan %s at %d baud: closing the port: %w", path, baud, cerr)
		}
	}()
	timeout := replyTimeout(baud, MinStatusLen, MinStatusLen) - ReplyLatency + st.latency
	fail := func(err error) error { return fmt.Errorf("feetech: scan %s at %d baud: %w", path, baud, err) }
	// First ping every id. On an adapter that echoes, a ping nobody
	// answers looks like a ping answered with the voltage bit until a real
	// answer shows the echo: note the answers that came before.
	type answer struct {
		id     byte
		unsure bool
	}
	var answers []answer
	for _, id := range ids {
		if progress != nil {
			progress(baud, id)
		}
		echoBefore := bus.echoState()
		if err := answered(bus.ping(ctx, id, timeout, 0)); err != nil {
			if errors.Is(err, errAbsent) {
				continue
			}
			return nil, fail(err)
		}
		answers = append(answers, answer{id, echoBefore != echoYes && bus.echoState() != echoNo})
	}
	// Then ping the unsure ones again if the echo is now known, and read
	// the Model of each servo.
	echo := bus.echoState() == echoYes
	for _, a := range answers {
		if a.unsure && echo {
			if err := answered(bus.ping(ctx, a.id, timeout, 0)); err != nil {
				if errors.Is(err, errAbsent) {
					continue
				}
				return found, fail(err)
			}
		}
		model, err := bus.ReadReg(ctx, a.id, Model)
		if a.unsure && !echo && isEchoOfModelRead(model, err) {
			continue // no servo answered at this rate; the adapter echoes
		}
		if err = answered(err); err != nil && !errors.Is(err, errAbsent) {
			return found, fail(err)
		}
		if err != nil {
			model = 0
		}
		found = append(found, Found{Baud: baud, ID: a.id, Model: model})
	}
	return found, nil
}

// isEchoOfModelRead reports whether a read of Model returned the echo of
// its own instruction taken as a status: error byte InstRead (the angle
// sensor bit) and data [addr, size], model 0x0203. No servo answers that.
func isEchoOfModelRead(model int, err error) bool {
	var se *ServoError
	return errors.As(err, &se) && se.Bits == InstRead && model == int(Model.Addr())|Model.Size()<<8
}

// errAbsent marks a servo that did not answer (or not intelligibly).
var errAbsent = errors.New("no answer")

// answered maps a transaction's error for Scan: nil when the servo
// answered (error bits included), errAbsent when it did not, else the
// error that must stop the scan.
func answered(err error) error {
	var se *ServoError
	switch {
	case err == nil, errors.As(err, &se):
		return nil
	case errors.Is(err, ErrNoStatus), errors.Is(err, ErrCorrupt), errors.Is(err, ErrWrongID):
		return fmt.Errorf("%w: %w", errAbsent, err)
	}
	return err
}

func (b *Bus) echoState() echoState {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.echo
}
