package sim

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/pilotkit/pilot/robot/feetech"
)

// TestSimSnapshotRestore moves a servo, snapshots, moves on and restores:
// time, encoders, the control table, the world and the faults' random
// draws are back, twice over.
func TestSimSnapshotRestore(t *testing.T) {
	s, err := New(Options{Seed: 3, Faults: Faults{DropRate: 0.5}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Scene() // makes the world
	goal := func(v int) []byte {
		// WRITE Goal_Position of servo 1 (torque on first).
		frames := feetech.AppendFrame(nil, 1, feetech.InstWrite, feetech.TorqueEnable.Addr(), 1)
		return feetech.AppendFrame(frames, 1, feetech.InstWrite, feetech.GoalPosition.Addr(), byte(v), byte(v>>8))
	}
	s.Handle(goal(2400), 0)
	s.Advance(200 * time.Millisecond)
	st, err := s.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	play := func() ([NumServos]int, SceneState, []byte) {
		s.Handle(goal(1700), s.Now())
		s.Advance(300 * time.Millisecond)
		// A ping of every servo: with DropRate 0.5 which answers is the
		// random source's draw.
		var answers []byte
		for id := byte(1); id <= NumServos; id++ {
			answers = append(answers, s.Handle(feetech.AppendFrame(nil, id, feetech.InstPing), s.Now())...)
		}
		return s.Encoders(), s.Scene(), answers
	}
	e1, sc1, a1 := play()
	for round := 1; round <= 2; round++ {
		if err := s.Restore(st); err != nil {
			t.Fatal(err)
		}
		if s.Now() != st.Time() {
			t.Fatalf("Now after Restore (%d) = %v, want %v", round, s.Now(), st.Time())
		}
		e2, sc2, a2 := play()
		if e2 != e1 || !reflect.DeepEqual(sc2, sc1) || !reflect.DeepEqual(a2, a1) {
			t.Fatalf("after Restore (%d): encoders %v scene %+v answers %x; want %v %+v %x", round, e2, sc2, a2, e1, sc1, a1)
		}
	}
	other, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Restore(st); !errors.Is(err, ErrForeignState) {
		t.Errorf("Restore of another sim's state = %v, want ErrForeignState", err)
	}
	other.Close()
	if _, err := other.Snapshot(); !errors.Is(err, ErrClosed) {
		t.Errorf("Snapshot after Close = %v, want ErrClosed", err)
	}
}
