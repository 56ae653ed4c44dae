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
)

// Options say how a repository is read: the values of the flags shared by
// every command that reads one.
type Options struct {
	// MaxFileSize is the largest YAML file read, in bytes
	// (fleet.Options.MaxFileSize).
	MaxFileSize int64
	// Sources map sources to directories of the tree, each
	// KIND/NAMESPACE/NAME=DIR.
	Sources []string
	// Workers bounds the files parsed in parallel (0: GOMAXPROCS).
	Workers int
	// Ref, when set, is the Git revision (branch, tag, SHA) read instead
	// of the work tree.
	Ref string
	// Parsed, when set, is shared by the loads of several revisions.
	Parsed *fleet.ParseCache
}

// Load opens DIR (default ".") confined to its root and loads it. The
// repository's own remotes come from its git config and, in GitHub Actions,
// from GITHUB_REPOSITORY.
//
// With a ref, the tree of that revision is read from the object database and
// written to a temporary directory (removed by the returned cleanup); the
// work tree is not touched. Load returns the directory the loaded files
// are in (DIR's absolute path, or DIR in the temporary directory): the
// render's Dir. The cleanup is never nil and is called once the caller
// is done with the files; Parsed is saved to its cache directory.
func Load(ctx context.Context, dir string, o Options) (string, *fleet.Repo, func(), error) {
	abs, err := repoDir(dir)
	if err != nil {
		return "", nil, func() {}, err
	}
	remotes := RemoteURLs(abs)
	cleanup := func() {}
	if o.Ref != "" {
		var x *extraction
		if x, err = extractRef(abs, o.Ref); err != nil {
			return "", nil, cleanup, err
		}
		abs, cleanup = x.abs, x.cleanup
	}
	repo, err := loadTree(ctx, abs, dir, remotes, o)
	if err != nil {
		cleanup()
		return "", nil, func() {}, err
	}
	_ = o.Parsed.Save() // a cache that cannot be written costs a parse next time
	return abs, repo, cleanup, nil
}

// repoDir is the absolute path of DIR, symbolic links resolved.
func repoDir(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("repository directory %s: %w", dir, err)
	}
	if abs, err = filepath.EvalSymlinks(abs); err != nil {
		return "", fmt.Errorf("repository directory %s: %w", dir, err)
	}
	return abs, nil
}

// extraction is the tree of one revision written to a temporary directory.
type extraction struct {
	git     *gitrepo.Repo
	rev     string // the revision tmp holds now
	tmp     string // the repository's root at rev
	sub     string // DIR relative to the repository's root
	abs     string // DIR at rev: tmp joined with sub
	cleanup func()
	// dir names DIR in errors; remotes are the URLs the repository is
	// known by (for loading revisions of a diff).
	dir     string
	remotes []string
}

// extractRef writes the tree of ref of the repository holding abs to a
// temporary directory (removed by the extraction's cleanup); the work tree
// is not touched.
func extractRef(abs, ref string) (*extraction, error) {
	g, sub, tmp, err := openWithTemp(abs)
	if err != nil {
		return nil, fmt.Errorf("--ref %s: %w", ref, err)
	}
	x := &extraction{git: g, rev: ref, tmp: tmp, sub: sub, abs: filepath.Join(tmp, sub), cleanup: func() { os.RemoveAll(tmp) }}
	if err := g.Extract(ref, tmp); err != nil {
		x.cleanup()
		return nil, fmt.Errorf("--ref %s: %w", ref, err)
	}
	if err := x.check(); err != nil {
		x.cleanup()
		return nil, err
	}
	return x, nil
}

// openWithTemp opens the repository holding abs and makes a temporary
// directory for its files; sub is abs relative to the repository's root.
func openWithTemp(abs string) (g *gitrepo.Repo, sub, tmp string, err error) {
	if g, err = gitrepo.Open(abs); err != nil {
		return nil, "", "", err
	}
	if sub, err = filepath.Rel(g.Root(), abs); err != nil {
		return nil, "", "", err
	}
	if tmp, err = os.MkdirTemp("", "fluxgate-ref-"); err != nil {
		return nil, "", "", err
	}
	return g, sub, tmp, nil
}

// switchTo turns the extraction into one of rev, writing only the files
// that differ.
func (x *extraction) switchTo(rev string) error {
	if rev == x.rev {
		return nil
	}
	if err := x.git.Update(x.tmp, x.rev, rev); err != nil {
		return fmt.Errorf("--ref %s: %w", rev, err)
	}
	x.rev = rev
	return x.check()
}

func (x *extraction) check() error {
	if _, err := os.Stat(x.abs); err != nil {
		return fmt.Errorf("--ref %s: %s does not exist at that revision", x.rev, x.sub)
	}
	return nil
}

// loadTree loads the tree at abs, confined to it; dir names it in errors,
// remotes are the URLs the repository is known by.
func loadTree(ctx context.Context, abs, dir string, remotes []string, o Options) (*fleet.Repo, error) {
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("open repository directory %s: %w", dir, err)
	}
	return loadFS(ctx, root.FS(), dir, remotes, o)
}

// loadFS loads the tree fsys, DIR's content (dir names it in errors).
func loadFS(ctx context.Context, fsys fs.FS, dir string, remotes []string, o Options) (*fleet.Repo, error) {
	mappings, err := parseSources(o.Sources)
	if err != nil {
		return nil, err
	}
	sources := map[string]string{}
	for _, m := range mappings {
		sources[m.ref()] = m.dir
	}
	opts := fleet.Options{MaxFileSize: o.MaxFileSize, Sources: sources, Workers: o.Workers, Parsed: o.Parsed}
	if len(remotes) > 0 {
		opts.IsLocalURL = func(u string) bool {
			for _, r := range remotes {
				if gitrepo.SameRepository(u, r) {
					return true
				}
			}
			return false
		}
	}
	return fleet.Load(ctx, fsys, opts)
}

// RemoteURLs lists the URLs this repository is known by.
func RemoteURLs(dir string) []string {
	var out []string
	if gh := os.Getenv("GITHUB_REPOSITORY"); gh != "" {
		server := os.Getenv("GITHUB_SERVER_URL")
		if server == "" {
			server = "https://github.com"
		}
		out = append(out, strings.TrimSuffix(server, "/")+"/"+gh)
	}
	if r, err := gitrepo.Open(dir); err == nil && filepath.Clean(r.Root()) == filepath.Clean(dir) {
		if urls, err := r.RemoteURLs(); err == nil {
			out = append(out, urls...)
		}
	}
	return out
}

// CheckPaths refuses a --path that is not a directory of the repository.
func CheckPaths(repo *fleet.Repo, paths []string, dir string) error {
	for _, p := range paths {
		if !repo.IsDir(filepath.ToSlash(filepath.Clean(p))) {
			return fmt.Errorf("--path %s: not a directory of %s", p, dir)
		}
	}
	return nil
}
