//go:build gocv

package camera

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gocv.io/x/gocv"
)

// frameColour is the colour of frame i of the test video: red, green,
// blue, then colours that differ from one frame to the next.
func frameColour(i int) color.RGBA {
	switch i {
	case 0:
		return color.RGBA{255, 0, 0, 255}
	case 1:
		return color.RGBA{0, 255, 0, 255}
	case 2:
		return color.RGBA{0, 0, 255, 255}
	}
	return color.RGBA{uint8(i * 37), uint8(255 - i*11), uint8(i * 91), 255}
}

// writeVideo writes n solid frames of w×h with OpenCV's MJPG writer.
func writeVideo(t *testing.T, path string, n, w, h int) {
	t.Helper()
	vw, err := gocv.VideoWriterFile(path, "MJPG", 20, w, h, true)
	if err != nil {
		t.Fatalf("VideoWriterFile: %v", err)
	}
	if !vw.IsOpened() {
		vw.Close()
		t.Fatalf("VideoWriterFile(%s, MJPG) did not open: this OpenCV cannot write MJPG", path)
	}
	for i := range n {
		c := frameColour(i)
		m := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(float64(c.B), float64(c.G), float64(c.R), 0), h, w, gocv.MatTypeCV8UC3)
		err := vw.Write(m)
		m.Close()
		if err != nil {
			t.Fatalf("write frame %d: %v", i, err)
		}
	}
	if err := vw.Close(); err != nil {
		t.Fatalf("close video writer: %v", err)
	}
}

func TestOpenVideoFile(t *testing.T) {
	const n, w, h = 20, 160, 120
	path := filepath.Join(t.TempDir(), "colours.avi")
	writeVideo(t, path, n, w, h)
	var logs bytes.Buffer
	cam, err := Open(context.Background(), path, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	ctx := context.Background()
	var prev time.Time
	for i := range n {
		f, err := cam.Read(ctx)
		if err != nil {
			t.Fatalf("Read frame %d: %v", i, err)
		}
		if f.Seq != int64(i+1) {
			t.Errorf("frame %d: Seq = %d, want %d", i, f.Seq, i+1)
		}
		if f.Time.Before(prev) {
			t.Errorf("frame %d: Time %v before the previous frame's %v", i, f.Time, prev)
		}
		prev = f.Time
		if _, ok := f.Image.(*image.RGBA); !ok {
			t.Errorf("frame %d: Image is %T, want *image.RGBA", i, f.Image)
		}
		if b := f.Image.Bounds(); b != image.Rect(0, 0, w, h) {
			t.Fatalf("frame %d: bounds %v, want %v", i, b, image.Rect(0, 0, w, h))
		}
		want := frameColour(i)
		r, g, b := meanRGB(f.Image, f.Image.Bounds())
		if !near(r, want.R, 30) || !near(g, want.G, 30) || !near(b, want.B, 30) {
			t.Errorf("frame %d: mean colour (%.0f, %.0f, %.0f), want %v within 30 (JPEG)", i, r, g, b, want)
		}
	}
	for range 2 {
		if f, err := cam.Read(ctx); err != io.EOF {
			t.Errorf("Read past the last frame = Seq %d, %v; want io.EOF", f.Seq, err)
		}
	}
	for i := range 2 {
		if err := cam.Close(); err != nil {
			t.Errorf("Close #%d = %v, want nil", i+1, err)
		}
	}
	if _, err := cam.Read(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("Read after Close = %v, want ErrClosed", err)
	}
	if !strings.Contains(logs.String(), "width=160 height=120") {
		t.Errorf("Open logged %q, want the size it opened (width=160 height=120)", logs.String())
	}
}

func TestRedReadsBackRed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "red.avi")
	writeVideo(t, path, 1, 64, 48) // frame 0 is pure red, written as BGR (0, 0, 255)
	cam, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer cam.Close()
	f, err := cam.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	r, g, b := meanRGB(f.Image, f.Image.Bounds())
	if r < 200 || g > 50 || b > 50 {
		t.Errorf("red frame reads back as (%.0f, %.0f, %.0f), want red-dominant (R > 200, G and B < 50): colour order?", r, g, b)
	}
}

func TestMatToRGBA(t *testing.T) {
	for _, tc := range []struct {
		name string
		typ  gocv.MatType
		data []byte // 3 pixels in OpenCV's channel order
		want []byte // the same 3 pixels as RGBA
	}{
		{"BGR", gocv.MatTypeCV8UC3,
			[]byte{255, 0, 0 /* blue */, 0, 255, 0 /* green */, 10, 20, 250 /* red-ish */},
			[]byte{0, 0, 255, 255, 0, 255, 0, 255, 250, 20, 10, 255}},
		{"BGRA", gocv.MatTypeCV8UC4,
			[]byte{1, 2, 3, 255, 40, 50, 60, 255, 200, 100, 0, 255},
			[]byte{3, 2, 1, 255, 60, 50, 40, 255, 0, 100, 200, 255}},
		{"gray", gocv.MatTypeCV8UC1,
			[]byte{0, 77, 255},
			[]byte{0, 0, 0, 255, 77, 77, 77, 255, 255, 255, 255, 255}},
	} {
		m, err := gocv.NewMatFromBytes(1, 3, tc.typ, tc.data)
		if err != nil {
			t.Fatalf("%s: NewMatFromBytes: %v", tc.name, err)
		}
		tmp := gocv.NewMat()
		img, err := matToRGBA(m, &tmp)
		m.Close()
		tmp.Close()
		if err != nil {
			t.Errorf("matToRGBA(%s %v) error %v", tc.name, tc.data, err)
			continue
		}
		if img.Bounds() != image.Rect(0, 0, 3, 1) || !bytes.Equal(img.Pix, tc.want) {
			t.Errorf("matToRGBA(%s %v) = %v %v, want %v %v", tc.name, tc.data, img.Bounds(), img.Pix, image.Rect(0, 0, 3, 1), tc.want)
		}
	}
	m := gocv.NewMatWithSize(2, 2, gocv.MatTypeCV32FC3)
	defer m.Close()
	tmp := gocv.NewMat()
	defer tmp.Close()
	if img, err := matToRGBA(m, &tmp); err == nil {
		t.Errorf("matToRGBA(float Mat) = %v, nil; want an error", img.Bounds())
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	notVideo := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notVideo, []byte("not a video\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.avi")
	for _, tc := range []struct {
		source string
		opts   Options
		says   []string
		is     error
	}{
		{missing, Options{}, []string{"no such video file"}, fs.ErrNotExist},
		{"99", Options{}, []string{"no /dev/video99", "video devices present: "}, nil},
		{"/dev/video98", Options{}, []string{"no /dev/video98"}, nil},
		{dir, Options{}, []string{"directory"}, nil},
		{notVideo, Options{}, []string{"could not open it as a video"}, nil},
		{"ftp://host/x", Options{}, []string{"not a video stream"}, nil},
		{"", Options{}, []string{"empty source"}, nil},
		{"0", Options{FPS: -1}, []string{"bad options"}, nil},
	} {
		cam, err := Open(context.Background(), tc.source, tc.opts)
		if err == nil {
			cam.Close()
			t.Errorf("Open(%q) = a camera, nil error; want an error", tc.source)
			continue
		}
		for _, s := range tc.says {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("Open(%q) error %q does not say %q", tc.source, err, s)
			}
		}
		if tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("Open(%q) error %v, want errors.Is %v", tc.source, err, tc.is)
		}
	}
}

func TestOpenAndReadHonourCancelledContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "clip.avi")
	writeVideo(t, path, 3, 32, 24)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if cam, err := Open(cancelled, path, Options{}); !errors.Is(err, context.Canceled) {
		if cam != nil {
			cam.Close()
		}
		t.Errorf("Open(cancelled ctx) = %v, want context.Canceled", err)
	}
	cam, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer cam.Close()
	if _, err := cam.Read(cancelled); !errors.Is(err, context.Canceled) {
		t.Errorf("Read(cancelled ctx) = %v, want context.Canceled", err)
	}
	f, err := cam.Read(context.Background())
	if err != nil || f.Seq != 1 {
		t.Fatalf("Read after a cancelled Read = Seq %d, %v; want the first frame (Seq 1)", f.Seq, err)
	}
	if r, g, b := meanRGB(f.Image, f.Image.Bounds()); r < 200 || g > 50 || b > 50 {
		t.Errorf("first frame after a cancelled Read = (%.0f, %.0f, %.0f), want red: a cancelled Read used up a frame", r, g, b)
	}
}

// mjpegServer streams JPEG frames as multipart/x-mixed-replace (what IP
// cameras serve) until stall is closed, then sends nothing until release
// is closed: a camera that hangs.
func mjpegServer(t *testing.T, jpg []byte, stall, release <-chan struct{}) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "multipart/x-mixed-replace; boundary=frame")
		fl := w.(http.Flusher)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stall:
				select {
				case <-release:
				case <-r.Context().Done():
				}
				return
			case <-r.Context().Done():
				return
			case <-tick.C:
			}
			if _, err := fmt.Fprintf(w, "--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n", len(jpg)); err != nil {
				return
			}
			if _, err := w.Write(append(jpg[:len(jpg):len(jpg)], "\r\n"...)); err != nil {
				return
			}
			fl.Flush()
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestMJPEGStreamThatHangs(t *testing.T) {
	jpg, err := JPEG(solid(64, 48, color.RGBA{255, 0, 0, 255}), 90)
	if err != nil {
		t.Fatal(err)
	}
	stall, release := make(chan struct{}), make(chan struct{})
	srv := mjpegServer(t, jpg, stall, release)
	const timeout = time.Second
	openCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cam, err := Open(openCtx, srv.URL+"/video.mjpg", Options{Timeout: timeout})
	if err != nil {
		t.Fatalf("Open(MJPEG over http): %v", err)
	}
	f, err := cam.Read(context.Background())
	if err != nil {
		t.Fatalf("Read (stream flowing): %v", err)
	}
	if b := f.Image.Bounds(); b != image.Rect(0, 0, 64, 48) {
		t.Errorf("stream frame bounds %v, want %v", b, image.Rect(0, 0, 64, 48))
	}
	if r, g, b := meanRGB(f.Image, f.Image.Bounds()); r < 200 || g > 50 || b > 50 {
		t.Errorf("red stream frame = (%.0f, %.0f, %.0f), want red-dominant", r, g, b)
	}

	close(stall)
	// Frames already buffered still come; then Read must give up.
	for i := 0; ; i++ {
		_, err := cam.Read(context.Background())
		if errors.Is(err, ErrTimeout) {
			if !strings.Contains(err.Error(), "gave no frame in 1s") {
				t.Errorf("timeout error %q, want it to say it gave no frame in 1s", err)
			}
			break
		}
		if err != nil {
			t.Fatalf("Read (stream stalled) = %v, want frames then ErrTimeout", err)
		}
		if i > 10000 {
			t.Fatal("Read (stream stalled) kept giving frames")
		}
	}
	// A ctx shorter than the timeout ends the wait first. (On a very
	// loaded machine the timeout above may have fired with frames still
	// buffered: those may come first.)
	for i := 0; ; i++ {
		short, cancelShort := context.WithTimeout(context.Background(), 50*time.Millisecond)
		_, err := cam.Read(short)
		cancelShort()
		if errors.Is(err, context.DeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatalf("Read(50ms ctx) on a hung stream = %v, want context.DeadlineExceeded", err)
		}
		if i > 10000 {
			t.Fatal("Read(50ms ctx) on a hung stream kept giving frames")
		}
	}

	// Close waits for the blocked read, which returns once the server
	// drops the connection.
	closed := make(chan error, 1)
	go func() { closed <- cam.Close() }()
	close(release)
	srv.CloseClientConnections()
	if err := waitFor(t, closed, "Close of a hung stream after the server hung up"); err != nil {
		t.Errorf("Close = %v, want nil", err)
	}
}

func BenchmarkMatToRGBA640x480(b *testing.B) {
	m := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(10, 20, 30, 0), 480, 640, gocv.MatTypeCV8UC3)
	defer m.Close()
	tmp := gocv.NewMat()
	defer tmp.Close()
	for b.Loop() {
		if _, err := matToRGBA(m, &tmp); err != nil {
			b.Fatal(err)
		}
	}
}
