"""Reference values for cartpole_test.go, from Gymnasium's CartPole-v1.

step() below is CartPoleEnv.step of gymnasium/envs/classic_control/cartpole.py
with the "euler" integrator, line for line, on Python floats as Gymnasium
computes it (math.cos, math.sin, **2), without NumPy: the observation's
float32 cast is done with struct. Run it with /usr/bin/python3 (Python's
math.sin, math.cos and ** call the C library's sin, cos and pow: the
reference values are glibc's, as Gymnasium's are on Linux): it prints the
table of TestHandTrajectory and writes gymnasium_pd.txt and
gymnasium_long.txt beside it. The Go tests read those; they do not run
Python.
"""
import math
import os
import random
import struct

gravity = 9.8
masscart = 1.0
masspole = 0.1
total_mass = masspole + masscart
length = 0.5
polemass_length = masspole * length
force_mag = 10.0
tau = 0.02
theta_threshold_radians = 12 * 2 * math.pi / 360
x_threshold = 2.4


def step(state, action):
    x, x_dot, theta, theta_dot = state
    force = force_mag if action == 1 else -force_mag
    costheta = math.cos(theta)
    sintheta = math.sin(theta)
    temp = (force + polemass_length * theta_dot**2 * sintheta) / total_mass
    thetaacc = (gravity * sintheta - costheta * temp) / (
        length * (4.0 / 3.0 - masspole * costheta**2 / total_mass)
    )
    xacc = temp - polemass_length * thetaacc * costheta / total_mass
    x = x + tau * x_dot
    x_dot = x_dot + tau * xacc
    theta = theta + tau * theta_dot
    theta_dot = theta_dot + tau * thetaacc
    state = (x, x_dot, theta, theta_dot)
    terminated = bool(
        x < -x_threshold
        or x > x_threshold
        or theta < -theta_threshold_radians
        or theta > theta_threshold_radians
    )
    return state, terminated


def f32(v):
    return struct.unpack("f", struct.pack("f", v))[0]


def pd(obs):
    # The balancing policy pd of cartpole_test.go, on the float32
    # observation.
    x, x_dot, theta, theta_dot = obs
    return 1 if x + 1.5 * x_dot + 20 * theta + 3 * theta_dot > 0 else 0


def main():
    print("// TestHandTrajectory: start (0.01, -0.02, 0.03, 0.04)")
    s = (0.01, -0.02, 0.03, 0.04)
    for a in [1, 1, 0, 1, 0, 0, 0, 1, 1, 0]:
        s, term = step(s, a)
        print("{%d, [4]float64{%r, %r, %r, %r}, %s}," % ((a,) + s + (str(term).lower(),)))

    # gymnasium_pd.txt: a whole episode of the balancing policy, one line
    # per step: the step number, the action taken from the observation of
    # the state before, the state after and whether it terminated.
    # Line 0 is the start state.
    s = (0.04, -0.03, -0.045, 0.02)
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "gymnasium_pd.txt"), "w") as f:
        f.write("# n action x x_dot theta theta_dot terminated (gymnasium_cartpole.py)\n")
        f.write("0 - %r %r %r %r false\n" % s)
        for n in range(1, 501):
            a = pd([f32(v) for v in s])
            s, term = step(s, a)
            f.write("%d %d %r %r %r %r %s\n" % ((n, a) + s + (str(term).lower(),)))
            if term:
                break

    long_episodes()


def long_episodes():
    # gymnasium_long.txt: eight long episodes that end by termination, for
    # TestGymnasiumLongEpisodes. Episode `seed` starts from
    # random.Random(seed), four draws uniform in [-0.05, 0.05); each step
    # takes the action of pd on the float32 observation, flipped when
    # random.Random(1000000 + seed) draws below 0.2 (a fixed sequence, not
    # looked at by the policy). Seeds are taken in order, and an episode is
    # kept when it terminates between steps 300 and 500. A block starts with
    # "episode seed x x_dot theta theta_dot" (the start), then one line per
    # step: n flip action x x_dot theta theta_dot terminated.
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gymnasium_long.txt")
    kept = []
    seed = 0
    while len(kept) < 8:
        r = random.Random(seed)
        s0 = tuple(r.uniform(-0.05, 0.05) for _ in range(4))
        flips = random.Random(1000000 + seed)
        s, rows = s0, []
        for n in range(1, 501):
            flip = 1 if flips.random() < 0.2 else 0
            a = pd([f32(v) for v in s]) ^ flip
            s, term = step(s, a)
            rows.append((n, flip, a) + s + (str(term).lower(),))
            if term:
                break
        if rows[-1][-1] == "true" and len(rows) >= 300:
            kept.append((seed, s0, rows))
        seed += 1
    with open(path, "w") as f:
        f.write("# episode seed x x_dot theta theta_dot, then n flip action x x_dot theta theta_dot terminated (gymnasium_cartpole.py)\n")
        for seed, s0, rows in kept:
            f.write("episode %d %r %r %r %r\n" % ((seed,) + s0))
            for row in rows:
                f.write("%d %d %d %r %r %r %r %s\n" % row)


main()
