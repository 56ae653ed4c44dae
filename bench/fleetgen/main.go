// Command fleetgen writes a synthetic Flux fleet for benchmarks and prints
// the number of files written.
//
//	go run ./bench/fleetgen -out /tmp/fleet -clusters 10 -kustomizations 20 -objects 12 -seed 1
//
// The layout is described in package internal/fleetgen.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/fluxgate/fluxgate/internal/fleetgen"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run parses args, generates the fleet and returns the exit code:
// 0 on success, 2 on a usage or generation error.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fleetgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "output directory (created if missing; must be empty)")
	var c fleetgen.Config
	fs.IntVar(&c.Clusters, "clusters", 3, "number of clusters")
	fs.IntVar(&c.Kustomizations, "kustomizations", 5, "Flux Kustomizations per cluster")
	fs.IntVar(&c.Objects, "objects", 8, "Kubernetes objects per Kustomization path")
	fs.Int64Var(&c.Seed, "seed", 1, "seed for names and values")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *out == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "fleetgen: -out is required and no positional arguments are accepted")
		fs.Usage()
		return 2
	}
	n, err := fleetgen.Generate(*out, c)
	if err != nil {
		fmt.Fprintf(stderr, "fleetgen: %v\n", err)
		return 2
	}
	fmt.Fprintln(stdout, n)
	return 0
}
