package main

import (
	"fmt"
	"io"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fluxgate/fluxgate/fleet"
)

// Set at build time with -ldflags "-X main.version=... -X main.commit=...".
var (
	version = "dev"
	commit  = "none"
)

func newVersionCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the version and the Kubernetes and Flux APIs fluxgate knows",
		Example: "  fluxgate version",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintf(stdout, "fluxgate %s (commit %s)\n", version, commit)
			deps := map[string]string{}
			if bi, ok := debug.ReadBuildInfo(); ok {
				for _, d := range bi.Deps {
					deps[d.Path] = d.Version
				}
			}
			fmt.Fprintf(stdout, "kubernetes api: %s\n", deps["k8s.io/api"])
			fmt.Fprintf(stdout, "kustomize: %s\n", deps["sigs.k8s.io/kustomize/api"])
			var lines []string
			for _, gk := range fleet.FluxKinds() {
				lines = append(lines, fmt.Sprintf("  %s %s: %s", gk[0], gk[1], strings.Join(fleet.FluxVersions(gk[0], gk[1]), ", ")))
			}
			sort.Strings(lines)
			fmt.Fprintln(stdout, "flux apis:")
			fmt.Fprintln(stdout, strings.Join(lines, "\n"))
			return nil
		},
	}
}
