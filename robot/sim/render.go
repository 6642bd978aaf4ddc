package sim

import (
	"image"
	"image/color"
	"math"

	"github.com/pilotkit/pilot/robot/kin"
)

// CameraView is a pinhole camera looking at the world.
type CameraView struct {
	W, H   int      // image size in pixels; 0 means 320×240
	Eye    kin.Vec3 // camera position, m
	LookAt kin.Vec3 // point at the image centre
	FOV    float64  // vertical field of view in degrees; 0 means 50
}

// DefaultView returns the fixed camera of the simulator: 320×240, in front
// of the arm and to its right, above the table, looking down at the
// workspace.
func DefaultView() CameraView {
	return CameraView{W: 320, H: 240, Eye: kin.Vec3{0.55, -0.35, 0.40}, LookAt: kin.Vec3{0.14, 0, 0.03}, FOV: 45}
}

// NewImage returns an image of the view's size.
func (v CameraView) NewImage() *image.RGBA {
	v = v.normalized()
	return image.NewRGBA(image.Rect(0, 0, v.W, v.H))
}

func (v CameraView) normalized() CameraView {
	if v.W <= 0 || v.H <= 0 {
		v.W, v.H = 320, 240
	}
	if !(v.FOV > 0 && v.FOV < 179) {
		v.FOV = 50
	}
	return v
}

// renderCam is a view prepared for projection.
type renderCam struct {
	eye            kin.Vec3
	right, up, fwd kin.Vec3
	focal, cx, cy  float64
	w, h           int
	ok             bool
}

// renderNear is the near clipping distance, m.
const renderNear = 0.01

func (v CameraView) camera() renderCam {
	v = v.normalized()
	c := renderCam{eye: v.Eye, w: v.W, h: v.H}
	c.fwd = v.LookAt.Sub(v.Eye).Unit()
	worldUp := kin.Vec3{0, 0, 1}
	if math.Abs(c.fwd.Dot(worldUp)) > 0.999 {
		worldUp = kin.Vec3{1, 0, 0} // looking straight up or down
	}
	c.right = c.fwd.Cross(worldUp).Unit()
	c.up = c.right.Cross(c.fwd)
	c.focal = float64(v.H) / 2 / math.Tan(v.FOV*math.Pi/360)
	c.cx, c.cy = float64(v.W)/2, float64(v.H)/2
	c.ok = c.fwd != (kin.Vec3{}) && v.Eye.IsFinite() && v.LookAt.IsFinite()
	return c
}

// toCam maps a world point to camera coordinates: x right, y up, z ahead.
func (c *renderCam) toCam(p kin.Vec3) kin.Vec3 {
	d := p.Sub(c.eye)
	return kin.Vec3{d.Dot(c.right), d.Dot(c.up), d.Dot(c.fwd)}
}

// Project returns where the world point p appears in the view's image, in
// pixels (pixel (i, j) covers [i, i+1) × [j, j+1)), and its depth along
// the viewing direction in metres. ok is false when p is not in front of
// the camera; x and y may lie outside the image.
func (v CameraView) Project(p kin.Vec3) (x, y, depth float64, ok bool) {
	c := v.camera()
	if !c.ok {
		return 0, 0, 0, false
	}
	q := c.toCam(p)
	if q[2] < renderNear {
		return 0, 0, q[2], false
	}
	return c.cx + c.focal*q[0]/q[2], c.cy - c.focal*q[1]/q[2], q[2], true
}

// renderPalette holds the colours of the scene: cubes keep their own; the
// table is light, the zone yellow, the arm light grey with dark motors.
type renderPalette struct {
	background, table, zoneFill, zoneRing, shadow, arm, motor, finger color.RGBA
}

func renderColours() renderPalette {
	return renderPalette{
		background: color.RGBA{R: 62, G: 70, B: 84, A: 255},
		table:      color.RGBA{R: 232, G: 228, B: 218, A: 255},
		zoneFill:   color.RGBA{R: 250, G: 236, B: 150, A: 255},
		zoneRing:   color.RGBA{R: 240, G: 190, B: 0, A: 255},
		shadow:     color.RGBA{R: 150, G: 147, B: 140, A: 255},
		arm:        color.RGBA{R: 226, G: 226, B: 230, A: 255},
		motor:      color.RGBA{R: 70, G: 70, B: 76, A: 255},
		finger:     color.RGBA{R: 120, G: 122, B: 130, A: 255},
	}
}

// renderLight is the direction towards the light: above, front right.
func renderLight() kin.Vec3 { return kin.Vec3{0.35, -0.3, 1}.Unit() }

// renderer draws triangles into an image with a depth buffer.
type renderer struct {
	cam   renderCam
	pal   renderPalette
	img   *image.RGBA
	z     []float32 // 1/depth per pixel, 0 = nothing drawn
	x0    int       // image origin (img.Rect.Min)
	y0    int
	clipX int // drawable size, the view clipped to the image
	clipY int
}

// Render draws the world as seen from v into dst: the table with the
// target zone, the cubes, the arm and its fingers, z-buffered and flat
// shaded. The view's pixel (0, 0) goes to dst.Rect.Min; pixels outside dst
// are skipped. It allocates nothing once the World's depth buffer has grown
// to the view's size.
func (w *World) Render(dst *image.RGBA, v CameraView) {
	v = v.normalized()
	r := renderer{cam: v.camera(), pal: renderColours(), img: dst, x0: dst.Rect.Min.X, y0: dst.Rect.Min.Y}
	r.clipX = min(v.W, dst.Rect.Dx())
	r.clipY = min(v.H, dst.Rect.Dy())
	if r.clipX <= 0 || r.clipY <= 0 {
		return
	}
	n := r.clipX * r.clipY
	if cap(w.renderZ) < n {
		w.renderZ = make([]float32, n)
	}
	r.z = w.renderZ[:n]
	clear(r.z)
	for y := range r.clipY {
		row := dst.Pix[(y)*dst.Stride : (y)*dst.Stride+r.clipX*4]
		for i := 0; i < len(row); i += 4 {
			row[i], row[i+1], row[i+2], row[i+3] = r.pal.background.R, r.pal.background.G, r.pal.background.B, 255
		}
	}
	if !r.cam.ok {
		return
	}
	w.renderTable(&r)
	for _, c := range w.s.Cubes {
		h := c.Size / 2
		r.box(c.Pos, kin.Vec3{h, 0, 0}, kin.Vec3{0, h, 0}, kin.Vec3{0, 0, h}, c.Color)
	}
	w.renderArm(&r)
}

// renderTable draws the table top, the zone and the shadows of things
// above the table.
func (w *World) renderTable(r *renderer) {
	up := kin.Vec3{0, 0, 1}
	r.quad(kin.Vec3{-0.25, -0.45, 0}, kin.Vec3{0.55, -0.45, 0}, kin.Vec3{0.55, 0.45, 0}, kin.Vec3{-0.25, 0.45, 0}, up, r.pal.table)
	// Decals lie a fraction of a millimetre above the table so the depth
	// test keeps them in front of it.
	c, rad := w.s.ZoneCentre, w.s.ZoneRadius
	const seg = 48
	ring := math.Min(0.008, rad/3)
	for i := range seg {
		a0 := 2 * math.Pi * float64(i) / seg
		a1 := 2 * math.Pi * float64(i+1) / seg
		s0, c0 := math.Sincos(a0)
		s1, c1 := math.Sincos(a1)
		in0 := kin.Vec3{c[0] + (rad-ring)*c0, c[1] + (rad-ring)*s0, 0.0004}
		in1 := kin.Vec3{c[0] + (rad-ring)*c1, c[1] + (rad-ring)*s1, 0.0004}
		r.tri(kin.Vec3{c[0], c[1], 0.0004}, in0, in1, up, r.pal.zoneFill)
		out0 := kin.Vec3{c[0] + rad*c0, c[1] + rad*s0, 0.0008}
		out1 := kin.Vec3{c[0] + rad*c1, c[1] + rad*s1, 0.0008}
		in0[2], in1[2] = 0.0008, 0.0008
		r.quad(in0, out0, out1, in1, up, r.pal.zoneRing)
	}
	// Shadows straight below lifted cubes and below the tip: they show how
	// high things are.
	for _, cb := range w.s.Cubes {
		if cb.Pos[2]-cb.Size/2 < 0.001 {
			continue
		}
		h := cb.Size / 2
		p := cb.Pos
		r.quad(kin.Vec3{p[0] - h, p[1] - h, 0.0006}, kin.Vec3{p[0] + h, p[1] - h, 0.0006},
			kin.Vec3{p[0] + h, p[1] + h, 0.0006}, kin.Vec3{p[0] - h, p[1] + h, 0.0006}, up, r.pal.shadow)
	}
	if t := w.tip.Pos; t[2] > 0.002 {
		const sr = 0.01
		for i := range 16 {
			s0, c0 := math.Sincos(2 * math.Pi * float64(i) / 16)
			s1, c1 := math.Sincos(2 * math.Pi * float64(i+1) / 16)
			r.tri(kin.Vec3{t[0], t[1], 0.0006}, kin.Vec3{t[0] + sr*c0, t[1] + sr*s0, 0.0006},
				kin.Vec3{t[0] + sr*c1, t[1] + sr*s1, 0.0006}, up, r.pal.shadow)
		}
	}
}

// renderArm draws the base, the links along kin.Chain, the motors at the
// joints, the gripper body and the two fingers.
func (w *World) renderArm(r *renderer) {
	q := w.s.Joints
	pts := kin.Chain(q)
	fwd, left := kin.ArmPlane(q)
	up := kin.Vec3{0, 0, 1}
	// The base: fixed, 0.0388 m of it behind the pan axis (base_link origin).
	r.box(kin.Vec3{-0.008, 0, 0.03}, kin.Vec3{0.05, 0, 0}, kin.Vec3{0, 0.045, 0}, kin.Vec3{0, 0, 0.03}, r.pal.arm)
	// The shoulder block turns with the pan, from the base top to the
	// shoulder_lift axis.
	sh := pts[kin.ChainShoulder]
	top := pts[kin.ChainPan]
	mid := kin.Vec3{0, 0, (top[2] + sh[2]) / 2}.Add(fwd.Scale(0.012))
	hz := (sh[2] - top[2]) / 2
	r.box(mid, fwd.Scale(0.028), left.Scale(0.026), up.Scale(hz), r.pal.arm)
	// Links, as boxes whose cross-section is set in the arm plane.
	r.link(sh, pts[kin.ChainElbow], left, 0.014, 0.02, r.pal.arm)
	r.link(pts[kin.ChainElbow], pts[kin.ChainWrist], left, 0.012, 0.018, r.pal.arm)
	r.link(pts[kin.ChainWrist], pts[kin.ChainRoll], left, 0.014, 0.02, r.pal.arm)
	// Motors at the pitch joints.
	for _, i := range []int{kin.ChainShoulder, kin.ChainElbow, kin.ChainWrist} {
		r.box(pts[i], fwd.Scale(0.016), left.Scale(0.024), up.Scale(0.016), r.pal.motor)
	}
	// Gripper body from the roll joint to the base of the fingers, then the
	// fingers either side of the tip, the opening apart.
	tp := w.tip
	tp.Pos = pts[kin.ChainTip] // draw the arm where its joints put it
	a, o := tp.Approach(), tp.Opening()
	th := a.Cross(o)
	const fingerLen, fingerW, fingerT = 0.045, 0.007, 0.016
	base := tp.Pos.Sub(a.Scale(fingerLen))
	r.link(pts[kin.ChainRoll], base, o, 0.017, 0.022, r.pal.motor)
	gap := w.s.Opening * worldMaxOpening()
	for _, s := range []float64{-1, 1} {
		c := tp.Pos.Sub(a.Scale(fingerLen/2 - 0.002)).Add(o.Scale(s * (gap/2 + fingerW/2)))
		r.box(c, a.Scale(fingerLen/2+0.002), o.Scale(fingerW/2), th.Scale(fingerT/2), r.pal.finger)
	}
}

// link draws a box from p0 to p1 with half-widths along side (a unit
// vector across the link) and along the third axis.
func (r *renderer) link(p0, p1, side kin.Vec3, hSide, hThird float64, col color.RGBA) {
	d := p1.Sub(p0)
	l := d.Norm()
	if l < 1e-9 {
		return
	}
	a := d.Scale(1 / l)
	// Make side exactly perpendicular to the link.
	side = side.Sub(a.Scale(side.Dot(a))).Unit()
	if side == (kin.Vec3{}) {
		return
	}
	third := a.Cross(side)
	r.box(p0.Add(d.Scale(0.5)), a.Scale(l/2+hThird/2), side.Scale(hSide), third.Scale(hThird), col)
}

// box draws a box given its centre and three half-extent vectors, which
// must be orthogonal. Faces turned away from the camera are skipped.
func (r *renderer) box(c, ax, ay, az kin.Vec3, col color.RGBA) {
	axes := [3]kin.Vec3{ax, ay, az}
	for i := range 3 {
		u, v := axes[(i+1)%3], axes[(i+2)%3]
		for _, s := range []float64{1, -1} {
			n := axes[i].Scale(s)
			fc := c.Add(n)
			if n.Dot(r.cam.eye.Sub(fc)) <= 0 {
				continue // back face
			}
			// Corners in order around the face.
			p0 := fc.Sub(u).Sub(v)
			p1 := fc.Add(u).Sub(v)
			p2 := fc.Add(u).Add(v)
			p3 := fc.Sub(u).Add(v)
			r.quad(p0, p1, p2, p3, n.Unit(), col)
		}
	}
}

func (r *renderer) quad(p0, p1, p2, p3, normal kin.Vec3, col color.RGBA) {
	r.tri(p0, p1, p2, normal, col)
	r.tri(p0, p2, p3, normal, col)
}

// renderShade returns col lit by renderLight for a face with the given
// normal.
func renderShade(normal kin.Vec3, col color.RGBA) color.RGBA {
	k := 0.5 + 0.5*math.Max(0, normal.Dot(renderLight()))
	return color.RGBA{R: uint8(float64(col.R) * k), G: uint8(float64(col.G) * k), B: uint8(float64(col.B) * k), A: 255}
}

// tri clips a world triangle against the near plane and rasterizes it.
func (r *renderer) tri(p0, p1, p2, normal kin.Vec3, col color.RGBA) {
	sc := renderShade(normal, col)
	in := [3]kin.Vec3{r.cam.toCam(p0), r.cam.toCam(p1), r.cam.toCam(p2)}
	if in[0][2] >= renderNear && in[1][2] >= renderNear && in[2][2] >= renderNear {
		r.raster(in[0], in[1], in[2], sc)
		return
	}
	// Sutherland–Hodgman against z = renderNear: at most 4 vertices.
	var out [4]kin.Vec3
	n := 0
	for i := range 3 {
		a, b := in[i], in[(i+1)%3]
		ain, bin := a[2] >= renderNear, b[2] >= renderNear
		if ain {
			out[n] = a
			n++
		}
		if ain != bin {
			t := (renderNear - a[2]) / (b[2] - a[2])
			out[n] = a.Add(b.Sub(a).Scale(t))
			n++
		}
	}
	for i := 1; i+1 < n; i++ {
		r.raster(out[0], out[i], out[i+1], sc)
	}
}

// raster fills a camera-space triangle (all vertices in front of the near
// plane), keeping the nearest surface per pixel by interpolated 1/depth.
func (r *renderer) raster(a, b, c kin.Vec3, col color.RGBA) {
	cam := &r.cam
	ax, ay, aw := cam.cx+cam.focal*a[0]/a[2], cam.cy-cam.focal*a[1]/a[2], 1/a[2]
	bx, by, bw := cam.cx+cam.focal*b[0]/b[2], cam.cy-cam.focal*b[1]/b[2], 1/b[2]
	cx, cy, cw := cam.cx+cam.focal*c[0]/c[2], cam.cy-cam.focal*c[1]/c[2], 1/c[2]
	area := (bx-ax)*(cy-ay) - (by-ay)*(cx-ax)
	if area == 0 || math.IsNaN(area) {
		return
	}
	if area < 0 { // make the winding counter-clockwise in pixel space
		bx, by, bw, cx, cy, cw = cx, cy, cw, bx, by, bw
		area = -area
	}
	minX := max(0, int(math.Floor(min(ax, bx, cx))))
	maxX := min(r.clipX-1, int(math.Ceil(max(ax, bx, cx))))
	minY := max(0, int(math.Floor(min(ay, by, cy))))
	maxY := min(r.clipY-1, int(math.Ceil(max(ay, by, cy))))
	if minX > maxX || minY > maxY {
		return
	}
	inv := 1 / area
	// Edge functions at pixel centres: e0 = (c−b)×(p−b) weighs a, e1 =
	// (a−c)×(p−c) weighs b, e2 = (b−a)×(p−a) weighs c; all ≥ 0 inside.
	// Pixels on a shared edge are drawn by both triangles; the depth test
	// keeps one.
	e0dx, e1dx, e2dx := -(cy - by), -(ay - cy), -(by - ay)
	e0dy, e1dy, e2dy := cx-bx, ax-cx, bx-ax
	px0, py0 := float64(minX)+0.5, float64(minY)+0.5
	e0row := (cx-bx)*(py0-by) - (cy-by)*(px0-bx)
	e1row := (ax-cx)*(py0-cy) - (ay-cy)*(px0-cx)
	e2row := (bx-ax)*(py0-ay) - (by-ay)*(px0-ax)
	pix := r.img.Pix
	stride := r.img.Stride
	for y := minY; y <= maxY; y++ {
		e0, e1, e2 := e0row, e1row, e2row
		zrow := y * r.clipX
		prow := y * stride
		for x := minX; x <= maxX; x++ {
			if e0 >= 0 && e1 >= 0 && e2 >= 0 {
				depth := float32((e0*aw + e1*bw + e2*cw) * inv)
				if depth > r.z[zrow+x] {
					r.z[zrow+x] = depth
					i := prow + x*4
					pix[i], pix[i+1], pix[i+2], pix[i+3] = col.R, col.G, col.B, 255
				}
			}
			e0 += e0dx
			e1 += e1dx
			e2 += e2dx
		}
		e0row += e0dy
		e1row += e1dy
		e2row += e2dy
	}
}
