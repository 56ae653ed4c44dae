package main

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/validate/catalog"
)

// Set at build time with -ldflags "-X main.version=... -X main.commit=...".
var (
	version = "dev"
	commit  = "none"
)

// versionInfo is what `version -o json` prints.
type versionInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	KubeAPI   string `json:"kubernetesApi"`
	Kustomize string `json:"kustomize"`
	// Schemas are the Kubernetes versions with embedded schemas, newest
	// first: what --kubernetes-version accepts.
	Schemas []string            `json:"kubernetesSchemas"`
	Flux    map[string][]string `json:"fluxApis"` // "group/Kind" -> versions, newest first
}

func newVersionCmd(stdout io.Writer) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version and the Kubernetes and Flux APIs fluxgate knows",
		Example: `  fluxgate version
  fluxgate version -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			info := versionInfo{Version: version, Commit: commit, Schemas: catalog.KubernetesVersions(), Flux: map[string][]string{}}
			if bi, ok := debug.ReadBuildInfo(); ok {
				for _, d := range bi.Deps {
					switch d.Path {
					case "k8s.io/api":
						info.KubeAPI = d.Version
					case "sigs.k8s.io/kustomize/api":
						info.Kustomize = d.Version
					}
				}
			}
			for _, gk := range fleet.FluxKinds() {
				info.Flux[gk[0]+"/"+gk[1]] = fleet.FluxVersions(gk[0], gk[1])
			}
			switch output {
			case "json":
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(info)
			case "", "text":
			default:
				return fmt.Errorf("--output %q: want text or json", output)
			}
			fmt.Fprintf(stdout, "fluxgate %s (commit %s)\n", info.Version, info.Commit)
			fmt.Fprintf(stdout, "kubernetes api: %s\n", info.KubeAPI)
			fmt.Fprintf(stdout, "kubernetes schemas: %s\n", strings.Join(info.Schemas, ", "))
			fmt.Fprintf(stdout, "kustomize: %s\n", info.Kustomize)
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
	cmd.Flags().StringVarP(&output, "output", "o", "text", "text or json")
	return cmd
}
