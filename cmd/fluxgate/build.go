package main

import (
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/render"
	"github.com/fluxgate/fluxgate/render/cache"
	"github.com/fluxgate/fluxgate/render/sops"
)

// buildOptions are the flags that shape how units are built, shared by
// every command that renders.
type buildOptions struct {
	allowRemoteBases bool
	enableHelm       bool
	enableExec       bool
	offline          bool
	cacheDir         string
	noUnitCache      bool
	quiet            bool
	secrets          secretOptions

	// dec is the decryptor of the keys the flags and the environment
	// give, read by check.
	dec     *sops.Decryptor
	checked bool
}

func addBuildFlags(cmd *cobra.Command, o *buildOptions, showSecrets bool) {
	f := cmd.Flags()
	f.BoolVar(&o.allowRemoteBases, "allow-remote-bases", false, "let kustomizations load remote bases over the network")
	f.BoolVar(&o.enableHelm, "enable-helm", false, "run kustomize helmCharts generators with the helm command (Flux does not)")
	f.BoolVar(&o.enableExec, "enable-exec", false, "run kustomize exec KRM functions (Flux does not)")
	f.BoolVar(&o.offline, "offline", false, "render HelmReleases from the chart cache only; an uncached remote chart is a chart-unavailable finding")
	f.StringVar(&o.cacheDir, "cache-dir", "", "cache directory; charts go to its charts/, rendered units to its units/, parsed files to its parsed (default $XDG_CACHE_HOME/fluxgate)")
	f.BoolVar(&o.noUnitCache, "no-unit-cache", false, "parse every file and render every unit; neither read nor write the parsed files and rendered units of the cache directory")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "show no progress on stderr (progress is shown on a terminal, and as a line every few seconds in GitHub Actions)")
	addSecretFlags(cmd, &o.secrets, showSecrets)
}

// check refuses build flag values that cannot be right, before anything
// is read: a --cache-dir fluxgate cannot write to, decryption keys that
// cannot be read or are not keys.
func (o *buildOptions) check() error {
	if o.checked {
		return nil
	}
	if o.cacheDir != "" {
		if err := checkWritableDir("cache-dir", o.cacheDir, 0o700); err != nil {
			return err
		}
	}
	dec, err := o.secrets.decryptor()
	if err != nil {
		return err
	}
	o.dec, o.checked = dec, true
	return nil
}

// renderOptions turns the flags into render options for the repository at
// abs.
func (o *buildOptions) renderOptions(abs string, paths []string, workers int, kubernetesVersion string) (render.Options, error) {
	if err := o.check(); err != nil {
		return render.Options{}, err
	}
	ropts := render.Options{
		Dir: abs, Paths: paths, Workers: workers, Decryptor: o.dec,
		AllowRemoteBases: o.allowRemoteBases, EnableHelm: o.enableHelm, EnableExec: o.enableExec,
		Offline: o.offline, KubernetesVersion: kubernetesVersion,
	}
	if o.cacheDir != "" {
		ropts.CacheDir = filepath.Join(o.cacheDir, "charts")
	}
	if root := o.cacheRoot(); root != "" && !o.noUnitCache {
		ropts.UnitCacheDir = filepath.Join(root, "units")
	}
	return ropts, nil
}

// cacheRoot is --cache-dir, by default the user's cache directory's
// fluxgate, or "" when there is none.
func (o *buildOptions) cacheRoot() string {
	if o.cacheDir != "" {
		return o.cacheDir
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "fluxgate")
	}
	return ""
}

// parseCache is the cache of parsed files the loads share: kept in the
// cache directory across runs unless --no-unit-cache.
func (o *buildOptions) parseCache() *fleet.ParseCache {
	if root := o.cacheRoot(); root != "" && !o.noUnitCache {
		return fleet.OpenParseCache(filepath.Join(root, "parsed"), cache.BuildStamp())
	}
	return fleet.NewParseCache()
}
