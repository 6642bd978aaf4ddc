package sim

import (
	"errors"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/pilotkit/pilot/robot/feetech"
)

// Each protocol test runs over a real pseudo-terminal and in-process.
func forEachTransport(t *testing.T, opts Options, test func(t *testing.T, s *Sim, c *client)) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			t.Parallel()
			s, err := New(opts)
			if err != nil {
				t.Fatalf("New(%+v): %v", opts, err)
			}
			t.Cleanup(func() { s.Close() })
			test(t, s, tr.open(t, s))
		})
	}
}

var armIDs = DefaultIDs()

func TestPing(t *testing.T) {
	forEachTransport(t, Options{}, func(t *testing.T, s *Sim, c *client) {
		for _, id := range armIDs {
			f := c.ping(id)
			if f.Code != 0 || len(f.Params) != 0 {
				t.Errorf("ping %d = ERR 0x%02X params % X, want ERR 0 and no params", id, f.Code, f.Params)
			}
		}
		// Nobody has ID 7; a broadcast ping gets no answer.
		c.silent(feetech.AppendFrame(nil, 7, feetech.InstPing), 1)
		c.silent(feetech.AppendFrame(nil, feetech.BroadcastID, feetech.InstPing), 2)
	})
}

func TestPingBytes(t *testing.T) {
	// FEETECH.md's vectors, byte for byte.
	forEachTransport(t, Options{}, func(t *testing.T, s *Sim, c *client) {
		tests := []struct {
			req, want []byte
		}{
			{[]byte{0xFF, 0xFF, 0x01, 0x02, 0x01, 0xFB}, []byte{0xFF, 0xFF, 0x01, 0x02, 0x00, 0xFC}},
			{[]byte{0xFF, 0xFF, 0x01, 0x04, 0x02, 0x38, 0x02, 0xBE}, []byte{0xFF, 0xFF, 0x01, 0x04, 0x00, 0x00, 0x08, 0xF2}},
		}
		for _, tt := range tests {
			fs, err := c.exchange(tt.req, 1)
			if err != nil {
				t.Fatalf("exchange(% X): %v", tt.req, err)
			}
			if got := fs[0].Encode(); !slices.Equal(got, tt.want) {
				t.Errorf("answer to % X = % X, want % X", tt.req, got, tt.want)
			}
		}
	})
}

func TestReadDefaults(t *testing.T) {
	forEachTransport(t, Options{}, func(t *testing.T, s *Sim, c *client) {
		tests := []struct {
			id   byte
			name feetech.Register
			want int
		}{
			{1, feetech.Model, feetech.ModelSTS3215},
			{6, feetech.Model, feetech.ModelSTS3215},
			{3, feetech.ID, 3},
			{1, feetech.BaudRate, 0},
			{1, feetech.ReturnDelayTime, 0},
			{2, feetech.MinPositionLimit, 0},
			{2, feetech.MaxPositionLimit, 4095},
			{1, feetech.MaxTemperature, 70},
			{1, feetech.MaxTorqueLimit, 1000},
			{1, feetech.TorqueLimit, 1000},
			{1, feetech.HomingOffset, 0},
			{1, feetech.OperatingMode, 0},
			{1, feetech.TorqueEnable, 0},
			{1, feetech.PresentVoltage, 120},
			{1, feetech.PresentTemperature, 30},
			{1, feetech.PresentPosition, 2048},
			{1, feetech.GoalPosition, 2048},
			{6, feetech.PresentPosition, GripperEncoder(initialGripper)},
			{1, feetech.Moving, 0},
		}
		for _, tt := range tests {
			if got := c.get(tt.id, tt.name); got != tt.want {
				t.Errorf("read %s of %d = %d, want %d", tt.name, tt.id, got, tt.want)
			}
		}
	})
}

func TestWriteGoalTorqueOff(t *testing.T) {
	forEachTransport(t, Options{}, func(t *testing.T, s *Sim, c *client) {
		c.set(2, feetech.GoalPosition, 3000)
		if got := c.get(2, feetech.GoalPosition); got != 3000 {
			t.Errorf("Goal_Position of 2 = %d after writing 3000", got)
		}
		c.pass(200 * time.Millisecond)
		if got := c.get(2, feetech.PresentPosition); got != 2048 {
			t.Errorf("Present_Position of 2 with torque off = %d, want 2048 (it must not move)", got)
		}
	})
}

func TestMoveAtLimitedSpeed(t *testing.T) {
	const speed, dist = 1000, 800
	forEachTransport(t, Options{}, func(t *testing.T, s *Sim, c *client) {
		c.set(1, feetech.GoalVelocity, speed)
		c.set(1, feetech.GoalPosition, 2048+dist)
		t0 := c.now()
		c.set(1, feetech.TorqueEnable, 1)
		sawMoving := false
		c.eventually(20*time.Second, "reaching the goal", func() bool {
			pos := c.get(1, feetech.PresentPosition)
			// It cannot have gone faster than the speed limit since t0.
			if bound := 2048 + speed*(c.now()-t0).Seconds() + 2; float64(pos) > bound {
				t.Fatalf("Present_Position = %d at %v after torque on, beyond %v at %d steps/s", pos, c.now()-t0, bound, speed)
			}
			if pos > 2048 && pos < 2048+dist {
				sawMoving = sawMoving || c.get(1, feetech.Moving) == 1
			}
			// Settled: at the goal with no speed left (the position can
			// round to the goal a physics step before the speed is 0).
			return pos == 2048+dist && c.get(1, feetech.PresentVelocity) == 0
		})
		if !sawMoving {
			t.Errorf("Moving never read 1 on the way")
		}
		if got := c.get(1, feetech.PresentVelocity); got != 0 {
			t.Errorf("Present_Velocity at the goal = %d, want 0", got)
		}
		if got := c.get(1, feetech.Moving); got != 0 {
			t.Errorf("Moving at the goal = %d, want 0", got)
		}
		// Torque off: it stays.
		c.set(1, feetech.TorqueEnable, 0)
		c.set(1, feetech.GoalPosition, 2048)
		c.pass(100 * time.Millisecond)
		if got := c.get(1, feetech.PresentPosition); got != 2048+dist {
			t.Errorf("Present_Position with torque off = %d, want %d", got, 2048+dist)
		}
	})
}

func TestSyncReadWrite(t *testing.T) {
	forEachTransport(t, Options{}, func(t *testing.T, s *Sim, c *client) {
		// FEETECH.md's sync read of ids 1..6.
		req := []byte{0xFF, 0xFF, 0xFE, 0x0A, 0x82, 0x38, 0x02, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x26}
		if got := syncReadFrame(regPosition, armIDs); !slices.Equal(got, req) {
			t.Fatalf("syncReadFrame = % X, want % X", got, req)
		}
		fs, err := c.exchange(req, 6)
		if err != nil {
			t.Fatalf("sync read: %v", err)
		}
		for i, f := range fs {
			want := 2048
			if i == 5 {
				want = GripperEncoder(initialGripper)
			}
			if f.ID != armIDs[i] || regPosition.Decode(f.Params) != want {
				t.Errorf("sync read status %d = ID %d position %d, want ID %d position %d", i, f.ID, regPosition.Decode(f.Params), armIDs[i], want)
			}
		}
		// Listed order, absent IDs skipped.
		fs, err = c.exchange(syncReadFrame(regID, []byte{5, 9, 2}), 2)
		if err != nil {
			t.Fatalf("sync read 5, 9, 2: %v", err)
		}
		if fs[0].ID != 5 || fs[1].ID != 2 || fs[0].Params[0] != 5 || fs[1].Params[0] != 2 {
			t.Errorf("sync read 5, 9, 2 = %v, want IDs 5 then 2", fs)
		}

		goals := []int{1000, 1100, 1200, 1300, 1400, 2500}
		c.silent(syncWriteFrame(t, regGoal, armIDs, goals), 1)
		fs, err = c.exchange(syncReadFrame(regGoal, armIDs), 6)
		if err != nil {
			t.Fatalf("sync read goals: %v", err)
		}
		for i, f := range fs {
			if got := regGoal.Decode(f.Params); got != goals[i] {
				t.Errorf("Goal_Position of %d = %d after sync write, want %d", f.ID, got, goals[i])
			}
		}
		// FEETECH.md's sync write vector sets 1 and 2.
		c.silent([]byte{0xFF, 0xFF, 0xFE, 0x0A, 0x83, 0x2A, 0x02, 0x01, 0x00, 0x08, 0x02, 0x00, 0x04, 0x39}, 3)
		if g1, g2 := c.get(1, feetech.GoalPosition), c.get(2, feetech.GoalPosition); g1 != 2048 || g2 != 1024 {
			t.Errorf("goals after the vector sync write = %d, %d, want 2048, 1024", g1, g2)
		}
	})
}

func TestHomingOffset(t *testing.T) {
	forEachTransport(t, Options{}, func(t *testing.T, s *Sim, c *client) {
		tests := []struct {
			offset, want int
		}{
			{100, 1948},
			{-100, 2148},
			{2047, 1},
			{-2047, 4095}, // 2048 + 2047 wraps
			{0, 2048},
		}
		for _, tt := range tests {
			c.set(2, feetech.HomingOffset, tt.offset)
			if got := c.get(2, feetech.PresentPosition); got != tt.want {
				t.Errorf("Present_Position with Homing_Offset %d = %d, want %d", tt.offset, got, tt.want)
			}
		}
		// Goals are in the offset frame too: with offset 100, goal 1948+50
		// moves the encoder to 2048+50.
		c.set(2, feetech.HomingOffset, 100)
		c.set(2, feetech.GoalPosition, 1998)
		c.set(2, feetech.TorqueEnable, 1)
		c.eventually(10*time.Second, "reaching goal 1998", func() bool { return c.get(2, feetech.PresentPosition) == 1998 })
		if got := s.Encoders()[1]; got != 2098 {
			t.Errorf("encoder of 2 = %d, want 2098", got)
		}
	})
}

func TestEEPROMLock(t *testing.T) {
	forEachTransport(t, Options{}, func(t *testing.T, s *Sim, c *client) {
		// Lock = 1: the write takes effect but is lost at power-off.
		c.set(3, feetech.Lock, 1)
		c.set(3, feetech.MaxPositionLimit, 3000)
		if got := c.get(3, feetech.MaxPositionLimit); got != 3000 {
			t.Errorf("Max_Position_Limit with Lock 1 = %d after writing 3000, want 3000 until power-off", got)
		}
		s.PowerCycle()
		if got := c.get(3, feetech.MaxPositionLimit); got != 4095 {
			t.Errorf("Max_Position_Limit after power cycle = %d, want 4095 (written under Lock 1)", got)
		}
		if got := c.get(3, feetech.Lock); got != 0 {
			t.Errorf("Lock after power cycle = %d, want 0", got)
		}
		// Lock = 0: it is kept.
		c.set(3, feetech.MaxPositionLimit, 3000)
		c.set(3, feetech.HomingOffset, -5)
		s.PowerCycle()
		if got := c.get(3, feetech.MaxPositionLimit); got != 3000 {
			t.Errorf("Max_Position_Limit after power cycle = %d, want 3000 (written under Lock 0)", got)
		}
		if got := c.get(3, feetech.HomingOffset); got != -5 {
			t.Errorf("Homing_Offset after power cycle = %d, want -5", got)
		}
	})
}

func TestReset(t *testing.T) {
	forEachTransport(t, Options{}, func(t *testing.T, s *Sim, c *client) {
		c.set(4, feetech.MaxTemperature, 55)
		c.set(4, feetech.HomingOffset, 300)
		c.set(4, feetech.GoalPosition, 2048-300) // hold where it is
		c.set(4, feetech.TorqueEnable, 1)
		f := c.one(feetech.AppendFrame(nil, 4, feetech.InstReset), 4)
		if f.Code != 0 {
			t.Errorf("RESET status = 0x%02X, want 0", f.Code)
		}
		for _, tt := range []struct {
			name feetech.Register
			want int
		}{{feetech.MaxTemperature, 70}, {feetech.HomingOffset, 0}, {feetech.TorqueEnable, 0}, {feetech.ID, 4}, {feetech.PresentPosition, 2048}} {
			if got := c.get(4, tt.name); got != tt.want {
				t.Errorf("%s after RESET = %d, want %d", tt.name, got, tt.want)
			}
		}
		s.PowerCycle()
		if got := c.get(4, feetech.MaxTemperature); got != 70 {
			t.Errorf("Max_Temperature after RESET and power cycle = %d, want 70", got)
		}
	})
}

func TestRegWriteAction(t *testing.T) {
	forEachTransport(t, Options{}, func(t *testing.T, s *Sim, c *client) {
		for _, id := range []byte{1, 2} {
			f := c.one(feetech.AppendFrame(nil, id, feetech.InstRegWrite, regGoal.Addr(), 0x00, 0x0C), id) // 3072
			if f.Code != 0 {
				t.Errorf("REG_WRITE status of %d = 0x%02X, want 0", id, f.Code)
			}
		}
		if got := c.get(1, feetech.GoalPosition); got != 2048 {
			t.Errorf("Goal_Position before ACTION = %d, want 2048", got)
		}
		c.silent(feetech.AppendFrame(nil, feetech.BroadcastID, feetech.InstAction), 3)
		for _, id := range []byte{1, 2} {
			if got := c.get(id, feetech.GoalPosition); got != 3072 {
				t.Errorf("Goal_Position of %d after ACTION = %d, want 3072", id, got)
			}
		}
	})
}

func TestBroadcastWriteAndStatusLevel(t *testing.T) {
	forEachTransport(t, Options{}, func(t *testing.T, s *Sim, c *client) {
		c.silent(feetech.AppendFrame(nil, feetech.BroadcastID, feetech.InstWrite, regAccel.Addr(), 20), 1)
		for _, id := range armIDs {
			if got := c.get(id, feetech.Acceleration); got != 20 {
				t.Errorf("Acceleration of %d after broadcast write = %d, want 20", id, got)
			}
		}
		// Response_Status_Level 0: writes are not answered, reads are.
		c.set(5, feetech.Lock, 0)
		c.silent(feetech.AppendFrame(nil, 5, feetech.InstWrite, addrResponseLevel, 0), 1)
		c.silent(feetech.AppendFrame(nil, 5, feetech.InstWrite, regGoal.Addr(), 0x00, 0x09), 1)
		if got := c.get(5, feetech.GoalPosition); got != 2304 {
			t.Errorf("Goal_Position of 5 = %d, want 2304", got)
		}
	})
}

func TestMalformed(t *testing.T) {
	forEachTransport(t, Options{}, func(t *testing.T, s *Sim, c *client) {
		tests := []struct {
			name string
			req  []byte
		}{
			{"read without length", feetech.AppendFrame(nil, 1, feetech.InstRead, 56)},
			{"read past the table", feetech.AppendFrame(nil, 1, feetech.InstRead, 250, 10)},
			{"read of 0 bytes", feetech.AppendFrame(nil, 1, feetech.InstRead, 56, 0)},
			{"write without data", feetech.AppendFrame(nil, 1, feetech.InstWrite, 42)},
			{"ping with params", feetech.AppendFrame(nil, 1, feetech.InstPing, 1)},
			{"unknown instruction", feetech.AppendFrame(nil, 1, 0x42)},
		}
		for _, tt := range tests {
			f := c.one(tt.req, 1)
			if f.Code != bitInstruction || len(f.Params) != 0 {
				t.Errorf("%s (% X) = ERR 0x%02X params % X, want ERR 0x%02X and no data", tt.name, tt.req, f.Code, f.Params, bitInstruction)
			}
		}
		// Garbage and a bad checksum are skipped; a good frame after is answered.
		bad := feetech.AppendFrame(nil, 1, feetech.InstPing)
		bad[len(bad)-1] ^= 0x55
		c.silent(append([]byte{0x00, 0x13, 0xFF}, bad...), 2)
		// A malformed sync read or sync write gets nothing and changes nothing.
		c.silent(feetech.AppendFrame(nil, feetech.BroadcastID, feetech.InstSyncWrite, regGoal.Addr(), 2, 1, 0x00), 3)
		c.silent(feetech.AppendFrame(nil, feetech.BroadcastID, feetech.InstSyncRead, 250, 10, 1), 3)
		if got := c.get(1, feetech.GoalPosition); got != 2048 {
			t.Errorf("Goal_Position of 1 after a malformed sync write = %d, want 2048", got)
		}
	})
}

func TestFaultSilent(t *testing.T) {
	forEachTransport(t, Options{Faults: Faults{Silent: 3}}, func(t *testing.T, s *Sim, c *client) {
		c.silent(feetech.AppendFrame(nil, 3, feetech.InstPing), 1)
		fs, err := c.exchange(syncReadFrame(regID, armIDs), 5)
		if err != nil {
			t.Fatalf("sync read with a silent servo: %v", err)
		}
		var ids []byte
		for _, f := range fs {
			ids = append(ids, f.ID)
		}
		if want := []byte{1, 2, 4, 5, 6}; !slices.Equal(ids, want) {
			t.Errorf("sync read answered by %v, want %v", ids, want)
		}
		// Its writes still work.
		c.silent(feetech.AppendFrame(nil, 3, feetech.InstWrite, regGoal.Addr(), 0x00, 0x0A), 1)
		c.silent(feetech.AppendFrame(nil, 3, feetech.InstWrite, regTorqueEnable.Addr(), 1), 1)
		c.eventually(10*time.Second, "the silent servo moving to 2560", func() bool { return s.Encoders()[2] == 2560 })
	})
}

func TestFaultDrop(t *testing.T) {
	forEachTransport(t, Options{Faults: Faults{DropRate: 1}}, func(t *testing.T, s *Sim, c *client) {
		c.patience = 300 * time.Millisecond
		if fs, err := c.exchange(feetech.AppendFrame(nil, 1, feetech.InstPing), 1); !errors.Is(err, errNoStatus) {
			t.Errorf("ping with DropRate 1 = %v, %v, want no status", fs, err)
		}
	})
}

func TestFaultCorrupt(t *testing.T) {
	forEachTransport(t, Options{Faults: Faults{CorruptRate: 1}, Seed: 7}, func(t *testing.T, s *Sim, c *client) {
		for i := range 5 {
			req := feetech.AppendFrame(nil, 2, feetech.InstPing)
			if _, err := c.port.Write(req); err != nil {
				t.Fatalf("write: %v", err)
			}
			// A ping status is 6 bytes; one of them is changed.
			got := c.readN(6)
			if f, _, err := feetech.ScanFrame(got, feetech.StatusKind); err == nil {
				t.Errorf("corrupted ping status %d = % X scans as a valid frame %+v", i, got, f)
			}
			if want := feetech.AppendFrame(nil, 2, 0); slices.Equal(got, want) {
				t.Errorf("ping status %d = % X unchanged with CorruptRate 1", i, got)
			}
		}
	})
}

// readN reads exactly n raw bytes.
func (c *client) readN(n int) []byte {
	c.tb.Helper()
	deadline := time.Now().Add(c.patience)
	tmp := make([]byte, n)
	for len(c.buf) < n {
		m, err := c.port.Read(tmp[:n-len(c.buf)])
		if err != nil {
			c.tb.Fatalf("read: %v", err)
		}
		c.buf = append(c.buf, tmp[:m]...)
		if m == 0 && (!c.realTime || time.Now().After(deadline)) {
			c.tb.Fatalf("read %d of %d bytes", len(c.buf), n)
		}
	}
	got := append([]byte(nil), c.buf[:n]...)
	c.buf = c.buf[n:]
	return got
}

// TestFaultOverheat loads the Faults.Overheat servo (the gripper closing on
// a cube, under the overload threshold) until it reports overheat and cuts
// torque. Max_Temperature is lowered to keep the real-time test short.
func TestFaultOverheat(t *testing.T) {
	forEachTransport(t, Options{Faults: Faults{Overheat: 6}}, func(t *testing.T, s *Sim, c *client) {
		openGripper(s)
		s.setScene(&fakeScene{limit: 0.3, blocked: true})
		c.set(6, feetech.MaxTemperature, 33)
		c.set(6, feetech.TorqueLimit, 700) // under Overload_Torque 80 %
		c.set(6, feetech.GoalPosition, 2048)
		c.set(6, feetech.TorqueEnable, 1)
		c.eventually(30*time.Second, "the gripper stalling on the cube", func() bool {
			l := c.get(6, feetech.PresentLoad)
			return l < -600
		})
		// The cut is for good; the overheat bit lasts only while the
		// servo is at 33 °C or more, which, cooling from just over 33, is
		// a fraction of a second: a busy machine's polls can miss it.
		c.eventually(60*time.Second, "the overheat cut", func() bool {
			return c.get(6, feetech.TorqueEnable) == 0
		})
		if got := c.get(6, feetech.PresentTemperature); got < 32 {
			t.Errorf("Present_Temperature after the overheat cut = %d, want about 33 (the limit)", got)
		}
		// Now well over a lowered limit: the bit shows, in every status
		// packet and in the Status register, for minutes.
		c.set(6, feetech.MaxTemperature, 31)
		_, bits := c.read(6, regTemperature)
		if bits&feetech.BitOverheat == 0 {
			t.Errorf("status bits 0x%02X above Max_Temperature, want the overheat bit", bits)
		}
		if bits&feetech.BitOverload != 0 {
			t.Errorf("status bits 0x%02X include overload; the load stayed under Overload_Torque", bits)
		}
		if st := c.get(6, feetech.Status); byte(st)&feetech.BitOverheat == 0 {
			t.Errorf("Status register = 0x%02X, want the overheat bit", st)
		}
		// The others stayed cool: no status bits.
		if f := c.ping(5); f.Code != 0 {
			t.Errorf("ping 5 = ERR 0x%02X, want 0", f.Code)
		}
		if got := math.Abs(float64(GripperOpening(s.Encoders()[5]) - 0.3)); got > 0.01 {
			t.Errorf("gripper opening = %v, want the cube's 0.3", GripperOpening(s.Encoders()[5]))
		}
	})
}

// A servo with Faults.KeepTorque ignores torque-off writes, direct or
// broadcast, and reads back 1; with KeepTorqueTimes it gives in after
// that many. The other servos obey.
func TestFaultKeepTorque(t *testing.T) {
	forEachTransport(t, Options{Faults: Faults{KeepTorque: []byte{2, 5}}}, func(t *testing.T, s *Sim, c *client) {
		for _, id := range armIDs {
			c.set(id, feetech.TorqueEnable, 1)
		}
		c.set(2, feetech.TorqueEnable, 0)
		c.silent(syncWriteFrame(t, regTorqueEnable, armIDs, []int{0, 0, 0, 0, 0, 0}), 1)
		for _, id := range armIDs {
			want := 0
			if id == 2 || id == 5 {
				want = 1
			}
			if got := c.get(id, feetech.TorqueEnable); got != want {
				t.Errorf("Torque_Enable of %d after torque-off = %d, want %d", id, got, want)
			}
		}
		if err := s.SetFaults(Faults{KeepTorque: []byte{5}, KeepTorqueTimes: 1}); err != nil {
			t.Fatal(err)
		}
		c.set(2, feetech.TorqueEnable, 0) // no longer faulty
		c.set(5, feetech.TorqueEnable, 0) // lost, the one time
		if got := c.get(5, feetech.TorqueEnable); got != 1 {
			t.Errorf("Torque_Enable of 5 after the first torque-off with KeepTorqueTimes 1 = %d, want 1", got)
		}
		c.set(5, feetech.TorqueEnable, 0)
		for _, id := range []byte{2, 5} {
			if got := c.get(id, feetech.TorqueEnable); got != 0 {
				t.Errorf("Torque_Enable of %d once the fault is spent = %d, want 0", id, got)
			}
		}
	})
}

// A jammed joint pushes toward its goal and stays where it was; the
// others move. A hand still moves it.
func TestFaultJammed(t *testing.T) {
	forEachTransport(t, Options{}, func(t *testing.T, s *Sim, c *client) {
		if err := s.SetFaults(Faults{Jammed: []byte{4}}); err != nil {
			t.Fatal(err)
		}
		// Overload protection off, so that a slow test machine does not
		// see torque cut after 2 s of pushing.
		c.set(4, feetech.OverloadTorque, 100)
		for _, id := range []byte{3, 4} {
			c.set(id, feetech.GoalPosition, 2548)
			c.set(id, feetech.TorqueEnable, 1)
		}
		c.eventually(10*time.Second, "servo 3 reaching its goal", func() bool { return c.get(3, feetech.PresentPosition) == 2548 })
		if got := c.get(4, feetech.PresentPosition); got != 2048 {
			t.Errorf("jammed servo 4 at %d, want 2048 where it was jammed", got)
		}
		if got := c.get(4, feetech.PresentLoad); got < 100 {
			t.Errorf("jammed servo 4 Present_Load = %d, want it pushing (≥ 100)", got)
		}
		if err := s.SetFaults(Faults{}); err != nil {
			t.Fatal(err)
		}
		c.eventually(10*time.Second, "servo 4 reaching its goal once free", func() bool { return c.get(4, feetech.PresentPosition) == 2548 })
	})
}
