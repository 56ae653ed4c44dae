package workspace

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/gitrepo"
	"github.com/fluxgate/fluxgate/render"
)

// Revisions are the renders of the two revisions a diff compares.
type Revisions struct{ Base, Head *render.Result }

// RevisionOptions say which revisions a diff renders and how.
type RevisionOptions struct {
	// Load reads both revisions; its Ref is not used. Its Parsed cache,
	// when set, is shared: the head parses only the files it changes.
	Load Options
	// Base and Head are the revisions compared: branch, tag or SHA.
	Base, Head string
	// Paths are the cluster entry points rendered, relative to DIR; a
	// path may exist in one revision only (a cluster added or removed),
	// but not in neither. None means every entry point.
	Paths []string
	// ChangedOnly leaves out, in both renders, the units no file that
	// differs between the revisions can reach.
	ChangedOnly bool
	// RenderOptions returns the render options of a revision whose files
	// are under root, for the entry points paths (Scope, Materialize,
	// KeepBuilds and Reuse are set by RenderRevisions).
	RenderOptions func(root string, paths []string) (render.Options, error)
	// Rendered, when set, is called with each revision's render as it
	// finishes, base first.
	Rendered func(ref string, res *render.Result)
}

// revisionTrees holds the files of the revisions a diff compares.
type revisionTrees interface {
	// load loads ref's tree.
	load(ctx context.Context, ref string, lo Options) (*fleet.Repo, error)
	// use makes the files of ref, loaded as repo, those under the
	// returned directory for a render, with the render's Materialize.
	use(ref string, repo *fleet.Repo) (string, func([]string, bool) error, error)
	// close removes what was written.
	close()
}

// load and use of an extraction: the head's files differ from the base's
// only in the changed files, switched in place.
func (x *extraction) load(ctx context.Context, ref string, lo Options) (*fleet.Repo, error) {
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
// writes to disk only the files the renders ask for (LazyDir):
// for --changed-only, whose few builds read a small part of the tree.
type lazyTrees struct {
	git     *gitrepo.Repo
	sub     string // DIR relative to the repository's root
	dir     string
	remotes []string
	changed []string
	tmp     string
	lazy    *LazyDir
	rev     string // the revision lazy holds
}

func newLazyTrees(abs, dir string, remotes, changed []string) (*lazyTrees, error) {
	g, sub, tmp, err := openWithTemp(abs)
	if err != nil {
		return nil, err
	}
	return &lazyTrees{git: g, sub: filepath.ToSlash(sub), dir: dir, remotes: remotes, changed: changed, tmp: tmp}, nil
}

func (l *lazyTrees) load(ctx context.Context, ref string, lo Options) (*fleet.Repo, error) {
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
	return loadFS(ctx, tree, l.dir, l.remotes, lo)
}

func (l *lazyTrees) use(ref string, repo *fleet.Repo) (string, func([]string, bool) error, error) {
	switch {
	case l.lazy == nil:
		l.lazy = NewLazyDir(l.tmp, repo)
	case ref != l.rev:
		if err := l.lazy.Switch(repo, l.changed); err != nil {
			return "", nil, fmt.Errorf("--ref %s: %w", ref, err)
		}
	}
	l.rev = ref
	return l.tmp, l.lazy.Materialize, nil
}

func (l *lazyTrees) close() { os.RemoveAll(l.tmp) }

// RenderRevisions renders the base revision keeping its builds, then the
// head revision reusing those whose inputs did not change. With
// --changed-only both renders leave out the units the change cannot reach,
// and the files are read from the object database as the builds ask for
// them; otherwise both revisions share one extraction.
func RenderRevisions(ctx context.Context, dir string, o RevisionOptions) (*Revisions, error) {
	type side struct {
		ref   string
		repo  *fleet.Repo
		paths []string
	}
	sides := []*side{{ref: o.Base}, {ref: o.Head}}
	abs, err := repoDir(dir)
	if err != nil {
		return nil, err
	}
	remotes := RemoteURLs(abs)
	var changed []string
	if o.ChangedOnly {
		if changed, err = revisionChanges(abs, o.Base, o.Head); err != nil {
			return nil, err
		}
	}
	trees, err := openTrees(abs, dir, remotes, changed, o.ChangedOnly, o.Base)
	if err != nil {
		return nil, err
	}
	defer func() { trees.close() }()
	lo := o.Load // its parse cache: the head parses only the files it changes
	for _, s := range sides {
		if s.repo, err = trees.load(ctx, s.ref, lo); err != nil {
			return nil, err
		}
	}
	seen := map[string]bool{}
	_ = lo.Parsed.Save() // a cache that cannot be written costs a parse next time
	for _, s := range sides {
		// A cluster the change adds or removes exists on one side only.
		for _, p := range o.Paths {
			if s.repo.IsDir(filepath.ToSlash(filepath.Clean(p))) {
				s.paths = append(s.paths, p)
				seen[p] = true
			}
		}
	}
	for _, p := range o.Paths {
		if !seen[p] {
			return nil, fmt.Errorf("--path %s: not a directory of %s at %s or %s", p, dir, o.Base, o.Head)
		}
	}
	pending, err := CheckSources(lo.Sources, dir, sides[0].repo, sides[1].repo)
	if err != nil {
		return nil, err
	}
	var scope render.ChangeScope
	if o.ChangedOnly {
		scope = fleet.NewChangeScope(sides[0].repo, sides[1].repo, changed)
	}
	var out Revisions
	for i, s := range sides {
		res := &render.Result{}
		if len(o.Paths) == 0 || len(s.paths) > 0 {
			root, materialize, err := trees.use(s.ref, s.repo)
			if err != nil {
				return nil, err
			}
			ropts, err := o.RenderOptions(root, s.paths)
			if err != nil {
				return nil, err
			}
			ropts.Scope, ropts.Materialize = scope, materialize
			if i == 0 {
				ropts.KeepBuilds = true
			} else {
				ropts.Reuse = out.Base
			}
			if res, err = render.Render(ctx, s.repo, ropts); err != nil {
				return nil, err
			}
			if o.Rendered != nil {
				o.Rendered(s.ref, res)
			}
		}
		if i == 0 {
			out.Base = res
		} else {
			out.Head = res
		}
	}
	if err := pending.CheckRendered(out.Base, out.Head); err != nil {
		return nil, err
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
// to DIR (at abs, its links resolved) when DIR is a subdirectory of the
// repository.
func revisionChanges(abs, base, head string) ([]string, error) {
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
