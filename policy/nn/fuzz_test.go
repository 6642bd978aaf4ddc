package nn

import (
	"bytes"
	"errors"
	"math"
	"testing"
)

// allocLimit is what a reader may allocate for an input of n bytes: a
// proportional share plus a fixed allowance, never what a header claims.
func allocLimit(n int) uint64 { return 1<<20 + 64*uint64(n) }

func FuzzReadMLP(f *testing.F) {
	good := encode(f, NewMLP([]int{2, 3, 2}, Tanh, 0.5, newRand(1)))
	f.Add(good)
	f.Add(encode(f, NewMLP([]int{1, 1}, ReLU, 1, newRand(2))))
	f.Add(good[:len(good)-4])
	f.Add(good[:20])
	f.Add([]byte("pilot-nn 2\n{}\n"))
	f.Add(header("pilot-nn 1", `{"sizes":[1,3000,3000,300],"act":"tanh","out_gain":1}`, 1, 2))
	f.Add(header("pilot-nn 1", `{"sizes":[2,1],"act":"relu","out_gain":1}`, 1, math.NaN(), 3))
	f.Add(encode(f, testBundle()))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		var m *MLP
		var err error
		if n := allocated(func() { m, err = ReadMLP(r) }); n > allocLimit(len(data)) {
			t.Fatalf("ReadMLP of %d bytes allocated %d bytes", len(data), n)
		}
		if err != nil {
			if m != nil {
				t.Fatalf("ReadMLP returned a net and the error %v", err)
			}
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("ReadMLP error %v does not wrap ErrFormat", err)
			}
			return
		}
		// What was read re-encodes to a file that reads back the same net
		// (the description may differ in spacing, key case or defaults),
		// and the payload ended where the parameters did.
		again := encode(t, m)
		m2, err := ReadMLP(bytes.NewReader(again))
		if err != nil || !sameWeights(m2, m) {
			t.Fatalf("ReadMLP of the re-encoded net = %v, or different weights", err)
		}
		used := data[:len(data)-r.Len()]
		if !bytes.Equal(used[len(used)-8*m.NumParams():], again[len(again)-8*m.NumParams():]) {
			t.Fatalf("the re-encoded payload differs from the one read")
		}
		if m.NumParams() <= 1<<16 {
			x := make([]float64, m.Sizes()[0])
			for _, v := range m.Predict(x) {
				if math.IsNaN(v) {
					t.Fatalf("a loaded net of finite weights predicted NaN")
				}
			}
		}
	})
}

func FuzzReadBundle(f *testing.F) {
	good := encode(f, testBundle())
	f.Add(good)
	f.Add(encode(f, &Bundle{}))
	f.Add(encode(f, &Bundle{Meta: map[string]string{"k": "v"}, Vectors: map[string][]float64{"a": {1, 2}}}))
	f.Add(good[:len(good)/3])
	f.Add(good[:len(good)-1])
	f.Add([]byte("pilot-bundle 1\n{\"meta\":{},\"nets\":[],\"vectors\":[{\"name\":\"v\",\"len\":9999999}]}\nabcdefgh"))
	f.Add([]byte("pilot-bundle 1\n{\"meta\":{},\"nets\":[\"a\",\"a\"],\"vectors\":[]}\n"))
	f.Add(encode(f, NewMLP([]int{2, 1}, Tanh, 1, newRand(1))))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		var b *Bundle
		var err error
		if n := allocated(func() { b, err = ReadBundle(r) }); n > allocLimit(len(data)) {
			t.Fatalf("ReadBundle of %d bytes allocated %d bytes", len(data), n)
		}
		if err != nil {
			if b != nil {
				t.Fatalf("ReadBundle returned a bundle and the error %v", err)
			}
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("ReadBundle error %v does not wrap ErrFormat", err)
			}
			return
		}
		// A bundle that reads back re-encodes to something that reads back
		// equal (the original's JSON may differ in spacing or order).
		again := encode(t, b)
		b2, err := ReadBundle(bytes.NewReader(again))
		if err != nil {
			t.Fatalf("ReadBundle of a re-encoded bundle: %v", err)
		}
		sameBundle(t, b2, b)
	})
}
