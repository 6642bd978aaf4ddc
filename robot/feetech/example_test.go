package feetech_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pilotkit/pilot/robot/feetech"
	"github.com/pilotkit/pilot/robot/serial"
	"github.com/pilotkit/pilot/robot/sim"
)

// The servo bus on the simulator, over a real pseudo-terminal: the same
// bytes a USB adapter carries to an SO-101 (`pilot robot sim` serves one
// for another process; a real arm is serial.Open("/dev/ttyACM0", ...)).
func ExampleBus() {
	s, err := sim.New(sim.Options{})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	ctx := context.Background()
	pty, err := s.ServePTY(ctx)
	if err != nil {
		panic(err)
	}
	defer pty.Close()
	port, err := serial.Open(pty.Path(), serial.Config{})
	if err != nil {
		panic(err)
	}
	// The simulator shares this machine's CPUs: patient reply timeouts.
	bus := feetech.NewBus(port, feetech.Options{Timeout: 250 * time.Millisecond, Retries: 15})
	defer bus.Close()

	fmt.Println("ping servo 1:", bus.Ping(ctx, 1))
	pos, err := bus.ReadReg(ctx, 1, feetech.PresentPosition)
	fmt.Println("servo 1 at", pos, err)

	ids := []byte{1, 2, 3, 4, 5, 6}
	all, err := bus.SyncReadReg(ctx, feetech.PresentPosition, ids)
	var se *feetech.ServoError // status bits (overload, overheat...): the data is still good
	if err != nil && !errors.As(err, &se) {
		panic(err)
	}
	fmt.Println("all six:", all)
	// Output:
	// ping servo 1: <nil>
	// servo 1 at 2048 <nil>
	// all six: [2048 2048 2048 2048 2048 2162]
}

// A register named on a command line is looked up; code uses the
// constants, which a typo does not compile.
func ExampleLookupReg() {
	r, err := feetech.LookupReg("Present_Position")
	fmt.Println(r == feetech.PresentPosition, r.Addr(), r.Size(), err)
	_, err = feetech.LookupReg("Present_Possition")
	fmt.Println(err)
	// Output:
	// true 56 2 <nil>
	// feetech: no register "Present_Possition" in the STS3215 control table (see feetech.Registers)
}
