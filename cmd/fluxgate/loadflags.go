package main

import (
	"github.com/spf13/cobra"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/workspace"
)

func addLoadFlags(cmd *cobra.Command, o *workspace.Options) {
	addReadFlags(cmd, o)
	cmd.Flags().StringVar(&o.Ref, "ref", "", "render this git revision (branch, tag, SHA) of DIR's repository instead of the work tree")
}

// addReadFlags adds the load flags other than --ref (diff names its two
// revisions itself).
func addReadFlags(cmd *cobra.Command, o *workspace.Options) {
	f := cmd.Flags()
	f.Int64Var(&o.MaxFileSize, "max-file-size", fleet.DefaultMaxFileSize, "largest YAML file read, in bytes")
	f.StringSliceVar(&o.Sources, "source", nil, "map a source to a directory: KIND/NAMESPACE/NAME=DIR (repeatable)")
	f.IntVar(&o.Workers, "workers", 0, "units rendered in parallel (default GOMAXPROCS, at most 256)")
}

// checkRenderFlags checks, before anything is read, the flags every
// command that renders shares: the load flags, the build flags and
// --kubernetes-version.
func checkRenderFlags(load workspace.Options, build *buildOptions, kubernetesVersion string) error {
	if err := load.Check(); err != nil {
		return err
	}
	if err := checkKubernetesVersion(kubernetesVersion); err != nil {
		return err
	}
	return build.check()
}
