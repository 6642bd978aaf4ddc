package sim

import (
	"math"

	"github.com/pilotkit/pilot/robot/feetech"
)

// Registers of the STS3215 control table that the model reads and writes,
// by their names in robot/feetech/table.go.
var (
	regModel          = feetech.Model
	regID             = feetech.ID
	regBaud           = feetech.BaudRate
	regReturnDelay    = feetech.ReturnDelayTime
	regMinLimit       = feetech.MinPositionLimit
	regMaxLimit       = feetech.MaxPositionLimit
	regMaxTemp        = feetech.MaxTemperature
	regMaxVoltage     = feetech.MaxVoltage
	regMinVoltage     = feetech.MinVoltage
	regMaxTorque      = feetech.MaxTorqueLimit
	regPhase          = feetech.Phase
	regP              = feetech.PCoefficient
	regD              = feetech.DCoefficient
	regI              = feetech.ICoefficient
	regProtCurrent    = feetech.ProtectionCurrent
	regHoming         = feetech.HomingOffset
	regMode           = feetech.OperatingMode
	regOverloadTorque = feetech.OverloadTorque
	regMaxAccel       = feetech.MaximumAcceleration
	regTorqueEnable   = feetech.TorqueEnable
	regAccel          = feetech.Acceleration
	regGoal           = feetech.GoalPosition
	regGoalVelocity   = feetech.GoalVelocity
	regTorqueLimit    = feetech.TorqueLimit
	regLock           = feetech.Lock
	regPosition       = feetech.PresentPosition
	regVelocity       = feetech.PresentVelocity
	regLoad           = feetech.PresentLoad
	regVoltage        = feetech.PresentVoltage
	regTemperature    = feetech.PresentTemperature
	regStatus         = feetech.Status
	regMoving         = feetech.Moving
	regCurrent        = feetech.PresentCurrent
)

// Registers of the STS3215 that robot/feetech/table.go does not list. The
// model keeps them at their factory values and uses the three marked.
const (
	addrFirmwareMajor   byte = 0
	addrFirmwareMinor   byte = 1
	addrResponseLevel   byte = 8  // used: 0 answers only PING and READ
	addrUnloadCondition byte = 19 // used: status bits that cut torque
	addrLEDAlarm        byte = 20
	addrStartupForce    byte = 24
	addrCWDeadZone      byte = 26
	addrCCWDeadZone     byte = 27
	addrResolution      byte = 30
	addrProtectiveTorq  byte = 34
	addrProtectionTime  byte = 35 // used: ×10 ms above Overload_Torque before overload
	addrVelocityP       byte = 37
	addrOverCurrentTime byte = 38
	addrVelocityI       byte = 39
)

// Instruction error: the status bit this simulator answers a malformed
// instruction with (Feetech's bit 6, as in Dynamixel protocol 1).
const bitInstruction byte = 64

// Physical constants of the model.
const (
	stepsPerTurn    = 4096
	maxSpeed        = 3400.0 // steps/s with Goal_Velocity = 0 (≈ 50 rpm)
	accelUnit       = 100.0  // steps/s² per unit of Acceleration
	stallGain       = 10.0   // load (0.1 %) per step of position error when stalled, at P = 32
	freeLoadBase    = 30.0   // load (0.1 %) of friction when moving freely
	freeLoadSpeed   = 120.0  // extra load (0.1 %) at full speed
	ambientTemp     = 30.0   // °C
	heatRate        = 0.5    // °C/s at full load
	holdHeat        = 0.05   // heating of torque on at no load, as a fraction of full load
	coolTau         = 300.0  // s, time constant of cooling to ambient
	supplyVoltage   = 120.0  // 0.1 V
	voltageSag      = 5.0    // 0.1 V drop at full load
	currentPerLoad  = 0.4    // Present_Current units (6.5 mA) per unit of load
	overheatFactor  = 10.0   // heating of the Faults.Overheat servo
	responseAll     = 1      // Response_Status_Level default
	unloadingFactor = 44     // Unloading_Condition default: overheat | over-current | overload
)

// baudRates are the bus speeds of Baud_Rate codes 0..7 (LeRobot's table).
var baudRates = [...]int{1_000_000, 500_000, 250_000, 128_000, 115_200, 57_600, 38_400, 19_200}

// servo is one simulated STS3215: its control table and the physical state
// the table's Present_* registers report.
type servo struct {
	mem   [256]byte // the live control table
	saved [256]byte // the EEPROM area as kept across PowerCycle

	pos     float64 // physical encoder position, steps in [0, 4096)
	vel     float64 // steps/s, signed
	load    float64 // 0.1 % of full torque, signed
	temp    float64 // °C
	overFor float64 // seconds the load has stayed above Overload_Torque
	latched byte    // latched status bits (overload)
	stalled bool    // something stopped the servo in the last step
	heat    float64 // heating factor: 1, or overheatFactor for Faults.Overheat
	silent  bool    // never answers (Faults.Silent)
	// keepTorque: how many more torque-off writes the servo ignores
	// (Faults.KeepTorque); -1 every one, 0 none.
	keepTorque int
	jammed     bool // cannot move under its own torque (Faults.Jammed)
	baudCode   byte // the code whose rate the bus runs at

	regPending bool // REG_WRITE waiting for ACTION
	regAddr    byte
	regLen     int
	regData    [256]byte

	// block, when set, is asked about every move: the servo going from
	// raw position from to to stops at stop when blocked (the world's
	// obstacle: the gripper closing on a cube).
	block func(from, to float64) (stop float64, blocked bool)
}

func newServo(id, baudCode byte, pos float64) *servo {
	v := &servo{pos: wrapf(pos), temp: ambientTemp, heat: 1, baudCode: baudCode}
	v.mem = factoryTable(id, baudCode)
	v.saved = v.mem
	v.holdHere()
	v.refresh()
	return v
}

// factoryTable is the control table of a new servo: the STS3215 factory
// values, with LeRobot's Return_Delay_Time of 0 and the ID and baud code
// the servo was given.
func factoryTable(id, baudCode byte) [256]byte {
	var m [256]byte
	m[addrFirmwareMajor] = 3
	m[addrFirmwareMinor] = 10
	put(&m, regModel, feetech.ModelSTS3215)
	put(&m, regID, int(id))
	put(&m, regBaud, int(baudCode))
	put(&m, regReturnDelay, 0)
	m[addrResponseLevel] = responseAll
	put(&m, regMinLimit, 0)
	put(&m, regMaxLimit, stepsPerTurn-1)
	put(&m, regMaxTemp, 70)
	put(&m, regMaxVoltage, 140)
	put(&m, regMinVoltage, 40)
	put(&m, regMaxTorque, 1000)
	put(&m, regPhase, 12)
	m[addrUnloadCondition] = unloadingFactor
	m[addrLEDAlarm] = 47
	put(&m, regP, 32)
	put(&m, regD, 32)
	put(&m, regI, 0)
	m[addrStartupForce] = 16
	m[addrCWDeadZone] = 1
	m[addrCCWDeadZone] = 1
	put(&m, regProtCurrent, 500)
	m[addrResolution] = 1
	put(&m, regHoming, 0)
	put(&m, regMode, 0)
	m[addrProtectiveTorq] = 20
	m[addrProtectionTime] = 200
	put(&m, regOverloadTorque, 80)
	m[addrVelocityP] = 10
	m[addrOverCurrentTime] = 200
	m[addrVelocityI] = 200
	put(&m, regMaxAccel, 0)
	put(&m, regTorqueEnable, 0)
	put(&m, regAccel, 0)
	put(&m, regGoalVelocity, 0)
	put(&m, regTorqueLimit, 1000)
	put(&m, regLock, 0)
	return m
}

// get reads register r of m.
func get(m *[256]byte, r feetech.Register) int {
	u := int(m[r.Addr()])
	if r.Size() == 2 {
		u |= int(m[r.Addr()+1]) << 8
	}
	return feetech.FromSignMagnitude(u, r.SignBit())
}

// put writes v to register r of m, clamped to what the register holds.
func put(m *[256]byte, r feetech.Register, v int) {
	var u int
	if r.SignBit() == 0 {
		u = min(max(v, 0), 1<<(8*r.Size())-1)
	} else {
		lim := 1<<r.SignBit() - 1
		v = min(max(v, -lim), lim)
		if v < 0 {
			u = -v | 1<<r.SignBit()
		} else {
			u = v
		}
	}
	m[r.Addr()] = byte(u)
	if r.Size() == 2 {
		m[r.Addr()+1] = byte(u >> 8)
	}
}

// isEEPROM says whether addr lies in the persisted area: addresses below
// Torque_Enable, and the EEPROM registers the table lists beyond it.
func isEEPROM(addr int) bool {
	return addr < int(regTorqueEnable.Addr()) || addr == int(regMaxAccel.Addr())
}

// readOnly says whether the host may not write addr: the firmware version
// and model, and the Present_* block.
func readOnly(addr int) bool {
	return addr <= int(regModel.Addr())+1 ||
		(addr >= int(regPosition.Addr()) && addr < int(regCurrent.Addr())+regCurrent.Size())
}

func (v *servo) id() byte { return v.mem[regID.Addr()] }

// hears says whether the servo understands the bus: its Baud_Rate code
// matches the bus speed.
func (v *servo) hears() bool { return v.mem[regBaud.Addr()] == v.baudCode }

// answers says whether the servo sends a status for instruction inst
// (Response_Status_Level 0 answers only PING and READ).
func (v *servo) answers(inst byte) bool {
	return v.mem[addrResponseLevel] != 0 || inst == feetech.InstPing || inst == feetech.InstRead
}

func (v *servo) torqueOn() bool { return v.mem[regTorqueEnable.Addr()] != 0 }

func (v *servo) offset() float64 { return float64(get(&v.mem, regHoming)) }

// present is the position in the Homing_Offset frame, in [0, 4096).
func (v *servo) present() float64 { return wrapf(v.pos - v.offset()) }

func (v *servo) voltage() float64 { return supplyVoltage - voltageSag*math.Abs(v.load)/1000 }

// errBits are the status bits the servo reports now.
func (v *servo) errBits() byte {
	b := v.latched
	if volt := math.Round(v.voltage()); volt > float64(v.mem[regMaxVoltage.Addr()]) || volt < float64(v.mem[regMinVoltage.Addr()]) {
		b |= feetech.BitVoltage
	}
	if math.Floor(v.temp) >= float64(v.mem[regMaxTemp.Addr()]) {
		b |= feetech.BitOverheat
	}
	return b
}

// holdHere sets Goal_Position to where the servo is, as at power-up.
func (v *servo) holdHere() {
	put(&v.mem, regGoal, int(math.Round(v.present()))%stepsPerTurn)
}

// refresh writes the physical state into the Present_* registers.
func (v *servo) refresh() {
	put(&v.mem, regPosition, int(math.Round(v.present()))%stepsPerTurn)
	put(&v.mem, regVelocity, int(math.Round(v.vel)))
	put(&v.mem, regLoad, int(math.Round(v.load)))
	put(&v.mem, regVoltage, int(math.Round(v.voltage())))
	put(&v.mem, regTemperature, int(math.Floor(v.temp)))
	put(&v.mem, regStatus, int(v.errBits()))
	moving := 0
	if math.Abs(v.vel) >= 0.5 || (v.torqueOn() && v.stalled) {
		moving = 1
	}
	put(&v.mem, regMoving, moving)
	put(&v.mem, regCurrent, int(math.Round(math.Abs(v.load)*currentPerLoad)))
}

// write stores data at addr as a WRITE instruction does: read-only bytes
// are skipped, EEPROM bytes are kept across PowerCycle only while Lock = 0
// (with Lock = 1 they take effect but are lost at power-off, as the
// Feetech manual says of its write lock), and an ID or Baud_Rate the servo
// cannot take is refused. addr+len(data) must be at most 256.
func (v *servo) write(addr byte, data []byte) {
	oldID, oldBaud, oldTorque := v.id(), v.mem[regBaud.Addr()], v.mem[regTorqueEnable.Addr()]
	persist := v.mem[regLock.Addr()] == 0
	start, end := int(addr), int(addr)+len(data)
	for i, b := range data {
		a := start + i
		if readOnly(a) {
			continue
		}
		v.mem[a] = b
	}
	covers := func(r feetech.Register) bool {
		return start < int(r.Addr())+r.Size() && int(r.Addr()) < end
	}
	if covers(regID) && v.id() > feetech.MaxID {
		v.mem[regID.Addr()] = oldID
	}
	if covers(regBaud) && int(v.mem[regBaud.Addr()]) >= len(baudRates) {
		v.mem[regBaud.Addr()] = oldBaud
	}
	if covers(regTorqueEnable) {
		if v.mem[regTorqueEnable.Addr()] == 0 && oldTorque != 0 && v.keepTorque != 0 {
			// Faults.KeepTorque: this torque-off is lost.
			v.mem[regTorqueEnable.Addr()] = oldTorque
			if v.keepTorque > 0 {
				v.keepTorque--
			}
		} else {
			v.torqueWritten()
		}
	}
	if persist {
		for a := start; a < end; a++ {
			if isEEPROM(a) {
				v.saved[a] = v.mem[a]
			}
		}
	}
}

// torqueWritten applies a write of Torque_Enable: 0 lets the servo go
// limp, 128 calibrates the middle (Homing_Offset so that Present_Position
// reads 2048, torque stays off), any other value turns torque on and
// clears a latched overload.
func (v *servo) torqueWritten() {
	switch v.mem[regTorqueEnable.Addr()] {
	case 0:
		v.vel, v.load, v.stalled = 0, 0, false
	case 128:
		put(&v.mem, regHoming, int(math.Round(v.pos))-stepsPerTurn/2)
		if v.mem[regLock.Addr()] == 0 {
			v.saved[regHoming.Addr()] = v.mem[regHoming.Addr()]
			v.saved[regHoming.Addr()+1] = v.mem[regHoming.Addr()+1]
		}
		v.mem[regTorqueEnable.Addr()] = 0
		v.vel, v.load, v.stalled = 0, 0, false
	default:
		v.latched, v.overFor = 0, 0
	}
}

// regWrite stores a REG_WRITE until ACTION.
func (v *servo) regWrite(addr byte, data []byte) {
	v.regPending, v.regAddr, v.regLen = true, addr, copy(v.regData[:], data)
}

// action applies a pending REG_WRITE.
func (v *servo) action() {
	if v.regPending {
		v.regPending = false
		v.write(v.regAddr, v.regData[:v.regLen])
	}
}

// factoryReset is RESET: every register back to the factory table (ID and
// baud code kept, so the servo stays reachable) and saved; torque off; the
// servo stays where it is.
func (v *servo) factoryReset() {
	v.mem = factoryTable(v.id(), v.mem[regBaud.Addr()])
	v.saved = v.mem
	v.vel, v.load, v.stalled, v.latched, v.overFor, v.regPending = 0, 0, false, 0, 0, false
	v.holdHere()
}

// powerCycle is a power-off and on: the EEPROM area comes back from what
// was saved, the SRAM area from the factory table, and Goal_Position is
// where the servo stands.
func (v *servo) powerCycle() {
	fresh := factoryTable(v.saved[regID.Addr()], v.saved[regBaud.Addr()])
	for a := range v.mem {
		if isEEPROM(a) {
			v.mem[a] = v.saved[a]
		} else {
			v.mem[a] = fresh[a]
		}
	}
	v.vel, v.load, v.stalled, v.latched, v.overFor, v.regPending = 0, 0, false, 0, 0, false
	v.holdHere()
}

// torqueCap is the largest load the servo may produce: the lower of
// Torque_Limit and Max_Torque_Limit, at most 100 %.
func (v *servo) torqueCap() float64 {
	return float64(min(get(&v.mem, regTorqueLimit), get(&v.mem, regMaxTorque), 1000))
}

// goal is Goal_Position clamped to the position limits, in the
// Homing_Offset frame.
func (v *servo) goal() float64 {
	g := get(&v.mem, regGoal)
	lo, hi := get(&v.mem, regMinLimit), get(&v.mem, regMaxLimit)
	return float64(max(lo, min(hi, g)))
}

// accel is the acceleration limit in steps/s², 0 for unlimited.
func (v *servo) accel() float64 { return float64(v.mem[regAccel.Addr()]) * accelUnit }

// speedLimit is Goal_Velocity's magnitude, or maxSpeed when it is 0.
func (v *servo) speedLimit() float64 {
	gv := math.Abs(float64(get(&v.mem, regGoalVelocity)))
	if gv == 0 || gv > maxSpeed {
		return maxSpeed
	}
	return gv
}

// step advances the servo by dt seconds and reports whether it moved.
func (v *servo) step(dt float64) bool {
	from := v.pos
	v.stalled = false
	var delta, push float64 // push: the signed error the motor works against when stalled
	switch {
	case !v.torqueOn():
		v.vel = 0
	case v.mem[regMode.Addr()] == 0: // position control
		e := v.goal() - v.present()
		var vd float64
		if e != 0 {
			vd = v.speedLimit()
			if a := v.accel(); a > 0 {
				vd = min(vd, math.Sqrt(2*a*math.Abs(e)))
			}
			vd = math.Copysign(min(vd, math.Abs(e)/dt), e)
		}
		v.approach(vd, dt)
		delta = v.vel * dt
		if e == 0 || (delta != 0 && delta/e >= 1) {
			delta, v.vel = e, 0 // arrived
		}
		push = e - delta
	case v.mem[regMode.Addr()] == 1: // velocity (wheel) mode
		vd := math.Max(-maxSpeed, math.Min(maxSpeed, float64(get(&v.mem, regGoalVelocity))))
		v.approach(vd, dt)
		delta = v.vel * dt
		push = vd * 1e3 // any stall pushes at full torque
	default: // PWM and step modes are not modelled: the servo holds still
		v.vel = 0
	}
	to := v.pos + delta
	if delta != 0 && v.jammed {
		// Faults.Jammed: something holds the joint where it is.
		to, v.vel, v.stalled = v.pos, 0, true
		push += delta
	} else if delta != 0 && v.block != nil {
		if stop, blocked := v.block(v.pos, to); blocked {
			to, v.vel, v.stalled = stop, 0, true
			push += (v.pos + delta) - stop
		}
	}
	v.pos = wrapf(to)
	v.updateLoad(push)
	v.updateHealth(dt)
	return v.pos != from
}

// approach changes the velocity toward vd within the acceleration limit.
func (v *servo) approach(vd, dt float64) {
	a := v.accel()
	if a == 0 {
		v.vel = vd
		return
	}
	dv := vd - v.vel
	lim := a * dt
	v.vel += math.Max(-lim, math.Min(lim, dv))
}

// updateLoad sets Present_Load from what the motor does: nothing with
// torque off or at rest, friction growing with speed when moving freely,
// and a proportional push against the remaining error when stalled.
func (v *servo) updateLoad(push float64) {
	capL := v.torqueCap()
	switch {
	case !v.torqueOn():
		v.load = 0
	case v.stalled:
		gain := stallGain * float64(v.mem[regP.Addr()]) / 32
		v.load = math.Copysign(math.Min(capL, gain*math.Abs(push)), push)
	case v.vel != 0:
		l := freeLoadBase + freeLoadSpeed*math.Abs(v.vel)/maxSpeed
		v.load = math.Copysign(math.Min(capL, l), v.vel)
	default:
		v.load = 0
	}
}

// updateHealth heats and cools the motor, times an overload, and cuts
// torque on the status bits that Unloading_Condition names.
func (v *servo) updateHealth(dt float64) {
	l := math.Abs(v.load) / 1000
	var in float64
	if v.torqueOn() {
		in = v.heat * heatRate * (holdHeat + l)
	}
	v.temp += (in - (v.temp-ambientTemp)/coolTau) * dt
	if math.Abs(v.load) > 10*float64(v.mem[regOverloadTorque.Addr()]) {
		v.overFor += dt
		if v.overFor >= 0.01*float64(v.mem[addrProtectionTime]) {
			v.latched |= feetech.BitOverload
		}
	} else {
		v.overFor = 0
	}
	if v.torqueOn() && v.errBits()&v.mem[addrUnloadCondition] != 0 {
		v.mem[regTorqueEnable.Addr()] = 0
		v.vel, v.load = 0, 0
	}
}

// wrapf wraps a position into [0, 4096).
func wrapf(p float64) float64 {
	p = math.Mod(p, stepsPerTurn)
	if p < 0 {
		p += stepsPerTurn
	}
	if p >= stepsPerTurn { // -tiny + 4096 rounds to 4096
		p = 0
	}
	return p
}
