package workspace

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/fluxgate/fluxgate/gitrepo"
)

// PathBase is the directory that CI tools read a report's file paths
// against, for a fleet loaded from a directory of it: GitHub annotations,
// code scanning and test dashboards name files from the checkout's root,
// while findings name them from the fleet's.
type PathBase struct {
	// Dir is the base directory: absolute, symbolic links resolved.
	Dir string
	// Prefix is the fleet directory relative to Dir with forward slashes,
	// "" when they are the same.
	Prefix string
}

// URI is Dir as a file URI ending in a slash, the form SARIF's
// originalUriBaseIds take.
func (b PathBase) URI() string {
	p := filepath.ToSlash(b.Dir)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows drive: file:///C:/...
	}
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return (&url.URL{Scheme: "file", Path: p}).String()
}

// FindPathBase returns the path base of the fleet in dir: githubWorkspace
// (GITHUB_WORKSPACE) when it is set and holds dir, else the root of the
// Git work tree holding dir, else dir itself. An error means dir cannot be
// resolved, or a Git repository holds it and cannot be opened; the base
// returned with it is dir.
func FindPathBase(dir, githubWorkspace string) (PathBase, error) {
	abs, err := repoDir(dir)
	if err != nil {
		return PathBase{}, err
	}
	self := PathBase{Dir: abs}
	if githubWorkspace != "" {
		if ws, err := repoDir(githubWorkspace); err == nil {
			if prefix, ok := within(ws, abs); ok {
				return PathBase{Dir: ws, Prefix: prefix}, nil
			}
		}
	}
	repo, err := gitrepo.Open(abs)
	if errors.Is(err, gitrepo.ErrNotRepository) {
		return self, nil
	}
	if err != nil {
		return self, err
	}
	root, err := filepath.EvalSymlinks(repo.Root())
	if err != nil {
		return self, fmt.Errorf("git work tree of %s: %w", dir, err)
	}
	prefix, ok := within(root, abs)
	if !ok {
		return self, nil
	}
	return PathBase{Dir: root, Prefix: prefix}, nil
}

// within returns dir relative to base with forward slashes when base holds
// dir ("" when they are the same).
func within(base, dir string) (string, bool) {
	rel, err := filepath.Rel(base, dir)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", false
	}
	if rel == "." {
		return "", true
	}
	return filepath.ToSlash(rel), true
}
