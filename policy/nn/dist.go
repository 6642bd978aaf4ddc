package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// The categorical distributions take unnormalised logits: a row of a policy
// net's output, or the scores of a variable number of candidate actions. A
// logit of −Inf masks its action out (probability 0, never sampled, no
// contribution to the entropy); at least one logit must be finite.

// logSumExp returns log Σ exp(l) and the largest logit.
func logSumExp(logits []float64) (lse, top float64) {
	if len(logits) == 0 {
		panic("nn: a categorical distribution needs at least one logit")
	}
	top = math.Inf(-1)
	for _, v := range logits {
		if v > top {
			top = v
		}
	}
	if math.IsInf(top, -1) {
		return top, top
	}
	s := 0.0
	for _, v := range logits {
		s += math.Exp(v - top)
	}
	return top + math.Log(s), top
}

// LogSoftmax writes log softmax(logits) into dst, which it grows if it is
// shorter than logits, and returns it (len(logits)). dst may be logits.
func LogSoftmax(logits []float64, dst []float64) []float64 {
	if cap(dst) < len(logits) {
		dst = make([]float64, len(logits))
	}
	dst = dst[:len(logits)]
	lse, _ := logSumExp(logits)
	for i, v := range logits {
		dst[i] = v - lse
	}
	return dst
}

// CategoricalLogProb returns log p(a) under softmax(logits).
func CategoricalLogProb(logits []float64, a int) float64 {
	checkAction(logits, a)
	lse, _ := logSumExp(logits)
	return logits[a] - lse
}

func checkAction(logits []float64, a int) {
	if a < 0 || a >= len(logits) {
		panic(fmt.Sprintf("nn: action %d out of range for %d logits", a, len(logits)))
	}
}

// CategoricalEntropy returns −Σ p log p under softmax(logits), in nats.
func CategoricalEntropy(logits []float64) float64 {
	lse, _ := logSumExp(logits)
	h := 0.0
	for _, v := range logits {
		lp := v - lse
		if p := math.Exp(lp); p > 0 {
			h -= p * lp
		}
	}
	return h
}

// CategoricalSample draws an action from softmax(logits) with one
// rng.Float64 (inverse CDF), so a seeded rng gives a fixed sequence.
func CategoricalSample(logits []float64, rng *rand.Rand) int {
	_, top := logSumExp(logits)
	total := 0.0
	for _, v := range logits {
		total += math.Exp(v - top)
	}
	u := rng.Float64() * total
	cum := 0.0
	pick := -1
	for i, v := range logits {
		p := math.Exp(v - top)
		if p == 0 {
			continue
		}
		pick = i
		cum += p
		if u < cum {
			return i
		}
	}
	return pick // rounding left u at the very top: the last possible action
}

// Argmax returns the index of the first largest value, or -1 for an empty
// slice. NaNs are never chosen unless every value is NaN (then 0).
func Argmax(v []float64) int {
	if len(v) == 0 {
		return -1
	}
	best := 0
	for i, x := range v {
		if x > v[best] || (math.IsNaN(v[best]) && !math.IsNaN(x)) {
			best = i
		}
	}
	return best
}

// CategoricalLogProbGrad writes d log p(a) / d logits = onehot(a) − p into
// dst (len(logits)), overwriting it.
func CategoricalLogProbGrad(logits []float64, a int, dst []float64) {
	checkAction(logits, a)
	dst = dst[:len(logits)]
	lse, _ := logSumExp(logits)
	for i, v := range logits {
		dst[i] = -math.Exp(v - lse)
	}
	dst[a]++
}

// CategoricalEntropyGrad writes d entropy / d logits = −p·(log p + H) into dst
// (len(logits)), overwriting it.
func CategoricalEntropyGrad(logits []float64, dst []float64) {
	dst = dst[:len(logits)]
	h := CategoricalEntropy(logits)
	lse, _ := logSumExp(logits)
	for i, v := range logits {
		lp := v - lse
		p := math.Exp(lp)
		if p == 0 {
			dst[i] = 0
			continue
		}
		dst[i] = -p * (lp + h)
	}
}

// halfLog2Pi is ½·ln(2π).
const halfLog2Pi = 0.91893853320467274178032973640561763986139747363778

// The diagonal Gaussian has a per-dimension mean (the policy net's output)
// and a state-independent log standard deviation (a learned Param, as in
// CleanRL's continuous PPO). All slices have the action dimension.

// GaussianLogProb returns log N(x; mean, exp(logStd)²·I), summed over
// dimensions.
func GaussianLogProb(mean, logStd, x []float64) float64 {
	checkGaussian(mean, logStd, x)
	lp := 0.0
	for i, m := range mean {
		z := (x[i] - m) * math.Exp(-logStd[i])
		lp += -0.5*z*z - logStd[i] - halfLog2Pi
	}
	return lp
}

func checkGaussian(mean, logStd, x []float64) {
	if len(logStd) != len(mean) || len(x) != len(mean) {
		panic(fmt.Sprintf("nn: Gaussian: mean, logStd and x have lengths %d, %d, %d; want equal", len(mean), len(logStd), len(x)))
	}
}

// GaussianEntropy returns Σ (½ + ½·ln 2π + logStd), the entropy of the
// diagonal Gaussian; it does not depend on the mean. Its gradient with
// respect to each logStd is 1.
func GaussianEntropy(logStd []float64) float64 {
	h := 0.0
	for _, s := range logStd {
		h += 0.5 + halfLog2Pi + s
	}
	return h
}

// GaussianSample writes mean + exp(logStd)·ε, ε ~ N(0, I) drawn with
// rng.NormFloat64 in dimension order, into dst (grown if it is too short)
// and returns it.
func GaussianSample(mean, logStd []float64, rng *rand.Rand, dst []float64) []float64 {
	if len(logStd) != len(mean) {
		panic(fmt.Sprintf("nn: GaussianSample: mean and logStd have lengths %d and %d; want equal", len(mean), len(logStd)))
	}
	if cap(dst) < len(mean) {
		dst = make([]float64, len(mean))
	}
	dst = dst[:len(mean)]
	for i, m := range mean {
		dst[i] = m + math.Exp(logStd[i])*rng.NormFloat64()
	}
	return dst
}

// GaussianLogProbGrad ADDS the gradients of GaussianLogProb(mean, logStd, x)
// into dMean ((x−mean)/σ²) and dLogStd ((x−mean)²/σ² − 1). Either may be nil
// to skip it. The entropy's gradient with respect to each logStd is 1 and
// with respect to the mean 0; it is not included here.
func GaussianLogProbGrad(mean, logStd, x, dMean, dLogStd []float64) {
	checkGaussian(mean, logStd, x)
	for i, m := range mean {
		inv := math.Exp(-logStd[i])
		z := (x[i] - m) * inv
		if dMean != nil {
			dMean[i] += z * inv
		}
		if dLogStd != nil {
			dLogStd[i] += z*z - 1
		}
	}
}
