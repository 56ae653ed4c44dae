package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/imageupdate"
	"github.com/fluxgate/fluxgate/internal/egress"
	"github.com/fluxgate/fluxgate/internal/registry"
	"github.com/fluxgate/fluxgate/workspace"
)

type imageUpdateOptions struct {
	load        workspace.Options
	dryRun      bool
	outputs     []string
	automations []string
	branch      string
	gitURL      string
	gitUser     string
	labels      []string
	forge       forgeOptions
	perRegistry int
	// restrictEgress keeps registry requests to public addresses.
	restrictEgress bool
}

func newImageUpdateCmd(stdout, stderr io.Writer) *cobra.Command {
	o := &imageUpdateOptions{}
	cmd := &cobra.Command{
		Use:   "image-update [DIR]",
		Short: "Run Flux image automation from CI and open one pull request per automation",
		Long: `image-update reads the ImageRepository, ImagePolicy and ImageUpdateAutomation
objects in DIR's repository (no cluster needed), lists each repository's tags,
selects the newest allowed tag per policy exactly as image-reflector-controller
does, and rewrites the fields marked with {"$imagepolicy": "NAMESPACE:NAME"}
setter comments under each automation's spec.update.path, changing nothing
else in those files.

Each automation's changes become one commit, written with its author and
messageTemplate on top of its checkout branch, pushed to its push branch
(spec.git.push.branch, --branch, or fluxgate/image-update/NAMESPACE/NAME when
Flux would push to the checkout branch itself), and one pull request that lists
every bump. A re-run without new tags changes nothing; newer tags update the
same branch and pull request; a commit by anyone else on the branch stops the
automation with an error rather than being overwritten.

Registry credentials come from the Docker config (DOCKER_CONFIG) and, for
ghcr.io, GITHUB_TOKEN. The repository is cloned over HTTPS with
FLUXGATE_GIT_TOKEN, else the forge token (GITHUB_TOKEN, or GITEA_TOKEN for
Gitea).

--dry-run lists the planned edits of the work tree, as a unified diff or JSON,
and touches nothing: no clone, no push, no pull request.`,
		Example: `  # What would change, against the work tree
  fluxgate image-update --dry-run

  # Machine-readable plan
  fluxgate image-update --dry-run -o json

  # In a scheduled workflow (GITHUB_TOKEN with contents and pull-requests write)
  fluxgate image-update --label dependencies`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runImageUpdate(cmd.Context(), dirArg(args), o, stdout, stderr)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.dryRun, "dry-run", false, "print the planned edits of the work tree and change nothing")
	f.StringArrayVarP(&o.outputs, "output", "o", nil, "the changes as diff or json (with the pull requests), to stdout or with =PATH to a file (repeatable; default: diff with --dry-run, else none)")
	f.StringSliceVar(&o.automations, "automation", nil, "run only this ImageUpdateAutomation, NAMESPACE/NAME (repeatable; default all)")
	f.StringVar(&o.branch, "branch", "", "push branch for every automation, instead of spec.git.push.branch")
	f.StringVar(&o.gitURL, "git-url", "", "HTTPS URL to clone and push (default: the GitRepository's URL; for this repository $GITHUB_SERVER_URL/$GITHUB_REPOSITORY or the origin remote)")
	f.StringVar(&o.gitUser, "git-username", "x-access-token", "user name sent with the token over HTTPS")
	f.StringSliceVar(&o.labels, "label", nil, "label for new pull requests (repeatable)")
	addForgeFlags(cmd, &o.forge, "OWNER/NAME of the repository (default: $GITHUB_REPOSITORY)")
	f.IntVar(&o.perRegistry, "registry-concurrency", 4, "requests in flight to one registry")
	f.BoolVar(&o.restrictEgress, "restrict-egress", false, "let registry requests reach public addresses only: no loopback, private, link-local or cloud metadata address, whatever an ImageRepository says")
	addReadFlags(cmd, &o.load)
	return cmd
}

func runImageUpdate(ctx context.Context, dir string, o *imageUpdateOptions, stdout, stderr io.Writer) error {
	var outputs []outputSpec
	if o.dryRun || len(o.outputs) > 0 {
		var err error
		if outputs, err = parseOutputs(o.outputs, "diff", "diff", "json"); err != nil {
			return err
		}
	}
	if err := o.check(); err != nil {
		return err
	}
	abs, repo, cleanup, err := workspace.Load(ctx, dir, o.load)
	if err != nil {
		return err
	}
	defer cleanup()
	sources, err := workspace.CheckSources(o.load.Sources, dir, repo)
	if err != nil {
		return err
	}
	if err := sources.Err(); err != nil {
		return err
	}

	set, probs := imageupdate.Discover(repo)
	automations, err := set.Select(o.automations)
	if err != nil {
		return err
	}
	var sync *syncer
	if !o.dryRun && len(automations) > 0 {
		if sync, err = newSyncer(abs, o, stderr); err != nil {
			return err
		}
	}

	// Registries are reached with the connect, handshake and header
	// timeouts every fetch has: a registry that accepts the connection
	// and never answers cannot hold the run.
	lister := registry.Lister{Client: registry.New(registry.Options{
		MaxConcurrentPerRegistry: o.perRegistry, Transport: egress.Transport(o.restrictEgress),
	})}
	resolved, evalProbs := imageupdate.Evaluate(ctx, set, lister, imageupdate.EvaluateOptions{Policies: imageupdate.AutomationPolicies(automations)})
	probs = append(probs, evalProbs...)
	if ctx.Err() != nil {
		return ctx.Err()
	}

	// One automation that cannot run does not stop the others: its
	// failure is reported and the run ends with an error.
	plans, planProbs, failed := planAutomations(ctx, automations, set, resolved, repo.FS, sync, stderr)
	probs = append(probs, planProbs...)
	errs := printProblems(stderr, fleet.DedupeProblems(probs), true)
	if len(automations) == 0 {
		fmt.Fprintf(stderr, "no ImageUpdateAutomation to run in %s\n", dir)
	}
	err = writeOutputs(outputs, stdout, func(w io.Writer, out outputSpec) error {
		if out.format == "json" {
			return imageupdate.WriteJSON(w, plans)
		}
		return imageupdate.WriteUnifiedDiff(w, plans)
	})
	if err != nil {
		return err
	}
	if len(failed) > 0 {
		return errors.Join(failed...)
	}
	if errs > 0 {
		return &findingsError{n: errs}
	}
	return nil
}

// check refuses, before anything is read, flag values that cannot be
// right.
func (o *imageUpdateOptions) check() error {
	if err := o.load.Check(); err != nil {
		return err
	}
	if o.perRegistry < 1 {
		return &flagError{"registry-concurrency", strconv.Itoa(o.perRegistry), "want at least 1 request in flight"}
	}
	for _, a := range o.automations {
		if parts := strings.Split(a, "/"); len(parts) > 2 || slices.Contains(parts, "") {
			return &flagError{"automation", a, "want NAMESPACE/NAME or NAME"}
		}
	}
	if err := checkHTTPURL("git-url", o.gitURL); err != nil {
		return err
	}
	if err := checkBranch(o.branch); err != nil {
		return err
	}
	return o.forge.check()
}

var _ imageupdate.TagLister = registry.Lister{}
