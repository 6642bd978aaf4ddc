package web

import (
	"context"
	"sync"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
)

// pageState follows a tab's navigation and network events, so that Step
// can tell when the page has settled from the browser's own signals rather
// than by sleeping. It is fed from chromedp's event loop (which must not
// block) and read by the stepping goroutine.
type pageState struct {
	mu       sync.Mutex
	changed  chan struct{} // closed and replaced on every change
	navSeq   int           // main-frame commits, cross- and same-document
	loadSeq  int           // main-frame load events
	aborts   int           // navigations refused by the allowlist guard
	frameSeq int           // commits in child frames
	loading  map[string]bool
	inflight map[string]bool
	// drag is the data of the last drag the browser handed pilot
	// (Input.setInterceptDrags), dragSeq counts them.
	drag    *input.DragData
	dragSeq int
}

func newPageState() *pageState {
	return &pageState{changed: make(chan struct{}), loading: map[string]bool{}, inflight: map[string]bool{}}
}

// onEvent runs on chromedp's reader goroutine: it must be quick.
func (s *pageState) onEvent(ev any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch ev := ev.(type) {
	case *page.EventFrameStartedLoading:
		s.loading[string(ev.FrameID)] = true
	case *page.EventFrameStoppedLoading:
		delete(s.loading, string(ev.FrameID))
	case *page.EventFrameNavigated:
		if ev.Frame != nil && ev.Frame.ParentID == "" {
			s.navSeq++
			// Requests of the old document no longer matter.
			clear(s.inflight)
		} else {
			s.frameSeq++
		}
	case *page.EventNavigatedWithinDocument:
		s.navSeq++
	case *page.EventLoadEventFired:
		s.loadSeq++
	case *network.EventRequestWillBeSent:
		switch ev.Type {
		case network.ResourceTypeWebSocket, network.ResourceTypeEventSource, network.ResourceTypePing, network.ResourceTypeMedia:
			return
		}
		if ev.RedirectResponse == nil {
			s.inflight[string(ev.RequestID)] = true
		}
	case *network.EventLoadingFinished:
		delete(s.inflight, string(ev.RequestID))
	case *network.EventLoadingFailed:
		delete(s.inflight, string(ev.RequestID))
	case *input.EventDragIntercepted:
		s.drag = ev.Data
		s.dragSeq++
	case *network.EventRequestServedFromCache:
		// loadingFinished follows.
		return
	default:
		return
	}
	close(s.changed)
	s.changed = make(chan struct{})
}

// noteAbort records a navigation that the guard refused: a step waiting
// for it stops waiting.
func (s *pageState) noteAbort() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.aborts++
	close(s.changed)
	s.changed = make(chan struct{})
}

type pageSnapshot struct {
	dragSeq                 int
	navSeq, loadSeq, aborts int
	frameSeq                int
	loading                 bool
	inflight                int
}

func (s *pageState) snapshot() (pageSnapshot, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return pageSnapshot{dragSeq: s.dragSeq, navSeq: s.navSeq, loadSeq: s.loadSeq, aborts: s.aborts, frameSeq: s.frameSeq, loading: len(s.loading) > 0, inflight: len(s.inflight)}, s.changed
}

// waitFor blocks until cond holds, ctx ends or the deadline passes; it
// reports whether cond held.
func (s *pageState) waitFor(ctx context.Context, deadline time.Time, cond func(pageSnapshot) bool) (bool, error) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		snap, changed := s.snapshot()
		if cond(snap) {
			return true, nil
		}
		d := time.Until(deadline)
		if d <= 0 {
			return false, nil
		}
		if timer == nil {
			timer = time.NewTimer(d)
		}
		select {
		case <-changed:
		case <-timer.C:
			return cond(snap), nil
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
}

// lastDrag returns the data of the last intercepted drag.
func (s *pageState) lastDrag() *input.DragData {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.drag
}
