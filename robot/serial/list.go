package serial

import (
	"fmt"
	"sort"
	"strings"

	bugst "go.bug.st/serial"
	"go.bug.st/serial/enumerator"
)

// PortInfo describes a serial port found by List.
type PortInfo struct {
	Path         string // e.g. /dev/ttyACM0
	USB          bool   // a USB-serial adapter
	VID, PID     string // USB vendor and product id, lower-case hex ("1a86", "55d3")
	SerialNumber string // USB serial number, when the adapter has one
	Product      string // USB product string, when the adapter has one
	Hint         string // what the adapter probably is, from AdapterHint
}

// List returns the serial ports of the machine, sorted by path, with USB
// details where the system has them. It returns the ports it found even
// when it also returns an error (the USB details could not be read).
func List() ([]PortInfo, error) {
	names, err := bugst.GetPortsList()
	if err != nil {
		return nil, fmt.Errorf("serial: cannot list serial ports: %w", err)
	}
	details, derr := enumerator.GetDetailedPortsList()
	byName := make(map[string]*enumerator.PortDetails, len(details))
	for _, d := range details {
		if d != nil && d.Name != "" {
			byName[d.Name] = d
		}
	}
	ports := make([]PortInfo, 0, len(names))
	for _, name := range names {
		p := PortInfo{Path: name}
		if d := byName[name]; d != nil && d.IsUSB {
			p.USB = true
			p.VID = strings.ToLower(d.VID)
			p.PID = strings.ToLower(d.PID)
			p.SerialNumber = d.SerialNumber
			p.Product = d.Product
			p.Hint = AdapterHint(p.VID, p.PID)
		}
		ports = append(ports, p)
	}
	sort.Slice(ports, func(i, j int) bool { return ports[i].Path < ports[j].Path })
	if derr != nil {
		return ports, fmt.Errorf("serial: listed %d ports but cannot read their USB details: %w", len(ports), derr)
	}
	return ports, nil
}

// AdapterHint names a common USB-serial adapter by its USB vendor and
// product id (hex, any case, with or without a 0x prefix), or returns ""
// for an unknown one.
func AdapterHint(vid, pid string) string {
	norm := func(s string) string {
		s = strings.ToLower(strings.TrimSpace(s))
		return strings.TrimPrefix(s, "0x")
	}
	switch norm(vid) + ":" + norm(pid) {
	case "1a86:7523":
		return "CH340 USB-serial adapter"
	case "1a86:55d3", "1a86:55d4":
		return "CH343/CH9102 USB-serial adapter (the Waveshare/Feetech bus servo board of SO-100/SO-101 kits)"
	case "0403:6001", "0403:6010", "0403:6014", "0403:6015":
		return "FTDI USB-serial adapter"
	case "10c4:ea60", "10c4:ea70":
		return "CP210x USB-serial adapter"
	}
	return ""
}
