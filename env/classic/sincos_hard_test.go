package classic

import (
	"bufio"
	"flag"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The table of hard arguments: testdata/sincos_glibc.txt.
//
// TestSearchHardArgs (run with -sincos.search) gathers arguments and writes
// testdata/sincos_args.txt with how hard each one is to round;
// testdata/sincos_glibc.py reads that and writes testdata/sincos_glibc.txt
// with glibc's sin and cos of each (Python's math.sin and math.cos) and
// mpmath's correctly rounded ones; TestSinCosHardArguments reads that. To
// regenerate both:
//
//	go test -run TestSearchHardArgs -sincos.search ./env/classic/
//	/usr/bin/python3 env/classic/testdata/sincos_glibc.py

var searchHardArgs = flag.Bool("sincos.search", false, "gather hard arguments of sin and cos and rewrite testdata/sincos_args.txt (about a minute)")

// hardness returns log2 of the distance from sin x or cos x to the
// nearest midpoint between two float64s, in units of the gap between
// them: −1 is as easy to round as it gets, below −40 is hard.
func hardness(x float64, f sinOrCos) float64 {
	y := exactSinCos(x, f)
	r, _ := y.Float64()
	toward := math.Inf(1)
	if y.Cmp(big.NewFloat(r)) < 0 {
		toward = math.Inf(-1)
	}
	nb := math.Nextafter(r, toward)
	mid := new(big.Float).SetPrec(400).Add(big.NewFloat(r), big.NewFloat(nb))
	mid.SetMantExp(mid, -1)
	d := new(big.Float).SetPrec(400).Sub(y, mid)
	d.Abs(d)
	d.Quo(d, big.NewFloat(math.Abs(nb-r)))
	mant := new(big.Float)
	e := d.MantExp(mant)
	m, _ := mant.Float64()
	return math.Log2(m) + float64(e)
}

type hardArg struct {
	x    float64
	kind string
}

// TestSearchHardArgs gathers the table's arguments (see above), each
// marked with where it comes from:
//
//   - lefevre-sin, lefevre-cos: published worst cases,
//     testdata/sincos_lefevre.txt;
//   - sin-cubic: x in [2^-26, 2^-19) where x³/6 (with x⁵/120) puts sin x
//     on a half-ulp below x, the best of seven neighbouring float64s;
//   - cos-square: x where x²/2 (with x⁴/24) puts cos x on a half-ulp
//     below 1, likewise;
//   - search-sin, search-cos: the closest to a midpoint of 2^26 random
//     arguments in each of four ranges, by the fast path, checked with
//     math/big;
//   - kpi/2: the float64s nearest kπ/2 and their neighbours;
//   - huge: math/big's range;
//   - cartpole: θ along the long reference episodes;
//   - edge: the boundaries of sincos's branches, subnormals.
func TestSearchHardArgs(t *testing.T) {
	if !*searchHardArgs {
		t.Skip("run with -sincos.search to rewrite testdata/sincos_args.txt")
	}
	var args []hardArg
	add := func(x float64, kind string) { args = append(args, hardArg{x, kind}) }
	bestOf := func(x0 float64, f sinOrCos, kind string) {
		best, bh := x0, 0.0
		for d := -3; d <= 3; d++ {
			x := math.Float64frombits(uint64(int64(math.Float64bits(x0)) + int64(d)))
			if h := hardness(x, f); h < bh {
				best, bh = x, h
			}
		}
		add(best, kind)
	}

	// Published worst cases.
	f, err := os.Open(filepath.Join("testdata", "sincos_lefevre.txt"))
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) == 0 || strings.HasPrefix(fs[0], "#") {
			continue
		}
		x, err := strconv.ParseFloat(fs[1], 64)
		if err != nil || (fs[0] != "sin" && fs[0] != "cos") {
			t.Fatalf("sincos_lefevre.txt: %q", sc.Text())
		}
		add(x, "lefevre-"+fs[0])
	}
	f.Close()

	// sin x = x − x³/6 + x⁵/120 − … on a half-ulp: x³/6 ≈ (j+½) ulp(x).
	for e := -26; e < -19; e++ {
		ulp := math.Ldexp(1, e-52)
		for j := range 6 {
			x0 := math.Cbrt(6 * (float64(j) + 0.5) * ulp)
			if x0 < math.Ldexp(1, e) || x0 >= math.Ldexp(1, e+1) {
				continue
			}
			bestOf(x0, wantSin, "sin-cubic")
		}
	}
	// cos x = 1 − x²/2 + x⁴/24 − … on a half-ulp below 1: x²/2 ≈ (j+½)2^-53.
	for j := range 48 {
		v := float64(2*j+1) * 0x1p-53
		bestOf(math.Sqrt(v*(1+v/12)), wantCos, "cos-square")
	}

	// Random search with the fast path: the distance of hi + lo from
	// the midpoint on lo's side, in units of the gap there.
	rng := rand.New(rand.NewPCG(31, 32))
	type cand struct {
		x, d float64
		f    sinOrCos
	}
	for _, r := range [][2]float64{{1.0 / 512, 0.3}, {0.3, 0.78125}, {0.78125, 4}, {4, 1024}} {
		var best [2][]cand
		for range 1 << 26 {
			x := r[0] + (r[1]-r[0])*rng.Float64()
			sh, sl, _, ch, cl, _ := sincosFast(x)
			for fi, p := range [2][2]float64{{sh, sl}, {ch, cl}} {
				hi, lo := p[0], p[1]
				gap := math.Abs(math.Nextafter(hi, math.Copysign(math.Inf(1), lo)) - hi)
				d := math.Abs(0.5 - math.Abs(lo)/gap)
				b := best[fi]
				if len(b) < 6 || d < b[len(b)-1].d {
					b = append(b, cand{x, d, sinOrCos(fi)})
					slices.SortFunc(b, func(p, q cand) int { return compareFloat(p.d, q.d) })
					best[fi] = b[:min(len(b), 6)]
				}
			}
		}
		for _, b := range best {
			for _, c := range b {
				add(c.x, "search-"+c.f.String())
			}
		}
	}

	// Near multiples of π/2.
	pio2 := new(big.Float).SetPrec(3000).Set(piAtLeast(3000))
	pio2.SetMantExp(pio2, -1)
	for _, k := range []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 31, 32, 33, 64, 100, 355, 1000, 12345, 1e5, 1e6, 1 << 20, 1<<25 + 1, 1<<26 - 1, 1 << 30, 1 << 40, 1e15} {
		x, _ := new(big.Float).SetPrec(3000).Mul(pio2, big.NewFloat(k)).Float64()
		add(x, "kpi/2")
		if k <= 8 {
			add(math.Nextafter(x, 0), "kpi/2")
			add(math.Nextafter(x, math.Inf(1)), "kpi/2")
		}
	}
	for _, x := range []float64{1e22, 0x1p100, 0x1.6ac5b262ca1ffp+849, 0x1.8p1023, math.MaxFloat64, fastLimit, math.Nextafter(fastLimit, math.Inf(1))} {
		add(x, "huge")
	}

	// CartPole's θ.
	for _, ep := range readLongEpisodes(t) {
		for i := 0; i < len(ep.steps); i += 25 {
			add(ep.steps[i].s[2], "cartpole")
		}
	}
	for _, x := range []float64{ThetaThreshold, math.Nextafter(ThetaThreshold, 1), -ThetaThreshold, 0.05, -0.05, 0.2, 0.3} {
		add(x, "cartpole")
	}

	// Branch boundaries and small numbers.
	for _, x := range []float64{
		math.SmallestNonzeroFloat64, 0x1p-1022, 0x1p-100, 0x1p-30,
		math.Nextafter(0x1p-27, 0), 0x1p-27, math.Nextafter(0x1p-26, 0), 0x1p-26, math.Nextafter(0x1p-26, 1),
		math.Nextafter(1.0/512, 0), 1.0 / 512, math.Nextafter(1.0/512, 1), 3.0 / 512, 0x1.9p-1, math.Nextafter(0x1.9p-1, 1),
		math.Pi / 4, math.Nextafter(math.Pi/4, 1), 0.5, 1, 2, 3,
	} {
		add(x, "edge")
	}

	// Both signs of everything but the published cases, once each.
	seen := map[float64]bool{}
	var out strings.Builder
	out.WriteString("# Arguments of sin and cos for sincos_glibc.py, written by TestSearchHardArgs\n")
	out.WriteString("# (go test -run TestSearchHardArgs -sincos.search ./env/classic/; see sincos_hard_test.go).\n")
	out.WriteString("# x kind hardness_sin hardness_cos: log2 of the distance from the exact value to the\n")
	out.WriteString("# nearest midpoint between two float64s in units of their gap, by math/big (below -40 is hard).\n")
	n := 0
	for _, a := range args {
		xs := []float64{a.x}
		if !strings.HasPrefix(a.kind, "lefevre") && a.kind != "cartpole" {
			xs = append(xs, -a.x)
		}
		for _, x := range xs {
			if seen[x] {
				continue
			}
			seen[x] = true
			fmt.Fprintf(&out, "%x %s %.1f %.1f\n", x, a.kind, hardness(x, wantSin), hardness(x, wantCos))
			n++
		}
	}
	if err := os.WriteFile(filepath.Join("testdata", "sincos_args.txt"), []byte(out.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %d arguments to testdata/sincos_args.txt: now run /usr/bin/python3 testdata/sincos_glibc.py", n)
}

func compareFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// hardRow is a line of testdata/sincos_glibc.txt.
type hardRow struct {
	x                                float64
	kind                             string
	hardSin, hardCos                 float64
	glibcSin, glibcCos, crSin, crCos float64
}

func readHardTable(t *testing.T) (rows []hardRow, header string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "sincos_glibc.txt"))
	if err != nil {
		t.Fatalf("%v (regenerate it: see sincos_hard_test.go)", err)
	}
	for i, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if strings.HasPrefix(line, "#") {
			if i == 0 {
				header = strings.TrimPrefix(line, "# ")
			}
			continue
		}
		f := strings.Fields(line)
		if len(f) != 8 {
			t.Fatalf("sincos_glibc.txt:%d: %q, want x kind hardness_sin hardness_cos glibc_sin glibc_cos cr_sin cr_cos", i+1, line)
		}
		var v [5]float64
		for k, j := range []int{0, 4, 5, 6, 7} {
			b, err := strconv.ParseUint(f[j], 16, 64)
			if err != nil || len(f[j]) != 16 {
				t.Fatalf("sincos_glibc.txt:%d: %q is not a float64's 16 hex digits", i+1, f[j])
			}
			v[k] = math.Float64frombits(b)
		}
		r := hardRow{x: v[0], kind: f[1], glibcSin: v[1], glibcCos: v[2], crSin: v[3], crCos: v[4]}
		if r.hardSin, err = strconv.ParseFloat(f[2], 64); err == nil {
			r.hardCos, err = strconv.ParseFloat(f[3], 64)
		}
		if err != nil {
			t.Fatalf("sincos_glibc.txt:%d: %v", i+1, err)
		}
		rows = append(rows, r)
	}
	return rows, header
}

// TestSinCosHardArguments checks sincos on the table of hard arguments,
// testdata/sincos_glibc.txt, bit for bit: it must give the correctly
// rounded value that sincos_glibc.py computed in plain Python integers,
// and so agree with glibc wherever glibc rounds correctly. Where glibc does
// not (since 2.28 it promises an error below 1 ulp, not correct rounding),
// the log counts the rows by kind.
func TestSinCosHardArguments(t *testing.T) {
	rows, header := readHardTable(t)
	type count struct{ rows, hard, glibcOff, viaBig int }
	counts := map[string]*count{}
	var kinds []string
	hard := 0
	for _, r := range rows {
		c := counts[r.kind]
		if c == nil {
			c = &count{}
			counts[r.kind] = c
			kinds = append(kinds, r.kind)
		}
		c.rows++
		if min(r.hardSin, r.hardCos) < -40 {
			c.hard++
			hard++
		}
		s, co := sincos(r.x)
		if !same(s, r.crSin) || !same(co, r.crCos) {
			t.Errorf("sincos(%x) [%s] = %x, %x, want %x, %x", r.x, r.kind, s, co, r.crSin, r.crCos)
		}
		if bs, bc := sinCosBig(r.x, wantSin), sinCosBig(r.x, wantCos); !same(bs, r.crSin) || !same(bc, r.crCos) {
			t.Errorf("sinCosBig(%x) [%s] = %x, %x, want %x, %x", r.x, r.kind, bs, bc, r.crSin, r.crCos)
		}
		if !same(r.glibcSin, r.crSin) || !same(r.glibcCos, r.crCos) {
			c.glibcOff++
		}
		switch ax := math.Abs(r.x); {
		case ax > fastLimit:
			c.viaBig++
		case ax >= 0x1p-27:
			sh, sl, se, ch, cl, ce := sincosFast(r.x)
			if !roundsTo(sh, sl, se) || !roundsTo(ch, cl, ce) {
				c.viaBig++
			}
		}
	}
	if len(rows) < 500 || hard < 250 {
		t.Fatalf("sincos_glibc.txt has %d rows, %d of them hard (within 2^-40 of a midpoint), want at least 500 and 250", len(rows), hard)
	}
	var report strings.Builder
	fmt.Fprintf(&report, "%s: %d arguments, %d of them within 2^-40 of a midpoint", header, len(rows), hard)
	slices.Sort(kinds)
	viaBig, off := 0, 0
	for _, k := range kinds {
		c := counts[k]
		fmt.Fprintf(&report, "\n  %-12s %4d rows, %3d hard: glibc not correctly rounded at %3d; the fast path hands %3d to math/big", k, c.rows, c.hard, c.glibcOff, c.viaBig)
		viaBig += c.viaBig
		off += c.glibcOff
	}
	fmt.Fprintf(&report, "\n  sincos agrees with glibc on %d of %d rows and is correctly rounded on all", len(rows)-off, len(rows))
	t.Log(report.String())
	if viaBig == 0 {
		t.Errorf("no row of the table went to math/big: the table does not exercise the fallback")
	}
}
