package sim

import (
	"fmt"
	"math"
	"slices"
)

// Faults are the troubles a real bus has, injected on purpose. The zero
// value injects none. Random faults draw from the simulator's generator
// (Options.Seed), so a seed and a sequence of requests give the same
// faults every run.
type Faults struct {
	// DropRate is the probability (0..1) that a status packet is lost.
	DropRate float64
	// CorruptRate is the probability (0..1) that one byte of a status
	// packet is changed (its checksum then fails).
	CorruptRate float64
	// Overheat is the ID of a servo that heats ten times faster than the
	// others: at full load it reaches Max_Temperature (70 °C) in about 8
	// s, then reports overheat and cuts torque. 0 means none.
	Overheat byte
	// Silent is the ID of a servo that never answers (its writes still
	// take effect, as with a broken TX line). 0 means none.
	Silent byte
	// KeepTorque lists servos that ignore writes of Torque_Enable = 0
	// while their torque is on, as if every torque-off packet to them
	// were lost: torque stays on and reads back 1. Turning torque on
	// still works.
	KeepTorque []byte
	// KeepTorqueTimes limits KeepTorque to the first n torque-off writes
	// each of those servos gets after the faults are set (New or
	// SetFaults); 0 means every one.
	KeepTorqueTimes int
	// Jammed lists servos whose joint is blocked where it stands when the
	// faults are set (New or SetFaults), as by something in its way: with
	// torque on it pushes toward its goal (Present_Load rises) and never
	// gets there. A hand (SetEncoders) still moves it.
	Jammed []byte
}

func (f Faults) validate(ids []byte) error {
	for _, r := range []struct {
		name string
		v    float64
	}{{"DropRate", f.DropRate}, {"CorruptRate", f.CorruptRate}} {
		if math.IsNaN(r.v) || r.v < 0 || r.v > 1 {
			return fmt.Errorf("sim: Faults.%s = %v: want a probability in 0..1", r.name, r.v)
		}
	}
	for _, r := range []struct {
		name string
		id   byte
	}{{"Overheat", f.Overheat}, {"Silent", f.Silent}} {
		if r.id != 0 && !slices.Contains(ids, r.id) {
			return fmt.Errorf("sim: Faults.%s = %d: no servo has that ID (IDs are %v); use 0 for none", r.name, r.id, ids)
		}
	}
	for _, r := range []struct {
		name string
		ids  []byte
	}{{"KeepTorque", f.KeepTorque}, {"Jammed", f.Jammed}} {
		for _, id := range r.ids {
			if !slices.Contains(ids, id) {
				return fmt.Errorf("sim: Faults.%s has ID %d: no servo has that ID (IDs are %v)", r.name, id, ids)
			}
		}
	}
	if f.KeepTorqueTimes < 0 {
		return fmt.Errorf("sim: Faults.KeepTorqueTimes = %d: want 0 (every torque-off write) or a count", f.KeepTorqueTimes)
	}
	return nil
}

// SetFaults replaces the faults the simulator injects, from the next
// instruction on: a test turns a fault on after the arm has started, or
// off again. The random faults keep drawing from the same generator.
func (s *Sim) SetFaults(f Faults) error {
	ids := make([]byte, len(s.servos))
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, v := range s.servos {
		ids[i] = v.id()
	}
	if err := f.validate(ids); err != nil {
		return err
	}
	s.applyFaultsLocked(f)
	return nil
}

// applyFaultsLocked gives each servo its share of f. The caller holds s.mu
// (or is New).
func (s *Sim) applyFaultsLocked(f Faults) {
	f.KeepTorque, f.Jammed = slices.Clone(f.KeepTorque), slices.Clone(f.Jammed)
	s.faults = f
	for _, v := range s.servos {
		id := v.id()
		v.heat = 1
		if f.Overheat != 0 && id == f.Overheat {
			v.heat = overheatFactor
		}
		v.silent = f.Silent != 0 && id == f.Silent
		v.keepTorque = 0
		if slices.Contains(f.KeepTorque, id) {
			v.keepTorque = -1
			if f.KeepTorqueTimes > 0 {
				v.keepTorque = f.KeepTorqueTimes
			}
		}
		v.jammed = slices.Contains(f.Jammed, id)
	}
}

// damage applies the random faults to the status packet at out[start:]:
// it returns out without the packet when it is dropped, with one byte
// changed when it is corrupted. The caller holds s.mu.
func (s *Sim) damage(out []byte, start int) []byte {
	if s.faults.DropRate > 0 && s.rng.Float64() < s.faults.DropRate {
		s.log.Debug("sim: dropped a status packet", "bytes", len(out)-start)
		return out[:start]
	}
	if s.faults.CorruptRate > 0 && s.rng.Float64() < s.faults.CorruptRate {
		i := start + s.rng.IntN(len(out)-start)
		out[i] ^= byte(1 + s.rng.IntN(255))
		s.log.Debug("sim: corrupted a status packet", "byte", i-start)
	}
	return out
}
