//go:build linux

package serial

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// holdPortEnv names the port a child test process opens and holds until
// its stdin closes (see TestMain).
const holdPortEnv = "PILOT_SERIAL_TEST_HOLD_PORT"

// TestMain runs the tests, or, in a child started by
// TestOpenRefusesPortHeldByAnotherProcess, holds a port open: it prints
// "held" once the port is open and closes it when stdin closes.
func TestMain(m *testing.M) {
	if path := os.Getenv(holdPortEnv); path != "" {
		p, err := Open(path, Config{})
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("held")
		io.Copy(io.Discard, os.Stdin)
		p.Close()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// A port held by another process is refused with "port in use" and what
// to do, and opens once that process has let go. As root too: root passes
// the TIOCEXCL check, the lock still refuses it.
func TestOpenRefusesPortHeldByAnotherProcess(t *testing.T) {
	_, path := openPTY(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), holdPortEnv+"="+path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(out).ReadString('\n')
		line <- s
	}()
	select {
	case s := <-line:
		if strings.TrimSpace(s) != "held" {
			t.Fatalf("the child holding %s said %q, want held", path, s)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("the child did not open %s within 60 s", path)
	}

	_, err = Open(path, Config{})
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("Open(%s) held by process %d = %v, want ErrBusy", path, cmd.Process.Pid, err)
	}
	for _, want := range []string{"cannot open " + path + ": port in use", "another process", "fuser -v " + path} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Open(%s) error %q does not say %q", path, err, want)
		}
	}

	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the child holding %s: %v", path, err)
	}
	p, err := Open(path, Config{})
	if err != nil {
		t.Fatalf("Open(%s) after the other process closed it = %v, want it free", path, err)
	}
	p.Close()
}
