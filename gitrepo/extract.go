package gitrepo

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// ErrUnsafeSymlink is returned (wrapped) by [Repo.Extract] for a symbolic
// link whose target is absolute or resolves outside the destination.
var ErrUnsafeSymlink = errors.New("symbolic link target outside the destination")

// maxLinkHops bounds symbolic link resolution in Extract. It is above the
// kernel's own limit (40), so a chain we give up on could not be followed by
// the kernel either; such chains are rejected all the same.
const maxLinkHops = 255

// Extract writes the tree of the commit named by rev (see [Repo.Resolve])
// into dst, which must be an empty directory or not exist; it is created
// with its parents when missing. Regular files get mode 0644, or 0755 when
// executable in Git (both subject to the umask, as with git checkout);
// submodules are skipped.
//
// Symbolic links are recreated only when their target, resolved within the
// extracted tree, stays inside dst. Otherwise nothing is written and Extract
// returns an error naming the link and wrapping [ErrUnsafeSymlink]. Entries
// named ".git" or with unsafe names are refused as well. On an I/O error dst
// may hold part of the tree.
func (r *Repo) Extract(rev, dst string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.commit(rev)
	if err != nil {
		return fmt.Errorf("extract %s: %w", rev, err)
	}
	if err := checkEmptyDir(dst); err != nil {
		return fmt.Errorf("extract %s into %s: %w", rev, dst, err)
	}
	tree, err := c.Tree()
	if err != nil {
		return fmt.Errorf("extract %s: read tree %s: %w", rev, c.TreeHash, err)
	}
	var p plan
	if err := p.collect(r, tree, ""); err != nil {
		return fmt.Errorf("extract %s: %w", rev, err)
	}
	for _, l := range p.links {
		if !p.linkInside(l.path, l.target) {
			return fmt.Errorf("extract %s into %s: symlink %s -> %s: %w", rev, dst, l.path, l.target, ErrUnsafeSymlink)
		}
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return fmt.Errorf("extract %s: %w", rev, err)
	}
	root, err := os.OpenRoot(dst)
	if err != nil {
		return fmt.Errorf("extract %s: %w", rev, err)
	}
	defer root.Close()
	for _, e := range p.entries {
		name := filepath.FromSlash(e.path)
		if e.mode == filemode.Dir {
			if err := root.Mkdir(name, 0o755); err != nil {
				return fmt.Errorf("extract %s into %s: %w", rev, dst, err)
			}
			continue
		}
		if err := writeBlob(r, root, name, e.hash, e.mode); err != nil {
			return fmt.Errorf("extract %s into %s: %s: %w", rev, dst, e.path, err)
		}
	}
	for _, l := range p.links {
		if err := root.Symlink(filepath.FromSlash(l.target), filepath.FromSlash(l.path)); err != nil {
			return fmt.Errorf("extract %s into %s: %w", rev, dst, err)
		}
	}
	return nil
}

// checkEmptyDir returns an error unless dir is missing or an empty directory.
func checkEmptyDir(dir string) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return errors.New("destination is not a directory")
	}
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Readdirnames(1); !errors.Is(err, io.EOF) {
		if err != nil {
			return err
		}
		return errors.New("destination is not empty")
	}
	return nil
}

// writeBlob streams blob h into a new file name under root.
func writeBlob(r *Repo, root *os.Root, name string, h plumbing.Hash, mode filemode.FileMode) (err error) {
	perm, _ := fileMode(mode)
	blob, err := r.git.BlobObject(h)
	if err != nil {
		return fmt.Errorf("read blob %s: %w", h, err)
	}
	rc, err := blob.Reader()
	if err != nil {
		return fmt.Errorf("read blob %s: %w", h, err)
	}
	defer rc.Close()
	// O_EXCL: on a case-insensitive file system two entries may collide;
	// refuse rather than overwrite.
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	if _, err := io.Copy(f, rc); err != nil {
		return fmt.Errorf("write blob %s: %w", h, err)
	}
	return nil
}

// plan is the list of things Extract writes, gathered before writing.
type plan struct {
	entries []planEntry       // directories (parents first) and files
	links   []planLink        // symbolic links, created last
	targets map[string]string // link path -> target, for resolution
}

type planEntry struct {
	path string // slash-separated, relative to dst
	mode filemode.FileMode
	hash plumbing.Hash
}

type planLink struct {
	path, target string
}

// collect walks tree, whose path relative to the destination is dir.
func (p *plan) collect(r *Repo, tree *object.Tree, dir string) error {
	for _, e := range tree.Entries {
		rel := path.Join(dir, e.Name)
		if !validName(e.Name) || strings.EqualFold(e.Name, ".git") {
			return fmt.Errorf("tree entry %q in %q: unsafe name", e.Name, dir)
		}
		switch e.Mode {
		case filemode.Submodule:
			continue
		case filemode.Dir:
			sub, err := r.git.TreeObject(e.Hash)
			if err != nil {
				return fmt.Errorf("read tree %s (%s): %w", e.Hash, rel, err)
			}
			p.entries = append(p.entries, planEntry{path: rel, mode: e.Mode, hash: e.Hash})
			if err := p.collect(r, sub, rel); err != nil {
				return err
			}
		case filemode.Symlink:
			b, err := readBlob(r, e.Hash)
			if err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
			if p.targets == nil {
				p.targets = make(map[string]string)
			}
			p.targets[rel] = string(b)
			p.links = append(p.links, planLink{path: rel, target: string(b)})
		case filemode.Regular, filemode.Deprecated, filemode.Executable:
			p.entries = append(p.entries, planEntry{path: rel, mode: e.Mode, hash: e.Hash})
		default:
			return fmt.Errorf("tree entry %s: unsupported mode %s", rel, e.Mode)
		}
	}
	return nil
}

// linkInside reports whether the symbolic link at link (slash path relative
// to the destination) with the given target resolves inside the
// destination. Resolution follows the other links of the plan the way the
// kernel would once everything is written, so a chain of individually
// harmless links cannot climb out either.
func (p *plan) linkInside(link, target string) bool {
	var stack []string // resolved directory components below the destination
	if d := path.Dir(link); d != "." {
		stack = strings.Split(d, "/")
	}
	pending, ok := splitTarget(target)
	if !ok {
		return false
	}
	hops := 0
	for len(pending) > 0 {
		c := pending[0]
		pending = pending[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(stack) == 0 {
				return false
			}
			stack = stack[:len(stack)-1]
			continue
		}
		cur := strings.Join(append(stack, c), "/")
		t, isLink := p.targets[cur]
		if !isLink {
			stack = append(stack, c)
			continue
		}
		if hops++; hops > maxLinkHops {
			return false
		}
		next, ok := splitTarget(t)
		if !ok {
			return false
		}
		// The link's target is relative to the directory holding it,
		// which is the current stack.
		pending = append(next, pending...)
	}
	return true
}

// splitTarget splits a link target into slash-separated components. It
// reports false for absolute targets and, on Windows, for targets using
// backslashes or volume names.
func splitTarget(target string) ([]string, bool) {
	if target == "" || path.IsAbs(target) || filepath.IsAbs(target) || filepath.VolumeName(target) != "" {
		return nil, false
	}
	if filepath.Separator != '/' && strings.ContainsRune(target, filepath.Separator) {
		return nil, false
	}
	return strings.Split(target, "/"), true
}
