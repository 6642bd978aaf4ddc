package arm

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Resolution is the number of encoder steps in one turn of an STS servo.
const Resolution = 4096

// maxHomingOffset is the largest Homing_Offset magnitude: 11 bits.
const maxHomingOffset = 2047

// JointCal is one joint's calibration, in raw encoder steps, as LeRobot
// writes it (so LeRobot's calibration files load as they are).
type JointCal struct {
	ID           int `json:"id"`
	DriveMode    int `json:"drive_mode"` // 1 inverts the joint's direction
	HomingOffset int `json:"homing_offset"`
	RangeMin     int `json:"range_min"`
	RangeMax     int `json:"range_max"`
}

// Calibration maps joint names to their calibration.
type Calibration map[string]JointCal

// ErrBadCalibration is wrapped by every calibration validation error.
var ErrBadCalibration = errors.New("bad calibration")

// Validate checks c against the joints: every joint present with its ID,
// ranges inside one turn and not empty, homing offsets within 11 bits.
func (c Calibration) Validate(joints []Joint) error {
	var problems []string
	for _, j := range joints {
		jc, ok := c[j.Name]
		if !ok {
			problems = append(problems, fmt.Sprintf("joint %s is missing", j.Name))
			continue
		}
		if jc.ID != int(j.ID) {
			problems = append(problems, fmt.Sprintf("%s has id %d, want %d", j.Name, jc.ID, j.ID))
		}
		if jc.DriveMode != 0 && jc.DriveMode != 1 {
			problems = append(problems, fmt.Sprintf("%s has drive_mode %d, want 0 or 1", j.Name, jc.DriveMode))
		}
		if jc.HomingOffset < -maxHomingOffset || jc.HomingOffset > maxHomingOffset {
			problems = append(problems, fmt.Sprintf("%s has homing_offset %d, outside ±%d (11 bits)", j.Name, jc.HomingOffset, maxHomingOffset))
		}
		if jc.RangeMin < 0 || jc.RangeMax > Resolution-1 || jc.RangeMin >= jc.RangeMax {
			problems = append(problems, fmt.Sprintf("%s has range %d..%d, want 0 ≤ min < max ≤ %d", j.Name, jc.RangeMin, jc.RangeMax, Resolution-1))
		}
	}
	known := map[string]bool{}
	for _, j := range joints {
		known[j.Name] = true
	}
	var extra []string
	for name := range c {
		if !known[name] {
			extra = append(extra, name)
		}
	}
	sort.Strings(extra)
	for _, name := range extra {
		problems = append(problems, fmt.Sprintf("unknown joint %q", name))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrBadCalibration, strings.Join(problems, "; "))
	}
	return nil
}

// ReadCalibration decodes and validates a calibration (JSON, LeRobot's
// format: {"shoulder_pan": {"id": 1, "drive_mode": 0, "homing_offset": 12,
// "range_min": 750, "range_max": 3300}, ...}).
func ReadCalibration(r io.Reader, joints []Joint) (Calibration, error) {
	dec := json.NewDecoder(io.LimitReader(r, 1<<20))
	dec.DisallowUnknownFields()
	var c Calibration
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%w: not a calibration JSON object: %v", ErrBadCalibration, err)
	}
	if err := c.Validate(joints); err != nil {
		return nil, err
	}
	return c, nil
}

// LoadCalibration reads a calibration file.
func LoadCalibration(path string, joints []Joint) (Calibration, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("calibration %s does not exist: run `pilot robot calibrate --port <port>` first: %w", path, err)
		}
		return nil, fmt.Errorf("open calibration: %w", err)
	}
	defer f.Close()
	c, err := ReadCalibration(f, joints)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Save writes c as indented JSON to path, atomically (a temporary file
// renamed over it), creating the directory.
func (c Calibration) Save(path string) error {
	b, err := json.MarshalIndent(c, "", "    ")
	if err != nil {
		return fmt.Errorf("encode calibration: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("save calibration: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".calibration-*")
	if err != nil {
		return fmt.Errorf("save calibration: %w", err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("save calibration: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("save calibration: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("save calibration: %w", err)
	}
	return nil
}

// DefaultCalibrationPath is where pilot keeps an arm's calibration:
// $XDG_CONFIG_HOME/pilot/calibration/<name>.json (~/.config/... by default).
func DefaultCalibrationPath(name string) (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no config directory for the calibration (set HOME or XDG_CONFIG_HOME, or pass --calibration): %w", err)
	}
	return filepath.Join(dir, "pilot", "calibration", name+".json"), nil
}

// Center is the raw position of a joint in the calibration pose: LeRobot's
// calibration sets Homing_Offset so that the pose in the middle of every
// joint's travel reads 2047–2048; that pose is the kinematic zero
// (SO-101's so101_new_calib URDF).
const Center = 2048

// ToUser converts a raw position (in the servo's offset frame, as
// Present_Position reads) to the joint's unit: degrees from the
// calibration pose (raw Center), or percent open for a gripper
// (range_min = 0 %).
func (jc JointCal) ToUser(j Joint, raw int) float64 {
	if j.Gripper {
		v := float64(raw-jc.RangeMin) / float64(jc.RangeMax-jc.RangeMin) * 100
		if jc.DriveMode == 1 {
			v = 100 - v
		}
		return v
	}
	v := float64(raw-Center) * 360 / Resolution
	if jc.DriveMode == 1 {
		v = -v
	}
	return v
}

// FromUser converts a value in the joint's unit to a raw position, rounded,
// without clamping (see Clamp).
func (jc JointCal) FromUser(j Joint, v float64) int {
	if j.Gripper {
		if jc.DriveMode == 1 {
			v = 100 - v
		}
		return int(math.Round(float64(jc.RangeMin) + v/100*float64(jc.RangeMax-jc.RangeMin)))
	}
	if jc.DriveMode == 1 {
		v = -v
	}
	return int(math.Round(Center + v*Resolution/360))
}

// Limits returns the calibrated range of the joint in its unit, low to high.
func (jc JointCal) Limits(j Joint) (lo, hi float64) {
	a, b := jc.ToUser(j, jc.RangeMin), jc.ToUser(j, jc.RangeMax)
	if a > b {
		a, b = b, a
	}
	return a, b
}

// ClampRaw clamps a raw position into the calibrated range.
func (jc JointCal) ClampRaw(raw int) int {
	return min(max(raw, jc.RangeMin), jc.RangeMax)
}
