package gitrepo

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Update turns dst, written by [Repo.Extract] for revision from and not
// changed since, into what Extract writes for revision to, touching only
// the entries that differ between the two trees: a one-file change costs
// one file write instead of a whole tree. The tree of to is checked as
// Extract checks it (unsafe names, symbolic links leaving dst: an error
// wrapping [ErrUnsafeSymlink]) before anything is changed. On an I/O error
// dst may hold a mix of both revisions.
func (r *Repo) Update(dst, from, to string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var trees [2]*object.Tree
	for i, rev := range []string{from, to} {
		c, err := r.commit(rev)
		if err != nil {
			return fmt.Errorf("update %s to %s: %w", from, to, err)
		}
		if trees[i], err = c.Tree(); err != nil {
			return fmt.Errorf("update %s to %s: read the tree of %s: %w", from, to, rev, err)
		}
	}
	var p plan
	if err := p.collect(r, trees[1], ""); err != nil {
		return fmt.Errorf("update %s to %s: %w", from, to, err)
	}
	for _, l := range p.links {
		if !p.linkInside(l.path, l.target) {
			return fmt.Errorf("update %s to %s in %s: symlink %s -> %s: %w", from, to, dst, l.path, l.target, ErrUnsafeSymlink)
		}
	}
	changes, err := object.DiffTree(trees[0], trees[1])
	if err != nil {
		return fmt.Errorf("update %s to %s: %w", from, to, err)
	}
	dirs := map[string]bool{}    // directories of to
	entries := map[string]bool{} // entries of to to write: changed files
	links := map[string]bool{}   // and changed links
	for _, e := range p.entries {
		if e.mode == filemode.Dir {
			dirs[e.path] = true
		}
	}
	var removed []string
	prune := map[string]bool{}
	for _, c := range changes {
		if c.From.Name != "" && c.From.TreeEntry.Mode != filemode.Submodule {
			removed = append(removed, c.From.Name)
		}
		for _, name := range []string{c.From.Name, c.To.Name} {
			for d := path.Dir(name); name != "" && d != "."; d = path.Dir(d) {
				prune[d] = true
			}
		}
		if c.To.Name == "" {
			continue
		}
		switch c.To.TreeEntry.Mode {
		case filemode.Symlink:
			links[c.To.Name] = true
		case filemode.Submodule:
		default:
			entries[c.To.Name] = true
		}
	}

	root, err := os.OpenRoot(dst)
	if err != nil {
		return fmt.Errorf("update %s to %s: %w", from, to, err)
	}
	defer root.Close()
	for _, name := range removed {
		if err := root.Remove(filepath.FromSlash(name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("update %s to %s in %s: %w", from, to, dst, err)
		}
	}
	// Directories of from that to no longer has, deepest first: emptied
	// by the removals above.
	var gone []string
	for d := range prune {
		if !dirs[d] {
			gone = append(gone, d)
		}
	}
	sort.Slice(gone, func(i, j int) bool {
		if a, b := strings.Count(gone[i], "/"), strings.Count(gone[j], "/"); a != b {
			return a > b
		}
		return gone[i] < gone[j]
	})
	for _, d := range gone {
		if err := root.Remove(filepath.FromSlash(d)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("update %s to %s in %s: %w", from, to, dst, err)
		}
	}
	for _, e := range p.entries {
		name := filepath.FromSlash(e.path)
		if e.mode == filemode.Dir {
			if !prune[e.path] {
				continue // an ancestor of no change: there already
			}
			if err := root.Mkdir(name, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("update %s to %s in %s: %w", from, to, dst, err)
			}
			continue
		}
		if !entries[e.path] {
			continue
		}
		if err := writeBlob(r, root, name, e.hash, e.mode); err != nil {
			return fmt.Errorf("update %s to %s in %s: %s: %w", from, to, dst, e.path, err)
		}
	}
	for _, l := range p.links {
		if !links[l.path] {
			continue
		}
		if err := root.Symlink(filepath.FromSlash(l.target), filepath.FromSlash(l.path)); err != nil {
			return fmt.Errorf("update %s to %s in %s: %w", from, to, dst, err)
		}
	}
	return nil
}
