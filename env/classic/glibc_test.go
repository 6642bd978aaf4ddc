package classic

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/pilotkit/pilot/env/classic/internal/libm"
)

// These tests compare sincos and CartPole's step with the C library live,
// through cgo: the sin, cos and pow that Python's math.sin, math.cos and
// ** call, and so Gymnasium's CartPole on that machine. They need cgo
// (make test runs with -race, which has it) and glibc.

func needGlibc(t *testing.T) {
	t.Helper()
	if !libm.Available {
		t.Skip("built without cgo: no C library to compare with")
	}
	if libm.Glibc() == "" {
		t.Skip("the C library is not glibc")
	}
}

// ulpsApart returns how many float64s lie between a and b, plus one (0
// when a = b), for a and b of the same sign.
func ulpsApart(a, b float64) uint64 {
	ia, ib := math.Float64bits(math.Abs(a)), math.Float64bits(math.Abs(b))
	return max(ia, ib) - min(ia, ib)
}

// closer reports whether ours is strictly nearer the true value y than
// theirs, and within half the gap between ours and its neighbour on y's
// side.
func closer(ours, theirs float64, y *big.Float) bool {
	d := func(v float64) *big.Float {
		e := new(big.Float).SetPrec(2000).Sub(big.NewFloat(v), y)
		return e.Abs(e)
	}
	dOurs := d(ours)
	toward := math.Inf(1)
	if y.Cmp(big.NewFloat(ours)) < 0 {
		toward = math.Inf(-1)
	}
	gap := math.Abs(math.Nextafter(ours, toward) - ours)
	return dOurs.Cmp(d(theirs)) < 0 && dOurs.Cmp(big.NewFloat(gap/2)) <= 0
}

// TestSinCosAgainstGlibc compares sincos with glibc's sin and cos on 200,000
// arguments over CartPole's range and wider ones. Wherever they differ the
// true value (math/big, 256 bits) must be nearer ours, within half an ulp:
// glibc's sin and cos (since 2.28) promise an error below 1 ulp, not correct
// rounding. A sample of the agreements is checked against math/big too.
// The log counts the disagreements.
func TestSinCosAgainstGlibc(t *testing.T) {
	needGlibc(t)
	ranges := []struct {
		name string
		n    int
		draw func(*rand.Rand) float64
	}{
		{"|x| < 0.05 (a balanced pole)", 50000, func(r *rand.Rand) float64 { return (2*r.Float64() - 1) * 0.05 }},
		{"|x| < 0.3 (CartPole's θ)", 50000, func(r *rand.Rand) float64 { return (2*r.Float64() - 1) * 0.3 }},
		{"|x| < π", 40000, func(r *rand.Rand) float64 { return (2*r.Float64() - 1) * math.Pi }},
		{"2^-30 ≤ |x| < 2^20, log-uniform", 40000, func(r *rand.Rand) float64 {
			return math.Copysign(math.Ldexp(1+r.Float64(), r.IntN(50)-30), 2*r.Float64()-1)
		}},
		{"within 2^-20 of kπ/2, k ≤ 10^6", 18000, func(r *rand.Rand) float64 {
			return float64(r.IntN(1000000)+1)*(math.Pi/2) + (2*r.Float64()-1)*0x1p-20
		}},
		{"2^26 ≤ |x| < 2^1024 (math/big)", 2000, func(r *rand.Rand) float64 {
			return math.Copysign(math.Ldexp(1+r.Float64(), 26+r.IntN(998)), 2*r.Float64()-1)
		}},
	}
	rng := rand.New(rand.NewPCG(21, 22))
	var report strings.Builder
	fmt.Fprintf(&report, "glibc %s against correct rounding:", libm.Glibc())
	total := 0
	for _, rg := range ranges {
		var off [2]int        // sin, cos
		var maxUlps [2]uint64 // glibc's distance from ours where they differ
		for i := range rg.n {
			x := rg.draw(rng)
			s, c := sincos(x)
			for j, p := range [2]struct {
				f            sinOrCos
				ours, theirs float64
			}{{wantSin, s, libm.Sin(x)}, {wantCos, c, libm.Cos(x)}} {
				if p.ours == p.theirs {
					if i%50 == 0 {
						if want := sinCosBig(x, p.f); p.ours != want {
							t.Errorf("%v(%x) = %x, like glibc, want %x", p.f, x, p.ours, want)
						}
					}
					continue
				}
				off[j]++
				maxUlps[j] = max(maxUlps[j], ulpsApart(p.ours, p.theirs))
				if !closer(p.ours, p.theirs, exactSinCos(x, p.f)) {
					t.Errorf("%v(%x) = %x, glibc %x: ours is not the nearer, within half an ulp", p.f, x, p.ours, p.theirs)
				}
			}
		}
		total += rg.n
		fmt.Fprintf(&report, "\n  %-36s %6d args: sin differs at %4d (%.1e), cos at %4d (%.1e); by up to %d and %d ulps",
			rg.name, rg.n, off[0], float64(off[0])/float64(rg.n), off[1], float64(off[1])/float64(rg.n), maxUlps[0], maxUlps[1])
	}
	t.Logf("%s\n  %d arguments in all", report.String(), total)
}

func (f sinOrCos) String() string {
	if f == wantSin {
		return "sin"
	}
	return "cos"
}

// gymStep is testdata/gymnasium_cartpole.py's step, that is Gymnasium's,
// in the C library's arithmetic: its sin, cos, and pow for **2.
func gymStep(s [4]float64, action int) ([4]float64, bool) {
	x, xDot, theta, thetaDot := s[0], s[1], s[2], s[3]
	force := -ForceMag
	if action == PushRight {
		force = ForceMag
	}
	costheta := libm.Cos(theta)
	sintheta := libm.Sin(theta)
	temp := (force + float64(float64(PoleMassLength*libm.Pow(thetaDot, 2))*sintheta)) / TotalMass
	thetaacc := (float64(Gravity*sintheta) - float64(costheta*temp)) /
		(Length * (4.0/3.0 - MassPole*libm.Pow(costheta, 2)/TotalMass))
	xacc := temp - PoleMassLength*thetaacc*costheta/TotalMass
	x = x + float64(Tau*xDot)
	xDot = xDot + float64(Tau*xacc)
	theta = theta + float64(Tau*thetaDot)
	thetaDot = thetaDot + float64(Tau*thetaacc)
	s = [4]float64{x, xDot, theta, thetaDot}
	return s, outside(s)
}

// stepWith is StepState's step with sin θ and cos θ from sc.
func stepWith(s [4]float64, action int, sc func(float64) (float64, float64)) [4]float64 {
	force := -ForceMag
	if action == PushRight {
		force = ForceMag
	}
	sin, cos := sc(s[2])
	euler(&s, force, sin, cos)
	return s
}

// TestGymStepIsPython: gymStep reproduces the Python transcription's
// reference episodes bit for bit, so that it speaks for Gymnasium below.
func TestGymStepIsPython(t *testing.T) {
	needGlibc(t)
	steps := 0
	for _, ep := range readLongEpisodes(t) {
		s := ep.start
		for i, want := range ep.steps {
			var term bool
			s, term = gymStep(s, want.action)
			if s != want.s || term != want.term {
				t.Fatalf("episode %d, step %d: gymStep = %x, %v, want %x, %v", ep.seed, i+1, s, term, want.s, want.term)
			}
			steps++
		}
	}
	ref := readReference(t)
	for n := 1; n < len(ref); n++ {
		if s, term := gymStep(ref[n-1].s, ref[n].action); s != ref[n].s || term != ref[n].term {
			t.Fatalf("gymnasium_pd.txt, step %d: gymStep = %x, %v, want %x, %v", n, s, term, ref[n].s, ref[n].term)
		}
		steps++
	}
	t.Logf("%d steps of Python's, bit for bit", steps)
}

// TestGymnasiumArithmeticLive steps many episodes both ways, StepState and
// gymStep, from the same state at every step: every step whose result
// differs must be one where glibc's sin or cos is not the correctly
// rounded one, or where pow(v, 2), Python's v**2, is not v*v. Then it
// plays each episode closed loop both ways and counts the episodes whose
// states part and those that end at another step. The log has the counts.
func TestGymnasiumArithmeticLive(t *testing.T) {
	needGlibc(t)
	type kind struct {
		name     string
		episodes int
		flip     float64 // probability of flipping pd's action
	}
	rng := rand.New(rand.NewPCG(23, 24))
	var report strings.Builder
	for _, k := range []kind{{"pd, balanced to the step limit", 200, 0}, {"pd with 20% of its actions flipped", 1000, 0.2}} {
		var steps, differ, bySin, byCos, byPow, parted, endedElsewhere int
		var oldDiffer, oldParted, oldEnded int // with math.Sincos
		for range k.episodes {
			var start [4]float64
			for i := range start {
				start[i] = -ResetBound + 2*ResetBound*rng.Float64()
			}
			flips := make([]bool, MaxSteps)
			for i := range flips {
				flips[i] = rng.Float64() < k.flip
			}
			action := func(s [4]float64, n int) int {
				a := pd(observe(s))
				if flips[n] {
					a = 1 - a
				}
				return a
			}
			// Along our own trajectory, each step both ways.
			c := NewCartPole()
			c.SetState(start)
			s := start
			for n := range MaxSteps {
				a := action(s, n)
				_, _, term, _ := c.StepState(a)
				theirs, _ := gymStep(s, a)
				steps++
				if ours := c.State(); ours != theirs {
					differ++
					sin, cos := sincos(s[2])
					gs, gc := libm.Sin(s[2]), libm.Cos(s[2])
					switch {
					case gs != sin:
						bySin++
					case gc != cos:
						byCos++
					case libm.Pow(s[3], 2) != s[3]*s[3] || libm.Pow(cos, 2) != cos*cos:
						byPow++
					default:
						t.Errorf("step from %x, action %d: StepState = %x, Gymnasium's arithmetic %x, with the same sin, cos and squares", s, a, ours, theirs)
					}
				}
				if old := stepWith(s, a, math.Sincos); old != theirs {
					oldDiffer++
				}
				s = c.State()
				if term {
					break
				}
			}
			// Closed loop both ways, and with math.Sincos.
			ours, theirs, old := start, start, start
			endOurs, endTheirs, endOld, apart, oldApart := 0, 0, 0, false, false
			for n := range MaxSteps {
				if endOurs == 0 {
					ours = stepWith(ours, action(ours, n), sincos)
					if outside(ours) {
						endOurs = n + 1
					}
				}
				if endOld == 0 {
					old = stepWith(old, action(old, n), math.Sincos)
					if outside(old) {
						endOld = n + 1
					}
				}
				if endTheirs == 0 {
					var term bool
					if theirs, term = gymStep(theirs, action(theirs, n)); term {
						endTheirs = n + 1
					}
				}
				apart = apart || ours != theirs
				oldApart = oldApart || old != theirs
				if endOurs != 0 && endTheirs != 0 && endOld != 0 {
					break
				}
			}
			if oldApart {
				oldParted++
			}
			if endOld != endTheirs {
				oldEnded++
			}
			if apart {
				parted++
			}
			if endOurs != endTheirs {
				endedElsewhere++
			}
		}
		fmt.Fprintf(&report, "\n  %s, %d episodes, %d steps: %d steps differ (glibc's sin %d, cos %d, pow(v, 2) %d); closed loop, %d episodes part, %d end at another step"+
			"\n    (with math.Sincos: %d steps differ; %d episodes part, %d end at another step)",
			k.name, k.episodes, steps, differ, bySin, byCos, byPow, parted, endedElsewhere, oldDiffer, oldParted, oldEnded)
	}
	t.Logf("StepState against Gymnasium's arithmetic on glibc %s:%s", libm.Glibc(), report.String())
}
