package main

import (
	"errors"
	"io"

	"github.com/spf13/cobra"

	"github.com/fluxgate/fluxgate/render"
	"github.com/fluxgate/fluxgate/report"
	"github.com/fluxgate/fluxgate/validate"
	"github.com/fluxgate/fluxgate/workspace"
)

type validateOptions struct {
	load              workspace.Options
	paths             []string
	kubernetesVersion string
	strict            bool
	failOn            string
	outputs           []string
	schemaLocations   []string
	shard             string
	skipKinds         []string
	skipRules         []string
	build             buildOptions
}

func newValidateCmd(stdout, stderr io.Writer) *cobra.Command {
	o := &validateOptions{}
	cmd := &cobra.Command{
		Use:   "validate [DIR | -]",
		Short: "Render like Flux, then check every object and the GitOps graph, offline",
		Long: `validate renders the repository as render does, validates every object against
the embedded Kubernetes and Flux schemas (and the CRDs found in the render),
and applies the GitOps rules (see docs/rules.md). Findings point at the source
file and line.

--shard i/n splits a fleet too big for one runner across a CI matrix. With at
least n clusters (entry points), whole clusters are split, by the static size
of their units, and each shard renders and checks its own clusters only; CRDs
come from its render and from every CRD committed in the repository, so a CR
whose CRD only another cluster's render outputs (a chart's, say) is not
checked against it. With fewer clusters than shards, units are split instead
and every shard renders the whole fleet, checking only its units. Shard 1
also reports repository-wide findings. 'fluxgate report merge' combines the
shards' reports into one, equal to an unsharded run's but for those CRDs.

With - as DIR, validate reads a manifest stream from stdin (the output of
kustomize build, flux build or helm template) and checks every document in
it as an object, Flux Kustomizations included; findings name <stdin>.

A directory with neither a Flux Kustomization nor a kustomization.yaml is
checked as plain manifests, file by file, as kubeconform does: every YAML
document with apiVersion and kind is an object (Helm charts and templated
files are left out).

Exit codes: 0 when no finding reaches --fail-on, 1 when one does, 2 when
fluxgate could not run or checked nothing (no unit, no object, or only
objects of kinds without a schema).`,
		Example: `  # The PR check: every cluster, text on the terminal
  fluxgate validate

  # One cluster against Kubernetes 1.36, SARIF for code scanning and JSON
  fluxgate validate --path clusters/production --kubernetes-version 1.36 \
    -o text -o sarif=fluxgate.sarif -o json=fluxgate.json

  # A stream from a pipe
  kustomize build apps/production | fluxgate validate -

  # In GitHub Actions: annotations on the changed lines and a job summary
  fluxgate validate -o github

  # Shard 2 of 4 of a matrix job; merge the four reports afterwards
  fluxgate validate --shard 2/4 -o json=report-2.json
  fluxgate report merge -o sarif=fluxgate.sarif -o text report-*.json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runValidate(cmd, dirArg(args), o, stdout, stderr)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.paths, "path", nil, "cluster entry point to validate, relative to DIR (repeatable; default: every entry point)")
	f.StringVar(&o.kubernetesVersion, "kubernetes-version", "", "Kubernetes version to validate against, e.g. 1.36 (default: the newest embedded)")
	f.BoolVar(&o.strict, "strict", false, "treat kinds without a schema as errors")
	f.StringVar(&o.failOn, "fail-on", "error", "lowest severity that fails the run: error, warning, info or none")
	f.StringArrayVarP(&o.outputs, "output", "o", nil, "output format, optionally to a file: text, pretty, json, junit, sarif, github, or FORMAT=PATH (repeatable; default text)")
	f.StringSliceVar(&o.schemaLocations, "schema-location", nil, "more schemas, as a kubeconform path template (repeatable)")
	f.StringVar(&o.shard, "shard", "", "validate only shard i of n, as i/n: clusters (or, with fewer clusters than shards, units) are split by size, the same way on every runner; shard 1 also reports repository-wide findings; combine the reports with 'fluxgate report merge'")
	f.StringSliceVar(&o.skipKinds, "skip-kinds", nil, "kinds not to schema-check, as Kind or apiVersion/Kind, globs allowed (repeatable or comma-separated); other rules still apply")
	f.StringSliceVar(&o.skipRules, "skip-rules", nil, "rules whose findings are left out, by rule ID (repeatable or comma-separated; see docs/rules.md)")
	addLoadFlags(cmd, &o.load)
	addBuildFlags(cmd, &o.build, false)
	return cmd
}

func runValidate(cmd *cobra.Command, dir string, o *validateOptions, stdout, stderr io.Writer) error {
	outputs, err := parseOutputs(o.outputs, "text", report.Formats()...)
	if err != nil {
		return err
	}
	threshold, err := failRank(o.failOn)
	if err != nil {
		return err
	}
	shard, err := parseShardFlag(o.shard)
	if err != nil {
		return err
	}
	if err := checkRenderFlags(o.load, &o.build, o.kubernetesVersion); err != nil {
		return err
	}
	if err := checkSchemaLocations(o.schemaLocations, o.build.offlineFlag()); err != nil {
		return err
	}
	if err := validate.CheckKubernetesVersion(o.kubernetesVersion); err != nil {
		return err
	}
	if err := validate.CheckSkipKinds(o.skipKinds); err != nil {
		return err
	}
	skipRules, err := validate.SkipRules(o.skipRules)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	stdin := dir == stdinArg
	if stdin {
		if len(o.paths) > 0 || o.shard != "" || len(o.load.Sources) > 0 {
			return errors.New("validate -: --path, --shard and --source need a directory; a stream from stdin is checked whole")
		}
		tmp, cleanup, err := readStdin(cmd.Context(), cmd.InOrStdin(), o.load.MaxFileSize)
		if err != nil {
			return err
		}
		defer cleanup()
		// The stream is a throwaway file: nothing of it goes to the cache.
		dir, o.build.noUnitCache = tmp, true
	}
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
	cfg, err := validate.LoadConfig(repo.FS)
	if err != nil {
		return err
	}
	ropts, err := o.build.renderOptions(abs, o.paths, o.load.Workers, o.kubernetesVersion)
	if err != nil {
		return err
	}
	ropts.Shard, ropts.Plain = shard, stdin
	checker, err := validate.NewChecker(repo, shard, validate.Options{
		KubernetesVersion: o.kubernetesVersion, Strict: o.strict, SchemaLocations: o.schemaLocations,
		Ignore: append(cfg.Ignore, skipRules...), Workers: o.load.Workers,
		SkipKinds: append(o.skipKinds, cfg.SkipKinds...), Severity: cfg.Severity,
		Decryptor: ropts.Decryptor,
	})
	if err != nil {
		return err
	}
	defer checker.Close()
	// Objects kept as JSON take a fraction of the memory, and the checker
	// releases most of them as their unit is built: a fleet's objects are
	// not all held until the end.
	ropts.Compact, ropts.Checked = true, checker.Unit
	p := progressFor(stderr, o.build.quiet, "validate")
	if p != nil {
		ropts.Progress = p.Unit
	}
	res, err := render.Render(ctx, repo, ropts)
	if p != nil {
		p.Done()
	}
	if err != nil {
		return err
	}
	if err := sources.CheckRendered(res); err != nil {
		return err
	}
	if shard.Sharded() {
		describeShard(stderr, res)
	}
	rep, err := checker.Report(ctx, res)
	if err != nil {
		return err
	}
	redactFindings(rep, res)
	var gh report.Options
	if stdin {
		nameStdin(rep)
	} else {
		gh = withPathBase(githubReportOptions(ctx, dir, outputs, stderr), dir, stderr)
	}
	gh.FailOn = o.failOn
	err = emitReports(outputs, rep, threshold, stdout, gh, func(w io.Writer, format string, opts report.Options) error {
		rw, err := report.New(format, opts)
		if err != nil {
			return err
		}
		return rw.Write(w, rep)
	})
	if err != nil {
		return err
	}
	if stdin {
		dir = stdinName
	}
	return nothingChecked(dir, repo, res, rep)
}
