package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/pilotkit/pilot/evals/htmlreport"
)

func newReportCmd() *cobra.Command {
	var out, title string
	cmd := &cobra.Command{
		Use:   "report RUNDIR...",
		Short: "Write one static HTML report of one or more runs",
		Long: `Write the report of the runs (run directories of pilot eval) as one HTML
file that opens offline in a browser: the table, success with its 95%
interval per run, the reward and step-latency distributions, pass^k curves,
cost per success, errors by kind, what failures missed, and every episode
with a link to its trajectory. Charts are SVG, in the file.`,
		Example: `  pilot report runs/shop-test-20261203-120000
  pilot report runs/expert runs/nn --out compare.html`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			runs, err := htmlreport.Load(cmd.Context(), args)
			if err != nil {
				return err
			}
			wd, err := os.Getwd()
			if err != nil {
				return err
			}
			abs, err := filepath.Abs(out)
			if err != nil {
				return err
			}
			base, err := filepath.Rel(filepath.Dir(abs), wd)
			if err != nil || base == "." {
				base = ""
			}
			f, err := os.Create(out)
			if err != nil {
				return err
			}
			if err := htmlreport.Write(f, runs, htmlreport.Options{Title: title, LinkBase: base}); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (%d runs)\n", out, len(runs))
			return err
		},
	}
	cmd.Flags().StringVar(&out, "out", "report.html", "write the report to `FILE`")
	cmd.Flags().StringVar(&title, "title", "", "the page's title (default: the suites and policies)")
	return cmd
}
