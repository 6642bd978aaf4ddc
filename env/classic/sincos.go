package classic

import (
	"math"
	"math/big"
	"math/bits"
	"sync"
)

// Correctly rounded sine and cosine.
//
// sincos returns sin x and cos x rounded to the nearest float64 (ties to
// even), for every float64 x. Gymnasium's CartPole takes its sine and
// cosine from Python's math, that is from the C library (glibc on Linux),
// and Go's math.Sin and math.Cos differ from those in the last bit now and
// then; correct rounding is the one answer that does not depend on a
// library's choices. (glibc's own sin and cos are not correctly rounded
// either: see cartpole.go and docs/learning.md for how often they differ.)
//
// The fast path reduces x to r = x − kπ/2 in double-double arithmetic
// (Cody–Waite with π/2 in three words, products made exact with FMA),
// splits |r| = a + t with a = i/256 from a table of sin a and cos a in
// double-double, evaluates sin t and cos t by their Taylor series with the
// leading terms in double-double, recombines them, and keeps a bound on
// the error: about 2^-79 of the result, taken as 2^-76. If every number
// within that bound rounds to the same float64, that float64 is the
// correctly rounded result. Otherwise (about one result in a million,
// and for |x| > 2^26, NaN and ±Inf) sinCosBig decides with
// math/big: π by Machin's formula, the reduction and the Taylor series at
// a precision that doubles until the rounding is settled (Ziv's strategy;
// sin x and cos x are transcendental for x ≠ 0, so it ends).

// fastLimit bounds the arguments of the fast path: |k| stays below 2^26,
// so that the reduction's error is at most 2^-124.
const fastLimit = 0x1p26

// π/2 in three words, pio2a + pio2b + pio2c, within 2^-161 of it; and
// 2/π rounded, to choose k.
const (
	pio2a   = 0x1.921fb54442d18p+0
	pio2b   = 0x1.1a62633145c07p-54
	pio2c   = -0x1.f1976b7ed8fbcp-110
	invPio2 = 0x1.45f306dc9c883p-1
)

// −1/6 in two words, and the other Taylor coefficients rounded.
const (
	c6h    = -0x1.5555555555555p-3
	c6l    = -0x1.5555555555555p-57
	c120   = 1.0 / 120
	c5040  = 1.0 / 5040
	c24    = 1.0 / 24
	c720   = 1.0 / 720
	c40320 = 1.0 / 40320
)

// relErr is the fast path's error bound relative to its result: the
// analysis in sincosFast gives 2^-79 at worst (for |r| just above 1/512),
// TestSinCosFastErrorBound measures about 2^-90.
const relErr = 0x1p-76

// sincos returns sin x and cos x, each correctly rounded to nearest.
func sincos(x float64) (sin, cos float64) {
	ax := math.Abs(x)
	if ax < 0x1p-27 {
		// sin x = x(1 − x²/6 + …) and cos x = 1 − x²/2 + … are within
		// a quarter of an ulp of x and of 1 (zero included).
		return x, 1
	}
	if !(ax <= fastLimit) { // NaN too
		return sinCosBig(x, wantSin), sinCosBig(x, wantCos)
	}
	sh, sl, se, ch, cl, ce := sincosFast(x)
	sin, cos = sh, ch
	if !roundsTo(sh, sl, se) {
		sin = sinCosBig(x, wantSin)
	}
	if !roundsTo(ch, cl, ce) {
		cos = sinCosBig(x, wantCos)
	}
	return sin, cos
}

// twoSum returns s = fl(a+b) and e with s + e = a + b exactly.
func twoSum(a, b float64) (s, e float64) {
	s = a + b
	bb := s - a
	e = (a - (s - bb)) + (b - bb)
	return s, e
}

// fastTwoSum is twoSum for |a| ≥ |b| (or a = 0).
func fastTwoSum(a, b float64) (s, e float64) {
	s = a + b
	e = b - (s - a)
	return s, e
}

// twoProd returns p = fl(ab) and e with p + e = ab exactly. The
// conversion keeps p rounded: no platform may fuse it into a later add.
func twoProd(a, b float64) (p, e float64) {
	p = float64(a * b)
	e = math.FMA(a, b, -p)
	return p, e
}

// sincosFast returns sin x ≈ sh + sl and cos x ≈ ch + cl, with |sl| and
// |cl| at most half an ulp of sh and ch, and bounds se and ce on their
// absolute errors, for 2^-27 ≤ |x| ≤ fastLimit. u is 2^-53 below.
func sincosFast(x float64) (sh, sl, se, ch, cl, ce float64) {
	// r = rh + rl = x − kπ/2 with |r| ≤ π/4 (a hair more when x·2/π
	// rounds across a half), and q = k mod 4.
	rh, rl, ered := x, 0.0, 0.0
	q := 0
	if math.Abs(x) > 0x1.9p-1 { // 0.78125, below π/4: k = 0 until there
		k := float64(x*invPio2+0x1.8p52) - 0x1.8p52 // round to an integer
		ph1, pl1 := twoProd(k, pio2a)
		ph2, pl2 := twoProd(k, pio2b)
		p3 := k * pio2c
		s1, e1 := twoSum(x, -ph1)
		a1, b1 := twoSum(s1, -pl1)
		a2, b2 := twoSum(a1, -ph2)
		// Exact so far but for p3 and the sum below: their errors are
		// within 4u(|e1|+|b1|+|b2|+|pl2|+|p3|) ≤ 2^-103|r| + |k|2^-155;
		// π/2's three words add |k|2^-161 and p3 |k|2^-160.
		rh, rl = twoSum(a2, e1+b1+b2-pl2-p3)
		q = int(int64(k)) & 3
		ered = math.Abs(k)*0x1p-150 + math.Abs(rh)*0x1p-100
	}

	// |r| = a + t with a = i/256 and t = th + tl, |t| ≤ 1/512.
	neg := rh < 0
	ar, arl := rh, rl
	if neg {
		ar, arl = -rh, -rl
	}
	i := int(ar*256 + 0.5)
	th, te := twoSum(ar, -float64(i)*(1.0/256))
	tl := te + arl // |tl| ≤ 2^-53.9, th ≤ 2^-9

	// z = t² = zh + zl, to 2^-113.
	zh, ze := twoProd(th, th)
	zl := ze + float64(2*th)*tl
	// cos t = 1 + g1 + g2 to 2^-90: g1 = −zh/2 exactly, g2 the rest of
	// −z/2 + z²/24 − z³/720 + z⁴/40320 (z⁵/10! < 2^-112).
	g1 := -0.5 * zh
	g2 := -0.5*zl + zh*(zh*(c24-zh*(c720-zh*c40320))+zl*(1.0/12))
	// sin t = s0h + s0l to 2^-100 relative: t − t³/6 with t³/6 in
	// double-double, + t⁵/120 − t⁷/5040 (t⁹/9! < 2^-90 t).
	ph, pl := twoProd(zh, th)
	qh, ql := twoProd(ph, c6h)
	qlow := ql + ph*c6l + (pl+th*zl+tl*zh)*c6h
	h5 := th * zh * zh * (c120 - zh*c5040)
	s0h, s0l := fastTwoSum(th, qh)
	s0l += tl + qlow + h5

	var sinh, sinl, cosh, cosl float64
	if i == 0 {
		sinh, sinl = fastTwoSum(s0h, s0l)
		cosh, cosl = fastTwoSum(1, g1)
		cosh, cosl = fastTwoSum(cosh, cosl+g2)
	} else {
		e := &sinCosTable[i]
		// sin(a+t) = sin a cos t + cos a sin t: the three leading
		// products exactly, the rest (each below 2^-40.6) in one double
		// sum whose error is within 2^-90.
		m1, f1 := twoProd(e.ch, s0h)
		m2, f2 := twoProd(e.sh, g1)
		u1, v1 := fastTwoSum(e.sh, m1)
		u2, v2 := fastTwoSum(u1, m2)
		lo := v1 + v2 + f1 + f2 + e.sl + e.sh*g2 + e.ch*s0l + e.cl*s0h + e.sl*g1
		sinh, sinl = fastTwoSum(u2, lo)
		// cos(a+t) = cos a cos t − sin a sin t.
		n1, k1 := twoProd(e.sh, s0h)
		n2, k2 := twoProd(e.ch, g1)
		w1, x1 := fastTwoSum(e.ch, -n1)
		w2, x2 := fastTwoSum(w1, n2)
		lo = x1 + x2 - k1 + k2 + e.cl + e.ch*g2 - e.sh*s0l - e.sl*s0h + e.cl*g1
		cosh, cosl = fastTwoSum(w2, lo)
	}
	if neg {
		sinh, sinl = -sinh, -sinl
	}
	// sin and cos move by at most ered when r does.
	switch q {
	case 0:
		sh, sl, ch, cl = sinh, sinl, cosh, cosl
	case 1:
		sh, sl, ch, cl = cosh, cosl, -sinh, -sinl
	case 2:
		sh, sl, ch, cl = -sinh, -sinl, -cosh, -cosl
	default:
		sh, sl, ch, cl = -cosh, -cosl, sinh, sinl
	}
	return sh, sl, math.Abs(sh)*relErr + ered, ch, cl, math.Abs(ch)*relErr + ered
}

// roundsTo reports whether every real number within e of hi + lo rounds
// to hi, for fl(hi + lo) = hi and e ≥ 2^-100|hi| (much more than the
// rounding error of lo ± 2e). fl(lo + 2e) ≥ lo + e and fl(lo − 2e) ≤ lo − e,
// and rounding is monotonic: if hi plus either rounds to hi, so does
// everything between. NaN fails, and so does hi = 0 unless lo = e = 0
// (sincosFast never returns a zero).
func roundsTo(hi, lo, e float64) bool {
	return hi+(lo+2*e) == hi && hi+(lo-2*e) == hi
}

// sinOrCos chooses the function of sinCosBig.
type sinOrCos int

const (
	wantSin sinOrCos = iota
	wantCos
)

// sinCosBig returns sin x or cos x correctly rounded, with math/big, for
// any float64 x: slow (tens of microseconds, milliseconds the first time
// for a huge |x|) and exact.
func sinCosBig(x float64, f sinOrCos) float64 {
	switch {
	case math.IsNaN(x) || math.IsInf(x, 0):
		return math.NaN()
	case x == 0 && f == wantSin:
		return x
	case x == 0:
		return 1
	}
	for prec := uint(160); ; prec *= 2 {
		y, errExp := sinCosBigAt(x, f, prec)
		e := new(big.Float).SetMantExp(big.NewFloat(1), errExp)
		lo := new(big.Float).SetPrec(y.Prec() + 64).SetMode(big.ToNegativeInf)
		hi := new(big.Float).SetPrec(y.Prec() + 64).SetMode(big.ToPositiveInf)
		l, _ := lo.Sub(y, e).Float64() // Float64 rounds to nearest even
		h, _ := hi.Add(y, e).Float64()
		if l == h {
			return l
		}
	}
}

// sinCosBigAt returns sin x or cos x (x finite, not 0) within 2^errExp,
// computed with about prec bits.
func sinCosBigAt(x float64, f sinOrCos, prec uint) (y *big.Float, errExp int) {
	X := new(big.Float).SetFloat64(x) // exact
	_, ex := math.Frexp(x)            // |x| < 2^ex
	ex = max(ex, 0)
	P := prec + uint(ex) + 32
	// π/2 to within 2^-(P+1) relative (π to P+4 bits is within 2^-(P+2)).
	pio2 := new(big.Float).SetPrec(P + 4).Set(piAtLeast(P + 4))
	pio2.SetMantExp(pio2, -1)
	// k = round(x/(π/2)), |k| ≤ 2^ex.
	kq := new(big.Float).SetPrec(P).Quo(X, pio2)
	half := big.NewFloat(0.5)
	if kq.Sign() >= 0 {
		kq.Add(kq, half)
	} else {
		kq.Sub(kq, half)
	}
	k, _ := kq.Int(nil) // truncates: the nearest integer
	// r = x − k·π/2, exactly for this π/2 (the precision holds every
	// bit of the product and of the difference): within
	// |k|·2^-(P+1) ≤ 2^-(prec+33) of the true r, |r| ≤ π/4 + a hair.
	w := P + 4 + uint(ex) + 8
	r := new(big.Float).SetPrec(w).SetInt(k)
	r.Mul(r, pio2)
	r.Sub(X, r)
	q := int(new(big.Int).And(k, big.NewInt(3)).Int64())
	// The series at W bits: r rounded adds 2^-W.
	W := prec + 40
	r = new(big.Float).SetPrec(W).Set(r)
	useSin := (f == wantSin) == (q%2 == 0)
	y, n := taylor(r, useSin, W)
	if (f == wantSin && q >= 2) || (f == wantCos && (q == 1 || q == 2)) {
		y.Neg(y)
	}
	// Three errors, each below 2^m: the reduction's 2^-(prec+33),
	// r's rounding 2^-(prec+40), the series' (8n+16)·2^-W.
	m := max(-int(prec)-33, bits.Len(uint(8*n+16))-int(W))
	return y, m + 2
}

// taylor sums sin r (or cos r) at precision w for |r| < 0.8 and returns
// it with the number of terms: within (n+2)·2^-w, well inside
// (8n+16)·2^-w. Each term carries at most 3n roundings, relative; the
// n additions one each; the first term left out (|t| < 2^-(w+1)) bounds
// the rest of the alternating series.
func taylor(r *big.Float, useSin bool, w uint) (*big.Float, int) {
	r2 := new(big.Float).SetPrec(w).Mul(r, r)
	term := new(big.Float).SetPrec(w)
	j := int64(1) // the power of r in term
	if useSin {
		term.Set(r)
	} else {
		term.SetInt64(1)
		j = 0
	}
	sum := new(big.Float).SetPrec(w).Set(term)
	eps := new(big.Float).SetMantExp(big.NewFloat(1), -int(w)-1)
	d := new(big.Float)
	n := 1
	for ; ; n++ {
		term.Mul(term, r2)
		d.SetInt64(-(j + 1) * (j + 2))
		term.Quo(term, d)
		j += 2
		if term.Sign() == 0 || new(big.Float).Abs(term).Cmp(eps) < 0 {
			break
		}
		sum.Add(sum, term)
	}
	return sum, n
}

var (
	piMu  sync.Mutex
	piVal *big.Float // read only once published
)

// piAtLeast returns π to at least prec bits, within 2^-(prec-1) of it
// relative. The value is shared: do not modify it.
func piAtLeast(prec uint) *big.Float {
	piMu.Lock()
	defer piMu.Unlock()
	if piVal == nil || piVal.Prec() < prec {
		p := max(prec, 1024)
		if piVal != nil {
			p = max(p, 2*piVal.Prec())
		}
		piVal = machinPi(p)
	}
	return piVal
}

// machinPi returns π = 16 atan(1/5) − 4 atan(1/239) rounded to prec
// bits, within 2^-(prec-1) relative: the series run at prec+32 bits,
// where each of their n terms carries n+2 roundings at most and n < prec.
func machinPi(prec uint) *big.Float {
	w := prec + 32
	a := atanInv(5, w)
	b := atanInv(239, w)
	a.Mul(a, big.NewFloat(16))
	b.Mul(b, big.NewFloat(4))
	return new(big.Float).SetPrec(prec).Sub(a, b)
}

// atanInv returns atan(1/m) = Σ (−1)^j / ((2j+1) m^(2j+1)) at w bits.
func atanInv(m int64, w uint) *big.Float {
	sum := new(big.Float).SetPrec(w)
	pw := new(big.Float).SetPrec(w).SetInt64(1)
	pw.Quo(pw, new(big.Float).SetInt64(m))
	m2 := new(big.Float).SetInt64(m * m)
	eps := new(big.Float).SetMantExp(big.NewFloat(1), -int(w)-4)
	term := new(big.Float).SetPrec(w)
	d := new(big.Float)
	for j := int64(0); ; j++ {
		term.Quo(pw, d.SetInt64(2*j+1))
		if term.Cmp(eps) < 0 {
			break
		}
		if j%2 == 0 {
			sum.Add(sum, term)
		} else {
			sum.Sub(sum, term)
		}
		pw.Quo(pw, m2)
	}
	return sum
}
