//go:build linux

package feetech

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

var arm = []byte{1, 2, 3, 4, 5, 6}

// frames splits a reply into its status frames.
func frames(t testing.TB, reply []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for len(reply) > 0 {
		f, n, err := ScanFrame(reply, StatusKind)
		if err != nil {
			t.Errorf("responder reply % X does not parse: %v", reply, err)
			return out
		}
		out = append(out, reply[n-f.Len():n])
		reply = reply[n:]
	}
	return out
}

// Faults for the responder.
func dropFirst(k int) fault {
	return func(n int, _ Frame, reply []byte) ([]byte, bool) {
		if n <= k {
			return nil, false
		}
		return reply, false
	}
}

func fromID(t testing.TB, id byte, reply []byte) []byte {
	f, _, err := ScanFrame(reply, StatusKind)
	if err != nil {
		t.Errorf("reply % X does not parse: %v", reply, err)
		return nil
	}
	return AppendFrame(nil, id, f.Code, f.Params...)
}

func TestBusPing(t *testing.T) {
	b, r := newTestBus(t, Options{}, arm...)
	ctx := context.Background()
	for _, id := range arm {
		if err := b.Ping(ctx, id); err != nil {
			t.Errorf("Ping(%d) = %v, want nil", id, err)
		}
	}
	if got := r.instructions(); got != len(arm) {
		t.Errorf("responder saw %d instructions, want %d", got, len(arm))
	}
	if got, want := b.Stats(), (Stats{Transactions: 6}); got != want {
		t.Errorf("Stats() = %+v, want %+v", got, want)
	}
}

// The bus puts FEETECH.md's test vectors on the wire.
func TestBusWireBytes(t *testing.T) {
	b, r := newTestBus(t, Options{}, arm...)
	r.set(func(r *responder) { r.record = true })
	ctx := context.Background()
	tests := []struct {
		name string
		call func() error
		want []byte
	}{
		{"Ping(1)", func() error { return b.Ping(ctx, 1) },
			[]byte{0xFF, 0xFF, 0x01, 0x02, 0x01, 0xFB}},
		{"ReadReg(1, Present_Position)", func() error { _, err := b.ReadReg(ctx, 1, PresentPosition); return err },
			[]byte{0xFF, 0xFF, 0x01, 0x04, 0x02, 0x38, 0x02, 0xBE}},
		{"Read(1, 56, 2)", func() error { _, err := b.Read(ctx, 1, 56, 2); return err },
			[]byte{0xFF, 0xFF, 0x01, 0x04, 0x02, 0x38, 0x02, 0xBE}},
		{"WriteReg(1, Goal_Position, 2048)", func() error { return b.WriteReg(ctx, 1, GoalPosition, 2048) },
			[]byte{0xFF, 0xFF, 0x01, 0x05, 0x03, 0x2A, 0x00, 0x08, 0xC4}},
		{"WriteReg(1, Torque_Enable, 1)", func() error { return b.WriteReg(ctx, 1, TorqueEnable, 1) },
			[]byte{0xFF, 0xFF, 0x01, 0x04, 0x03, 0x28, 0x01, 0xCE}},
		{"SyncWriteReg(Goal_Position, 1 2, 2048 1024)", func() error {
			return b.SyncWriteReg(ctx, GoalPosition, []byte{1, 2}, []int{2048, 1024})
		}, []byte{0xFF, 0xFF, 0xFE, 0x0A, 0x83, 0x2A, 0x02, 0x01, 0x00, 0x08, 0x02, 0x00, 0x04, 0x39}},
		{"SyncWrite(42, 2, 1 2)", func() error {
			return b.SyncWrite(ctx, 42, 2, []byte{1, 2}, [][]byte{{0x00, 0x08}, {0x00, 0x04}})
		}, []byte{0xFF, 0xFF, 0xFE, 0x0A, 0x83, 0x2A, 0x02, 0x01, 0x00, 0x08, 0x02, 0x00, 0x04, 0x39}},
		{"SyncReadReg(Present_Position, 1..6)", func() error { _, err := b.SyncReadReg(ctx, PresentPosition, arm); return err },
			[]byte{0xFF, 0xFF, 0xFE, 0x0A, 0x82, 0x38, 0x02, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x26}},
	}
	for _, tt := range tests {
		before := len(r.recorded())
		if err := tt.call(); err != nil {
			t.Errorf("%s = %v", tt.name, err)
			continue
		}
		// A broadcast has no answer to wait for: ping to be sure the
		// responder has read it.
		if err := b.Ping(ctx, 6); err != nil {
			t.Fatalf("Ping(6) = %v", err)
		}
		rec := r.recorded()
		if len(rec) != before+2 || !bytes.Equal(rec[before], tt.want) {
			t.Errorf("%s sent %X, want % X", tt.name, rec[before:], tt.want)
		}
	}
}

func TestBusReadWriteRoundTrip(t *testing.T) {
	b, r := newTestBus(t, Options{}, arm...)
	ctx := context.Background()
	// Raw bytes.
	if err := b.Write(ctx, 3, 42, []byte{0x34, 0x12}); err != nil {
		t.Fatalf("Write(3, 42, 34 12) = %v", err)
	}
	got, err := b.Read(ctx, 3, 56, 2)
	if err != nil || !bytes.Equal(got, []byte{0x34, 0x12}) {
		t.Errorf("Read(3, 56, 2) = % X, %v, want 34 12", got, err)
	}
	got, err = b.Read(ctx, 4, 3, 3) // Model and ID at once
	if err != nil || !bytes.Equal(got, []byte{0x09, 0x03, 4}) {
		t.Errorf("Read(4, 3, 3) = % X, %v, want 09 03 04", got, err)
	}
	// Registers, signed and unsigned.
	tests := []struct {
		id  byte
		reg Register
		v   int
	}{
		{1, GoalPosition, 3000},
		{2, GoalVelocity, -300},
		{2, HomingOffset, -2047},
		{3, HomingOffset, 1500},
		{4, TorqueEnable, 1},
		{5, Acceleration, 254},
		{6, MaxPositionLimit, 4095},
	}
	for _, tt := range tests {
		r := tt.reg
		if err := b.WriteReg(ctx, tt.id, r, tt.v); err != nil {
			t.Errorf("WriteReg(%d, %s, %d) = %v", tt.id, tt.reg, tt.v, err)
			continue
		}
		if got, err := b.ReadReg(ctx, tt.id, r); err != nil || got != tt.v {
			t.Errorf("ReadReg(%d, %s) = %d, %v, want %d", tt.id, tt.reg, got, err, tt.v)
		}
	}
	if got := r.reg16(1, PresentPosition); got != 3000 {
		t.Errorf("servo 1 Present_Position after Goal_Position 3000 = %d, want 3000", got)
	}
	if got, err := b.ReadReg(ctx, 5, Model); err != nil || got != ModelSTS3215 {
		t.Errorf("ReadReg(5, Model) = %d, %v, want %d", got, err, ModelSTS3215)
	}
}

func TestBusSyncReadWrite(t *testing.T) {
	b, r := newTestBus(t, Options{}, arm...)
	ctx := context.Background()
	pos := PresentPosition
	goal := GoalPosition

	// Answers come in the order of the request, mapped back to ids order.
	ids := []byte{6, 2, 4, 1, 3, 5}
	vals, err := b.SyncReadReg(ctx, pos, ids)
	if err != nil {
		t.Fatalf("SyncReadReg(Present_Position, %v) = %v", ids, err)
	}
	for i, id := range ids {
		if want := 2000 + 10*int(id); vals[i] != want {
			t.Errorf("SyncReadReg(Present_Position, %v)[%d] (servo %d) = %d, want %d", ids, i, id, vals[i], want)
		}
	}

	goals := []int{100, 1000, 2048, 3000, 4095, 7}
	if err := b.SyncWriteReg(ctx, goal, arm, goals); err != nil {
		t.Fatalf("SyncWriteReg(Goal_Position, %v, %v) = %v", arm, goals, err)
	}
	got, err := b.SyncReadReg(ctx, pos, arm)
	if err != nil || fmt.Sprint(got) != fmt.Sprint(goals) {
		t.Errorf("SyncReadReg(Present_Position) after SyncWriteReg = %v, %v, want %v", got, err, goals)
	}
	for i, id := range arm {
		if v := r.reg16(id, GoalPosition); v != goals[i] {
			t.Errorf("servo %d Goal_Position = %d, want %d", id, v, goals[i])
		}
	}

	// Raw sync write and read of 3 bytes.
	data := [][]byte{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}
	if err := b.SyncWrite(ctx, 100, 3, []byte{2, 4, 6}, data); err != nil {
		t.Fatalf("SyncWrite(100, 3) = %v", err)
	}
	raw, err := b.SyncRead(ctx, 100, 3, []byte{6, 4, 2})
	if err != nil || fmt.Sprint(raw) != fmt.Sprint([][]byte{{7, 8, 9}, {4, 5, 6}, {1, 2, 3}}) {
		t.Errorf("SyncRead(100, 3, 6 4 2) = %v, %v, want [[7 8 9] [4 5 6] [1 2 3]]", raw, err)
	}
	// The returned slices are the caller's: the next read leaves them be.
	if _, err := b.SyncRead(ctx, 56, 2, arm); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(raw) != fmt.Sprint([][]byte{{7, 8, 9}, {4, 5, 6}, {1, 2, 3}}) {
		t.Errorf("SyncRead result changed by a later read: %v", raw)
	}
	if s := b.Stats(); s.Retries != 0 || s.Timeouts != 0 || s.Corrupt != 0 {
		t.Errorf("Stats() = %+v, want no retries, timeouts or corrupt frames", s)
	}
}

func TestBusBroadcastAndRegWriteAction(t *testing.T) {
	b, r := newTestBus(t, Options{}, arm...)
	ctx := context.Background()
	if err := b.WriteReg(ctx, BroadcastID, TorqueEnable, 1); err != nil {
		t.Fatalf("WriteReg(broadcast, Torque_Enable, 1) = %v", err)
	}
	got, err := b.SyncReadReg(ctx, TorqueEnable, arm)
	if err != nil || fmt.Sprint(got) != "[1 1 1 1 1 1]" {
		t.Errorf("SyncReadReg(Torque_Enable) after a broadcast write = %v, %v, want all 1", got, err)
	}

	goal := GoalPosition
	for _, id := range []byte{1, 2} {
		raw, _ := goal.Encode(1000 + int(id))
		if err := b.RegWrite(ctx, id, goal.Addr(), raw); err != nil {
			t.Fatalf("RegWrite(%d) = %v", id, err)
		}
	}
	if v, err := b.ReadReg(ctx, 1, goal); err != nil || v != 2010 {
		t.Errorf("ReadReg(1, Goal_Position) before Action = %d, %v, want 2010 (unchanged)", v, err)
	}
	if err := b.Action(ctx, BroadcastID); err != nil {
		t.Fatalf("Action(broadcast) = %v", err)
	}
	for _, id := range []byte{1, 2} {
		if v, err := b.ReadReg(ctx, id, goal); err != nil || v != 1000+int(id) {
			t.Errorf("ReadReg(%d, Goal_Position) after Action = %d, %v, want %d", id, v, err, 1000+int(id))
		}
	}
	// A single servo's Action is answered.
	raw, _ := goal.Encode(1234)
	if err := b.RegWrite(ctx, 3, goal.Addr(), raw); err != nil {
		t.Fatal(err)
	}
	if err := b.Action(ctx, 3); err != nil {
		t.Fatalf("Action(3) = %v", err)
	}
	if v := r.reg16(3, GoalPosition); v != 1234 {
		t.Errorf("servo 3 Goal_Position after Action(3) = %d, want 1234", v)
	}
}

func TestBusServoErrorBits(t *testing.T) {
	b, r := newTestBus(t, Options{}, arm...)
	r.set(func(r *responder) {
		r.servos[3].errBits = BitOverload | BitOverheat
		r.servos[5].errBits = BitVoltage
	})
	ctx := context.Background()
	var se *ServoError

	v, err := b.ReadReg(ctx, 3, PresentPosition)
	if !errors.As(err, &se) || se.ID != 3 || se.Bits != BitOverload|BitOverheat || v != 2030 {
		t.Errorf("ReadReg(3, Present_Position) = %d, %v, want 2030 and a *ServoError{3, overload|overheat}", v, err)
	}
	if !errors.Is(err, ErrOverload) || !errors.Is(err, ErrOverheat) || errors.Is(err, ErrVoltage) {
		t.Errorf("ReadReg(3) error %v: want it to match ErrOverload and ErrOverheat only", err)
	}
	raw, err := b.Read(ctx, 5, 56, 2)
	if !errors.As(err, &se) || se.ID != 5 || !bytes.Equal(raw, []byte{0x02, 0x08}) {
		t.Errorf("Read(5, 56, 2) = % X, %v, want 02 08 and a *ServoError for servo 5", raw, err)
	}
	if err := b.Ping(ctx, 3); !errors.As(err, &se) || se.ID != 3 {
		t.Errorf("Ping(3) = %v, want a *ServoError", err)
	}
	if err := b.WriteReg(ctx, 3, GoalPosition, 2100); !errors.Is(err, ErrOverload) {
		t.Errorf("WriteReg(3) = %v, want a *ServoError matching ErrOverload", err)
	}

	vals, err := b.SyncReadReg(ctx, PresentPosition, arm)
	if want := "[2010 2020 2100 2040 2050 2060]"; fmt.Sprint(vals) != want {
		t.Errorf("SyncReadReg with error bits = %v, want the data complete %s", vals, want)
	}
	var ids []byte
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if errors.As(e, &se) {
				ids = append(ids, se.ID)
			}
		}
	}
	if !bytes.Equal(ids, []byte{3, 5}) || !errors.Is(err, ErrVoltage) || !errors.Is(err, ErrOverload) {
		t.Errorf("SyncReadReg error = %v, want errors.Join of *ServoError for servos 3 and 5", err)
	}
	if got := b.Stats().ServoErrors; got != 6 {
		t.Errorf("Stats().ServoErrors = %d, want 6", got)
	}
}

func TestBusRecovers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fault func(t *testing.T) fault
		echo  bool
		chunk int
		sync  bool // a sync read of the arm, else a read of servo 2
		want  Stats
	}{
		{"dropped reply", func(*testing.T) fault { return dropFirst(1) }, false, 0, false,
			Stats{Transactions: 1, Retries: 1, Timeouts: 1}},
		{"corrupt reply", func(*testing.T) fault {
			return func(n int, _ Frame, reply []byte) ([]byte, bool) {
				if n == 1 {
					return corrupt(reply), false
				}
				return reply, false
			}
		}, false, 0, false, Stats{Transactions: 1, Retries: 1, Corrupt: 1}},
		{"reply from the wrong id", func(t *testing.T) fault {
			return func(n int, _ Frame, reply []byte) ([]byte, bool) {
				if n == 1 {
					return fromID(t, 9, reply), false
				}
				return reply, false
			}
		}, false, 0, false, Stats{Transactions: 1, Retries: 1, Timeouts: 1, WrongID: 1}},
		{"stale reply from another servo first", func(t *testing.T) fault {
			return func(n int, _ Frame, reply []byte) ([]byte, bool) {
				return append(fromID(t, 9, reply), reply...), false
			}
		}, false, 0, false, Stats{Transactions: 1, WrongID: 1}},
		{"garbage before the reply", func(*testing.T) fault {
			return func(n int, _ Frame, reply []byte) ([]byte, bool) {
				return append([]byte{0x00, 0x13, 0xFF, 0x42, 0xFF}, reply...), false
			}
		}, false, 0, false, Stats{Transactions: 1}},
		{"echo of the instruction", nil, true, 0, false, Stats{Transactions: 1}},
		{"echo, byte by byte", nil, true, 1, false, Stats{Transactions: 1}},
		{"reply byte by byte", nil, false, 1, true, Stats{Transactions: 1}},
		{"sync read echo", nil, true, 0, true, Stats{Transactions: 1}},
		{"sync read, servo 4 dropped once", func(t *testing.T) fault {
			return func(n int, _ Frame, reply []byte) ([]byte, bool) {
				if n == 1 {
					f := frames(t, reply)
					return bytes.Join(append(f[:3:3], f[4:]...), nil), false
				}
				return reply, false
			}
		}, false, 0, true, Stats{Transactions: 1, Retries: 1, Timeouts: 1}},
		{"sync read, servo 5 corrupt once", func(t *testing.T) fault {
			return func(n int, _ Frame, reply []byte) ([]byte, bool) {
				if n == 1 {
					f := frames(t, reply)
					f[4] = corrupt(f[4])
					return bytes.Join(f, nil), false
				}
				return reply, false
			}
		}, false, 0, true, Stats{Transactions: 1, Retries: 1, Corrupt: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := Options{Timeout: patient}
			if tt.want.Timeouts > 0 {
				// A stall of the machine may cost an extra retry.
				opts = Options{Timeout: deliberate, Retries: 5}
			}
			b, r := newTestBus(t, opts, arm...)
			r.set(func(r *responder) {
				if tt.fault != nil {
					r.fault = tt.fault(t)
				}
				r.echo = tt.echo
				r.chunk = tt.chunk
			})
			ctx := context.Background()
			if tt.sync {
				got, err := b.SyncReadReg(ctx, PresentPosition, arm)
				if want := "[2010 2020 2030 2040 2050 2060]"; err != nil || fmt.Sprint(got) != want {
					t.Errorf("SyncReadReg = %v, %v, want %s", got, err, want)
				}
			} else {
				got, err := b.ReadReg(ctx, 2, PresentPosition)
				if err != nil || got != 2020 {
					t.Errorf("ReadReg(2, Present_Position) = %d, %v, want 2020", got, err)
				}
			}
			got := b.Stats()
			if tt.want.Timeouts > 0 {
				// At least the deliberate timeouts, and a retry after each.
				if got.Timeouts >= tt.want.Timeouts && got.Retries == got.Timeouts {
					tt.want.Timeouts, tt.want.Retries = got.Timeouts, got.Retries
				}
			}
			if got != tt.want {
				t.Errorf("Stats() = %+v, want %+v", got, tt.want)
			}
			if n, want := r.instructions(), int(got.Retries)+1; n != want {
				t.Errorf("responder saw %d instructions, want %d (one per attempt)", n, want)
			}
		})
	}
}

func TestBusFailsAfterRetries(t *testing.T) {
	t.Parallel()
	always := func(f func(reply []byte) []byte) fault {
		return func(_ int, _ Frame, reply []byte) ([]byte, bool) { return f(reply), false }
	}
	tests := []struct {
		name     string
		retries  int
		fault    func(t *testing.T) fault
		sync     bool
		want     error
		attempts int
		contains []string
		stats    Stats
	}{
		{"silent servo", 0, func(*testing.T) fault { return always(func([]byte) []byte { return nil }) }, false,
			ErrNoStatus, 3, []string{"no status packet from servo 2", "3 attempts", "check power, the ID and the baud rate", PresentPosition.Name()},
			Stats{Transactions: 1, Retries: 2, Timeouts: 3}},
		{"silent servo, no retries", -1, func(*testing.T) fault { return always(func([]byte) []byte { return nil }) }, false,
			ErrNoStatus, 1, []string{"servo 2", "1 attempt of 50ms"},
			Stats{Transactions: 1, Timeouts: 1}},
		{"silent servo, 4 retries", 4, func(*testing.T) fault { return always(func([]byte) []byte { return nil }) }, false,
			ErrNoStatus, 5, []string{"servo 2", "5 attempts"},
			Stats{Transactions: 1, Retries: 4, Timeouts: 5}},
		{"always corrupt", 0, func(*testing.T) fault { return always(corrupt) }, false,
			ErrCorrupt, 3, []string{"corrupt status packet", "servo 2", "checksum"},
			Stats{Transactions: 1, Retries: 2, Corrupt: 3}},
		{"always the wrong id", -1, func(t *testing.T) fault { return always(func(r []byte) []byte { return fromID(t, 7, r) }) }, false,
			ErrWrongID, 1, []string{"servo 7 answered while waiting for servo 2", "1 attempt"},
			Stats{Transactions: 1, Timeouts: 1, WrongID: 1}},
		{"sync read, servos 4 and 5 silent", -1, func(t *testing.T) fault {
			return always(func(r []byte) []byte { f := frames(t, r); return bytes.Join(append(f[:3:3], f[5]), nil) })
		}, true, ErrNoStatus, 1, []string{"no status packet from servos 4, 5", "1 attempt", "check power"},
			Stats{Transactions: 1, Timeouts: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Silent servos are silent at any timeout; answers that do
			// come must arrive within it on a loaded machine; corrupt
			// ones end the attempt at once.
			timeout := 50 * time.Millisecond
			switch {
			case tt.want == ErrCorrupt:
				timeout = patient
			case tt.want != ErrNoStatus || tt.sync:
				timeout = deliberate
			}
			b, r := newTestBus(t, Options{Timeout: timeout, Retries: tt.retries}, arm...)
			r.set(func(r *responder) { r.fault = tt.fault(t) })
			var err error
			if tt.sync {
				var got []int
				got, err = b.SyncReadReg(context.Background(), PresentPosition, arm)
				if got != nil {
					t.Errorf("SyncReadReg = %v, want no data with %v", got, err)
				}
			} else {
				_, err = b.ReadReg(context.Background(), 2, PresentPosition)
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("read = %v, want %v", err, tt.want)
			}
			for _, c := range tt.contains {
				if !strings.Contains(err.Error(), c) {
					t.Errorf("error %q does not contain %q", err, c)
				}
			}
			if got := r.waitInstructions(tt.attempts); got != tt.attempts {
				t.Errorf("responder saw %d instructions, want %d attempts", got, tt.attempts)
			}
			if got := b.Stats(); got != tt.stats {
				t.Errorf("Stats() = %+v, want %+v", got, tt.stats)
			}
		})
	}
}

func TestBusPortGone(t *testing.T) {
	b, r := newTestBus(t, Options{Timeout: time.Minute, Retries: 5}, arm...)
	r.set(func(r *responder) {
		r.fault = func(int, Frame, []byte) ([]byte, bool) { return nil, true }
	})
	ctx := context.Background()
	start := time.Now()
	_, err := b.ReadReg(ctx, 1, PresentPosition)
	if !errors.Is(err, ErrPortGone) {
		t.Fatalf("ReadReg after the other end closed = %v, want ErrPortGone", err)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("ReadReg took %v to notice the port was gone, want well under the 1 minute timeout", took)
	}
	if s := b.Stats(); s.Retries != 0 || s.Timeouts != 0 {
		t.Errorf("Stats() = %+v, want no retry and no timeout", s)
	}
	// Every later call fails at once too, broadcast writes included.
	if err := b.Ping(ctx, 1); !errors.Is(err, ErrPortGone) {
		t.Errorf("Ping after the port went = %v, want ErrPortGone", err)
	}
	if err := b.SyncWriteReg(ctx, GoalPosition, arm, []int{1, 2, 3, 4, 5, 6}); !errors.Is(err, ErrPortGone) {
		t.Errorf("SyncWriteReg after the port went = %v, want ErrPortGone", err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
	if err := b.Ping(ctx, 1); !errors.Is(err, ErrPortClosed) {
		t.Errorf("Ping after Close = %v, want ErrPortClosed", err)
	}
}

// waitAndDrop is a fault that swallows every answer and tells arrived
// about the first instruction.
func waitAndDrop(arrived chan<- struct{}) fault {
	var once sync.Once
	return func(int, Frame, []byte) ([]byte, bool) {
		once.Do(func() { close(arrived) })
		return nil, false
	}
}

func TestBusContextCancelledMidWait(t *testing.T) {
	b, r := newTestBus(t, Options{Timeout: time.Minute}, arm...)
	arrived := make(chan struct{})
	r.set(func(r *responder) { r.fault = waitAndDrop(arrived) })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := make(chan struct{})
	go func() {
		defer close(stop)
		<-arrived
		cancel()
	}()
	start := time.Now()
	_, err := b.SyncReadReg(ctx, PresentPosition, arm)
	<-stop
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("SyncReadReg with a cancelled context = %v, want context.Canceled", err)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("SyncReadReg returned %v after the cancel, want promptly", took)
	}
	if r.instructions() != 1 {
		t.Errorf("responder saw %d instructions, want 1 (no retry after cancel)", r.instructions())
	}
	// Already cancelled: nothing is sent.
	if err := b.Ping(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("Ping(cancelled) = %v, want context.Canceled", err)
	}
	if r.instructions() != 1 {
		t.Errorf("a cancelled context still sent an instruction")
	}
}

func TestBusContextDeadline(t *testing.T) {
	b, r := newTestBus(t, Options{Timeout: time.Minute}, arm...)
	r.set(func(r *responder) { r.fault = dropFirst(1 << 30) })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := b.Ping(ctx, 1)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Ping with a 50ms deadline = %v, want context.DeadlineExceeded", err)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("Ping returned after %v, want soon after the 50ms deadline", took)
	}
}

func TestBusCloseDuringWait(t *testing.T) {
	b, r := newTestBus(t, Options{Timeout: time.Minute}, arm...)
	arrived := make(chan struct{})
	r.set(func(r *responder) { r.fault = waitAndDrop(arrived) })
	closed := make(chan error, 1)
	go func() {
		<-arrived
		closed <- b.Close()
	}()
	err := b.Ping(context.Background(), 1)
	if !errors.Is(err, ErrPortClosed) {
		t.Errorf("Ping while the bus closes = %v, want ErrPortClosed", err)
	}
	if err := <-closed; err != nil {
		t.Errorf("Close() = %v", err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close() = %v, want nil", err)
	}
}

func TestBusConcurrentUse(t *testing.T) {
	b, _ := newTestBus(t, Options{}, arm...)
	ctx := context.Background()
	const n = 100
	errs := make(chan error, 3*n)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // the control loop
		defer wg.Done()
		for i := range n {
			pos, err := b.SyncReadReg(ctx, PresentPosition, arm)
			if err != nil {
				errs <- err
				return
			}
			for j := range pos {
				pos[j] = 1000 + i
			}
			if err := b.SyncWriteReg(ctx, GoalPosition, arm, pos); err != nil {
				errs <- err
				return
			}
		}
	}()
	go func() { // the watchdog
		defer wg.Done()
		for range n {
			v, err := b.ReadReg(ctx, 3, PresentTemperature)
			if err == nil && v != 33 {
				err = fmt.Errorf("ReadReg(3, Present_Temperature) = %d, want 33", v)
			}
			if err != nil {
				errs <- err
				return
			}
			_ = b.Stats()
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got, err := b.SyncReadReg(ctx, PresentPosition, arm); err != nil || fmt.Sprint(got) != "[1099 1099 1099 1099 1099 1099]" {
		t.Errorf("SyncReadReg after the loop = %v, %v, want all 1099", got, err)
	}
	if s := b.Stats(); s.Transactions != 3*n+1 || s.Retries != 0 {
		t.Errorf("Stats() = %+v, want %d transactions, no retries", s, 3*n+1)
	}
}

func TestBusInvalidArguments(t *testing.T) {
	b, r := newTestBus(t, Options{}, arm...)
	ctx := context.Background()
	tests := []struct {
		name     string
		call     func() error
		contains string
	}{
		{"Ping(0xFD)", func() error { return b.Ping(ctx, 0xFD) }, "ID 253"},
		{"Ping(broadcast)", func() error { return b.Ping(ctx, BroadcastID) }, "ID 254"},
		{"Read(broadcast)", func() error { _, err := b.Read(ctx, BroadcastID, 56, 2); return err }, "ID 254"},
		{"Read n 0", func() error { _, err := b.Read(ctx, 1, 56, 0); return err }, "length 0"},
		{"Read n 251", func() error { _, err := b.Read(ctx, 1, 0, 251); return err }, "length 251"},
		{"Read past 255", func() error { _, err := b.Read(ctx, 1, 255, 2); return err }, "past the end"},
		{"Write no data", func() error { return b.Write(ctx, 1, 42, nil) }, "length 0"},
		{"Write ID 0xFF", func() error { return b.Write(ctx, 0xFF, 42, []byte{1}) }, "ID 255"},
		{"RegWrite 251 bytes", func() error { return b.RegWrite(ctx, 1, 0, make([]byte, 251)) }, "length 251"},
		{"Action(0xFD)", func() error { return b.Action(ctx, 0xFD) }, "ID 253"},
		{"SyncRead no ids", func() error { _, err := b.SyncRead(ctx, 56, 2, nil); return err }, "no servo IDs"},
		{"SyncRead duplicate", func() error { _, err := b.SyncRead(ctx, 56, 2, []byte{1, 2, 1}); return err }, "servo 1 is listed twice"},
		{"SyncRead ID 0xFE", func() error { _, err := b.SyncRead(ctx, 56, 2, []byte{1, 0xFE}); return err }, "ID 254"},
		{"SyncRead n 0", func() error { _, err := b.SyncRead(ctx, 56, 0, arm); return err }, "length 0"},
		{"SyncWrite values count", func() error { return b.SyncWrite(ctx, 42, 2, arm, [][]byte{{1, 2}}) }, "1 values for 6 servos"},
		{"SyncWrite data length", func() error {
			return b.SyncWrite(ctx, 42, 2, []byte{1, 2}, [][]byte{{1, 2}, {3}})
		}, "data for servo 2 has 1 bytes, want 2"},
		{"SyncWrite too long", func() error {
			ids := make([]byte, 60)
			data := make([][]byte, 60)
			for i := range ids {
				ids[i], data[i] = byte(i), make([]byte, 4)
			}
			return b.SyncWrite(ctx, 42, 4, ids, data)
		}, "do not fit"},
		{"ReadReg zero Register", func() error { _, err := b.ReadReg(ctx, 1, Register(0)); return err }, "size 0"},
		{"WriteReg Goal_Position 40000", func() error { return b.WriteReg(ctx, 1, GoalPosition, 40000) }, "Goal_Position = 40000"},
		{"WriteReg Homing_Offset 2048", func() error { return b.WriteReg(ctx, 1, HomingOffset, 2048) }, "Homing_Offset = 2048"},
		{"WriteReg Torque_Enable -1", func() error { return b.WriteReg(ctx, 1, TorqueEnable, -1) }, "Torque_Enable = -1"},
		{"SyncWriteReg values count", func() error { return b.SyncWriteReg(ctx, GoalPosition, arm, []int{1}) }, "1 values for 6 servos"},
		{"SyncWriteReg Homing_Offset 3000", func() error {
			return b.SyncWriteReg(ctx, HomingOffset, []byte{1, 2}, []int{0, 3000})
		}, "servo 2: Homing_Offset = 3000"},
		{"SyncReadReg duplicate", func() error { _, err := b.SyncReadReg(ctx, PresentPosition, []byte{4, 4}); return err }, "listed twice"},
	}
	for _, tt := range tests {
		err := tt.call()
		if !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s = %v, want ErrInvalidArgument", tt.name, err)
			continue
		}
		if !strings.Contains(err.Error(), tt.contains) {
			t.Errorf("%s = %q, want it to contain %q", tt.name, err, tt.contains)
		}
	}
	if err := b.Ping(ctx, 1); err != nil {
		t.Fatalf("Ping(1) = %v", err)
	}
	if got := r.instructions(); got != 1 {
		t.Errorf("responder saw %d instructions, want only the final ping: invalid calls must not touch the wire", got)
	}
	if got := b.Stats().Transactions; got != 1 {
		t.Errorf("Stats().Transactions = %d, want 1", got)
	}
}

// A ping answered with the voltage bit is byte for byte the ping itself.
func TestBusStatusIdenticalToInstruction(t *testing.T) {
	t.Parallel()
	t.Run("adapter known not to echo", func(t *testing.T) {
		t.Parallel()
		b, r := newTestBus(t, Options{}, arm...)
		r.set(func(r *responder) { r.servos[1].errBits = BitVoltage })
		ctx := context.Background()
		if _, err := b.ReadReg(ctx, 2, PresentPosition); err != nil {
			t.Fatal(err)
		}
		var se *ServoError
		if err := b.Ping(ctx, 1); !errors.As(err, &se) || se.Bits != BitVoltage {
			t.Errorf("Ping(1) = %v, want a *ServoError with the voltage bit", err)
		}
		if got := b.Stats().Timeouts; got != 0 {
			t.Errorf("Stats().Timeouts = %d, want 0: the answer was taken at once", got)
		}
	})
	t.Run("nothing known yet", func(t *testing.T) {
		t.Parallel()
		b, r := newTestBus(t, Options{Timeout: deliberate}, arm...)
		r.set(func(r *responder) { r.servos[1].errBits = BitVoltage })
		var se *ServoError
		if err := b.Ping(context.Background(), 1); !errors.As(err, &se) || se.Bits != BitVoltage {
			t.Errorf("Ping(1) = %v, want a *ServoError with the voltage bit (after one timeout)", err)
		}
	})
	t.Run("echoing adapter", func(t *testing.T) {
		t.Parallel()
		b, r := newTestBus(t, Options{Timeout: deliberate, Retries: 1}, arm...)
		r.set(func(r *responder) { r.echo = true })
		ctx := context.Background()
		if err := b.Ping(ctx, 2); err != nil {
			t.Fatalf("Ping(2) = %v", err)
		}
		// The echo is now known: an absent servo's ping echo is no answer.
		if err := b.Ping(ctx, 9); !errors.Is(err, ErrNoStatus) {
			t.Errorf("Ping(9) on an echoing adapter = %v, want ErrNoStatus", err)
		}
	})
}

func TestReplyTimeout(t *testing.T) {
	tests := []struct {
		baud, sent, reply int
		want              time.Duration
	}{
		{1_000_000, 8, 8, 10*time.Millisecond + 190*time.Microsecond},     // read 2 bytes
		{1_000_000, 14, 48, 10*time.Millisecond + 650*time.Microsecond},   // sync read 6×2
		{115_200, 6, 6, 10*time.Millisecond + 1302083*time.Nanosecond},    // ping
		{19_200, 8, 8, 10*time.Millisecond + 9895833*time.Nanosecond},     // read 2 bytes
		{1_000_000, 14, 0, 10*time.Millisecond + 170*time.Microsecond},    // nothing to wait for
		{500_000, 262, 262, 10*time.Millisecond + 10540*time.Microsecond}, // the longest frames
	}
	for _, tt := range tests {
		if got := replyTimeout(tt.baud, tt.sent, tt.reply); got != tt.want {
			t.Errorf("replyTimeout(%d, %d, %d) = %v, want %v", tt.baud, tt.sent, tt.reply, got, tt.want)
		}
	}
}

func TestBusDefaultTimeoutInMessage(t *testing.T) {
	// Options{} at 1 Mbaud: a 2-byte read waits 10.19ms per attempt.
	r, path := newResponder(t, arm...)
	r.set(func(r *responder) { r.fault = dropFirst(1 << 30) })
	b := newBusAt(t, path, Options{})
	_, err := b.ReadReg(context.Background(), 3, PresentPosition)
	if !errors.Is(err, ErrNoStatus) || !strings.Contains(err.Error(), "3 attempts of 10.19ms") {
		t.Errorf("ReadReg with Options{} = %v, want ErrNoStatus after 3 attempts of 10.19ms", err)
	}
}

// Scan's ping timeout is its latency plus the wire time: a loaded machine
// must not make a present servo miss it, so the tests give deliberate, and
// each absent servo costs that much.
var testScanTimeouts = scanTimeouts{latency: deliberate, bus: patient}

func TestScan(t *testing.T) {
	t.Parallel()
	t.Run("finds the arm", func(t *testing.T) {
		t.Parallel()
		r, path := newResponder(t, arm...)
		r.set(func(r *responder) {
			r.baud = 1_000_000
			r.servos[4].errBits = BitOverload // found all the same
		})
		var calls []string
		progress := func(baud int, id byte) { calls = append(calls, fmt.Sprintf("%d/%d", baud, id)) }
		found, err := scan(context.Background(), nil, path, []int{1_000_000}, []byte{1, 2, 3, 4, 5, 6, 7}, progress, testScanTimeouts)
		if err != nil {
			t.Fatalf("Scan = %v", err)
		}
		var want []Found
		for _, id := range arm {
			want = append(want, Found{Baud: 1_000_000, ID: id, Model: ModelSTS3215})
		}
		if fmt.Sprint(found) != fmt.Sprint(want) {
			t.Errorf("Scan = %v, want %v", found, want)
		}
		if got, want := strings.Join(calls, " "), "1000000/1 1000000/2 1000000/3 1000000/4 1000000/5 1000000/6 1000000/7"; got != want {
			t.Errorf("progress calls = %v, want %v", got, want)
		}
	})
	t.Run("other baud", func(t *testing.T) {
		t.Parallel()
		r, path := newResponder(t, arm...)
		r.set(func(r *responder) { r.baud = 1_000_000 })
		var calls []string
		progress := func(baud int, id byte) { calls = append(calls, fmt.Sprintf("%d/%d", baud, id)) }
		found, err := scan(context.Background(), nil, path, []int{57_600, 1_000_000}, []byte{3}, progress, testScanTimeouts)
		if want := []Found{{1_000_000, 3, ModelSTS3215}}; err != nil || fmt.Sprint(found) != fmt.Sprint(want) {
			t.Errorf("Scan at 57600 and 1M baud = %v, %v, want %v", found, err, want)
		}
		if got, want := strings.Join(calls, " "), "57600/3 1000000/3"; got != want {
			t.Errorf("progress calls = %v, want %v", got, want)
		}
	})
}

func TestScanEchoingAdapter(t *testing.T) {
	t.Parallel()
	r, path := newResponder(t, 3, 4)
	r.set(func(r *responder) { r.echo = true })
	// Servo 1 is a phantom until servo 3 shows the adapter echoes.
	found, err := scan(context.Background(), nil, path, []int{1_000_000}, []byte{1, 3, 4}, nil,
		scanTimeouts{latency: deliberate, bus: deliberate})
	want := []Found{{1_000_000, 3, ModelSTS3215}, {1_000_000, 4, ModelSTS3215}}
	if err != nil || fmt.Sprint(found) != fmt.Sprint(want) {
		t.Errorf("Scan over an echoing adapter = %v, %v, want %v", found, err, want)
	}
}

func TestScanEchoingAdapterNoServo(t *testing.T) {
	t.Parallel()
	r, path := newResponder(t)
	r.set(func(r *responder) { r.echo = true })
	// Nothing but echoes: the Model read gives the echo away.
	found, err := scan(context.Background(), nil, path, []int{1_000_000}, []byte{1}, nil,
		scanTimeouts{latency: deliberate, bus: deliberate})
	if err != nil || len(found) != 0 {
		t.Errorf("Scan of an echoing adapter with no servo = %v, %v, want nothing", found, err)
	}
}

func TestScanErrors(t *testing.T) {
	_, path := newResponder(t, arm...)
	ctx, cancel := context.WithCancel(context.Background())
	var pinged int
	found, err := Scan(ctx, nil, path, []int{1_000_000}, []byte{1, 2, 3}, func(int, byte) {
		pinged++
		if pinged == 2 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) || len(found) > 1 {
		t.Errorf("Scan cancelled at the 2nd ping = %v, %v, want at most servo 1 and context.Canceled", found, err)
	}

	missing := path + "-missing"
	if _, err := Scan(context.Background(), nil, missing, nil, []byte{1}, nil); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("Scan(%s) = %v, want the open error naming the path", missing, err)
	}
	if _, err := Scan(context.Background(), nil, path, []int{0}, nil, nil); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("Scan(baud 0) = %v, want ErrInvalidArgument", err)
	}
	if _, err := Scan(context.Background(), nil, path, nil, []byte{0xFD}, nil); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("Scan(ID 0xFD) = %v, want ErrInvalidArgument", err)
	}
}
