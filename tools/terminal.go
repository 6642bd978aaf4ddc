package tools

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// DefaultTimeout is how long a person has to answer.
const DefaultTimeout = 5 * time.Minute

// Terminal is a person at a terminal: each question is printed on w (the
// command's stderr), the answer is the next line read from r (stdin). No
// line within the timeout, or the end of r, is no answer.
//
// One goroutine reads r, started by the first question; it ends at the
// end of r (a read of a terminal cannot be interrupted), so give Terminal
// the process's stdin, not a reader that never ends.
type Terminal struct {
	w       io.Writer
	timeout time.Duration

	once  sync.Once
	r     io.Reader
	lines chan string // closed at the end of r
	mu    sync.Mutex
	ended bool
}

// NewTerminal returns the person at r and w; timeout 0 means
// DefaultTimeout.
func NewTerminal(r io.Reader, w io.Writer, timeout time.Duration) *Terminal {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Terminal{r: r, w: w, timeout: timeout}
}

func (t *Terminal) start() {
	t.lines = make(chan string)
	go func() {
		defer close(t.lines)
		sc := bufio.NewScanner(t.r)
		sc.Buffer(make([]byte, 0, 4096), 64<<10)
		for sc.Scan() {
			t.lines <- sc.Text()
		}
	}()
}

// Ask prints the question and waits for a line.
func (t *Terminal) Ask(ctx context.Context, q Question) (Answer, error) {
	t.once.Do(t.start)
	t.mu.Lock()
	ended := t.ended
	t.mu.Unlock()
	if ended {
		return Answer{None: true, Why: "the input has ended", By: "terminal"}, nil
	}
	for tries := 0; ; tries++ {
		if q.Kind == KindConfirm {
			fmt.Fprintf(t.w, "\npilot asks you to confirm (step %d): %s\nApprove? [y/n] > ", q.Step, q.Text)
		} else {
			fmt.Fprintf(t.w, "\npilot asks (step %d): %s\n> ", q.Step, q.Text)
		}
		timer := time.NewTimer(t.timeout)
		var (
			line string
			ok   bool
		)
		select {
		case <-ctx.Done():
			timer.Stop()
			return Answer{}, ctx.Err()
		case <-timer.C:
			fmt.Fprintf(t.w, "\n(no answer within %s: pilot goes on without one)\n", t.timeout)
			return Answer{None: true, Why: fmt.Sprintf("no answer within %s", t.timeout), By: "terminal"}, nil
		case line, ok = <-t.lines:
			timer.Stop()
		}
		if !ok {
			t.mu.Lock()
			t.ended = true
			t.mu.Unlock()
			fmt.Fprintln(t.w, "\n(the input has ended: pilot goes on without an answer)")
			return Answer{None: true, Why: "the input has ended", By: "terminal"}, nil
		}
		line = strings.TrimSpace(line)
		if q.Kind != KindConfirm {
			if line == "" {
				return Answer{None: true, Why: "an empty answer", By: "terminal"}, nil
			}
			return Answer{Text: line, By: "terminal"}, nil
		}
		if yes, ok := yesNo(line); ok {
			return Answer{Yes: yes, By: "terminal"}, nil
		}
		if tries == 2 {
			return Answer{None: true, Why: fmt.Sprintf("no yes or no in %q", clip(line, 80)), By: "terminal"}, nil
		}
		fmt.Fprintln(t.w, "Please answer y or n.")
	}
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
