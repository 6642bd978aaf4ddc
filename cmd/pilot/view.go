package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/pilotkit/pilot/evals/viewer"
)

func newViewCmd() *cobra.Command {
	var addr string
	cmd := &cobra.Command{
		Use:   "view RUNDIR",
		Short: "Serve a run's trajectory viewer on 127.0.0.1 until Ctrl-C",
		Long: `Serve a local viewer of a run: its episodes, filtered by outcome, and for
each the steps with the screenshot or camera frame, the observation, the
action, the reward, the model's answer with its usage and attempts, and the
timings. j/k or the arrow keys move between steps. It listens on loopback
only and prints its address.`,
		Example: `  pilot view runs/shop-test-20261203-120000
  pilot view runs/shop-test-20261203-120000 --addr 127.0.0.1:8090`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return usagef("--addr %q: want host:port, such as 127.0.0.1:0", addr)
			}
			if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
				return usagef("--addr %q: the viewer listens on loopback only (127.0.0.1)", addr)
			}
			v, err := viewer.New(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("view: %w", err)
			}
			srv := &http.Server{Handler: v, ReadHeaderTimeout: 5 * time.Second}
			served := make(chan error, 1)
			go func() { served <- srv.Serve(ln) }()
			fmt.Fprintf(cmd.OutOrStdout(), "viewer of %s on http://%s/ (Ctrl-C stops it)\n", args[0], ln.Addr())
			select {
			case err := <-served:
				return err
			case <-cmd.Context().Done():
			}
			sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			if err := srv.Shutdown(sctx); err != nil {
				return err
			}
			if err := <-served; !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:0", "listen on `ADDR` (loopback only; port 0 picks a free one)")
	return cmd
}
