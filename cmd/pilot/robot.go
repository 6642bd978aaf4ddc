package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/pilotkit/pilot/env/robotenv"
	"github.com/pilotkit/pilot/robot/arm"
	"github.com/pilotkit/pilot/robot/feetech"
	"github.com/pilotkit/pilot/robot/serial"
	"github.com/pilotkit/pilot/robot/sim"
)

func newRobotCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "robot",
		Short: "Find, simulate, read and calibrate an SO-100/SO-101 arm on a Feetech servo bus",
		Long: `Work with an SO-100/SO-101 arm: six Feetech STS3215 servos on one USB
serial bus at 1 Mbaud.

Without hardware, ` + "`pilot robot sim`" + ` starts a simulated arm that answers the same
protocol on a pseudo-terminal: give its path to --port like a real one.`,
		Args: commandArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newRobotPortsCmd(), newRobotSimCmd(), newRobotScanCmd(), newRobotReadCmd(), newRobotCalibrateCmd())
	return cmd
}

func newRobotPortsCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "ports",
		Short: "List serial ports, with the USB adapter each one looks like",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ports, err := serial.List()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				js := []portJSON{}
				for _, p := range ports {
					js = append(js, portJSON{p.Path, p.USB, p.VID, p.PID, p.SerialNumber, p.Product, p.Hint})
				}
				return json.NewEncoder(out).Encode(js)
			}
			if len(ports) == 0 {
				fmt.Fprintln(out, "no serial ports found: plug the arm's USB cable in (and its power), then run this again; `pilot robot sim` starts a simulated arm")
				return nil
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "PORT\tUSB ID\tSERIAL\tPRODUCT\tLOOKS LIKE")
			for _, p := range ports {
				id := "-"
				if p.USB {
					id = p.VID + ":" + p.PID
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.Path, id, dash(p.SerialNumber), dash(p.Product), dash(p.Hint))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, `print the ports as a JSON array of {"path","usb","vid","pid","serial_number","product","hint"}`)
	return cmd
}

// portJSON is a port in pilot robot ports --json.
type portJSON struct {
	Path         string `json:"path"`
	USB          bool   `json:"usb"`
	VID          string `json:"vid"`
	PID          string `json:"pid"`
	SerialNumber string `json:"serial_number"`
	Product      string `json:"product"`
	Hint         string `json:"hint"`
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

type simFlags struct {
	seed             int64
	wire             bool
	baud             int
	drop, corrupt    float64
	overheat, silent int
	control          string
	asJSON           bool
	keepTorque, jam  string
}

func newRobotSimCmd() *cobra.Command {
	f := &simFlags{}
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Start a simulated SO-101 arm on a pseudo-terminal",
		Long: `Start a simulated SO-101 arm: six STS3215 servos answering the Feetech
protocol byte for byte on a pseudo-terminal, a table with three cubes and a
camera. It prints the pseudo-terminal's path: give it to --port of any pilot
command, exactly as a real arm's /dev/ttyACM0. It runs until Ctrl-C.

The scene (cube positions) and the camera are served on a control address on
127.0.0.1; commands given the port find it on their own (the simulator
announces it in a file under the runtime directory).`,
		Example: `  pilot robot sim
  pilot robot sim --wire-timing --drop-rate 0.01
  pilot robot sim --keep-torque 2,5`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.run(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fs := cmd.Flags()
	fs.Int64Var(&f.seed, "seed", 1, "seed of the injected faults")
	fs.BoolVar(&f.wire, "wire-timing", false, "pace replies as a real bus at --baud would (10 bits a byte, the servo's return delay)")
	fs.IntVar(&f.baud, "baud", sim.DefaultBaud, "bus speed of the servos")
	fs.Float64Var(&f.drop, "drop-rate", 0, "drop this fraction of replies (0..1)")
	fs.Float64Var(&f.corrupt, "corrupt-rate", 0, "corrupt a byte in this fraction of replies (0..1)")
	fs.IntVar(&f.overheat, "overheat", 0, "servo `ID` that heats up fast under load (0: none)")
	fs.IntVar(&f.silent, "silent", 0, "servo `ID` that never answers (0: none)")
	fs.StringVar(&f.keepTorque, "keep-torque", "", "servo `IDS` (1,2 or 1-3) that ignore torque-off, as a servo whose write is lost: a rehearsal of the \"torque may still be ON\" refusal")
	fs.StringVar(&f.jam, "jam", "", "servo `IDS` whose joint is blocked where it stands, as by something in its way")
	fs.StringVar(&f.control, "control", "127.0.0.1:0", "`ADDR` of the scene and camera server (loopback)")
	fs.BoolVar(&f.asJSON, "json", false, "print {\"port\",\"control\"} as one JSON line once ready")
	return cmd
}

func (f *simFlags) run(ctx context.Context, stdout, stderr io.Writer) error {
	if f.overheat < 0 || f.overheat > int(feetech.MaxID) || f.silent < 0 || f.silent > int(feetech.MaxID) {
		return usagef("--overheat and --silent take a servo ID 1..%d", feetech.MaxID)
	}
	var keep, jam []byte
	for _, fl := range []struct {
		name, val string
		ids       *[]byte
	}{{"keep-torque", f.keepTorque, &keep}, {"jam", f.jam, &jam}} {
		if fl.val == "" {
			continue
		}
		ids, err := parseIDs(fl.val)
		if err != nil {
			return usagef("--%s: %v", fl.name, err)
		}
		*fl.ids = ids
	}
	host, _, err := net.SplitHostPort(f.control)
	if err != nil {
		return usagef("--control %q: want host:port, such as 127.0.0.1:0", f.control)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return usagef("--control %q: the control server binds to loopback only (127.0.0.1)", f.control)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := sim.New(sim.Options{
		Seed: f.seed, WireTiming: f.wire, Baud: f.baud, Logger: log,
		Faults: sim.Faults{DropRate: f.drop, CorruptRate: f.corrupt, Overheat: byte(f.overheat), Silent: byte(f.silent),
			KeepTorque: keep, Jammed: jam},
	})
	if err != nil {
		return usagef("%v", err)
	}
	defer s.Close()
	p, err := s.ServePTY(ctx)
	if err != nil {
		return err
	}
	defer p.Close()
	ln, err := net.Listen("tcp", f.control)
	if err != nil {
		return fmt.Errorf("control server: %w", err)
	}
	srv := &http.Server{Handler: sim.ControlHandler(s), ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		<-served
	}()
	control := "http://" + ln.Addr().String()
	unannounce, err := sim.Announce(p.Path(), control)
	if err != nil {
		fmt.Fprintf(stderr, "warning: %v: other commands will not find the scene and camera\n", err)
	} else {
		defer unannounce()
	}
	if f.asJSON {
		json.NewEncoder(stdout).Encode(map[string]string{"port": p.Path(), "control": control})
	} else {
		timing := "replies as fast as they are computed"
		if f.wire {
			timing = fmt.Sprintf("wire timing at %d baud", f.baud)
		}
		fmt.Fprintf(stdout, "simulated SO-101 on %s (%s)\n", p.Path(), timing)
		fmt.Fprintf(stdout, "scene and camera: %s/scene, %s/frame.jpg\n", control, control)
		fmt.Fprintf(stdout, "try, in another terminal:\n  pilot robot read --port %s\n  pilot run --env robot:pick --port %s\n", p.Path(), p.Path())
		fmt.Fprintln(stdout, "Ctrl-C stops it.")
	}
	select {
	case <-ctx.Done():
		fmt.Fprintln(stderr, "stopping the simulator")
		return nil
	case err := <-served:
		return fmt.Errorf("control server: %w", err)
	}
}

type scanFlags struct {
	port   string
	bauds  string
	ids    string
	asJSON bool
}

// servoJSON is a servo in pilot robot scan --json.
type servoJSON struct {
	ID    byte   `json:"id"`
	Baud  int    `json:"baud"`
	Model int    `json:"model"`
	Name  string `json:"model_name"`
}

func newRobotScanCmd() *cobra.Command {
	f := &scanFlags{}
	cmd := &cobra.Command{
		Use:   "scan",
		Short: "Find the servos on a bus: ping every ID at every baud rate",
		Args:  noArgs,
		Example: `  pilot robot scan --port /dev/ttyACM0
  pilot robot scan --port /dev/ttyACM0 --bauds all --ids 1-253`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.port == "" {
				return usagef("--port is required: `pilot robot ports` lists them")
			}
			bauds, err := parseBauds(f.bauds)
			if err != nil {
				return usagef("--bauds: %v", err)
			}
			ids, err := parseIDs(f.ids)
			if err != nil {
				return usagef("--ids: %v", err)
			}
			errw := cmd.ErrOrStderr()
			last := 0
			latency := feetech.ScanLatency
			if _, isSim := sim.Lookup(f.port); isSim {
				// The simulator shares our CPUs: with two cores busy its
				// replies were held up 0.9 s, and a scan pings only once.
				latency = time.Second
			}
			found, err := feetech.ScanWithLatency(cmd.Context(), serial.Open, f.port, bauds, ids, func(baud int, id byte) {
				if baud != last {
					fmt.Fprintf(errw, "scanning %d baud, IDs %d..%d\n", baud, ids[0], ids[len(ids)-1])
					last = baud
				}
			}, latency)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if f.asJSON {
				js := struct {
					Servos []servoJSON `json:"servos"`
				}{Servos: []servoJSON{}}
				for _, s := range found {
					v := servoJSON{ID: s.ID, Baud: s.Baud, Model: s.Model}
					if s.Model == feetech.ModelSTS3215 {
						v.Name = "STS3215"
					}
					js.Servos = append(js.Servos, v)
				}
				return json.NewEncoder(out).Encode(js)
			}
			if len(found) == 0 {
				fmt.Fprintln(out, "no servo answered: check the servos' power supply (separate from USB), the cable, and try --bauds all")
				return nil
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tBAUD\tMODEL")
			for _, s := range found {
				model := strconv.Itoa(s.Model)
				if s.Model == feetech.ModelSTS3215 {
					model += " (STS3215)"
				}
				fmt.Fprintf(tw, "%d\t%d\t%s\n", s.ID, s.Baud, model)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&f.port, "port", "", "serial `PORT` of the bus, such as /dev/ttyACM0")
	cmd.Flags().StringVar(&f.bauds, "bauds", "1000000", "baud rates to try: a comma list, or all (1000000 … 19200)")
	cmd.Flags().StringVar(&f.ids, "ids", "1-20", "servo IDs to ping: a range such as 1-20, or a comma list")
	cmd.Flags().BoolVar(&f.asJSON, "json", false, `print {"servos":[{"id","baud","model","model_name"}]} (progress stays on stderr)`)
	return cmd
}

// allBauds are the Feetech Baud_Rate codes' speeds, fastest first.
var allBauds = []int{1_000_000, 500_000, 250_000, 128_000, 115_200, 57_600, 38_400, 19_200}

func parseBauds(s string) ([]int, error) {
	if s == "all" {
		return append([]int(nil), allBauds...), nil
	}
	var out []int
	for _, part := range strings.Split(s, ",") {
		b, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || b <= 0 {
			return nil, fmt.Errorf("%q is not a baud rate; want e.g. 1000000 or all", part)
		}
		out = append(out, b)
	}
	return out, nil
}

func parseIDs(s string) ([]byte, error) {
	var out []byte
	seen := map[int]bool{}
	add := func(id int) error {
		if id < 0 || id > int(feetech.MaxID) {
			return fmt.Errorf("ID %d is outside 0..%d", id, feetech.MaxID)
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, byte(id))
		}
		return nil
	}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("%q: want an ID or a range such as 1-20", part)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("%q: want a range low-high such as 1-20", part)
			}
		}
		for id := a; id <= b; id++ {
			if err := add(id); err != nil {
				return nil, err
			}
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no IDs")
	}
	return out, nil
}

type readFlags struct {
	port, calibration string
	hz                float64
	count             int
	asJSON            bool
}

// readingJSON is one reading of pilot robot read --json.
type readingJSON struct {
	Reading int         `json:"reading"`
	Joints  []jointJSON `json:"joints"`
}

type jointJSON struct {
	Name string `json:"name"`
	ID   byte   `json:"id"`
	Raw  int    `json:"raw"`
	// Value is in Unit, from the calibration; null without one.
	Value       *float64 `json:"value"`
	Unit        string   `json:"unit"`
	Temperature int      `json:"temperature_c"`
	LoadPct     float64  `json:"load_pct"`
	Volts       float64  `json:"volts"`
}

func newRobotReadCmd() *cobra.Command {
	f := &readFlags{}
	cmd := &cobra.Command{
		Use:   "read",
		Short: "Print the arm's joints live: position, temperature, load, voltage (torque stays off)",
		Args:  noArgs,
		Example: `  pilot robot read --port /dev/ttyACM0
  pilot robot read --port /dev/pts/5 --count 1`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.port == "" {
				return usagef("--port is required: `pilot robot ports` lists them")
			}
			if !(f.hz > 0 && f.hz <= 100) {
				return usagef("--hz %v: want 0 < hz ≤ 100", f.hz)
			}
			return f.run(cmd.Context(), cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&f.port, "port", "", "serial `PORT` of the arm")
	cmd.Flags().StringVar(&f.calibration, "calibration", "", "calibration `FILE` to show degrees (default: pilot's calibration of the arm, when there is one)")
	cmd.Flags().Float64Var(&f.hz, "hz", 5, "readings per second")
	cmd.Flags().IntVar(&f.count, "count", 0, "stop after this many readings (0: until Ctrl-C)")
	cmd.Flags().BoolVar(&f.asJSON, "json", false, `print one JSON line a reading: {"reading","joints":[{"name","id","raw","value","unit","temperature_c","load_pct","volts"}]}`)
	return cmd
}

func (f *readFlags) run(ctx context.Context, out io.Writer) error {
	joints := arm.SO101()
	cal := f.loadCalibration(joints)
	bus, err := openBus(f.port)
	if err != nil {
		return err
	}
	defer bus.Close()
	ids := make([]byte, len(joints))
	for i, j := range joints {
		ids[i] = j.ID
	}
	tty := isTerminal(out)
	tick := time.NewTicker(time.Duration(float64(time.Second) / f.hz))
	defer tick.Stop()
	for n := 0; f.count == 0 || n < f.count; n++ {
		if n > 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-tick.C:
			}
		}
		pos, err := bus.SyncReadReg(ctx, feetech.PresentPosition, ids)
		if err != nil && !isOnlyServoError(err) {
			return fmt.Errorf("read positions: %w", err)
		}
		health, herr := bus.SyncRead(ctx, feetech.PresentLoad.Addr(), 6, ids)
		if herr != nil && !isOnlyServoError(herr) {
			return fmt.Errorf("read temperatures: %w", herr)
		}
		if f.asJSON {
			r := readingJSON{Reading: n + 1}
			for i, j := range joints {
				d := health[i]
				v := jointJSON{Name: j.Name, ID: j.ID, Raw: pos[i], Unit: j.Unit(), Temperature: int(d[3]),
					LoadPct: float64(feetech.PresentLoad.Decode(d[0:2])) / 10, Volts: float64(d[2]) / 10}
				if c, ok := cal[j.Name]; ok {
					u := c.ToUser(j, pos[i])
					v.Value = &u
				}
				r.Joints = append(r.Joints, v)
			}
			if err := json.NewEncoder(out).Encode(r); err != nil {
				return err
			}
			continue
		}
		if tty && n > 0 {
			fmt.Fprintf(out, "\x1b[%dA", len(joints)+2)
		}
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "JOINT\tID\tRAW\tVALUE\tTEMP\tLOAD\tVOLTS\t")
		for i, j := range joints {
			val := "-"
			if c, ok := cal[j.Name]; ok {
				val = fmt.Sprintf("%.1f %s", c.ToUser(j, pos[i]), j.Unit())
			}
			d := health[i]
			load := feetech.PresentLoad.Decode(d[0:2])
			fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%d °C\t%.1f %%\t%.1f V\t\n", j.Name, j.ID, pos[i], val, d[3], float64(load)/10, float64(d[2])/10)
		}
		fmt.Fprintf(tw, "reading %d\t\t\t\t\t\t\t\n", n+1)
		tw.Flush()
	}
	return nil
}

func (f *readFlags) loadCalibration(joints []arm.Joint) arm.Calibration {
	path := f.calibration
	if path == "" {
		if _, isSim := sim.Lookup(f.port); isSim {
			return robotenv.SimCalibration()
		}
		p, err := arm.DefaultCalibrationPath("so101_follower")
		if err != nil {
			return nil
		}
		path = p
	}
	c, err := arm.LoadCalibration(path, joints)
	if err != nil {
		return nil
	}
	return c
}

// openBus opens the servo bus on path; toward a simulator (which shares
// this machine's CPUs) it waits longer for replies.
func openBus(path string) (*feetech.Bus, error) {
	port, err := serial.Open(path, serial.Config{})
	if err != nil {
		return nil, err
	}
	var o feetech.Options
	if _, isSim := sim.Lookup(path); isSim {
		o.Timeout, o.Retries = robotenv.SimBusTimeout, robotenv.SimBusRetries
	}
	return feetech.NewBus(port, o), nil
}

func isOnlyServoError(err error) bool {
	var se *feetech.ServoError
	if !errors.As(err, &se) {
		return false
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if !errors.As(e, &se) {
				return false
			}
		}
	}
	return true
}

func isTerminal(w io.Writer) bool {
	if lw, ok := w.(*lockedWriter); ok {
		w = lw.w
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

type calibrateFlags struct {
	port, out string
	hz        float64
}

func newRobotCalibrateCmd() *cobra.Command {
	f := &calibrateFlags{}
	cmd := &cobra.Command{
		Use:   "calibrate",
		Short: "Calibrate an arm interactively, as LeRobot does: the middle pose, then each joint's range",
		Long: `Calibrate an SO-100/SO-101 arm, as LeRobot students know it:

  1. torque goes off; move the arm by hand to the middle of every joint's
     range and press Enter: the homing offsets make that pose read 2047;
  2. move every joint through its whole range, then press Enter: the
     smallest and largest positions become its limits (wrist_roll turns
     fully: 0..4095).

The calibration is saved as JSON (LeRobot's format) and written to the
servos' EEPROM.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.port == "" {
				return usagef("--port is required: `pilot robot ports` lists them")
			}
			if f.out == "" {
				p, err := arm.DefaultCalibrationPath("so101_follower")
				if err != nil {
					return err
				}
				f.out = p
			}
			return f.run(cmd.Context(), cmd.InOrStdin(), cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&f.port, "port", "", "serial `PORT` of the arm")
	cmd.Flags().StringVar(&f.out, "out", "", "where to save the calibration (default $XDG_CONFIG_HOME/pilot/calibration/so101_follower.json)")
	cmd.Flags().Float64Var(&f.hz, "hz", 50, "how often to read positions while you sweep the joints")
	return cmd
}

func (f *calibrateFlags) run(ctx context.Context, in io.Reader, out io.Writer) error {
	bus, err := openBus(f.port)
	if err != nil {
		return err
	}
	defer bus.Close()
	joints := arm.SO101()
	lines := make(chan string)
	readErr := make(chan error, 1)
	sc := bufio.NewScanner(in)
	// The reader goroutine ends when the input ends; pilot exits soon after.
	go func() {
		for sc.Scan() {
			lines <- sc.Text()
		}
		readErr <- errors.Join(sc.Err(), io.ErrUnexpectedEOF)
	}()
	waitEnter := func() error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-lines:
			return nil
		case err := <-readErr:
			return fmt.Errorf("calibration cancelled: the input ended before Enter: %w", err)
		}
	}
	cal, err := arm.Calibrate(ctx, bus, joints, arm.CalibrateSteps{
		Middle: func() error {
			fmt.Fprintln(out, "Torque is off. Move the arm by hand to the middle of every joint's range, then press Enter.")
			return waitEnter()
		},
		Sweep: func(update func() (arm.Calibration, error)) error {
			fmt.Fprintln(out, "Now move every joint except wrist_roll through its whole range, slowly. Press Enter when done.")
			tick := time.NewTicker(time.Duration(float64(time.Second) / f.hz))
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case err := <-readErr:
					return fmt.Errorf("calibration cancelled: the input ended before Enter: %w", err)
				case <-lines:
					return nil
				case <-tick.C:
					if _, err := update(); err != nil {
						return err
					}
				}
			}
		},
	})
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "JOINT\tID\tHOMING OFFSET\tMIN\tMAX\t")
	for _, j := range joints {
		c := cal[j.Name]
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t\n", j.Name, c.ID, c.HomingOffset, c.RangeMin, c.RangeMax)
	}
	tw.Flush()
	if err := cal.Save(f.out); err != nil {
		return err
	}
	fmt.Fprintf(out, "saved %s and wrote it to the servos\n", f.out)
	return nil
}
