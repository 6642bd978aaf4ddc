package kin

import "math"

// Vec3 is a point or a direction in metres.
type Vec3 [3]float64

// Add returns v+u.
func (v Vec3) Add(u Vec3) Vec3 { return Vec3{v[0] + u[0], v[1] + u[1], v[2] + u[2]} }

// Sub returns v-u.
func (v Vec3) Sub(u Vec3) Vec3 { return Vec3{v[0] - u[0], v[1] - u[1], v[2] - u[2]} }

// Scale returns s·v.
func (v Vec3) Scale(s float64) Vec3 { return Vec3{s * v[0], s * v[1], s * v[2]} }

// Dot returns the scalar product v·u.
func (v Vec3) Dot(u Vec3) float64 { return v[0]*u[0] + v[1]*u[1] + v[2]*u[2] }

// Cross returns the vector product v×u.
func (v Vec3) Cross(u Vec3) Vec3 {
	return Vec3{v[1]*u[2] - v[2]*u[1], v[2]*u[0] - v[0]*u[2], v[0]*u[1] - v[1]*u[0]}
}

// Norm returns the length of v.
func (v Vec3) Norm() float64 { return math.Sqrt(v.Dot(v)) }

// Dist returns the distance between v and u.
func (v Vec3) Dist(u Vec3) float64 { return v.Sub(u).Norm() }

// Unit returns v scaled to length 1, or the zero vector when v is zero.
func (v Vec3) Unit() Vec3 {
	n := v.Norm()
	if n == 0 {
		return Vec3{}
	}
	return v.Scale(1 / n)
}

// IsFinite reports whether no component is NaN or infinite.
func (v Vec3) IsFinite() bool {
	for _, c := range v {
		if math.IsNaN(c) || math.IsInf(c, 0) {
			return false
		}
	}
	return true
}

// mulMat returns the matrix-vector product r·v.
func mulMat(r [3][3]float64, v Vec3) Vec3 {
	return Vec3{
		r[0][0]*v[0] + r[0][1]*v[1] + r[0][2]*v[2],
		r[1][0]*v[0] + r[1][1]*v[1] + r[1][2]*v[2],
		r[2][0]*v[0] + r[2][1]*v[1] + r[2][2]*v[2],
	}
}
