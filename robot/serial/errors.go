package serial

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"syscall"

	bugst "go.bug.st/serial"
)

// Errors of Open, matched with errors.Is. The error returned wraps one of
// them and the operating system's cause, and its message names the path
// and what to do.
var (
	// ErrPermission: the user may not open the device.
	ErrPermission = errors.New("permission denied")
	// ErrBusy: another program holds the port.
	ErrBusy = errors.New("port in use")
	// ErrNotFound: no device at that path.
	ErrNotFound = errors.New("no such port")
)

// portCoder is go.bug.st/serial's *PortError (and a test double of it).
type portCoder interface {
	error
	Code() bugst.PortErrorCode
}

// classifyOpenError turns an error of opening path into an error that wraps
// ErrPermission, ErrBusy or ErrNotFound where it is one of them, with a
// message saying what to do. list is called only for ErrNotFound, to name
// the ports that do exist.
func classifyOpenError(path string, cfg Config, err error, list func() ([]PortInfo, error)) error {
	var pc portCoder
	isCode := func(c bugst.PortErrorCode) bool { return errors.As(err, &pc) && pc.Code() == c }
	switch {
	case errors.Is(err, syscall.EBUSY) || isCode(bugst.PortBusy):
		return fmt.Errorf("serial: cannot open %s: %w: another program holds it "+
			"(a LeRobot script, a serial monitor, ModemManager); close it and retry "+
			"(`fuser -v %s` shows which): %w", path, ErrBusy, path, err)
	case errors.Is(err, fs.ErrPermission) || isCode(bugst.PermissionDenied):
		return fmt.Errorf("serial: cannot open %s: %w: add your user to the dialout group "+
			"with `sudo usermod -aG dialout $USER` and log out and in again "+
			"(a chmod on the device is lost when it is plugged in again): %w", path, ErrPermission, err)
	case errors.Is(err, fs.ErrNotExist) || isCode(bugst.PortNotFound):
		return fmt.Errorf("serial: cannot open %s: %w: %s: %w", path, ErrNotFound, existingPorts(list), err)
	case isCode(bugst.InvalidSerialPort):
		return fmt.Errorf("serial: cannot open %s: not a serial port, or its settings were refused: %w", path, err)
	case isCode(bugst.InvalidSpeed):
		return fmt.Errorf("serial: cannot open %s at %d baud: the adapter refuses that speed: %w", path, cfg.Baud, err)
	}
	return fmt.Errorf("serial: cannot open %s at %d baud: %w", path, cfg.Baud, err)
}

// existingPorts says which ports exist, for the ErrNotFound message.
func existingPorts(list func() ([]PortInfo, error)) string {
	ports, err := list()
	if len(ports) == 0 {
		msg := "no serial ports exist: check the USB cable (a charge-only cable has no data lines) and that the board is powered"
		if err != nil {
			msg += fmt.Sprintf(" (listing ports failed: %v)", err)
		}
		return msg
	}
	names := make([]string, len(ports))
	for i, p := range ports {
		names[i] = p.Path
		if p.Hint != "" {
			names[i] += " (" + p.Hint + ")"
		}
	}
	return "the ports that exist are " + strings.Join(names, ", ")
}
