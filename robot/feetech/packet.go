package feetech

import (
	"errors"
	"fmt"
)

// Instruction codes (FEETECH.md).
const (
	InstPing      byte = 0x01
	InstRead      byte = 0x02
	InstWrite     byte = 0x03
	InstRegWrite  byte = 0x04
	InstAction    byte = 0x05
	InstReset     byte = 0x0A
	InstSyncRead  byte = 0x82
	InstSyncWrite byte = 0x83
)

// IDs with a meaning of their own.
const (
	BroadcastID byte = 0xFE // every servo listens; none answers
	MaxID       byte = 0xFC // the highest ID a servo may have
)

// headerLen is FF FF ID LEN; a frame is headerLen + LEN bytes long.
const headerLen = 4

// MinStatusLen is the shortest status packet: FF FF ID LEN ERR CHK.
const MinStatusLen = 6

// Frame is one packet on the bus, instruction or status: the two share
// FF FF | ID | LEN | code | params | CHK. Code is the instruction for an
// instruction packet and the error byte for a status packet.
type Frame struct {
	ID     byte
	Code   byte
	Params []byte
}

// Checksum is ~(ID + LEN + code + params...) & 0xFF over the bytes after the
// FF FF header and before the checksum itself.
func Checksum(body []byte) byte {
	var s byte
	for _, b := range body {
		s += b
	}
	return ^s
}

// AppendFrame appends the encoded frame to dst. len(params) must be at most
// 253 (LEN is one byte and counts code and checksum).
func AppendFrame(dst []byte, id, code byte, params ...byte) []byte {
	n := len(params) + 2
	start := len(dst)
	dst = append(dst, 0xFF, 0xFF, id, byte(n), code)
	dst = append(dst, params...)
	return append(dst, Checksum(dst[start+2:]))
}

// Encode returns the encoded frame.
func (f Frame) Encode() []byte { return AppendFrame(nil, f.ID, f.Code, f.Params...) }

// Len is the frame's length on the wire.
func (f Frame) Len() int { return headerLen + len(f.Params) + 2 }

// Errors of the frame scanner.
var (
	// ErrShortFrame means the buffer holds the start of a frame and more
	// bytes are needed.
	ErrShortFrame = errors.New("feetech: incomplete frame")
)

// FrameError is a frame that cannot be accepted: a bad checksum, an
// impossible ID or length. The scanner drops one byte and resynchronises.
type FrameError struct {
	Reason string
	Bytes  []byte // the offending bytes, up to 16
}

func (e *FrameError) Error() string {
	return fmt.Sprintf("feetech: corrupt frame (% X): %s", e.Bytes, e.Reason)
}

// Kind says which packets ScanFrame accepts.
type Kind int

const (
	StatusKind      Kind = iota // from a servo: ID ≤ 0xFD, ERR ≤ 0x7F
	InstructionKind             // to a servo: ID ≤ 0xFE
)

// ScanFrame finds the first frame of kind k in buf. It returns the frame and
// the number of bytes consumed (garbage before it included). When buf holds
// no complete frame it returns ErrShortFrame and the count of leading bytes
// that can be dropped (garbage before a possible header). When the bytes at
// a header cannot be a frame it returns a *FrameError and the count of bytes
// to drop so that scanning resumes at the next possible header. The
// returned Params alias buf.
func ScanFrame(buf []byte, k Kind) (Frame, int, error) {
	i := 0
	for {
		// Find FF FF.
		for i+1 < len(buf) && !(buf[i] == 0xFF && buf[i+1] == 0xFF) {
			i++
		}
		if i+1 >= len(buf) {
			// Keep a trailing FF: it may be the start of a header.
			if i < len(buf) && buf[i] == 0xFF {
				return Frame{}, i, ErrShortFrame
			}
			return Frame{}, len(buf), ErrShortFrame
		}
		if i+2 >= len(buf) {
			return Frame{}, i, ErrShortFrame
		}
		id := buf[i+2]
		if id == 0xFF {
			// FF FF FF: the header may start one byte later.
			i++
			continue
		}
		maxID := byte(0xFD)
		if k == InstructionKind {
			maxID = 0xFE
		}
		if id > maxID {
			return Frame{}, i + 1, &FrameError{Reason: fmt.Sprintf("ID 0x%02X is out of range", id), Bytes: clip16(buf[i:])}
		}
		if i+3 >= len(buf) {
			return Frame{}, i, ErrShortFrame
		}
		n := int(buf[i+3])
		if n < 2 {
			return Frame{}, i + 1, &FrameError{Reason: fmt.Sprintf("length %d is below the minimum 2", n), Bytes: clip16(buf[i:])}
		}
		end := i + headerLen + n
		if end > len(buf) {
			return Frame{}, i, ErrShortFrame
		}
		code := buf[i+4]
		if k == StatusKind && code > 0x7F {
			return Frame{}, i + 1, &FrameError{Reason: fmt.Sprintf("error byte 0x%02X has bit 7 set", code), Bytes: clip16(buf[i:end])}
		}
		if want := Checksum(buf[i+2 : end-1]); buf[end-1] != want {
			return Frame{}, i + 1, &FrameError{Reason: fmt.Sprintf("checksum 0x%02X, want 0x%02X", buf[end-1], want), Bytes: clip16(buf[i:end])}
		}
		return Frame{ID: id, Code: code, Params: buf[i+5 : end-1]}, end, nil
	}
}

func clip16(b []byte) []byte {
	if len(b) > 16 {
		b = b[:16]
	}
	return append([]byte(nil), b...)
}
