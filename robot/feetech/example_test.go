package feetech_test

import (
	"context"
	"fmt"
	"time"

	"github.com/pilotkit/pilot/robot/feetech"
	"github.com/pilotkit/pilot/robot/sim"
)

// The servo bus on the simulator: the same frames a USB adapter carries,
// through an in-process port (sim.ServePTY serves them on a
// pseudo-terminal, for another process, as `pilot robot sim` does).
func ExampleBus() {
	s, err := sim.New(sim.Options{})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	bus := feetech.NewBus(s.Port(), feetech.Options{Timeout: 50 * time.Millisecond})
	defer bus.Close()
	ctx := context.Background()

	model, err := bus.ReadReg(ctx, 1, feetech.Model)
	fmt.Println(model == feetech.ModelSTS3215, err)
	pos, err := bus.SyncReadReg(ctx, feetech.PresentPosition, []byte{1, 2, 3})
	fmt.Println(pos, err)
	// Output:
	// true <nil>
	// [2048 2048 2048] <nil>
}
