package langchain

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Limits on what an exchange keeps.
const (
	// maxBody bounds the answer body kept (and read): a chat answer is
	// kilobytes; more than this is not an answer.
	maxBody = 8 << 20
	// maxErrBody bounds an error body.
	maxErrBody = 64 << 10
)

// exchange records one HTTP request of a call: langchaingo turns statuses
// and bodies into formatted text (or drops them), the exchange keeps them.
type exchange struct {
	mu      sync.Mutex
	status  int
	header  http.Header
	body    bytes.Buffer // the response body as read, at most maxBody
	over    bool         // the body was longer than maxBody
	readErr error        // reading the body failed (connection cut)
	err     error        // the request failed before a response
}

func (ex *exchange) snapshot() (status int, header http.Header, body []byte, over bool, readErr, err error) {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	return ex.status, ex.header, bytes.Clone(ex.body.Bytes()), ex.over, ex.readErr, ex.err
}

type exchangeKey struct{}

func withExchange(ctx context.Context, ex *exchange) context.Context {
	return context.WithValue(ctx, exchangeKey{}, ex)
}

// recordingTransport records the exchange of each request whose context
// carries one.
type recordingTransport struct {
	base   http.RoundTripper
	modify func(*http.Request)
}

func (t *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.modify != nil {
		req = req.Clone(req.Context())
		t.modify(req)
	}
	ex, _ := req.Context().Value(exchangeKey{}).(*exchange)
	resp, err := t.base.RoundTrip(req)
	if ex == nil {
		return resp, err
	}
	if err != nil {
		ex.mu.Lock()
		ex.err = err
		ex.mu.Unlock()
		return nil, err
	}
	ex.mu.Lock()
	ex.status, ex.header = resp.StatusCode, resp.Header.Clone()
	ex.body.Reset()
	ex.over, ex.readErr = false, nil
	ex.mu.Unlock()
	if resp.StatusCode >= 400 {
		// Read the error body now: the status and message are kept
		// whatever the client library makes of them.
		b, rerr := io.ReadAll(io.LimitReader(resp.Body, maxErrBody))
		resp.Body.Close()
		ex.mu.Lock()
		ex.body.Write(b)
		ex.readErr = rerr
		ex.mu.Unlock()
		resp.Body = io.NopCloser(bytes.NewReader(b))
		resp.ContentLength = int64(len(b))
		return resp, nil
	}
	resp.Body = &teeBody{rc: resp.Body, ex: ex}
	return resp, nil
}

// teeBody keeps what the client library reads of an answer, up to
// maxBody, and fails the read past it.
type teeBody struct {
	rc io.ReadCloser
	ex *exchange
}

func (b *teeBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.ex.mu.Lock()
	defer b.ex.mu.Unlock()
	if room := maxBody - b.ex.body.Len(); n > room {
		b.ex.body.Write(p[:max(room, 0)])
		b.ex.over = true
		return n, fmt.Errorf("the answer is longer than %d MiB", maxBody>>20)
	}
	b.ex.body.Write(p[:n])
	if err != nil && err != io.EOF {
		b.ex.readErr = err
	}
	return n, err
}

func (b *teeBody) Close() error { return b.rc.Close() }

// retryAfter parses a Retry-After header: seconds (integer or decimal) or
// an HTTP date. 0 when absent or unreadable.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if !(s > 0 && s <= 24*3600) { // also NaN
			return 0
		}
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
