package langchain

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/pilotkit/pilot/policy"
)

// apiError turns a failed call into a *policy.APIError from what the
// exchange recorded: the HTTP status and the provider's error body where
// there was a response, the network error where there was none, the
// caller's context where it ended the call, else a bad body (err is
// langchaingo's complaint about it).
func (m *Model) apiError(ctx context.Context, ex *exchange, err error) error {
	status, header, body, over, readErr, netErr := ex.snapshot()
	e := &policy.APIError{Provider: m.info.Provider}
	switch {
	case status >= 400:
		e.Status = status
		e.RetryAfter = retryAfter(header, time.Now())
		e.Code, e.Message = m.d.errorBody(body)
		e.Code, e.Message = shorten(e.Code), shorten(e.Message)
		if e.Message == "" {
			e.Message = shorten(strings.TrimSpace(string(body)))
		}
		if e.Message == "" {
			e.Message = httpStatusText(status)
		}
		e.Err = m.d.classify(status, e.Code, e.Message)
		switch {
		case e.Err != nil:
		case status == 401 || status == 403:
			e.Err = policy.ErrAuth
		case status == 429:
			e.Err = policy.ErrRateLimited
		}
		if errors.Is(e.Err, policy.ErrAuth) {
			e.Message += "; " + m.keyHint()
		}
	case ctx.Err() != nil:
		e.Err = ctx.Err()
		e.Message = "no answer before the context ended"
	case netErr != nil:
		e.Err = netErr
		e.Message = m.netMessage(netErr)
	case status == 0 && netErr == nil && readErr == nil:
		// Nothing went out: the client library refused the request (a
		// tool schema it cannot encode, say). Not an API error, and no
		// retry will help.
		return fmt.Errorf("langchain: %s: the request could not be sent: %w", m.info, err)
	case readErr != nil:
		// The connection broke while the answer came: a network error,
		// worth a retry.
		e.Err = fmt.Errorf("%w: the answer was cut: %w", policy.ErrBadResponse, readErr)
	case over:
		e.Status = status
		e.Err = fmt.Errorf("%w: the answer is longer than %d MiB", policy.ErrBadResponse, maxBody>>20)
	default:
		e.Status = status
		if msg, sentinel := m.streamError(body); msg != "" {
			// An error in the body of a 2xx answer (Ollama streams errors
			// that happen after the headers as a JSON line).
			e.Message = msg
			e.Err = sentinel
			if e.Err == nil {
				e.Status = 0 // the server failed mid-answer: worth a retry
				e.Err = policy.ErrBadResponse
			}
			break
		}
		sentinel := policy.ErrBadResponse
		if policy.IsCutBody(err) {
			sentinel = policy.ErrCutResponse
		}
		e.Err = fmt.Errorf("%w: %v", sentinel, err)
	}
	m.redact(e)
	return e
}

// streamError looks for an error reported inside a 2xx body.
func (m *Model) streamError(body []byte) (msg string, sentinel error) {
	if se, ok := m.d.(interface {
		streamError([]byte) (msg string, sentinel error)
	}); ok {
		return se.streamError(body)
	}
	return "", nil
}

// netMessage explains a request that got no response.
func (m *Model) netMessage(err error) string {
	if errors.Is(err, syscall.ECONNREFUSED) || isNoHost(err) {
		if m.info.Provider == "ollama" {
			return fmt.Sprintf("cannot connect: is `ollama serve` running at %s?", m.baseURL)
		}
		return fmt.Sprintf("cannot connect to %s: check the base URL and the network", m.baseURL)
	}
	return "the request failed"
}

func isNoHost(err error) bool {
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr) && dnsErr.IsNotFound
}

// keyHint says where the key came from, never what it is.
func (m *Model) keyHint() string {
	switch {
	case m.info.Provider == "ollama" && m.key == "":
		return "the server wants credentials: pass an API key"
	case m.keyFrom == "Options.APIKey":
		return "check the API key passed in the options"
	default:
		return "check the key in " + m.keyFrom
	}
}

// redact removes the key from everything the error shows.
func (m *Model) redact(e *policy.APIError) {
	if len(m.key) < 4 {
		return
	}
	e.Message = strings.ReplaceAll(e.Message, m.key, "[redacted]")
	e.Code = strings.ReplaceAll(e.Code, m.key, "[redacted]")
	if e.Err != nil && strings.Contains(e.Err.Error(), m.key) {
		e.Err = &redacted{err: e.Err, key: m.key}
	}
}

// redacted hides a key in an error's text but keeps errors.Is working.
type redacted struct {
	err error
	key string
}

func (r *redacted) Error() string { return strings.ReplaceAll(r.err.Error(), r.key, "[redacted]") }
func (r *redacted) Unwrap() error { return r.err }

// shorten keeps an unparsed error body readable.
func shorten(s string) string {
	const max = 300
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "?")
	}
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func httpStatusText(status int) string {
	switch {
	case status >= 500:
		return "server error"
	default:
		return "request refused"
	}
}
