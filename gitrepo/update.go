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
	changes, toTree, err := r.diffTrees(from, to)
	if err != nil {
		return fmt.Errorf("update %s to %s: %w", from, to, err)
	}
	withLinks := false
	for _, c := range changes {
		if c.From.TreeEntry.Mode == filemode.Symlink || c.To.TreeEntry.Mode == filemode.Symlink {
			withLinks = true
		}
	}
	var w updateWrites
	if withLinks {
		// Any link of to may resolve through a changed one: check them all,
		// as Extract does.
		err = w.fromPlan(r, toTree, changes)
	} else {
		// The links are those of from, which Extract or Update checked.
		err = w.fromChanges(toTree, changes)
	}
	if err != nil {
		return fmt.Errorf("update %s to %s in %s: %w", from, to, dst, err)
	}
	var removed []string
	prune := map[string]bool{} // directories holding a change, on either side
	for _, c := range changes {
		if c.From.Name != "" && c.From.TreeEntry.Mode != filemode.Submodule {
			removed = append(removed, c.From.Name)
		}
		for _, name := range []string{c.From.Name, c.To.Name} {
			for d := path.Dir(name); name != "" && d != "."; d = path.Dir(d) {
				prune[d] = true
			}
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
		if !w.isDir(d) {
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
	for _, e := range w.entries {
		name := filepath.FromSlash(e.path)
		if e.mode == filemode.Dir {
			if err := root.Mkdir(name, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("update %s to %s in %s: %w", from, to, dst, err)
			}
			continue
		}
		if err := writeBlob(r, root, name, e.hash, e.mode); err != nil {
			return fmt.Errorf("update %s to %s in %s: %s: %w", from, to, dst, e.path, err)
		}
	}
	for _, l := range w.links {
		if err := root.Symlink(filepath.FromSlash(l.target), filepath.FromSlash(l.path)); err != nil {
			return fmt.Errorf("update %s to %s in %s: %w", from, to, dst, err)
		}
	}
	return nil
}

// updateWrites is what Update writes: the directories (parents first) and
// files of the changes, then their links, and which paths are directories
// of the new tree.
type updateWrites struct {
	entries []planEntry
	links   []planLink
	isDir   func(dir string) bool
}

// fromPlan walks the whole new tree, checking every name and link as
// Extract does.
func (w *updateWrites) fromPlan(r *Repo, tree *object.Tree, changes object.Changes) error {
	var p plan
	if err := p.collect(r, tree, ""); err != nil {
		return err
	}
	for _, l := range p.links {
		if !p.linkInside(l.path, l.target) {
			return fmt.Errorf("symlink %s -> %s: %w", l.path, l.target, ErrUnsafeSymlink)
		}
	}
	changed, ancestors := map[string]bool{}, map[string]bool{}
	for _, c := range changes {
		if c.To.Name == "" {
			continue
		}
		changed[c.To.Name] = true
		for d := path.Dir(c.To.Name); d != "."; d = path.Dir(d) {
			ancestors[d] = true
		}
	}
	dirs := map[string]bool{}
	for _, e := range p.entries {
		if e.mode == filemode.Dir {
			dirs[e.path] = true
			if ancestors[e.path] {
				w.entries = append(w.entries, e)
			}
		} else if changed[e.path] {
			w.entries = append(w.entries, e)
		}
	}
	for _, l := range p.links {
		if changed[l.path] {
			w.links = append(w.links, l)
		}
	}
	w.isDir = func(d string) bool { return dirs[d] }
	return nil
}

// fromChanges reads only the changed entries of the new tree, checking
// their names, for changes that involve no symbolic link.
func (w *updateWrites) fromChanges(tree *object.Tree, changes object.Changes) error {
	made := map[string]bool{}
	for _, c := range changes {
		if c.To.Name == "" {
			continue
		}
		parts := strings.Split(c.To.Name, "/")
		for i, part := range parts {
			if !validName(part) || strings.EqualFold(part, ".git") {
				return fmt.Errorf("tree entry %q in %q: unsafe name", part, path.Join(parts[:i]...))
			}
			if i == len(parts)-1 {
				break
			}
			if d := strings.Join(parts[:i+1], "/"); !made[d] {
				made[d] = true
				w.entries = append(w.entries, planEntry{path: d, mode: filemode.Dir})
			}
		}
		switch m := c.To.TreeEntry.Mode; m {
		case filemode.Submodule:
		case filemode.Regular, filemode.Deprecated, filemode.Executable:
			w.entries = append(w.entries, planEntry{path: c.To.Name, mode: m, hash: c.To.TreeEntry.Hash})
		default:
			return fmt.Errorf("tree entry %s: unsupported mode %s", c.To.Name, m)
		}
	}
	w.isDir = func(d string) bool {
		e, err := tree.FindEntry(d)
		return err == nil && e.Mode == filemode.Dir
	}
	return nil
}
