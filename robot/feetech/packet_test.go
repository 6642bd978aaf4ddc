package feetech

import (
	"bytes"
	"errors"
	"testing"
)

// mustEncode encodes v for register r, failing the test on error.
func mustEncode(t testing.TB, r Register, v int) []byte {
	t.Helper()
	b, err := r.Encode(v)
	if err != nil {
		t.Fatalf("%v.Encode(%d) = %v", r, v, err)
	}
	return b
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// The test vectors of FEETECH.md, built from the instruction and the
// register encodings.
func TestAppendFrameVectors(t *testing.T) {
	pos := PresentPosition
	goal := GoalPosition
	tests := []struct {
		name   string
		id     byte
		code   byte
		params []byte
		want   []byte
	}{
		{"PING id 1", 1, InstPing, nil,
			[]byte{0xFF, 0xFF, 0x01, 0x02, 0x01, 0xFB}},
		{"READ Present_Position id 1", 1, InstRead, []byte{pos.Addr(), byte(pos.Size())},
			[]byte{0xFF, 0xFF, 0x01, 0x04, 0x02, 0x38, 0x02, 0xBE}},
		{"status 2048 id 1", 1, 0, mustEncode(t, PresentPosition, 2048),
			[]byte{0xFF, 0xFF, 0x01, 0x04, 0x00, 0x00, 0x08, 0xF2}},
		{"WRITE Goal_Position 2048 id 1", 1, InstWrite, cat([]byte{goal.Addr()}, mustEncode(t, GoalPosition, 2048)),
			[]byte{0xFF, 0xFF, 0x01, 0x05, 0x03, 0x2A, 0x00, 0x08, 0xC4}},
		{"WRITE Torque_Enable 1 id 1", 1, InstWrite, cat([]byte{TorqueEnable.Addr()}, mustEncode(t, TorqueEnable, 1)),
			[]byte{0xFF, 0xFF, 0x01, 0x04, 0x03, 0x28, 0x01, 0xCE}},
		{"SYNC_WRITE Goal_Position 1,2 = 2048,1024", BroadcastID, InstSyncWrite,
			cat([]byte{goal.Addr(), byte(goal.Size()), 1}, mustEncode(t, GoalPosition, 2048), []byte{2}, mustEncode(t, GoalPosition, 1024)),
			[]byte{0xFF, 0xFF, 0xFE, 0x0A, 0x83, 0x2A, 0x02, 0x01, 0x00, 0x08, 0x02, 0x00, 0x04, 0x39}},
		{"SYNC_READ Present_Position 1..6", BroadcastID, InstSyncRead, []byte{pos.Addr(), byte(pos.Size()), 1, 2, 3, 4, 5, 6},
			[]byte{0xFF, 0xFF, 0xFE, 0x0A, 0x82, 0x38, 0x02, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x26}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AppendFrame(nil, tt.id, tt.code, tt.params...); !bytes.Equal(got, tt.want) {
				t.Errorf("AppendFrame(%d, 0x%02X, % X) = % X, want % X", tt.id, tt.code, tt.params, got, tt.want)
			}
			// Appending keeps what dst held.
			prefix := []byte{0xAA, 0x55}
			if got := AppendFrame(prefix, tt.id, tt.code, tt.params...); !bytes.Equal(got, cat(prefix, tt.want)) {
				t.Errorf("AppendFrame(AA 55, ...) = % X, want AA 55 % X", got, tt.want)
			}
			f := Frame{ID: tt.id, Code: tt.code, Params: tt.params}
			if got := f.Encode(); !bytes.Equal(got, tt.want) || f.Len() != len(tt.want) {
				t.Errorf("Frame.Encode() = % X (Len %d), want % X (%d)", got, f.Len(), tt.want, len(tt.want))
			}
			// Every vector parses back as an instruction; its own checksum
			// over the body is the last byte.
			fr, n, err := ScanFrame(tt.want, InstructionKind)
			if err != nil || n != len(tt.want) || fr.ID != tt.id || fr.Code != tt.code || !bytes.Equal(fr.Params, tt.params) {
				t.Errorf("ScanFrame(% X) = %+v, %d, %v, want the frame back", tt.want, fr, n, err)
			}
			if got := Checksum(tt.want[2 : len(tt.want)-1]); got != tt.want[len(tt.want)-1] {
				t.Errorf("Checksum(% X) = %02X, want %02X", tt.want[2:len(tt.want)-1], got, tt.want[len(tt.want)-1])
			}
		})
	}
}

func TestDecodeReply2048(t *testing.T) {
	reply := []byte{0xFF, 0xFF, 0x01, 0x04, 0x00, 0x00, 0x08, 0xF2}
	f, n, err := ScanFrame(reply, StatusKind)
	if err != nil || n != len(reply) {
		t.Fatalf("ScanFrame(% X) = %+v, %d, %v, want a frame of %d bytes", reply, f, n, err, len(reply))
	}
	if f.ID != 1 || f.Code != 0 {
		t.Errorf("ScanFrame(% X): ID %d, ERR %d, want 1, 0", reply, f.ID, f.Code)
	}
	if got := PresentPosition.Decode(f.Params); got != 2048 {
		t.Errorf("Present_Position.Decode(% X) = %d, want 2048", f.Params, got)
	}
}

func TestScanFrame(t *testing.T) {
	reply := []byte{0xFF, 0xFF, 0x01, 0x04, 0x00, 0x00, 0x08, 0xF2}
	sync := []byte{0xFF, 0xFF, 0xFE, 0x0A, 0x82, 0x38, 0x02, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x26}
	badSum := append(append([]byte(nil), reply[:7]...), 0xF3)
	err80 := AppendFrame(nil, 1, 0x80)
	tests := []struct {
		name     string
		in       []byte
		kind     Kind
		wantID   byte
		wantData []byte
		wantN    int
		wantErr  error // nil, ErrShortFrame, or errFrame for a *FrameError
	}{
		{"frame", reply, StatusKind, 1, []byte{0x00, 0x08}, 8, nil},
		{"garbage first", cat([]byte{0x00, 0x12, 0xFF, 0x34}, reply), StatusKind, 1, []byte{0x00, 0x08}, 12, nil},
		{"FF FF FF header", cat([]byte{0xFF}, reply), StatusKind, 1, []byte{0x00, 0x08}, 9, nil},
		{"FF FF FF FF header", cat([]byte{0xFF, 0xFF}, reply), StatusKind, 1, []byte{0x00, 0x08}, 10, nil},
		{"two frames: the first", cat(reply, AppendFrame(nil, 2, 0)), StatusKind, 1, []byte{0x00, 0x08}, 8, nil},
		{"bare status", AppendFrame(nil, 7, BitOverload), StatusKind, 7, nil, 6, nil},
		{"bad checksum", badSum, StatusKind, 0, nil, 1, errFrame},
		{"bad checksum after garbage", cat([]byte{1, 2}, badSum), StatusKind, 0, nil, 3, errFrame},
		{"status ID 0xFE", sync, StatusKind, 0, nil, 1, errFrame},
		{"instruction ID 0xFE", sync, InstructionKind, BroadcastID, sync[5:13], len(sync), nil},
		{"status ID 0xFD", AppendFrame(nil, 0xFD, 0), StatusKind, 0xFD, nil, 6, nil},
		{"ERR 0x80", err80, StatusKind, 0, nil, 1, errFrame},
		{"code 0x80 in an instruction", err80, InstructionKind, 1, nil, 6, nil},
		{"LEN 1", []byte{0xFF, 0xFF, 0x01, 0x01, 0x00, 0xFD}, StatusKind, 0, nil, 1, errFrame},
		{"empty", nil, StatusKind, 0, nil, 0, ErrShortFrame},
		{"garbage only", []byte{0x01, 0x02, 0x03}, StatusKind, 0, nil, 3, ErrShortFrame},
		{"trailing FF kept", []byte{0x01, 0x02, 0xFF}, StatusKind, 0, nil, 2, ErrShortFrame},
		{"header only", []byte{0x00, 0xFF, 0xFF}, StatusKind, 0, nil, 1, ErrShortFrame},
		{"header and ID", reply[:3], StatusKind, 0, nil, 0, ErrShortFrame},
		{"short frame", reply[:7], StatusKind, 0, nil, 0, ErrShortFrame},
		{"short after garbage", cat([]byte{0x10}, reply[:5]), StatusKind, 0, nil, 1, ErrShortFrame},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, n, err := ScanFrame(tt.in, tt.kind)
			if n != tt.wantN {
				t.Errorf("ScanFrame(% X) consumed %d, want %d", tt.in, n, tt.wantN)
			}
			switch tt.wantErr {
			case nil:
				if err != nil || f.ID != tt.wantID || !bytes.Equal(f.Params, tt.wantData) {
					t.Errorf("ScanFrame(% X) = ID %d, % X, %v, want ID %d, % X, nil", tt.in, f.ID, f.Params, err, tt.wantID, tt.wantData)
				}
			case errFrame:
				var fe *FrameError
				if !errors.As(err, &fe) || len(fe.Bytes) == 0 || fe.Bytes[0] != 0xFF {
					t.Errorf("ScanFrame(% X) error = %v, want a *FrameError holding the bad frame", tt.in, err)
				}
			default:
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("ScanFrame(% X) error = %v, want %v", tt.in, err, tt.wantErr)
				}
			}
		})
	}
}

// errFrame marks a wanted *FrameError in table tests.
var errFrame = errors.New("want a *FrameError")

// possibleHeader reports whether a frame may start at buf[j]: FF FF and
// not FF FF FF (ID 0xFF is impossible), or too few bytes to tell.
func possibleHeader(buf []byte, j int) bool {
	if buf[j] != 0xFF {
		return false
	}
	if j+1 >= len(buf) {
		return true
	}
	return buf[j+1] == 0xFF && (j+2 >= len(buf) || buf[j+2] != 0xFF)
}

func FuzzScanFrame(f *testing.F) {
	reply := []byte{0xFF, 0xFF, 0x01, 0x04, 0x00, 0x00, 0x08, 0xF2}
	f.Add(reply, false)
	f.Add(cat([]byte{0x00, 0xFF, 0x12}, reply, reply), false)
	f.Add([]byte{0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x02, 0x00, 0xFC}, false)
	f.Add([]byte{0xFF, 0xFF, 0xFE, 0x0A, 0x82, 0x38, 0x02, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x26}, true)
	f.Add([]byte{0xFF, 0xFF, 0x01, 0x01}, false)
	f.Add([]byte{0xFF, 0xFF, 0x01, 0xFF, 0x00}, false)
	f.Add([]byte{0xFF}, true)
	f.Add([]byte{}, false)
	f.Fuzz(func(t *testing.T, buf []byte, instruction bool) {
		k := StatusKind
		if instruction {
			k = InstructionKind
		}
		fr, n, err := ScanFrame(buf, k)
		if n < 0 || n > len(buf) {
			t.Fatalf("ScanFrame(% X) consumed %d of %d bytes", buf, n, len(buf))
		}
		var fe *FrameError
		switch {
		case err == nil:
			// The frame re-encodes to exactly the bytes it came from.
			start := n - fr.Len()
			if start < 0 || !bytes.Equal(fr.Encode(), buf[start:n]) {
				t.Fatalf("ScanFrame(% X) = %+v consuming %d: re-encodes to % X", buf, fr, n, fr.Encode())
			}
			// ScanFrame stops at the first possible header: it skips
			// only garbage and FF FF FF.
			for j := 0; j < start; j++ {
				if possibleHeader(buf, j) {
					t.Fatalf("ScanFrame(% X) skipped a possible header at %d to a frame at %d", buf, j, start)
				}
			}
			if fr.ID == 0xFF || k == StatusKind && (fr.ID > 0xFD || fr.Code > 0x7F) {
				t.Fatalf("ScanFrame(% X, %v) accepted ID 0x%02X, code 0x%02X", buf, k, fr.ID, fr.Code)
			}
		case errors.Is(err, ErrShortFrame):
			for j := 0; j < n; j++ {
				if possibleHeader(buf, j) {
					t.Fatalf("ScanFrame(% X) = ErrShortFrame consuming %d: drops a possible header at %d", buf, n, j)
				}
			}
		case errors.As(err, &fe):
			if n < 1 {
				t.Fatalf("ScanFrame(% X) = %v consuming %d: no progress", buf, err, n)
			}
		default:
			t.Fatalf("ScanFrame(% X) = unexpected error %v", buf, err)
		}
	})
}

// FuzzFrameRoundTrip: any status frame, after garbage without FF, scans
// back to itself.
func FuzzFrameRoundTrip(f *testing.F) {
	f.Add([]byte{0x00, 0x12}, byte(1), byte(0), []byte{0x00, 0x08})
	f.Add([]byte{}, byte(0xFD), byte(0x7F), []byte{0xFF, 0xFF, 0xFF})
	f.Add([]byte{0xFE}, byte(0), byte(BitOverload), []byte{})
	f.Fuzz(func(t *testing.T, garbage []byte, id, errByte byte, params []byte) {
		if id > 0xFD || errByte > 0x7F || len(params) > 253 || bytes.IndexByte(garbage, 0xFF) >= 0 {
			t.Skip()
		}
		buf := AppendFrame(append([]byte(nil), garbage...), id, errByte, params...)
		fr, n, err := ScanFrame(buf, StatusKind)
		if err != nil || n != len(buf) || fr.ID != id || fr.Code != errByte || !bytes.Equal(fr.Params, params) {
			t.Fatalf("ScanFrame(% X) = %+v, %d, %v, want ID %d, ERR %d, % X", buf, fr, n, err, id, errByte, params)
		}
	})
}
