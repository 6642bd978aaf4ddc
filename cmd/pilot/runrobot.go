package main

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/pilotkit/pilot/robot/arm"
)

// robotRunFlags are pilot run's flags for a suite on a robot. --env NAME
// is --suite NAME (kept for the robot: --env robot:pick); the others are
// shorthands for the robot suites' params (see pilot suites).
type robotRunFlags struct {
	env               string
	port, calibration string
	camera            string
	images            bool
	maxRelative       float64
	maxRelativeSet    bool
}

func (r *robotRunFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&r.env, "env", "web", "the environment: web (a page: --url, --serve), or a registered suite such as robot:pick, the same as --suite NAME")
	fs.StringVar(&r.port, "port", "", "robot: serial `PORT` of the arm (a real one, or the path `pilot robot sim` prints); it selects the serial engine. Empty runs a simulated arm inside pilot")
	fs.StringVar(&r.calibration, "calibration", "", "robot: calibration `FILE` of a real arm (default: the one `pilot robot calibrate` saved); the param calibration")
	fs.StringVar(&r.camera, "camera", "", "robot: camera of a real arm: a device index, a video file or a URL (needs a build with -tags gocv); the param camera")
	fs.BoolVar(&r.images, "images", false, "robot: put a camera frame in every observation (as --screenshot jpeg)")
	fs.Float64Var(&r.maxRelative, "max-relative-target", arm.DefaultMaxRelativeTarget, "robot: the most one command may move a joint, in degrees (gripper: percent); the param max_relative_target")
}

// params are the suite params the robot flags stand for, over those of
// --param.
func (r *robotRunFlags) params(into map[string]string) map[string]string {
	set := func(k, v string) {
		if into == nil {
			into = map[string]string{}
		}
		into[k] = v
	}
	if r.calibration != "" {
		set("calibration", r.calibration)
	}
	if r.camera != "" {
		set("camera", r.camera)
	}
	if r.maxRelativeSet {
		set("max_relative_target", strconv.FormatFloat(r.maxRelative, 'g', -1, 64))
	}
	return into
}

// paramFlag is --param NAME=VALUE, repeatable: a suite's own option.
type paramFlag map[string]string

func (p *paramFlag) String() string { return strings.Join(p.GetSlice(), ",") }

// GetSlice returns the parameters as NAME=VALUE, sorted by name.
func (p *paramFlag) GetSlice() []string {
	var kv []string
	for _, k := range slices.Sorted(maps.Keys(*p)) {
		kv = append(kv, k+"="+(*p)[k])
	}
	return kv
}

func (p *paramFlag) Type() string { return "NAME=VALUE" }

func (p *paramFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want NAME=VALUE, such as products=500 (pilot suites lists each suite's params)")
	}
	if *p == nil {
		*p = paramFlag{}
	}
	if _, dup := (*p)[k]; dup {
		return fmt.Errorf("%s given twice", k)
	}
	(*p)[k] = v
	return nil
}

// paramAlias is a flag that sets one suite parameter: --miniwob-dir DIR
// is --param dir=DIR.
type paramAlias struct {
	p    *paramFlag
	name string
	val  string
}

func newParamAlias(p *paramFlag, name string) *paramAlias { return &paramAlias{p: p, name: name} }

func (a *paramAlias) String() string { return a.val }
func (a *paramAlias) Type() string   { return "DIR" }
func (a *paramAlias) Set(s string) error {
	a.val = s
	return a.p.Set(a.name + "=" + s)
}
