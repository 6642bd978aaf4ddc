package policy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"strings"
	"syscall"
	"time"
)

// RetryOptions configure WithRetry. The zero value is a good default.
type RetryOptions struct {
	// Attempts is the total number of attempts, the first included; 0
	// means 4.
	Attempts int
	// BaseDelay is the first backoff; 0 means 500ms. The backoff doubles
	// after each attempt, up to MaxDelay, and the delay actually waited
	// is drawn uniformly from [0, backoff] (full jitter).
	BaseDelay time.Duration
	// MaxDelay caps every wait, Retry-After included; 0 means 20s.
	MaxDelay time.Duration
	// CallTimeout bounds each attempt (a context deadline); 0 means 60s.
	CallTimeout time.Duration
	// Logger gets one Info record per retry; nil discards them.
	Logger *slog.Logger
	// Rand returns the jitter fraction in [0, 1); nil uses math/rand/v2.
	Rand func() float64
	// Sleep waits d or until ctx is done, returning ctx's error then; nil
	// uses a timer. Tests replace it to record the delays.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Retry defaults.
const (
	DefaultRetryAttempts    = 4
	DefaultRetryBaseDelay   = 500 * time.Millisecond
	DefaultRetryMaxDelay    = 20 * time.Second
	DefaultRetryCallTimeout = 60 * time.Second
)

// refusedAttempts bounds the attempts on a refused connection: a server
// that is not running rarely starts within seconds, so WithRetry tries
// once more (a restart) and then says so.
const refusedAttempts = 2

// WithRetry returns m with retries: each attempt runs under its own
// deadline (CallTimeout), and an attempt that failed in a way a retry may
// cure is retried after an exponential backoff with full jitter, or after
// the server's Retry-After when that is longer.
//
// Retried: an *APIError whose Temporary() is true (408, 409, 425, 429,
// 5xx, network errors) and an attempt cut by CallTimeout while the
// caller's ctx is alive (a hung connection). Never retried: ErrAuth,
// ErrNoImages, ErrNoTools, a 429 whose code is insufficient_quota (no
// money left), any other 4xx, errors that are not *APIError, and a
// cancelled or expired caller ctx, which stops the loop at once, even in
// the middle of a wait. A refused connection is tried twice at most.
//
// A Retry-After longer than MaxDelay is waited as MaxDelay; one longer than
// twice MaxDelay ends the retries with an error that says so rather than
// waiting.
//
// The final error wraps the last cause and tells how many attempts were
// made and over how long ("openai API: HTTP 429 (rate_limit_exceeded): …:
// gave up after 4 attempts over 9.3s"); errors.Is(err, ErrRateLimited)
// holds when the last attempt got a 429. An error on the first attempt
// that is not retried is returned unchanged.
func WithRetry(m Model, o RetryOptions) Model {
	if o.Attempts <= 0 {
		o.Attempts = DefaultRetryAttempts
	}
	if o.BaseDelay <= 0 {
		o.BaseDelay = DefaultRetryBaseDelay
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = DefaultRetryMaxDelay
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = DefaultRetryCallTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
	if o.Sleep == nil {
		o.Sleep = sleepCtx
	}
	return &retrying{m: m, o: o}
}

type retrying struct {
	m Model
	o RetryOptions
}

// Info returns the wrapped model's Info.
func (r *retrying) Info() ModelInfo { return r.m.Info() }

// Generate calls the wrapped model until it answers, the error is not worth
// a retry, the attempts run out or ctx is done.
func (r *retrying) Generate(ctx context.Context, req Request) (*Response, error) {
	start := time.Now()
	var attempts []Attempt
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, r.o.CallTimeout)
		t0 := time.Now()
		resp, err := r.m.Generate(actx, req)
		took := time.Since(t0)
		timedOut := err != nil && ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded)
		cancel()
		if err == nil {
			if resp != nil {
				resp.Attempts = append(attempts, Attempt{Latency: took})
				resp.Usage.Retries += len(attempts)
			}
			return resp, nil
		}
		failed := Attempt{Error: err.Error(), Latency: took}
		var ae *APIError
		if errors.As(err, &ae) {
			failed.Status = ae.Status
		}
		if ctx.Err() != nil {
			return nil, r.stopped(ctx, err, attempt, start)
		}
		if timedOut {
			err = fmt.Errorf("%w (the call took longer than CallTimeout %s)", err, r.o.CallTimeout)
		}
		if !retryable(err, timedOut) {
			if attempt == 1 {
				return nil, err
			}
			return nil, r.giveUp(err, attempt, start, "")
		}
		limit := r.o.Attempts
		if errors.Is(err, syscall.ECONNREFUSED) {
			limit = min(limit, refusedAttempts)
		}
		if attempt >= limit {
			return nil, r.giveUp(err, attempt, start, "")
		}
		delay := r.backoff(attempt)
		if ra := retryAfter(err); ra > 0 {
			if ra > 2*r.o.MaxDelay {
				return nil, r.giveUp(err, attempt, start,
					fmt.Sprintf("the server asked to wait %s (Retry-After), far more than MaxDelay %s", ra, r.o.MaxDelay))
			}
			delay = max(delay, min(ra, r.o.MaxDelay))
		}
		failed.Wait = delay
		attempts = append(attempts, failed)
		r.o.Logger.Info("model call failed; retrying",
			"model", r.m.Info().String(), "attempt", attempt, "of", limit,
			"delay", delay, "err", err.Error())
		if serr := r.o.Sleep(ctx, delay); serr != nil || ctx.Err() != nil {
			return nil, r.stopped(ctx, err, attempt, start)
		}
	}
}

// backoff returns the jittered delay after the given (1-based) attempt:
// uniform in [0, min(MaxDelay, BaseDelay·2^(attempt-1))].
func (r *retrying) backoff(attempt int) time.Duration {
	b := r.o.BaseDelay
	for i := 1; i < attempt && b < r.o.MaxDelay; i++ {
		b *= 2
	}
	b = min(b, r.o.MaxDelay)
	f := r.o.Rand()
	if f < 0 || f > 1 || math.IsNaN(f) {
		f = 1
	}
	return time.Duration(f * float64(b))
}

// retryable reports whether err may go away on a retry.
func retryable(err error, timedOut bool) bool {
	if errors.Is(err, ErrAuth) || errors.Is(err, ErrNoImages) || errors.Is(err, ErrNoTools) ||
		errors.Is(err, context.Canceled) {
		return false
	}
	if timedOut {
		return true
	}
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	if ae.Status == 429 && strings.Contains(ae.Code, "insufficient_quota") {
		return false
	}
	return ae.Temporary()
}

// retryAfter returns the server's Retry-After carried by err, 0 if none.
func retryAfter(err error) time.Duration {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.RetryAfter
	}
	return 0
}

func (r *retrying) giveUp(err error, attempts int, start time.Time, note string) error {
	e := &retryError{last: err, attempts: attempts, elapsed: time.Since(start), note: note, verb: "gave up"}
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == 429 && !errors.Is(err, ErrRateLimited) {
		e.extra = append(e.extra, ErrRateLimited)
	}
	return e
}

func (r *retrying) stopped(ctx context.Context, err error, attempts int, start time.Time) error {
	e := &retryError{last: err, attempts: attempts, elapsed: time.Since(start), verb: "stopped"}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		e.extra = append(e.extra, cerr)
		e.note = "the caller's context is done (" + cerr.Error() + ")"
	}
	return e
}

// retryError is WithRetry's final error.
type retryError struct {
	last     error
	attempts int
	elapsed  time.Duration
	verb     string // "gave up", "stopped"
	note     string
	extra    []error // ErrRateLimited, the caller's ctx error
}

func (e *retryError) Error() string {
	var b strings.Builder
	b.WriteString(e.last.Error())
	if e.note != "" {
		b.WriteString(": ")
		b.WriteString(e.note)
	}
	s := "s"
	if e.attempts == 1 {
		s = ""
	}
	fmt.Fprintf(&b, ": %s after %d attempt%s over %s", e.verb, e.attempts, s, roundElapsed(e.elapsed))
	return b.String()
}

func (e *retryError) Unwrap() []error { return append([]error{e.last}, e.extra...) }

// roundElapsed keeps a duration readable: 9.3s, 850ms, 2m3.4s.
func roundElapsed(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(100 * time.Millisecond)
}

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
