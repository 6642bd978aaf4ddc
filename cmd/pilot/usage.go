package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// usageError is a mistake in the command line: an unknown command or flag,
// a wrong argument, an invalid flag value. pilot exits 2 on it and points
// to --help.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usagef returns a usageError with the formatted message.
func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// flagError is cobra's FlagErrorFunc: a flag that does not parse is a
// usage error.
func flagError(_ *cobra.Command, err error) error {
	return &usageError{err}
}

// commandArgs is the root's Args validator: any argument is an unknown
// command.
func commandArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	}
	return &usageError{fmt.Errorf("%s", msg)}
}

// noArgs is the Args validator of commands that take only flags.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s takes no arguments, got %q: use flags", cmd.CommandPath(), args[0])
	}
	return nil
}

// usageArgs makes the Args validators of c and its subcommands, cobra's own
// (completion) included, return usage errors.
func usageArgs(c *cobra.Command) {
	if valid := c.Args; valid != nil {
		c.Args = func(cmd *cobra.Command, args []string) error {
			err := valid(cmd, args)
			if err != nil && !errors.As(err, new(*usageError)) {
				return &usageError{err}
			}
			return err
		}
	}
	for _, sub := range c.Commands() {
		usageArgs(sub)
	}
}
