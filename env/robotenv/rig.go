package robotenv

import (
	"context"
	"errors"
	"image"
	"log/slog"
	"math"
	"time"

	"github.com/pilotkit/pilot/robot/arm"
	"github.com/pilotkit/pilot/robot/camera"
	"github.com/pilotkit/pilot/robot/feetech"
	"github.com/pilotkit/pilot/robot/kin"
	"github.com/pilotkit/pilot/robot/serial"
	"github.com/pilotkit/pilot/robot/sim"
)

// Scene is the world around the arm, as far as pilot can see it.
type Scene interface {
	// Arrange puts the task's objects in place: a simulator moves them;
	// on hardware a person is asked to.
	Arrange(ctx context.Context, kind string, l Layout) error
	// Look returns where the cubes are and what the gripper holds.
	Look(ctx context.Context) (Look, error)
}

// Look is what a Scene sees.
type Look struct {
	Cubes map[string]kin.Vec3
	Held  string // the cube between the fingers, "" for none
	Known bool   // the positions are measured (a simulator), not assumed
}

// Rig is what an Env drives: an arm behind its safety layer, a scene and
// an optional camera.
type Rig struct {
	Arm     *arm.Arm
	Scene   Scene          // nil: no scene (reach needs none)
	Camera  camera.Camera  // nil: no images
	Sim     *sim.Sim       // the in-process simulator, when there is one
	Bus     *feetech.Bus   // the servo bus; its Stats count retries
	armOpts arm.Options    // the safety limits it was opened with, for a twin
	closers []func() error // run in reverse order by Close
}

// Close turns torque off and releases the bus, the camera and the
// simulator. It is idempotent.
func (r *Rig) Close() error {
	var errs []error
	for i := len(r.closers) - 1; i >= 0; i-- {
		errs = append(errs, r.closers[i]())
	}
	r.closers = nil
	return errors.Join(errs...)
}

// SimCalibration is the calibration of the simulated SO-101: no homing
// offsets (the simulator's encoders read 2048 in the calibration pose) and
// ranges at the joint limits of its kinematic model.
func SimCalibration() arm.Calibration {
	lim := kin.Limits()
	c := arm.Calibration{}
	for i, j := range arm.SO101() {
		jc := arm.JointCal{ID: int(j.ID)}
		switch {
		case j.Gripper:
			jc.RangeMin, jc.RangeMax = sim.GripperEncoder(0), sim.GripperEncoder(1)
		case j.FullTurn:
			jc.RangeMin, jc.RangeMax = 0, arm.Resolution-1
		default:
			jc.RangeMin = int(math.Ceil(float64(arm.Center) + lim[i][0]*arm.Resolution/(2*math.Pi)))
			jc.RangeMax = int(math.Floor(float64(arm.Center) + lim[i][1]*arm.Resolution/(2*math.Pi)))
		}
		c[j.Name] = jc
	}
	return c
}

// SimBusTimeout and SimBusRetries are the bus's reply timeout and retries
// toward a simulator on a pseudo-terminal. It runs on the same, possibly
// busy, machine, where the scheduler and the kernel's tty layer can hold
// its replies up for a second and more (0.9 s measured with two cores
// busy), while a reply it drops on purpose (--drop-rate) should cost
// little: short attempts, many of them, 4 s in all before the bus gives
// up.
const (
	SimBusTimeout = 250 * time.Millisecond
	SimBusRetries = 15
)

// RigOptions configure a rig.
type RigOptions struct {
	// Seed of the simulator (faults, noise).
	Seed int64
	// Faults injects bus and servo troubles into an in-process simulator
	// (NewFast).
	Faults sim.Faults
	// Calibration of a real arm; nil loads it from CalibrationPath.
	Calibration arm.Calibration
	// CalibrationPath is the calibration file of a real arm; "" means
	// arm.DefaultCalibrationPath("so101_follower").
	CalibrationPath string
	// Camera is a gocv camera source for a real arm ("0", a file, a URL);
	// "" means none.
	Camera string
	// Arm options (safety limits); Clock, Watchdog and WriteCalibration
	// are set by the rig for a simulator.
	Arm    arm.Options
	Logger *slog.Logger
}

// NewFast returns a rig over an in-process simulator: the same servo
// protocol and physics with no serial port, and simulated time that moves
// only when the arm waits, so episodes run as fast as the CPU allows and
// repeat exactly for a seed.
func NewFast(ctx context.Context, opts RigOptions) (*Rig, error) {
	s, err := sim.New(sim.Options{Seed: opts.Seed, Faults: opts.Faults, Logger: opts.Logger})
	if err != nil {
		return nil, err
	}
	r := &Rig{Sim: s, armOpts: opts.Arm, closers: []func() error{s.Close}}
	bus := feetech.NewBus(s.Port(), feetech.Options{Timeout: time.Millisecond, Retries: 5, Logger: opts.Logger})
	r.Bus = bus
	ao := opts.Arm
	ao.Clock, ao.Watchdog, ao.WriteCalibration, ao.Logger = s.Clock(), -1, true, opts.Logger
	a, err := arm.Open(ctx, bus, SimCalibration(), ao)
	if err != nil {
		r.Close()
		return nil, err
	}
	r.Arm = a
	r.closers = append(r.closers, a.Close)
	r.Scene = localScene{s}
	r.Camera = camera.FromFunc(func(context.Context) (image.Image, error) { return s.Frame(), nil })
	return r, nil
}

// Dial returns a rig over the serial port at path: a real arm, or a
// simulator started with `pilot robot sim` (found by its port, which it
// announces), whose scene and camera then come from its control address.
func Dial(ctx context.Context, path string, opts RigOptions) (*Rig, error) {
	return DialWith(ctx, serial.Open, path, opts)
}

// DialWith is Dial with a given port opener.
func DialWith(ctx context.Context, open serial.Opener, path string, opts RigOptions) (*Rig, error) {
	control, isSim := sim.Lookup(path)
	// The port first: a wrong path says "no such port" (and lists the
	// ports there are) before anything about calibration.
	port, err := open(path, serial.Config{Baud: 1_000_000})
	if err != nil {
		return nil, err
	}
	cal := opts.Calibration
	ao := opts.Arm
	ao.Logger = opts.Logger
	if isSim {
		cal = SimCalibration()
		ao.WriteCalibration = true
	} else if cal == nil {
		p := opts.CalibrationPath
		if p == "" {
			if p, err = arm.DefaultCalibrationPath("so101_follower"); err != nil {
				return nil, errors.Join(err, port.Close())
			}
		}
		if cal, err = arm.LoadCalibration(p, arm.SO101()); err != nil {
			return nil, errors.Join(err, port.Close())
		}
	}
	bo := feetech.Options{Logger: opts.Logger}
	if isSim {
		// The simulator shares the machine's CPUs with us: give it more
		// than a servo's reply latency before retrying.
		bo.Timeout, bo.Retries = SimBusTimeout, SimBusRetries
	}
	bus := feetech.NewBus(port, bo)
	r := &Rig{Bus: bus, armOpts: opts.Arm, closers: []func() error{bus.Close}}
	a, err := arm.Open(ctx, bus, cal, ao)
	if err != nil {
		r.Close()
		return nil, err
	}
	r.Arm = a
	r.closers = append(r.closers, a.Close)
	switch {
	case isSim:
		rs := remoteScene{sim.Remote{URL: control}}
		r.Scene = rs
		r.Camera = camera.FromFunc(rs.frame)
	case opts.Camera != "":
		cam, err := camera.Open(ctx, opts.Camera, camera.Options{Logger: opts.Logger})
		if err != nil {
			r.Close()
			return nil, err
		}
		r.Camera = cam
		r.closers = append(r.closers, cam.Close)
	}
	return r, nil
}

// localScene is the in-process simulator's world.
type localScene struct{ s *sim.Sim }

func (l localScene) Arrange(_ context.Context, kind string, lay Layout) error {
	return l.s.Arrange(lay.Cubes, lay.Zone, ZoneRadius)
}

func (l localScene) Look(context.Context) (Look, error) {
	return lookOf(l.s.Scene()), nil
}

func lookOf(st sim.SceneState) Look {
	lk := Look{Cubes: map[string]kin.Vec3{}, Known: true}
	for _, c := range st.Cubes {
		lk.Cubes[c.Name] = c.Pos
		if c.Held {
			lk.Held = c.Name
		}
	}
	return lk
}

// remoteScene is a simulator in another process, through its control
// address (see sim.ControlHandler).
type remoteScene struct{ r sim.Remote }

func (s remoteScene) Arrange(ctx context.Context, kind string, l Layout) error {
	return s.r.Arrange(ctx, sim.Arrangement{Cubes: l.Cubes, Zone: l.Zone, ZoneRadius: ZoneRadius})
}

func (s remoteScene) Look(ctx context.Context) (Look, error) {
	st, err := s.r.Scene(ctx)
	if err != nil {
		return Look{}, err
	}
	return lookOf(st), nil
}

func (s remoteScene) frame(ctx context.Context) (image.Image, error) { return s.r.Frame(ctx, 90) }
