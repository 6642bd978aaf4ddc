package sim

import (
	"flag"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/pilotkit/pilot/robot/kin"
)

var renderPNG = flag.String("render.png", "", "write the test scene rendered by TestRenderPNG to this file")

// renderParked is an arm pose turned away to the left and folded up, clear
// of the workspace in the default view.
func renderParked() kin.Joints { return kin.Joints{-1.9, -1.6, 1.6, 0.4, 0} }

// renderPixel returns the colour at the pixel where p projects.
func renderPixel(t *testing.T, img *image.RGBA, v CameraView, p kin.Vec3) color.RGBA {
	t.Helper()
	x, y, _, ok := v.Project(p)
	if !ok || x < 0 || y < 0 || x >= float64(v.W) || y >= float64(v.H) {
		t.Fatalf("Project(%v) = %g, %g, ok %v: outside the %d×%d image", p, x, y, ok, v.W, v.H)
	}
	return img.RGBAAt(img.Rect.Min.X+int(x), img.Rect.Min.Y+int(y))
}

// renderDominant reports which of red, green and blue clearly dominates c,
// or "" when none does.
func renderDominant(c color.RGBA) string {
	r, g, b := int(c.R), int(c.G), int(c.B)
	switch {
	case r > g+60 && r > b+60:
		return "red"
	case g > r+60 && g > b+40:
		return "green"
	case b > r+60 && b > g+60:
		return "blue"
	}
	return ""
}

func TestRenderCubeColours(t *testing.T) {
	v := DefaultView()
	img := v.NewImage()
	for seed := range int64(20) {
		w := NewWorld()
		w.Reset(seed)
		w.SetJoints(renderParked(), 0)
		w.Render(img, v)
		for _, c := range w.Cubes() {
			// The centre of the cube's face nearest the camera lies on the
			// way from the camera to the centre; the centre's pixel shows it.
			if got := renderDominant(renderPixel(t, img, v, c.Pos)); got != c.Name {
				t.Errorf("seed %d: pixel at the %s cube's centre %v is %v (%q), want %s-dominant",
					seed, c.Name, c.Pos, renderPixel(t, img, v, c.Pos), got, c.Name)
			}
		}
		// The zone's ring is yellow-orange all round (the ring is a couple
		// of pixels wide, so look at the 3×3 pixels around each point),
		// where no cube stands in front of it.
		zc, zr := w.Zone()
		for a := 0.0; a < 2*math.Pi; a += math.Pi / 4 {
			p := zc.Add(kin.Vec3{(zr - 0.004) * math.Cos(a), (zr - 0.004) * math.Sin(a), 0})
			x, y, _, _ := v.Project(p)
			if renderDominant(img.RGBAAt(int(x), int(y))) != "" {
				continue // a cube hides this part of the ring
			}
			found := false
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					c := img.RGBAAt(int(x)+dx, int(y)+dy)
					found = found || (c.R > 180 && c.G > 120 && c.B < 80)
				}
			}
			if !found {
				t.Errorf("seed %d: no yellow-orange pixel around the zone ring point %v (pixel %.0f, %.0f)", seed, p, x, y)
			}
		}
		far := renderPixel(t, img, v, kin.Vec3{0.4, -0.05, 0})
		if !(far.R > 180 && far.G > 180 && far.B > 170) {
			t.Errorf("seed %d: table pixel = %v, want light", seed, far)
		}
	}
}

// TestRenderOcclusion stacks two cubes between the camera and a third: the
// third's centre pixel shows the stack. Each case draws the hidden cube in
// a different order relative to the stack, so only the depth buffer can
// get it right.
func TestRenderOcclusion(t *testing.T) {
	v := DefaultView()
	tests := []struct{ hidden, bottom, top string }{
		{"red", "green", "blue"}, // hidden drawn first
		{"blue", "red", "green"}, // hidden drawn last
		{"green", "blue", "red"}, // hidden drawn in between
	}
	for _, tc := range tests {
		w := NewWorld()
		w.SetJoints(renderParked(), 0)
		spot := kin.Vec3{0.2, 0.05, 0}
		if err := w.PlaceCube(tc.hidden, spot); err != nil {
			t.Fatal(err)
		}
		// Keep the others out of the way for the control image.
		if err := w.PlaceCube(tc.bottom, kin.Vec3{0.1, 0.2, 0}); err != nil {
			t.Fatal(err)
		}
		if err := w.PlaceCube(tc.top, kin.Vec3{0.3, -0.2, 0}); err != nil {
			t.Fatal(err)
		}
		img := v.NewImage()
		hidden := worldTestCube(t, w, tc.hidden).Pos
		w.Render(img, v)
		if got := renderDominant(renderPixel(t, img, v, hidden)); got != tc.hidden {
			t.Fatalf("%s cube in plain view: pixel %q, want %s", tc.hidden, got, tc.hidden)
		}
		// Stack the two others 0.036 m from it towards the camera (their
		// footprints clear of it).
		toEye := v.Eye.Sub(hidden)
		toEye[2] = 0
		front := hidden.Add(toEye.Unit().Scale(0.036))
		if err := w.PlaceCube(tc.bottom, front); err != nil {
			t.Fatal(err)
		}
		if err := w.PlaceCube(tc.top, front.Add(kin.Vec3{0, 0, 0.1})); err != nil {
			t.Fatal(err)
		}
		if top := worldTestCube(t, w, tc.top); top.Pos[2] < 0.03 {
			t.Fatalf("%s cube did not land on %s: %v", tc.top, tc.bottom, top.Pos)
		}
		w.Render(img, v)
		got := renderDominant(renderPixel(t, img, v, hidden))
		if got != tc.bottom && got != tc.top {
			t.Errorf("%s cube behind a %s/%s stack: pixel at its centre is %q, want the stack's colour", tc.hidden, tc.bottom, tc.top, got)
		}
	}
}

func TestRenderArmOccludes(t *testing.T) {
	// The gripper, straight down 4 cm above the red cube, hides the top of
	// the cube below the wrist from a camera looking straight down.
	v := CameraView{W: 160, H: 120, FOV: 40}
	w := NewWorld()
	red := worldTestCube(t, w, "red")
	v.Eye = red.Pos.Add(kin.Vec3{0, 0, 0.5})
	v.LookAt = red.Pos
	img := v.NewImage()
	w.SetJoints(renderParked(), 0)
	w.Render(img, v)
	if got := renderDominant(renderPixel(t, img, v, red.Pos)); got != "red" {
		t.Fatalf("red cube from above: pixel %q, want red", got)
	}
	w.SetJoints(worldTestIK(t, red.Pos.Add(kin.Vec3{0, 0, 0.04})), 0)
	w.Render(img, v)
	if got := renderPixel(t, img, v, red.Pos); renderDominant(got) != "" {
		t.Errorf("red cube under the gripper: pixel %v, want the grey gripper", got)
	}
}

func TestRenderHeldCubeAndShadow(t *testing.T) {
	v := DefaultView()
	img := v.NewImage()
	w := NewWorld()
	w.Reset(6)
	red := worldTestCube(t, w, "red")
	w.SetJoints(worldTestIK(t, red.Pos), 1)
	w.SetJoints(worldTestIK(t, red.Pos), 0)
	w.SetJoints(worldTestIK(t, red.Pos.Add(kin.Vec3{0, 0, worldHover})), 0)
	w.Render(img, v)
	lifted := worldTestCube(t, w, "red")
	if !lifted.Held {
		t.Fatalf("red not held")
	}
	if got := renderDominant(renderPixel(t, img, v, lifted.Pos)); got != "red" {
		t.Errorf("lifted red cube: pixel %q, want red", got)
	}
	// Where the cube stood, the table now shows the cube's shadow.
	ground := renderPixel(t, img, v, kin.Vec3{red.Pos[0], red.Pos[1], 0})
	if ground != renderShade(kin.Vec3{0, 0, 1}, renderColours().shadow) {
		t.Errorf("table under the lifted cube = %v, want the shadow colour", ground)
	}
}

func TestRenderImageProperties(t *testing.T) {
	v := DefaultView()
	w := NewWorld()
	w.Reset(7)
	a := v.NewImage()
	w.Render(a, v)
	if a.Rect.Dx() != 320 || a.Rect.Dy() != 240 {
		t.Fatalf("DefaultView().NewImage() is %v, want 320×240", a.Rect)
	}
	colours := map[color.RGBA]int{}
	for y := range 240 {
		for x := range 320 {
			colours[a.RGBAAt(x, y)]++
		}
	}
	if len(colours) < 10 {
		t.Errorf("rendered image has %d distinct colours, want at least 10", len(colours))
	}
	for c, n := range colours {
		if n > 320*240*3/4 {
			t.Errorf("colour %v covers %d of %d pixels, want a varied image", c, n, 320*240)
		}
	}
	// Rendering again gives the same image; rendering into a sub-image of a
	// larger one puts the same pixels at its offset.
	b := v.NewImage()
	w.Render(b, v)
	if string(a.Pix) != string(b.Pix) {
		t.Errorf("two renders of the same world differ")
	}
	big := image.NewRGBA(image.Rect(0, 0, 400, 300))
	draw.Draw(big, big.Rect, image.NewUniform(color.RGBA{1, 2, 3, 255}), image.Point{}, draw.Src)
	sub := big.SubImage(image.Rect(50, 40, 370, 280)).(*image.RGBA)
	w.Render(sub, v)
	for y := range 240 {
		for x := range 320 {
			if got, want := big.RGBAAt(50+x, 40+y), a.RGBAAt(x, y); got != want {
				t.Fatalf("sub-image pixel (%d, %d) = %v, want %v", x, y, got, want)
			}
		}
	}
	if got := big.RGBAAt(10, 10); got != (color.RGBA{1, 2, 3, 255}) {
		t.Errorf("pixel outside the sub-image = %v, want untouched", got)
	}
	// A view larger than dst is clipped, not a panic.
	small := image.NewRGBA(image.Rect(0, 0, 100, 50))
	w.Render(small, v)
}

func TestRenderProject(t *testing.T) {
	v := DefaultView()
	x, y, d, ok := v.Project(v.LookAt)
	if !ok || math.Abs(x-160) > 1e-9 || math.Abs(y-120) > 1e-9 || math.Abs(d-v.LookAt.Dist(v.Eye)) > 1e-12 {
		t.Errorf("Project(LookAt) = %g, %g, %g, %v, want 160, 120, %g, true", x, y, d, ok, v.LookAt.Dist(v.Eye))
	}
	behind := v.Eye.Add(v.Eye.Sub(v.LookAt))
	if _, _, _, ok := v.Project(behind); ok {
		t.Errorf("Project(point behind the camera) ok = true, want false")
	}
	// Up in the world is up in the image; the camera faces the robot, so
	// the robot's left (+y) is on the image's right.
	_, yHigh, _, _ := v.Project(v.LookAt.Add(kin.Vec3{0, 0, 0.1}))
	xLeft, _, _, _ := v.Project(v.LookAt.Add(kin.Vec3{0, 0.1, 0}))
	if yHigh >= 120 || xLeft <= 160 {
		t.Errorf("Project: +z goes to y %g, +y to x %g, want above 120 and right of 160", yHigh, xLeft)
	}
	// Degenerate views render the background without panicking.
	for _, bad := range []CameraView{{}, {Eye: kin.Vec3{0, 0, 1}, LookAt: kin.Vec3{0, 0, 1}}, {Eye: kin.Vec3{math.NaN()}}} {
		w := NewWorld()
		img := bad.NewImage()
		w.Render(img, bad)
		if _, _, _, ok := bad.Project(kin.Vec3{0.2, 0, 0}); ok && bad.Eye == bad.LookAt {
			t.Errorf("Project with Eye == LookAt ok = true, want false")
		}
	}
	// Straight down is a valid view.
	down := CameraView{W: 64, H: 48, Eye: kin.Vec3{0.2, 0, 0.6}, LookAt: kin.Vec3{0.2, 0, 0}, FOV: 60}
	if x, y, _, ok := down.Project(kin.Vec3{0.2, 0, 0}); !ok || math.Abs(x-32) > 1e-9 || math.Abs(y-24) > 1e-9 {
		t.Errorf("straight-down Project(centre) = %g, %g, %v, want 32, 24, true", x, y, ok)
	}
}

// TestRenderPNG renders a scene mid-task and writes it as a PNG (to
// -render.png when given, else a temporary file), then reads it back.
func TestRenderPNG(t *testing.T) {
	w := NewWorld()
	w.Reset(11)
	red := worldTestCube(t, w, "red")
	w.SetJoints(worldTestIK(t, red.Pos), 1)
	w.SetJoints(worldTestIK(t, red.Pos), 0)
	w.SetJoints(worldTestIK(t, red.Pos.Add(kin.Vec3{0, 0, worldHover})), 0)
	v := DefaultView()
	img := v.NewImage()
	w.Render(img, v)

	path := *renderPNG
	if path == "" {
		path = filepath.Join(t.TempDir(), "render.png")
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".render-*.png")
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(tmp, img); err != nil {
		t.Fatal(err)
	}
	if err := tmp.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	back, err := png.Decode(f)
	if err != nil {
		t.Fatalf("png.Decode(%s) error %v", path, err)
	}
	for y := range v.H {
		for x := range v.W {
			if got, want := color.RGBAModel.Convert(back.At(x, y)), img.RGBAAt(x, y); got != want {
				t.Fatalf("PNG pixel (%d, %d) = %v, want %v", x, y, got, want)
			}
		}
	}
	t.Logf("wrote %s", path)
}

func BenchmarkRender(b *testing.B) {
	w := NewWorld()
	w.Reset(1)
	red := worldTestCube(b, w, "red")
	w.SetJoints(worldTestIK(b, red.Pos.Add(kin.Vec3{0, 0, 0.03})), 1)
	v := DefaultView()
	img := v.NewImage()
	w.Render(img, v)
	b.ReportAllocs()
	for b.Loop() {
		w.Render(img, v)
	}
}
