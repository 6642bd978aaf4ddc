// Package camera gives frames to the agent: from a real camera, a video
// file or a network stream through OpenCV (gocv, build tag `gocv`), or
// from any render function such as the simulator's (FromFunc).
//
// Without the build tag, Open returns an error wrapping ErrNoGoCV that
// says how to rebuild; FromFunc and JPEG work in every build.
package camera

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"log/slog"
	"sync/atomic"
	"time"
)

// DefaultTimeout is how long Read waits for a frame when Options.Timeout
// is zero.
const DefaultTimeout = 2 * time.Second

var (
	// ErrNoGoCV is wrapped by Open in a build without the `gocv` tag.
	ErrNoGoCV = errors.New("camera: built without OpenCV (build tag gocv)")
	// ErrClosed is returned by Read after Close.
	ErrClosed = errors.New("camera: closed")
	// ErrTimeout is wrapped by Read when no frame came within Options.Timeout.
	ErrTimeout = errors.New("camera: no frame in time")
)

// Frame is one image from a camera.
type Frame struct {
	Image image.Image // *image.RGBA for OpenCV sources
	Seq   int64       // 1 for the first frame this camera delivered, then 2, 3, …
	Time  time.Time   // when the frame was captured (or rendered)
}

// Camera is a source of frames. Read and Close may be called from any
// goroutine; concurrent Reads are served one after the other.
type Camera interface {
	// Read returns the next frame. It honours ctx and, for OpenCV
	// sources, Options.Timeout. At the end of a video file it returns io.EOF.
	Read(ctx context.Context) (Frame, error)
	// Close releases the camera; it is idempotent.
	Close() error
}

// Options configure Open. The zero value is usable.
type Options struct {
	// Width, Height and FPS are requested from a device when > 0; the log
	// says what the device actually gives. Files and streams ignore them.
	Width, Height int
	FPS           float64
	// Timeout bounds how long Read waits for the next frame; 0 means
	// DefaultTimeout.
	Timeout time.Duration
	// Logger receives what was opened and what the device gives; nil
	// discards.
	Logger *slog.Logger
}

// withDefaults checks o and fills in the defaults.
func (o Options) withDefaults() (Options, error) {
	if o.Width < 0 || o.Height < 0 || o.FPS < 0 || o.FPS != o.FPS || o.Timeout < 0 {
		return o, fmt.Errorf("camera: bad options (width %d, height %d, fps %g, timeout %s): none may be negative; use 0 for the default", o.Width, o.Height, o.FPS, o.Timeout)
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// JPEG encodes img for model input. quality is 1 (smallest) to 100
// (best); 0 means jpeg.DefaultQuality.
func JPEG(img image.Image, quality int) ([]byte, error) {
	if img == nil {
		return nil, errors.New("camera: JPEG of a nil image")
	}
	if quality == 0 {
		quality = jpeg.DefaultQuality
	}
	if quality < 1 || quality > 100 {
		return nil, fmt.Errorf("camera: JPEG quality %d is out of range: use 1 to 100 (0 for the default %d)", quality, jpeg.DefaultQuality)
	}
	if b := img.Bounds(); b.Empty() {
		return nil, fmt.Errorf("camera: JPEG of an empty image (bounds %v)", b)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		return nil, fmt.Errorf("camera: encode JPEG: %w", err)
	}
	return buf.Bytes(), nil
}

// Func renders one image, for example the simulator's view of the scene.
type Func func(ctx context.Context) (image.Image, error)

// FromFunc makes a Camera of a render function: each Read calls f with
// Read's context and numbers the images it returns. f must honour ctx;
// Read adds no timeout of its own. A failed render consumes no number.
func FromFunc(f Func) Camera {
	return &funcCamera{f: f}
}

type funcCamera struct {
	f      Func
	seq    atomic.Int64
	closed atomic.Bool
}

func (c *funcCamera) Read(ctx context.Context) (Frame, error) {
	if c.closed.Load() {
		return Frame{}, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return Frame{}, fmt.Errorf("camera: read: %w", err)
	}
	img, err := c.f(ctx)
	if err != nil {
		return Frame{}, fmt.Errorf("camera: render: %w", err)
	}
	if img == nil {
		return Frame{}, errors.New("camera: render returned a nil image and no error")
	}
	return Frame{Image: img, Seq: c.seq.Add(1), Time: time.Now()}, nil
}

func (c *funcCamera) Close() error {
	c.closed.Store(true)
	return nil
}
