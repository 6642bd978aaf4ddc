// Package feetech speaks the Feetech STS servo bus of SO-100/SO-101 arms
// (protocol 0, little-endian): packets (AppendFrame, ScanFrame), the
// STS3215 control table as typed constants (Register: PresentPosition,
// GoalPosition, TorqueEnable…), and a Bus that pings, reads and writes
// servos, one at a time or all at once with SYNC_READ and SYNC_WRITE, over
// any serial.Port: a USB adapter or the simulator's pseudo-terminal.
//
// A Bus runs one transaction at a time and may be shared by goroutines.
// Before each instruction it drops stale input; it then waits for each
// status packet with the port's read timeout, in slices of a few
// milliseconds so that a cancelled context is noticed, resynchronising on
// FF FF past garbage and past the echo of its own instruction (adapters
// without direction control echo it). A timeout, a damaged reply or a
// reply from the wrong servo is retried (Options.Retries); a failing port
// is not (ErrPortGone).
//
// Errors say which servo and what to check, and match sentinels with
// errors.Is: ErrNoStatus, ErrCorrupt, ErrWrongID, ErrPortClosed,
// ErrPortGone, ErrInvalidArgument. A servo that answers with error bits
// set (overload, overheat, voltage...) still sends valid data: the read
// calls return the data together with a *ServoError, which callers find
// with errors.As; it matches ErrOverload and the other bit sentinels with
// errors.Is.
//
//	p, err := serial.Open("/dev/ttyACM0", serial.Config{})
//	if err != nil { return err }
//	bus := feetech.NewBus(p, feetech.Options{})
//	defer bus.Close()
//	ids := []byte{1, 2, 3, 4, 5, 6}
//	pos, err := bus.SyncReadReg(ctx, feetech.PresentPosition, ids)
//	var se *feetech.ServoError
//	if err != nil && !errors.As(err, &se) { return err }
//	err = bus.SyncWriteReg(ctx, feetech.GoalPosition, ids, pos)
//
// Scan finds the servos on a port at every baud rate.
package feetech
