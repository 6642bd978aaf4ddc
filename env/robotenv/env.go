// Package robotenv is pilot's robot environment: an SO-101 arm (simulated
// or real, over the same serial protocol) doing a reach or a pick-and-place
// task.
//
// Observations carry the joint state, camera frames and a text summary a
// model can read. Actions are a joint-target vector (continuous control,
// move_joints) or skills a language model can call: move_to(x, y, z),
// open_gripper(), close_gripper(), home(); plus noop() and stop(). Every
// action goes through the arm's safety layer (robot/arm): goals are
// clamped to the calibrated limits and to a maximum move per command.
//
// An unreachable point or a bad argument comes back in Observation.Error;
// a Go error (a lost port, an overheating servo) ends the session.
package robotenv

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/robot/arm"
	"github.com/pilotkit/pilot/robot/camera"
	"github.com/pilotkit/pilot/robot/feetech"
	"github.com/pilotkit/pilot/robot/kin"
)

// Defaults of Options.
const (
	DefaultMaxSteps  = 50
	DefaultControlHz = 50
	DefaultStepTime  = 100 * time.Millisecond
	DefaultMoveTime  = 4 * time.Second
	// Speed of the tip along a move_to line, m/s.
	DefaultTipSpeed = 0.25
	// Speeds of the joints' and the gripper's setpoints.
	DefaultJointSpeed   = 120 // degrees/s
	DefaultGripperSpeed = 250 // percent/s
	// Reset's homing: every joint must come within DefaultHomeTolerance
	// (degrees; percent for the gripper) of home within DefaultHomeTimeout.
	DefaultHomeTolerance = 3.0
	DefaultHomeTimeout   = 6 * time.Second
)

// Options configure an Env.
type Options struct {
	Task string // Reach or Pick
	// MaxSteps truncates an episode after this many steps; 0 means
	// DefaultMaxSteps, negative no limit.
	MaxSteps int
	// Images puts a camera frame (JPEG) in every observation, when the rig
	// has a camera.
	Images bool
	// ImageQuality is the JPEG quality, 0 means 80.
	ImageQuality int
	// ControlHz is the rate of the control loop under every action.
	ControlHz float64
	// StepTime is how long move_joints and noop drive the arm.
	StepTime time.Duration
	// MoveTime bounds a skill (move_to, grippers, home).
	MoveTime time.Duration
	// TipSpeed is the tip's speed along move_to's straight line, m/s.
	TipSpeed float64
	// JointSpeed (degrees/s) and GripperSpeed (percent/s) pace
	// move_joints, the grippers, home and noop: their setpoints move no
	// faster. 0 means DefaultJointSpeed and DefaultGripperSpeed.
	JointSpeed, GripperSpeed float64
	// HomeTolerance is how close (degrees; percent for the gripper) Reset
	// wants every joint to home, read back from the servos; 0 means
	// DefaultHomeTolerance.
	HomeTolerance float64
	// HomeTimeout bounds Reset's homing (clock time): a joint not within
	// HomeTolerance by then fails Reset. 0 means DefaultHomeTimeout.
	HomeTimeout time.Duration
}

// Env is a robot task over a Rig. It is not safe for concurrent use.
type Env struct {
	rig  *Rig
	opts Options
	spec env.Spec

	layout  Layout
	task    env.Task
	started bool
	over    bool
	closed  bool
	steps   int
	phi     float64
	goal    []float64 // the last goal sent, joint units
	home    []float64
	epoch   uint64          // counts resets: a snapshot lasts one episode
	last    env.Observation // the latest observation, for snapshots
	twin    *twin           // made by Twin, closed by Close
}

var _ env.Env = (*Env)(nil)

// New returns a task env over rig. The env owns the rig: Close closes it.
func New(rig *Rig, opts Options) (*Env, error) {
	if opts.Task != Reach && opts.Task != Pick {
		return nil, fmt.Errorf("robot task %q is unknown: want %q or %q", opts.Task, Reach, Pick)
	}
	if opts.MaxSteps == 0 {
		opts.MaxSteps = DefaultMaxSteps
	}
	if opts.ImageQuality == 0 {
		opts.ImageQuality = 80
	}
	if opts.ControlHz == 0 {
		opts.ControlHz = DefaultControlHz
	}
	if opts.StepTime == 0 {
		opts.StepTime = DefaultStepTime
	}
	if opts.MoveTime == 0 {
		opts.MoveTime = DefaultMoveTime
	}
	if opts.TipSpeed == 0 {
		opts.TipSpeed = DefaultTipSpeed
	}
	if opts.JointSpeed == 0 {
		opts.JointSpeed = DefaultJointSpeed
	}
	if opts.GripperSpeed == 0 {
		opts.GripperSpeed = DefaultGripperSpeed
	}
	if opts.HomeTolerance == 0 {
		opts.HomeTolerance = DefaultHomeTolerance
	}
	if !(opts.HomeTolerance > 0) {
		return nil, fmt.Errorf("robotenv: HomeTolerance %v: want more than 0 (degrees)", opts.HomeTolerance)
	}
	if opts.HomeTimeout == 0 {
		opts.HomeTimeout = DefaultHomeTimeout
	}
	if opts.HomeTimeout < 0 {
		return nil, fmt.Errorf("robotenv: HomeTimeout %v: want more than 0", opts.HomeTimeout)
	}
	e := &Env{rig: rig, opts: opts, spec: Spec(opts.Task)}
	q, err := kin.IK(homeTip, -math.Pi/2, kin.Joints{})
	if err != nil {
		return nil, fmt.Errorf("robotenv: home pose: %w", err)
	}
	e.home = append(jointsToUser(q), 50)
	return e, nil
}

// homeTip is where home() puts the tip: above the middle of the table.
var homeTip = kin.Vec3{0.15, 0, 0.08}

// Spec is the spec of a robot task env.
func Spec(kind string) env.Spec {
	num := func(n, doc string) env.Param { return env.Param{Name: n, Type: env.Number, Doc: doc} }
	return env.Spec{
		Name: "robot:" + kind,
		Actions: []env.ActionSpec{
			{Name: "move_to", Doc: "Move the gripper tip in a straight line to (x, y, z), in metres in the arm's frame (x forward, y left, z up from the table), the gripper pointing down.",
				Params: []env.Param{num("x", "metres forward"), num("y", "metres to the left"), num("z", "metres above the table")}},
			{Name: "open_gripper", Doc: "Open the gripper fully."},
			{Name: "close_gripper", Doc: "Close the gripper; it stops on whatever is between the fingers."},
			{Name: "home", Doc: "Return to the home pose above the table (the gripper keeps its opening)."},
			{Name: "move_joints", Doc: "Set joint targets for one step: shoulder_pan, shoulder_lift, elbow_flex, wrist_flex, wrist_roll in degrees, gripper in percent open. The safety layer limits how far each step moves.",
				Params: []env.Param{{Name: "targets", Type: env.Vector, Doc: "six values: five joint angles in degrees, then the gripper in percent open"}}},
			{Name: "torque", Doc: "Turn the servos' torque off (the arm goes limp and falls where nothing holds it; a person can then move it by hand) or on (it holds where it is). Any move turns it on again.",
				Params: []env.Param{{Name: "state", Type: env.String, Enum: []string{"on", "off"}, Doc: "on or off"}}},
			{Name: "noop", Doc: "Hold still for one step."},
			{Name: "stop", Doc: "End the episode: the task is judged as it stands."},
		},
		Modalities: []string{"text", "image", "state"},
	}
}

// Spec returns the env's spec.
func (e *Env) Spec() env.Spec { return e.spec }

// Rig returns the rig the env drives.
func (e *Env) Rig() *Rig { return e.rig }

// Layout returns the current episode's layout.
func (e *Env) Layout() Layout { return e.layout }

// backendLost marks an error of a lost serial port (feetech.ErrPortGone)
// as env.ErrBackendLost, for harnesses that tell infrastructure faults
// from failures.
func backendLost(err error) error {
	if err == nil || !errors.Is(err, feetech.ErrPortGone) {
		return err
	}
	return lostPort{err}
}

type lostPort struct{ error }

func (l lostPort) Unwrap() error        { return l.error }
func (l lostPort) Is(target error) bool { return target == env.ErrBackendLost }

// Reset arranges the task's scene from t.Seed and returns the first
// observation. The arm goes home first.
func (e *Env) Reset(ctx context.Context, t env.Task) (_ env.Observation, err error) {
	defer func() { err = backendLost(err) }()
	if e.closed {
		return env.Observation{}, env.ErrClosed
	}
	l, err := NewLayout(e.opts.Task, t.Seed)
	if err != nil {
		return env.Observation{}, err
	}
	if t.Instruction == "" {
		t.Instruction = Instruction(e.opts.Task, l)
	}
	e.task, e.layout = t, l
	e.started, e.over, e.steps = false, false, 0
	e.epoch++
	// Home with the gripper open, clear of the table, before the scene is
	// arranged around the arm.
	st, err := e.rig.Arm.Read(ctx)
	if err != nil {
		return env.Observation{}, fmt.Errorf("robotenv: reset: %w", err)
	}
	e.goal = append([]float64(nil), st.Pos...)
	homeGoal := append([]float64(nil), e.home...)
	homeGoal[len(homeGoal)-1] = 100
	if err := e.goHome(ctx, homeGoal); err != nil {
		return env.Observation{}, fmt.Errorf("robotenv: reset: %w", err)
	}
	if e.rig.Scene != nil {
		if err := e.rig.Scene.Arrange(ctx, e.opts.Task, l); err != nil {
			return env.Observation{}, fmt.Errorf("robotenv: reset: arrange the scene: %w", err)
		}
	}
	obs, s, err := e.observe(ctx, "")
	if err != nil {
		return env.Observation{}, fmt.Errorf("robotenv: reset: %w", err)
	}
	e.phi = potential(e.opts.Task, l, s)
	e.started = true
	e.last = obs
	return obs, nil
}

// Step applies a through the arm's safety layer and returns what followed.
func (e *Env) Step(ctx context.Context, a env.Action) (_ env.Step, err error) {
	defer func() { err = backendLost(err) }()
	switch {
	case e.closed:
		return env.Step{}, env.ErrClosed
	case !e.started:
		return env.Step{}, env.ErrNotReset
	case e.over:
		return env.Step{}, env.ErrEpisodeOver
	}
	e.steps++
	info := map[string]any{}
	actErr := ""
	if err := e.spec.Validate(a); err != nil {
		actErr = err.Error()
	} else if msg, err := e.act(ctx, a, info); err != nil {
		return env.Step{}, err
	} else {
		actErr = msg
	}
	obs, s, err := e.observe(ctx, actErr)
	if err != nil {
		return env.Step{}, err
	}
	phi := potential(e.opts.Task, e.layout, s)
	st := env.Step{Obs: obs, Reward: phi - e.phi, Info: info}
	e.phi = phi
	ok := success(e.opts.Task, e.layout, s)
	info[env.InfoSuccess] = ok
	info["tip"] = round3(s.Tip[:])
	if e.opts.Task == Reach {
		info["distance"] = round3([]float64{dist(s.Tip, e.layout.Target)})[0]
	} else if red, have := s.Cubes["red"]; have {
		info["cube_to_zone"] = round3([]float64{xy(red, s.Zone)})[0]
		info["held"] = s.Held
	}
	switch {
	case ok:
		st.Reward++
		st.Terminated, st.Reason = true, "success"
	case a.Name == "stop" && actErr == "":
		st.Terminated, st.Reason = true, "stopped before the task was done"
	case e.opts.MaxSteps > 0 && e.steps >= e.opts.MaxSteps:
		st.Truncated, st.Reason = true, fmt.Sprintf("step limit %d reached", e.opts.MaxSteps)
	}
	e.over = st.Done()
	e.last = obs
	return st, nil
}

// act runs one valid action. The string is an action error for the
// observation; the error ends the session.
func (e *Env) act(ctx context.Context, a env.Action, info map[string]any) (string, error) {
	n := len(e.goal)
	if !e.rig.Arm.TorqueOn() {
		// A limp arm is where it fell or was put: goals start from there,
		// not from the pose it held before.
		if err := e.goalFromPresent(ctx); err != nil {
			return "", err
		}
	}
	switch a.Name {
	case "move_to":
		var p kin.Vec3
		for i := range p {
			p[i], _ = strconv.ParseFloat(strings.TrimSpace(a.Args[i]), 64)
		}
		return e.moveTo(ctx, p, info)
	case "open_gripper", "close_gripper":
		g := append([]float64(nil), e.goal...)
		g[n-1] = 100
		if a.Name == "close_gripper" {
			g[n-1] = 0
		}
		if _, err := e.moveJoints(ctx, g, e.opts.MoveTime, true); err != nil {
			return "", err
		}
		if a.Name == "close_gripper" {
			return "", e.easeGrip(ctx)
		}
		return "", nil
	case "home":
		g := append([]float64(nil), e.home...)
		g[n-1] = e.goal[n-1]
		_, err := e.moveJoints(ctx, g, e.opts.MoveTime, true)
		return "", err
	case "move_joints":
		if len(a.Vec) != n {
			return fmt.Sprintf("move_joints needs %d values (%s), got %d", n, e.jointNames(), len(a.Vec)), nil
		}
		clamps, err := e.moveJoints(ctx, a.Vec, e.opts.StepTime, false)
		if len(clamps) > 0 {
			info["clamps"] = clamps
		}
		return "", err
	case "noop", "stop":
		if !e.rig.Arm.TorqueOn() {
			// A limp arm stays limp while it waits.
			return "", e.rig.Arm.Clock().Sleep(ctx, e.opts.StepTime)
		}
		_, err := e.moveJoints(ctx, e.goal, e.opts.StepTime, false)
		return "", err
	case "torque":
		var err error
		if a.Arg(0) == "off" {
			err = e.rig.Arm.Relax(ctx)
		} else {
			err = e.rig.Arm.Engage(ctx)
		}
		var te *arm.TorqueError
		switch {
		case errors.As(err, &te), errors.Is(err, arm.ErrNotEngaged):
			// Not confirmed: the step says so, and the session goes on
			// (a move turns every servo on again).
			return err.Error(), e.goalFromPresent(ctx)
		case err != nil:
			return "", err
		}
		// Hold where the arm is now, not where it was before.
		return "", e.goalFromPresent(ctx)
	}
	return fmt.Sprintf("action %s is not implemented", a.Name), nil
}

// goalFromPresent makes the present position the goal, the gripper's
// opening included.
func (e *Env) goalFromPresent(ctx context.Context) error {
	st, err := e.rig.Arm.Read(ctx)
	if err != nil {
		return err
	}
	copy(e.goal, st.Pos)
	return nil
}

func (e *Env) jointNames() string {
	var s []string
	for _, j := range e.rig.Arm.Joints() {
		s = append(s, j.Name)
	}
	return strings.Join(s, ", ")
}

// goHome drives the arm to goal until every joint reads within
// HomeTolerance of it, for up to HomeTimeout of clock time, and otherwise
// fails naming the joints that did not arrive and how far they are.
func (e *Env) goHome(ctx context.Context, goal []float64) error {
	clk := e.rig.Arm.Clock()
	start := clk.Now()
	deadline := start + e.opts.HomeTimeout
	for {
		left := deadline - clk.Now()
		if left > 0 {
			// With settle, moveJoints may return early on a joint that
			// stopped short (stalled, blocked): drive again until the
			// deadline, then judge.
			if _, err := e.moveJoints(ctx, goal, left, true); err != nil {
				return fmt.Errorf("go home: %w", err)
			}
		}
		st, err := e.rig.Arm.Read(ctx)
		if err != nil {
			return fmt.Errorf("go home: %w", err)
		}
		// e.goal is goal as moveJoints clamped it to the calibrated range.
		far := e.awayFrom(e.goal, st.Pos)
		if len(far) == 0 {
			return nil
		}
		if clk.Now() >= deadline {
			return fmt.Errorf("%s from home after %v: check that nothing blocks %s and that the calibration is right "+
				"(`pilot robot read` shows the joints), or raise the homing time (HomeTimeout, now %v) or tolerance (HomeTolerance, now %g°)",
				strings.Join(far, ", "), (clk.Now() - start).Round(100*time.Millisecond), them(len(far)), e.opts.HomeTimeout, e.opts.HomeTolerance)
		}
	}
}

// awayFrom describes the joints of pos farther than HomeTolerance from
// goal ("wrist_roll is 41°", "gripper is 12 %").
func (e *Env) awayFrom(goal, pos []float64) []string {
	var far []string
	for i, j := range e.rig.Arm.Joints() {
		d := math.Abs(pos[i] - goal[i])
		if j.FullTurn {
			d = math.Mod(d, 360)
			d = math.Min(d, 360-d)
		}
		if d <= e.opts.HomeTolerance {
			continue
		}
		unit := "°"
		if j.Gripper {
			unit = " %"
		}
		far = append(far, fmt.Sprintf("%s is %.0f%s", j.Name, d, unit))
	}
	return far
}

func them(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

// moveJoints drives the arm toward goal for up to d of clock time; with
// settle it returns as soon as the arm has stopped moving near the goal
// (or stalled: a gripper closing on a cube).
func (e *Env) moveJoints(ctx context.Context, goal []float64, d time.Duration, settle bool) ([]arm.Clamp, error) {
	goal = append([]float64(nil), goal...)
	lo, hi := e.rig.Arm.Limits()
	var clamps []arm.Clamp
	seen := map[string]bool{}
	joints := e.rig.Arm.Joints()
	for i := range goal {
		// The setpoint stays inside the limits (the arm would clamp each
		// command anyway); report it as the arm does.
		if g := math.Min(math.Max(goal[i], lo[i]), hi[i]); g != goal[i] {
			clamps = append(clamps, arm.Clamp{Joint: joints[i].Name, Requested: goal[i], Sent: g, Why: "calibrated range"})
			seen[joints[i].Name+"calibrated range"] = true
			goal[i] = g
		}
	}
	e.goal = goal
	clk := e.rig.Arm.Clock()
	period := time.Duration(float64(time.Second) / e.opts.ControlHz)
	dt := period.Seconds()
	start := clk.Now()
	end := start + d
	var sp []float64 // the setpoint, moving toward goal at the joint speed
	var prev []int
	still := 0
	last := start
	for i := 0; ; i++ {
		now := clk.Now()
		if now >= end {
			return clamps, nil
		}
		if sp == nil {
			st, err := e.rig.Arm.Read(ctx)
			if err != nil {
				return clamps, err
			}
			sp = append([]float64(nil), st.Pos...)
		} else {
			// The setpoint moves at the joint speed in clock time: a
			// cycle that came late (a busy machine) moves it further,
			// up to 4 periods' worth (the arm caps each command anyway).
			dt = min(now-last, 4*period).Seconds()
		}
		last = now
		for j := range sp {
			v := e.opts.JointSpeed
			if j == len(sp)-1 {
				v = e.opts.GripperSpeed
			}
			sp[j] += math.Max(-v*dt, math.Min(v*dt, goal[j]-sp[j]))
		}
		res, err := e.rig.Arm.Step(ctx, sp)
		if err != nil {
			return clamps, err
		}
		for _, c := range res.Clamps {
			if !seen[c.Joint+c.Why] {
				seen[c.Joint+c.Why] = true
				clamps = append(clamps, c)
			}
		}
		if settle {
			s := res.State
			near := true
			for j := range goal {
				if math.Abs(s.Pos[j]-goal[j]) > 1.0 {
					near = false
				}
			}
			if prev != nil && sameRaw(prev, s.Raw, 2) {
				still++
			} else {
				still = 0
			}
			prev = append(prev[:0], s.Raw...)
			if (near && still >= 2) || still >= 8 {
				return clamps, nil
			}
		}
		next := start + time.Duration(i+1)*period
		if err := clk.Sleep(ctx, next-clk.Now()); err != nil {
			return clamps, err
		}
	}
}

// gripSqueeze is how far past a held object's width (percent) the gripper
// keeps pushing: a light grip, well under the servo's overload protection,
// as a person tunes a real SO-101.
const gripSqueeze = 1.0

// easeGrip, after the gripper closed on something, sets its goal just
// past where it stopped, so it holds without straining.
func (e *Env) easeGrip(ctx context.Context) error {
	st, err := e.rig.Arm.Read(ctx)
	if err != nil {
		return err
	}
	n := len(st.Pos)
	if st.Pos[n-1] <= gripSqueeze+1 {
		return nil // closed on nothing
	}
	g := append([]float64(nil), e.goal...)
	g[n-1] = st.Pos[n-1] - gripSqueeze
	_, err = e.moveJoints(ctx, g, 3*time.Duration(float64(time.Second)/e.opts.ControlHz), false)
	return err
}

func sameRaw(a, b []int, tol int) bool {
	for i := range a {
		if d := a[i] - b[i]; d > tol || d < -tol {
			return false
		}
	}
	return true
}

// moveTo moves the tip along a straight line to p, pointing down.
func (e *Env) moveTo(ctx context.Context, p kin.Vec3, info map[string]any) (string, error) {
	st, err := e.rig.Arm.Read(ctx)
	if err != nil {
		return "", err
	}
	q0 := userToJoints(st.Pos)
	if _, err := kin.IK(p, -math.Pi/2, q0); err != nil {
		return fmt.Sprintf("move_to(%.3f, %.3f, %.3f): %v", p[0], p[1], p[2], err), nil
	}
	from := kin.FK(q0).Pos
	length := dist(from, p)
	clk := e.rig.Arm.Clock()
	start := clk.Now()
	travel := time.Duration(length / e.opts.TipSpeed * float64(time.Second))
	end := start + travel + e.opts.MoveTime
	grip := e.goal[len(e.goal)-1]
	seed := q0
	var prev []int
	still := 0
	var lastErr error
	_, err = e.rig.Arm.Loop(ctx, e.opts.ControlHz, func(s arm.State) ([]float64, error) {
		now := clk.Now()
		if now >= end {
			return nil, arm.ErrDone
		}
		frac := 1.0
		if travel > 0 {
			frac = math.Min(1, float64(now-start)/float64(travel))
		}
		w := kin.Vec3{from[0] + (p[0]-from[0])*frac, from[1] + (p[1]-from[1])*frac, from[2] + (p[2]-from[2])*frac}
		q, err := kin.IK(w, -math.Pi/2, seed)
		if err != nil {
			lastErr = err
			return nil, arm.ErrDone
		}
		seed = q
		g := append(jointsToUser(q), grip)
		e.goal = g
		if frac >= 1 {
			if prev != nil && sameRaw(prev, s.Raw, 1) {
				still++
			} else {
				still = 0
			}
			prev = append(prev[:0], s.Raw...)
			if still >= 2 && dist(kin.FK(userToJoints(s.Pos)).Pos, p) < 0.003 {
				return nil, arm.ErrDone
			}
		}
		return g, nil
	})
	if err != nil {
		return "", err
	}
	if lastErr != nil {
		return fmt.Sprintf("move_to(%.3f, %.3f, %.3f): stopped on the way: %v", p[0], p[1], p[2], lastErr), nil
	}
	return "", nil
}

// jointsToUser converts kinematic angles (radians) to the arm's units
// (degrees from the calibration pose).
func jointsToUser(q kin.Joints) []float64 {
	out := make([]float64, len(q))
	for i, v := range q {
		out[i] = v * 180 / math.Pi
	}
	return out
}

// userToJoints converts the arm's degrees (the first five joints) to
// kinematic angles.
func userToJoints(pos []float64) kin.Joints {
	var q kin.Joints
	for i := range q {
		q[i] = pos[i] * math.Pi / 180
	}
	return q
}

func round3(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = math.Round(x*1000) / 1000
	}
	return out
}

// Close turns the arm's torque off and releases the rig.
func (e *Env) Close() error {
	if e.closed {
		return nil
	}
	e.closed = true
	var errs []error
	if e.twin != nil {
		errs = append(errs, e.twin.Close())
	}
	return errors.Join(append(errs, e.rig.Close())...)
}

// errNoCamera is returned by frame when the rig has no camera.
var errNoCamera = errors.New("no camera")

func (e *Env) frame(ctx context.Context) (env.Image, error) {
	if e.rig.Camera == nil {
		return env.Image{}, errNoCamera
	}
	f, err := e.rig.Camera.Read(ctx)
	if err != nil {
		return env.Image{}, err
	}
	b, err := camera.JPEG(f.Image, e.opts.ImageQuality)
	if err != nil {
		return env.Image{}, err
	}
	r := f.Image.Bounds()
	return env.Image{MIME: "image/jpeg", Data: b, W: r.Dx(), H: r.Dy()}, nil
}
