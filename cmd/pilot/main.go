// Command pilot runs agents in environments: one episode, on a page or a
// registered suite's task (pilot run); a suite's episodes in parallel with
// the table of results (pilot eval, which stores and resumes runs); the
// stored runs (pilot runs ls, show, export, compare, merge) and their HTML
// report (pilot report) and viewer (pilot view); the registered suites (pilot suites);
// training of small policies (pilot train); the shop alone (pilot shop);
// the arm and its simulator (pilot robot); a check of what the machine has
// (pilot doctor) and the build's version (pilot version). The suites come
// from evals/suites; this package holds flags and output only.
//
// Exit codes: 0 success, 1 an error while running, 2 bad usage (an unknown
// command or flag, a wrong argument, an invalid flag value).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// version is the release, set at build time with
// -ldflags "-X main.version=v1.2.3"; "dev" falls back to the build info.
var version = "dev"

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first signal cancels the episode and pilot closes the browser; a
	// second one, with the default behaviour back, kills pilot at once.
	context.AfterFunc(ctx, stop)
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run runs the pilot command line args and returns the exit code. Commands
// write their output to stdout; errors and hints go to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runIO(ctx, args, os.Stdin, stdout, stderr)
}

// runIO is run with the input given: interactive commands (pilot robot
// calibrate) read it.
func runIO(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	// Progress lines, log records and a served store's warnings reach
	// stderr from many goroutines: one write at a time.
	stderr = &lockedWriter{w: stderr}
	root := newRootCmd(stdout, stderr)
	root.SetIn(stdin)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "pilot: %v\n", err)
	if errors.As(err, new(*usageError)) {
		fmt.Fprintf(stderr, "run '%s --help' for usage\n", cmd.CommandPath())
		return exitUsage
	}
	return exitError
}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "pilot",
		Short: "pilot drives a browser or a robot with an agent",
		Long: `pilot drives a browser or a robot with an agent: observe, choose an
action, act, repeat, under budgets of steps and time; every step can be
recorded.

Exit codes: 0 success, 1 an error while running, 2 bad usage.`,
		Version:       versionString(),
		Args:          commandArgs,
		RunE:          func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
		SilenceUsage:  true,
		SilenceErrors: true,
		// Suggest run for rn: cobra's default, which SuggestionsFor needs set.
		SuggestionsMinimumDistance: 2,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(flagError)
	root.SetVersionTemplate("pilot {{.Version}}\n")
	// --version without cobra's -v, which pilot run uses for --verbose.
	root.Flags().Bool("version", false, "print pilot's version")
	root.AddCommand(newRunCmd(), newEvalCmd(), newRunsCmd(), newReportCmd(), newViewCmd(), newServeCmd(), newSuitesCmd(), newShopCmd(), newRobotCmd(), newTrainCmd(), newVersionCmd(), newDoctorCmd(), newExportCmd())
	root.InitDefaultCompletionCmd()
	usageArgs(root)
	return root
}
