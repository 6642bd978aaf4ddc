//go:build !linux

package webtest

// A process is a browser process of this test binary.
type process struct{ pid int }

func (p process) String() string { return "" }

func (p process) kill() {}

// processesUnder finds nothing where there is no /proc to read.
func processesUnder(string) []process { return nil }
