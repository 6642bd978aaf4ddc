package feetech

import (
	"context"
	"errors"
	"testing"
	"time"
)

// scriptPort is a serial.Port whose line delivers a fixed script of bytes
// after each instruction, chunk bytes per Read, then stays silent. It lets
// the fuzzer drive the Bus's reply parser without a pseudo-terminal.
type scriptPort struct {
	script []byte
	chunk  int
	rest   []byte
}

func (p *scriptPort) Read(b []byte) (int, error) {
	if len(p.rest) == 0 {
		return 0, nil // the read timeout passed
	}
	n := copy(b[:min(len(b), p.chunk)], p.rest)
	p.rest = p.rest[n:]
	return n, nil
}

func (p *scriptPort) Write(b []byte) (int, error) {
	p.rest = p.script // the line answers each instruction the same
	return len(b), nil
}

func (p *scriptPort) Close() error                       { return nil }
func (p *scriptPort) SetReadTimeout(time.Duration) error { return nil }
func (p *scriptPort) ResetInputBuffer() error            { p.rest = nil; return nil }

func corrupt(reply []byte) []byte {
	out := append([]byte(nil), reply...)
	out[len(out)-1] ^= 0x5A // the checksum
	return out
}

// FuzzBusReplies feeds arbitrary bytes to a read and a sync read: the bus
// never panics, and either returns data of the right length or one of its
// errors.
func FuzzBusReplies(f *testing.F) {
	reply2 := AppendFrame(nil, 2, 0, 0xE4, 0x07)
	f.Add(reply2, 64, false)
	f.Add(append([]byte{0xFF, 0xFF, 0x01, 0x04, 0x02, 0x38, 0x02, 0xBE}, reply2...), 3, false) // echo, reply
	f.Add(append(AppendFrame(nil, 9, 0, 1, 2), reply2...), 1, false)                           // wrong id first
	f.Add(corrupt(reply2), 8, false)
	f.Add(append(append(AppendFrame(nil, 1, 0, 1, 2), AppendFrame(nil, 2, BitOverload, 3, 4)...), AppendFrame(nil, 3, 0, 5, 6)...), 5, true)
	f.Add([]byte{0xFF, 0xFF, 0xFF, 0xFF, 0x02, 0x04, 0x00, 0xE4, 0x07, 0x0E}, 2, true)
	f.Add([]byte{0xFF, 0xFF, 0x02, 0xFF}, 1, false)
	f.Fuzz(func(t *testing.T, script []byte, chunk int, sync bool) {
		if chunk < 1 || chunk > 512 {
			chunk = 1 + (chunk&0x7FFFFFFF)%512
		}
		b := NewBus(&scriptPort{script: script, chunk: chunk}, Options{Timeout: 200 * time.Microsecond, Retries: 1})
		ctx := context.Background()
		var err error
		if sync {
			var data [][]byte
			data, err = b.SyncRead(ctx, 56, 2, []byte{1, 2, 3})
			if data != nil && (len(data) != 3 || len(data[0]) != 2 || len(data[2]) != 2) {
				t.Fatalf("SyncRead = %v, %v: want 3 × 2 bytes", data, err)
			}
		} else {
			var data []byte
			data, err = b.Read(ctx, 2, 56, 2)
			if data != nil && len(data) != 2 {
				t.Fatalf("Read = % X, %v: want 2 bytes", data, err)
			}
		}
		var se *ServoError
		switch {
		case err == nil, errors.As(err, &se),
			errors.Is(err, ErrNoStatus), errors.Is(err, ErrCorrupt), errors.Is(err, ErrWrongID):
		default:
			t.Fatalf("bus returned %v for % X", err, script)
		}
	})
}
