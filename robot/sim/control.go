package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pilotkit/pilot/robot/kin"
)

// The simulator's world, seen from outside the servo bus: where the cubes
// are (ground truth for judging a task), arranging them for a task, and
// the camera. A program holding the *Sim calls the methods; another
// process uses ControlHandler over HTTP.

// SceneState is the world's ground truth.
type SceneState struct {
	Time       float64     `json:"time_s"` // simulated seconds
	Tip        kin.Vec3    `json:"tip"`    // gripper tip, m
	Opening    float64     `json:"opening"`
	Contact    bool        `json:"contact"` // the tip is pressed into the table
	Cubes      []CubeState `json:"cubes"`
	Zone       kin.Vec3    `json:"zone"`
	ZoneRadius float64     `json:"zone_radius"`
}

// CubeState is one cube.
type CubeState struct {
	Name string   `json:"name"`
	Pos  kin.Vec3 `json:"pos"`
	Size float64  `json:"size"`
	Held bool     `json:"held"`
}

// Arrangement places cubes and the target zone (POST /arrange).
type Arrangement struct {
	Cubes      map[string]kin.Vec3 `json:"cubes"`
	Zone       kin.Vec3            `json:"zone"`
	ZoneRadius float64             `json:"zone_radius"`
}

// world returns the simulator's world; the caller holds s.mu.
func (s *Sim) worldLocked() *World {
	if w, ok := s.scene.(*World); ok {
		return w
	}
	w := NewWorld()
	w.Reset(0)
	s.scene = w
	w.SetJoints(s.jointsLocked())
	return w
}

// Arrange puts the named cubes at their positions (they fall to the table
// if in the air) and moves the target zone; a cube not named stays.
func (s *Sim) Arrange(cubes map[string]kin.Vec3, zone kin.Vec3, radius float64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.worldLocked()
	if radius > 0 {
		if err := w.SetZone(zone, radius); err != nil {
			return err
		}
	}
	for _, name := range sortedKeys(cubes) {
		if err := w.PlaceCube(name, cubes[name]); err != nil {
			return err
		}
	}
	return nil
}

func sortedKeys(m map[string]kin.Vec3) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

// Scene returns the world's ground truth now.
func (s *Sim) Scene() SceneState {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.worldLocked()
	st := SceneState{Time: s.now.Seconds(), Tip: w.Tip(), Opening: w.Opening(), Contact: w.Contact()}
	for _, c := range w.Cubes() {
		st.Cubes = append(st.Cubes, CubeState{Name: c.Name, Pos: c.Pos, Size: c.Size, Held: c.Held})
	}
	st.Zone, st.ZoneRadius = w.Zone()
	return st
}

// Frame renders the simulator's fixed camera (DefaultView).
func (s *Sim) Frame() image.Image { return s.Render(DefaultView()) }

// Render renders the world from view.
func (s *Sim) Render(view CameraView) image.Image {
	img := view.NewImage()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.worldLocked().Render(img, view)
	return img
}

// ControlHandler serves the simulator's world over HTTP, for programs in
// another process than the simulator (bind it to loopback):
//
//	GET  /scene      SceneState as JSON
//	POST /arrange    an Arrangement as JSON
//	GET  /frame.jpg  the camera, JPEG (?q=1..100, default 85)
//	GET  /encoders   {"encoders": [6 ints]}: the physical encoder positions
//	POST /encoders   {"encoders": [6 ints 0..4095]}: move the joints there
//	                 as a hand would (see SetEncoders), to rehearse
//	                 pilot robot calibrate without an arm
func ControlHandler(s *Sim) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /encoders", func(w http.ResponseWriter, r *http.Request) {
		e := s.Encoders()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string][]int{"encoders": e[:]})
	})
	mux.HandleFunc("POST /encoders", func(w http.ResponseWriter, r *http.Request) {
		e, err := decodeEncoders(io.LimitReader(r.Body, 4<<10))
		if err != nil {
			http.Error(w, "encoders: "+err.Error(), http.StatusBadRequest)
			return
		}
		s.SetEncoders(e)
		w.WriteHeader(http.StatusOK)
	})
	mux.HandleFunc("GET /scene", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(s.Scene())
	})
	mux.HandleFunc("POST /arrange", func(w http.ResponseWriter, r *http.Request) {
		a, err := decodeArrangement(io.LimitReader(r.Body, 64<<10))
		if err != nil {
			http.Error(w, "arrange: "+err.Error()+`: want {"cubes": {"red": [x, y, z]}, "zone": [x, y, 0], "zone_radius": r} in metres`, http.StatusBadRequest)
			return
		}
		if err := s.Arrange(a.Cubes, a.Zone, a.ZoneRadius); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	mux.HandleFunc("GET /frame.jpg", func(w http.ResponseWriter, r *http.Request) {
		q := 85
		if v := r.URL.Query().Get("q"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 100 {
				http.Error(w, "q must be a JPEG quality 1..100", http.StatusBadRequest)
				return
			}
			q = n
		}
		w.Header().Set("Content-Type", "image/jpeg")
		w.Header().Set("Cache-Control", "no-store")
		jpeg.Encode(w, s.Frame(), &jpeg.Options{Quality: q})
	})
	return mux
}

// Remote is a simulator in another process (`pilot robot sim`), through
// its control address (ControlHandler): what a program can do to it from
// outside the servo bus.
type Remote struct {
	// URL is the control address, "http://127.0.0.1:45179" (Lookup finds
	// it from the simulator's port).
	URL string
	// Client makes the requests; nil means a client with a 10 s timeout.
	Client *http.Client
}

// send makes one request and returns the response of a 200; the caller
// closes its body.
func (r Remote) send(ctx context.Context, method, path string, body any) (*http.Response, error) {
	c := r.Client
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(r.URL, "/")+path, rd)
	if err != nil {
		return nil, fmt.Errorf("sim: control address %q: %w", r.URL, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("sim: %s %s: %w (is `pilot robot sim` still running?)", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		return nil, fmt.Errorf("sim: %s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(msg))
	}
	return resp, nil
}

// do makes one request and decodes its JSON answer into out (nil: none).
func (r Remote) do(ctx context.Context, method, path string, body, out any) error {
	resp, err := r.send(ctx, method, path, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(out); err != nil {
		return fmt.Errorf("sim: %s %s: %w", method, path, err)
	}
	return nil
}

// Scene returns the remote simulator's world: its cubes and the zone (GET
// /scene).
func (r Remote) Scene(ctx context.Context) (SceneState, error) {
	var st SceneState
	err := r.do(ctx, http.MethodGet, "/scene", nil, &st)
	return st, err
}

// Arrange lays out the remote simulator's cubes and zone (POST /arrange;
// see Sim.Arrange).
func (r Remote) Arrange(ctx context.Context, a Arrangement) error {
	return r.do(ctx, http.MethodPost, "/arrange", a, nil)
}

// Frame returns the remote simulator's camera frame (GET /frame.jpg), as
// a JPEG of quality q (1..100) decoded.
func (r Remote) Frame(ctx context.Context, q int) (image.Image, error) {
	resp, err := r.send(ctx, http.MethodGet, "/frame.jpg?"+url.Values{"q": {strconv.Itoa(q)}}.Encode(), nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	m, err := jpeg.Decode(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("sim: GET /frame.jpg: %w", err)
	}
	return m, nil
}

// Encoders returns the remote simulator's encoder positions (GET
// /encoders), in joint order.
func (r Remote) Encoders(ctx context.Context) ([NumServos]int, error) {
	var e [NumServos]int
	var got struct {
		Encoders []int `json:"encoders"`
	}
	if err := r.do(ctx, http.MethodGet, "/encoders", nil, &got); err != nil {
		return e, err
	}
	if len(got.Encoders) != NumServos {
		return e, fmt.Errorf("sim: GET /encoders: %d positions, want %d", len(got.Encoders), NumServos)
	}
	copy(e[:], got.Encoders)
	return e, nil
}

// SetEncoders moves the remote simulator's joints to e as a hand would
// (POST /encoders; see Sim.SetEncoders): how a test or a person rehearses
// `pilot robot calibrate` on the simulator.
func (r Remote) SetEncoders(ctx context.Context, e [NumServos]int) error {
	return r.do(ctx, http.MethodPost, "/encoders", map[string][]int{"encoders": e[:]}, nil)
}

// decodeEncoders reads {"encoders": [6 ints 0..4095]}, in joint order.
func decodeEncoders(r io.Reader) ([NumServos]int, error) {
	var e [NumServos]int
	var raw struct {
		Encoders []int `json:"encoders"`
	}
	d := json.NewDecoder(r)
	d.DisallowUnknownFields()
	if err := d.Decode(&raw); err != nil {
		return e, fmt.Errorf("want {\"encoders\": [6 positions 0..%d]}: %w", stepsPerTurn-1, err)
	}
	if len(raw.Encoders) != NumServos {
		return e, fmt.Errorf("%d positions, want %d (shoulder_pan … gripper)", len(raw.Encoders), NumServos)
	}
	for i, v := range raw.Encoders {
		if v < 0 || v >= stepsPerTurn {
			return e, fmt.Errorf("position %d of servo %d is outside 0..%d", v, i+1, stepsPerTurn-1)
		}
		e[i] = v
	}
	return e, nil
}

// decodeArrangement reads an Arrangement, every point with exactly three
// finite coordinates.
func decodeArrangement(r io.Reader) (Arrangement, error) {
	var raw struct {
		Cubes      map[string][]float64 `json:"cubes"`
		Zone       []float64            `json:"zone"`
		ZoneRadius float64              `json:"zone_radius"`
	}
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return Arrangement{}, err
	}
	point := func(what string, v []float64) (kin.Vec3, error) {
		var p kin.Vec3
		if len(v) != 3 {
			return p, fmt.Errorf("%s has %d coordinates, want 3", what, len(v))
		}
		copy(p[:], v)
		return p, nil
	}
	a := Arrangement{Cubes: map[string]kin.Vec3{}, ZoneRadius: raw.ZoneRadius}
	for name, v := range raw.Cubes {
		p, err := point("cube "+strconv.Quote(name), v)
		if err != nil {
			return Arrangement{}, err
		}
		a.Cubes[name] = p
	}
	if raw.Zone != nil || raw.ZoneRadius != 0 {
		p, err := point("zone", raw.Zone)
		if err != nil {
			return Arrangement{}, err
		}
		if !(raw.ZoneRadius > 0) {
			return Arrangement{}, fmt.Errorf("zone_radius %v: want more than 0", raw.ZoneRadius)
		}
		a.Zone = p
	}
	return a, nil
}

// announcement is the file a running simulator leaves so that commands
// given only its port find its control address.
type announcement struct {
	Port    string `json:"port"`
	Control string `json:"control"`
	PID     int    `json:"pid"`
	Started string `json:"started"`
}

func announceDir() string {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "pilot", "sim")
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("pilot-sim-%d", os.Getuid()))
}

func announceFile(port string) string {
	if p, err := filepath.EvalSymlinks(port); err == nil {
		port = p
	}
	name := strings.Trim(strings.NewReplacer("/", "-", "\\", "-", ":", "-").Replace(port), "-")
	return filepath.Join(announceDir(), name+".json")
}

// Announce records that the simulator serving port has its control server
// at control (an http:// URL). The returned func removes the record.
func Announce(port, control string) (func() error, error) {
	path := announceFile(port)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("sim: announce %s: %w", port, err)
	}
	b, _ := json.Marshal(announcement{Port: port, Control: control, PID: os.Getpid(), Started: time.Now().UTC().Format(time.RFC3339)})
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, fmt.Errorf("sim: announce %s: %w", port, err)
	}
	return func() error {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}, nil
}

// Lookup returns the control address of the simulator serving port, if a
// live one announced itself.
func Lookup(port string) (string, bool) {
	b, err := os.ReadFile(announceFile(port))
	if err != nil {
		return "", false
	}
	var a announcement
	if json.Unmarshal(b, &a) != nil || !strings.HasPrefix(a.Control, "http://") || a.PID <= 0 {
		return "", false
	}
	if p, err := os.FindProcess(a.PID); err != nil || p.Signal(syscall.Signal(0)) != nil {
		return "", false // a simulator that died without cleaning up
	}
	return a.Control, true
}
