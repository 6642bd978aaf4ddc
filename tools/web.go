package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// WebHuman is a person answering at a local web page: the questions of a
// running agent are listed on GET / (and as JSON on GET /questions), and
// POST /answer (a form, or JSON {"id": 1, "text": "blue"} or
// {"id": 2, "yes": true}) answers one. Serve it on 127.0.0.1; a question
// not answered within the timeout gets no answer.
type WebHuman struct {
	timeout time.Duration

	mu      sync.Mutex
	next    int
	pending map[int]*pendingQ
}

type pendingQ struct {
	ID       int    `json:"id"`
	Kind     Kind   `json:"kind"`
	Text     string `json:"text"`
	Task     string `json:"instruction"`
	Step     int    `json:"step"`
	answered chan Answer
}

var _ Human = (*WebHuman)(nil)

// NewWebHuman returns the page's human; timeout 0 means DefaultTimeout.
// Serve it with http.Serve (it is an http.Handler).
func NewWebHuman(timeout time.Duration) *WebHuman {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &WebHuman{timeout: timeout, pending: map[int]*pendingQ{}}
}

// Ask puts the question on the page and waits for its answer.
func (h *WebHuman) Ask(ctx context.Context, q Question) (Answer, error) {
	h.mu.Lock()
	h.next++
	p := &pendingQ{ID: h.next, Kind: q.Kind, Text: q.Text, Task: q.Instruction, Step: q.Step, answered: make(chan Answer, 1)}
	h.pending[p.ID] = p
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.pending, p.ID)
		h.mu.Unlock()
	}()
	timer := time.NewTimer(h.timeout)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return Answer{}, ctx.Err()
	case <-timer.C:
		return Answer{None: true, Why: fmt.Sprintf("no answer on the page within %s", h.timeout), By: "web"}, nil
	case a := <-p.answered:
		return a, nil
	}
}

// ServeHTTP serves the page, the questions and the answers.
func (h *WebHuman) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/" && r.Method == http.MethodGet:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := webPage.Execute(w, h.list()); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	case r.URL.Path == "/questions" && r.Method == http.MethodGet:
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"questions": h.list()})
	case r.URL.Path == "/answer" && r.Method == http.MethodPost:
		h.answer(w, r)
	default:
		http.Error(w, "not found: GET /, GET /questions, POST /answer", http.StatusNotFound)
	}
}

func (h *WebHuman) list() []*pendingQ {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*pendingQ, 0, len(h.pending))
	for id := 1; id <= h.next; id++ {
		if p, ok := h.pending[id]; ok {
			out = append(out, p)
		}
	}
	return out
}

// answer reads an answer: JSON {"id", "text" or "yes"}, or a form with
// id, text and yes.
func (h *WebHuman) answer(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ID   int    `json:"id"`
		Text string `json:"text"`
		Yes  *bool  `json:"yes"`
	}
	if r.Header.Get("Content-Type") == "application/json" {
		b, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if err == nil {
			err = json.Unmarshal(b, &in)
		}
		if err != nil {
			http.Error(w, "the answer is not JSON {\"id\": N, \"text\": \"…\"} or {\"id\": N, \"yes\": true}: "+err.Error(), http.StatusBadRequest)
			return
		}
	} else {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "the answer's form does not read: "+err.Error(), http.StatusBadRequest)
			return
		}
		id, err := strconv.Atoi(r.PostForm.Get("id"))
		if err != nil {
			http.Error(w, "the answer has no question id", http.StatusBadRequest)
			return
		}
		in.ID, in.Text = id, r.PostForm.Get("text")
		if v := r.PostForm.Get("yes"); v != "" {
			b := v == "yes" || v == "true" || v == "1"
			in.Yes = &b
		}
	}
	h.mu.Lock()
	p, ok := h.pending[in.ID]
	if ok {
		delete(h.pending, in.ID)
	}
	h.mu.Unlock()
	if !ok {
		http.Error(w, fmt.Sprintf("no question %d is waiting (answered already, or timed out)", in.ID), http.StatusNotFound)
		return
	}
	a := Answer{Text: in.Text, By: "web"}
	if p.Kind == KindConfirm {
		switch {
		case in.Yes != nil:
			a.Yes = *in.Yes
		default:
			yes, ok := yesNo(in.Text)
			if !ok {
				h.mu.Lock()
				h.pending[in.ID] = p // still waiting
				h.mu.Unlock()
				http.Error(w, "a confirmation wants yes or no", http.StatusBadRequest)
				return
			}
			a.Yes = yes
		}
	} else if in.Text == "" {
		h.mu.Lock()
		h.pending[in.ID] = p
		h.mu.Unlock()
		http.Error(w, "the answer is empty", http.StatusBadRequest)
		return
	}
	p.answered <- a
	if r.Header.Get("Content-Type") == "application/json" {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": true})
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

var webPage = template.Must(template.New("q").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>pilot asks</title>
{{if not .}}<meta http-equiv="refresh" content="2">{{end}}</head><body style="font:15px system-ui;margin:2em">
<h1>pilot asks</h1>{{if not .}}<p>No question is waiting.</p>{{end}}
{{range .}}<form method="post" action="/answer" style="border:1px solid #ccc;padding:1em;margin:1em 0">
<p>Task: {{.Task}}</p><p><b>Step {{.Step}}: {{.Text}}</b></p><input type="hidden" name="id" value="{{.ID}}">
{{if eq .Kind "confirm"}}<button name="yes" value="yes">Approve</button> <button name="yes" value="no">Refuse</button>
{{else}}<input name="text" aria-label="Your answer" size="60" autofocus> <button>Answer</button>{{end}}</form>{{end}}
</body></html>`))
