package feetech

import (
	"errors"
	"fmt"
	"strings"
)

// Status error bits a servo reports in a status packet's ERR byte.
const (
	BitVoltage     byte = 1
	BitAngleSensor byte = 2
	BitOverheat    byte = 4
	BitOverCurrent byte = 8
	BitOverload    byte = 32
)

// Sentinel errors for the status bits; a *ServoError matches each bit it
// carries with errors.Is.
var (
	ErrVoltage     = errors.New("input voltage out of range")
	ErrAngleSensor = errors.New("angle sensor fault")
	ErrOverheat    = errors.New("overheat")
	ErrOverCurrent = errors.New("over-current")
	ErrOverload    = errors.New("overload")
)

var bitErrs = []struct {
	bit byte
	err error
}{
	{BitVoltage, ErrVoltage},
	{BitAngleSensor, ErrAngleSensor},
	{BitOverheat, ErrOverheat},
	{BitOverCurrent, ErrOverCurrent},
	{BitOverload, ErrOverload},
}

// ServoError is a servo's status packet with error bits set. The reply's
// data is still valid: a servo reports overload and its position at once.
type ServoError struct {
	ID   byte
	Bits byte
}

func (e *ServoError) Error() string {
	var parts []string
	for _, b := range bitErrs {
		if e.Bits&b.bit != 0 {
			parts = append(parts, b.err.Error())
		}
	}
	if rest := e.Bits &^ (BitVoltage | BitAngleSensor | BitOverheat | BitOverCurrent | BitOverload); rest != 0 {
		parts = append(parts, fmt.Sprintf("unknown bits 0x%02X", rest))
	}
	return fmt.Sprintf("servo %d reports %s", e.ID, strings.Join(parts, ", "))
}

// Is matches the sentinel of every bit the servo reported.
func (e *ServoError) Is(target error) bool {
	for _, b := range bitErrs {
		if target == b.err && e.Bits&b.bit != 0 {
			return true
		}
	}
	return false
}
