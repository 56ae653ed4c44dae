package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/validate/catalog"
)

// Set at build time with -ldflags "-X main.version=... -X main.commit=...
// -X main.date=...". Without them, commit and date come from the VCS
// stamp the go command embeds when it builds in a Git checkout.
var (
	version = "dev"
	commit  = "none"
	date    = "unknown"
)

// versionInfo is what `version -o json` prints.
type versionInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	Date      string `json:"buildDate"`
	GoVersion string `json:"goVersion"`
	KubeAPI   string `json:"kubernetesApi"`
	Kustomize string `json:"kustomize"`
	// Schemas are the Kubernetes versions with embedded schemas, newest
	// first: what --kubernetes-version accepts.
	Schemas []string            `json:"kubernetesSchemas"`
	Flux    map[string][]string `json:"fluxApis"` // "group/Kind" -> versions, newest first
	// Catalog is the embedded ecosystem catalog: its operators, their
	// source modules and the kinds they serve (as `fluxgate catalog`).
	Catalog []catalog.Operator `json:"catalog"`
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
			info := versionInfo{Version: version, Commit: commit, Date: date, GoVersion: runtime.Version(), Schemas: catalog.KubernetesVersions(), Flux: map[string][]string{}, Catalog: catalog.Ecosystem()}
			if bi, ok := debug.ReadBuildInfo(); ok {
				for _, s := range bi.Settings {
					switch {
					case s.Key == "vcs.revision" && info.Commit == "none":
						info.Commit = s.Value
					case s.Key == "vcs.time" && info.Date == "unknown":
						info.Date = s.Value
					}
				}
				if info.Version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
					info.Version = bi.Main.Version // go install MODULE@VERSION
				}
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
			if done, err := writeJSONOutput(output, stdout, info); done || err != nil {
				return err
			}
			fmt.Fprintf(stdout, "fluxgate %s (commit %s, built %s, %s)\n", info.Version, info.Commit, info.Date, info.GoVersion)
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
