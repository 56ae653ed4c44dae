package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/render"
	"github.com/fluxgate/fluxgate/report"
	"github.com/fluxgate/fluxgate/workspace"
)

type renderOptions struct {
	load        workspace.Options
	paths       []string
	outputDir   string
	output      string
	build       buildOptions
	kubeVersion string
	shard       string
}

func newRenderCmd(stdout, stderr io.Writer) *cobra.Command {
	o := &renderOptions{}
	cmd := &cobra.Command{
		Use:   "render [DIR]",
		Short: "Print every object Flux would apply, unit by unit",
		Long: `render follows the Flux graph from each cluster entry point (or the --path
given): every Flux Kustomization is built the way kustomize-controller builds
it, including the Kustomizations its output declares. Problems are printed to
stderr with file and line; the exit code is 1 when any is an error, 2 when
nothing was found to render. A directory with neither a Flux Kustomization
nor a kustomization.yaml renders as plain manifests: one unit per directory
holding Kubernetes objects, each object as written.`,
		Example: `  # Everything Flux would apply to the production cluster
  fluxgate render --path clusters/production

  # One file per unit, for review or archiving
  fluxgate render --output-dir rendered/

  # The main branch as committed, whatever the work tree holds
  fluxgate render --ref origin/main

  # Machine-readable, with origins and input hashes
  fluxgate render -o json | jq '.units[].id'

  # Shard 1 of 3: only that shard's clusters (with fewer than 3 clusters,
  # only its units, built with their parents)
  fluxgate render --shard 1/3 --output-dir rendered/`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRender(cmd, dirArg(args), o, stdout, stderr)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.paths, "path", nil, "cluster entry point to render, relative to DIR (repeatable; default: every entry point)")
	f.StringVar(&o.outputDir, "output-dir", "", "write one file per unit under this directory instead of stdout")
	f.StringVarP(&o.output, "output", "o", "yaml", "stdout format: yaml or json")
	f.StringVar(&o.kubeVersion, "kubernetes-version", "", "Kubernetes version HelmReleases are templated for, e.g. 1.36 (default: the newest embedded)")
	f.StringVar(&o.shard, "shard", "", "render only shard i of n, as i/n (clusters, or with fewer clusters than shards units, split by size, the same way on every runner; shard 1 also prints repository problems)")
	addLoadFlags(cmd, &o.load)
	addBuildFlags(cmd, &o.build, true)
	return cmd
}

func runRender(cmd *cobra.Command, dir string, o *renderOptions, stdout, stderr io.Writer) error {
	if o.output != "yaml" && o.output != "json" {
		return fmt.Errorf("--output %q: want yaml or json", o.output)
	}
	if o.outputDir != "" && o.output != "yaml" {
		return fmt.Errorf("--output %q: --output-dir writes YAML files; give one of the two", o.output)
	}
	shard, err := parseShardFlag(o.shard)
	if err != nil {
		return err
	}
	if err := checkRenderFlags(o.load, &o.build, o.kubeVersion); err != nil {
		return err
	}
	if o.outputDir != "" {
		if err := checkWritableDir("output-dir", o.outputDir, 0o755); err != nil {
			return err
		}
	}
	ctx := cmd.Context()
	o.load.Parsed = o.build.parseCache()
	abs, repo, cleanup, err := workspace.Load(ctx, dir, o.load)
	if err != nil {
		return err
	}
	defer cleanup()
	if err := workspace.CheckPaths(repo, o.paths, dir); err != nil {
		return err
	}
	sources, err := workspace.CheckSources(o.load.Sources, dir, repo)
	if err != nil {
		return err
	}
	ropts, err := o.build.renderOptions(abs, o.paths, o.load.Workers, o.kubeVersion)
	if err != nil {
		return err
	}
	ropts.Shard, ropts.SkipForeign = shard, true
	if p := progressFor(stderr, o.build.quiet, "render"); p != nil {
		ropts.Progress = p.Unit
		defer p.Done()
	}
	res, err := render.Render(ctx, repo, ropts)
	if err != nil {
		return err
	}
	if err := sources.CheckRendered(res); err != nil {
		return err
	}
	repoProblems := repo.Problems
	if shard.Sharded() {
		describeShard(stderr, res)
		res = ownUnits(res)
		if !shard.OwnsRepository() {
			repoProblems = nil
		}
	}
	if !o.build.secrets.showSecrets || !isTerminal(stdout) {
		redactSecrets(res)
	}
	switch {
	case o.outputDir != "":
		err = report.RenderDir(o.outputDir, res)
	case o.output == "json":
		err = report.RenderJSON(stdout, res)
	default:
		err = report.RenderYAML(stdout, res)
	}
	if err != nil {
		return err
	}
	problems := append(append([]fleet.Problem(nil), repoProblems...), res.Problems()...)
	if errs := printProblems(stderr, problems, false); errs > 0 {
		return &findingsError{n: errs}
	}
	return nothingRendered("rendered", dir, repo, res)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
