package arm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/pilotkit/pilot/robot/feetech"
)

// Bus is what the arm needs of a servo bus; *feetech.Bus has it. It must
// be safe for concurrent use (the watchdog shares it).
type Bus interface {
	Ping(ctx context.Context, id byte) error
	ReadReg(ctx context.Context, id byte, r feetech.Register) (int, error)
	WriteReg(ctx context.Context, id byte, r feetech.Register, v int) error
	SyncRead(ctx context.Context, addr byte, n int, ids []byte) ([][]byte, error)
	SyncReadReg(ctx context.Context, r feetech.Register, ids []byte) ([]int, error)
	SyncWriteReg(ctx context.Context, r feetech.Register, ids []byte, vals []int) error
}

// WatchdogAction is what the watchdog does when commands stop.
type WatchdogAction int

const (
	// Hold sets every goal to the present position: the arm stops where
	// it is and keeps its pose.
	Hold WatchdogAction = iota
	// TorqueOff releases the servos: the arm goes limp (and may fall).
	TorqueOff
)

func (w WatchdogAction) String() string {
	if w == TorqueOff {
		return "torque-off"
	}
	return "hold"
}

// Defaults of Options.
const (
	DefaultMaxRelativeTarget = 10.0 // degrees (or percent) per command
	DefaultWatchdog          = 500 * time.Millisecond
	DefaultMaxTemperature    = 60 // °C; the STS3215 cuts out at 70
	DefaultHealthEvery       = 200 * time.Millisecond
	// GripperTorqueLimit caps the gripper's torque (in 0.1 %), as LeRobot
	// does, so that a held cube does not trip the overload protection.
	GripperTorqueLimit = 500
)

// Options configure an Arm. The zero value is a safe default for an
// SO-101 follower.
type Options struct {
	// Joints of the arm; nil means SO101().
	Joints []Joint
	// MaxRelativeTarget caps how far one command moves a joint from its
	// present position, in the joint's unit. 0 means
	// DefaultMaxRelativeTarget; negative means no cap.
	MaxRelativeTarget float64
	// Watchdog acts when no command arrives for this long (clock time).
	// 0 means DefaultWatchdog; negative turns it off (the simulator's fast
	// mode, where time only moves when the arm sleeps).
	Watchdog   time.Duration
	OnWatchdog WatchdogAction
	// MaxTemperature in °C: a servo at or above it turns all torque off
	// and stops the arm. 0 means DefaultMaxTemperature.
	MaxTemperature int
	// HealthEvery is how often (clock time) a command also reads load,
	// voltage, temperature and status. 0 means DefaultHealthEvery.
	HealthEvery time.Duration
	// WriteCalibration writes the calibration's homing offsets and
	// position limits to the servos' EEPROM when they differ, instead of
	// refusing to start.
	WriteCalibration bool
	// Clock is the arm's time; nil means WallClock().
	Clock  Clock
	Logger *slog.Logger
}

// Errors of the arm.
var (
	// ErrStopped is wrapped by every call after a fault stopped the arm.
	ErrStopped = errors.New("arm stopped")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("arm is closed")
)

// State is a reading of the joints.
type State struct {
	Time time.Duration // clock time of the reading
	Pos  []float64     // per joint, in its unit (degrees, gripper percent open)
	Raw  []int         // Present_Position per joint
}

// Clamp records one goal the safety layer changed before sending it.
type Clamp struct {
	Joint     string  `json:"joint"`
	Requested float64 `json:"requested"`
	Sent      float64 `json:"sent"`
	Why       string  `json:"why"` // "calibrated range", "max relative target", "overload: hold"
}

// Result is what one command did.
type Result struct {
	State  State     // present positions before the command
	Goal   []float64 // goals sent, in joint units
	Clamps []Clamp
}

// Health is the servos' condition.
type Health struct {
	Temperature []int     // °C
	Load        []float64 // percent of maximum torque, signed
	Voltage     []float64 // volts
	Status      []byte    // status register bits
}

// Arm is an open arm. Its methods are safe for concurrent use; commands run
// one at a time.
type Arm struct {
	bus    Bus
	joints []Joint
	ids    []byte
	cal    []JointCal
	opts   Options
	clock  Clock
	log    *slog.Logger

	mu          sync.Mutex
	torqueOn    bool
	energized   bool // torque-on was sent since the last confirmed torque-off
	lastCommand time.Duration
	tripped     bool // the watchdog acted since the last command
	lastHealth  time.Duration
	health      Health
	fault       error
	closed      bool
	lastWarn    map[string]time.Duration

	stop context.CancelFunc
	wg   sync.WaitGroup
}

// Open checks that every joint's servo answers and matches the
// calibration, holds the present pose, turns torque on and starts the
// watchdog. The arm lives until Close; ctx bounds Open only.
func Open(ctx context.Context, bus Bus, cal Calibration, opts Options) (*Arm, error) {
	if opts.Joints == nil {
		opts.Joints = SO101()
	}
	if err := checkJoints(opts.Joints); err != nil {
		return nil, err
	}
	if err := cal.Validate(opts.Joints); err != nil {
		return nil, err
	}
	if opts.MaxRelativeTarget == 0 {
		opts.MaxRelativeTarget = DefaultMaxRelativeTarget
	}
	if math.IsNaN(opts.MaxRelativeTarget) {
		return nil, fmt.Errorf("arm: MaxRelativeTarget is NaN")
	}
	if opts.Watchdog == 0 {
		opts.Watchdog = DefaultWatchdog
	}
	if opts.MaxTemperature == 0 {
		opts.MaxTemperature = DefaultMaxTemperature
	}
	if opts.HealthEvery == 0 {
		opts.HealthEvery = DefaultHealthEvery
	}
	if opts.Clock == nil {
		opts.Clock = WallClock()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	a := &Arm{
		bus:      bus,
		joints:   append([]Joint(nil), opts.Joints...),
		ids:      jointIDs(opts.Joints),
		opts:     opts,
		clock:    opts.Clock,
		log:      opts.Logger,
		lastWarn: map[string]time.Duration{},
	}
	for _, j := range a.joints {
		a.cal = append(a.cal, cal[j.Name])
	}
	if err := a.connect(ctx); err != nil {
		// Never leave torque on behind a failed start.
		terr := a.torqueOffAll(context.WithoutCancel(ctx))
		if a.energized {
			// Torque was turned on: whether it is off again matters.
			return nil, errors.Join(err, terr)
		}
		return nil, err
	}
	a.lastCommand = a.clock.Now()
	if opts.Watchdog > 0 {
		wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		a.stop = cancel
		a.wg.Add(1)
		go a.watchdog(wctx)
	}
	return a, nil
}

func (a *Arm) name(i int) string { return fmt.Sprintf("servo %d (%s)", a.ids[i], a.joints[i].Name) }

func (a *Arm) connect(ctx context.Context) error {
	var missing []string
	for i, id := range a.ids {
		if err := a.bus.Ping(ctx, id); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			var se *feetech.ServoError
			if errors.As(err, &se) {
				continue // it answered; the bits are dealt with below
			}
			missing = append(missing, a.name(i))
			a.log.Debug("ping failed", "servo", id, "err", err)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("arm: no answer from %s: check the servos' power supply (it is separate from USB), their IDs and the baud rate; `pilot robot scan --port <port>` lists what answers", strings.Join(missing, ", "))
	}
	for i, id := range a.ids {
		model, err := a.bus.ReadReg(ctx, id, feetech.Model)
		if err != nil && !isServoErr(err) {
			return fmt.Errorf("arm: read model of %s: %w", a.name(i), err)
		}
		if model != feetech.ModelSTS3215 {
			a.log.Warn("servo is not an STS3215", "servo", id, "model", model)
		}
	}
	if err := a.checkCalibration(ctx); err != nil {
		return err
	}
	// The gripper squeezes a cube without tripping its overload protection.
	for i, j := range a.joints {
		if j.Gripper {
			if err := a.bus.WriteReg(ctx, a.ids[i], feetech.TorqueLimit, GripperTorqueLimit); err != nil && !isServoErr(err) {
				return fmt.Errorf("arm: limit the gripper's torque: %w", err)
			}
		}
	}
	return a.torqueOnHolding(ctx)
}

// checkCalibration compares the servos' homing offsets and position limits
// with the calibration, and writes them when allowed.
func (a *Arm) checkCalibration(ctx context.Context) error {
	regs := []struct {
		reg  feetech.Register
		want func(JointCal) int
	}{
		{feetech.HomingOffset, func(c JointCal) int { return c.HomingOffset }},
		{feetech.MinPositionLimit, func(c JointCal) int { return c.RangeMin }},
		{feetech.MaxPositionLimit, func(c JointCal) int { return c.RangeMax }},
	}
	type fix struct {
		i   int
		reg feetech.Register
		v   int
	}
	var fixes []fix
	var diffs []string
	for i, id := range a.ids {
		for _, r := range regs {
			got, err := a.bus.ReadReg(ctx, id, r.reg)
			if err != nil && !isServoErr(err) {
				return fmt.Errorf("arm: read %s of %s: %w", r.reg.Name(), a.name(i), err)
			}
			if want := r.want(a.cal[i]); got != want {
				fixes = append(fixes, fix{i, r.reg, want})
				diffs = append(diffs, fmt.Sprintf("%s %s is %d, the calibration says %d", a.name(i), r.reg.Name(), got, want))
			}
		}
	}
	if len(fixes) == 0 {
		return nil
	}
	if !a.opts.WriteCalibration {
		return fmt.Errorf("arm: the servos do not match the calibration (%s): run `pilot robot calibrate --port <port>`, or pass --write-calibration to write this calibration to the servos", strings.Join(diffs, "; "))
	}
	lock := feetech.Lock
	for _, f := range fixes {
		id := a.ids[f.i]
		a.log.Info("writing calibration to servo EEPROM", "servo", id, "register", f.reg.Name, "value", f.v)
		for _, w := range []struct {
			r feetech.Register
			v int
		}{{feetech.TorqueEnable, 0}, {lock, 0}, {f.reg, f.v}, {lock, 1}} {
			if err := a.bus.WriteReg(ctx, id, w.r, w.v); err != nil && !isServoErr(err) {
				return fmt.Errorf("arm: write %s = %d to %s: %w", w.r.Name(), w.v, a.name(f.i), err)
			}
		}
	}
	return nil
}

// torqueOnHolding sets every goal to the present position, then turns
// torque on: the arm does not jump.
func (a *Arm) torqueOnHolding(ctx context.Context) error {
	raw, err := a.bus.SyncReadReg(ctx, feetech.PresentPosition, a.ids)
	if err != nil && !isServoErr(err) {
		return fmt.Errorf("arm: read present positions: %w", err)
	}
	goals := make([]int, len(raw))
	for i := range raw {
		goals[i] = a.cal[i].ClampRaw(raw[i])
	}
	if err := a.bus.SyncWriteReg(ctx, feetech.GoalPosition, a.ids, goals); err != nil {
		return fmt.Errorf("arm: hold present positions: %w", err)
	}
	a.energized = true
	if err := a.bus.SyncWriteReg(ctx, feetech.TorqueEnable, a.ids, fill(len(a.ids), 1)); err != nil {
		return fmt.Errorf("arm: torque on: %w", err)
	}
	if err := a.bus.SyncWriteReg(ctx, feetech.Lock, a.ids, fill(len(a.ids), 1)); err != nil {
		return fmt.Errorf("arm: lock: %w", err)
	}
	a.torqueOn = true
	return nil
}

func fill(n, v int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = v
	}
	return s
}

// Joints returns the arm's joints.
func (a *Arm) Joints() []Joint { return append([]Joint(nil), a.joints...) }

// Limits returns each joint's calibrated range in its unit.
func (a *Arm) Limits() (lo, hi []float64) {
	for i, j := range a.joints {
		l, h := a.cal[i].Limits(j)
		lo, hi = append(lo, l), append(hi, h)
	}
	return lo, hi
}

// Clock returns the arm's clock.
func (a *Arm) Clock() Clock { return a.clock }

// Err returns the fault that stopped the arm, or nil.
func (a *Arm) Err() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.fault
}

func (a *Arm) usable() error {
	if a.closed {
		return ErrClosed
	}
	return a.fault
}

// Read returns the present positions. Reading is not a command: it does
// not feed the watchdog.
func (a *Arm) Read(ctx context.Context) (State, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.usable(); err != nil {
		return State{}, err
	}
	s, _, err := a.readLocked(ctx)
	return s, err
}

// readLocked reads present positions; overloaded lists joints whose servo
// reported overload.
func (a *Arm) readLocked(ctx context.Context) (State, map[int]bool, error) {
	raw, err := a.bus.SyncReadReg(ctx, feetech.PresentPosition, a.ids)
	overloaded, err := a.servoFaults(ctx, err)
	if err != nil {
		return State{}, nil, err
	}
	s := State{Time: a.clock.Now(), Raw: raw, Pos: make([]float64, len(raw))}
	for i, r := range raw {
		s.Pos[i] = a.cal[i].ToUser(a.joints[i], r)
	}
	return s, overloaded, nil
}

// servoFaults acts on a bus error: status bits are dealt with (overload:
// the joint is reported; overheat or a sensor fault: torque off and stop);
// any other error stops the arm. It returns the overloaded joints and the
// error the caller must return, nil when the data is good to use.
func (a *Arm) servoFaults(ctx context.Context, err error) (map[int]bool, error) {
	if err == nil {
		return nil, nil
	}
	if ctx.Err() != nil {
		// Our caller gave up: not a fault of the arm.
		return nil, err
	}
	ses, rest := splitServoErrors(err)
	if rest != nil {
		return nil, a.stopLocked(ctx, fmt.Errorf("bus: %w", rest))
	}
	var overloaded map[int]bool
	for _, se := range ses {
		i := a.index(se.ID)
		switch {
		case errors.Is(se, feetech.ErrOverheat), errors.Is(se, feetech.ErrAngleSensor), errors.Is(se, feetech.ErrOverCurrent):
			return nil, a.stopLocked(ctx, se)
		case errors.Is(se, feetech.ErrOverload):
			if overloaded == nil {
				overloaded = map[int]bool{}
			}
			overloaded[i] = true
			a.log.Warn("servo overloaded: holding the joint where it is", "joint", a.jointName(i), "servo", se.ID)
		case errors.Is(se, feetech.ErrVoltage):
			a.warnEvery("voltage", "servo supply voltage out of range: check the power supply", "servo", se.ID)
		}
	}
	return overloaded, nil
}

func (a *Arm) index(id byte) int {
	for i, x := range a.ids {
		if x == id {
			return i
		}
	}
	return -1
}

func (a *Arm) jointName(i int) string {
	if i < 0 || i >= len(a.joints) {
		return "?"
	}
	return a.joints[i].Name
}

// stopLocked records the fault, turns torque off and reads it back, and
// returns the error every later call gets: it says that torque is off
// only when every servo read back Torque_Enable = 0, and wraps a
// *TorqueError otherwise.
func (a *Arm) stopLocked(ctx context.Context, cause error) error {
	if a.fault == nil {
		a.log.Error("arm stopped", "cause", cause)
		if terr := a.torqueOffAll(context.WithoutCancel(ctx)); terr != nil {
			a.fault = fmt.Errorf("%w: %w; %w", ErrStopped, cause, terr)
		} else {
			a.fault = fmt.Errorf("%w: %w: torque is off (every servo read back Torque_Enable = 0); fix the cause, then reopen the arm", ErrStopped, cause)
		}
	}
	return a.fault
}

// TorqueOffTimeout bounds a torque-off and its read-backs.
const TorqueOffTimeout = 5 * time.Second

// torqueOffAll turns torque off on every servo and reads it back (see
// torqueOff), within TorqueOffTimeout, then writes Lock = 0 as LeRobot
// does with torque off. It returns nil only when every servo confirmed
// torque off, and a *TorqueError otherwise.
func (a *Arm) torqueOffAll(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, TorqueOffTimeout)
	defer cancel()
	names := make([]string, len(a.joints))
	for i, j := range a.joints {
		names[i] = j.Name
	}
	if err := torqueOff(ctx, a.bus, a.ids, names); err != nil {
		a.log.Error("torque off not confirmed", "err", err)
		return err
	}
	a.torqueOn, a.energized = false, false
	if err := a.bus.SyncWriteReg(ctx, feetech.Lock, a.ids, fill(len(a.ids), 0)); err != nil {
		// Torque is off (read back); an unlocked EEPROM is no danger.
		a.log.Warn("unlock after torque off failed", "err", err)
	}
	return nil
}

func (a *Arm) warnEvery(key, msg string, args ...any) {
	now := a.clock.Now()
	if last, ok := a.lastWarn[key]; ok && now-last < time.Second {
		return
	}
	a.lastWarn[key] = now
	a.log.Warn(msg, args...)
}

// Step is one control cycle: read the present positions (one sync read),
// pass goal through the safety layer, write the goals (one sync write).
// goal has one value per joint, in its unit.
func (a *Arm) Step(ctx context.Context, goal []float64) (Result, error) {
	if len(goal) != len(a.joints) {
		return Result{}, fmt.Errorf("arm: goal has %d values, the arm has %d joints (%s)", len(goal), len(a.joints), a.jointNames())
	}
	for i, v := range goal {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return Result{}, fmt.Errorf("arm: goal for %s is %v: not a number; nothing was sent", a.joints[i].Name, v)
		}
	}
	return a.cycle(ctx, func(State) ([]float64, error) { return goal, nil })
}

func (a *Arm) jointNames() string {
	var s []string
	for _, j := range a.joints {
		s = append(s, j.Name)
	}
	return strings.Join(s, ", ")
}

func (a *Arm) cycle(ctx context.Context, decide func(State) ([]float64, error)) (Result, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.usable(); err != nil {
		return Result{}, err
	}
	if err := a.healthLocked(ctx, false); err != nil {
		return Result{}, err
	}
	if !a.torqueOn {
		// The watchdog released the arm: hold where it is, then go on.
		if err := a.torqueOnHolding(ctx); err != nil {
			return Result{}, a.stopLocked(ctx, err)
		}
	}
	s, overloaded, err := a.readLocked(ctx)
	if err != nil {
		return Result{}, err
	}
	goal, err := decide(s)
	if err != nil {
		return Result{State: s}, err
	}
	if len(goal) != len(a.joints) {
		return Result{State: s}, fmt.Errorf("arm: goal has %d values, the arm has %d joints", len(goal), len(a.joints))
	}
	res := Result{State: s, Goal: make([]float64, len(goal))}
	raws := make([]int, len(goal))
	for i, v := range goal {
		j, c := a.joints[i], a.cal[i]
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return Result{State: s}, fmt.Errorf("arm: goal for %s is %v: not a number; nothing was sent", j.Name, v)
		}
		raw := c.FromUser(j, v)
		why := ""
		if overloaded[i] {
			raw, why = s.Raw[i], "overload: hold"
		}
		if r := c.ClampRaw(raw); r != raw {
			raw, why = r, "calibrated range"
			a.warnEvery("range:"+j.Name, "goal outside the calibrated range: clamped", "joint", j.Name, "requested", v, "sent", c.ToUser(j, r))
		}
		if capRaw, ok := a.capRaw(i); ok {
			lo, hi := s.Raw[i]-capRaw, s.Raw[i]+capRaw
			if r := min(max(raw, lo), hi); r != raw {
				raw = r
				if why == "" {
					why = "max relative target"
				}
			}
		}
		raws[i] = raw
		res.Goal[i] = c.ToUser(j, raw)
		if why != "" {
			res.Clamps = append(res.Clamps, Clamp{Joint: j.Name, Requested: v, Sent: res.Goal[i], Why: why})
		}
	}
	if err := a.bus.SyncWriteReg(ctx, feetech.GoalPosition, a.ids, raws); err != nil {
		if ctx.Err() != nil {
			return res, err
		}
		return res, a.stopLocked(ctx, fmt.Errorf("bus: %w", err))
	}
	a.lastCommand = a.clock.Now()
	a.tripped = false
	return res, nil
}

// capRaw is MaxRelativeTarget of joint i in encoder steps.
func (a *Arm) capRaw(i int) (int, bool) {
	if a.opts.MaxRelativeTarget < 0 {
		return 0, false
	}
	c := a.cal[i]
	if a.joints[i].Gripper {
		return max(1, int(a.opts.MaxRelativeTarget/100*float64(c.RangeMax-c.RangeMin))), true
	}
	return max(1, int(a.opts.MaxRelativeTarget*Resolution/360)), true
}

// Health reads load, voltage, temperature and status now and acts on them.
func (a *Arm) Health(ctx context.Context) (Health, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.usable(); err != nil {
		return Health{}, err
	}
	if err := a.healthLocked(ctx, true); err != nil {
		return a.health, err
	}
	return a.health, nil
}

// healthLocked reads the health block (Present_Load at 60 through Status
// at 65: one sync read) every HealthEvery, or now when force is set.
func (a *Arm) healthLocked(ctx context.Context, force bool) error {
	now := a.clock.Now()
	if !force && a.lastHealth != 0 && now-a.lastHealth < a.opts.HealthEvery {
		return nil
	}
	a.lastHealth = now
	load := feetech.PresentLoad
	data, err := a.bus.SyncRead(ctx, load.Addr(), 6, a.ids)
	if _, err := a.servoFaults(ctx, err); err != nil {
		return err
	}
	h := Health{}
	for i, d := range data {
		if len(d) < 6 {
			return a.stopLocked(ctx, fmt.Errorf("health of %s: %d bytes, want 6", a.name(i), len(d)))
		}
		h.Load = append(h.Load, float64(load.Decode(d[0:2]))/10)
		h.Voltage = append(h.Voltage, float64(d[2])/10)
		h.Temperature = append(h.Temperature, int(d[3]))
		h.Status = append(h.Status, d[5])
	}
	a.health = h
	for i, t := range h.Temperature {
		if t >= a.opts.MaxTemperature {
			return a.stopLocked(ctx, fmt.Errorf("%s is at %d °C, at or above the limit %d °C; let it cool down", a.name(i), t, a.opts.MaxTemperature))
		}
		if t >= a.opts.MaxTemperature-5 {
			a.warnEvery("temp:"+a.joints[i].Name, "servo is getting hot", "joint", a.joints[i].Name, "celsius", t, "limit", a.opts.MaxTemperature)
		}
	}
	return nil
}

// Hold sets every goal to the present position.
func (a *Arm) Hold(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.usable(); err != nil {
		return err
	}
	return a.holdLocked(ctx)
}

func (a *Arm) holdLocked(ctx context.Context) error {
	s, _, err := a.readLocked(ctx)
	if err != nil {
		return err
	}
	goals := make([]int, len(s.Raw))
	for i, r := range s.Raw {
		goals[i] = a.cal[i].ClampRaw(r)
	}
	if err := a.bus.SyncWriteReg(ctx, feetech.GoalPosition, a.ids, goals); err != nil {
		if ctx.Err() != nil {
			return err
		}
		return a.stopLocked(ctx, fmt.Errorf("bus: %w", err))
	}
	return nil
}

// watchdog acts when no command came for opts.Watchdog.
func (a *Arm) watchdog(ctx context.Context) {
	defer a.wg.Done()
	tick := time.NewTicker(max(a.opts.Watchdog/5, time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		a.mu.Lock()
		if a.usable() == nil && !a.tripped && (a.torqueOn || a.energized) && a.clock.Now()-a.lastCommand > a.opts.Watchdog {
			a.tripped = true
			idle := a.clock.Now() - a.lastCommand
			a.log.Warn("watchdog: no command", "idle", idle.Round(time.Millisecond), "action", a.opts.OnWatchdog.String())
			var err error
			if a.opts.OnWatchdog == TorqueOff {
				if a.torqueOffAll(ctx) != nil {
					// stopLocked tries again and says which servos may
					// still hold torque.
					err = a.stopLocked(ctx, fmt.Errorf("watchdog: no command for %v, and the torque-off was not confirmed", idle.Round(time.Millisecond)))
				}
			} else {
				err = a.holdLocked(ctx)
			}
			if err != nil {
				a.log.Error("watchdog action failed", "err", err)
			}
		}
		a.mu.Unlock()
	}
}

// Close stops the watchdog and turns torque off, then reads Torque_Enable
// back from every servo, writing and reading again up to
// TorqueOffAttempts times. It returns nil only when every servo read back
// 0: the arm is limp. Otherwise it returns a *TorqueError (find it with
// errors.As) naming the servos whose torque may still be on; its message
// says so and tells the user to unplug the servos' power. It does not
// close the bus, which belongs to the caller. A second Close returns nil
// and does nothing.
func (a *Arm) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	a.closed = true
	a.mu.Unlock()
	if a.stop != nil {
		a.stop()
	}
	a.wg.Wait()
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.torqueOffAll(context.Background())
}

func isServoErr(err error) bool {
	ses, rest := splitServoErrors(err)
	return len(ses) > 0 && rest == nil
}

// splitServoErrors separates status-bit errors (whose data is valid) from
// any other error in err (possibly an errors.Join).
func splitServoErrors(err error) ([]*feetech.ServoError, error) {
	if err == nil {
		return nil, nil
	}
	var se *feetech.ServoError
	if errors.As(err, &se) && se == err {
		return []*feetech.ServoError{se}, nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var ses []*feetech.ServoError
		var rest []error
		for _, e := range j.Unwrap() {
			s, r := splitServoErrors(e)
			ses = append(ses, s...)
			if r != nil {
				rest = append(rest, r)
			}
		}
		return ses, errors.Join(rest...)
	}
	if errors.As(err, &se) {
		// A wrapped single servo error: its data is valid too.
		return []*feetech.ServoError{se}, nil
	}
	return nil, err
}

// Memo is the arm's own record of what it did: whether it turned torque
// on, when it last commanded and read health, what the watchdog and the
// health checks saw. Planners that fork a simulated arm (robot/sim's
// Snapshot) keep it beside the simulator's state, so that a restored arm
// and its servos agree; restoring it on a real arm would make the arm
// believe things its servos do not, so nothing in pilot does.
type Memo struct {
	arm         *Arm
	torqueOn    bool
	energized   bool
	lastCommand time.Duration
	tripped     bool
	lastHealth  time.Duration
	health      Health
	fault       error
	lastWarn    map[string]time.Duration
}

// Memo returns the arm's record (see Memo).
func (a *Arm) Memo() Memo {
	a.mu.Lock()
	defer a.mu.Unlock()
	return Memo{arm: a, torqueOn: a.torqueOn, energized: a.energized, lastCommand: a.lastCommand, tripped: a.tripped,
		lastHealth: a.lastHealth, health: a.health, fault: a.fault, lastWarn: maps.Clone(a.lastWarn)}
}

// SetMemo puts back a record that Memo of this arm returned, with the
// simulator state taken at the same time.
func (a *Arm) SetMemo(m Memo) error {
	if m.arm != a {
		return errors.New("arm: the memo is another arm's")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return ErrClosed
	}
	a.torqueOn, a.energized, a.lastCommand, a.tripped = m.torqueOn, m.energized, m.lastCommand, m.tripped
	a.lastHealth, a.health, a.fault, a.lastWarn = m.lastHealth, m.health, m.fault, maps.Clone(m.lastWarn)
	return nil
}
