package policy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pilotkit/pilot/env"
)

// flaky is a Model that fails on schedule: the i-th call (0-based) returns
// errs[i] (nil: success); calls past the schedule succeed. A call whose
// error is errHang blocks until its context is done.
type flaky struct {
	mu        sync.Mutex
	errs      []error
	calls     int
	deadlines []bool // whether each call's ctx had a deadline
}

var errHang = errors.New("hang")

func (f *flaky) Info() ModelInfo { return ModelInfo{Provider: "fake", Name: "flaky"} }

func (f *flaky) Generate(ctx context.Context, req Request) (*Response, error) {
	f.mu.Lock()
	i := f.calls
	f.calls++
	_, ok := ctx.Deadline()
	f.deadlines = append(f.deadlines, ok)
	var err error
	if i < len(f.errs) {
		err = f.errs[i]
	}
	f.mu.Unlock()
	if err == errHang {
		<-ctx.Done()
		return nil, &APIError{Provider: "fake", Err: ctx.Err()}
	}
	if err != nil {
		return nil, err
	}
	return &Response{Choices: []Choice{{Text: fmt.Sprintf("answer %d", i)}}}, nil
}

func (f *flaky) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// recorder records the waits instead of waiting.
type recorder struct {
	mu sync.Mutex
	d  []time.Duration
}

func (r *recorder) sleep(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	r.d = append(r.d, d)
	r.mu.Unlock()
	return ctx.Err()
}

func (r *recorder) waits() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Duration(nil), r.d...)
}

func status(code int, retryAfter time.Duration) error {
	return &APIError{Provider: "fake", Status: code, Code: "c", Message: "m", RetryAfter: retryAfter}
}

func refused() error {
	return &APIError{Provider: "fake", Message: "cannot connect", Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}
}

func TestRetryDelays(t *testing.T) {
	const s = time.Second
	tests := []struct {
		name      string
		errs      []error
		opts      RetryOptions
		rand      float64
		wantWaits []time.Duration
		wantCalls int
		wantOK    bool
	}{
		{"Retry-After honoured", []error{status(429, 3*s)}, RetryOptions{}, 0, []time.Duration{3 * s}, 2, true},
		{"Retry-After shorter than the backoff", []error{status(503, 100*time.Millisecond)}, RetryOptions{BaseDelay: s}, 1, []time.Duration{s}, 2, true},
		{"exponential growth with full jitter at 0.5", []error{status(500, 0), status(502, 0), status(503, 0)}, RetryOptions{}, 0.5,
			[]time.Duration{250 * time.Millisecond, 500 * time.Millisecond, s}, 4, true},
		{"capped by MaxDelay", []error{status(500, 0), status(500, 0), status(500, 0), status(500, 0)}, RetryOptions{Attempts: 5, BaseDelay: s, MaxDelay: 3 * s}, 1,
			[]time.Duration{s, 2 * s, 3 * s, 3 * s}, 5, true},
		{"Retry-After above MaxDelay is cut to it", []error{status(429, 30*s)}, RetryOptions{MaxDelay: 20 * s}, 0, []time.Duration{20 * s}, 2, true},
		{"Retry-After far above MaxDelay gives up", []error{status(429, time.Hour)}, RetryOptions{}, 0, nil, 1, false},
		{"attempts run out", []error{status(500, 0), status(500, 0), status(500, 0), status(500, 0)}, RetryOptions{}, 1,
			[]time.Duration{500 * time.Millisecond, s, 2 * s}, 4, false},
		{"a refused connection is tried twice", []error{refused(), refused(), refused()}, RetryOptions{}, 1, []time.Duration{500 * time.Millisecond}, 2, false},
		{"408, 409, 425 are retried", []error{status(408, 0), status(409, 0), status(425, 0)}, RetryOptions{}, 0, []time.Duration{0, 0, 0}, 4, true},
		{"network error without status", []error{&APIError{Provider: "fake", Err: errors.New("connection reset by peer")}}, RetryOptions{}, 0, []time.Duration{0}, 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &flaky{errs: tt.errs}
			var rec recorder
			o := tt.opts
			o.Sleep = rec.sleep
			o.Rand = func() float64 { return tt.rand }
			resp, err := WithRetry(f, o).Generate(context.Background(), Request{})
			if got := rec.waits(); fmt.Sprint(got) != fmt.Sprint(tt.wantWaits) {
				t.Errorf("waits = %v, want %v", got, tt.wantWaits)
			}
			if f.count() != tt.wantCalls {
				t.Errorf("calls = %d, want %d", f.count(), tt.wantCalls)
			}
			if (err == nil) != tt.wantOK {
				t.Errorf("Generate() = %v, %v; want success %v", resp, err, tt.wantOK)
			}
		})
	}
}

func TestRetryJitterBounds(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	o := RetryOptions{Attempts: 8, BaseDelay: 100 * time.Millisecond, MaxDelay: 2 * time.Second}
	for trial := range 200 {
		var rec recorder
		f := &flaky{errs: []error{status(500, 0), status(500, 0), status(500, 0), status(500, 0), status(500, 0), status(500, 0), status(500, 0)}}
		oo := o
		oo.Sleep = rec.sleep
		oo.Rand = rng.Float64
		if _, err := WithRetry(f, oo).Generate(context.Background(), Request{}); err != nil {
			t.Fatalf("trial %d: Generate() error = %v", trial, err)
		}
		backoff := o.BaseDelay
		for i, d := range rec.waits() {
			if d < 0 || d > backoff {
				t.Fatalf("trial %d: wait %d = %v, want within [0, %v]", trial, i, d, backoff)
			}
			backoff = min(2*backoff, o.MaxDelay)
		}
	}
}

func TestRetryNever(t *testing.T) {
	tests := []struct {
		name string
		err  error
	}{
		{"ErrAuth", &APIError{Provider: "fake", Status: 401, Err: ErrAuth}},
		{"ErrNoImages even as a 500", &APIError{Provider: "fake", Status: 500, Err: ErrNoImages}},
		{"ErrNoTools", &APIError{Provider: "fake", Status: 400, Err: ErrNoTools}},
		{"400", status(400, 0)},
		{"404", status(404, 0)},
		{"insufficient quota", &APIError{Provider: "fake", Status: 429, Code: "insufficient_quota"}},
		{"not an APIError", errors.New("openai: the request could not be sent")},
		{"cancelled inside the model", &APIError{Provider: "fake", Err: context.Canceled}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &flaky{errs: []error{tt.err}}
			var rec recorder
			_, err := WithRetry(f, RetryOptions{Sleep: rec.sleep}).Generate(context.Background(), Request{})
			if err != tt.err {
				t.Errorf("Generate() error = %v, want %v unchanged", err, tt.err)
			}
			if f.count() != 1 || len(rec.waits()) != 0 {
				t.Errorf("calls %d, waits %v; want 1 call and no wait", f.count(), rec.waits())
			}
		})
	}
}

func TestRetryFinalError(t *testing.T) {
	last := status(429, 0)
	f := &flaky{errs: []error{status(429, 0), status(429, 0), status(429, 0), last}}
	var rec recorder
	_, err := WithRetry(f, RetryOptions{Sleep: rec.sleep}).Generate(context.Background(), Request{})
	if !errors.Is(err, ErrRateLimited) {
		t.Errorf("Generate() error = %v, want errors.Is ErrRateLimited", err)
	}
	var ae *APIError
	if !errors.As(err, &ae) || ae != last {
		t.Errorf("Generate() error = %v, want it to wrap the last cause", err)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, last.Error()+": gave up after 4 attempts over ") {
		t.Errorf("Generate() error = %q, want %q followed by the attempts", msg, last.Error())
	}

	f = &flaky{errs: []error{status(500, 0), status(400, 0)}}
	_, err = WithRetry(f, RetryOptions{Sleep: rec.sleep}).Generate(context.Background(), Request{})
	if err == nil || !strings.Contains(err.Error(), "gave up after 2 attempts") || errors.Is(err, ErrRateLimited) {
		t.Errorf("Generate() error = %v, want a give-up after 2 attempts, not rate limited", err)
	}

	f = &flaky{errs: []error{status(429, time.Hour)}}
	_, err = WithRetry(f, RetryOptions{Sleep: rec.sleep}).Generate(context.Background(), Request{})
	if err == nil || !strings.Contains(err.Error(), "Retry-After") || !strings.Contains(err.Error(), "1h0m0s") {
		t.Errorf("Generate() error = %v, want it to say the server asked for 1h", err)
	}
}

func TestRetryHungCallIsCut(t *testing.T) {
	f := &flaky{errs: []error{errHang}}
	var rec recorder
	m := WithRetry(f, RetryOptions{CallTimeout: 50 * time.Millisecond, Sleep: rec.sleep})
	resp, err := m.Generate(context.Background(), Request{})
	if err != nil || resp.Choices[0].Text != "answer 1" {
		t.Fatalf("Generate() = %v, %v; want the second answer", resp, err)
	}
	if f.count() != 2 || len(rec.waits()) != 1 {
		t.Errorf("calls %d, waits %v; want 2 calls, 1 wait", f.count(), rec.waits())
	}
	for i, ok := range f.deadlines {
		if !ok {
			t.Errorf("call %d had no deadline", i)
		}
	}
}

func TestRetryHungCallGivesUp(t *testing.T) {
	f := &flaky{errs: []error{errHang, errHang}}
	var rec recorder
	m := WithRetry(f, RetryOptions{Attempts: 2, CallTimeout: 20 * time.Millisecond, Sleep: rec.sleep})
	_, err := m.Generate(context.Background(), Request{})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "CallTimeout") || !strings.Contains(err.Error(), "gave up after 2 attempts") {
		t.Errorf("Generate() error = %v, want a deadline give-up naming CallTimeout", err)
	}
}

func TestRetryCancelStopsAtOnce(t *testing.T) {
	t.Run("during a wait", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		f := &flaky{errs: []error{status(503, 10*time.Second)}}
		m := WithRetry(f, RetryOptions{Sleep: func(ctx context.Context, d time.Duration) error {
			cancel() // the caller gives up while WithRetry waits
			return sleepCtx(ctx, d)
		}})
		_, err := m.Generate(ctx, Request{})
		if !errors.Is(err, context.Canceled) || f.count() != 1 || !strings.Contains(err.Error(), "stopped after 1 attempt") {
			t.Errorf("Generate() error = %v after %d calls, want a cancel after 1 call", err, f.count())
		}
	})
	t.Run("during a call", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		f := &flaky{errs: []error{errHang}}
		m := WithRetry(f, RetryOptions{CallTimeout: time.Hour})
		done := make(chan error, 1)
		go func() {
			_, err := m.Generate(ctx, Request{})
			done <- err
		}()
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) || f.count() != 1 {
			t.Errorf("Generate() error = %v after %d calls, want a cancel after 1 call", err, f.count())
		}
	})
	t.Run("before the call", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		f := &flaky{errs: []error{errHang}}
		_, err := WithRetry(f, RetryOptions{}).Generate(ctx, Request{})
		if !errors.Is(err, context.Canceled) || f.count() != 1 {
			t.Errorf("Generate() error = %v after %d calls, want a cancel after 1 call", err, f.count())
		}
	})
}

func TestRetryLogsAndInfo(t *testing.T) {
	var logs bytes.Buffer
	f := &flaky{errs: []error{status(500, 0), status(502, 0)}}
	var rec recorder
	m := WithRetry(f, RetryOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil)), Sleep: rec.sleep})
	if _, err := m.Generate(context.Background(), Request{}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(logs.String(), "level=INFO msg=\"model call failed; retrying\""); n != 2 {
		t.Errorf("logs = %q, want 2 retry records at Info", logs.String())
	}
	if got := m.Info(); got != f.Info() {
		t.Errorf("Info() = %v, want %v", got, f.Info())
	}
}

func TestSleepCtx(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sleepCtx(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("sleepCtx(cancelled, 1h) = %v, want context.Canceled", err)
	}
	if err := sleepCtx(context.Background(), time.Millisecond); err != nil {
		t.Errorf("sleepCtx(1ms) = %v, want nil", err)
	}
}

// The LLM policy keeps the attempts of a retried call in the decision's
// Meta["attempts"] and counts the retries in its Usage.
func TestLLMRecordsAttempts(t *testing.T) {
	f := &noopAfter{flaky: flaky{errs: []error{status(503, 0), status(500, 0)}}}
	var rec recorder
	p := LLM(WithRetry(f, RetryOptions{Sleep: rec.sleep, Rand: func() float64 { return 1 }}), LLMOptions{NoTools: true})
	spec := env.Spec{Name: "t", Actions: []env.ActionSpec{{Name: "noop"}}}
	d, err := p.Act(context.Background(), Input{Spec: spec, Obs: env.Observation{Text: "x"}})
	if err != nil {
		t.Fatal(err)
	}
	as, _ := d.Meta["attempts"].([]Attempt)
	if len(as) != 3 || as[0].Status != 503 || as[1].Status != 500 || as[2].Error != "" || d.Usage.Retries != 2 {
		t.Errorf("attempts %+v, retries %d; want the 503, the 500 and the answer, 2 retries", as, d.Usage.Retries)
	}
	if pr, _ := d.Meta["prompt"].(string); !strings.Contains(pr, "--- system") || !strings.Contains(pr, "--- user") {
		t.Errorf("Meta[prompt] = %q; want the prompt's messages, a role line before each", pr)
	}
	if as[0].Wait != 500*time.Millisecond || as[1].Wait != time.Second {
		t.Errorf("waits %s, %s; want 500ms, 1s", as[0].Wait, as[1].Wait)
	}
}

// noopAfter fails as flaky does, then answers noop().
type noopAfter struct{ flaky }

func (n *noopAfter) Generate(ctx context.Context, req Request) (*Response, error) {
	if _, err := n.flaky.Generate(ctx, req); err != nil {
		return nil, err
	}
	return &Response{Choices: []Choice{{Text: "noop()"}}}, nil
}
