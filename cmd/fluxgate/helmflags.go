package main

import (
	"github.com/spf13/cobra"

	"github.com/fluxgate/fluxgate/render"
)

// helmOptions are the flags that control how HelmReleases are rendered.
type helmOptions struct {
	offline  bool
	cacheDir string
}

// addHelmFlags registers the HelmRelease flags on cmd.
func addHelmFlags(cmd *cobra.Command, o *helmOptions) {
	f := cmd.Flags()
	f.BoolVar(&o.offline, "offline", false, "render HelmReleases from the chart cache only; an uncached remote chart is a chart-unavailable finding")
	f.StringVar(&o.cacheDir, "chart-cache-dir", "", "directory of the Helm chart cache (default $XDG_CACHE_HOME/fluxgate/charts)")
}

// apply sets the HelmRelease fields of render options; kubernetesVersion
// is the --kubernetes-version flag (empty means render's default).
func (o *helmOptions) apply(ropts *render.Options, kubernetesVersion string) {
	ropts.Offline = o.offline
	ropts.CacheDir = o.cacheDir
	ropts.KubernetesVersion = kubernetesVersion
}
