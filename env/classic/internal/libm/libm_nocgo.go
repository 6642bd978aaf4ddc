//go:build !cgo

package libm

// Available reports whether the functions below call the C library: not
// without cgo, where they panic.
const Available = false

func Sin(x float64) float64    { panic("libm: built without cgo") }
func Cos(x float64) float64    { panic("libm: built without cgo") }
func Pow(x, y float64) float64 { panic("libm: built without cgo") }
func Glibc() string            { return "" }
