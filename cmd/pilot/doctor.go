package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pilotkit/pilot/env/web"
	"github.com/pilotkit/pilot/robot/camera"
)

// probeTimeout bounds each command doctor runs (chromium --version,
// pkg-config).
const probeTimeout = 10 * time.Second

// check is one thing pilot needs, and how to fix it when it is missing.
type check struct {
	Name     string `json:"name"`
	OK       bool   `json:"ok"`
	Required bool   `json:"required"`
	Detail   string `json:"detail"`
	Fix      string `json:"fix"`
}

// status is the check's first column: ok, MISSING (required) or optional.
func (c check) status() string {
	switch {
	case c.OK:
		return "ok"
	case c.Required:
		return "MISSING"
	}
	return "optional"
}

func newDoctorCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check what pilot needs on this machine and say how to fix what is missing",
		Long: `Check what pilot needs: Chromium (required for web episodes), OpenCV
(only for real cameras), USB serial ports (only for real robot hardware) and
the Go version pilot was built with. Each check prints one line: ok, MISSING
(required) or optional (missing, but needed only for some uses), with the
fix. Exits 1 when a required check fails.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			checks := runChecks(cmd.Context())
			if err := writeChecks(cmd.OutOrStdout(), checks, asJSON); err != nil {
				return err
			}
			return failedRequired(checks)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, `print {"checks":[{"name","ok","required","detail","fix"}]}`)
	return cmd
}

func runChecks(ctx context.Context) []check {
	return []check{checkChromium(ctx), checkOpenCV(ctx), checkSerial(), checkGo()}
}

func writeChecks(w io.Writer, checks []check, asJSON bool) error {
	if asJSON {
		if err := json.NewEncoder(w).Encode(struct {
			Checks []check `json:"checks"`
		}{checks}); err != nil {
			return fmt.Errorf("write the checks: %w", err)
		}
		return nil
	}
	var b strings.Builder
	for _, c := range checks {
		fmt.Fprintf(&b, "%-8s %-9s %s", c.status(), c.Name, c.Detail)
		if c.Fix != "" {
			b.WriteString(": " + c.Fix)
		}
		b.WriteByte('\n')
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write the checks: %w", err)
	}
	return nil
}

// failedRequired returns an error naming the required checks that failed.
func failedRequired(checks []check) error {
	var names []string
	for _, c := range checks {
		if c.Required && !c.OK {
			names = append(names, c.Name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	return fmt.Errorf("doctor: required: %s missing; see the fix above", strings.Join(names, ", "))
}

// probe runs a command for its first line of output, bounded by probeTimeout.
func probe(ctx context.Context, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && len(ee.Stderr) > 0 {
			err = fmt.Errorf("%w: %s", err, firstLine(string(ee.Stderr)))
		}
		return "", fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return firstLine(string(out)), nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(line)
}

const chromeFix = "install it with `apt-get install chromium` or set PILOT_CHROME to the browser's path"

func checkChromium(ctx context.Context) check {
	c := check{Name: "chromium", Required: true}
	path, err := web.FindChrome()
	if err != nil {
		c.Detail, c.Fix = "not found on PATH (chromium, chromium-browser, google-chrome)", chromeFix
		if p := os.Getenv("PILOT_CHROME"); p != "" {
			c.Detail = fmt.Sprintf("not found: PILOT_CHROME=%s is not an executable", p)
		}
		return c
	}
	v, err := probe(ctx, path, "--version")
	if err != nil {
		c.Detail = fmt.Sprintf("%s does not run: %v", path, err)
		c.Fix = "check that `" + path + " --version` works, or reinstall it with `apt-get install chromium`"
		return c
	}
	c.OK, c.Detail = true, fmt.Sprintf("%s (%s)", path, v)
	return c
}

// checkOpenCV reports OpenCV as usable only when this binary was built
// with the gocv tag: a library on the machine does not help a binary
// built without it.
func checkOpenCV(ctx context.Context) check {
	c := check{Name: "opencv"}
	const rebuild = "go build -tags gocv -o bin/pilot ./cmd/pilot"
	if v, ok := camera.OpenCVVersion(); ok {
		c.OK, c.Detail = true, "OpenCV "+v+" (built with the gocv tag)"
		return c
	}
	c.Fix = "needed only for real cameras: rebuild with `" + rebuild + "`"
	if _, err := exec.LookPath("pkg-config"); err != nil {
		c.Detail = "this pilot was built without OpenCV (no gocv tag), and pkg-config is not installed"
		c.Fix = "needed only for real cameras: apt-get install pkg-config libopencv-dev, then `" + rebuild + "`"
		return c
	}
	v, err := probe(ctx, "pkg-config", "--modversion", "opencv4")
	if err != nil {
		c.Detail = "this pilot was built without OpenCV (no gocv tag), and pkg-config finds no opencv4"
		c.Fix = "needed only for real cameras: apt-get install libopencv-dev, then `" + rebuild + "`"
		return c
	}
	c.Detail = "this pilot was built without OpenCV (no gocv tag); OpenCV " + v + " is installed"
	return c
}

func checkSerial() check {
	c := check{Name: "serial"}
	ports := serialPorts()
	if len(ports) == 0 {
		c.Detail, c.Fix = "no USB serial ports", "plug the robot's adapter in; needed only for real hardware"
		return c
	}
	c.OK = true
	descs := make([]string, len(ports))
	for i, p := range ports {
		descs[i] = p + " " + portMode(p)
		if err := portAccess(p); err != nil {
			c.OK = false
			descs[i] += " (no read-write access)"
		}
	}
	c.Detail = strings.Join(descs, ", ")
	if !c.OK {
		c.Fix = "add yourself to the ports' group (usually dialout): sudo usermod -aG dialout $USER, then log in again"
	}
	return c
}

// serialPorts returns the USB serial devices, symlinks resolved, sorted.
func serialPorts() []string {
	var ports []string
	for _, g := range []string{"/dev/ttyUSB*", "/dev/ttyACM*", "/dev/serial/by-id/*"} {
		m, _ := filepath.Glob(g) // the patterns are valid
		for _, p := range m {
			if r, err := filepath.EvalSymlinks(p); err == nil {
				p = r
			}
			ports = append(ports, p)
		}
	}
	slices.Sort(ports)
	return slices.Compact(ports)
}

func checkGo() check {
	return check{Name: "go", OK: true, Detail: runtime.Version() + " (pilot was built with it)"}
}
