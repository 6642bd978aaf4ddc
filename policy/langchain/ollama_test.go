package langchain

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pilotkit/pilot/policy"
)

// ollamaServer is a fake Ollama: /api/show answers from the fixtures
// (404 in Ollama's words for other models), /api/chat with chat.
func ollamaServer(t *testing.T, chat func(w http.ResponseWriter, r *http.Request, body []byte)) *fake {
	t.Helper()
	shows := map[string][]byte{
		"llava":     readFixture(t, "ollama/show_llava.json"),
		"llama3.2":  readFixture(t, "ollama/show_llama3.2.json"),
		"gemma3:1b": readFixture(t, "ollama/show_llama3.2.json"),
		"llava:7b":  readFixture(t, "ollama/show_llama3.2.json"),
	}
	// A text model on a server that reports capabilities: the llama3.2
	// answer with the list a text-only model has.
	var textCaps map[string]any
	if err := json.Unmarshal(shows["llama3.2"], &textCaps); err != nil {
		t.Fatal(err)
	}
	textCaps["capabilities"] = []string{"completion", "tools"}
	shows["qwen3:8b"], _ = json.Marshal(textCaps)
	return newFake(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		switch r.URL.Path {
		case "/api/show":
			var req struct {
				Model string `json:"model"`
			}
			_ = json.Unmarshal(body, &req)
			if b, ok := shows[req.Model]; ok {
				reply(w, http.StatusOK, "application/json; charset=utf-8", b)
				return
			}
			// server/routes.go ShowHandler: 404 {"error": "model '%s' not found"}.
			msg, _ := json.Marshal(map[string]string{"error": fmt.Sprintf("model '%s' not found", req.Model)})
			reply(w, http.StatusNotFound, "application/json; charset=utf-8", msg)
		case "/api/chat":
			chat(w, r, body)
		default:
			http.NotFound(w, r)
		}
	})
}

func newOllamaModel(t *testing.T, url, model string, o Options) *Model {
	t.Helper()
	o.Provider, o.Model, o.BaseURL = "ollama", model, url
	m, err := New(context.Background(), o)
	if err != nil {
		t.Fatalf("New(ollama:%s) = %v", model, err)
	}
	return m
}

func pixels(t testing.TB) []byte { return readFixture(t, "pixels-2x2.png") }

// TestOllamaReplay replays real answers and compares the parsed Response
// with the golden files.
func TestOllamaReplay(t *testing.T) {
	t.Parallel()
	rec := readHTTPRR(t, "ollama/chat_stream.httprr")[0]
	tests := []struct {
		name  string
		model string
		body  []byte
		req   policy.Request
		// wantSent, when set, is the request the real client sent.
		wantSent []byte
	}{
		{
			name: "recorded_stream", model: "gemma3:1b", body: rec.Body, wantSent: rec.ReqBody,
			req: policy.Request{
				Messages:    []policy.Message{{Role: policy.RoleUser, Parts: []policy.Part{policy.TextPart("Hello, how are you?")}}},
				Temperature: ptr(0.0), MaxTokens: 50,
			},
		},
		{
			name: "docs_image", model: "llava", body: readFixture(t, "ollama/chat_image.json"),
			req: policy.Request{Messages: []policy.Message{{Role: policy.RoleUser, Parts: []policy.Part{
				policy.TextPart("what is in this image?"), policy.ImagePart("image/png", pixels(t))}}}},
		},
		{
			name: "docs_stream", model: "llama3.2", body: readFixture(t, "ollama/chat_docs_stream.ndjson"),
			req: policy.Request{Messages: []policy.Message{{Role: policy.RoleUser, Parts: []policy.Part{policy.TextPart("why is the sky blue?")}}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// A single JSON object (the docs' non-streamed answers) is a
			// stream of one line.
			body := tt.body
			if !strings.Contains(strings.TrimSpace(string(body)), "\n{") {
				var v any
				if err := json.Unmarshal(body, &v); err == nil {
					body, _ = json.Marshal(v)
					body = append(body, '\n')
				}
			}
			srv := ollamaServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) { streamLines(w, body) })
			m := newOllamaModel(t, srv.URL, tt.model, Options{})
			resp, err := m.Generate(context.Background(), tt.req)
			if err != nil {
				t.Fatalf("Generate = %v", err)
			}
			golden(t, "ollama_"+tt.name+".json", responseJSON(t, resp))
			if tt.wantSent != nil {
				sent := srv.requests("/api/chat")
				if len(sent) != 1 {
					t.Fatalf("%d requests to /api/chat, want 1", len(sent))
				}
				if got, want := string(canonJSON(t, sent[0].Body)), string(canonJSON(t, tt.wantSent)); got != want {
					t.Errorf("sent\n%s\nwant (as langchaingo sent it to a real server)\n%s", got, want)
				}
			}
		})
	}
}

// TestOllamaWire checks what the adapter sends for a multimodal
// conversation: one "content" per message, the image's bytes base64 in
// "images", the sampling options.
func TestOllamaWire(t *testing.T) {
	t.Parallel()
	final := []byte(`{"model":"llava","created_at":"2023-12-13T22:42:50.203334Z","message":{"role":"assistant","content":"click(\"12\")"},"done":true,"done_reason":"stop","prompt_eval_count":40,"eval_count":5}` + "\n")
	srv := ollamaServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) { streamLines(w, final) })
	m := newOllamaModel(t, srv.URL, "llava", Options{})
	img := pixels(t)
	req := policy.Request{
		Messages: []policy.Message{
			{Role: policy.RoleSystem, Parts: []policy.Part{policy.TextPart("You drive a robot arm."), policy.TextPart("Answer with one action.")}},
			{Role: policy.RoleUser, Parts: []policy.Part{policy.TextPart("Reach the red cube."), policy.ImagePart("image/png", img), policy.TextPart("joints: [0.1, -0.2]")}},
			{Role: policy.RoleAssistant, Parts: []policy.Part{policy.TextPart(`move_joints("0.1,0")`)}},
			{Role: policy.RoleUser, Parts: []policy.Part{policy.TextPart("joints: [0.1, 0]")}},
		},
		Temperature: ptr(0.2), Seed: ptr(int64(42)), MaxTokens: 64,
	}
	if _, err := m.Generate(context.Background(), req); err != nil {
		t.Fatalf("Generate = %v", err)
	}
	sent := srv.requests("/api/chat")
	if len(sent) != 1 {
		t.Fatalf("%d requests to /api/chat, want 1", len(sent))
	}
	var body struct {
		Messages []struct {
			Images []string `json:"images"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(sent[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	if len(body.Messages) != 4 || len(body.Messages[1].Images) != 1 || body.Messages[1].Images[0] != base64.StdEncoding.EncodeToString(img) {
		t.Errorf("the image did not go base64 in messages[1].images: %s", sent[0].Body)
	}
	golden(t, "ollama_wire_multimodal.json", canonJSON(t, sent[0].Body))
}

// TestOllamaNew checks what New finds out from the server.
func TestOllamaNew(t *testing.T) {
	t.Parallel()
	srv := ollamaServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {})
	tests := []struct {
		model      string
		o          Options
		wantImages bool
	}{
		{model: "llava", wantImages: true},                                  // capabilities say vision
		{model: "qwen3:8b", wantImages: false},                              // capabilities without vision
		{model: "llama3.2", wantImages: false},                              // no capabilities (Ollama < 0.6.4): the name
		{model: "llava:7b", wantImages: true},                               // no capabilities: the name says llava
		{model: "gemma3:1b", wantImages: false},                             // gemma3's 1b is text only
		{model: "llava", o: Options{Images: ptr(false)}, wantImages: false}, // the override wins
	}
	for _, tt := range tests {
		m := newOllamaModel(t, srv.URL, tt.model, tt.o)
		info := m.Info()
		if info.Images != tt.wantImages || info.Tools || info.Provider != "ollama" || info.Name != tt.model || info.BaseURL != srv.URL {
			t.Errorf("New(ollama:%s, Images %v).Info() = %+v, want Images %v, Tools false, BaseURL %s",
				tt.model, tt.o.Images, info, tt.wantImages, srv.URL)
		}
	}
	if n := len(srv.requests("/api/show")); n != len(tests) {
		t.Errorf("%d requests to /api/show, want %d", n, len(tests))
	}
}

// TestOllamaNewErrors checks the start-up errors: each says what to do.
func TestOllamaNewErrors(t *testing.T) {
	t.Parallel()
	srv := ollamaServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {})
	other := newFake(t, func(w http.ResponseWriter, r *http.Request, _ []byte) { http.NotFound(w, r) })
	refused := refusedURL(t)
	tests := []struct {
		name    string
		o       Options
		want    []string
		wantErr error
	}{
		{name: "not pulled", o: Options{BaseURL: srv.URL, Model: "llava:34b"},
			want: []string{"llava:34b", "ollama pull llava:34b", "not found"}},
		{name: "not running", o: Options{BaseURL: refused, Model: "llava"},
			want: []string{"is `ollama serve` running at " + refused}, wantErr: syscall.ECONNREFUSED},
		{name: "not ollama", o: Options{BaseURL: other.URL, Model: "llava"},
			want: []string{"answered 404", "is it an Ollama server"}},
		{name: "openai endpoint", o: Options{BaseURL: srv.URL + "/v1", Model: "llava"},
			want: []string{"OpenAI-compatible", "openai:"}},
		{name: "tools", o: Options{BaseURL: srv.URL, Model: "llava", Tools: ptr(true)},
			want: []string{"sends no tool definitions", "--model openai:llava --base-url " + srv.URL + "/v1"}},
		{name: "no model", o: Options{BaseURL: srv.URL}, want: []string{"model name"}},
		{name: "bad URL", o: Options{BaseURL: "ftp://x", Model: "llava"}, want: []string{"not an http(s) address"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.o.Provider = "ollama"
			m, err := New(context.Background(), tt.o)
			if err == nil {
				t.Fatalf("New(%v) = %v, nil; want an error", tt.o, m)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("New(%v) = %v, want it to say %q", tt.o, err, w)
				}
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("New(%v) = %v, want errors.Is %v", tt.o, err, tt.wantErr)
			}
		})
	}
}

func TestOllamaBaseURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ opt, env, want string }{
		{"", "", "http://127.0.0.1:11434"},
		{"", "0.0.0.0", "http://127.0.0.1:11434"},
		{"", "gpu-box:8080", "http://gpu-box:8080"},
		{"", "https://ollama.example.com", "https://ollama.example.com:11434"},
		{"http://10.0.0.2:11434/", "ignored:1", "http://10.0.0.2:11434"},
	}
	for _, tt := range tests {
		got, err := ollamaBaseURL(tt.opt, tt.env)
		if err != nil || got != tt.want {
			t.Errorf("ollamaBaseURL(%q, %q) = %q, %v; want %q", tt.opt, tt.env, got, err, tt.want)
		}
	}
}

// TestOllamaFaults checks each failure becomes the right *APIError.
func TestOllamaFaults(t *testing.T) {
	t.Parallel()
	good := readFixture(t, "ollama/chat_docs_stream.ndjson")
	tests := []struct {
		name       string
		chat       func(w http.ResponseWriter, r *http.Request, body []byte)
		req        policy.Request
		wantStatus int
		wantErr    error
		wantTemp   bool
		wantText   string
	}{
		{
			name: "image refused",
			chat: func(w http.ResponseWriter, r *http.Request, _ []byte) {
				reply(w, 500, "application/json; charset=utf-8", readFixture(t, "ollama/error_no_vision.json"))
			},
			req: imageRequest(t),
			// Temporary() is true for any 5xx; policy.WithRetry never
			// retries ErrNoImages.
			wantStatus: 500, wantErr: policy.ErrNoImages, wantTemp: true, wantText: "missing data required for image input",
		},
		{
			name: "model gone",
			chat: func(w http.ResponseWriter, r *http.Request, _ []byte) {
				reply(w, 404, "application/json; charset=utf-8", readFixture(t, "ollama/error_chat_not_found.json"))
			},
			wantStatus: 404, wantText: "try pulling it first",
		},
		{
			name: "500 text body",
			chat: func(w http.ResponseWriter, r *http.Request, _ []byte) {
				reply(w, 500, "text/plain", []byte("Internal Server Error"))
			},
			wantStatus: 500, wantTemp: true, wantText: "Internal Server Error",
		},
		{
			name: "429 retry after",
			chat: func(w http.ResponseWriter, r *http.Request, _ []byte) {
				w.Header().Set("Retry-After", "3")
				reply(w, 429, "application/json", []byte(`{"error":"server busy, please try again.  maximum pending requests exceeded"}`))
			},
			wantStatus: 429, wantErr: policy.ErrRateLimited, wantTemp: true, wantText: "maximum pending requests exceeded",
		},
		{
			name: "no final line",
			chat: func(w http.ResponseWriter, r *http.Request, _ []byte) {
				streamLines(w, good[:strings.Index(string(good), "\n")+1])
			},
			wantStatus: 200, wantErr: policy.ErrCutResponse, wantTemp: true, wantText: "without its final (done) line",
		},
		{
			name:       "truncated JSON",
			chat:       func(w http.ResponseWriter, r *http.Request, _ []byte) { streamLines(w, good[:len(good)-40]) },
			wantStatus: 200, wantErr: policy.ErrCutResponse, wantTemp: true,
		},
		{
			name: "not JSON",
			chat: func(w http.ResponseWriter, r *http.Request, _ []byte) {
				reply(w, 200, "text/html", []byte("<html>proxy login</html>"))
			},
			wantStatus: 200, wantErr: policy.ErrCutResponse, wantTemp: true,
		},
		{
			name: "error mid-stream",
			chat: func(w http.ResponseWriter, r *http.Request, _ []byte) {
				streamLines(w, []byte(string(good[:strings.Index(string(good), "\n")+1])+`{"error":"an error was encountered while running the model: unexpected EOF"}`+"\n"))
			},
			wantStatus: 0, wantErr: policy.ErrBadResponse, wantTemp: true, wantText: "unexpected EOF",
		},
		{
			name: "connection cut",
			chat: func(w http.ResponseWriter, r *http.Request, _ []byte) {
				w.Header().Set("Content-Type", "application/x-ndjson")
				w.Header().Set("Content-Length", "1000")
				w.WriteHeader(200)
				_, _ = w.Write(good[:50])
				w.(http.Flusher).Flush()
				panic(http.ErrAbortHandler)
			},
			wantStatus: 0, wantErr: policy.ErrBadResponse, wantTemp: true, wantText: "cut",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := ollamaServer(t, tt.chat)
			m := newOllamaModel(t, srv.URL, "llava", Options{})
			req := tt.req
			if req.Messages == nil {
				req = textRequest("hi")
			}
			resp, err := m.Generate(context.Background(), req)
			if err == nil {
				t.Fatalf("Generate = %+v, nil; want an error", resp)
			}
			ae := apiErr(t, err)
			if ae.Status != tt.wantStatus || ae.Provider != "ollama" {
				t.Errorf("Generate = %v: Status %d Provider %q, want %d ollama", err, ae.Status, ae.Provider, tt.wantStatus)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Generate = %v, want errors.Is %v", err, tt.wantErr)
			}
			if ae.Temporary() != tt.wantTemp {
				t.Errorf("Generate = %v: Temporary() = %v, want %v", err, ae.Temporary(), tt.wantTemp)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("Generate = %v, want it to say %q", err, tt.wantText)
			}
			if tt.name == "429 retry after" && ae.RetryAfter != 3*time.Second {
				t.Errorf("RetryAfter = %v, want 3s", ae.RetryAfter)
			}
		})
	}
}

func textRequest(s string) policy.Request {
	return policy.Request{Messages: []policy.Message{{Role: policy.RoleUser, Parts: []policy.Part{policy.TextPart(s)}}}}
}

func imageRequest(t testing.TB) policy.Request {
	return policy.Request{Messages: []policy.Message{{Role: policy.RoleUser, Parts: []policy.Part{
		policy.TextPart("what is in this image?"), policy.ImagePart("image/png", pixels(t))}}}}
}

// TestOllamaImagesOff checks a model taken not to see images is refused
// before anything is sent.
func TestOllamaImagesOff(t *testing.T) {
	t.Parallel()
	srv := ollamaServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) { t.Error("the request was sent") })
	m := newOllamaModel(t, srv.URL, "llama3.2", Options{})
	_, err := m.Generate(context.Background(), imageRequest(t))
	if !errors.Is(err, policy.ErrNoImages) || apiErr(t, err).Temporary() {
		t.Errorf("Generate(image to llama3.2) = %v, want ErrNoImages, not temporary", err)
	}
	_, err = m.Generate(context.Background(), policy.Request{Messages: textRequest("hi").Messages, Tools: []policy.Tool{{Name: "click"}}})
	if !errors.Is(err, policy.ErrNoTools) {
		t.Errorf("Generate(tools to ollama) = %v, want ErrNoTools", err)
	}
}

// TestOllamaHung checks a server that never answers is cut by the
// context, and the error says so.
func TestOllamaHung(t *testing.T) {
	t.Parallel()
	stop := make(chan struct{})
	srv := ollamaServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	})
	t.Cleanup(func() { close(stop) }) // runs before the server's Close
	m := newOllamaModel(t, srv.URL, "llava", Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := m.Generate(ctx, textRequest("hi"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Generate on a hung server = %v, want context.DeadlineExceeded", err)
	}
	if ae := apiErr(t, err); ae.Status != 0 || !ae.Temporary() {
		t.Errorf("Generate = %v: Status %d Temporary %v, want 0 true", err, ae.Status, ae.Temporary())
	}
}

// TestOllamaRefused checks a server that stopped after New.
func TestOllamaRefused(t *testing.T) {
	t.Parallel()
	srv := ollamaServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {})
	m := newOllamaModel(t, srv.URL, "llava", Options{})
	srv.Close()
	_, err := m.Generate(context.Background(), textRequest("hi"))
	if !errors.Is(err, syscall.ECONNREFUSED) || !strings.Contains(err.Error(), "is `ollama serve` running at "+srv.URL) {
		t.Errorf("Generate on a stopped server = %v, want ECONNREFUSED and the address", err)
	}
}

// TestOllamaN checks N answers take N calls, usage summed, and that
// concurrent calls on one Model keep their exchanges apart.
func TestOllamaN(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	n := 0
	srv := ollamaServer(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		mu.Lock()
		n++
		i := n
		mu.Unlock()
		var req struct {
			Messages []struct{ Content string } `json:"messages"`
		}
		_ = json.Unmarshal(body, &req)
		line, _ := json.Marshal(map[string]any{"model": "llava", "message": map[string]string{"role": "assistant", "content": req.Messages[0].Content + fmt.Sprint(" #", i)},
			"done": true, "done_reason": "stop", "prompt_eval_count": 10, "eval_count": 3})
		streamLines(w, append(line, '\n'))
	})
	m := newOllamaModel(t, srv.URL, "llava", Options{})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q := fmt.Sprint("q", g)
			req := textRequest(q)
			req.N = 3
			resp, err := m.Generate(context.Background(), req)
			if err != nil {
				t.Errorf("Generate = %v", err)
				return
			}
			if len(resp.Choices) != 3 || resp.Usage.PromptTokens != 30 || resp.Usage.CompletionTokens != 9 {
				t.Errorf("Generate(N=3) = %d choices, usage %+v; want 3, 30+9", len(resp.Choices), resp.Usage)
			}
			for _, c := range resp.Choices {
				if !strings.HasPrefix(c.Text, q+" #") {
					t.Errorf("choice %q answers another call than %q", c.Text, q)
				}
			}
		}()
	}
	wg.Wait()
	if got := len(srv.requests("/api/chat")); got != 12 {
		t.Errorf("%d requests to /api/chat, want 12", got)
	}
}

// TestOllamaSeeds checks N calls with a seed use seed, seed+1, … so the
// answers differ and stay reproducible.
func TestOllamaSeeds(t *testing.T) {
	t.Parallel()
	final := readFixture(t, "ollama/chat_docs_stream.ndjson")
	srv := ollamaServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) { streamLines(w, final) })
	m := newOllamaModel(t, srv.URL, "llava", Options{})
	req := textRequest("hi")
	req.N, req.Seed = 3, ptr(int64(7))
	if _, err := m.Generate(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	var seeds []int
	for _, r := range srv.requests("/api/chat") {
		var b struct {
			Options struct{ Seed int } `json:"options"`
		}
		if err := json.Unmarshal(r.Body, &b); err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, b.Options.Seed)
	}
	if fmt.Sprint(seeds) != "[7 8 9]" {
		t.Errorf("seeds sent = %v, want [7 8 9]", seeds)
	}
}
