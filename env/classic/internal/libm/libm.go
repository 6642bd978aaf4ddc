//go:build cgo

// Package libm calls the C library's sin, cos and pow, for the tests of
// package classic that compare its arithmetic with the one Python's math,
// and so Gymnasium, uses. It needs cgo; without it Available is false.
package libm

/*
#cgo LDFLAGS: -lm
#include <math.h>
#include <stdlib.h>
#ifdef __GLIBC__
#include <gnu/libc-version.h>
static const char *libc_version(void) { return gnu_get_libc_version(); }
#else
static const char *libc_version(void) { return ""; }
#endif
*/
import "C"

// Available reports whether the functions below call the C library.
const Available = true

// Sin is the C library's sin.
func Sin(x float64) float64 { return float64(C.sin(C.double(x))) }

// Cos is the C library's cos.
func Cos(x float64) float64 { return float64(C.cos(C.double(x))) }

// Pow is the C library's pow: Python's x**y for floats.
func Pow(x, y float64) float64 { return float64(C.pow(C.double(x), C.double(y))) }

// Glibc returns glibc's version ("2.36"), or "" if the C library is not
// glibc.
func Glibc() string { return C.GoString(C.libc_version()) }
