//go:build ignore

// estimate writes pilot's token estimate of each observation file of a
// directory next to it (NAME.est), for scripts/peer/count-tokens.mjs.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pilotkit/pilot/env"
)

func main() {
	files, err := filepath.Glob(filepath.Join(os.Args[1], "*.txt"))
	if err != nil || len(files) == 0 {
		fmt.Fprintln(os.Stderr, "estimate: no observation files in", os.Args[1])
		os.Exit(1)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintln(os.Stderr, "estimate:", err)
			os.Exit(1)
		}
		est := strings.TrimSuffix(f, ".txt") + ".est"
		if err := os.WriteFile(est, []byte(strconv.Itoa(env.EstimateTokens(string(b)))), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "estimate:", err)
			os.Exit(1)
		}
	}
}
