package sim

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pilotkit/pilot/robot/feetech"
	"github.com/pilotkit/pilot/robot/kin"
)

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string // part of the error
	}{
		{"five IDs", Options{IDs: []byte{1, 2, 3, 4, 5}}, "has 5 IDs"},
		{"twice the same ID", Options{IDs: []byte{1, 2, 3, 4, 5, 1}}, "ID 1 twice"},
		{"ID above 252", Options{IDs: []byte{1, 2, 3, 4, 5, 253}}, "above the highest"},
		{"odd baud", Options{Baud: 9600}, "not a Feetech bus speed"},
		{"negative drop rate", Options{Faults: Faults{DropRate: -0.1}}, "DropRate"},
		{"corrupt rate above 1", Options{Faults: Faults{CorruptRate: 1.5}}, "CorruptRate"},
		{"NaN drop rate", Options{Faults: Faults{DropRate: math.NaN()}}, "DropRate"},
		{"overheat of nobody", Options{Faults: Faults{Overheat: 9}}, "Overheat = 9"},
		{"silent nobody", Options{Faults: Faults{Silent: 7}}, "Silent = 7"},
		{"keep torque of nobody", Options{Faults: Faults{KeepTorque: []byte{2, 8}}}, "KeepTorque has ID 8"},
		{"negative keep-torque count", Options{Faults: Faults{KeepTorque: []byte{2}, KeepTorqueTimes: -1}}, "KeepTorqueTimes = -1"},
		{"jam nobody", Options{Faults: Faults{Jammed: []byte{9}}}, "Jammed has ID 9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New(%+v) = %v, %v, want an error containing %q", tt.opts, s, err, tt.want)
			}
		})
	}
	for _, opts := range []Options{{}, {IDs: []byte{11, 12, 13, 14, 15, 16}, Baud: 115_200, Faults: Faults{Silent: 12, Overheat: 16, DropRate: 1}}} {
		if _, err := New(opts); err != nil {
			t.Errorf("New(%+v) = %v, want no error", opts, err)
		}
	}
	// ID 0 is a servo ID; Faults' 0 means none.
	s, err := New(Options{IDs: []byte{0, 1, 2, 3, 4, 5}})
	if err != nil {
		t.Fatalf("New with ID 0: %v", err)
	}
	if out := s.Handle(feetech.AppendFrame(nil, 0, feetech.InstPing), 0); len(out) != feetech.MinStatusLen {
		t.Errorf("ping of servo 0 = % X, want a status", out)
	}
}

func TestMapping(t *testing.T) {
	tests := []struct {
		enc  int
		want float64
	}{
		{2048, 0},
		{3072, math.Pi / 2},
		{1024, -math.Pi / 2},
		{0, -math.Pi},
	}
	for _, tt := range tests {
		for i := range 5 {
			if got := JointAngle(i, tt.enc); math.Abs(got-tt.want) > 1e-12 {
				t.Errorf("JointAngle(%d, %d) = %v, want %v", i, tt.enc, got, tt.want)
			}
			if got := JointEncoder(i, tt.want); got != tt.enc {
				t.Errorf("JointEncoder(%d, %v) = %d, want %d", i, tt.want, got, tt.enc)
			}
		}
	}
	grip := []struct {
		enc  int
		want float64
	}{
		{2048, 0}, {2048 + 569, 0.5}, {3186, 1}, {1000, 0}, {4000, 1},
	}
	for _, tt := range grip {
		if got := GripperOpening(tt.enc); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("GripperOpening(%d) = %v, want %v", tt.enc, got, tt.want)
		}
	}
	for _, o := range []float64{0, 0.25, 0.5, 1} {
		if got := GripperOpening(GripperEncoder(o)); math.Abs(got-o) > 1.0/gripperSpan {
			t.Errorf("GripperOpening(GripperEncoder(%v)) = %v", o, got)
		}
	}
	if got := GripperEncoder(2); got != 2048+gripperSpan {
		t.Errorf("GripperEncoder(2) = %d, want %d (clamped)", got, 2048+gripperSpan)
	}
}

// rig drives a Sim in-process with raw frames.
type rig struct {
	t *testing.T
	s *Sim
}

func newRig(t *testing.T, opts Options) *rig {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return &rig{t: t, s: s}
}

func (r *rig) write(id byte, name feetech.Register, v int) {
	r.t.Helper()
	reg := name
	data, err := reg.Encode(v)
	if err != nil {
		r.t.Fatalf("encode %s: %v", name, err)
	}
	r.s.Handle(feetech.AppendFrame(nil, id, feetech.InstWrite, append([]byte{reg.Addr()}, data...)...), r.s.Now())
}

// read returns register name of id and the status bits.
func (r *rig) read(id byte, name feetech.Register) (int, byte) {
	r.t.Helper()
	reg := name
	out := r.s.Handle(feetech.AppendFrame(nil, id, feetech.InstRead, reg.Addr(), byte(reg.Size())), r.s.Now())
	f, _, err := feetech.ScanFrame(out, feetech.StatusKind)
	if err != nil {
		r.t.Fatalf("read %s of %d: answer % X: %v", name, id, out, err)
	}
	return reg.Decode(f.Params), f.Code
}

func (r *rig) get(id byte, name feetech.Register) int {
	r.t.Helper()
	v, _ := r.read(id, name)
	return v
}

func TestAcceleration(t *testing.T) {
	r := newRig(t, Options{})
	r.write(1, feetech.Acceleration, 10) // 1000 steps/s²
	r.write(1, feetech.GoalPosition, 4000)
	r.write(1, feetech.TorqueEnable, 1)
	r.s.Advance(100 * time.Millisecond)
	if v := r.get(1, feetech.PresentVelocity); math.Abs(float64(v-100)) > 1 {
		t.Errorf("Present_Velocity after 100 ms at 1000 steps/s² = %d, want 100", v)
	}
	if p := r.get(1, feetech.PresentPosition); math.Abs(float64(p-2048-5)) > 1 {
		t.Errorf("Present_Position after 100 ms at 1000 steps/s² = %d, want 2048 + 5", p)
	}
	// It brakes: it never passes the goal and arrives at rest.
	for range 100 {
		r.s.Advance(50 * time.Millisecond)
		if p := r.get(1, feetech.PresentPosition); p > 4000 {
			t.Fatalf("Present_Position = %d passed the goal 4000", p)
		}
	}
	if p, v := r.get(1, feetech.PresentPosition), r.get(1, feetech.PresentVelocity); p != 4000 || v != 0 {
		t.Errorf("after 5 s: position %d velocity %d, want 4000 and 0", p, v)
	}
}

func TestPositionLimits(t *testing.T) {
	r := newRig(t, Options{})
	r.write(2, feetech.MaxPositionLimit, 2500)
	r.write(2, feetech.MinPositionLimit, 1500)
	r.write(2, feetech.GoalPosition, 4000)
	r.write(2, feetech.TorqueEnable, 1)
	r.s.Advance(2 * time.Second)
	if p := r.get(2, feetech.PresentPosition); p != 2500 {
		t.Errorf("Present_Position with goal 4000 beyond Max_Position_Limit 2500 = %d, want 2500", p)
	}
	r.write(2, feetech.GoalPosition, -300)
	r.s.Advance(2 * time.Second)
	if p := r.get(2, feetech.PresentPosition); p != 1500 {
		t.Errorf("Present_Position with goal -300 below Min_Position_Limit 1500 = %d, want 1500", p)
	}
}

func TestVelocityMode(t *testing.T) {
	r := newRig(t, Options{})
	r.write(5, feetech.OperatingMode, 1)
	r.write(5, feetech.GoalVelocity, -500)
	r.write(5, feetech.TorqueEnable, 1)
	r.s.Advance(5 * time.Second) // 2500 steps back: wraps past 0
	if p := r.get(5, feetech.PresentPosition); p != (2048-2500+4096)%4096 {
		t.Errorf("Present_Position after 5 s at -500 steps/s = %d, want %d", p, (2048-2500+4096)%4096)
	}
	if v := r.get(5, feetech.PresentVelocity); v != -500 {
		t.Errorf("Present_Velocity = %d, want -500", v)
	}
}

func TestCalibrateMiddle(t *testing.T) {
	r := newRig(t, Options{})
	r.s.SetEncoders([6]int{2048, 2500, 2048, 2048, 2048, 2048})
	r.write(2, feetech.TorqueEnable, 128)
	if off := r.get(2, feetech.HomingOffset); off != 452 {
		t.Errorf("Homing_Offset after Torque_Enable 128 at 2500 = %d, want 452", off)
	}
	if p := r.get(2, feetech.PresentPosition); p != 2048 {
		t.Errorf("Present_Position after Torque_Enable 128 = %d, want 2048", p)
	}
	if te := r.get(2, feetech.TorqueEnable); te != 0 {
		t.Errorf("Torque_Enable after 128 = %d, want 0", te)
	}
}

func TestBaudChangeSilences(t *testing.T) {
	r := newRig(t, Options{})
	r.write(4, feetech.BaudRate, 4) // 115200: no longer hears the 1 Mbaud bus
	if out := r.s.Handle(feetech.AppendFrame(nil, 4, feetech.InstPing), r.s.Now()); out != nil {
		t.Errorf("ping 4 after its baud changed = % X, want no answer", out)
	}
	r.s.PowerCycle() // the change was saved (Lock 0)
	if out := r.s.Handle(feetech.AppendFrame(nil, 4, feetech.InstPing), r.s.Now()); out != nil {
		t.Errorf("ping 4 after a power cycle = % X, want no answer", out)
	}
	r.write(4, feetech.BaudRate, 9) // no such code: refused
	if b := r.get(3, feetech.BaudRate); b != 0 {
		t.Errorf("Baud_Rate of 3 = %d, want 0", b)
	}
}

func TestIDChange(t *testing.T) {
	r := newRig(t, Options{})
	r.write(6, feetech.ID, 9)
	if id := r.get(9, feetech.ID); id != 9 {
		t.Errorf("ID read from 9 = %d", id)
	}
	if out := r.s.Handle(feetech.AppendFrame(nil, 6, feetech.InstPing), r.s.Now()); out != nil {
		t.Errorf("ping 6 after the ID became 9 = % X, want no answer", out)
	}
	r.write(9, feetech.ID, 254) // the broadcast ID is refused
	if id := r.get(9, feetech.ID); id != 9 {
		t.Errorf("ID after writing 254 = %d, want 9", id)
	}
}

func TestReadOnlyRegisters(t *testing.T) {
	r := newRig(t, Options{})
	r.write(1, feetech.Model, 1)
	r.write(1, feetech.PresentPosition, 100)
	if m, p := r.get(1, feetech.Model), r.get(1, feetech.PresentPosition); m != 777 || p != 2048 {
		t.Errorf("Model, Present_Position after writing them = %d, %d, want 777, 2048", m, p)
	}
}

func TestVoltageBit(t *testing.T) {
	r := newRig(t, Options{})
	r.write(1, feetech.MaxVoltage, 110)
	if _, bits := r.read(1, feetech.PresentVoltage); bits != feetech.BitVoltage {
		t.Errorf("status with Present_Voltage 120 > Max_Voltage 110 = 0x%02X, want 0x%02X", bits, feetech.BitVoltage)
	}
	r.write(1, feetech.MaxVoltage, 140)
	r.write(1, feetech.MinVoltage, 125)
	if _, bits := r.read(1, feetech.PresentVoltage); bits != feetech.BitVoltage {
		t.Errorf("status with Present_Voltage 120 < Min_Voltage 125 = 0x%02X, want 0x%02X", bits, feetech.BitVoltage)
	}
}

// openGripper opens the gripper fully by hand, the joints in the middle.
func openGripper(s *Sim) {
	s.SetEncoders([NumServos]int{2048, 2048, 2048, 2048, 2048, 2048 + gripperSpan})
}

// fakeScene stands in for the world: it records the pose and blocks the
// gripper below limit.
type fakeScene struct {
	mu      sync.Mutex
	limit   float64
	blocked bool
	q       kin.Joints
	grip    float64
	calls   int
}

func (f *fakeScene) SetJoints(q kin.Joints, gripper float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.q, f.grip = q, gripper
	f.calls++
}

func (f *fakeScene) GripperLimit() (float64, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.limit, f.blocked
}

func (f *fakeScene) pose() (kin.Joints, float64, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.q, f.grip, f.calls
}

func TestSceneGetsPose(t *testing.T) {
	r := newRig(t, Options{})
	sc := &fakeScene{}
	r.s.setScene(sc)
	r.write(1, feetech.GoalPosition, 3072)
	r.write(1, feetech.TorqueEnable, 1)
	r.write(6, feetech.GoalPosition, 3186)
	r.write(6, feetech.TorqueEnable, 1)
	r.s.Advance(2 * time.Second)
	q, grip, calls := sc.pose()
	if math.Abs(q[0]-math.Pi/2) > 1e-9 || grip != 1 {
		t.Errorf("scene pose = %v, gripper %v, want q[0] = π/2, gripper 1", q, grip)
	}
	wq, wg := r.s.Joints()
	if wq != q || wg != grip {
		t.Errorf("Joints() = %v, %v; the scene has %v, %v", wq, wg, q, grip)
	}
	r.s.Advance(time.Second)
	if _, _, c := sc.pose(); c != calls {
		t.Errorf("scene called %d more times while the arm stood still, want 0", c-calls)
	}
}

// TestOverload: the gripper squeezes a cube at full torque; after
// Protection_Time (2 s) above Overload_Torque (80 %) it reports overload
// and lets go (torque off), and torque on clears the bit.
func TestOverload(t *testing.T) {
	r := newRig(t, Options{})
	openGripper(r.s)
	sc := &fakeScene{limit: 0.4, blocked: true}
	r.s.setScene(sc)
	r.write(6, feetech.GoalPosition, 2048)
	r.write(6, feetech.TorqueEnable, 1)
	r.s.Advance(500 * time.Millisecond)
	load, bits := r.read(6, feetech.PresentLoad)
	if load != -1000 || bits != 0 {
		t.Errorf("gripper on the cube: Present_Load %d, status 0x%02X, want -1000 and 0", load, bits)
	}
	if p := r.s.Encoders()[5]; p != GripperEncoder(0.4) {
		t.Errorf("gripper encoder = %d, want the cube's %d", p, GripperEncoder(0.4))
	}
	if m := r.get(6, feetech.Moving); m != 1 {
		t.Errorf("Moving while stalled = %d, want 1", m)
	}
	if c := r.get(6, feetech.PresentCurrent); c < 300 {
		t.Errorf("Present_Current while stalled = %d, want a high current", c)
	}
	r.s.Advance(2 * time.Second)
	if _, bits := r.read(6, feetech.PresentLoad); bits&feetech.BitOverload == 0 {
		t.Errorf("status after 2.5 s of full load = 0x%02X, want the overload bit", bits)
	}
	if te := r.get(6, feetech.TorqueEnable); te != 0 {
		t.Errorf("Torque_Enable after overload = %d, want 0", te)
	}
	if l := r.get(6, feetech.PresentLoad); l != 0 {
		t.Errorf("Present_Load with torque cut = %d, want 0", l)
	}
	// The cube is gone; torque back on clears the latch and the gripper closes.
	sc.mu.Lock()
	sc.blocked = false
	sc.mu.Unlock()
	r.write(6, feetech.TorqueEnable, 1)
	r.s.Advance(time.Second)
	if _, bits := r.read(6, feetech.PresentPosition); bits != 0 {
		t.Errorf("status after torque on again = 0x%02X, want 0", bits)
	}
	if p := r.s.Encoders()[5]; p != 2048 {
		t.Errorf("gripper encoder without the cube = %d, want 2048", p)
	}
}

func TestTemperature(t *testing.T) {
	r := newRig(t, Options{})
	openGripper(r.s)
	r.s.setScene(&fakeScene{limit: 0.4, blocked: true})
	r.write(6, feetech.OverloadTorque, 100) // never trips
	r.write(6, feetech.GoalPosition, 2048)
	r.write(6, feetech.TorqueEnable, 1)
	r.write(1, feetech.TorqueEnable, 1) // holds, no load
	r.s.Advance(60 * time.Second)
	hot, cool := r.get(6, feetech.PresentTemperature), r.get(1, feetech.PresentTemperature)
	if hot < 50 || hot >= 70 {
		t.Errorf("gripper temperature after 60 s at full load = %d °C, want 50..69", hot)
	}
	if cool > 32 {
		t.Errorf("idle servo temperature after 60 s = %d °C, want about 30", cool)
	}
	r.write(6, feetech.TorqueEnable, 0)
	r.s.Advance(600 * time.Second)
	if got := r.get(6, feetech.PresentTemperature); got >= hot-15 {
		t.Errorf("gripper temperature 10 min after torque off = %d °C, want it cooled from %d", got, hot)
	}
}

func TestOverheatFaultFromLoad(t *testing.T) {
	r := newRig(t, Options{Faults: Faults{Overheat: 6}})
	openGripper(r.s)
	r.s.setScene(&fakeScene{limit: 0.4, blocked: true})
	r.write(6, feetech.OverloadTorque, 100)
	r.write(6, feetech.GoalPosition, 2048)
	r.write(6, feetech.TorqueEnable, 1)
	var at time.Duration
	for at = 0; at < time.Minute; at += 100 * time.Millisecond {
		r.s.Advance(100 * time.Millisecond)
		if _, bits := r.read(6, feetech.PresentTemperature); bits&feetech.BitOverheat != 0 {
			break
		}
	}
	if at < 3*time.Second || at > 15*time.Second {
		t.Errorf("Faults.Overheat servo reached the overheat bit after %v at full load, want within 3..15 s", at)
	}
	if te := r.get(6, feetech.TorqueEnable); te != 0 {
		t.Errorf("Torque_Enable after overheat = %d, want 0", te)
	}
}

// script is a fixed sequence of control cycles: sync read, sync write of a
// moving goal, a 20 ms sleep. It returns every answer byte.
func script(t *testing.T, s *Sim) []byte {
	t.Helper()
	p, clk := s.Port(), s.Clock()
	var all []byte
	buf := make([]byte, 256)
	p.Write(syncWriteFrame(t, regTorqueEnable, armIDs, []int{1, 1, 1, 1, 1, 1}))
	for i := range 100 {
		g := 2048 + int(800*math.Sin(float64(i)/10))
		if _, err := p.Write(syncReadFrame(regPosition, armIDs)); err != nil {
			t.Fatalf("write: %v", err)
		}
		for {
			n, err := p.Read(buf)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if n == 0 {
				break
			}
			all = append(all, buf[:n]...)
		}
		p.Write(syncWriteFrame(t, regGoal, armIDs, []int{g, g, g, g, g, g}))
		if err := clk.Sleep(context.Background(), 20*time.Millisecond); err != nil {
			t.Fatalf("Sleep: %v", err)
		}
	}
	return all
}

func TestDeterministic(t *testing.T) {
	run := func(seed int64) []byte {
		s, err := New(Options{Seed: seed, Faults: Faults{DropRate: 0.2, CorruptRate: 0.05}})
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		return script(t, s)
	}
	a, b, c := run(1), run(1), run(2)
	if !slices.Equal(a, b) {
		t.Errorf("two runs with seed 1 answered differently (%d and %d bytes)", len(a), len(b))
	}
	if slices.Equal(a, c) {
		t.Errorf("seeds 1 and 2 answered alike: the faults ignore the seed")
	}
	// Without faults the trajectory is the same whatever the seed, and moves.
	s1, _ := New(Options{Seed: 1})
	s2, _ := New(Options{Seed: 99})
	t1, t2 := script(t, s1), script(t, s2)
	if !slices.Equal(t1, t2) {
		t.Errorf("fault-free runs differ between seeds")
	}
	if e := s1.Encoders(); e[0] == 2048 {
		t.Errorf("encoders after the script = %v: the arm did not move", e)
	}
}

func TestPortAfterClose(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	p := s.Port()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := p.Write(feetech.AppendFrame(nil, 1, feetech.InstPing)); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Sim.Close = %v, want ErrClosed", err)
	}
	if _, err := p.Read(make([]byte, 8)); !errors.Is(err, ErrClosed) {
		t.Errorf("Read after Sim.Close = %v, want ErrClosed", err)
	}
	if _, err := s.ServePTY(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("ServePTY after Sim.Close = %v, want ErrClosed", err)
	}
}

func TestPortPiecesAndReset(t *testing.T) {
	s, _ := New(Options{})
	p := s.Port()
	req := feetech.AppendFrame(nil, 2, feetech.InstPing)
	for _, b := range req { // one byte at a time
		if _, err := p.Write([]byte{b}); err != nil {
			t.Fatalf("Write: %v", err)
		}
	}
	buf := make([]byte, 3)
	var got []byte
	for {
		n, _ := p.Read(buf)
		if n == 0 {
			break
		}
		got = append(got, buf[:n]...)
	}
	if want := feetech.AppendFrame(nil, 2, 0); !slices.Equal(got, want) {
		t.Errorf("answer to a ping written byte by byte = % X, want % X", got, want)
	}
	p.Write(req)
	p.ResetInputBuffer()
	if n, err := p.Read(buf); n != 0 || err != nil {
		t.Errorf("Read after ResetInputBuffer = %d, %v, want 0, nil", n, err)
	}
}

func TestClockSleepCancelled(t *testing.T) {
	s, _ := New(Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Clock().Sleep(ctx, time.Second); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep on a cancelled context = %v, want context.Canceled", err)
	}
	if now := s.Clock().Now(); now != 0 {
		t.Errorf("Now after a cancelled Sleep = %v, want 0", now)
	}
	s.Clock().Sleep(context.Background(), 1500*time.Microsecond)
	if now := s.Now(); now != 1500*time.Microsecond {
		t.Errorf("Now after Sleep(1.5 ms) = %v", now)
	}
}

// The world of world.go is the scene the simulator drives.
var _ scene = (*World)(nil)
