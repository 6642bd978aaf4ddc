"""Reference values for cartpole_test.go, from Gymnasium's CartPole-v1.

step() below is CartPoleEnv.step of gymnasium/envs/classic_control/cartpole.py
with the "euler" integrator, line for line, on Python floats as Gymnasium
computes it (math.cos, math.sin, **2), without NumPy: the observation's
float32 cast is done with struct. Run it with any Python 3: it prints the
table of TestHandTrajectory and writes gymnasium_pd.txt beside it. The Go
tests read gymnasium_pd.txt; they do not run Python.
"""
import math
import os
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


main()
