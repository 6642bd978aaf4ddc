package langchain

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pilotkit/pilot/policy"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// testKey is the key tests pass; no error may show it.
const testKey = "sk-test-0123456789-do-not-show"

// exchangeRR is one recorded HTTP exchange of an httprr trace (the format
// of langchaingo's internal/httprr: "httprr trace v1", then for each
// exchange a line "<request bytes> <response bytes>" and the raw HTTP/1.1
// request and response).
type exchangeRR struct {
	Method, Path string
	ReqBody      []byte
	Status       int
	Header       http.Header
	Body         []byte
}

// readHTTPRR reads a trace file.
func readHTTPRR(t testing.TB, name string) []exchangeRR {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	const magic = "httprr trace v1\n"
	if !bytes.HasPrefix(data, []byte(magic)) {
		t.Fatalf("%s: not an httprr trace", name)
	}
	data = data[len(magic):]
	var out []exchangeRR
	for len(data) > 0 {
		line, rest, ok := bytes.Cut(data, []byte("\n"))
		if !ok {
			t.Fatalf("%s: truncated header", name)
		}
		f := strings.Fields(string(line))
		if len(f) != 2 {
			t.Fatalf("%s: bad header %q", name, line)
		}
		nreq, err1 := strconv.Atoi(f[0])
		nresp, err2 := strconv.Atoi(f[1])
		if err1 != nil || err2 != nil || nreq+nresp > len(rest) {
			t.Fatalf("%s: bad header %q", name, line)
		}
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(rest[:nreq])))
		if err != nil {
			t.Fatalf("%s: request: %v", name, err)
		}
		reqBody, _ := io.ReadAll(req.Body)
		resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(rest[nreq:nreq+nresp])), req)
		if err != nil {
			t.Fatalf("%s: response: %v", name, err)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("%s: response body: %v", name, err)
		}
		out = append(out, exchangeRR{Method: req.Method, Path: req.URL.Path, ReqBody: reqBody,
			Status: resp.StatusCode, Header: resp.Header, Body: body})
		data = rest[nreq+nresp:]
	}
	return out
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// seen is a request the fake server received.
type seen struct {
	Method, Path string
	Header       http.Header
	Body         []byte
}

// fake is an in-process HTTP server on 127.0.0.1 that records what it
// receives and answers with the test's handler.
type fake struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seen
}

func newFake(t *testing.T, h func(w http.ResponseWriter, r *http.Request, body []byte)) *fake {
	t.Helper()
	f := &fake{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, seen{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
		f.mu.Unlock()
		h(w, r, body)
	}))
	t.Cleanup(f.Close)
	return f
}

// requests returns the requests to path.
func (f *fake) requests(path string) []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []seen
	for _, r := range f.reqs {
		if r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// reply writes status, content type and body.
func reply(w http.ResponseWriter, status int, ctype string, body []byte) {
	w.Header().Set("Content-Type", ctype)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// streamLines writes an NDJSON body line by line, flushing each, as
// Ollama streams.
func streamLines(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	fl, _ := w.(http.Flusher)
	for _, line := range bytes.SplitAfter(body, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		_, _ = w.Write(line)
		if fl != nil {
			fl.Flush()
		}
	}
}

// refusedURL returns the address of a port nothing listens on.
func refusedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// golden compares got (JSON) with testdata/golden/name, or rewrites it
// with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

// canonJSON re-encodes a JSON document with sorted keys and indentation,
// so goldens do not depend on field order or whitespace.
func canonJSON(t *testing.T, b []byte) []byte {
	t.Helper()
	var v any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(out, '\n')
}

// responseJSON is the golden form of a Response: Latency, which is
// measured, is checked and zeroed.
func responseJSON(t *testing.T, r *policy.Response) []byte {
	t.Helper()
	if r.Usage.Latency <= 0 {
		t.Errorf("Usage.Latency = %v, want > 0", r.Usage.Latency)
	}
	c := *r
	c.Usage.Latency = 0
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

func ptr[T any](v T) *T { return &v }

// checkNoKey fails when err's text shows the test key.
func checkNoKey(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), testKey) {
		t.Errorf("the error shows the key: %v", err)
	}
	if err != nil && strings.Contains(fmt.Sprintf("%+v", err), testKey) {
		t.Errorf("the error's %%+v shows the key: %+v", err)
	}
}

// apiErr returns err as an *APIError or fails.
func apiErr(t *testing.T, err error) *policy.APIError {
	t.Helper()
	ae, ok := err.(*policy.APIError)
	if !ok {
		t.Fatalf("error %T %v, want *policy.APIError", err, err)
	}
	return ae
}
