package web

import (
	"bytes"
	"image"
	_ "image/jpeg"
	_ "image/png"
)

func decodeConfig(b []byte) (image.Config, error) {
	c, _, err := image.DecodeConfig(bytes.NewReader(b))
	return c, err
}
