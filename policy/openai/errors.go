package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/pilotkit/pilot/policy"
)

// maxBody bounds a response body: a server that sends more is broken.
const maxBody = 32 << 20

// headBytes is how much of a body an error quotes.
const headBytes = 256

var errBodyTooLarge = fmt.Errorf("the response body is larger than %d MiB", maxBody>>20)

// recordKey keys the *record of a request in its context.
type recordKey struct{}

// record is what the transport saw of one request. The doer fills it on
// the goroutine that called Generate (go-openai sends and reads
// synchronously), so it needs no lock.
type record struct {
	sent   bool
	status int
	header http.Header
	head   []byte // the body's first bytes
}

// doer is the go-openai HTTP client: it records the status and headers
// (Retry-After) of each response in the request's record and bounds the
// body.
type doer struct{ c *http.Client }

func (d *doer) Do(req *http.Request) (*http.Response, error) {
	rec, _ := req.Context().Value(recordKey{}).(*record)
	if rec == nil {
		rec = &record{}
	}
	rec.sent = true
	resp, err := d.c.Do(req)
	if err != nil {
		return nil, err
	}
	rec.status = resp.StatusCode
	rec.header = resp.Header.Clone()
	resp.Body = &boundedBody{rc: resp.Body, left: maxBody, rec: rec}
	return resp, nil
}

// boundedBody fails reads past maxBody and keeps the first bytes.
type boundedBody struct {
	rc   io.ReadCloser
	left int64
	rec  *record
}

func (b *boundedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		var one [1]byte
		if n, _ := b.rc.Read(one[:]); n > 0 {
			return 0, errBodyTooLarge
		}
		return b.rc.Read(p)
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if room := headBytes - len(b.rec.head); room > 0 && n > 0 {
		b.rec.head = append(b.rec.head, p[:min(n, room)]...)
	}
	return n, err
}

func (b *boundedBody) Close() error { return b.rc.Close() }

// mapError turns a go-openai or transport error into a *policy.APIError
// (or, for a request that was never sent, a plain error).
func (m *Model) mapError(ctx context.Context, err error, rec *record) error {
	var oe *goopenai.APIError
	var re *goopenai.RequestError
	switch {
	case ctx.Err() != nil:
		what := "no answer from " + m.displayURL() + " before the deadline"
		if errors.Is(ctx.Err(), context.Canceled) {
			what = "the call to " + m.displayURL() + " was cancelled"
		}
		return &policy.APIError{Provider: m.info.Provider, Message: what, Err: ctx.Err()}
	case errors.As(err, &oe):
		code := ""
		if s, ok := oe.Code.(string); ok {
			code = s
		}
		if code == "" {
			code = oe.Type
		}
		return m.statusError(oe.HTTPStatusCode, code, oe.Message, rec)
	case errors.As(err, &re) && re.HTTPStatusCode >= 400:
		code, msg := parseErrorBody(re.Body)
		return m.statusError(re.HTTPStatusCode, code, msg, rec)
	case !rec.sent:
		return fmt.Errorf("openai: model %s: the request could not be sent: %w", m.info, err)
	case rec.status >= 400:
		return m.statusError(rec.status, "", "the error body could not be read: "+err.Error(), rec)
	case rec.status != 0 && !isNetworkError(err):
		e := m.badResponse(rec, "cannot decode the response: "+err.Error())
		if policy.IsCutBody(err) {
			e.(*policy.APIError).Err = policy.ErrCutResponse
		}
		return e
	}
	return m.networkError(err)
}

// statusError builds the error of an HTTP error status.
func (m *Model) statusError(status int, code, msg string, rec *record) error {
	msg = m.redact(oneLine(msg, 500))
	if msg == "" {
		msg = http.StatusText(status)
	}
	ae := &policy.APIError{Provider: m.info.Provider, Status: status, Code: code, Message: msg, RetryAfter: retryAfterHeader(rec.header, time.Now())}
	low := strings.ToLower(msg)
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		ae.Err = policy.ErrAuth
		if m.keyFrom == "Options.APIKey" {
			ae.Message += "; check the API key given to pilot"
		} else if m.key == placeholderKey {
			ae.Message += fmt.Sprintf("; the server wants an API key: set %s", m.keyFrom)
		} else {
			ae.Message += fmt.Sprintf("; check the API key in %s", m.keyFrom)
		}
	case imageRefusal(low):
		ae.Err = policy.ErrNoImages
	case toolRefusal(low):
		ae.Err = policy.ErrNoTools
	}
	return ae
}

// imageRefusal reports whether an error message says the model takes no
// images. The phrases are the servers' own:
//   - OpenAI: "Invalid content type. image_url is only supported by certain models."
//   - llama.cpp: "image input is not supported - hint: if this is unexpected, you may need to provide the mmproj"
//   - Ollama: "failed to process inputs: this model is missing data required for image input"
//   - llamafile: "The server was not compiled for multimodal or the model projector can't be loaded."
//   - others: "… does not support image input", "… is not a multimodal model".
func imageRefusal(low string) bool {
	for _, s := range []string{
		"image_url is only supported by certain models",
		"image input is not supported",
		"missing data required for image input",
		"not compiled for multimodal",
		"does not support image",
		"doesn't support image",
		"do not support image",
		"not support vision",
		"images are not supported",
		"image inputs are not supported",
		"is not a multimodal model",
	} {
		if strings.Contains(low, s) {
			return true
		}
	}
	return false
}

// toolRefusal reports whether an error message says the model (or the
// server) takes no tools:
//   - Ollama: "llama3 does not support tools"
//   - vLLM: "\"auto\" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set"
func toolRefusal(low string) bool {
	for _, s := range []string{
		"does not support tools",
		"doesn't support tools",
		"does not support tool",
		"tools are not supported",
		"tool calling is not supported",
		"does not support function calling",
		"enable-auto-tool-choice",
	} {
		if strings.Contains(low, s) {
			return true
		}
	}
	return false
}

// badResponse is the error of a 2xx answer that is not a usable response.
func (m *Model) badResponse(rec *record, what string) error {
	if rec != nil && len(rec.head) > 0 {
		what += "; the body starts with " + strconv.Quote(oneLine(string(rec.head), 120))
	}
	status := 0
	if rec != nil {
		status = rec.status
	}
	return &policy.APIError{Provider: m.info.Provider, Status: status, Message: m.redact(what), Err: policy.ErrBadResponse}
}

// networkError is the error of a request that got no HTTP answer.
func (m *Model) networkError(err error) error {
	var dns *net.DNSError
	var what string
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		what = fmt.Sprintf("cannot connect to %s: is the server running? %s", m.displayURL(), startHint(m.baseURL))
	case errors.As(err, &dns):
		what = fmt.Sprintf("cannot resolve the host of %s: check the base URL", m.displayURL())
	default:
		what = "no answer from " + m.displayURL()
	}
	inner := err
	var op *net.OpError
	if errors.As(err, &op) {
		inner = op
	}
	return &policy.APIError{Provider: m.info.Provider, Message: what, Err: inner}
}

// isNetworkError reports whether err comes from the connection rather than
// from the body's content.
func isNetworkError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// startHint says how to start the server usually found at u's port.
func startHint(u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return "check the base URL"
	}
	switch pu.Port() {
	case "11434":
		return "e.g. `ollama serve`"
	case "8080":
		return "e.g. `llama-server -m model.gguf --mmproj mmproj.gguf --port 8080`"
	case "8000":
		return "e.g. `vllm serve <model>`"
	case "1234":
		return "e.g. `lms server start` (LM Studio)"
	}
	return "e.g. `ollama serve` for Ollama on port 11434; check the base URL"
}

func (m *Model) displayURL() string {
	u, err := url.Parse(m.baseURL)
	if err != nil {
		return m.baseURL
	}
	return u.Redacted()
}

// maskedKey matches a key as servers echo it masked: "sk-VKMIs*****wjh3".
var maskedKey = regexp.MustCompile(`[A-Za-z0-9_\-:/]*\*{4,}[A-Za-z0-9_\-]*`)

// redact removes the key, whole or masked, from s.
func (m *Model) redact(s string) string {
	if m.key != "" && m.key != placeholderKey && len(m.key) >= 4 {
		s = strings.ReplaceAll(s, m.key, "[redacted]")
	}
	return maskedKey.ReplaceAllString(s, "[redacted]")
}

// parseErrorBody reads an error body that is not OpenAI's
// {"error": {"message": …}}: {"error": "…"} (Ollama's native form),
// {"message": …}, {"detail": …} (FastAPI), or plain text.
func parseErrorBody(body []byte) (code, msg string) {
	var v struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
		Detail  json.RawMessage `json:"detail"`
		Code    json.RawMessage `json:"code"`
		Type    string          `json:"type"`
	}
	if json.Unmarshal(body, &v) != nil {
		return "", string(body)
	}
	var s string
	switch {
	case len(v.Error) > 0 && json.Unmarshal(v.Error, &s) == nil:
		return v.Type, s
	case len(v.Error) > 0:
		var e struct {
			Message string `json:"message"`
			Type    string `json:"type"`
		}
		if json.Unmarshal(v.Error, &e) == nil && e.Message != "" {
			return e.Type, e.Message
		}
		return "", string(v.Error)
	case v.Message != "":
		return v.Type, v.Message
	case len(v.Detail) > 0 && json.Unmarshal(v.Detail, &s) == nil:
		return "", s
	case len(v.Detail) > 0:
		return "", string(v.Detail)
	}
	return "", string(body)
}

// retryAfterHeader reads the server's wait: OpenAI's retry-after-ms, else
// Retry-After in seconds or as an HTTP date. It returns 0 when there is
// none or it makes no sense, and never more than a day.
func retryAfterHeader(h http.Header, now time.Time) time.Duration {
	if h == nil {
		return 0
	}
	const most = 24 * time.Hour
	clamp := func(f float64, unit time.Duration) time.Duration {
		if math.IsNaN(f) || f <= 0 {
			return 0
		}
		if f >= float64(most/unit) {
			return most
		}
		return time.Duration(f * float64(unit))
	}
	if v := strings.TrimSpace(h.Get("Retry-After-Ms")); v != "" {
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			return clamp(f, time.Millisecond)
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		return clamp(f, time.Second)
	}
	if t, err := http.ParseTime(v); err == nil {
		return clamp(t.Sub(now).Seconds(), time.Second)
	}
	return 0
}

// oneLine collapses whitespace and clips s to n bytes, on a rune boundary.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
