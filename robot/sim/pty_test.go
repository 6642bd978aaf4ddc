package sim

import (
	"context"
	"testing"
	"time"

	"github.com/pilotkit/pilot/robot/feetech"
	"github.com/pilotkit/pilot/robot/serial"
)

// TestPTYCloseFailsClient: closing the PTY is a pulled cable: the client's
// blocked read and its next write fail, nothing hangs.
func TestPTYCloseFailsClient(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	defer s.Close()
	p, err := s.ServePTY(context.Background())
	if err != nil {
		t.Fatalf("ServePTY: %v", err)
	}
	port, err := serial.Open(p.Path(), serial.Config{ReadTimeout: -1}) // reads wait forever
	if err != nil {
		t.Fatalf("serial.Open: %v", err)
	}
	defer port.Close()
	c := &client{tb: t, port: port, realTime: true, start: time.Now(), patience: 3 * time.Second}
	c.ping(1)

	readErr := make(chan error, 1)
	go func() {
		_, err := port.Read(make([]byte, 16))
		readErr <- err
	}()
	if err := p.Close(); err != nil {
		t.Fatalf("PTY.Close: %v", err)
	}
	select {
	case err := <-readErr:
		if err == nil {
			t.Errorf("blocked Read after PTY.Close = nil error, want a failure")
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("blocked Read did not return within 10 s of PTY.Close")
	}
	if _, err := port.Write(feetech.AppendFrame(nil, 1, feetech.InstPing)); err == nil {
		t.Errorf("Write after PTY.Close = nil error, want a failure")
	}
	if err := p.Close(); err != nil {
		t.Errorf("second PTY.Close = %v, want nil", err)
	}
}

// TestPTYContextStops: cancelling ServePTY's context stops serving too.
func TestPTYContextStops(t *testing.T) {
	s, _ := New(Options{})
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	p, err := s.ServePTY(ctx)
	if err != nil {
		t.Fatalf("ServePTY: %v", err)
	}
	defer p.Close()
	port, err := serial.Open(p.Path(), serial.Config{ReadTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatalf("serial.Open: %v", err)
	}
	defer port.Close()
	cancel()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, werr := port.Write(feetech.AppendFrame(nil, 1, feetech.InstPing))
		_, rerr := port.Read(make([]byte, 16))
		if werr != nil || rerr != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the port still works 10 s after the context was cancelled")
		}
	}
}

// TestPTYReopen: a client may close the port and open it again (the
// simulator holds the terminal open between clients), and two PTYs of one
// Sim see the same arm.
func TestPTYReopen(t *testing.T) {
	s, _ := New(Options{})
	defer s.Close()
	c1 := openPTYClient(t, s)
	c1.set(2, feetech.GoalPosition, 1234)
	c1.port.Close()
	c2 := openPTYClient(t, s)
	if got := c2.get(2, feetech.GoalPosition); got != 1234 {
		t.Errorf("Goal_Position through a second PTY = %d, want 1234", got)
	}
	p, err := s.ServePTY(context.Background())
	if err != nil {
		t.Fatalf("ServePTY: %v", err)
	}
	port, err := serial.Open(p.Path(), serial.Config{})
	if err != nil {
		t.Fatalf("serial.Open: %v", err)
	}
	port.Close()
	port, err = serial.Open(p.Path(), serial.Config{})
	if err != nil {
		t.Fatalf("serial.Open after a close: %v", err)
	}
	defer port.Close()
	c3 := &client{tb: t, port: port, realTime: true, start: time.Now(), patience: 3 * time.Second}
	if got := c3.get(2, feetech.GoalPosition); got != 1234 {
		t.Errorf("Goal_Position after reopening = %d, want 1234", got)
	}
	// Sim.Close closes every PTY it serves.
	if err := s.Close(); err != nil {
		t.Fatalf("Sim.Close: %v", err)
	}
	if _, err := port.Write(feetech.AppendFrame(nil, 1, feetech.InstPing)); err == nil {
		if _, err := port.Read(make([]byte, 8)); err == nil {
			t.Errorf("the port still works after Sim.Close")
		}
	}
}

// TestWireTimingIsNeverEarly: with wire timing, an answer cannot come
// before the bytes of the instruction and of the answers have had time on
// the line. At 19200 baud a byte takes 521 µs, so the bound is large next
// to any scheduling noise; only a lower bound is checked.
func TestWireTimingIsNeverEarly(t *testing.T) {
	const baud = 19_200
	s, err := New(Options{WireTiming: true, Baud: baud})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	defer s.Close()
	c := openPTYClient(t, s)
	byteTime := 10 * time.Second / baud
	tests := []struct {
		name  string
		req   []byte
		want  int // statuses
		bytes int // on the wire, instruction and answers
	}{
		{"ping", feetech.AppendFrame(nil, 1, feetech.InstPing), 1, 6 + 6},
		{"sync read of 6 positions", syncReadFrame(regPosition, armIDs), 6, 14 + 6*8},
	}
	for _, tt := range tests {
		start := time.Now()
		if _, err := c.exchange(tt.req, tt.want); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got, min := time.Since(start), time.Duration(tt.bytes)*byteTime; got < min {
			t.Errorf("%s answered in %v, want at least %v of wire time", tt.name, got, min)
		}
	}
	// A sync write followed at once by a ping waits for the line.
	sw := syncWriteFrame(t, regGoal, armIDs, []int{2048, 2048, 2048, 2048, 2048, 2048})
	start := time.Now()
	if _, err := c.exchange(append(sw, feetech.AppendFrame(nil, 1, feetech.InstPing)...), 1); err != nil {
		t.Fatalf("sync write + ping: %v", err)
	}
	if got, min := time.Since(start), time.Duration(len(sw)+12)*byteTime; got < min {
		t.Errorf("sync write + ping answered in %v, want at least %v", got, min)
	}
}

func TestBusModel(t *testing.T) {
	us := time.Microsecond
	b := bus{baud: 1_000_000}
	tests := []struct {
		name string
		do   func() time.Duration
		want time.Duration
	}{
		{"ping arrives at 100 µs: in at 160", func() time.Duration { return b.instruction(100*us, 6) }, 160 * us},
		{"its status, no delay", func() time.Duration { return b.status(0, 6) }, 220 * us},
		{"instruction early: waits for the line", func() time.Duration { return b.instruction(200*us, 14) }, 360 * us},
		{"status after 500 µs of Return_Delay_Time 250", func() time.Duration { return b.status(returnDelay(250), 8) }, 940 * us},
		{"second status of a sync read", func() time.Duration { return b.status(0, 8) }, 1020 * us},
		{"instruction after a quiet line", func() time.Duration { return b.instruction(5000*us, 26) }, 5260 * us},
	}
	for _, tt := range tests {
		if got := tt.do(); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
	slow := bus{baud: 115_200}
	if got, want := slow.bytesTime(88), time.Duration(88*10*int64(time.Second)/115_200); got != want {
		t.Errorf("bytesTime(88) at 115200 = %v, want %v", got, want)
	}
}

func TestWaitUntil(t *testing.T) {
	start := time.Now()
	for _, target := range []time.Duration{0, 50 * time.Microsecond, 700 * time.Microsecond, 3 * time.Millisecond} {
		waitUntil(start, target)
		if got := time.Since(start); got < target {
			t.Errorf("waitUntil(%v) returned at %v", target, got)
		}
	}
}

// TestConcurrentUse: a pty client, an in-process port, the clock and a
// reader of the pose use one Sim at once (run with -race).
func TestConcurrentUse(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	defer s.Close()
	s.setScene(&fakeScene{})
	c := openPTYClient(t, s)
	c.set(1, feetech.TorqueEnable, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		p, clk := s.Port(), s.Clock()
		buf := make([]byte, 64)
		for i := range 200 {
			p.Write(syncWriteFrame(t, regGoal, armIDs[1:2], []int{2048 + i}))
			p.Write(syncReadFrame(regPosition, armIDs))
			p.Read(buf)
			clk.Sleep(context.Background(), time.Millisecond)
			s.Joints()
			s.Encoders()
		}
	}()
	for i := range 200 {
		c.set(1, feetech.GoalPosition, 2048+i)
		if fs, err := c.exchange(syncReadFrame(regPosition, armIDs), 6); err != nil || len(fs) != 6 {
			t.Fatalf("sync read %d: %d statuses, %v", i, len(fs), err)
		}
	}
	<-done
}
