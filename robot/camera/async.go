package camera

import (
	"context"
	"fmt"
	"image"
	"log/slog"
	"runtime"
	"strconv"
	"sync"
	"time"
)

// grabber is a blocking frame source (an OpenCV VideoCapture). All its
// methods run on the one goroutine an asyncCamera owns.
type grabber interface {
	// grab blocks until the next frame; io.EOF at the end of a file.
	grab() (image.Image, error)
	close() error
}

// openFunc opens a grabber; it runs on the owner goroutine too, since
// opening a stream can block as long as reading from it.
type openFunc func() (grabber, error)

type grabResult struct {
	img  image.Image
	time time.Time
	err  error
}

// asyncCamera reads from a grabber on a goroutine it owns, so that Read
// can give up on a hung device (after the timeout or when ctx ends) while
// the blocking call finishes in the background. At most one grab is in
// flight: a frame that arrives after its Read gave up is given to the
// next Read (Frame.Time says when it was captured).
type asyncCamera struct {
	src     source
	timeout time.Duration
	log     *slog.Logger

	reqs    chan struct{}   // Read → goroutine: grab one frame
	results chan grabResult // goroutine → Read; capacity 1, at most one in flight
	quit    chan struct{}   // closed by stop: Close or a cancelled Open
	done    chan struct{}   // closed when the goroutine has returned
	sem     chan struct{}   // capacity 1: serialises Reads; guards pending and seq

	stopped sync.Once // closes quit

	pending bool  // a grab was requested and its result not yet taken
	seq     int64 // frames delivered

	closeErr error // the grabber's close error; written before done is closed
}

// startAsync starts the owner goroutine, which opens the grabber, and
// waits for the open to finish or ctx to end. If ctx ends first, Open
// returns at once and the goroutine closes the grabber and exits as soon
// as the blocking open returns (OpenCV bounds it, 30 s for streams).
func startAsync(ctx context.Context, src source, opts Options, open openFunc) (*asyncCamera, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("camera %s: open: %w", src.name, err)
	}
	c := &asyncCamera{
		src:     src,
		timeout: opts.Timeout,
		log:     opts.Logger,
		reqs:    make(chan struct{}),
		results: make(chan grabResult, 1),
		quit:    make(chan struct{}),
		done:    make(chan struct{}),
		sem:     make(chan struct{}, 1),
	}
	opened := make(chan error, 1)
	go c.run(open, opened)
	select {
	case err := <-opened:
		if err != nil {
			<-c.done // it returns right after reporting a failed open
			return nil, err
		}
		return c, nil
	case <-ctx.Done():
		c.stop()
		return nil, fmt.Errorf("camera %s: open: %w", src.name, ctx.Err())
	}
}

func (c *asyncCamera) run(open openFunc, opened chan<- error) {
	defer close(c.done)
	// One OS thread for every OpenCV call on this capture: some backends
	// keep per-thread state.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	g, err := open()
	if err != nil {
		opened <- err
		return
	}
	opened <- nil
	defer func() { c.closeErr = g.close() }()
	for {
		select {
		case <-c.quit:
			return
		case <-c.reqs:
			img, err := g.grab()
			c.results <- grabResult{img: img, time: time.Now(), err: err}
		}
	}
}

func (c *asyncCamera) Read(ctx context.Context) (Frame, error) {
	if ctx.Err() != nil {
		return Frame{}, c.ctxErr(ctx)
	}
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return Frame{}, c.ctxErr(ctx)
	case <-c.quit:
		return Frame{}, ErrClosed
	}
	defer func() { <-c.sem }()
	select {
	case <-c.quit:
		return Frame{}, ErrClosed
	default:
	}
	if !c.pending {
		select {
		case c.reqs <- struct{}{}:
			c.pending = true
		case <-c.quit:
			return Frame{}, ErrClosed
		case <-ctx.Done():
			return Frame{}, c.ctxErr(ctx)
		}
	}
	timer := time.NewTimer(c.timeout)
	defer timer.Stop()
	select {
	case r := <-c.results:
		c.pending = false
		if r.err != nil {
			return Frame{}, r.err
		}
		c.seq++
		return Frame{Image: r.img, Seq: c.seq, Time: r.time}, nil
	case <-timer.C:
		return Frame{}, &timeoutError{src: c.src, d: c.timeout}
	case <-ctx.Done():
		return Frame{}, c.ctxErr(ctx)
	case <-c.quit:
		return Frame{}, ErrClosed
	}
}

func (c *asyncCamera) ctxErr(ctx context.Context) error {
	return fmt.Errorf("camera %s: read: %w", c.src.name, ctx.Err())
}

// Close stops the goroutine and waits for it; it closes the capture
// after its last call returns. If a read is blocked on a hung device,
// Close waits for OpenCV to give up on it.
func (c *asyncCamera) Close() error {
	c.stop()
	<-c.done
	return c.closeErr
}

func (c *asyncCamera) stop() { c.stopped.Do(func() { close(c.quit) }) }

// timeoutError is Read's error when no frame came in time.
type timeoutError struct {
	src source
	d   time.Duration
}

func (e *timeoutError) Error() string {
	var hint string
	switch e.src.kind {
	case kindDevice:
		hint = "check the cable, another program using it (fuser /dev/video" + strconv.Itoa(e.src.index) + "), or lower --fps"
	case kindURL:
		hint = "check that the stream is up and reachable from this machine (try it with ffplay), or raise the camera timeout"
	default:
		hint = "the file may be on a slow or stalled disk, or its decoder hung"
	}
	return fmt.Sprintf("camera %s gave no frame in %s: %s", e.src.name, e.d, hint)
}

func (e *timeoutError) Is(target error) bool { return target == ErrTimeout }

// Timeout reports true, like net.Error.
func (e *timeoutError) Timeout() bool { return true }
