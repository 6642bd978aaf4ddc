package web

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/remote"

	"github.com/pilotkit/pilot/env"
)

// ErrChromeNotFound is returned when no Chromium binary can be found.
var ErrChromeNotFound = errors.New("chromium not found: install it with `apt-get install chromium` or set PILOT_CHROME to the browser's path")

// ErrBrowserGone is wrapped by Step's error when the browser died or the
// connection to it was lost. The next Reset starts (or reconnects to) a new
// browser. It wraps env.ErrBackendLost.
var ErrBrowserGone = env.BackendLost("the browser is gone")

// chromeCandidates are looked up on PATH, in order, when PILOT_CHROME is not set.
var chromeCandidates = []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless_shell"}

// FindChrome returns the browser binary: $PILOT_CHROME when set (it must
// exist), else the first of /usr/bin/chromium, chromium, chromium-browser,
// google-chrome found on PATH.
func FindChrome() (string, error) {
	if p := os.Getenv("PILOT_CHROME"); p != "" {
		path, err := exec.LookPath(p)
		if err != nil {
			return "", fmt.Errorf("PILOT_CHROME=%q: %w: %w", p, err, ErrChromeNotFound)
		}
		return path, nil
	}
	for _, c := range chromeCandidates {
		if path, err := exec.LookPath(c); err == nil {
			return path, nil
		}
	}
	return "", ErrChromeNotFound
}

// ChromeFlags are the flags pilot starts Chromium with. They make headless
// Chromium run as root in a container, quietly: no sandbox (it needs user
// namespaces), no GPU, and no background traffic to Google's servers (on a
// closed network those connections fail, many at a time).
var chromeFlags = []chromedp.ExecAllocatorOption{
	chromedp.Flag("no-sandbox", true),
	chromedp.Flag("disable-gpu", true),
	chromedp.Flag("disable-quic", true),
	chromedp.Flag("no-first-run", true),
	chromedp.Flag("disable-background-networking", true),
	chromedp.Flag("disable-component-update", true),
	chromedp.Flag("disable-sync", true),
	chromedp.Flag("disable-default-apps", true),
	chromedp.Flag("disable-domain-reliability", true),
	chromedp.Flag("metrics-recording-only", true),
	chromedp.Flag("no-pings", true),
	chromedp.Flag("mute-audio", true),
	chromedp.Flag("hide-scrollbars", true),
	// The back-forward cache restores pages without a load event; pilot
	// wants every history move to be a plain navigation it can wait for.
	// The WebUI omnibox popups are two hidden renderers that Chromium
	// prewarms for every window (so for every episode): turning them off
	// cut the CPU of a shop episode by a third. After input, Chromium
	// holds the page's tasks until the next frame (60 Hz):
	// DeferRendererTasksAfterInput off lets a click's handlers and pilot's
	// settle run at once, which took a click step from 16.7 ms (one frame)
	// to 9.6 ms; unlike --disable-frame-rate-limit, it leaves an animated
	// page at 60 frames a second (that flag had one spinner take both
	// cores).
	chromedp.Flag("disable-features", "WebUIOmniboxPopup,WebUIOmniboxAimPopup,WebUIOmniboxFullPopup,OmniboxAimPopup,Translate,BackForwardCache,MediaRouter,OptimizationHints,InterestFeedContentSuggestions,CalculateNativeWinOcclusion,AutofillServerCommunication,DeferRendererTasksAfterInput"),
}

// browser is one Chromium: launched here, or attached to over CDP.
type browser struct {
	allocCancel context.CancelFunc
	ctx         context.Context // the browser's chromedp context: its lifetime is the browser's
	cancel      context.CancelFunc
	userDir     string   // removed on close; "" when attached
	lock        *os.File // held while the profile is in use (lockProfile)
	remote      bool
}

// launchBrowser starts a headless Chromium with a fresh user-data-dir.
// parent is the environment's session context: the browser lives until it
// is cancelled or close is called, whatever ctx does. extra options come
// after pilot's.
func launchBrowser(ctx, parent context.Context, o Options, extra ...chromedp.ExecAllocatorOption) (*browser, error) {
	if o.BrowserURL != "" {
		return attachBrowser(ctx, parent, o.BrowserURL)
	}
	path := o.ChromePath
	if path == "" {
		var err error
		if path, err = FindChrome(); err != nil {
			return nil, err
		}
	} else if _, err := exec.LookPath(path); err != nil {
		return nil, fmt.Errorf("chrome path %q: %w: %w", path, err, ErrChromeNotFound)
	}
	shm := shmDir()
	base := shm
	if d := os.Getenv("PILOT_PROFILE_DIR"); d != "" {
		base = d
	}
	if base == "" {
		base = os.TempDir()
	}
	swept := []string{base}
	if os.Getenv("PILOT_PROFILE_DIR") == "" && base != os.TempDir() {
		swept = append(swept, os.TempDir()) // where a run without /dev/shm put them
	}
	for _, d := range swept {
		if n := sweepProfiles(d); n > 0 && o.Logger != nil {
			o.Logger.Info("removed browser profiles that killed runs left behind", "dir", d, "profiles", n)
		}
	}
	dir, err := os.MkdirTemp(base, "pilot-chrome-*") // webtest.ProfilePattern
	if err != nil {
		return nil, fmt.Errorf("create the browser's user-data-dir: %w", err)
	}
	lock, err := lockProfile(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("lock the browser's user-data-dir: %w", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromeFlags...)
	if shm != "" {
		// /dev/shm is large enough: let Chromium keep its shared memory
		// there (chromedp's default moves it to /tmp, which is on disk on
		// many machines and slows every page down when several browsers
		// run).
		opts = append(opts, chromedp.Flag("disable-dev-shm-usage", false))
	}
	opts = append(opts,
		chromedp.ExecPath(path),
		chromedp.UserDataDir(dir),
		chromedp.WindowSize(o.Viewport.W, o.Viewport.H),
		// Chromium's own process group, so that Ctrl-C on pilot's terminal
		// reaches pilot first and pilot closes the browser in order.
		chromedp.ModifyCmdFunc(ownProcessGroup),
	)
	opts = append(opts, extra...)
	allocCtx, allocCancel := chromedp.NewExecAllocator(parent, opts...)
	bctx, bcancel := chromedp.NewContext(allocCtx)
	b := &browser{allocCancel: allocCancel, ctx: bctx, cancel: bcancel, userDir: dir, lock: lock}
	if err := b.start(ctx); err != nil {
		b.close()
		return nil, fmt.Errorf("start chromium %s: %w", path, startupError{err})
	}
	return b, nil
}

// startupError shortens chromedp's "chrome failed to start:" error, which
// carries everything Chromium printed, to its last line: the one that
// says why, most of the time.
type startupError struct{ err error }

func (e startupError) Unwrap() error { return e.err }

func (e startupError) Error() string {
	msg := e.err.Error()
	head, out, ok := strings.Cut(msg, "chrome failed to start:")
	if !ok {
		return msg
	}
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) <= 1 {
		return msg
	}
	return fmt.Sprintf("%schrome failed to start: %s (and %d more lines of Chromium's output)", head, lines[len(lines)-1], len(lines)-1)
}

// Launch starts a headless Chromium as New's Envs do (pilot's flags, a
// fresh profile) that also listens for DevTools on a port of 127.0.0.1,
// and returns its websocket address, for Options.BrowserURL. Several Envs
// may attach to it at once, each episode in a browser context of its own:
// one browser for many workers, or for a package's tests. stop closes the
// browser and removes its profile; it is idempotent.
//
// Of o, ChromePath and Viewport (the window's size) apply; BrowserURL
// must be empty. ctx bounds the start, not the browser's life.
func Launch(ctx context.Context, o Options) (wsURL string, stop func() error, err error) {
	if o.BrowserURL != "" {
		return "", nil, fmt.Errorf("web: launch: Options.BrowserURL is set (%s): attach to that browser instead", o.BrowserURL)
	}
	if o, err = o.withDefaults(); err != nil {
		return "", nil, fmt.Errorf("web: launch: %w", err)
	}
	session, cancel := context.WithCancel(context.Background())
	b, err := launchBrowser(ctx, session, o,
		chromedp.Flag("remote-debugging-address", "127.0.0.1"),
		chromedp.Flag("remote-debugging-port", "0"),
		remote.WebSocket, // a debugging port needs a websocket connection
	)
	if err != nil {
		cancel()
		return "", nil, fmt.Errorf("web: launch: %w", err)
	}
	stop = sync.OnceValue(func() error {
		defer cancel()
		return b.close()
	})
	if wsURL, err = devToolsURL(ctx, b.userDir); err != nil {
		stop()
		return "", nil, fmt.Errorf("web: launch: %w", err)
	}
	return wsURL, stop, nil
}

// devToolsURL reads the browser's websocket address from the
// DevToolsActivePort file of its profile: the port, then the path.
func devToolsURL(ctx context.Context, profile string) (string, error) {
	file := filepath.Join(profile, "DevToolsActivePort")
	for {
		b, err := os.ReadFile(file)
		if lines := strings.Split(strings.TrimSpace(string(b)), "\n"); err == nil && len(lines) == 2 {
			return "ws://127.0.0.1:" + lines[0] + lines[1], nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("read the DevTools address from %s: %w", file, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// attachBrowser connects to a running browser's DevTools websocket.
func attachBrowser(ctx, parent context.Context, wsURL string) (*browser, error) {
	allocCtx, allocCancel := remote.NewAllocator(parent, wsURL)
	bctx, bcancel := chromedp.NewContext(allocCtx)
	b := &browser{allocCancel: allocCancel, ctx: bctx, cancel: bcancel, remote: true}
	if err := b.start(ctx); err != nil {
		b.close()
		return nil, fmt.Errorf("attach to the browser at %s: %w (is it running with --remote-debugging-port?)", wsURL, err)
	}
	return b, nil
}

// start runs the browser (or connects), bounded by ctx without tying the
// browser's life to ctx. It opens no tab: the episodes open theirs (an
// attached browser would otherwise get a tab per Env that nothing uses).
func (b *browser) start(ctx context.Context) error {
	return startBounded(ctx, b.ctx, b.cancel, func(c context.Context) error {
		_, err := chromedp.CallBrowser(c, cdpbrowser.GetVersion, cdp.Empty{})
		return err
	})
}

// alive reports whether the browser still answers.
func (b *browser) alive() bool { return b != nil && b.ctx.Err() == nil }

// pid returns the browser's process id, or 0 when pilot did not start it.
func (b *browser) pid() int {
	if c := chromedp.FromContext(b.ctx); c != nil && c.Browser != nil {
		if p := c.Browser.Process(); p != nil {
			return p.Pid
		}
	}
	return 0
}

// close stops the browser (or disconnects) and removes its user-data-dir.
func (b *browser) close() error {
	pid := b.pid()
	b.cancel()
	b.allocCancel() // waits for the process to exit
	if pid != 0 {
		// Its helpers (zygote, renderers, crashpad) can outlive it for a
		// moment and write in the profile meanwhile.
		killGroup(pid)
	}
	if b.userDir != "" {
		err := removeAll(b.userDir)
		if b.lock != nil {
			b.lock.Close()
		}
		if err != nil {
			return fmt.Errorf("remove the browser's user-data-dir: %w", err)
		}
	}
	return nil
}

// removeAll is os.RemoveAll, tried again for up to 5 s while a process
// that has not yet exited keeps writing in dir.
func removeAll(dir string) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := os.RemoveAll(dir)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}
