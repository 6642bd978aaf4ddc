//go:build linux

package serial

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	bugst "go.bug.st/serial"
	"golang.org/x/sys/unix"
)

// openPTY returns the master of a new pseudo-terminal, made pollable so
// that deadlines and Close interrupt its reads, and the path of its slave
// (closed: the test opens it with Open).
func openPTY(t *testing.T) (*os.File, string) {
	t.Helper()
	m, s, err := pty.Open()
	if err != nil {
		t.Fatalf("pty.Open: %v", err)
	}
	path := s.Name()
	if err := s.Close(); err != nil {
		t.Fatalf("close pty slave: %v", err)
	}
	// pty.Open leaves the master in blocking mode (it calls Fd), where
	// Close cannot interrupt a Read: re-open it as a non-blocking file.
	fd, err := unix.FcntlInt(m.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("dup pty master: %v", err)
	}
	m.Close()
	if err := unix.SetNonblock(fd, true); err != nil {
		t.Fatalf("set pty master non-blocking: %v", err)
	}
	master := os.NewFile(uintptr(fd), "/dev/ptmx")
	t.Cleanup(func() { master.Close() })
	return master, path
}

// readN reads exactly n bytes from r within a generous deadline.
func readN(t *testing.T, r func([]byte) (int, error), n int) []byte {
	t.Helper()
	got := make([]byte, 0, n)
	buf := make([]byte, n)
	deadline := time.Now().Add(5 * time.Second)
	for len(got) < n && time.Now().Before(deadline) {
		k, err := r(buf[:n-len(got)])
		got = append(got, buf[:k]...)
		if err != nil {
			t.Fatalf("read after %d of %d bytes: %v", len(got), n, err)
		}
	}
	if len(got) < n {
		t.Fatalf("read %d of %d bytes before the deadline: % X", len(got), n, got)
	}
	return got
}

func TestOpenExchangesBytesWithPTY(t *testing.T) {
	master, path := openPTY(t)
	p, err := Open(path, Config{})
	if err != nil {
		t.Fatalf("Open(%s) = %v", path, err)
	}
	defer p.Close()

	// Every byte value, both ways: a raw line passes them untouched.
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	if _, err := master.Write(all); err != nil {
		t.Fatalf("master write: %v", err)
	}
	if got := readN(t, p.Read, len(all)); !bytes.Equal(got, all) {
		t.Errorf("port read = % X, want % X", got, all)
	}

	reply := []byte{0xFF, 0xFF, 0x01, 0x04, 0x00, 0x00, 0x08, 0xF2, '\n', '\r', 0x03, 0x11, 0x13}
	if _, err := p.Write(reply); err != nil {
		t.Fatalf("port write: %v", err)
	}
	master.SetReadDeadline(time.Now().Add(5 * time.Second))
	if got := readN(t, master.Read, len(reply)); !bytes.Equal(got, reply) {
		t.Errorf("master read = % X, want % X", got, reply)
	}
}

func TestOpenConfiguresLine(t *testing.T) {
	tests := []struct {
		baud     int
		wantBaud uint32
	}{
		{0, 1_000_000},
		{1_000_000, 1_000_000},
		{115200, 115200},
		{500_000, 500_000},
		{128_000, 128_000}, // not a termios constant: set with BOTHER
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.baud), func(t *testing.T) {
			_, path := openPTY(t)
			p, err := Open(path, Config{Baud: tt.baud})
			if err != nil {
				t.Fatalf("Open(%s, %d) = %v", path, tt.baud, err)
			}
			defer p.Close()
			// Look at the line from a second descriptor of the same
			// terminal (root ignores the exclusive lock).
			fd, err := unix.Open(path, unix.O_RDWR|unix.O_NOCTTY, 0)
			if err != nil {
				t.Skipf("cannot open %s a second time to inspect it: %v", path, err)
			}
			defer unix.Close(fd)
			tio, err := unix.IoctlGetTermios(fd, unix.TCGETS2)
			if err != nil {
				t.Fatalf("TCGETS2: %v", err)
			}
			if tio.Ospeed != tt.wantBaud {
				t.Errorf("Open(baud %d): line speed = %d, want %d", tt.baud, tio.Ospeed, tt.wantBaud)
			}
			if got := tio.Cflag & unix.CSIZE; got != unix.CS8 {
				t.Errorf("Open(baud %d): character size flags = %#o, want CS8 %#o", tt.baud, got, unix.CS8)
			}
			if got := tio.Cflag & (unix.PARENB | unix.CSTOPB); got != 0 {
				t.Errorf("Open(baud %d): parity/stop flags = %#o, want 0 (no parity, one stop bit)", tt.baud, got)
			}
			if got := tio.Lflag & (unix.ICANON | unix.ECHO); got != 0 {
				t.Errorf("Open(baud %d): local flags = %#o, want raw (no ICANON, no ECHO)", tt.baud, got)
			}
		})
	}
}

func TestReadTimeoutReturnsZeroNil(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		set     time.Duration // 0: keep the Config's
		atLeast time.Duration
	}{
		{"default 100ms", Config{}, 0, DefaultReadTimeout},
		{"config 30ms", Config{ReadTimeout: 30 * time.Millisecond}, 0, 30 * time.Millisecond},
		{"SetReadTimeout 20ms", Config{}, 20 * time.Millisecond, 20 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, path := openPTY(t)
			p, err := Open(path, tt.cfg)
			if err != nil {
				t.Fatalf("Open(%s) = %v", path, err)
			}
			defer p.Close()
			if tt.set != 0 {
				if err := p.SetReadTimeout(tt.set); err != nil {
					t.Fatalf("SetReadTimeout(%v) = %v", tt.set, err)
				}
			}
			start := time.Now()
			n, err := p.Read(make([]byte, 16))
			took := time.Since(start)
			if n != 0 || err != nil {
				t.Errorf("Read on a silent line = %d, %v, want 0, nil", n, err)
			}
			// A lower bound only: a loaded machine may take longer.
			if took < tt.atLeast-time.Millisecond {
				t.Errorf("Read returned after %v, want at least %v", took, tt.atLeast)
			}
		})
	}
}

func TestNegativeReadTimeoutWaitsForData(t *testing.T) {
	master, path := openPTY(t)
	p, err := Open(path, Config{ReadTimeout: -1})
	if err != nil {
		t.Fatalf("Open(%s, ReadTimeout -1) = %v", path, err)
	}
	defer p.Close()
	// go.bug.st/serial accepts only -1; every negative value means forever.
	if err := p.SetReadTimeout(-time.Second); err != nil {
		t.Fatalf("SetReadTimeout(-1s) = %v, want nil", err)
	}
	if _, err := master.Write([]byte{0x42}); err != nil {
		t.Fatal(err)
	}
	if got := readN(t, p.Read, 1); got[0] != 0x42 {
		t.Errorf("Read = % X, want 42", got)
	}
}

func TestOpenPortResetInputBuffer(t *testing.T) {
	master, path := openPTY(t)
	p, err := Open(path, Config{ReadTimeout: 20 * time.Millisecond})
	if err != nil {
		t.Fatalf("Open(%s) = %v", path, err)
	}
	defer p.Close()
	if _, err := master.Write([]byte("stale")); err != nil {
		t.Fatal(err)
	}
	// Reading one byte proves the stale bytes arrived; the other four wait
	// in the input buffer for the flush to drop them.
	readN(t, p.Read, 1)
	if err := p.ResetInputBuffer(); err != nil {
		t.Fatalf("ResetInputBuffer() = %v", err)
	}
	if _, err := master.Write([]byte{0x7E}); err != nil {
		t.Fatal(err)
	}
	if got := readN(t, p.Read, 1); got[0] != 0x7E {
		t.Errorf("Read after ResetInputBuffer = % X, want 7E (the stale \"tale\" dropped)", got)
	}
}

func TestOpenNotFound(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ttyACM9")
	_, err := Open(path, Config{})
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("Open(%s) = %v, want ErrNotFound", path, err)
	}
	msg := err.Error()
	if !strings.Contains(msg, path+": no such port") {
		t.Errorf("Open(%s) error %q does not say no such port for the path", path, msg)
	}
	ports, _ := List()
	want := []string{"no serial ports exist", "cable"}
	if len(ports) > 0 {
		want = want[:0]
		for _, p := range ports {
			want = append(want, p.Path)
		}
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("Open(%s) error %q does not contain %q", path, msg, w)
		}
	}
}

func TestOpenPermissionDenied(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores file permissions; TestClassifyOpenError covers EACCES")
	}
	path := filepath.Join(t.TempDir(), "ttyLocked")
	if err := os.WriteFile(path, nil, 0o000); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path, Config{})
	if !errors.Is(err, ErrPermission) {
		t.Fatalf("Open(%s) = %v, want ErrPermission", path, err)
	}
	for _, w := range []string{path, "dialout", "sudo usermod -aG dialout $USER"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("Open(%s) error %q does not contain %q", path, err, w)
		}
	}
}

func TestOpenBusy(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores the exclusive lock; TestClassifyOpenError covers EBUSY")
	}
	_, path := openPTY(t)
	p, err := Open(path, Config{})
	if err != nil {
		t.Fatalf("Open(%s) = %v", path, err)
	}
	defer p.Close()
	_, err = Open(path, Config{})
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("second Open(%s) = %v, want ErrBusy", path, err)
	}
}

func TestOpenNotATTY(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plain-file")
	if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path, Config{})
	if err == nil {
		t.Fatalf("Open(%s) on a regular file = nil, want an error", path)
	}
	for _, sentinel := range []error{ErrNotFound, ErrBusy, ErrPermission} {
		if errors.Is(err, sentinel) {
			t.Errorf("Open(%s) = %v, matches %v, want none of the sentinels", path, err, sentinel)
		}
	}
	if !strings.Contains(err.Error(), "not a serial port") || !strings.Contains(err.Error(), path) {
		t.Errorf("Open(%s) = %q, want it to name the path and say not a serial port", path, err)
	}
}

func TestOpenNegativeBaud(t *testing.T) {
	_, path := openPTY(t)
	if p, err := Open(path, Config{Baud: -9600}); err == nil {
		p.Close()
		t.Fatalf("Open(%s, baud -9600) = nil error, want one", path)
	}
}

// fakePortError stands for go.bug.st/serial's *PortError, whose code
// cannot be set from outside its package.
type fakePortError bugst.PortErrorCode

func (e fakePortError) Error() string             { return fmt.Sprintf("port error %d", int(e)) }
func (e fakePortError) Code() bugst.PortErrorCode { return bugst.PortErrorCode(e) }

func TestClassifyOpenError(t *testing.T) {
	const path = "/dev/ttyACM0"
	noPorts := func() ([]PortInfo, error) { return nil, nil }
	twoPorts := func() ([]PortInfo, error) {
		return []PortInfo{
			{Path: "/dev/ttyACM1", USB: true, VID: "1a86", PID: "55d3", Hint: AdapterHint("1a86", "55d3")},
			{Path: "/dev/ttyUSB0"},
		}, nil
	}
	tests := []struct {
		name     string
		err      error
		list     func() ([]PortInfo, error)
		want     error // nil: none of the sentinels
		contains []string
	}{
		{"EACCES", syscall.EACCES, noPorts, ErrPermission, []string{path, "dialout", "sudo usermod -aG dialout $USER", "log out"}},
		{"EPERM", syscall.EPERM, noPorts, ErrPermission, []string{path, "dialout"}},
		{"wrapped EACCES", &os.PathError{Op: "open", Path: path, Err: syscall.EACCES}, noPorts, ErrPermission, []string{"dialout"}},
		{"PermissionDenied", fakePortError(bugst.PermissionDenied), noPorts, ErrPermission, []string{path, "dialout"}},
		{"EBUSY", syscall.EBUSY, noPorts, ErrBusy, []string{path, "another program", "LeRobot"}},
		{"PortBusy", &bugst.PortError{}, noPorts, ErrBusy, []string{path, "another program"}}, // the zero code is PortBusy
		{"ENOENT none", syscall.ENOENT, noPorts, ErrNotFound, []string{path, "no serial ports exist", "cable"}},
		{"ENOENT some", syscall.ENOENT, twoPorts, ErrNotFound, []string{path, "/dev/ttyACM1 (CH343", "/dev/ttyUSB0"}},
		{"PortNotFound", fakePortError(bugst.PortNotFound), twoPorts, ErrNotFound, []string{"/dev/ttyACM1", "/dev/ttyUSB0"}},
		{"list fails", syscall.ENOENT, func() ([]PortInfo, error) { return nil, errors.New("no /dev") }, ErrNotFound, []string{"no serial ports exist", "no /dev"}},
		{"InvalidSerialPort", fakePortError(bugst.InvalidSerialPort), noPorts, nil, []string{path, "not a serial port"}},
		{"InvalidSpeed", fakePortError(bugst.InvalidSpeed), noPorts, nil, []string{path, "1000000 baud", "refuses"}},
		{"EIO", syscall.EIO, noPorts, nil, []string{path, "input/output error"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := classifyOpenError(path, Config{Baud: 1_000_000}, tt.err, tt.list)
			for _, s := range []error{ErrPermission, ErrBusy, ErrNotFound} {
				if is, want := errors.Is(got, s), s == tt.want; is != want {
					t.Errorf("classifyOpenError(%v) = %v: errors.Is(%v) = %v, want %v", tt.err, got, s, is, want)
				}
			}
			if !errors.Is(got, tt.err) {
				t.Errorf("classifyOpenError(%v) = %v, does not wrap the cause", tt.err, got)
			}
			for _, c := range tt.contains {
				if !strings.Contains(got.Error(), c) {
					t.Errorf("classifyOpenError(%v) = %q, want it to contain %q", tt.err, got, c)
				}
			}
			if strings.Contains(got.Error(), "chmod 666") {
				t.Errorf("classifyOpenError(%v) = %q suggests chmod 666", tt.err, got)
			}
		})
	}
}

func TestOpenReadAfterCloseFails(t *testing.T) {
	_, path := openPTY(t)
	p, err := Open(path, Config{})
	if err != nil {
		t.Fatalf("Open(%s) = %v", path, err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	if n, err := p.Read(make([]byte, 4)); err == nil {
		t.Errorf("Read after Close = %d, nil, want an error", n)
	}
}

// A second open of a port in use is refused, with what to do, until the
// first closes it; root's opens too (TIOCEXCL alone lets root through).
func TestOpenRefusesPortInUse(t *testing.T) {
	_, path := openPTY(t)
	p, err := Open(path, Config{})
	if err != nil {
		t.Fatalf("Open(%s) = %v", path, err)
	}
	_, err = Open(path, Config{})
	if !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), "port in use") || !strings.Contains(err.Error(), path) {
		t.Fatalf("second Open(%s) = %v, want ErrBusy saying the port is in use", path, err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	q, err := Open(path, Config{})
	if err != nil {
		t.Fatalf("Open(%s) after Close = %v, want the port free again", path, err)
	}
	q.Close()
}
