package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fluxgate/fluxgate/diff"
	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/gitrepo"
	"github.com/fluxgate/fluxgate/internal/ghaction"
	"github.com/fluxgate/fluxgate/render"
	"github.com/fluxgate/fluxgate/report"
)

type diffOptions struct {
	load        loadOptions
	build       buildOptions
	base, head  string
	paths       []string
	outputs     []string
	exitCode    bool
	changedOnly bool
	kubeVersion string
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

The exit code is 0, or with --exit-code 1 when anything changed (like git diff).`,
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
	addReadFlags(cmd, &o.load)
	addBuildFlags(cmd, &o.build, true)
	addCommentFlags(cmd, &o.comment)
	return cmd
}

// outputSpec is one requested report: a format and a file, or stdout.
type outputSpec struct{ format, path string }

// parseOutputs reads repeatable FORMAT[=PATH] flags: each format one of
// formats, at most one of them to stdout; no flag means def to stdout.
func parseOutputs(specs []string, def string, formats ...string) ([]outputSpec, error) {
	if len(specs) == 0 {
		specs = []string{def}
	}
	var out []outputSpec
	stdoutUsed := false
	for _, s := range specs {
		format, p, toFile := strings.Cut(s, "=")
		if !slices.Contains(formats, format) {
			return nil, fmt.Errorf("--output %q: unknown format %q (want %s)", s, format, strings.Join(formats, ", "))
		}
		if toFile && p == "" {
			return nil, fmt.Errorf("--output %q: empty path", s)
		}
		if !toFile {
			if stdoutUsed {
				return nil, fmt.Errorf("--output %q: only one format can go to stdout; write the others to files with FORMAT=PATH", s)
			}
			stdoutUsed = true
		}
		out = append(out, outputSpec{format: format, path: p})
	}
	return out, nil
}

// changesError reports, for --exit-code, that the revisions differ.
type changesError struct{ units int }

func (e *changesError) Error() string {
	return fmt.Sprintf("%d unit(s) changed", e.units)
}

func runDiff(ctx context.Context, dir string, o *diffOptions, stdout, stderr io.Writer) error {
	outputs, err := parseOutputs(o.outputs, "text", "text", "json", "markdown")
	if err != nil {
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
	res, err := renderRevisions(ctx, dir, o, stderr)
	if err != nil {
		return err
	}
	showSecrets := o.build.secrets.showSecrets && isTerminal(stdout) && !o.comment.enabled
	for _, out := range outputs {
		if out.path != "" {
			showSecrets = false
		}
	}
	rep := diff.Compare(res.base, res.head, diff.Options{ShowSecrets: showSecrets})
	rep.Base, rep.Head = o.base, o.head

	var markdownFile string
	for _, out := range outputs {
		var buf bytes.Buffer
		switch out.format {
		case "text":
			err = report.DiffText(&buf, rep, out.path == "" && isTerminal(stdout))
		case "json":
			err = report.DiffJSON(&buf, rep)
		case "markdown":
			_, err = report.DiffMarkdown(&buf, rep, report.DiffMarkdownOptions{})
			if out.path != "" {
				markdownFile = out.path
			}
		}
		if err != nil {
			return err
		}
		if out.path == "" {
			if _, err := stdout.Write(buf.Bytes()); err != nil {
				return err
			}
			continue
		}
		if err := writeReportFile(out.path, buf.Bytes()); err != nil {
			return err
		}
	}
	if o.comment.enabled {
		var buf bytes.Buffer
		truncated, err := report.DiffMarkdown(&buf, rep, report.DiffMarkdownOptions{
			Marker: o.comment.marker(), Limit: report.CommentLimit, FullReport: filepath.Base(markdownFile),
		})
		if err != nil {
			return err
		}
		if truncated && markdownFile == "" {
			fmt.Fprintln(stderr, "fluxgate: the diff is larger than a comment; add -o markdown=PATH to keep the full report")
		}
		url, err := o.comment.post(ctx, buf.String())
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "fluxgate: diff comment %s\n", url)
	}
	if o.exitCode && rep.HasChanges() {
		return &changesError{units: len(rep.Units)}
	}
	return nil
}

// writeReportFile writes a report file; an existing directory is refused.
func writeReportFile(p string, data []byte) error {
	if fi, err := os.Stat(p); err == nil && fi.IsDir() {
		return fmt.Errorf("--output %s: is a directory", p)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, data, 0o644)
}

type revisions struct{ base, head *render.Result }

// revisionTrees holds the files of the revisions a diff compares.
type revisionTrees interface {
	// load loads ref's tree.
	load(ctx context.Context, ref string, lo loadOptions) (*fleet.Repo, error)
	// use makes the files of ref, loaded as repo, those under the
	// returned directory for a render, with the render's Materialize.
	use(ref string, repo *fleet.Repo) (string, func([]string, bool) error, error)
	// close removes what was written.
	close()
}

// load and use of an extraction: the head's files differ from the base's
// only in the changed files, switched in place.
func (x *extraction) load(ctx context.Context, ref string, lo loadOptions) (*fleet.Repo, error) {
	if err := x.switchTo(ref); err != nil {
		return nil, err
	}
	return loadTree(ctx, x.abs, x.dir, x.remotes, lo)
}

func (x *extraction) use(ref string, _ *fleet.Repo) (string, func([]string, bool) error, error) {
	return x.abs, nil, x.switchTo(ref)
}

func (x *extraction) close() { x.cleanup() }

// lazyTrees reads each revision straight from the object database and
// writes to disk only the files the renders ask for (render.LazyDir):
// for --changed-only, whose few builds read a small part of the tree.
type lazyTrees struct {
	git      *gitrepo.Repo
	sub      string // DIR relative to the repository's root
	dir      string
	remotes  []string
	changed  []string
	tmp      string
	lazy     *render.LazyDir
	rev      string // the revision lazy holds
	hasLinks bool
}

func newLazyTrees(abs, dir string, remotes, changed []string) (*lazyTrees, error) {
	g, sub, tmp, err := openWithTemp(abs)
	if err != nil {
		return nil, err
	}
	return &lazyTrees{git: g, sub: filepath.ToSlash(sub), dir: dir, remotes: remotes, changed: changed, tmp: tmp}, nil
}

func (l *lazyTrees) load(ctx context.Context, ref string, lo loadOptions) (*fleet.Repo, error) {
	tree, err := l.git.TreeFS(ref)
	if err != nil {
		return nil, fmt.Errorf("--ref %s: %w", ref, err)
	}
	if l.sub != "." {
		if fi, err := fs.Stat(tree, l.sub); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("--ref %s: %s does not exist at that revision", ref, l.sub)
		}
		if tree, err = fs.Sub(tree, l.sub); err != nil {
			return nil, err
		}
	}
	repo, err := loadFS(ctx, tree, l.dir, l.remotes, lo)
	if err == nil && repo.HasSymlinks {
		l.hasLinks = true
	}
	return repo, err
}

func (l *lazyTrees) use(ref string, repo *fleet.Repo) (string, func([]string, bool) error, error) {
	switch {
	case l.lazy == nil:
		l.lazy = render.NewLazyDir(l.tmp, repo)
	case ref != l.rev:
		if err := l.lazy.Switch(repo, l.changed); err != nil {
			return "", nil, fmt.Errorf("--ref %s: %w", ref, err)
		}
	}
	l.rev = ref
	return l.tmp, l.lazy.Materialize, nil
}

func (l *lazyTrees) close() { os.RemoveAll(l.tmp) }

// renderRevisions renders the base revision keeping its builds, then the
// head revision reusing those whose inputs did not change. With
// --changed-only both renders leave out the units the change cannot reach,
// and the files are read from the object database as the builds ask for
// them; otherwise both revisions share one extraction.
func renderRevisions(ctx context.Context, dir string, o *diffOptions, stderr io.Writer) (*revisions, error) {
	type side struct {
		ref   string
		repo  *fleet.Repo
		paths []string
	}
	sides := []*side{{ref: o.base}, {ref: o.head}}
	abs, err := repoDir(dir)
	if err != nil {
		return nil, err
	}
	remotes := remoteURLs(abs)
	var changed []string
	if o.changedOnly {
		if changed, err = revisionChanges(dir, o.base, o.head); err != nil {
			return nil, err
		}
	}
	trees, err := openTrees(abs, dir, remotes, changed, o.changedOnly, o.base)
	if err != nil {
		return nil, err
	}
	defer func() { trees.close() }()
	lo := o.load
	lo.parsed = o.build.parseCache() // the head parses only the files it changes
	loadSides := func() (err error) {
		for _, s := range sides {
			if s.repo, err = trees.load(ctx, s.ref, lo); err != nil {
				return err
			}
		}
		return nil
	}
	if err := loadSides(); err != nil {
		return nil, err
	}
	if l, ok := trees.(*lazyTrees); ok && l.hasLinks {
		// Links are followed only in a real extraction.
		l.close()
		if trees, err = openTrees(abs, dir, remotes, changed, false, o.base); err != nil {
			return nil, err
		}
		if err := loadSides(); err != nil {
			return nil, err
		}
	}
	seen := map[string]bool{}
	_ = lo.parsed.Save() // a cache that cannot be written costs a parse next time
	for _, s := range sides {
		// A cluster the change adds or removes exists on one side only.
		for _, p := range o.paths {
			if s.repo.IsDir(filepath.ToSlash(filepath.Clean(p))) {
				s.paths = append(s.paths, p)
				seen[p] = true
			}
		}
	}
	for _, p := range o.paths {
		if !seen[p] {
			return nil, fmt.Errorf("--path %s: not a directory of %s at %s or %s", p, dir, o.base, o.head)
		}
	}
	var scope render.ChangeScope
	if o.changedOnly {
		scope = fleet.NewChangeScope(sides[0].repo, sides[1].repo, changed)
	}
	var out revisions
	for i, s := range sides {
		res := &render.Result{}
		if len(o.paths) == 0 || len(s.paths) > 0 {
			root, materialize, err := trees.use(s.ref, s.repo)
			if err != nil {
				return nil, err
			}
			ropts, err := o.build.renderOptions(root, s.paths, o.load.workers, o.kubeVersion)
			if err != nil {
				return nil, err
			}
			ropts.Scope, ropts.Materialize = scope, materialize
			if i == 0 {
				ropts.KeepBuilds = true
			} else {
				ropts.Reuse = out.base
			}
			if res, err = render.Render(ctx, s.repo, ropts); err != nil {
				return nil, err
			}
			skipped := 0
			for _, u := range res.Units {
				if u.Skipped {
					skipped++
				}
			}
			fmt.Fprintf(stderr, "fluxgate: %s: %d units (%d out of the change's reach), %d builds run, %d reused, %d from the unit cache\n",
				s.ref, len(res.Units), skipped, res.Stats.Built, res.Stats.Reused, res.Stats.Cached)
		}
		if i == 0 {
			out.base = res
		} else {
			out.head = res
		}
	}
	return &out, nil
}

// openTrees reads the revisions lazily from the object database, or
// extracts the base revision.
func openTrees(abs, dir string, remotes, changed []string, lazy bool, base string) (revisionTrees, error) {
	if lazy {
		return newLazyTrees(abs, dir, remotes, changed)
	}
	x, err := extractRef(abs, base)
	if err != nil {
		return nil, err
	}
	x.dir, x.remotes = dir, remotes
	return x, nil
}

// revisionChanges lists the files that differ between two revisions, relative
// to DIR when DIR is a subdirectory of the repository.
func revisionChanges(dir, base, head string) ([]string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if abs, err = filepath.EvalSymlinks(abs); err != nil {
		return nil, err
	}
	g, err := gitrepo.Open(abs)
	if err != nil {
		return nil, fmt.Errorf("--changed-only: %w", err)
	}
	files, err := g.ChangedFiles(base, head)
	if err != nil {
		return nil, fmt.Errorf("--changed-only: %w", err)
	}
	sub, err := filepath.Rel(g.Root(), abs)
	if err != nil {
		return nil, err
	}
	sub = filepath.ToSlash(sub)
	if sub == "." {
		return files, nil
	}
	var out []string
	for _, f := range files {
		if rest, ok := strings.CutPrefix(f, sub+"/"); ok {
			out = append(out, rest)
		}
	}
	return out, nil
}
