package sim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image/jpeg"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pilotkit/pilot/robot/kin"
	"github.com/pilotkit/pilot/robot/sim"
)

func TestControlHandler(t *testing.T) {
	s, err := sim.New(sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	h := sim.ControlHandler(s)
	do := func(method, path, body string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
		return rec
	}
	rec := do(http.MethodPost, "/arrange", `{"cubes": {"red": [0.15, 0.05, 0.2]}, "zone": [0.12, -0.05, 0], "zone_radius": 0.04}`)
	if rec.Code != http.StatusOK {
		t.Fatalf("POST /arrange = %d %s", rec.Code, rec.Body)
	}
	var st sim.SceneState
	rec = do(http.MethodGet, "/scene", "")
	if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil {
		t.Fatalf("GET /scene = %s: %v", rec.Body, err)
	}
	var red *sim.CubeState
	for i := range st.Cubes {
		if st.Cubes[i].Name == "red" {
			red = &st.Cubes[i]
		}
	}
	if red == nil || red.Pos.Dist(kin.Vec3{0.15, 0.05, red.Size / 2}) > 1e-9 {
		t.Errorf("red cube after arranging it 0.2 m up = %+v, want it fallen onto the table at (0.15, 0.05)", red)
	}
	if st.Zone != (kin.Vec3{0.12, -0.05, 0}) || st.ZoneRadius != 0.04 {
		t.Errorf("zone = %v r %v, want (0.12, -0.05, 0) r 0.04", st.Zone, st.ZoneRadius)
	}
	rec = do(http.MethodGet, "/frame.jpg?q=70", "")
	if img, err := jpeg.Decode(bytes.NewReader(rec.Body.Bytes())); err != nil || img.Bounds().Dx() != 320 {
		t.Errorf("GET /frame.jpg: %v, want a 320-pixel-wide JPEG", err)
	}
	for _, bad := range []struct{ method, path, body string }{
		{http.MethodPost, "/arrange", `{"cubes": {"purple": [0.1, 0, 0]}}`},
		{http.MethodPost, "/arrange", `{"cubes": {"red": [0.1, 0]}}`},
		{http.MethodPost, "/arrange", `{"zone": [0.1, 0, 0], "zone_radius": -1, "extra": 1}`},
		{http.MethodPost, "/arrange", `not json`},
		{http.MethodGet, "/frame.jpg?q=0", ""},
	} {
		if rec := do(bad.method, bad.path, bad.body); rec.Code != http.StatusBadRequest {
			t.Errorf("%s %s %s = %d, want 400", bad.method, bad.path, bad.body, rec.Code)
		}
	}
}

func FuzzArrange(f *testing.F) {
	f.Add(`{"cubes": {"red": [0.15, 0.05, 0.2]}, "zone": [0.12, -0.05, 0], "zone_radius": 0.04}`)
	f.Add(`{"cubes": {"blue": [1e308, -1e308, 0]}}`)
	f.Add(`{"zone": [0, 0, 0], "zone_radius": 1e-300}`)
	s, err := sim.New(sim.Options{})
	if err != nil {
		f.Fatal(err)
	}
	h := sim.ControlHandler(s)
	f.Fuzz(func(t *testing.T, body string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/arrange", strings.NewReader(body)))
		if rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest {
			t.Fatalf("POST /arrange %q = %d, want 200 or 400", body, rec.Code)
		}
		st := s.Scene()
		for _, c := range st.Cubes {
			if !c.Pos.IsFinite() {
				t.Fatalf("after %q the %s cube is at %v", body, c.Name, c.Pos)
			}
		}
	})
}

// POST /encoders moves the joints as a hand would; garbage is refused
// with what the endpoint wants, and moves nothing.
func TestControlEncoders(t *testing.T) {
	s, err := sim.New(sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	srv := httptest.NewServer(sim.ControlHandler(s))
	defer srv.Close()
	post := func(body string) (int, string) {
		resp, err := http.Post(srv.URL+"/encoders", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, msg := post(`{"encoders": [1000, 1100, 1200, 1300, 1400, 1500]}`); code != http.StatusOK {
		t.Fatalf("POST /encoders = %d %s", code, msg)
	}
	if got := s.Encoders(); got != [sim.NumServos]int{1000, 1100, 1200, 1300, 1400, 1500} {
		t.Errorf("Encoders after POST = %v", got)
	}
	resp, err := http.Get(srv.URL + "/encoders")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `{"encoders":[1000,1100,1200,1300,1400,1500]}`) {
		t.Errorf("GET /encoders = %s", b)
	}
	for _, bad := range []struct{ body, want string }{
		{`{"encoders": [1, 2, 3]}`, "3 positions, want 6"},
		{`{"encoders": [0, 0, 0, 0, 0, 4096]}`, "outside 0..4095"},
		{`{"encoders": [0, 0, 0, 0, 0, -1]}`, "outside 0..4095"},
		{`{"enc": [0]}`, "unknown field"},
		{`nonsense`, `want {"encoders"`},
	} {
		code, msg := post(bad.body)
		if code != http.StatusBadRequest || !strings.Contains(msg, bad.want) {
			t.Errorf("POST /encoders %s = %d %q, want 400 with %q", bad.body, code, msg, bad.want)
		}
	}
	if got := s.Encoders(); got != [sim.NumServos]int{1000, 1100, 1200, 1300, 1400, 1500} {
		t.Errorf("a refused POST moved the joints: %v", got)
	}
}

// Remote is the control server's client: it moves the joints, reads them
// back, passes the server's refusal on, and says when no simulator answers.
func TestRemote(t *testing.T) {
	s, err := sim.New(sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	srv := httptest.NewServer(sim.ControlHandler(s))
	r := sim.Remote{URL: srv.URL + "/"}
	ctx := context.Background()
	want := [sim.NumServos]int{10, 20, 4000, 2048, 3000, 2500}
	if err := r.SetEncoders(ctx, want); err != nil {
		t.Fatalf("SetEncoders: %v", err)
	}
	if got, err := r.Encoders(ctx); err != nil || got != want {
		t.Errorf("Encoders = %v, %v; want %v", got, err, want)
	}
	if got := s.Encoders(); got != want {
		t.Errorf("the simulator's encoders = %v, want %v", got, want)
	}
	err = r.SetEncoders(ctx, [sim.NumServos]int{0, 0, 0, 0, 0, 5000})
	if err == nil || !strings.Contains(err.Error(), "400") || !strings.Contains(err.Error(), "outside 0..4095") {
		t.Errorf("SetEncoders out of range = %v, want the server's 400 and its reason", err)
	}
	a := sim.Arrangement{Cubes: map[string]kin.Vec3{"red": {0.2, 0.05, 0}}, Zone: kin.Vec3{0.15, -0.1, 0}, ZoneRadius: 0.04}
	if err := r.Arrange(ctx, a); err != nil {
		t.Fatalf("Arrange: %v", err)
	}
	st, err := r.Scene(ctx)
	if err != nil {
		t.Fatalf("Scene: %v", err)
	}
	red := -1
	for i, c := range st.Cubes {
		if c.Name == "red" && c.Pos[0] == 0.2 && c.Pos[1] == 0.05 {
			red = i
		}
	}
	if red < 0 || st.Zone != a.Zone || st.ZoneRadius != a.ZoneRadius {
		t.Errorf("Scene after Arrange(%+v) = %+v", a, st)
	}
	img, err := r.Frame(ctx, 80)
	if err != nil {
		t.Fatalf("Frame: %v", err)
	}
	if b := img.Bounds(); b.Dx() != s.Frame().Bounds().Dx() || b.Dy() != s.Frame().Bounds().Dy() {
		t.Errorf("Frame is %v, want the simulator's %v", b, s.Frame().Bounds())
	}
	if _, err := r.Frame(ctx, 0); err == nil || !strings.Contains(err.Error(), "JPEG quality") {
		t.Errorf("Frame(q 0) = %v, want the server's refusal", err)
	}
	srv.Close()
	if _, err := r.Encoders(ctx); err == nil || !strings.Contains(err.Error(), "pilot robot sim") {
		t.Errorf("Encoders with no simulator = %v, want an error asking whether pilot robot sim runs", err)
	}
}
