package sim

import (
	"strings"
	"testing"
	"time"

	"github.com/pilotkit/pilot/robot/feetech"
)

// FuzzHandle: any bytes never panic the simulator, and what it answers is
// nothing or whole, valid status packets.
func FuzzHandle(f *testing.F) {
	seeds := [][]byte{
		{0xFF, 0xFF, 0x01, 0x02, 0x01, 0xFB},
		{0xFF, 0xFF, 0x01, 0x04, 0x02, 0x38, 0x02, 0xBE},
		{0xFF, 0xFF, 0x01, 0x05, 0x03, 0x2A, 0x00, 0x08, 0xC4},
		{0xFF, 0xFF, 0x01, 0x04, 0x03, 0x28, 0x01, 0xCE},
		{0xFF, 0xFF, 0xFE, 0x0A, 0x83, 0x2A, 0x02, 0x01, 0x00, 0x08, 0x02, 0x00, 0x04, 0x39},
		{0xFF, 0xFF, 0xFE, 0x0A, 0x82, 0x38, 0x02, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x26},
		feetech.AppendFrame(nil, 3, feetech.InstRegWrite, 42, 0, 4),
		feetech.AppendFrame(nil, feetech.BroadcastID, feetech.InstAction),
		feetech.AppendFrame(nil, 2, feetech.InstReset),
		feetech.AppendFrame(nil, 1, feetech.InstWrite, 5, 9),
		feetech.AppendFrame(nil, 1, feetech.InstWrite, 40, 128),
		feetech.AppendFrame(nil, 1, feetech.InstRead, 0, 255),
		feetech.AppendFrame(nil, 1, feetech.InstWrite, 250, 1, 2, 3, 4, 5, 6),
		feetech.AppendFrame(nil, 6, 0x42, 1, 2),
		{0xFF, 0xFF, 0xFF, 0x01, 0x02},
		{},
	}
	for _, s := range seeds {
		f.Add(s, uint16(10))
	}
	f.Fuzz(func(t *testing.T, req []byte, ms uint16) {
		s, err := New(Options{})
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		// Twice, with time between: the first request may have changed
		// the table, IDs or torque.
		for range 2 {
			out := s.Handle(req, s.Now()+time.Duration(ms)*time.Millisecond)
			for len(out) > 0 {
				fr, n, err := feetech.ScanFrame(out, feetech.StatusKind)
				if err != nil {
					t.Fatalf("Handle(% X) answered % X: not whole status packets: %v", req, out, err)
				}
				if n != fr.Len() {
					t.Fatalf("Handle(% X) answered % X: %d bytes before a frame", req, out, n-fr.Len())
				}
				out = out[n:]
			}
		}
	})
}

func FuzzDecodeEncoders(f *testing.F) {
	f.Add(`{"encoders": [1000, 1100, 1200, 1300, 1400, 1500]}`)
	f.Add(`{"encoders": [1, 2]}`)
	f.Add(`{}`)
	f.Fuzz(func(t *testing.T, body string) {
		e, err := decodeEncoders(strings.NewReader(body))
		if err != nil {
			return
		}
		for _, v := range e {
			if v < 0 || v >= stepsPerTurn {
				t.Fatalf("decodeEncoders(%q) = %v: a position out of range", body, e)
			}
		}
	})
}
