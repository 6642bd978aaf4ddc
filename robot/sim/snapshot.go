package sim

import (
	"errors"
	"math/rand/v2"
	"time"
)

// State is a copy of everything a simulator holds that moves: the servos'
// control tables and physics, simulated time, the world (arm pose, cubes,
// zone) and the random source of its faults. Restore puts a Sim back in it
// exactly, as often as asked. It is opaque, and belongs to the Sim that
// made it.
type State struct {
	sim     *Sim
	now     time.Duration
	servos  [NumServos]servo
	pcg     rand.PCG
	world   *WorldState
	handled uint64
}

// Time is the simulated time of the state.
func (st *State) Time() time.Duration { return st.now }

// ErrForeignState is returned by Restore for a state of another Sim.
var ErrForeignState = errors.New("sim: the state is another simulator's")

// Snapshot copies the simulator's state. It takes about a microsecond:
// planners snapshot before every trial (see planner.NewCEM).
func (s *Sim) Snapshot() (*State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	st := &State{sim: s, now: s.now, handled: s.handled}
	for i, v := range s.servos {
		st.servos[i] = *v
		st.servos[i].block = nil
	}
	st.pcg = *s.pcg
	if w, ok := s.scene.(*World); ok {
		ws := w.Snapshot()
		st.world = &ws
	}
	return st, nil
}

// Restore puts the simulator back in st, which Snapshot of this Sim
// returned. The pseudo-terminals it serves carry on from there.
func (s *Sim) Restore(st *State) error {
	if st == nil || st.sim != s {
		return ErrForeignState
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	s.now, s.handled = st.now, st.handled
	for i, v := range s.servos {
		block := v.block
		*v = st.servos[i]
		v.block = block
	}
	*s.pcg = st.pcg
	if st.world != nil {
		s.worldLocked().Restore(*st.world)
	}
	return nil
}
