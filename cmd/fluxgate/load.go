package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/internal/gitrepo"
)

// loadOptions are the flags shared by every command that reads a repository.
type loadOptions struct {
	maxFileSize int64
	sources     []string
	workers     int
	ref         string
}

// loadRepo opens DIR (default ".") confined to its root and loads it. The
// repository's own remotes come from its git config and, in GitHub Actions,
// from GITHUB_REPOSITORY.
//
// With a ref, the tree of that revision is read from the object database and
// written to a temporary directory (removed by the returned cleanup); the
// work tree is not touched.
func loadRepo(ctx context.Context, dir string, o loadOptions) (string, *fleet.Repo, func(), error) {
	cleanup := func() {}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", nil, cleanup, fmt.Errorf("repository directory %s: %w", dir, err)
	}
	if abs, err = filepath.EvalSymlinks(abs); err != nil {
		return "", nil, cleanup, fmt.Errorf("repository directory %s: %w", dir, err)
	}
	remotes := remoteURLs(abs)
	if o.ref != "" {
		g, err := gitrepo.Open(abs)
		if err != nil {
			return "", nil, cleanup, fmt.Errorf("--ref %s: %w", o.ref, err)
		}
		sub, err := filepath.Rel(g.Root(), abs)
		if err != nil {
			return "", nil, cleanup, err
		}
		tmp, err := os.MkdirTemp("", "fluxgate-ref-")
		if err != nil {
			return "", nil, cleanup, err
		}
		cleanup = func() { os.RemoveAll(tmp) }
		if err := g.Extract(o.ref, tmp); err != nil {
			cleanup()
			return "", nil, func() {}, fmt.Errorf("--ref %s: %w", o.ref, err)
		}
		abs = filepath.Join(tmp, sub)
		if _, err := os.Stat(abs); err != nil {
			cleanup()
			return "", nil, func() {}, fmt.Errorf("--ref %s: %s does not exist at that revision", o.ref, sub)
		}
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		cleanup()
		return "", nil, func() {}, fmt.Errorf("open repository directory %s: %w", dir, err)
	}
	sources := map[string]string{}
	for _, s := range o.sources {
		ref, d, ok := strings.Cut(s, "=")
		if !ok || strings.Count(ref, "/") != 2 {
			cleanup()
			return "", nil, func() {}, fmt.Errorf("--source %q: want KIND/NAMESPACE/NAME=DIR", s)
		}
		sources[ref] = filepath.ToSlash(d)
	}
	opts := fleet.Options{MaxFileSize: o.maxFileSize, Sources: sources, Workers: o.workers}
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
	repo, err := fleet.Load(ctx, root.FS(), opts)
	if err != nil {
		cleanup()
		return "", nil, func() {}, err
	}
	return abs, repo, cleanup, nil
}

// remoteURLs lists the URLs this repository is known by.
func remoteURLs(dir string) []string {
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

// dirArg is the repository directory argument, "." when omitted.
func dirArg(args []string) string {
	if len(args) == 1 {
		return args[0]
	}
	return "."
}

// checkPaths refuses a --path that is not a directory of the repository.
func checkPaths(repo *fleet.Repo, paths []string, dir string) error {
	for _, p := range paths {
		if !repo.IsDir(filepath.ToSlash(filepath.Clean(p))) {
			return fmt.Errorf("--path %s: not a directory of %s", p, dir)
		}
	}
	return nil
}
