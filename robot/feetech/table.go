package feetech

import (
	"fmt"
	"strconv"
)

// Register is one entry of the STS3215 control table: its address, its
// size (1 or 2 bytes, little-endian on STS), its sign bit (sign-magnitude,
// 0 for an unsigned register) and whether it lives in EEPROM (persisted;
// written only with Lock = 0), packed into one constant. The registers are
// the constants below (Model … PresentCurrent): a misspelt register
// does not compile.
//
//	pos, err := bus.ReadReg(ctx, 1, feetech.PresentPosition)
type Register uint32

// Layout of a Register: address in bits 0–7, size in 8–11, sign bit in
// 12–15, EEPROM flag in bit 16.
const (
	sizeShift = 8
	signShift = 12
	eeprom    = 1 << 16
	size1     = 1 << sizeShift
	size2     = 2 << sizeShift
)

// The STS3215 control table (FEETECH.md), in address order.
const (
	// EEPROM.
	Model               Register = 3 | size2 | eeprom
	ID                  Register = 5 | size1 | eeprom
	BaudRate            Register = 6 | size1 | eeprom
	ReturnDelayTime     Register = 7 | size1 | eeprom
	MinPositionLimit    Register = 9 | size2 | eeprom
	MaxPositionLimit    Register = 11 | size2 | eeprom
	MaxTemperature      Register = 13 | size1 | eeprom
	MaxVoltage          Register = 14 | size1 | eeprom
	MinVoltage          Register = 15 | size1 | eeprom
	MaxTorqueLimit      Register = 16 | size2 | eeprom
	Phase               Register = 18 | size1 | eeprom
	PCoefficient        Register = 21 | size1 | eeprom
	DCoefficient        Register = 22 | size1 | eeprom
	ICoefficient        Register = 23 | size1 | eeprom
	ProtectionCurrent   Register = 28 | size2 | eeprom
	HomingOffset        Register = 31 | size2 | 11<<signShift | eeprom
	OperatingMode       Register = 33 | size1 | eeprom
	OverloadTorque      Register = 36 | size1 | eeprom
	MaximumAcceleration Register = 85 | size1 | eeprom // EEPROM, beyond the SRAM block
	// SRAM.
	TorqueEnable       Register = 40 | size1
	Acceleration       Register = 41 | size1
	GoalPosition       Register = 42 | size2 | 15<<signShift
	GoalTime           Register = 44 | size2
	GoalVelocity       Register = 46 | size2 | 15<<signShift
	TorqueLimit        Register = 48 | size2
	Lock               Register = 55 | size1
	PresentPosition    Register = 56 | size2 | 15<<signShift
	PresentVelocity    Register = 58 | size2 | 15<<signShift
	PresentLoad        Register = 60 | size2 | 10<<signShift
	PresentVoltage     Register = 62 | size1
	PresentTemperature Register = 63 | size1
	Status             Register = 65 | size1
	Moving             Register = 66 | size1
	PresentCurrent     Register = 69 | size2
)

// Model numbers read from register Model.
const ModelSTS3215 = 777

// Addr is the register's address in the control table.
func (r Register) Addr() byte { return byte(r) }

// Size is the register's width in bytes: 1 or 2 for the table's registers.
func (r Register) Size() int { return int(r >> sizeShift & 0xF) }

// SignBit is the bit that holds the sign of a sign-magnitude register, 0
// for an unsigned one.
func (r Register) SignBit() int { return int(r >> signShift & 0xF) }

// EEPROM reports whether the register is persisted (written only with
// Lock = 0).
func (r Register) EEPROM() bool { return r&eeprom != 0 }

// Name is the register's name in the Feetech and LeRobot tables
// ("Present_Position"), or "register N" for a value that is not one of
// the table's registers.
func (r Register) Name() string {
	switch r {
	case Model:
		return "Model"
	case ID:
		return "ID"
	case BaudRate:
		return "Baud_Rate"
	case ReturnDelayTime:
		return "Return_Delay_Time"
	case MinPositionLimit:
		return "Min_Position_Limit"
	case MaxPositionLimit:
		return "Max_Position_Limit"
	case MaxTemperature:
		return "Max_Temperature"
	case MaxVoltage:
		return "Max_Voltage"
	case MinVoltage:
		return "Min_Voltage"
	case MaxTorqueLimit:
		return "Max_Torque_Limit"
	case Phase:
		return "Phase"
	case PCoefficient:
		return "P_Coefficient"
	case DCoefficient:
		return "D_Coefficient"
	case ICoefficient:
		return "I_Coefficient"
	case ProtectionCurrent:
		return "Protection_Current"
	case HomingOffset:
		return "Homing_Offset"
	case OperatingMode:
		return "Operating_Mode"
	case OverloadTorque:
		return "Overload_Torque"
	case MaximumAcceleration:
		return "Maximum_Acceleration"
	case TorqueEnable:
		return "Torque_Enable"
	case Acceleration:
		return "Acceleration"
	case GoalPosition:
		return "Goal_Position"
	case GoalTime:
		return "Goal_Time"
	case GoalVelocity:
		return "Goal_Velocity"
	case TorqueLimit:
		return "Torque_Limit"
	case Lock:
		return "Lock"
	case PresentPosition:
		return "Present_Position"
	case PresentVelocity:
		return "Present_Velocity"
	case PresentLoad:
		return "Present_Load"
	case PresentVoltage:
		return "Present_Voltage"
	case PresentTemperature:
		return "Present_Temperature"
	case Status:
		return "Status"
	case Moving:
		return "Moving"
	case PresentCurrent:
		return "Present_Current"
	}
	return "register " + strconv.Itoa(int(r.Addr()))
}

// String is Name.
func (r Register) String() string { return r.Name() }

// Registers returns the STS3215 control table in address order.
func Registers() []Register {
	return []Register{
		Model, ID, BaudRate, ReturnDelayTime, MinPositionLimit, MaxPositionLimit,
		MaxTemperature, MaxVoltage, MinVoltage, MaxTorqueLimit, Phase,
		PCoefficient, DCoefficient, ICoefficient, ProtectionCurrent, HomingOffset,
		OperatingMode, OverloadTorque, TorqueEnable, Acceleration, GoalPosition,
		GoalTime, GoalVelocity, TorqueLimit, Lock, PresentPosition, PresentVelocity,
		PresentLoad, PresentVoltage, PresentTemperature, Status, Moving,
		PresentCurrent, MaximumAcceleration,
	}
}

// LookupReg returns the STS3215 register called name ("Present_Position"),
// for names that come from input (a command line, a file); code uses the
// constants.
func LookupReg(name string) (Register, error) {
	for _, r := range Registers() {
		if r.Name() == name {
			return r, nil
		}
	}
	return 0, fmt.Errorf("feetech: no register %q in the STS3215 control table (see feetech.Registers)", name)
}

// Decode turns the register's raw little-endian bytes into a value,
// applying sign-magnitude where the register is signed.
func (r Register) Decode(b []byte) int {
	var u int
	if r.Size() == 1 {
		u = int(b[0])
	} else {
		u = int(b[0]) | int(b[1])<<8
	}
	return FromSignMagnitude(u, r.SignBit())
}

// Encode turns a value into the register's raw bytes. Values that do not
// fit are an error, never silently wrapped.
func (r Register) Encode(v int) ([]byte, error) {
	u, err := ToSignMagnitude(v, r.SignBit(), r.Size())
	if err != nil {
		return nil, fmt.Errorf("feetech: %s = %d: %w", r.Name(), v, err)
	}
	if r.Size() == 1 {
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
