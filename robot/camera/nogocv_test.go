//go:build !gocv

package camera

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestOpenWithoutGoCV(t *testing.T) {
	cam, err := Open(context.Background(), "0", Options{})
	if cam != nil || !errors.Is(err, ErrNoGoCV) {
		t.Fatalf("Open without the gocv tag = %v, %v; want nil and an error wrapping ErrNoGoCV", cam, err)
	}
	for _, want := range []string{"go build -tags gocv ./cmd/pilot", "apt-get install libopencv-dev", "OpenCV 4.6"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Open without the gocv tag: error %q does not say %q", err, want)
		}
	}
}
