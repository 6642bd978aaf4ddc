package feetech

import (
	"bytes"
	"errors"
	"testing"
)

func TestRegisterEncodeDecode(t *testing.T) {
	tests := []struct {
		reg Register
		v   int
		raw []byte
	}{
		{GoalPosition, 2048, []byte{0x00, 0x08}},
		{GoalPosition, 0, []byte{0x00, 0x00}},
		{GoalPosition, -1, []byte{0x01, 0x80}},
		{GoalPosition, 32767, []byte{0xFF, 0x7F}},
		{GoalPosition, -32767, []byte{0xFF, 0xFF}},
		{PresentPosition, 4095, []byte{0xFF, 0x0F}},
		{GoalVelocity, -300, []byte{0x2C, 0x81}},
		{PresentVelocity, 50, []byte{0x32, 0x00}},
		// Homing_Offset: sign in bit 11, magnitude 0..2047.
		{HomingOffset, 2047, []byte{0xFF, 0x07}},
		{HomingOffset, -1, []byte{0x01, 0x08}},
		{HomingOffset, -2047, []byte{0xFF, 0x0F}},
		{HomingOffset, -1000, []byte{0xE8, 0x0B}},
		// Present_Load: sign in bit 10, magnitude 0..1023.
		{PresentLoad, 1023, []byte{0xFF, 0x03}},
		{PresentLoad, -100, []byte{0x64, 0x04}},
		{PresentLoad, -1023, []byte{0xFF, 0x07}},
		// Unsigned.
		{TorqueEnable, 1, []byte{0x01}},
		{TorqueEnable, 255, []byte{0xFF}},
		{Model, 777, []byte{0x09, 0x03}},
		{Model, 65535, []byte{0xFF, 0xFF}},
		{MinPositionLimit, 0, []byte{0x00, 0x00}},
	}
	for _, tt := range tests {
		r := tt.reg
		got, err := r.Encode(tt.v)
		if err != nil || !bytes.Equal(got, tt.raw) {
			t.Errorf("%v.Encode(%d) = % X, %v, want % X", tt.reg, tt.v, got, err, tt.raw)
		}
		if got := r.Decode(tt.raw); got != tt.v {
			t.Errorf("%v.Decode(% X) = %d, want %d", tt.reg, tt.raw, got, tt.v)
		}
	}
}

func TestRegisterDecodeNegativeZero(t *testing.T) {
	// A sign bit with zero magnitude decodes to 0.
	tests := []struct {
		reg Register
		raw []byte
	}{
		{GoalPosition, []byte{0x00, 0x80}},
		{HomingOffset, []byte{0x00, 0x08}},
		{PresentLoad, []byte{0x00, 0x04}},
	}
	for _, tt := range tests {
		if got := tt.reg.Decode(tt.raw); got != 0 {
			t.Errorf("%v.Decode(% X) = %d, want 0", tt.reg, tt.raw, got)
		}
	}
}

func TestRegisterEncodeRejectsOutOfRange(t *testing.T) {
	tests := []struct {
		reg Register
		v   int
	}{
		{GoalPosition, 32768},
		{GoalPosition, -32768},
		{HomingOffset, 2048}, // the overflow students hit during calibration
		{HomingOffset, -2048},
		{HomingOffset, 4095},
		{PresentLoad, 1024},
		{PresentLoad, -1024},
		{TorqueEnable, 256},
		{TorqueEnable, -1},
		{Model, 65536},
		{MaxPositionLimit, -1},
	}
	for _, tt := range tests {
		if got, err := tt.reg.Encode(tt.v); err == nil {
			t.Errorf("%v.Encode(%d) = % X, nil, want an error", tt.reg, tt.v, got)
		}
	}
}

func TestLookupReg(t *testing.T) {
	tests := []struct {
		name string
		addr byte
		size int
	}{
		{"Model", 3, 2}, {"ID", 5, 1}, {"Homing_Offset", 31, 2}, {"Torque_Enable", 40, 1},
		{"Goal_Position", 42, 2}, {"Lock", 55, 1}, {"Present_Position", 56, 2},
		{"Present_Load", 60, 2}, {"Present_Current", 69, 2},
	}
	for _, tt := range tests {
		r, err := LookupReg(tt.name)
		if err != nil || r.Addr() != tt.addr || r.Size() != tt.size {
			t.Errorf("LookupReg(%q) = %+v, %v, want address %d, size %d", tt.name, r, err, tt.addr, tt.size)
		}
	}
	if _, err := LookupReg("Present_Positon"); err == nil {
		t.Errorf("LookupReg(%q) = nil error, want one", "Present_Positon")
	}
	regs := Registers()
	for i := 1; i < len(regs); i++ {
		if regs[i-1].Addr() >= regs[i].Addr() {
			t.Errorf("Registers() not in address order: %s (%d) before %s (%d)", regs[i-1], regs[i-1].Addr(), regs[i], regs[i].Addr())
		}
	}
	// Every register has a name, LookupReg finds it by that name, and no
	// two registers overlap.
	if len(regs) != 34 {
		t.Errorf("Registers() has %d registers, want the 34 of FEETECH.md's table", len(regs))
	}
	var owner [256]Register
	for _, r := range regs {
		if got, err := LookupReg(r.Name()); err != nil || got != r {
			t.Errorf("LookupReg(%q) = %v, %v, want %v", r.Name(), got, err, r)
		}
		if r.Size() != 1 && r.Size() != 2 {
			t.Errorf("%v has size %d, want 1 or 2", r, r.Size())
		}
		for a := int(r.Addr()); a < int(r.Addr())+r.Size(); a++ {
			if owner[a] != 0 {
				t.Errorf("%v and %v both cover address %d", owner[a], r, a)
			}
			owner[a] = r
		}
		if want := r.Addr() < TorqueEnable.Addr() || r == MaximumAcceleration; r.EEPROM() != want {
			t.Errorf("%v.EEPROM() = %v, want %v", r, r.EEPROM(), want)
		}
	}
	if got := Register(200 | 1<<8).Name(); got != "register 200" {
		t.Errorf("Name of a register outside the table = %q, want \"register 200\"", got)
	}
}

func TestServoError(t *testing.T) {
	err := error(&ServoError{ID: 3, Bits: BitOverload | BitOverheat})
	for _, s := range []error{ErrOverload, ErrOverheat} {
		if !errors.Is(err, s) {
			t.Errorf("errors.Is(%v, %v) = false, want true", err, s)
		}
	}
	for _, s := range []error{ErrVoltage, ErrAngleSensor, ErrOverCurrent} {
		if errors.Is(err, s) {
			t.Errorf("errors.Is(%v, %v) = true, want false", err, s)
		}
	}
	if got, want := err.Error(), "servo 3 reports overheat, overload"; got != want {
		t.Errorf("ServoError.Error() = %q, want %q", got, want)
	}
}
