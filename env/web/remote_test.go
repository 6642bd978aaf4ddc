package web

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pilotkit/pilot/env"
)

// startDebugChrome runs a Chromium with a DevTools port, as a browser
// fleet would, and returns its websocket address.
func startDebugChrome(t *testing.T) string {
	t.Helper()
	path, err := FindChrome()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cmd := exec.Command(path, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "--user-data-dir="+dir, "about:blank")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	// Chromium writes its port and path to DevToolsActivePort.
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(filepath.Join(dir, "DevToolsActivePort"))
		if lines := strings.Split(strings.TrimSpace(string(b)), "\n"); err == nil && len(lines) == 2 {
			return "ws://127.0.0.1:" + lines[0] + lines[1]
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("Chromium did not write DevToolsActivePort")
	return ""
}

func TestRemoteBrowser(t *testing.T) {
	srv := site(t)
	ws := startDebugChrome(t)
	e := newEnv(t, Options{BrowserURL: ws})
	envtest := func(url string) env.Observation {
		obs, err := e.Reset(ctxT(t), env.Task{StartURL: url})
		if err != nil {
			t.Fatalf("Reset on the remote browser: %v", err)
		}
		return obs
	}
	obs := envtest(srv.URL + "/cookie.html")
	if e.BrowserPID() != 0 {
		t.Errorf("BrowserPID of a remote browser = %d, want 0", e.BrowserPID())
	}
	st := step(t, e, `click("`+idOf(t, obs, `button "Remember me"`)+`")`)
	if !strings.Contains(st.Obs.Text, "cookie: [visited=yes]") {
		t.Fatalf("click on the remote browser:\n%s", st.Obs.Text)
	}
	if obs := envtest(srv.URL + "/cookie.html"); !strings.Contains(obs.Text, "cookie: []") {
		t.Errorf("episodes on a remote browser are not isolated:\n%s", obs.Text)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	// Closing the env disconnects; the remote browser keeps running.
	e2 := newEnv(t, Options{BrowserURL: ws})
	if _, err := e2.Reset(ctxT(t), env.Task{StartURL: srv.URL + "/form.html"}); err != nil {
		t.Errorf("the remote browser did not survive Close of an env attached to it: %v", err)
	}
}

func TestRemoteBrowserUnreachable(t *testing.T) {
	e := newEnv(t, Options{BrowserURL: "ws://127.0.0.1:1/devtools/browser/x"})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := e.Reset(ctx, env.Task{})
	if err == nil || !strings.Contains(err.Error(), "attach to the browser at ws://127.0.0.1:1") {
		t.Errorf("Reset with no browser at the address = %v, want an error naming the address", err)
	}
	if _, err := New(Options{BrowserURL: "localhost:9222"}); err == nil {
		t.Error("New accepted a browser address without a scheme")
	}
}
