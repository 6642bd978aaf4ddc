//go:build !gocv

package camera

import (
	"context"
	"fmt"
)

// Open needs OpenCV: this build has none, so it returns an error wrapping
// ErrNoGoCV that says how to rebuild. FromFunc works without OpenCV.
func Open(ctx context.Context, source string, opts Options) (Camera, error) {
	return nil, fmt.Errorf("camera %q: this pilot was built without OpenCV: install it (`sudo apt-get install libopencv-dev pkg-config`, OpenCV 4.6, or run scripts/deps.sh), then rebuild with `go build -tags gocv ./cmd/pilot`: %w", source, ErrNoGoCV)
}

// OpenCVVersion is the version of OpenCV this binary was built against,
// and false when it was built without the gocv tag (Open then fails).
func OpenCVVersion() (string, bool) { return "", false }
