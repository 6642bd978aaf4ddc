package arm_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pilotkit/pilot/robot/arm"
	"github.com/pilotkit/pilot/robot/feetech"
	"github.com/pilotkit/pilot/robot/sim"
)

// exampleCal is a calibration of the simulated SO-101: no homing offsets,
// ±90° on the joints, the gripper from closed to fully open.
func exampleCal() arm.Calibration {
	cal := arm.Calibration{}
	for _, j := range arm.SO101() {
		c := arm.JointCal{ID: int(j.ID), RangeMin: arm.Center - 1024, RangeMax: arm.Center + 1024}
		switch {
		case j.Gripper:
			c.RangeMin, c.RangeMax = sim.GripperEncoder(0), sim.GripperEncoder(1)
		case j.FullTurn:
			c.RangeMin, c.RangeMax = 0, arm.Resolution-1
		}
		cal[j.Name] = c
	}
	return cal
}

// Open the arm on the simulator, move a joint and read it back. The
// simulator runs in the process in simulated time (its Port and Clock):
// the arm's sleeps advance the physics. On hardware the bus is
// feetech.NewBus(serial.Open("/dev/ttyACM0", ...)) and the clock the wall.
func ExampleOpen() {
	s, err := sim.New(sim.Options{})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	ctx := context.Background()
	bus := feetech.NewBus(s.Port(), feetech.Options{Timeout: 10 * time.Millisecond})
	a, err := arm.Open(ctx, bus, exampleCal(), arm.Options{
		Clock:            s.Clock(),
		Watchdog:         -1,   // the watchdog needs the wall clock
		WriteCalibration: true, // the simulator's servos start uncalibrated
	})
	if err != nil {
		panic(err)
	}
	st, err := a.Read(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Printf("elbow_flex at %.1f°\n", st.Pos[2])

	goal := append([]float64(nil), st.Pos...)
	goal[2] = 30 // degrees; each command moves it at most 10° (MaxRelativeTarget)
	for range 20 {
		if _, err := a.Step(ctx, goal); err != nil {
			panic(err)
		}
		if err := a.Clock().Sleep(ctx, 20*time.Millisecond); err != nil {
			panic(err)
		}
	}
	st, err = a.Read(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Printf("elbow_flex at %.1f°\n", st.Pos[2])
	fmt.Println("close:", a.Close()) // nil: every servo read back torque off
	// Output:
	// elbow_flex at 0.0°
	// elbow_flex at 30.0°
	// close: <nil>
}

// Close reads torque back from every servo; one that does not confirm it
// (here the simulator loses every torque-off to the gripper) is named in a
// *arm.TorqueError: tell the person to unplug the servos' power.
func ExampleTorqueError() {
	s, err := sim.New(sim.Options{})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	ctx := context.Background()
	bus := feetech.NewBus(s.Port(), feetech.Options{Timeout: 10 * time.Millisecond})
	a, err := arm.Open(ctx, bus, exampleCal(), arm.Options{Clock: s.Clock(), Watchdog: -1, WriteCalibration: true})
	if err != nil {
		panic(err)
	}
	if err := s.SetFaults(sim.Faults{KeepTorque: []byte{6}}); err != nil {
		panic(err)
	}

	err = a.Close()
	var te *arm.TorqueError
	if errors.As(err, &te) {
		fmt.Println("torque may still be on:", te.IDs, te.Joints)
		fmt.Println(err)
	}
	// Output:
	// torque may still be on: [6] [gripper]
	// arm: torque may still be ON on servo 6 (gripper): Torque_Enable did not read back 0 after 3 attempts (servo 6 reads Torque_Enable = 1): keep clear of the arm and unplug the servos' power supply
}
