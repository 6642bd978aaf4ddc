package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/pilotkit/pilot/agent"
	"github.com/pilotkit/pilot/robot/arm"
	"github.com/pilotkit/pilot/robot/sim"
)

// startSimCmd runs `pilot robot sim --json` in-process until the test ends
// and returns the pseudo-terminal's path.
func startSimCmd(t *testing.T, args ...string) string {
	t.Helper()
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	out, errb := &lockedBuffer{}, &lockedBuffer{}
	done := make(chan int, 1)
	go func() { done <- run(ctx, append([]string{"robot", "sim", "--json"}, args...), out, errb) }()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("pilot robot sim exited %d: %s", code, errb.String())
			}
		case <-time.After(10 * time.Second):
			t.Errorf("pilot robot sim did not stop within 10s of Ctrl-C")
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if line, _, ok := strings.Cut(out.String(), "\n"); ok {
			var v struct{ Port, Control string }
			if err := json.Unmarshal([]byte(line), &v); err != nil || v.Port == "" {
				t.Fatalf("pilot robot sim --json printed %q: %v", line, err)
			}
			return v.Port
		}
		select {
		case code := <-done:
			t.Fatalf("pilot robot sim exited %d: %s", code, errb.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("pilot robot sim printed nothing in 10s; stderr: %s", errb.String())
	return ""
}

// The README's robot demo: a simulator in one "terminal", the expert in
// another, over the pseudo-terminal.
func TestRobotSimAndRunPick(t *testing.T) {
	port := startSimCmd(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code, out, errs := pilot(ctx, "run", "--env", "robot:pick", "--port", port, "--policy", "expert")
	if code != 0 {
		t.Fatalf("pilot run --env robot:pick --port %s = exit %d\nstdout:\n%s\nstderr:\n%s", port, code, out, errs)
	}
	if !strings.Contains(out, "done: terminated (success)") || !strings.Contains(out, "close_gripper()") {
		t.Errorf("pilot run --env robot:pick printed:\n%s\nwant the steps and a success", out)
	}
	code, out, errs = pilot(ctx, "robot", "read", "--port", port, "--count", "2", "--hz", "50")
	if code != 0 || !regexp.MustCompile(`gripper\s+6\s+\d+\s+[\d.]+ %`).MatchString(out) {
		t.Errorf("pilot robot read = exit %d\n%s\n%s\nwant the joint table with the gripper in percent", code, out, errs)
	}
	code, out, errs = pilot(ctx, "robot", "scan", "--port", port, "--ids", "1-8")
	if code != 0 || strings.Count(out, "777 (STS3215)") != 6 {
		t.Errorf("pilot robot scan = exit %d\n%s\n%s\nwant six STS3215 servos", code, out, errs)
	}
	code, out, errs = pilot(ctx, "robot", "scan", "--port", port, "--ids", "1-8", "--json")
	var scan struct {
		Servos []servoJSON `json:"servos"`
	}
	if code != 0 {
		t.Errorf("pilot robot scan --json = exit %d: %s", code, errs)
	} else if decodeOne(t, out, &scan); len(scan.Servos) != 6 || scan.Servos[5] != (servoJSON{ID: 6, Baud: 1_000_000, Model: 777, Name: "STS3215"}) {
		t.Errorf("pilot robot scan --json = %s, want six STS3215 servos at 1 Mbaud", out)
	}
	code, out, errs = pilot(ctx, "robot", "read", "--port", port, "--count", "2", "--hz", "50", "--json")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 2 {
		t.Fatalf("pilot robot read --json = exit %d, %q (stderr %s); want two JSON lines", code, out, errs)
	}
	var r readingJSON
	if err := json.Unmarshal([]byte(lines[1]), &r); err != nil {
		t.Fatalf("reading %q: %v", lines[1], err)
	}
	if r.Reading != 2 || len(r.Joints) != 6 || r.Joints[5].Name != "gripper" || r.Joints[5].Unit != "%" || r.Joints[5].Value == nil || r.Joints[0].Volts <= 0 {
		t.Errorf("pilot robot read --json reading 2 = %+v, want six joints with calibrated values (the gripper in %%) and volts", r)
	}
}

// A servo whose torque-off is lost (pilot robot sim --keep-torque): the
// episode succeeds, but pilot run says plainly which servos may still be
// energised and exits 1.
func TestRunRobotTorqueNotConfirmed(t *testing.T) {
	port := startSimCmd(t, "--keep-torque", "2,5")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code, out, errs := pilot(ctx, "run", "--env", "robot:reach", "--port", port, "--policy", "expert")
	if code != 1 {
		t.Fatalf("pilot run with torque kept on servos 2, 5 = exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if !strings.Contains(errs, "torque may still be ON on servos 2 (shoulder_lift), 5 (wrist_roll)") || !strings.Contains(errs, "unplug") {
		t.Errorf("pilot run stderr:\n%s\nwant which servos may be energised and what to do", errs)
	}
	if strings.Contains(out+errs, "torque turned off") || strings.Contains(out+errs, "torque is off") {
		t.Errorf("pilot run claims torque is off:\n%s\n%s", out, errs)
	}
}

// pilot run --env robot:pick --planner cem solves the task from no policy
// in the fast engine, where CEM plans in the env itself (here), and over
// a simulator on a pseudo-terminal, where it plans in a simulated twin
// (TestRunPickWithCEMOverSerial).
func TestRunPickWithCEMFast(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	code, out, errs := pilot(ctx, "run", "--env", "robot:pick", "--planner", "cem", "--json")
	var res runResult
	if code != 0 {
		t.Fatalf("pilot run --env robot:pick --planner cem = exit %d\n%s", code, errs)
	}
	if decodeOne(t, out, &res); !res.Success {
		t.Errorf("pilot run --env robot:pick --planner cem --json = %+v, want a success", res)
	}
}

func TestRunPickWithCEMOverSerial(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	port := startSimCmd(t)
	rec := t.TempDir()
	code, out, errs := pilot(ctx, "run", "--env", "robot:pick", "--port", port, "--planner", "cem", "--record", rec)
	if code != 0 || !strings.Contains(out, "done: terminated (success)") {
		t.Fatalf("pilot run --env robot:pick --port %s --planner cem = exit %d\nstdout:\n%s\nstderr:\n%s\nwant a success", port, code, out, errs)
	}
	b, err := os.ReadFile(filepath.Join(rec, agent.TrajectoryFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"search":{"planner":"cem","model":"twin"`) {
		t.Errorf("the trajectory does not record CEM planning in the twin:\n%.2000s", b)
	}
}

func TestRunRobotReachInProcess(t *testing.T) {
	code, out, errs := pilot(context.Background(), "run", "--env", "robot:reach", "--policy", "expert", "--seed", "4", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var res runResult
	decodeOne(t, out, &res)
	if !res.Success || res.Steps < 1 || !strings.HasPrefix(res.Task, "reach-") {
		t.Errorf("pilot run --env robot:reach --json = %+v, want a success", res)
	}
}

func TestRobotUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		msg  string
	}{
		{[]string{"run", "--env", "robot:pick", "--url", "https://example.com", "--policy", "expert"}, "a suite's task (--suite robot:pick) brings its own"},
		{[]string{"run", "--env", "robot:fly", "--policy", "expert"}, `unknown suite "robot:fly": want one of`},
		{[]string{"run", "--env", "robot:pick", "--suite", "shop"}, "--env NAME is --suite NAME"},
		{[]string{"run", "--port", "/dev/ttyACM0", "--actions", "x"}, "are for a robot suite"},
		{[]string{"run", "--env", "robot:pick", "--max-relative-target", "0"}, "max_relative_target=0: want more than 0 degrees"},
		{[]string{"run", "--suite", "shop", "--calibration", "cal.json"}, `suite shop has no parameter "calibration"`},
		{[]string{"run", "--suite", "shop", "--param", "products=0"}, "products=0: want a whole number"},
		{[]string{"eval", "--suite", "robot:reach", "--param", "nope=1"}, `suite robot:reach has no parameter "nope": it takes calibration, camera, max_relative_target`},
		{[]string{"run", "--policy", "expert", "--url", "https://example.com"}, "--policy expert plays a suite's task: give --suite NAME"},
		{[]string{"robot", "scan"}, "--port is required"},
		{[]string{"robot", "scan", "--port", "/dev/null", "--ids", "5-2"}, "want a range low-high"},
		{[]string{"robot", "sim", "--keep-torque", "2,x"}, `--keep-torque: "x": want an ID`},
		{[]string{"robot", "sim", "--jam", "9"}, "Faults.Jammed has ID 9: no servo has that ID"},
		{[]string{"robot", "scan", "--port", "/dev/null", "--bauds", "fast"}, "not a baud rate"},
		{[]string{"robot", "read", "--port", "/dev/null", "--hz", "0"}, "--hz 0"},
		{[]string{"robot", "sim", "--control", "0.0.0.0:0"}, "loopback only"},
		{[]string{"robot", "sim", "--drop-rate", "2"}, "DropRate = 2"},
		{[]string{"robot", "bogus"}, "unknown command"},
	}
	for _, tt := range tests {
		code, _, errs := pilot(context.Background(), tt.args...)
		if code != 2 || !strings.Contains(errs, tt.msg) {
			t.Errorf("pilot %s = exit %d, stderr %q; want exit 2 with %q", strings.Join(tt.args, " "), code, errs, tt.msg)
		}
	}
}

func TestRobotPortErrors(t *testing.T) {
	code, _, errs := pilot(context.Background(), "robot", "read", "--port", "/dev/ttyNOPE0", "--count", "1")
	if code != 1 || !strings.Contains(errs, "/dev/ttyNOPE0") {
		t.Errorf("pilot robot read on a missing port = exit %d, %q; want exit 1 naming the port", code, errs)
	}
	// A wrong port says so before anything about calibration.
	code, _, errs = pilot(context.Background(), "run", "--env", "robot:reach", "--port", "/dev/ttyNOPE0", "--calibration", "testdata/none.json")
	if code != 1 || !strings.Contains(errs, "no such port") || strings.Contains(errs, "calibrat") {
		t.Errorf("pilot run on a missing port = exit %d, %q; want exit 1 with no such port, and nothing about calibration", code, errs)
	}
	// A port that exists (a pseudo-terminal that is not a simulator)
	// with no calibration points to pilot robot calibrate.
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	defer tty.Close()
	code, _, errs = pilot(context.Background(), "run", "--env", "robot:reach", "--port", tty.Name(), "--calibration", "testdata/none.json")
	if code != 1 || !strings.Contains(errs, "pilot robot calibrate") {
		t.Errorf("pilot run on a real port without a calibration = exit %d, %q; want exit 1 pointing to pilot robot calibrate", code, errs)
	}
}

// pilot robot calibrate, answered at its prompts while the "hand" moves
// the simulated arm.
func TestRobotCalibrate(t *testing.T) {
	s, err := sim.New(sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p, err := s.ServePTY(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	// Announced as pilot robot sim does, so calibrate waits for it as for
	// a simulator sharing the machine's CPUs, not as for a real arm.
	ctl := httptest.NewServer(sim.ControlHandler(s))
	defer ctl.Close()
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	unannounce, err := sim.Announce(p.Path(), ctl.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer unannounce()
	inR, inW := io.Pipe()
	defer inW.Close()
	out := &lockedBuffer{}
	path := t.TempDir() + "/cal.json"
	done := make(chan int, 1)
	errb := &lockedBuffer{}
	go func() {
		done <- runIO(ctx, []string{"robot", "calibrate", "--port", p.Path(), "--out", path}, inR, out, errb)
	}()
	waitFor := func(what string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !strings.Contains(out.String(), what) {
			if time.Now().After(deadline) {
				t.Fatalf("calibrate never printed %q; stdout:\n%s\nstderr:\n%s", what, out.String(), errb.String())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitFor("press Enter")
	s.SetEncoders([6]int{2100, 2000, 2048, 2300, 1000, 2200})
	fmt.Fprintln(inW)
	waitFor("Press Enter when done")
	// The hand moves through the control API, as a user rehearsing
	// calibration would (curl -X POST $CONTROL/encoders), and holds each
	// pose until calibrate has read it a few times over: instructions
	// counted, not wall time, so a busy machine only makes it slower.
	for _, e := range [][6]int{{1500, 1100, 1000, 1200, 10, 2050}, {2800, 3000, 3000, 3100, 4000, 3300}} {
		body, _ := json.Marshal(map[string][]int{"encoders": e[:]})
		resp, err := http.Post(ctl.URL+"/encoders", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("POST /encoders = %s", resp.Status)
		}
		// A sync read of six positions is one instruction; 4 of them
		// is at least 3 reads after the pose was set.
		for n := s.Handled(); s.Handled() < n+4; {
			select {
			case code := <-done:
				t.Fatalf("calibrate exited %d during the sweep: %s", code, errb.String())
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	fmt.Fprintln(inW)
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("calibrate exit %d: %s", code, errb.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("calibrate did not finish")
	}
	cal, err := arm.LoadCalibration(path, arm.SO101())
	if err != nil {
		t.Fatal(err)
	}
	if c := cal["shoulder_pan"]; c.HomingOffset != 2100-2047 || c.RangeMin != 1500-53 || c.RangeMax != 2800-53 {
		t.Errorf("shoulder_pan calibration = %+v, want offset 53, range 1447..2747", c)
	}
}

func TestParseIDs(t *testing.T) {
	tests := []struct {
		in   string
		want []byte
	}{
		{"1-6", []byte{1, 2, 3, 4, 5, 6}},
		{"3", []byte{3}},
		{"1,3, 5-6,3", []byte{1, 3, 5, 6}},
		{"0-0", []byte{0}},
	}
	for _, tt := range tests {
		got, err := parseIDs(tt.in)
		if err != nil || string(got) != string(tt.want) {
			t.Errorf("parseIDs(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "a", "1-", "-3", "6-1", "1-300", "253", "1,,2"} {
		if got, err := parseIDs(bad); err == nil {
			t.Errorf("parseIDs(%q) = %v, want an error", bad, got)
		}
	}
}

func FuzzParseIDsAndBauds(f *testing.F) {
	for _, s := range []string{"1-20", "1,2,3", "all", "1000000,57600", "0-252", "-1", "9999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ids, err := parseIDs(s); err == nil {
			if len(ids) == 0 || len(ids) > 253 {
				t.Fatalf("parseIDs(%q) = %d IDs", s, len(ids))
			}
		}
		if bauds, err := parseBauds(s); err == nil {
			for _, b := range bauds {
				if b <= 0 {
					t.Fatalf("parseBauds(%q) = %v", s, bauds)
				}
			}
		}
	})
}

// pilot robot ports --json uses the snake_case names of every --json.
func TestRobotPortsJSON(t *testing.T) {
	code, out, errs := pilot(context.Background(), "robot", "ports", "--json")
	if code != 0 {
		t.Fatalf("pilot robot ports --json = exit %d: %s", code, errs)
	}
	var ports []map[string]any
	decodeOne(t, out, &ports)
	for _, p := range ports {
		for _, k := range []string{"path", "usb", "vid", "pid", "serial_number", "product", "hint"} {
			if _, ok := p[k]; !ok {
				t.Errorf("port %v has no %q", p, k)
			}
		}
		if len(p) != 7 {
			t.Errorf("port %v: want exactly the 7 snake_case fields", p)
		}
	}
	if !strings.HasPrefix(strings.TrimSpace(out), "[") {
		t.Errorf("pilot robot ports --json = %q, want a JSON array (empty when there are no ports)", out)
	}
}
