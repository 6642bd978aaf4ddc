"""glibc's sin and cos on the arguments of sincos_args.txt, for sincos_hard_test.go.

Run it with Debian's /usr/bin/python3, whose math.sin and math.cos are
glibc's libm (as Gymnasium's are on Linux):

    /usr/bin/python3 env/classic/testdata/sincos_glibc.py

It reads sincos_args.txt (written by TestSearchHardArgs) and writes
sincos_glibc.txt beside it: per argument, glibc's sin and cos and the
correctly rounded ones, as float64 bit patterns. The correctly rounded
values come from cr() below, plain Python integers and no Go code: π by
Machin's formula, the reduction and the Taylor series in fixed point, and
the precision doubled until the result with its error bound rounds one
way (float() of a Fraction rounds correctly).
"""
import ctypes
import ctypes.util
import math
import os
import platform
import struct
from fractions import Fraction

here = os.path.dirname(os.path.abspath(__file__))


def bits(v):
    return "%016x" % struct.unpack("<Q", struct.pack("<d", v))[0]


def pi_fixed(w):
    # π·2^w to within 2: 16 atan(1/5) − 4 atan(1/239) with 20 guard bits,
    # each term truncated (an error below 1 unit each, 2^20 units after
    # the shift).
    g = w + 20

    def atan_inv(m):
        total, term, k, sign = 0, (1 << g) // m, 1, 1
        while term:
            total += sign * (term // k)
            term //= m * m
            k += 2
            sign = -sign
        return total

    return (16 * atan_inv(5) - 4 * atan_inv(239)) >> 20


def cr(x, want):
    """sin x (want "sin") or cos x correctly rounded to the nearest float."""
    if x == 0:
        return x if want == "sin" else 1.0
    num, den = x.as_integer_ratio()
    s = den.bit_length() - 1  # x = num / 2^s
    e = max(0, math.frexp(x)[1])  # |x| < 2^e
    p = 256
    while True:
        w = p + e + s + 16  # fraction bits of the fixed point
        X = num << (w - s)  # x·2^w, exactly
        pio2 = pi_fixed(w + 1) >> 2  # (π/2)·2^w to within 2
        k = (2 * X + pio2) // (2 * pio2)  # the nearest integer to x/(π/2)
        r = X - k * pio2  # r·2^w to within 2|k| + 1 ≤ 2^(e+2)
        r2 = (r * r) >> w
        use_sin = (want == "sin") == (k % 2 == 0)
        term, n = (r, 1) if use_sin else (1 << w, 0)
        total, terms = term, 0
        while term:
            term = -((term * r2) >> w) // ((n + 1) * (n + 2))
            total += term
            n += 2
            terms += 1
        # Each term is truncated twice and carries r2's error: a few units
        # each; r's own error moves sin and cos by as much.
        err = (1 << (e + 2)) + 8 * terms + 16
        q = k % 4
        neg = (want == "sin" and q >= 2) or (want == "cos" and q in (1, 2))
        lo, hi = float(Fraction(total - err, 1 << w)), float(Fraction(total + err, 1 << w))
        if lo == hi:
            return -lo if neg else lo
        p *= 2


def glibc_version():
    try:
        f = ctypes.CDLL(ctypes.util.find_library("c")).gnu_get_libc_version
        f.restype = ctypes.c_char_p
        return "glibc " + f().decode()
    except (OSError, AttributeError, TypeError):
        return "a C library that is not glibc"


def main():
    rows = []
    with open(os.path.join(here, "sincos_args.txt")) as f:
        for line in f:
            if not line.startswith("#"):
                xs, kind, hs, hc = line.split()
                rows.append((float.fromhex(xs), kind, hs, hc))
    with open(os.path.join(here, "sincos_glibc.txt"), "w") as f:
        f.write("# %s (Python %s, %s): written by sincos_glibc.py from sincos_args.txt.\n"
                % (glibc_version(), platform.python_version(), platform.machine()))
        f.write("# x kind hardness_sin hardness_cos glibc_sin glibc_cos cr_sin cr_cos (float64 bit patterns)\n")
        for x, kind, hs, hc in rows:
            f.write("%s %s %s %s %s %s %s %s\n" % (
                bits(x), kind, hs, hc, bits(math.sin(x)), bits(math.cos(x)), bits(cr(x, "sin")), bits(cr(x, "cos"))))


main()
