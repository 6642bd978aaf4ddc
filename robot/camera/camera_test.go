package camera

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// solid returns a w×h image of one colour.
func solid(w, h int, c color.RGBA) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), &image.Uniform{C: c}, image.Point{}, draw.Src)
	return img
}

// meanRGB is the mean colour of r in img, 0..255 per channel.
func meanRGB(img image.Image, r image.Rectangle) (float64, float64, float64) {
	var sr, sg, sb, n float64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			sr += float64(cr >> 8)
			sg += float64(cg >> 8)
			sb += float64(cb >> 8)
			n++
		}
	}
	return sr / n, sg / n, sb / n
}

func near(got float64, want uint8, tol float64) bool {
	d := got - float64(want)
	return d <= tol && d >= -tol
}

func TestFromFuncNumbersFrames(t *testing.T) {
	colours := []color.RGBA{{255, 0, 0, 255}, {0, 255, 0, 255}, {0, 0, 255, 255}}
	calls := 0
	fail := errors.New("renderer broke")
	cam := FromFunc(func(ctx context.Context) (image.Image, error) {
		calls++
		if calls == 2 { // the second render fails: it must not use up a number
			return nil, fail
		}
		return solid(4, 3, colours[(calls-1)%len(colours)]), nil
	})
	ctx := context.Background()
	var prev time.Time
	for want := int64(1); want <= 5; want++ {
		f, err := cam.Read(ctx)
		if calls == 2 {
			if !errors.Is(err, fail) {
				t.Fatalf("Read (render error) = %v, want an error wrapping %v", err, fail)
			}
			f, err = cam.Read(ctx)
		}
		if err != nil {
			t.Fatalf("Read #%d: %v", want, err)
		}
		if f.Seq != want {
			t.Errorf("Read #%d: Seq = %d, want %d", want, f.Seq, want)
		}
		if f.Time.Before(prev) || f.Time.IsZero() {
			t.Errorf("Read #%d: Time = %v, want not zero and not before %v", want, f.Time, prev)
		}
		prev = f.Time
		wantC := colours[(calls-1)%len(colours)]
		if got := f.Image.At(1, 1); got != wantC {
			t.Errorf("Read #%d: pixel = %v, want %v (the rendered image)", want, got, wantC)
		}
	}
}

func TestFromFuncContextAndClose(t *testing.T) {
	calls := 0
	cam := FromFunc(func(ctx context.Context) (image.Image, error) {
		calls++
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return solid(2, 2, color.RGBA{A: 255}), nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := cam.Read(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Read(cancelled ctx) = %v, want context.Canceled", err)
	}
	if calls != 0 {
		t.Errorf("Read(cancelled ctx) rendered %d times, want 0", calls)
	}
	nilCam := FromFunc(func(context.Context) (image.Image, error) { return nil, nil })
	if _, err := nilCam.Read(context.Background()); err == nil {
		t.Error("Read of a renderer returning (nil, nil) = nil error, want an error")
	}
	for i := range 2 {
		if err := cam.Close(); err != nil {
			t.Errorf("Close #%d = %v, want nil", i+1, err)
		}
	}
	if _, err := cam.Read(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Read after Close = %v, want ErrClosed", err)
	}
}

// quadrants is a 64×48 image with red, green, blue and white quarters.
func quadrants() (*image.RGBA, map[image.Rectangle]color.RGBA) {
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	parts := map[image.Rectangle]color.RGBA{
		image.Rect(0, 0, 32, 24):   {255, 0, 0, 255},
		image.Rect(32, 0, 64, 24):  {0, 255, 0, 255},
		image.Rect(0, 24, 32, 48):  {0, 0, 255, 255},
		image.Rect(32, 24, 64, 48): {255, 255, 255, 255},
	}
	for r, c := range parts {
		draw.Draw(img, r, &image.Uniform{C: c}, image.Point{}, draw.Src)
	}
	return img, parts
}

func TestJPEGRoundTrip(t *testing.T) {
	img, parts := quadrants()
	for _, tc := range []struct {
		quality int
		tol     float64 // per channel, mean over a quadrant's inside
	}{
		{0, 24}, {30, 40}, {75, 24}, {100, 8},
	} {
		data, err := JPEG(img, tc.quality)
		if err != nil {
			t.Fatalf("JPEG(img, %d) error %v", tc.quality, err)
		}
		back, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("JPEG(img, %d) gave bytes that do not decode: %v", tc.quality, err)
		}
		if back.Bounds() != img.Bounds() {
			t.Errorf("JPEG(img, %d) decodes to bounds %v, want %v", tc.quality, back.Bounds(), img.Bounds())
			continue
		}
		for r, c := range parts {
			inner := r.Inset(4) // block edges blur across quadrants
			gr, gg, gb := meanRGB(back, inner)
			if !near(gr, c.R, tc.tol) || !near(gg, c.G, tc.tol) || !near(gb, c.B, tc.tol) {
				t.Errorf("JPEG(img, %d): quadrant %v = (%.0f, %.0f, %.0f), want %v within %.0f", tc.quality, r, gr, gg, gb, c, tc.tol)
			}
		}
	}
}

func TestJPEGSmallerAtLowerQuality(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 96, 64))
	for i := range img.Pix { // texture, so quality matters
		img.Pix[i] = uint8(i * 7 % 251)
	}
	lo, err := JPEG(img, 10)
	if err != nil {
		t.Fatal(err)
	}
	hi, err := JPEG(img, 95)
	if err != nil {
		t.Fatal(err)
	}
	if len(lo) >= len(hi) {
		t.Errorf("len(JPEG(img, 10)) = %d, want less than len(JPEG(img, 95)) = %d", len(lo), len(hi))
	}
}

func TestJPEGErrors(t *testing.T) {
	ok := solid(8, 8, color.RGBA{1, 2, 3, 255})
	for _, tc := range []struct {
		name    string
		img     image.Image
		quality int
	}{
		{"nil image", nil, 80},
		{"empty image", image.NewRGBA(image.Rectangle{}), 80},
		{"quality below 1", ok, -1},
		{"quality above 100", ok, 101},
	} {
		if data, err := JPEG(tc.img, tc.quality); err == nil {
			t.Errorf("JPEG(%s, %d) = %d bytes, nil error; want an error", tc.name, tc.quality, len(data))
		}
	}
}

func TestOptionsDefaults(t *testing.T) {
	o, err := Options{}.withDefaults()
	if err != nil {
		t.Fatalf("Options{}.withDefaults() error %v", err)
	}
	if o.Timeout != DefaultTimeout || o.Logger == nil {
		t.Errorf("Options{}.withDefaults() = timeout %v, logger %v; want %v and a logger", o.Timeout, o.Logger, DefaultTimeout)
	}
	for _, bad := range []Options{{Width: -1}, {Height: -1}, {FPS: -5}, {Timeout: -time.Second}} {
		if _, err := bad.withDefaults(); err == nil {
			t.Errorf("%+v.withDefaults() = nil error, want an error", bad)
		}
	}
}

func TestParseSource(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want source
	}{
		{"0", source{kind: kindDevice, index: 0, name: "0"}},
		{"2", source{kind: kindDevice, index: 2, name: "2"}},
		{"/dev/video3", source{kind: kindDevice, index: 3, name: "/dev/video3"}},
		{"clip.avi", source{kind: kindFile, path: "clip.avi", name: "clip.avi"}},
		{"/data/run 1/cam.mp4", source{kind: kindFile, path: "/data/run 1/cam.mp4", name: "/data/run 1/cam.mp4"}},
		{"/dev/video-by-id", source{kind: kindFile, path: "/dev/video-by-id", name: "/dev/video-by-id"}},
		{"./odd://name.avi", source{kind: kindFile, path: "./odd://name.avi", name: "./odd://name.avi"}},
		{"99999999999", source{kind: kindFile, path: "99999999999", name: "99999999999"}},
		{"rtsp://10.0.0.5:554/stream1", source{kind: kindURL, path: "rtsp://10.0.0.5:554/stream1", name: "rtsp://10.0.0.5:554/stream1"}},
		{"http://cam.local/video.mjpg", source{kind: kindURL, path: "http://cam.local/video.mjpg", name: "http://cam.local/video.mjpg"}},
		{"RTSP://admin:secret@cam/1", source{kind: kindURL, path: "RTSP://admin:secret@cam/1", name: "rtsp://admin:xxxxx@cam/1"}},
	} {
		got, err := parseSource(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("parseSource(%q) = %+v, %v; want %+v, nil", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", "a\x00b", "ftp://host/x", "rtps://host/x", "http:///nohost", "rtsp://h\x7f/"} {
		if got, err := parseSource(in); err == nil {
			t.Errorf("parseSource(%q) = %+v, nil; want an error", in, got)
		}
	}
}

func TestParseSourceHidesPassword(t *testing.T) {
	_, err := parseSource("ftp://admin:hunter2@cam/1")
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("parseSource(ftp URL with password) error = %v, want an error without the password", err)
	}
}

func FuzzParseSource(f *testing.F) {
	for _, s := range []string{"0", "17", "/dev/video0", "clip.avi", "rtsp://u:p@h:554/s", "http://h/v.mjpg", "ftp://x", "://", "-1", "\x00", "99999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		src, err := parseSource(s)
		if err != nil {
			return
		}
		switch src.kind {
		case kindDevice:
			if src.index < 0 || src.index > maxDevice {
				t.Errorf("parseSource(%q) = device %d, want 0..%d", s, src.index, maxDevice)
			}
		case kindFile, kindURL:
			if src.path != s {
				t.Errorf("parseSource(%q).path = %q, want the input", s, src.path)
			}
		}
		if src.name == "" || strings.ContainsRune(src.name, 0) {
			t.Errorf("parseSource(%q).name = %q, want a printable name", s, src.name)
		}
	})
}

func TestListDevices(t *testing.T) {
	dir := t.TempDir()
	if got := listDevices(filepath.Join(dir, "video*")); !strings.HasPrefix(got, "none") {
		t.Errorf("listDevices(empty dir) = %q, want it to start with none", got)
	}
	for _, n := range []string{"video2", "video0", "audio0"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	want := filepath.Join(dir, "video0") + ", " + filepath.Join(dir, "video2")
	if got := listDevices(filepath.Join(dir, "video*")); got != want {
		t.Errorf("listDevices(dir) = %q, want %q", got, want)
	}
}

// stepGrabber is a grabber the test drives: each grab announces itself
// on started and returns what the test sends on feed.
type stepGrabber struct {
	started chan struct{}
	feed    chan grabResult
	closed  chan struct{}
}

func newStepGrabber() *stepGrabber {
	return &stepGrabber{started: make(chan struct{}, 100), feed: make(chan grabResult), closed: make(chan struct{})}
}

func (g *stepGrabber) grab() (image.Image, error) {
	g.started <- struct{}{}
	r := <-g.feed
	return r.img, r.err
}

func (g *stepGrabber) close() error { close(g.closed); return nil }

// waitFor fails the test if ch does not deliver within a generous bound.
func waitFor[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(30 * time.Second):
		t.Fatalf("no %s within 30s", what)
		panic("unreachable")
	}
}

func startStep(t *testing.T, src source, timeout time.Duration) (*asyncCamera, *stepGrabber) {
	t.Helper()
	g := newStepGrabber()
	opts, err := Options{Timeout: timeout}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	c, err := startAsync(context.Background(), src, opts, func() (grabber, error) { return g, nil })
	if err != nil {
		t.Fatalf("startAsync: %v", err)
	}
	return c, g
}

// closeAsync closes c while its grabber may be blocked, then feeds it so
// that the blocked grab can return, and checks the grabber was closed.
func closeAsync(t *testing.T, c *asyncCamera, g *stepGrabber) {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- c.Close() }()
	waitFor(t, c.quit, "stop signal")
	for {
		select {
		case err := <-errc:
			if err != nil {
				t.Errorf("Close = %v, want nil", err)
			}
			select {
			case <-g.closed:
			default:
				t.Error("Close returned before the grabber was closed")
			}
			return
		case g.feed <- grabResult{err: errors.New("unused")}:
		case <-time.After(30 * time.Second):
			t.Fatal("Close did not return within 30s")
		}
	}
}

func TestAsyncTimeoutThenLateFrame(t *testing.T) {
	dev := source{kind: kindDevice, index: 0, name: "0"}
	c, g := startStep(t, dev, 20*time.Millisecond)
	_, err := c.Read(context.Background())
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("Read (device hung) = %v, want ErrTimeout", err)
	}
	const want = "camera 0 gave no frame in 20ms: check the cable, another program using it (fuser /dev/video0), or lower --fps"
	if err.Error() != want {
		t.Errorf("Read (device hung) error = %q, want %q", err, want)
	}
	waitFor(t, g.started, "grab")
	red := solid(2, 2, color.RGBA{255, 0, 0, 255})
	g.feed <- grabResult{img: red, time: time.Now()} // the late frame…
	c.timeout = time.Minute
	f, err := c.Read(context.Background()) // …goes to the next Read, which starts no second grab
	if err != nil || f.Image != red || f.Seq != 1 {
		t.Errorf("Read after a timeout = %+v, %v; want the late frame with Seq 1", f, err)
	}
	if len(g.started) != 0 {
		t.Errorf("Read after a timeout started %d new grabs, want 0", len(g.started))
	}
	go func() { g.feed <- grabResult{img: red} }()
	if f, err := c.Read(context.Background()); err != nil || f.Seq != 2 {
		t.Errorf("second Read = %+v, %v; want Seq 2", f, err)
	}
	closeAsync(t, c, g)
}

func TestTimeoutMessages(t *testing.T) {
	for _, tc := range []struct {
		src  source
		want string
	}{
		{source{kind: kindDevice, index: 2, name: "/dev/video2"}, "camera /dev/video2 gave no frame in 2s: check the cable, another program using it (fuser /dev/video2), or lower --fps"},
		{source{kind: kindURL, name: "rtsp://cam/1"}, "camera rtsp://cam/1 gave no frame in 2s: check that the stream is up and reachable"},
		{source{kind: kindFile, name: "clip.avi"}, "camera clip.avi gave no frame in 2s: the file may be"},
	} {
		err := error(&timeoutError{src: tc.src, d: 2 * time.Second})
		if !strings.HasPrefix(err.Error(), tc.want) || !errors.Is(err, ErrTimeout) {
			t.Errorf("timeout error for %+v = %q (Is ErrTimeout %v), want it to start with %q and be ErrTimeout", tc.src, err, errors.Is(err, ErrTimeout), tc.want)
		}
	}
}

func TestAsyncReadHonoursContext(t *testing.T) {
	c, g := startStep(t, source{kind: kindURL, name: "rtsp://cam/1"}, time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := c.Read(ctx)
		errc <- err
	}()
	waitFor(t, g.started, "grab")
	cancel()
	if err := waitFor(t, errc, "Read return after cancel"); !errors.Is(err, context.Canceled) {
		t.Errorf("Read (cancelled while the grab blocks) = %v, want context.Canceled", err)
	}
	if _, err := c.Read(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Read(cancelled ctx) = %v, want context.Canceled", err)
	}
	closeAsync(t, c, g)
}

func TestAsyncErrorsPassThrough(t *testing.T) {
	c, g := startStep(t, source{kind: kindFile, name: "clip.avi"}, time.Minute)
	for _, want := range []error{errors.New("decoder broke"), io.EOF, io.EOF} {
		go func() { g.feed <- grabResult{err: want} }()
		if _, err := c.Read(context.Background()); err != want {
			t.Errorf("Read = %v, want %v unchanged", err, want)
		}
	}
	closeAsync(t, c, g)
}

func TestAsyncConcurrentReads(t *testing.T) {
	c, g := startStep(t, source{kind: kindDevice, name: "0"}, time.Minute)
	const n = 8
	seqs := make(chan int64, n)
	errs := make(chan error, n)
	for range n {
		go func() {
			f, err := c.Read(context.Background())
			if err != nil {
				errs <- err
				return
			}
			seqs <- f.Seq
		}()
	}
	img := solid(1, 1, color.RGBA{A: 255})
	for range n {
		waitFor(t, g.started, "grab")
		g.feed <- grabResult{img: img}
	}
	seen := map[int64]bool{}
	for range n {
		select {
		case s := <-seqs:
			if s < 1 || s > n || seen[s] {
				t.Errorf("concurrent Read gave Seq %d, want each of 1..%d once (seen %v)", s, n, seen)
			}
			seen[s] = true
		case err := <-errs:
			t.Errorf("concurrent Read error %v", err)
		case <-time.After(30 * time.Second):
			t.Fatal("concurrent Reads did not all return within 30s")
		}
	}
	closeAsync(t, c, g)
}

func TestAsyncCloseWhileReading(t *testing.T) {
	c, g := startStep(t, source{kind: kindDevice, name: "0"}, time.Minute)
	errc := make(chan error, 1)
	go func() {
		_, err := c.Read(context.Background())
		errc <- err
	}()
	waitFor(t, g.started, "grab")
	closeAsync(t, c, g)
	if err := waitFor(t, errc, "Read return after Close"); !errors.Is(err, ErrClosed) {
		t.Errorf("Read during Close = %v, want ErrClosed", err)
	}
	if _, err := c.Read(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Read after Close = %v, want ErrClosed", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
}

func TestStartAsyncOpenFails(t *testing.T) {
	bad := errors.New("no such device")
	opts, _ := Options{}.withDefaults()
	c, err := startAsync(context.Background(), source{name: "0"}, opts, func() (grabber, error) { return nil, bad })
	if c != nil || !errors.Is(err, bad) {
		t.Errorf("startAsync(failing open) = %v, %v; want nil, %v", c, err, bad)
	}
}

func TestStartAsyncCancelledWhileOpening(t *testing.T) {
	g := newStepGrabber()
	release := make(chan struct{})
	opening := make(chan struct{})
	opts, _ := Options{}.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := startAsync(ctx, source{kind: kindURL, name: "rtsp://cam/1"}, opts, func() (grabber, error) {
			close(opening)
			<-release // a stream that takes its time to open
			return g, nil
		})
		errc <- err
	}()
	waitFor(t, opening, "open")
	cancel()
	if err := waitFor(t, errc, "startAsync return after cancel"); !errors.Is(err, context.Canceled) {
		t.Errorf("startAsync (cancelled while opening) = %v, want context.Canceled", err)
	}
	close(release)
	waitFor(t, g.closed, "grabber close after the abandoned open finished")

	if _, err := startAsync(ctx, source{name: "0"}, opts, func() (grabber, error) {
		t.Error("open called with a cancelled ctx")
		return g, nil
	}); !errors.Is(err, context.Canceled) {
		t.Errorf("startAsync(cancelled ctx) = %v, want context.Canceled", err)
	}
}

func BenchmarkJPEG640x480(b *testing.B) {
	img := image.NewRGBA(image.Rect(0, 0, 640, 480))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7 % 251)
	}
	for _, q := range []int{50, 85} {
		b.Run(fmt.Sprint("q", q), func(b *testing.B) {
			for b.Loop() {
				if _, err := JPEG(img, q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
