// Command fleetgen writes a synthetic Flux fleet for benchmarks and prints
// the number of files written.
//
//	go run ./bench/fleetgen -out /tmp/fleet -clusters 10 -kustomizations 20 -objects 12 -seed 1
//	go run ./bench/fleetgen -out /tmp/fleet -clusters 10 -kustomizations 49 -objects 8 -helmreleases 1 -secrets 1 -crds 2
//
// With -units it prints the number of units fluxgate renders for the
// fleet (fleetgen.UnitCount) and writes nothing.
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
	fs.IntVar(&c.HelmReleases, "helmreleases", 0, "HelmReleases per app base, from the local chart charts/app")
	fs.IntVar(&c.Secrets, "secrets", 0, "SOPS-encrypted (age) Secrets per app base")
	fs.IntVar(&c.CRDs, "crds", 0, fmt.Sprintf("CustomResourceDefinitions (at most %d), with one custom resource of each per app base", fleetgen.MaxCRDs))
	units := fs.Bool("units", false, "print the number of units fluxgate renders for the fleet instead of generating it (-out not needed)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *units && fs.NArg() == 0 {
		if err := c.Validate(); err != nil {
			fmt.Fprintf(stderr, "fleetgen: %v\n", err)
			return 2
		}
		fmt.Fprintln(stdout, fleetgen.UnitCount(c))
		return 0
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
