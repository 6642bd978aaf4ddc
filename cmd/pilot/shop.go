package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/pilotkit/pilot/env/shop"
)

func newShopCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "shop",
		Short: "Serve pilot's WebShop-style store and list its tasks",
		Long: `The shop is a WebShop-style store for agents: a catalog generated from a
seed, search, item pages, checkout, and shopping tasks with a reward.
See docs/shop.md.`,
		Args: commandArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newShopServeCmd(), newShopTasksCmd())
	return cmd
}

// shopFlags are the flags that choose a store.
type shopFlags struct {
	seed     int64
	products int
}

func (f *shopFlags) register(fs *pflag.FlagSet) {
	fs.Int64Var(&f.seed, "seed", 1, "seed of the catalog and the tasks")
	fs.IntVar(&f.products, "products", shop.DefaultProducts, "number of products in the catalog")
}

func (f *shopFlags) validate() error {
	if f.products < 1 || f.products > shop.MaxProducts {
		return usagef("--products %d: want 1 to %d", f.products, shop.MaxProducts)
	}
	return nil
}

func newShopServeCmd() *cobra.Command {
	var f shopFlags
	var addr string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the store over HTTP until interrupted",
		Long: `Serve the store over HTTP until Ctrl-C: the pages at /s/{session}/ and the
JSON API (POST /api/episodes {"task_id": "…"}, GET /api/episodes/{id},
GET /api/tasks?split=test).

The store has no authentication and its task API reveals each task's goal:
keep it on a loopback address (the default) unless the network is yours.`,
		Example: `  pilot shop serve
  pilot shop serve --addr 127.0.0.1:9000 --seed 7 --products 100000`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.validate(); err != nil {
				return err
			}
			if _, _, err := net.SplitHostPort(addr); err != nil {
				return usagef("--addr %q: want host:port, such as 127.0.0.1:8080", addr)
			}
			return serveShop(cmd.Context(), addr, f, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f.register(cmd.Flags())
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "listen on `HOST:PORT` (port 0 picks a free one)")
	return cmd
}

// serveShop builds the store and serves it on addr until ctx ends.
func serveShop(ctx context.Context, addr string, f shopFlags, stdout, stderr io.Writer) error {
	log := slog.New(slog.NewTextHandler(stderr, nil))
	t0 := time.Now()
	store, err := shop.NewStore(shop.StoreOptions{Seed: f.seed, Products: f.products, Logger: log})
	if err != nil {
		return err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("serve the shop: %w", err)
	}
	srv := &http.Server{Handler: store, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "pilot shop: serving %d products (seed %d, built in %s) at http://%s/\n",
		store.Catalog().Len(), f.seed, time.Since(t0).Round(time.Millisecond), ln.Addr())
	if host, _, _ := net.SplitHostPort(ln.Addr().String()); !net.ParseIP(host).IsLoopback() {
		log.Warn("pilot shop: listening beyond this machine: the store has no authentication and its task API reveals the goals", "addr", ln.Addr().String())
	}
	select {
	case err := <-served:
		return fmt.Errorf("serve the shop: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	if serr := <-served; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	if err != nil {
		return fmt.Errorf("stop serving the shop: %w", err)
	}
	fmt.Fprintln(stdout, "pilot shop: stopped")
	return nil
}

func newShopTasksCmd() *cobra.Command {
	var f shopFlags
	var split string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "tasks",
		Short: "Print the tasks of a split",
		Long: `Print the shop's tasks of a split (train, dev or test): one line per task,
"id  instruction", or with --json an array of tasks with their goals.
The tasks depend on --seed and --products: use the values the store runs with.`,
		Example: `  pilot shop tasks --split test
  pilot shop tasks --split dev --seed 7 --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.validate(); err != nil {
				return err
			}
			if !slices.Contains(shop.SplitNames(), split) {
				return usagef("--split %q: want train, dev or test", split)
			}
			c := shop.NewCatalog(f.seed, f.products)
			tasks, err := shop.NewTaskSet(c, f.seed).Split(split)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetEscapeHTML(false)
				enc.SetIndent("", "  ")
				return enc.Encode(tasks)
			}
			for _, t := range tasks {
				if _, err := fmt.Fprintf(out, "%s  %s\n", t.ID, t.Instruction); err != nil {
					return err
				}
			}
			return nil
		},
	}
	f.register(cmd.Flags())
	cmd.Flags().StringVar(&split, "split", "test", "the split: train, dev or test")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array of the tasks, goals included")
	return cmd
}
