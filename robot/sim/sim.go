package sim

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/pilotkit/pilot/robot/feetech"
	"github.com/pilotkit/pilot/robot/kin"
)

// NumServos is the number of servos of the simulated SO-101 arm.
const NumServos = 6

// DefaultIDs are the servo IDs of the SO-101 follower, in joint order:
// shoulder_pan, shoulder_lift, elbow_flex, wrist_flex, wrist_roll, gripper.
func DefaultIDs() []byte { return []byte{1, 2, 3, 4, 5, 6} }

// DefaultBaud is the bus speed when Options.Baud is 0.
const DefaultBaud = 1_000_000

// Options configure a simulated arm. The zero value is a healthy SO-101
// on a 1 Mbaud bus, answering as fast as it can.
type Options struct {
	// IDs are the six servo IDs in joint order (shoulder_pan ... gripper);
	// nil means DefaultIDs.
	IDs []byte
	// Seed seeds the random faults.
	Seed int64
	// WireTiming paces the pseudo-terminal's replies as a real half-duplex
	// bus at Baud would deliver them (see wire.go). Off, replies are
	// written as soon as they are computed.
	WireTiming bool
	// Baud is the bus speed in bits per second: one of the Baud_Rate
	// codes' rates (1000000, 500000, 250000, 128000, 115200, 57600, 38400,
	// 19200); 0 means DefaultBaud. The servos start with the matching
	// Baud_Rate code; a servo whose code is changed stops hearing the bus.
	Baud int
	// Faults injects bus and servo troubles.
	Faults Faults
	// Logger receives debug records of faults and the pty's life; nil
	// discards them.
	Logger *slog.Logger
}

// Sim is a simulated SO-101 arm: six STS3215 servos on one bus. It is safe
// for concurrent use.
type Sim struct {
	mu      sync.Mutex
	servos  [NumServos]*servo
	now     time.Duration
	rng     *rand.Rand
	pcg     *rand.PCG // rng's source, copied by Snapshot
	faults  Faults
	baud    int
	wire    bool
	log     *slog.Logger
	scene   scene
	closed  bool
	scratch []byte // Handle's answers before they are copied out
	handled uint64 // instruction frames carried out

	ptyMu sync.Mutex
	ptys  map[*PTY]struct{}
}

// scene is what the simulator tells the world (world.go) and asks it: the
// arm's pose after every physics step that moved it, and where the gripper
// has to stop (the cube between its fingers). *World meets it. The Sim
// calls it with its own lock held: the scene must not call back into the
// Sim.
type scene interface {
	SetJoints(q kin.Joints, gripper float64)
	GripperLimit() (min float64, blocked bool)
}

// ErrClosed is returned for a simulator or port used after Close.
var ErrClosed = errors.New("sim: simulator is closed")

// New builds a simulated arm in the calibration middle pose (every joint
// encoder at 2048) with the gripper slightly open.
func New(opts Options) (*Sim, error) {
	ids := opts.IDs
	if ids == nil {
		ids = DefaultIDs()
	}
	if len(ids) != NumServos {
		return nil, fmt.Errorf("sim: Options.IDs has %d IDs, want %d (one per joint, shoulder_pan to gripper)", len(ids), NumServos)
	}
	for i, id := range ids {
		if id > feetech.MaxID {
			return nil, fmt.Errorf("sim: Options.IDs[%d] = %d is above the highest servo ID %d", i, id, feetech.MaxID)
		}
		if slices.Contains(ids[:i], id) {
			return nil, fmt.Errorf("sim: Options.IDs has ID %d twice: each servo needs its own", id)
		}
	}
	baud := opts.Baud
	if baud == 0 {
		baud = DefaultBaud
	}
	code := slices.Index(baudRates[:], baud)
	if code < 0 {
		return nil, fmt.Errorf("sim: Options.Baud = %d is not a Feetech bus speed; use one of %v", opts.Baud, baudRates)
	}
	if err := opts.Faults.validate(ids); err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	pcg := rand.NewPCG(uint64(opts.Seed), 0x5eed_50_101)
	s := &Sim{
		rng:  rand.New(pcg),
		pcg:  pcg,
		baud: baud,
		wire: opts.WireTiming,
		log:  log,
		ptys: make(map[*PTY]struct{}),
	}
	for i, id := range ids {
		pos := float64(stepsPerTurn / 2)
		if i == NumServos-1 {
			pos = GripperEncoderF(initialGripper)
		}
		s.servos[i] = newServo(id, byte(code), pos)
	}
	s.applyFaultsLocked(opts.Faults)
	s.servos[NumServos-1].block = s.gripperBlock
	return s, nil
}

// initialGripper is the gripper opening of a new arm.
const initialGripper = 0.1

// setScene connects the world: it is told the pose after each physics step
// that moved the arm, and the gripper stops where the world says
// (gripperBlock reads s.scene, so assigning it under s.mu does as well).
func (s *Sim) setScene(sc scene) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scene = sc
	if sc != nil {
		sc.SetJoints(s.jointsLocked())
	}
}

// gripperBlock is the gripper servo's block hook: closing, it stops at
// the opening the scene's GripperLimit gives (a cube between the
// fingers). The caller holds s.mu.
func (s *Sim) gripperBlock(from, to float64) (float64, bool) {
	if s.scene == nil || to >= from {
		return 0, false // opening is never blocked
	}
	lo, blocked := s.scene.GripperLimit()
	if !blocked {
		return 0, false
	}
	lim := GripperEncoderF(lo)
	switch {
	case to >= lim:
		return 0, false
	case from >= lim:
		return lim, true
	default:
		return from, true // already inside the object: no further
	}
}

// Handle advances the physics to now (simulated time since New; an earlier
// now does not go back) and answers the instruction frames in req: it
// returns the status packets of every complete frame in req, concatenated,
// or nil when none answers. Bytes that are not a frame are skipped, as a
// servo's receiver does. Faults apply.
func (s *Sim) Handle(req []byte, now time.Duration) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceTo(now)
	_, s.scratch, _ = s.serve(req, s.scratch[:0], nil)
	if len(s.scratch) == 0 {
		return nil
	}
	return slices.Clone(s.scratch)
}

// serve answers every complete instruction frame in in, appending status
// packets to out and their placement to reps. It returns how many bytes of
// in were used up; the rest is the start of a frame. The caller holds
// s.mu.
func (s *Sim) serve(in, out []byte, reps []reply) (int, []byte, []reply) {
	off := 0
	for off < len(in) {
		f, n, err := feetech.ScanFrame(in[off:], feetech.InstructionKind)
		off += n
		if err != nil {
			if errors.Is(err, feetech.ErrShortFrame) {
				break
			}
			continue
		}
		s.handled++
		out, reps = s.exec(f, out, reps)
	}
	return off, out, reps
}

// Handled is how many instruction frames the simulator has carried out,
// on every transport: a test waits for the host to have read a pose
// rather than for a span of wall time.
func (s *Sim) Handled() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.handled
}

// exec carries out one instruction. The caller holds s.mu.
func (s *Sim) exec(f feetech.Frame, out []byte, reps []reply) ([]byte, []reply) {
	p := f.Params
	direct := f.ID != feetech.BroadcastID
	switch f.Code {
	case feetech.InstSyncRead:
		// [addr, n, id...]: each listed servo answers in the listed order.
		if len(p) < 2 || p[1] == 0 || p[1] > maxData || int(p[0])+int(p[1]) > 256 {
			return out, reps
		}
		addr, n := int(p[0]), int(p[1])
		for _, id := range p[2:] {
			for _, v := range s.servos {
				if v.hears() && v.id() == id {
					v.refresh()
					out, reps = s.status(out, reps, v, id, 0, v.mem[addr:addr+n])
				}
			}
		}
		return out, reps
	case feetech.InstSyncWrite:
		// [addr, n, (id, data×n)...]: no answer.
		if len(p) < 2 || p[1] == 0 || int(p[0])+int(p[1]) > 256 || (len(p)-2)%(int(p[1])+1) != 0 {
			return out, reps
		}
		addr, n := p[0], int(p[1])
		for g := p[2:]; len(g) > 0; g = g[n+1:] {
			for _, v := range s.servos {
				if v.hears() && v.id() == g[0] {
					v.write(addr, g[1:n+1])
				}
			}
		}
		return out, reps
	}
	bad := !wellFormed(f.Code, p)
	for _, v := range s.servos {
		if !v.hears() || (direct && v.id() != f.ID) {
			continue
		}
		var data []byte
		if !bad {
			switch f.Code {
			case feetech.InstRead:
				v.refresh()
				data = v.mem[p[0] : int(p[0])+int(p[1])]
			case feetech.InstWrite:
				v.write(p[0], p[1:])
			case feetech.InstRegWrite:
				v.regWrite(p[0], p[1:])
			case feetech.InstAction:
				v.action()
			case feetech.InstReset:
				v.factoryReset()
			}
		}
		if direct && v.answers(f.Code) {
			var extra byte
			if bad {
				extra = bitInstruction
			}
			out, reps = s.status(out, reps, v, f.ID, extra, data)
		}
	}
	return out, reps
}

// maxData is the most data a status packet carries: its LEN byte counts
// the data, the error byte and the checksum.
const maxData = 253

// wellFormed says whether params fit instruction code. Unknown
// instructions are not well formed.
func wellFormed(code byte, p []byte) bool {
	switch code {
	case feetech.InstPing, feetech.InstAction, feetech.InstReset:
		return len(p) == 0
	case feetech.InstRead:
		return len(p) == 2 && p[1] > 0 && p[1] <= maxData && int(p[0])+int(p[1]) <= 256
	case feetech.InstWrite, feetech.InstRegWrite:
		return len(p) >= 2 && int(p[0])+len(p)-1 <= 256
	}
	return false
}

// status appends servo v's status packet, unless the servo is silent or a
// fault drops it. The caller holds s.mu.
func (s *Sim) status(out []byte, reps []reply, v *servo, id, extra byte, data []byte) ([]byte, []reply) {
	if v.silent {
		return out, reps
	}
	start := len(out)
	out = feetech.AppendFrame(out, id, v.errBits()|extra, data...)
	out = s.damage(out, start)
	if len(out) > start && reps != nil {
		reps = append(reps, reply{end: len(out), delay: returnDelay(v.mem[regReturnDelay.Addr()])})
	}
	return out, reps
}

// Advance runs the physics for dt of simulated time, in steps of at most
// 1 ms.
func (s *Sim) Advance(dt time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceTo(s.now + dt)
}

// advanceTo runs the physics up to t. The caller holds s.mu.
func (s *Sim) advanceTo(t time.Duration) {
	for s.now < t {
		dt := min(t-s.now, time.Millisecond)
		moved := false
		for _, v := range s.servos {
			if v.step(dt.Seconds()) {
				moved = true
			}
		}
		s.now += dt
		if moved && s.scene != nil {
			s.scene.SetJoints(s.jointsLocked())
		}
	}
}

// Now is the simulated time since New.
func (s *Sim) Now() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now
}

// Encoders returns the six servos' physical encoder positions (before
// Homing_Offset, 0..4095), in joint order.
func (s *Sim) Encoders() [NumServos]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var e [NumServos]int
	for i, v := range s.servos {
		e[i] = int(math.Round(v.pos)) % stepsPerTurn
	}
	return e
}

// SetEncoders moves the servos to physical positions e (joint order), as a
// hand moving the arm would: velocities drop to zero, goals stay, so a
// servo with torque on drives back to its goal, and one with torque off
// (during a calibration) stays where it was put. From another process:
// POST /encoders on the control server (ControlHandler, Remote).
func (s *Sim) SetEncoders(e [NumServos]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, v := range s.servos {
		v.pos, v.vel = wrapf(float64(e[i])), 0
	}
	if s.scene != nil {
		s.scene.SetJoints(s.jointsLocked())
	}
}

// Joints returns the arm's pose: the five joint angles in radians and the
// gripper opening in 0..1 (see JointAngle and GripperOpening).
func (s *Sim) Joints() (kin.Joints, float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.jointsLocked()
}

func (s *Sim) jointsLocked() (kin.Joints, float64) {
	var q kin.Joints
	for i := range q {
		q[i] = jointAngleF(s.servos[i].pos)
	}
	return q, GripperOpeningF(s.servos[NumServos-1].pos)
}

// PowerCycle switches the arm off and on: every servo reloads its EEPROM
// area as last saved (writes made with Lock = 1 are lost), its SRAM area
// from the factory table (torque off, Lock 0), and holds where it stands.
func (s *Sim) PowerCycle() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range s.servos {
		v.powerCycle()
	}
}

// Close stops every pseudo-terminal the simulator serves and refuses new
// ones; in-process ports fail from then on. It is idempotent.
func (s *Sim) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.ptyMu.Lock()
	ptys := make([]*PTY, 0, len(s.ptys))
	for p := range s.ptys {
		ptys = append(ptys, p)
	}
	s.ptys = nil // refuses new ones
	s.ptyMu.Unlock()
	var errs []error
	for _, p := range ptys {
		errs = append(errs, p.Close())
	}
	return errors.Join(errs...)
}

// Joint angle mapping, fixed for the simulator and its world: a joint's
// angle is zero at encoder 2048 (the calibration middle pose) and one turn
// is 4096 steps; the gripper is closed at 2048 and fully open (≈ 100°) at
// 2048 + 1138.
const (
	encoderCenter = stepsPerTurn / 2
	gripperSpan   = 1138
)

// JointAngle is the angle in radians of arm joint i (0 shoulder_pan ... 4
// wrist_roll) at physical encoder position encoder: (encoder − 2048) ·
// 2π/4096. Every joint maps alike; i names the joint so callers stay right
// if one day a joint turns the other way.
func JointAngle(i int, encoder int) float64 { return jointAngleF(float64(encoder)) }

// JointEncoder is the inverse of JointAngle, rounded to a step.
func JointEncoder(i int, q float64) int {
	return encoderCenter + int(math.Round(q*stepsPerTurn/(2*math.Pi)))
}

// GripperOpening is the gripper opening (0 closed, 1 fully open) at
// physical encoder position encoder: clamp((encoder − 2048)/1138, 0, 1).
func GripperOpening(encoder int) float64 { return GripperOpeningF(float64(encoder)) }

// GripperEncoder is the inverse of GripperOpening (opening clamped to
// 0..1), rounded to a step.
func GripperEncoder(opening float64) int { return int(math.Round(GripperEncoderF(opening))) }

// GripperOpeningF is GripperOpening of a fractional encoder position.
func GripperOpeningF(encoder float64) float64 {
	return math.Max(0, math.Min(1, (encoder-encoderCenter)/gripperSpan))
}

// GripperEncoderF is GripperEncoder without rounding.
func GripperEncoderF(opening float64) float64 {
	if math.IsNaN(opening) {
		opening = 0
	}
	return encoderCenter + math.Max(0, math.Min(1, opening))*gripperSpan
}

func jointAngleF(encoder float64) float64 {
	return (encoder - encoderCenter) * 2 * math.Pi / stepsPerTurn
}
