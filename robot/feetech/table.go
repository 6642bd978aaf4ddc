package feetech

import (
	"fmt"
	"sort"
)

// Register is one entry of a servo's control table.
type Register struct {
	Name    string
	Addr    byte
	Size    int  // 1 or 2 bytes, little-endian on STS
	SignBit int  // sign-magnitude sign bit, 0 for unsigned registers
	EEPROM  bool // persisted; written only with Lock = 0
}

// STS3215 registers, by name (FEETECH.md).
var sts3215 = []Register{
	{Name: "Model", Addr: 3, Size: 2, EEPROM: true},
	{Name: "ID", Addr: 5, Size: 1, EEPROM: true},
	{Name: "Baud_Rate", Addr: 6, Size: 1, EEPROM: true},
	{Name: "Return_Delay_Time", Addr: 7, Size: 1, EEPROM: true},
	{Name: "Min_Position_Limit", Addr: 9, Size: 2, EEPROM: true},
	{Name: "Max_Position_Limit", Addr: 11, Size: 2, EEPROM: true},
	{Name: "Max_Temperature", Addr: 13, Size: 1, EEPROM: true},
	{Name: "Max_Voltage", Addr: 14, Size: 1, EEPROM: true},
	{Name: "Min_Voltage", Addr: 15, Size: 1, EEPROM: true},
	{Name: "Max_Torque_Limit", Addr: 16, Size: 2, EEPROM: true},
	{Name: "Phase", Addr: 18, Size: 1, EEPROM: true},
	{Name: "P_Coefficient", Addr: 21, Size: 1, EEPROM: true},
	{Name: "D_Coefficient", Addr: 22, Size: 1, EEPROM: true},
	{Name: "I_Coefficient", Addr: 23, Size: 1, EEPROM: true},
	{Name: "Protection_Current", Addr: 28, Size: 2, EEPROM: true},
	{Name: "Homing_Offset", Addr: 31, Size: 2, SignBit: 11, EEPROM: true},
	{Name: "Operating_Mode", Addr: 33, Size: 1, EEPROM: true},
	{Name: "Overload_Torque", Addr: 36, Size: 1, EEPROM: true},
	{Name: "Maximum_Acceleration", Addr: 85, Size: 1, EEPROM: true},
	{Name: "Torque_Enable", Addr: 40, Size: 1},
	{Name: "Acceleration", Addr: 41, Size: 1},
	{Name: "Goal_Position", Addr: 42, Size: 2, SignBit: 15},
	{Name: "Goal_Time", Addr: 44, Size: 2},
	{Name: "Goal_Velocity", Addr: 46, Size: 2, SignBit: 15},
	{Name: "Torque_Limit", Addr: 48, Size: 2},
	{Name: "Lock", Addr: 55, Size: 1},
	{Name: "Present_Position", Addr: 56, Size: 2, SignBit: 15},
	{Name: "Present_Velocity", Addr: 58, Size: 2, SignBit: 15},
	{Name: "Present_Load", Addr: 60, Size: 2, SignBit: 10},
	{Name: "Present_Voltage", Addr: 62, Size: 1},
	{Name: "Present_Temperature", Addr: 63, Size: 1},
	{Name: "Status", Addr: 65, Size: 1},
	{Name: "Moving", Addr: 66, Size: 1},
	{Name: "Present_Current", Addr: 69, Size: 2},
}

// Model numbers read from register Model.
const ModelSTS3215 = 777

// Registers returns the STS3215 control table in address order.
func Registers() []Register {
	r := append([]Register(nil), sts3215...)
	sort.Slice(r, func(i, j int) bool { return r[i].Addr < r[j].Addr })
	return r
}

// Reg returns the STS3215 register called name. It panics on an unknown
// name: register names are constants of the program, not input.
func Reg(name string) Register {
	r, err := LookupReg(name)
	if err != nil {
		panic(err)
	}
	return r
}

// LookupReg returns the STS3215 register called name.
func LookupReg(name string) (Register, error) {
	for _, r := range sts3215 {
		if r.Name == name {
			return r, nil
		}
	}
	return Register{}, fmt.Errorf("feetech: no register %q in the STS3215 control table (see feetech.Registers)", name)
}

// Decode turns the register's raw little-endian bytes into a value,
// applying sign-magnitude where the register is signed.
func (r Register) Decode(b []byte) int {
	var u int
	if r.Size == 1 {
		u = int(b[0])
	} else {
		u = int(b[0]) | int(b[1])<<8
	}
	return FromSignMagnitude(u, r.SignBit)
}

// Encode turns a value into the register's raw bytes. Values that do not
// fit are an error, never silently wrapped.
func (r Register) Encode(v int) ([]byte, error) {
	u, err := ToSignMagnitude(v, r.SignBit, r.Size)
	if err != nil {
		return nil, fmt.Errorf("feetech: %s = %d: %w", r.Name, v, err)
	}
	if r.Size == 1 {
		return []byte{byte(u)}, nil
	}
	return []byte{byte(u), byte(u >> 8)}, nil
}

// FromSignMagnitude decodes u whose bit signBit is the sign (0: unsigned).
func FromSignMagnitude(u, signBit int) int {
	if signBit == 0 {
		return u
	}
	mag := u & (1<<signBit - 1)
	if u&(1<<signBit) != 0 {
		return -mag
	}
	return mag
}

// ToSignMagnitude encodes v with bit signBit as the sign (0: unsigned) in
// size bytes.
func ToSignMagnitude(v, signBit, size int) (int, error) {
	if signBit == 0 {
		if v < 0 || v >= 1<<(8*size) {
			return 0, fmt.Errorf("out of range 0..%d", 1<<(8*size)-1)
		}
		return v, nil
	}
	max := 1<<signBit - 1
	if v > max || v < -max {
		return 0, fmt.Errorf("magnitude exceeds %d (sign bit %d)", max, signBit)
	}
	if v < 0 {
		return -v | 1<<signBit, nil
	}
	return v, nil
}
