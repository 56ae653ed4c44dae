package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

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
	restrictEgress   bool
	untrusted        bool
	cacheDir         string
	noUnitCache      bool
	quiet            bool
	secrets          secretOptions

	// dec is the decryptor of the keys the flags and the environment
	// give, read by check.
	dec     *sops.Decryptor
	checked bool
	// cmd is the command the flags are on, for check's notices on its
	// stderr.
	cmd *cobra.Command
}

func addBuildFlags(cmd *cobra.Command, o *buildOptions, showSecrets bool) {
	f := cmd.Flags()
	f.BoolVar(&o.allowRemoteBases, "allow-remote-bases", false, "let kustomizations load remote bases over the network")
	f.BoolVar(&o.enableHelm, "enable-helm", false, "run kustomize helmCharts generators with the helm command (Flux does not)")
	f.BoolVar(&o.enableExec, "enable-exec", false, "run kustomize exec KRM functions (Flux does not)")
	f.BoolVar(&o.offline, "offline", false, "render HelmReleases from the chart cache only; an uncached remote chart is a chart-unavailable finding")
	f.BoolVar(&o.restrictEgress, "restrict-egress", false, "let chart fetches reach public addresses only: no loopback, private, link-local or cloud metadata address, whatever a HelmRepository or OCIRepository says")
	f.BoolVar(&o.untrusted, "untrusted", false, "the repository may be hostile (a fork's pull request): implies --offline and --restrict-egress, reads no decryption key, "+
		"refuses --allow-remote-bases, --enable-helm, --enable-exec and --decryption-key-file")
	f.StringVar(&o.cacheDir, "cache-dir", "", "cache directory; charts go to its charts/, rendered units to its units/, parsed files to its parsed (default $XDG_CACHE_HOME/fluxgate)")
	f.BoolVar(&o.noUnitCache, "no-unit-cache", false, "parse every file and render every unit; neither read nor write the parsed files and rendered units of the cache directory")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "show no progress on stderr (progress is shown on a terminal, and as a line every few seconds in GitHub Actions)")
	addSecretFlags(cmd, &o.secrets, showSecrets)
	o.cmd = cmd
}

// check refuses build flag values that cannot be right, before anything
// is read: a --cache-dir fluxgate cannot write to, decryption keys that
// cannot be read or are not keys.
func (o *buildOptions) check() error {
	if o.checked {
		return nil
	}
	if err := o.checkTrust(); err != nil {
		return err
	}
	if o.cacheDir != "" {
		if err := checkWritableDir("cache-dir", o.cacheDir, 0o700); err != nil {
			return err
		}
	}
	if o.untrusted {
		// No key is read, so nothing can be decrypted: a hostile
		// repository cannot have its SOPS files (or ours) decrypted into
		// output or PR comments.
		var ignored []string
		for _, v := range []string{"SOPS_AGE_KEY", "SOPS_AGE_KEY_FILE"} {
			if os.Getenv(v) != "" {
				ignored = append(ignored, v)
			}
		}
		if len(ignored) > 0 && o.cmd != nil {
			fmt.Fprintf(o.cmd.ErrOrStderr(), "fluxgate: --untrusted: %s not read; SOPS files stay encrypted\n", strings.Join(ignored, " and "))
		}
		o.checked = true
		return nil
	}
	dec, err := o.secrets.decryptor()
	if err != nil {
		return err
	}
	o.dec, o.checked = dec, true
	return nil
}

// checkTrust refuses the flags --untrusted and --restrict-egress cannot
// go with, and sets what --untrusted implies.
func (o *buildOptions) checkTrust() error {
	if o.untrusted {
		for _, f := range []struct {
			name string
			on   bool
		}{
			{"allow-remote-bases", o.allowRemoteBases},
			{"enable-helm", o.enableHelm},
			{"enable-exec", o.enableExec},
		} {
			if f.on {
				return &flagError{f.name, "true", "--untrusted runs nothing and fetches nothing the repository asks for"}
			}
		}
		if len(o.secrets.keyFiles) > 0 {
			return &flagError{"decryption-key-file", strings.Join(o.secrets.keyFiles, ","), "--untrusted reads no decryption key"}
		}
		o.offline, o.restrictEgress = true, true
	}
	if o.restrictEgress && o.allowRemoteBases {
		return &flagError{"allow-remote-bases", "true", "kustomize fetches remote bases with git, outside --restrict-egress's guard"}
	}
	return nil
}

// offlineFlag names the flag that keeps the run off the network, "" when
// none does.
func (o *buildOptions) offlineFlag() string {
	switch {
	case o.untrusted:
		return "--untrusted"
	case o.offline:
		return "--offline"
	}
	return ""
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
		Offline: o.offline, RestrictEgress: o.restrictEgress, KubernetesVersion: kubernetesVersion,
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
