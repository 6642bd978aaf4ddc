package nn

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime/metrics"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func encode(t testing.TB, w io.WriterTo) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := w.WriteTo(&buf)
	if err != nil {
		t.Fatalf("WriteTo: %v", err)
	}
	if n != int64(buf.Len()) {
		t.Fatalf("WriteTo = %d bytes, wrote %d", n, buf.Len())
	}
	return buf.Bytes()
}

// onlyReader hides every method but Read, as a network stream would.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func sameWeights(a, b *MLP) bool {
	if !slices.Equal(a.sizes, b.sizes) || a.act != b.act || a.outGain != b.outGain || len(a.value) != len(b.value) {
		return false
	}
	for i := range a.value {
		if math.Float64bits(a.value[i]) != math.Float64bits(b.value[i]) {
			return false
		}
	}
	return true
}

func TestMLPRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		sizes   []int
		act     Activation
		outGain float64
	}{
		{[]int{4, 64, 64, 2}, Tanh, 0.01},
		{[]int{3, 1}, ReLU, 1},
		{[]int{5, 7, 3, 9, 1}, ReLU, math.Sqrt2},
	} {
		rng := newRand(9)
		m := NewMLP(tc.sizes, tc.act, tc.outGain, rng)
		for _, p := range m.Params() {
			for j := range p.Value {
				p.Value[j] += rng.NormFloat64() * 1e-3
			}
		}
		data := encode(t, m)
		if max := 120 + 8*m.NumParams(); len(data) > max {
			t.Errorf("%v: file of %d bytes for %d parameters, want at most %d", tc.sizes, len(data), m.NumParams(), max)
		}
		tail := []byte("after")
		for _, via := range []string{"bytes.Reader", "plain io.Reader"} {
			var r io.Reader = bytes.NewReader(append(slices.Clone(data), tail...))
			src := r
			if via == "plain io.Reader" {
				r = onlyReader{r}
			}
			got, err := ReadMLP(r)
			if err != nil {
				t.Fatalf("%v via %s: ReadMLP: %v", tc.sizes, via, err)
			}
			if !sameWeights(got, m) {
				t.Errorf("%v via %s: ReadMLP weights differ from the saved ones", tc.sizes, via)
			}
			rest, _ := io.ReadAll(src)
			if !bytes.Equal(rest, tail) {
				t.Errorf("%v via %s: after ReadMLP the reader holds %q, want %q", tc.sizes, via, rest, tail)
			}
			x := randDense(newRand(1), 16, tc.sizes[0], -2, 2)
			if !mat.Equal(got.Forward(x), m.Forward(x)) {
				t.Errorf("%v via %s: loaded net's outputs are not bit-identical", tc.sizes, via)
			}
			if err := got.CheckSizes(tc.sizes); err != nil {
				t.Errorf("CheckSizes(own sizes) = %v", err)
			}
		}
	}
}

// header builds a single-net file from its two text lines and payload.
func header(first, desc string, payload ...float64) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\n%s\n", first, desc)
	writeFloats(&b, payload)
	return b.Bytes()
}

func TestReadMLPErrors(t *testing.T) {
	good := encode(t, NewMLP([]int{2, 3, 1}, Tanh, 1, newRand(1)))
	nanFile := slices.Clone(good)
	// The last 8 bytes are l1.bias[0].
	copy(nanFile[len(nanFile)-8:], header("", "", math.NaN())[2:])
	bundle := encode(t, &Bundle{})
	zeros := make([]float64, 2*3+3+3*1+1)
	for _, tc := range []struct {
		name    string
		data    []byte
		want    string
		version bool
	}{
		{"empty", nil, "empty weights file", false},
		{"other magic", []byte("hello world\n"), `not a pilot-nn weights file: it starts with "hello world"`, false},
		{"binary", bytes.Repeat([]byte{0xff}, 200), "not a pilot-nn weights file", false},
		{"version 2", header("pilot-nn 2", `{"sizes":[2,1],"act":"tanh","out_gain":1}`, 0, 0, 0), "weights file version 2, this pilot reads version 1", true},
		{"version word", header("pilot-nn one", ""), "the version is not a number", false},
		{"a bundle", bundle, "this is a pilot-bundle file, not a pilot-nn file: load it with ReadBundle", false},
		{"bad JSON", header("pilot-nn 1", `{"sizes":[2,1]`), "net description", false},
		{"unknown field", header("pilot-nn 1", `{"sizes":[2,1],"act":"tanh","out_gain":1,"x":2}`), "unknown field", false},
		{"two objects", header("pilot-nn 1", `{"sizes":[2,1],"act":"tanh","out_gain":1} {}`), "data after its JSON object", false},
		{"activation", header("pilot-nn 1", `{"sizes":[2,1],"act":"sigmoid","out_gain":1}`), `unknown activation "sigmoid"`, false},
		{"one size", header("pilot-nn 1", `{"sizes":[2],"act":"tanh","out_gain":1}`), "a net with 1 sizes, want 2 to", false},
		{"zero size", header("pilot-nn 1", `{"sizes":[2,0,1],"act":"tanh","out_gain":1}`), "size 1 is 0, want 1 to 10000000", false},
		{"negative size", header("pilot-nn 1", `{"sizes":[-2,1],"act":"tanh","out_gain":1}`), "size 0 is -2", false},
		{"absurd", header("pilot-nn 1", `{"sizes":[4,10000,10000,2],"act":"tanh","out_gain":1}`), "more than 10000000 parameters", false},
		{"huge size", header("pilot-nn 1", `{"sizes":[4,99999999999,2],"act":"tanh","out_gain":1}`), "want 1 to 10000000", false},
		{"truncated payload", good[:len(good)-5], "has 13 parameters, the file holds 12", false},
		{"no payload", header("pilot-nn 1", `{"sizes":[2,3,1],"act":"tanh","out_gain":1}`), "the file holds 0", false},
		{"wrong sizes for the payload", header("pilot-nn 1", `{"sizes":[2,4,1],"act":"tanh","out_gain":1}`, zeros...), "has 17 parameters, the file holds 13", false},
		{"NaN weight", nanFile, "non-finite weight l1.bias[0] = NaN", false},
		{"truncated description", []byte("pilot-nn 1\n{\"sizes\""), "truncated in its net description line", false},
	} {
		_, err := ReadMLP(bytes.NewReader(tc.data))
		if err == nil {
			t.Errorf("%s: ReadMLP = nil error, want %q", tc.name, tc.want)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: ReadMLP = %q, want it to contain %q", tc.name, err, tc.want)
		}
		if !errors.Is(err, ErrFormat) || errors.Is(err, ErrVersion) != tc.version {
			t.Errorf("%s: ReadMLP = %v: errors.Is ErrFormat %v, ErrVersion %v, want true, %v", tc.name, err, errors.Is(err, ErrFormat), errors.Is(err, ErrVersion), tc.version)
		}
	}
}

func TestReadMLPEveryPrefix(t *testing.T) {
	data := encode(t, NewMLP([]int{2, 3, 2}, ReLU, 1, newRand(1)))
	for n := range len(data) {
		if _, err := ReadMLP(bytes.NewReader(data[:n])); !errors.Is(err, ErrFormat) || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("ReadMLP(first %d of %d bytes) = %v, want a truncation error", n, len(data), err)
		}
	}
}

func TestCheckSizes(t *testing.T) {
	m := NewMLP([]int{4, 8, 2}, Tanh, 1, newRand(1))
	err := m.CheckSizes([]int{4, 8, 3})
	if err == nil || !strings.Contains(err.Error(), "[4 8 2]") || !strings.Contains(err.Error(), "[4 8 3]") {
		t.Errorf("CheckSizes([4 8 3]) on a [4 8 2] net = %v, want an error naming both", err)
	}
}

func TestWriteRefusesNaN(t *testing.T) {
	m := NewMLP([]int{2, 2}, Tanh, 1, newRand(1))
	m.Bias(0)[1] = math.Inf(1)
	var buf bytes.Buffer
	if n, err := m.WriteTo(&buf); err == nil || n != 0 || buf.Len() != 0 || !strings.Contains(err.Error(), "l0.bias[1]") {
		t.Errorf("WriteTo(net with +Inf) = %d, %v with %d bytes written, want 0, an error naming l0.bias[1], nothing written", n, err, buf.Len())
	}
	b := &Bundle{Vectors: map[string][]float64{"log_std": {0, math.NaN()}}}
	if _, err := b.WriteTo(&buf); err == nil || buf.Len() != 0 {
		t.Errorf("Bundle.WriteTo(NaN vector) = %v with %d bytes written, want an error and nothing", err, buf.Len())
	}
	b = &Bundle{Nets: map[string]*MLP{"policy": nil}}
	if _, err := b.WriteTo(&buf); err == nil || buf.Len() != 0 {
		t.Errorf("Bundle.WriteTo(nil net) = %v with %d bytes written, want an error and nothing", err, buf.Len())
	}
}

// allocated returns the bytes the process allocates on the heap while f
// runs (runtime/metrics: cheaper than ReadMemStats, no stop-the-world).
func allocated(f func()) uint64 {
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(sample)
	before := sample[0].Value.Uint64()
	f()
	metrics.Read(sample)
	return sample[0].Value.Uint64() - before
}

// A header that claims a net just under the limit, on a file of a few
// bytes, costs a few kilobytes, not 80 MB.
func TestReadMLPAllocatesByData(t *testing.T) {
	data := header("pilot-nn 1", `{"sizes":[1,3000,3000,300],"act":"tanh","out_gain":1}`, 1, 2, 3)
	var err error
	n := allocated(func() { _, err = ReadMLP(bytes.NewReader(data)) })
	if err == nil || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("ReadMLP(header of 9.9M parameters, 3 values) = %v, want a truncation error", err)
	}
	if n > 1<<20 {
		t.Errorf("ReadMLP(header of 9.9M parameters, 3 values) allocated %d bytes, want under 1 MiB", n)
	}
	bundle := []byte("pilot-bundle 1\n" + `{"meta":{},"nets":[],"vectors":[{"name":"v","len":9999999}]}` + "\nabcdefgh")
	n = allocated(func() { _, err = ReadBundle(bytes.NewReader(bundle)) })
	if err == nil || n > 1<<20 {
		t.Errorf("ReadBundle(vector of 1e7 claimed, 1 present) = %v after allocating %d bytes, want an error under 1 MiB", err, n)
	}
}

func testBundle() *Bundle {
	rng := newRand(5)
	return &Bundle{
		Meta: map[string]string{"env": "cartpole", "obs": "x,dx,θ,dθ", "note": "line\nbreak \"quoted\""},
		Nets: map[string]*MLP{
			"policy": NewMLP([]int{4, 16, 16, 2}, Tanh, 0.01, rng),
			"value":  NewMLP([]int{4, 16, 1}, ReLU, 1, rng),
		},
		Vectors: map[string][]float64{"log_std": {-0.5, 0, 0.25}, "empty": {}, "obs_mean": {1e-300, -1e300, math.SmallestNonzeroFloat64}},
	}
}

func sameBundle(t *testing.T, got, want *Bundle) {
	t.Helper()
	if len(got.Meta) != len(want.Meta) || len(got.Nets) != len(want.Nets) || len(got.Vectors) != len(want.Vectors) {
		t.Fatalf("bundle has %d meta, %d nets, %d vectors, want %d, %d, %d", len(got.Meta), len(got.Nets), len(got.Vectors), len(want.Meta), len(want.Nets), len(want.Vectors))
	}
	for k, v := range want.Meta {
		if got.Meta[k] != v {
			t.Errorf("Meta[%q] = %q, want %q", k, got.Meta[k], v)
		}
	}
	for k, m := range want.Nets {
		if g := got.Nets[k]; g == nil || !sameWeights(g, m) {
			t.Errorf("Nets[%q] differs from the saved net", k)
		}
	}
	for k, v := range want.Vectors {
		if g, ok := got.Vectors[k]; !ok || !slices.Equal(g, v) {
			t.Errorf("Vectors[%q] = %v, want %v", k, g, v)
		}
	}
}

func TestBundleRoundTrip(t *testing.T) {
	b := testBundle()
	data := encode(t, b)
	if again := encode(t, b); !bytes.Equal(again, data) {
		t.Errorf("writing the same bundle twice gave different bytes")
	}
	r := bytes.NewReader(append(slices.Clone(data), 'x'))
	got, err := ReadBundle(onlyReader{r})
	if err != nil {
		t.Fatalf("ReadBundle: %v", err)
	}
	sameBundle(t, got, b)
	if r.Len() != 1 {
		t.Errorf("ReadBundle left %d bytes, want the 1 after the bundle", r.Len())
	}
	empty, err := ReadBundle(bytes.NewReader(encode(t, &Bundle{})))
	if err != nil || empty.Meta == nil || empty.Nets == nil || empty.Vectors == nil {
		t.Errorf("ReadBundle(empty bundle) = %+v, %v, want non-nil empty maps", empty, err)
	}
}

func TestReadBundleErrors(t *testing.T) {
	good := encode(t, testBundle())
	net := encode(t, NewMLP([]int{2, 1}, Tanh, 1, newRand(1)))
	netBody := net
	vec := func(desc string, rest []byte) []byte {
		return append([]byte("pilot-bundle 1\n"+desc+"\n"), rest...)
	}
	nan := header("", "", math.NaN())[2:]
	for _, tc := range []struct {
		name    string
		data    []byte
		want    string
		version bool
	}{
		{"a net file", net, "this is a pilot-nn file, not a pilot-bundle file: load it with ReadMLP", false},
		{"version 3", []byte("pilot-bundle 3\n{}\n"), "weights file version 3, this pilot reads version 1", true},
		{"bad JSON", vec(`{"nets":`, nil), "bundle description", false},
		{"duplicate net", vec(`{"meta":{},"nets":["a","a"],"vectors":[]}`, append(slices.Clone(netBody), netBody...)), `lists net "a" twice`, false},
		{"duplicate vector", vec(`{"meta":{},"nets":[],"vectors":[{"name":"v","len":0},{"name":"v","len":0}]}`, nil), `lists vector "v" twice`, false},
		{"negative length", vec(`{"meta":{},"nets":[],"vectors":[{"name":"v","len":-1}]}`, nil), `vector "v" has length -1`, false},
		{"NaN vector", vec(`{"meta":{},"nets":[],"vectors":[{"name":"v","len":1}]}`, nan), `vector "v" has a non-finite value`, false},
		{"bad net inside", vec(`{"meta":{},"nets":["p"],"vectors":[]}`, []byte("pilot-nn 7\n")), `bundle net "p": nn: weights file version 7`, true},
		{"truncated net", good[:len(good)/2], "truncated", false},
		{"truncated vector", good[:len(good)-3], `truncated in bundle vector "obs_mean": 2 of 3 values`, false},
		{"too many nets", vec(`{"meta":{},"nets":[`+strings.Repeat(`"a",`, 1100)+`"b"],"vectors":[]}`, nil), "lists 1101 nets", false},
	} {
		_, err := ReadBundle(bytes.NewReader(tc.data))
		if err == nil {
			t.Errorf("%s: ReadBundle = nil error, want %q", tc.name, tc.want)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: ReadBundle = %q, want it to contain %q", tc.name, err, tc.want)
		}
		if !errors.Is(err, ErrFormat) || errors.Is(err, ErrVersion) != tc.version {
			t.Errorf("%s: ReadBundle = %v: errors.Is ErrFormat %v, ErrVersion %v, want true, %v", tc.name, err, errors.Is(err, ErrFormat), errors.Is(err, ErrVersion), tc.version)
		}
	}
	for n := range len(good) {
		if _, err := ReadBundle(bytes.NewReader(good[:n])); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("ReadBundle(first %d of %d bytes) = %v, want a truncation error", n, len(good), err)
		}
	}
}

func TestSaveLoadBundle(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "policy.nn")
	b := testBundle()
	if err := SaveBundle(path, b); err != nil {
		t.Fatalf("SaveBundle: %v", err)
	}
	got, err := LoadBundle(path)
	if err != nil {
		t.Fatalf("LoadBundle: %v", err)
	}
	sameBundle(t, got, b)
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("saved file mode = %v, %v, want 0644", fi.Mode(), err)
	}

	// Overwrite with a new bundle.
	b.Meta["env"] = "robot:reach"
	if err := SaveBundle(path, b); err != nil {
		t.Fatalf("SaveBundle over an existing file: %v", err)
	}
	if got, err := LoadBundle(path); err != nil || got.Meta["env"] != "robot:reach" {
		t.Fatalf("LoadBundle after overwrite: Meta[env] = %q, %v, want robot:reach", got.Meta["env"], err)
	}

	// A failing save leaves the old file and no temporary file.
	bad := &Bundle{Nets: map[string]*MLP{"policy": nil}}
	if err := SaveBundle(path, bad); err == nil {
		t.Errorf("SaveBundle(nil net) = nil, want an error")
	}
	if got, err := LoadBundle(path); err != nil || got.Meta["env"] != "robot:reach" {
		t.Errorf("LoadBundle after a failed save = %v, want the previous bundle", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only policy.nn", names)
	}

	if err := SaveBundle(filepath.Join(dir, "missing", "x.nn"), b); err == nil {
		t.Errorf("SaveBundle into a missing directory = nil, want an error")
	}
	if _, err := LoadBundle(filepath.Join(dir, "absent.nn")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LoadBundle(absent) = %v, want fs.ErrNotExist", err)
	}

	// Data after the bundle.
	data, _ := os.ReadFile(path)
	trailing := filepath.Join(dir, "trailing.nn")
	os.WriteFile(trailing, append(data, data...), 0o644)
	if _, err := LoadBundle(trailing); err == nil || !strings.Contains(err.Error(), "data after the bundle") {
		t.Errorf("LoadBundle(two bundles concatenated) = %v, want a data-after-the-bundle error", err)
	}
	// A version from the future, through the file path.
	future := filepath.Join(dir, "future.nn")
	os.WriteFile(future, append([]byte("pilot-bundle 2"), data[len("pilot-bundle 1"):]...), 0o644)
	if _, err := LoadBundle(future); !errors.Is(err, ErrVersion) || !strings.Contains(err.Error(), future) {
		t.Errorf("LoadBundle(version 2) = %v, want ErrVersion naming the file", err)
	}
}
