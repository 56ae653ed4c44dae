package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/fluxgate/fluxgate/diff"
	"github.com/fluxgate/fluxgate/internal/ghaction"
	"github.com/fluxgate/fluxgate/render"
	"github.com/fluxgate/fluxgate/report"
	"github.com/fluxgate/fluxgate/workspace"
)

type diffOptions struct {
	load        workspace.Options
	build       buildOptions
	base, head  string
	paths       []string
	outputs     []string
	exitCode    bool
	changedOnly bool
	kubeVersion string
	verbose     bool
	comment     commentOptions
}

func newDiffCmd(stdout, stderr io.Writer) *cobra.Command {
	o := &diffOptions{}
	cmd := &cobra.Command{
		Use:   "diff --base REF [--head REF] [DIR]",
		Short: "Show what a change does to each cluster, object by object",
		Long: `diff renders two revisions of DIR's git repository straight from the object
database (no checkout, no network) and reports, per cluster entry point and
Flux Kustomization or HelmRelease, the objects added, removed, changed and
moved, each with a unified diff of its YAML. Secret values are shown as short
hashes so that a change is visible and the value is not.

Builds whose inputs are the same in both revisions run once. --changed-only
also skips, in both revisions, the units that no changed file can reach.

A unit that could not render in either revision is never left out: it is
listed with "could not render: REASON" in every output, and the exit code is
1 whatever --exit-code says, since the report misses what it changes. One
that fails the same way in both is listed as unchanged and does not change
the exit code (--changed-only leaves it out when the change cannot reach it).

The exit code is 0, or 1 when a unit could not render in one revision, or
fails differently in the two, or, with --exit-code, when anything changed
(like git diff); 2 when diff itself could not run.

-v prints, on stderr, what the render of each revision did: units, builds
run, builds reused from the other revision and units from the unit cache.`,
		Example: `  # What this branch changes, against main
  fluxgate diff --base origin/main

  # In a pull request: one sticky comment, the full report as an artifact
  fluxgate diff --base "$BASE_SHA" --comment -o markdown=fluxgate-diff.md

  # Machine-readable, for one cluster
  fluxgate diff --base main --path clusters/production -o json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDiff(cmd.Context(), dirArg(args), o, stdout, stderr)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.base, "base", "", "the revision compared against: branch, tag or SHA (default: the pull request's base in GitHub Actions)")
	f.StringVar(&o.head, "head", "HEAD", "the revision whose changes are shown")
	f.StringSliceVar(&o.paths, "path", nil, "cluster entry point to compare, relative to DIR (repeatable; default: every entry point)")
	f.StringArrayVarP(&o.outputs, "output", "o", nil, "report format text, json or markdown, to stdout or with =PATH to a file (repeatable; default text)")
	f.BoolVar(&o.exitCode, "exit-code", false, "exit with 1 when anything changed")
	f.BoolVar(&o.changedOnly, "changed-only", false, "render only the units whose inputs changed between the revisions")
	f.StringVar(&o.kubeVersion, "kubernetes-version", "", "Kubernetes version HelmReleases are templated for, e.g. 1.36 (default: the newest embedded)")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "print, on stderr, the units and builds run, reused and taken from the unit cache per revision")
	addReadFlags(cmd, &o.load)
	addBuildFlags(cmd, &o.build, true)
	addCommentFlags(cmd, &o.comment)
	return cmd
}

func runDiff(ctx context.Context, dir string, o *diffOptions, stdout, stderr io.Writer) error {
	outputs, err := parseOutputs(o.outputs, "text", "text", "json", "markdown")
	if err != nil {
		return err
	}
	if err := checkRenderFlags(o.load, &o.build, o.kubeVersion); err != nil {
		return err
	}
	if err := o.comment.check(); err != nil {
		return err
	}
	event, err := ghaction.FromProcess().Event()
	if err != nil {
		return err
	}
	if o.base == "" && event.PullRequest != nil {
		o.base = event.PullRequest.BaseSHA
	}
	if o.base == "" {
		return errors.New("--base is required outside a pull request event")
	}
	if o.comment.enabled {
		if err := o.comment.resolve(event); err != nil {
			return err
		}
	}
	o.load.Parsed = o.build.parseCache()
	p := progressFor(stderr, o.build.quiet, "diff")
	res, err := workspace.RenderRevisions(ctx, dir, workspace.RevisionOptions{
		Load: o.load, Base: o.base, Head: o.head, Paths: o.paths, ChangedOnly: o.changedOnly,
		RenderOptions: func(root string, paths []string) (render.Options, error) {
			ropts, err := o.build.renderOptions(root, paths, o.load.Workers, o.kubeVersion)
			if p != nil {
				ropts.Progress = p.Unit
			}
			return ropts, err
		},
		Rendered: func(ref string, res *render.Result) {
			if o.verbose {
				describeRevision(stderr, ref, res)
			}
		},
	})
	if p != nil {
		p.Done()
	}
	if err != nil {
		return err
	}
	// Secret values only on a terminal, never in a file or a comment.
	showSecrets := o.build.secrets.showSecrets && isTerminal(stdout) && !o.comment.enabled
	var markdownFile string // the full report a truncated comment points to
	for _, out := range outputs {
		if out.path != "" {
			showSecrets = false
		}
		if out.format == "markdown" && out.path != "" {
			markdownFile = out.path
		}
	}
	rep := diff.Compare(res.Base, res.Head, diff.Options{ShowSecrets: showSecrets})
	rep.Base, rep.Head = o.base, o.head
	err = writeOutputs(outputs, stdout, func(w io.Writer, out outputSpec) error {
		switch out.format {
		case "text":
			return report.DiffText(w, rep, out.path == "" && isTerminal(stdout))
		case "json":
			return report.DiffJSON(w, rep)
		}
		_, err := report.DiffMarkdown(w, rep, report.DiffMarkdownOptions{})
		return err
	})
	if err != nil {
		return err
	}
	if o.comment.enabled {
		if err := o.comment.postDiff(ctx, rep, markdownFile, stderr); err != nil {
			return err
		}
	}
	// The report misses what these units change: not a clean diff. A unit
	// failing the same way in both is listed but is not this change's
	// (and --changed-only need not build it).
	n := 0
	for _, u := range rep.Units {
		if u.Unrendered() && !u.Unchanged {
			n++
		}
	}
	if n > 0 {
		return &unrenderedError{units: n}
	}
	if o.exitCode && rep.HasChanges() {
		return &changesError{units: rep.ChangedUnits()}
	}
	return nil
}

// describeRevision tells, on stderr, what the render of one revision did.
func describeRevision(stderr io.Writer, ref string, res *render.Result) {
	skipped := 0
	for _, u := range res.Units {
		if u.Skipped {
			skipped++
		}
	}
	fmt.Fprintf(stderr, "fluxgate: %s: %d units (%d out of the change's reach), %d builds run, %d reused, %d from the unit cache\n",
		ref, len(res.Units), skipped, res.Stats.Built, res.Stats.Reused, res.Stats.Cached)
}
