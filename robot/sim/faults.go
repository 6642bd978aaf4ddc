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
	return nil
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
