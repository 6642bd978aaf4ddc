package camera

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// sourceKind is what a source string names.
type sourceKind int

const (
	kindDevice sourceKind = iota // a capture device: "0" or "/dev/video0"
	kindFile                     // a video file
	kindURL                      // a network stream: rtsp://, http:// (MJPEG) …
)

// source is a parsed Open source.
type source struct {
	kind  sourceKind
	index int    // device index, for kindDevice
	path  string // what OpenCV opens, for kindFile and kindURL
	name  string // for messages and logs: no URL password
}

// urlSchemes are the stream schemes OpenCV's FFmpeg and GStreamer backends read.
var urlSchemes = []string{"http", "https", "rtmp", "rtsp", "rtsps", "tcp", "udp"}

// maxDevice bounds device indexes (OpenCV takes a C int).
const maxDevice = 1<<31 - 1

// parseSource reads what Open was given: a device index ("0"), a device
// path ("/dev/video0"), a URL (rtsp://…, http://…) or a video file path.
func parseSource(s string) (source, error) {
	if s == "" {
		return source{}, errors.New("camera: empty source: give a device index (0), a video file, or an rtsp:// or http:// URL")
	}
	if strings.ContainsRune(s, 0) {
		return source{}, fmt.Errorf("camera: source %q contains a NUL byte", s)
	}
	if n, ok := deviceIndex(s); ok {
		return source{kind: kindDevice, index: n, name: s}, nil
	}
	if rest, ok := strings.CutPrefix(s, "/dev/video"); ok {
		if n, ok := deviceIndex(rest); ok {
			return source{kind: kindDevice, index: n, name: s}, nil
		}
	}
	if i := strings.Index(s, "://"); i > 0 && !strings.ContainsAny(s[:i], `/\.`) {
		u, err := url.Parse(s)
		if err != nil {
			return source{}, fmt.Errorf("camera: source %q looks like a URL but does not parse: %w", s, err)
		}
		scheme := strings.ToLower(u.Scheme)
		if !slices.Contains(urlSchemes, scheme) {
			return source{}, fmt.Errorf("camera: source %s: scheme %q is not a video stream; use one of %s", u.Redacted(), u.Scheme, strings.Join(urlSchemes, ", "))
		}
		if u.Host == "" {
			return source{}, fmt.Errorf("camera: source %s has no host; write it as %s://host[:port]/path", u.Redacted(), scheme)
		}
		return source{kind: kindURL, path: s, name: u.Redacted()}, nil
	}
	return source{kind: kindFile, path: s, name: s}, nil
}

// deviceIndex reports whether s is a plain non-negative decimal index.
func deviceIndex(s string) (int, bool) {
	if s == "" || len(s) > 10 {
		return 0, false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n > maxDevice {
		return 0, false
	}
	return int(n), true
}

// listDevices returns the paths matching pattern (normally /dev/video*),
// sorted, as text for an error message.
func listDevices(pattern string) string {
	paths, _ := filepath.Glob(pattern) // the only error is a bad pattern
	if len(paths) == 0 {
		return "none (is the camera plugged in? `v4l2-ctl --list-devices` lists them)"
	}
	slices.Sort(paths)
	return strings.Join(paths, ", ")
}
