package feetech

import (
	"bytes"
	"errors"
	"testing"
)

func TestRegisterEncodeDecode(t *testing.T) {
	tests := []struct {
		reg string
		v   int
		raw []byte
	}{
		{"Goal_Position", 2048, []byte{0x00, 0x08}},
		{"Goal_Position", 0, []byte{0x00, 0x00}},
		{"Goal_Position", -1, []byte{0x01, 0x80}},
		{"Goal_Position", 32767, []byte{0xFF, 0x7F}},
		{"Goal_Position", -32767, []byte{0xFF, 0xFF}},
		{"Present_Position", 4095, []byte{0xFF, 0x0F}},
		{"Goal_Velocity", -300, []byte{0x2C, 0x81}},
		{"Present_Velocity", 50, []byte{0x32, 0x00}},
		// Homing_Offset: sign in bit 11, magnitude 0..2047.
		{"Homing_Offset", 2047, []byte{0xFF, 0x07}},
		{"Homing_Offset", -1, []byte{0x01, 0x08}},
		{"Homing_Offset", -2047, []byte{0xFF, 0x0F}},
		{"Homing_Offset", -1000, []byte{0xE8, 0x0B}},
		// Present_Load: sign in bit 10, magnitude 0..1023.
		{"Present_Load", 1023, []byte{0xFF, 0x03}},
		{"Present_Load", -100, []byte{0x64, 0x04}},
		{"Present_Load", -1023, []byte{0xFF, 0x07}},
		// Unsigned.
		{"Torque_Enable", 1, []byte{0x01}},
		{"Torque_Enable", 255, []byte{0xFF}},
		{"Model", 777, []byte{0x09, 0x03}},
		{"Model", 65535, []byte{0xFF, 0xFF}},
		{"Min_Position_Limit", 0, []byte{0x00, 0x00}},
	}
	for _, tt := range tests {
		r := Reg(tt.reg)
		got, err := r.Encode(tt.v)
		if err != nil || !bytes.Equal(got, tt.raw) {
			t.Errorf("Reg(%q).Encode(%d) = % X, %v, want % X", tt.reg, tt.v, got, err, tt.raw)
		}
		if got := r.Decode(tt.raw); got != tt.v {
			t.Errorf("Reg(%q).Decode(% X) = %d, want %d", tt.reg, tt.raw, got, tt.v)
		}
	}
}

func TestRegisterDecodeNegativeZero(t *testing.T) {
	// A sign bit with zero magnitude decodes to 0.
	tests := []struct {
		reg string
		raw []byte
	}{
		{"Goal_Position", []byte{0x00, 0x80}},
		{"Homing_Offset", []byte{0x00, 0x08}},
		{"Present_Load", []byte{0x00, 0x04}},
	}
	for _, tt := range tests {
		if got := Reg(tt.reg).Decode(tt.raw); got != 0 {
			t.Errorf("Reg(%q).Decode(% X) = %d, want 0", tt.reg, tt.raw, got)
		}
	}
}

func TestRegisterEncodeRejectsOutOfRange(t *testing.T) {
	tests := []struct {
		reg string
		v   int
	}{
		{"Goal_Position", 32768},
		{"Goal_Position", -32768},
		{"Homing_Offset", 2048}, // the overflow students hit during calibration
		{"Homing_Offset", -2048},
		{"Homing_Offset", 4095},
		{"Present_Load", 1024},
		{"Present_Load", -1024},
		{"Torque_Enable", 256},
		{"Torque_Enable", -1},
		{"Model", 65536},
		{"Max_Position_Limit", -1},
	}
	for _, tt := range tests {
		if got, err := Reg(tt.reg).Encode(tt.v); err == nil {
			t.Errorf("Reg(%q).Encode(%d) = % X, nil, want an error", tt.reg, tt.v, got)
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
		if err != nil || r.Addr != tt.addr || r.Size != tt.size {
			t.Errorf("LookupReg(%q) = %+v, %v, want address %d, size %d", tt.name, r, err, tt.addr, tt.size)
		}
	}
	if _, err := LookupReg("Present_Positon"); err == nil {
		t.Errorf("LookupReg(%q) = nil error, want one", "Present_Positon")
	}
	regs := Registers()
	for i := 1; i < len(regs); i++ {
		if regs[i-1].Addr >= regs[i].Addr {
			t.Errorf("Registers() not in address order: %s (%d) before %s (%d)", regs[i-1].Name, regs[i-1].Addr, regs[i].Name, regs[i].Addr)
		}
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
