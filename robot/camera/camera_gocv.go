//go:build gocv

package camera

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"io/fs"
	"os"
	"runtime"
	"strconv"

	"gocv.io/x/gocv"
)

// devicePattern is where Linux lists capture devices.
const devicePattern = "/dev/video*"

// Open opens a camera through OpenCV. source is a device index ("0") or
// path ("/dev/video0"), a video file, or a stream URL (rtsp://…,
// http://… MJPEG). Open waits for the device or stream to open or for
// ctx to end; ctx is not kept. Frames are *image.RGBA.
func Open(ctx context.Context, source string, opts Options) (Camera, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	src, err := parseSource(source)
	if err != nil {
		return nil, err
	}
	switch src.kind {
	case kindDevice:
		dev := "/dev/video" + strconv.Itoa(src.index)
		if runtime.GOOS == "linux" {
			if _, err := os.Stat(dev); err != nil {
				return nil, fmt.Errorf("camera %s: no %s; video devices present: %s", src.name, dev, listDevices(devicePattern))
			}
		}
	case kindFile:
		fi, err := os.Stat(src.path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("camera %s: no such video file (a device is a number like 0, a stream a URL like rtsp://host/path): %w", src.name, err)
		}
		if err != nil {
			return nil, fmt.Errorf("camera %s: %w", src.name, err)
		}
		if fi.IsDir() {
			return nil, fmt.Errorf("camera %s: is a directory, not a video file", src.name)
		}
	}
	c, err := startAsync(ctx, src, opts, func() (grabber, error) { return openCV(src, opts) })
	if err != nil {
		return nil, err
	}
	return c, nil
}

// openCV opens the VideoCapture; it runs on the camera's goroutine.
func openCV(src source, opts Options) (grabber, error) {
	var (
		vc  *gocv.VideoCapture
		err error
	)
	if src.kind == kindDevice {
		vc, err = gocv.VideoCaptureDevice(src.index)
	} else {
		vc, err = gocv.VideoCaptureFile(src.path)
	}
	if err == nil && !vc.IsOpened() {
		err = errors.New("not opened")
	}
	if err != nil {
		if vc != nil {
			vc.Close()
		}
		return nil, openError(src, err)
	}
	log := opts.Logger.With("source", src.name)
	if src.kind == kindDevice {
		if opts.Width > 0 {
			vc.Set(gocv.VideoCaptureFrameWidth, float64(opts.Width))
		}
		if opts.Height > 0 {
			vc.Set(gocv.VideoCaptureFrameHeight, float64(opts.Height))
		}
		if opts.FPS > 0 {
			vc.Set(gocv.VideoCaptureFPS, opts.FPS)
		}
		// The newest frame, not one queued seconds ago (V4L2 honours it).
		vc.Set(gocv.VideoCaptureBufferSize, 1)
	}
	w, h := int(vc.Get(gocv.VideoCaptureFrameWidth)), int(vc.Get(gocv.VideoCaptureFrameHeight))
	fps := vc.Get(gocv.VideoCaptureFPS)
	log.Info("camera opened", "width", w, "height", h, "fps", fps,
		"frames", int64(vc.Get(gocv.VideoCaptureFrameCount)), "codec", vc.CodecString(), "opencv", gocv.OpenCVVersion())
	if src.kind == kindDevice &&
		(opts.Width > 0 && w != opts.Width || opts.Height > 0 && h != opts.Height || opts.FPS > 0 && fps != opts.FPS) {
		log.Warn("camera gives other settings than asked",
			"asked_width", opts.Width, "asked_height", opts.Height, "asked_fps", opts.FPS,
			"width", w, "height", h, "fps", fps)
	}
	return &cvGrabber{src: src, vc: vc, frame: gocv.NewMat(), rgba: gocv.NewMat()}, nil
}

func openError(src source, err error) error {
	switch src.kind {
	case kindDevice:
		return fmt.Errorf("camera %s: OpenCV could not open /dev/video%d: another program may be using it (fuser /dev/video%d), or it is not a capture node (try the other /dev/video*: %s): %w",
			src.name, src.index, src.index, listDevices(devicePattern), err)
	case kindURL:
		return fmt.Errorf("camera %s: OpenCV could not open the stream: check the URL and that it plays in ffplay: %w", src.name, err)
	default:
		return fmt.Errorf("camera %s: OpenCV could not open it as a video (not a video, or a codec this OpenCV build lacks): %w", src.name, err)
	}
}

// cvGrabber reads a VideoCapture. frame and rgba are reused for every
// frame and freed by close.
type cvGrabber struct {
	src   source
	vc    *gocv.VideoCapture
	frame gocv.Mat
	rgba  gocv.Mat
	eof   bool
}

func (g *cvGrabber) grab() (image.Image, error) {
	if g.eof {
		return nil, io.EOF
	}
	if !g.vc.Read(&g.frame) || g.frame.Empty() {
		switch g.src.kind {
		case kindFile:
			g.eof = true
			return nil, io.EOF
		case kindURL:
			return nil, fmt.Errorf("camera %s: the stream ended or broke: %w", g.src.name, io.EOF)
		default:
			return nil, fmt.Errorf("camera %s: the device stopped giving frames: unplugged? (see dmesg)", g.src.name)
		}
	}
	img, err := matToRGBA(g.frame, &g.rgba)
	if err != nil {
		return nil, fmt.Errorf("camera %s: %w", g.src.name, err)
	}
	return img, nil
}

func (g *cvGrabber) close() error {
	g.frame.Close()
	g.rgba.Close()
	return g.vc.Close()
}

// matToRGBA converts an OpenCV image (BGR, BGRA or gray, 8 bits per
// channel) to a new *image.RGBA, using tmp as scratch space.
func matToRGBA(m gocv.Mat, tmp *gocv.Mat) (*image.RGBA, error) {
	var code gocv.ColorConversionCode
	switch t := m.Type(); t {
	case gocv.MatTypeCV8UC3:
		code = gocv.ColorBGRToRGBA
	case gocv.MatTypeCV8UC4:
		code = gocv.ColorBGRAToRGBA
	case gocv.MatTypeCV8UC1:
		code = gocv.ColorGrayToBGRA
	default:
		return nil, fmt.Errorf("frame of OpenCV type %v: only 8-bit gray, BGR and BGRA are supported", t)
	}
	gocv.CvtColor(m, tmp, code)
	w, h := tmp.Cols(), tmp.Rows()
	data, err := tmp.DataPtrUint8()
	if err != nil {
		return nil, fmt.Errorf("convert frame: %w", err)
	}
	if len(data) != w*h*4 {
		return nil, fmt.Errorf("convert frame: %d bytes for %d×%d RGBA, want %d", len(data), w, h, w*h*4)
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	copy(img.Pix, data)
	return img, nil
}

// OpenCVVersion is the version of OpenCV this binary was built against,
// and false when it was built without the gocv tag (Open then fails).
func OpenCVVersion() (string, bool) { return gocv.OpenCVVersion(), true }
