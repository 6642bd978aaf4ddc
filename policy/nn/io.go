package nn

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// The weights file format; see the package documentation.
const (
	netMagic      = "pilot-nn"
	bundleMagic   = "pilot-bundle"
	formatVersion = 1

	// MaxParams is the largest network a weights file may describe.
	MaxParams = 10_000_000

	maxLayers     = 1024    // linear layers in one net
	maxEntries    = 1024    // nets, and vectors, in one bundle
	maxMagicLine  = 64      // the first line
	maxNetLine    = 1 << 16 // a net's JSON line
	maxBundleLine = 1 << 20 // a bundle's JSON line (its metadata)
	chunkBytes    = 1 << 16 // payload read and write granularity
)

// Errors the readers wrap (test with errors.Is): every problem with a
// weights file wraps ErrFormat, and a file of another format version also
// wraps ErrVersion. Truncated data also wraps io.ErrUnexpectedEOF.
var (
	ErrFormat  = errors.New("malformed weights file")
	ErrVersion = errors.New("unsupported weights file version")
)

type formatError struct {
	msg  string
	kind error // ErrFormat or ErrVersion
	err  error // the cause, or nil
}

func (e *formatError) Error() string {
	if e.err != nil {
		return "nn: " + e.msg + ": " + e.err.Error()
	}
	return "nn: " + e.msg
}

func (e *formatError) Unwrap() []error {
	errs := []error{ErrFormat}
	if e.kind == ErrVersion {
		errs = append(errs, ErrVersion)
	}
	if e.err != nil {
		errs = append(errs, e.err)
	}
	return errs
}

func formatErr(cause error, format string, args ...any) error {
	return &formatError{msg: fmt.Sprintf(format, args...), kind: ErrFormat, err: cause}
}

// reader reads bytes one at a time for the text lines and in chunks for
// the payload, without reading past the end of what it parses.
type reader interface {
	io.Reader
	io.ByteReader
}

type byteReader struct {
	r   io.Reader
	one [1]byte
}

func (b *byteReader) Read(p []byte) (int, error) { return b.r.Read(p) }

func (b *byteReader) ReadByte() (byte, error) {
	if _, err := io.ReadFull(b.r, b.one[:]); err != nil {
		return 0, err
	}
	return b.one[0], nil
}

func asReader(r io.Reader) reader {
	if rr, ok := r.(reader); ok {
		return rr
	}
	return &byteReader{r: r}
}

// readLine reads up to and excluding '\n', at most limit bytes.
func readLine(r io.ByteReader, limit int, what string) (string, error) {
	var sb strings.Builder
	for {
		c, err := r.ReadByte()
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				return "", fmt.Errorf("nn: reading weights: %w", err)
			}
			if sb.Len() == 0 && what == "header" {
				return "", formatErr(io.ErrUnexpectedEOF, "empty weights file")
			}
			return "", formatErr(io.ErrUnexpectedEOF, "weights file truncated in its %s line", what)
		}
		if c == '\n' {
			return sb.String(), nil
		}
		if sb.Len() >= limit {
			return "", formatErr(nil, "weights file %s line longer than %d bytes: not a pilot weights file, or corrupt", what, limit)
		}
		sb.WriteByte(c)
	}
}

// readHeader reads the first line and checks the magic and version.
func readHeader(r io.ByteReader, magic, other, otherHint string) error {
	line, err := readLine(r, maxMagicLine, "header")
	if err != nil {
		var fe *formatError
		if errors.As(err, &fe) && fe.err == nil {
			return formatErr(nil, "not a %s weights file: it does not start with %q", magic, fmt.Sprintf("%s %d", magic, formatVersion))
		}
		return err
	}
	name, ver, ok := strings.Cut(line, " ")
	if !ok || name != magic {
		if name == other {
			return formatErr(nil, "this is a %s file, not a %s file: %s", other, magic, otherHint)
		}
		return formatErr(nil, "not a %s weights file: it starts with %q, want %q", magic, clip(line, 32), fmt.Sprintf("%s %d", magic, formatVersion))
	}
	v, err := strconv.Atoi(ver)
	if err != nil {
		return formatErr(nil, "weights file header %q: the version is not a number", clip(line, 32))
	}
	if v != formatVersion {
		return &formatError{
			msg:  fmt.Sprintf("weights file version %d, this pilot reads version %d: load it with the pilot that wrote it, or re-save the weights with this one", v, formatVersion),
			kind: ErrVersion,
		}
	}
	return nil
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// decodeLine decodes one JSON object strictly: no unknown fields, nothing
// after it.
func decodeLine(line string, v any, what string) error {
	dec := json.NewDecoder(strings.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return formatErr(err, "weights file %s description %q is not valid", what, clip(line, 64))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return formatErr(nil, "weights file %s description has data after its JSON object", what)
	}
	return nil
}

// readFloats reads n little-endian float64s, growing its result as data
// arrives, so a header that claims much more than the file holds costs no
// more than the file.
func readFloats(r io.Reader, n int) ([]float64, error) {
	out := make([]float64, 0, min(n, chunkBytes/8))
	buf := make([]byte, min(n*8, chunkBytes))
	for len(out) < n {
		k := min(n-len(out), len(buf)/8)
		got, err := io.ReadFull(r, buf[:k*8])
		for i := 0; i+8 <= got; i += 8 {
			out = append(out, math.Float64frombits(binary.LittleEndian.Uint64(buf[i:])))
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return out, err
		}
	}
	return out, nil
}

// writeFloats writes v as little-endian float64s.
func writeFloats(w io.Writer, v []float64) error {
	buf := make([]byte, 0, min(len(v)*8, chunkBytes))
	for len(v) > 0 {
		k := min(len(v), chunkBytes/8)
		buf = buf[:0]
		for _, x := range v[:k] {
			buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(x))
		}
		if _, err := w.Write(buf); err != nil {
			return err
		}
		v = v[k:]
	}
	return nil
}

// countWriter counts what it writes.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// firstNonFinite returns the index of the first NaN or infinity, or -1.
func firstNonFinite(v []float64) int {
	for i, x := range v {
		if x-x != 0 {
			return i
		}
	}
	return -1
}

// locate names the parameter that holds flat index i.
func (m *MLP) locate(i int) string {
	for _, p := range m.params {
		if i < len(p.Value) {
			return fmt.Sprintf("%s[%d] = %v", p.Name, i, p.Value[i])
		}
		i -= len(p.Value)
	}
	return fmt.Sprintf("index %d", i)
}

type netHeader struct {
	Sizes   []int   `json:"sizes"`
	Act     string  `json:"act"`
	OutGain float64 `json:"out_gain"`
}

// WriteTo writes the network in the pilot-nn version 1 format (see the
// package documentation): a header line, a JSON description line and the
// parameters as little-endian float64 in Params order, 8 bytes per
// parameter plus about 60 bytes. It refuses to write a network with a NaN
// or infinite weight. Gradients are not saved.
func (m *MLP) WriteTo(w io.Writer) (int64, error) {
	if i := firstNonFinite(m.value); i >= 0 {
		return 0, fmt.Errorf("nn: refusing to save a net with a non-finite weight %s: the training diverged; save an earlier checkpoint", m.locate(i))
	}
	desc, err := json.Marshal(netHeader{Sizes: m.sizes, Act: m.act.String(), OutGain: m.outGain})
	if err != nil {
		return 0, fmt.Errorf("nn: encoding the net description: %w", err)
	}
	cw := &countWriter{w: w}
	if _, err := fmt.Fprintf(cw, "%s %d\n%s\n", netMagic, formatVersion, desc); err != nil {
		return cw.n, fmt.Errorf("nn: writing weights: %w", err)
	}
	if err := writeFloats(cw, m.value); err != nil {
		return cw.n, fmt.Errorf("nn: writing weights: %w", err)
	}
	return cw.n, nil
}

// ReadMLP reads a network written by WriteTo, and nothing past its end. It
// rejects another format or version, truncated data, absurd sizes (more
// than MaxParams parameters) and NaN or infinite weights, with errors that
// wrap ErrFormat (and ErrVersion for a version mismatch). Use
// [MLP.CheckSizes] to check the shape a caller needs.
func ReadMLP(r io.Reader) (*MLP, error) {
	return readMLP(asReader(r))
}

func readMLP(r reader) (*MLP, error) {
	if err := readHeader(r, netMagic, bundleMagic, "load it with ReadBundle or LoadBundle"); err != nil {
		return nil, err
	}
	line, err := readLine(r, maxNetLine, "net description")
	if err != nil {
		return nil, err
	}
	var h netHeader
	if err := decodeLine(line, &h, "net"); err != nil {
		return nil, err
	}
	act, err := ParseActivation(h.Act)
	if err != nil {
		return nil, formatErr(err, "weights file net description")
	}
	n, err := checkSizes(h.Sizes)
	if err != nil {
		return nil, err
	}
	vals, err := readFloats(r, n)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, formatErr(err, "weights file truncated: a net of sizes %v has %d parameters, the file holds %d: it was cut short (an interrupted copy or save?)", h.Sizes, n, len(vals))
	}
	if err != nil {
		return nil, fmt.Errorf("nn: reading weights: %w", err)
	}
	m := newMLPWith(h.Sizes, act, h.OutGain, vals)
	if i := firstNonFinite(vals); i >= 0 {
		return nil, formatErr(nil, "weights file has a non-finite weight %s: the training diverged before the save; use an earlier checkpoint", m.locate(i))
	}
	return m, nil
}

// checkSizes validates a description's sizes and returns the parameter
// count.
func checkSizes(sizes []int) (int, error) {
	if len(sizes) < 2 || len(sizes) > maxLayers+1 {
		return 0, formatErr(nil, "weights file describes a net with %d sizes, want 2 to %d", len(sizes), maxLayers+1)
	}
	n := 0
	for l, s := range sizes {
		if s < 1 || s > MaxParams {
			return 0, formatErr(nil, "weights file describes a net of sizes %v: size %d is %d, want 1 to %d", clipSizes(sizes), l, s, MaxParams)
		}
		if l > 0 {
			n += sizes[l-1]*s + s // each term ≤ 1e14 + 1e7: no overflow
			if n > MaxParams {
				return 0, formatErr(nil, "weights file describes a net of sizes %v with more than %d parameters: the file is corrupt, or not for this pilot", clipSizes(sizes), MaxParams)
			}
		}
	}
	return n, nil
}

func clipSizes(s []int) []int {
	if len(s) > 8 {
		return s[:8]
	}
	return s
}

// newMLPWith builds a network around value (nil: zeros).
func newMLPWith(sizes []int, act Activation, outGain float64, value []float64) *MLP {
	if value == nil {
		return newMLP(sizes, act, outGain)
	}
	m := &MLP{
		sizes:   slices.Clone(sizes),
		act:     act,
		outGain: outGain,
		value:   value,
		grad:    make([]float64, len(value)),
	}
	m.bind()
	return m
}

// Bundle is a whole trained policy: named networks (policy, value, …),
// named vectors (a learned log std, observation normalisation, …) and string
// metadata (environment, observation layout, training run, …).
type Bundle struct {
	Meta    map[string]string
	Nets    map[string]*MLP
	Vectors map[string][]float64
}

type bundleHeader struct {
	Meta    map[string]string `json:"meta"`
	Nets    []string          `json:"nets"`
	Vectors []vectorHeader    `json:"vectors"`
}

type vectorHeader struct {
	Name string `json:"name"`
	Len  int    `json:"len"`
}

// WriteTo writes the bundle in the pilot-bundle version 1 format (see the
// package documentation): nets and vectors in name order, so equal bundles
// give equal bytes. It writes nothing when a net is nil or a weight or
// vector value is NaN or infinite.
func (b *Bundle) WriteTo(w io.Writer) (int64, error) {
	h := bundleHeader{Meta: b.Meta, Nets: sortedKeys(b.Nets), Vectors: []vectorHeader{}}
	if h.Meta == nil {
		h.Meta = map[string]string{}
	}
	if len(h.Nets) > maxEntries || len(b.Vectors) > maxEntries {
		return 0, fmt.Errorf("nn: a bundle holds at most %d nets and %d vectors, this one has %d and %d", maxEntries, maxEntries, len(h.Nets), len(b.Vectors))
	}
	for _, name := range h.Nets {
		m := b.Nets[name]
		if m == nil {
			return 0, fmt.Errorf("nn: bundle net %q is nil: set it or delete it before saving", name)
		}
		if i := firstNonFinite(m.value); i >= 0 {
			return 0, fmt.Errorf("nn: refusing to save bundle net %q with a non-finite weight %s: the training diverged; save an earlier checkpoint", name, m.locate(i))
		}
	}
	for _, name := range sortedKeys(b.Vectors) {
		v := b.Vectors[name]
		if i := firstNonFinite(v); i >= 0 {
			return 0, fmt.Errorf("nn: refusing to save bundle vector %q with a non-finite value at %d (%v): the training diverged; save an earlier checkpoint", name, i, v[i])
		}
		h.Vectors = append(h.Vectors, vectorHeader{Name: name, Len: len(v)})
	}
	desc, err := json.Marshal(h)
	if err != nil {
		return 0, fmt.Errorf("nn: encoding the bundle description: %w", err)
	}
	if len(desc) >= maxBundleLine {
		return 0, fmt.Errorf("nn: the bundle description is %d bytes, the limit is %d: keep the metadata small", len(desc), maxBundleLine)
	}
	cw := &countWriter{w: w}
	if _, err := fmt.Fprintf(cw, "%s %d\n%s\n", bundleMagic, formatVersion, desc); err != nil {
		return cw.n, fmt.Errorf("nn: writing bundle: %w", err)
	}
	for _, name := range h.Nets {
		if _, err := b.Nets[name].WriteTo(cw); err != nil {
			return cw.n, fmt.Errorf("nn: writing bundle net %q: %w", name, err)
		}
	}
	for _, vh := range h.Vectors {
		if err := writeFloats(cw, b.Vectors[vh.Name]); err != nil {
			return cw.n, fmt.Errorf("nn: writing bundle vector %q: %w", vh.Name, err)
		}
	}
	return cw.n, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// ReadBundle reads a bundle written by Bundle.WriteTo, and nothing past its
// end. Its maps are never nil. It rejects what ReadMLP rejects, duplicate
// names and NaN or infinite vector values, with errors that wrap ErrFormat.
func ReadBundle(r io.Reader) (*Bundle, error) {
	rr := asReader(r)
	if err := readHeader(rr, bundleMagic, netMagic, "load it with ReadMLP"); err != nil {
		return nil, err
	}
	line, err := readLine(rr, maxBundleLine, "bundle description")
	if err != nil {
		return nil, err
	}
	var h bundleHeader
	if err := decodeLine(line, &h, "bundle"); err != nil {
		return nil, err
	}
	if len(h.Nets) > maxEntries || len(h.Vectors) > maxEntries {
		return nil, formatErr(nil, "weights file bundle lists %d nets and %d vectors, the limit is %d each: the file is corrupt", len(h.Nets), len(h.Vectors), maxEntries)
	}
	b := &Bundle{
		Meta:    h.Meta,
		Nets:    make(map[string]*MLP, len(h.Nets)),
		Vectors: make(map[string][]float64, len(h.Vectors)),
	}
	if b.Meta == nil {
		b.Meta = map[string]string{}
	}
	for _, name := range h.Nets {
		if _, dup := b.Nets[name]; dup {
			return nil, formatErr(nil, "weights file bundle lists net %q twice: the file is corrupt", name)
		}
		m, err := readMLP(rr)
		if err != nil {
			return nil, fmt.Errorf("bundle net %q: %w", name, err)
		}
		b.Nets[name] = m
	}
	for _, vh := range h.Vectors {
		if _, dup := b.Vectors[vh.Name]; dup {
			return nil, formatErr(nil, "weights file bundle lists vector %q twice: the file is corrupt", vh.Name)
		}
		if vh.Len < 0 || vh.Len > MaxParams {
			return nil, formatErr(nil, "weights file bundle vector %q has length %d, want 0 to %d: the file is corrupt", vh.Name, vh.Len, MaxParams)
		}
		v, err := readFloats(rr, vh.Len)
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("nn: reading weights: %w", err)
		}
		if err != nil {
			return nil, formatErr(err, "weights file truncated in bundle vector %q: %d of %d values: it was cut short (an interrupted copy or save?)", vh.Name, len(v), vh.Len)
		}
		if i := firstNonFinite(v); i >= 0 {
			return nil, formatErr(nil, "weights file bundle vector %q has a non-finite value at %d (%v): the training diverged before the save; use an earlier checkpoint", vh.Name, i, v[i])
		}
		b.Vectors[vh.Name] = v
	}
	return b, nil
}

// SaveBundle writes b to path atomically: to a temporary file in the same
// directory, synced, then renamed over path. On error path is unchanged and
// the temporary file is removed.
func SaveBundle(path string, b *Bundle) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("nn: saving weights to %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, chunkBytes)
	if _, err := b.WriteTo(bw); err != nil {
		return fmt.Errorf("nn: saving weights to %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("nn: saving weights to %s: %w", path, err)
	}
	if err := f.Chmod(0o644); err != nil {
		return fmt.Errorf("nn: saving weights to %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("nn: saving weights to %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("nn: saving weights to %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("nn: saving weights to %s: %w", path, err)
	}
	return nil
}

// LoadBundle reads the bundle file at path; data after the bundle is an
// error.
func LoadBundle(path string) (*Bundle, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("nn: loading weights: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, chunkBytes)
	b, err := ReadBundle(br)
	if err != nil {
		return nil, fmt.Errorf("loading weights %s: %w", path, err)
	}
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, fmt.Errorf("nn: loading weights %s: %w", path, err)
		}
		return nil, formatErr(nil, "weights file %s has data after the bundle: it is corrupt, or two files were concatenated", path)
	}
	return b, nil
}
