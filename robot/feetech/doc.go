// Package feetech speaks the Feetech STS servo bus of SO-100/SO-101 arms
// (protocol 0, little-endian): packets (AppendFrame, ScanFrame), the
// STS3215 control table as typed constants (Register: PresentPosition,
// GoalPosition, TorqueEnable…), and a Bus that pings, reads and writes
// servos, one at a time or all at once with SYNC_READ and SYNC_WRITE, over
// any serial.Port: a USB adapter or the simulator's pseudo-terminal.
//
// A Bus drops stale input before each instruction, resynchronises on
// FF FF past garbage and the echo of its own instruction, and retries a
// timeout, a damaged reply or a reply from the wrong servo
// (Options.Retries), but not a failing port (ErrPortGone). Errors name the
// servo and what to check, and match ErrNoStatus, ErrCorrupt, ErrWrongID,
// ErrPortClosed, ErrPortGone or ErrInvalidArgument with errors.Is; error
// bits in a status come with valid data, as a *ServoError.
//
// Scan finds the servos on a port at every baud rate; ExampleBus opens a
// bus on the simulator.
package feetech
