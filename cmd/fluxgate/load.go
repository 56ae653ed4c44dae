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
}

// loadRepo opens DIR (default ".") confined to its root and loads it. The
// repository's own remotes come from its git config and, in GitHub Actions,
// from GITHUB_REPOSITORY.
func loadRepo(ctx context.Context, dir string, o loadOptions) (string, *fleet.Repo, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", nil, fmt.Errorf("repository directory %s: %w", dir, err)
	}
	if abs, err = filepath.EvalSymlinks(abs); err != nil {
		return "", nil, fmt.Errorf("repository directory %s: %w", dir, err)
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		return "", nil, fmt.Errorf("open repository directory %s: %w", dir, err)
	}
	sources := map[string]string{}
	for _, s := range o.sources {
		ref, d, ok := strings.Cut(s, "=")
		if !ok || strings.Count(ref, "/") != 2 {
			return "", nil, fmt.Errorf("--source %q: want KIND/NAMESPACE/NAME=DIR", s)
		}
		sources[ref] = filepath.ToSlash(d)
	}
	opts := fleet.Options{MaxFileSize: o.maxFileSize, Sources: sources, Workers: o.workers}
	if remotes := remoteURLs(abs); len(remotes) > 0 {
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
		return "", nil, err
	}
	return abs, repo, nil
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
