package workspace

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sync"

	"github.com/fluxgate/fluxgate/fleet"
)

// LazyDir is a directory that receives a revision's files as a render asks
// for them (its Materialize is render.Options.Materialize), so that a render
// building a few units of a large repository writes only what they read.
// It holds the files the ignore rules keep, read from the revision's
// fleet.Repo FS, as regular files; nothing else is ever written to it.
type LazyDir struct {
	// Dir is the directory, absolute: render.Options.Dir.
	Dir string

	mu     sync.Mutex
	repo   *fleet.Repo
	byDir  map[string][]string // kept files by directory
	isFile map[string]bool
	dirs   map[string]bool // directories whose files are written
	files  map[string]bool // files written on their own
}

// NewLazyDir returns an empty LazyDir at dir, which must exist, for the
// revision repo was loaded from.
func NewLazyDir(dir string, repo *fleet.Repo) *LazyDir {
	l := &LazyDir{Dir: dir}
	l.reset(repo)
	return l
}

func (l *LazyDir) reset(repo *fleet.Repo) {
	l.repo = repo
	l.byDir = map[string][]string{}
	l.isFile = make(map[string]bool, len(repo.Tree))
	for _, f := range repo.Tree {
		l.byDir[path.Dir(f)] = append(l.byDir[path.Dir(f)], f)
		l.isFile[f] = true
	}
	if l.dirs == nil {
		l.dirs, l.files = map[string]bool{}, map[string]bool{}
	}
}

// Materialize writes paths (relative to Dir): files, or directories'
// files, with deep everything below them. Paths the revision does not
// hold are left alone: reading them fails as it would in a full copy.
func (l *LazyDir) Materialize(paths []string, deep bool) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, p := range paths {
		p = path.Clean(p)
		if l.isFile[p] {
			if err := l.writeFile(p); err != nil {
				return err
			}
			continue
		}
		if !l.repo.IsDir(p) {
			continue
		}
		if err := l.writeDir(p); err != nil {
			return err
		}
		if !deep {
			continue
		}
		for _, d := range l.repo.DirsBelow(p) {
			if err := l.writeDir(d); err != nil {
				return err
			}
		}
	}
	return nil
}

func (l *LazyDir) writeDir(d string) error {
	if l.dirs[d] {
		return nil
	}
	if err := os.MkdirAll(filepath.Join(l.Dir, filepath.FromSlash(d)), 0o755); err != nil {
		return err
	}
	for _, f := range l.byDir[d] {
		if err := l.writeFile(f); err != nil {
			return err
		}
	}
	l.dirs[d] = true
	return nil
}

func (l *LazyDir) writeFile(f string) error {
	if l.files[f] {
		return nil
	}
	data, err := fs.ReadFile(l.repo.FS, f)
	if err != nil {
		return fmt.Errorf("%s: %w", f, err)
	}
	perm := os.FileMode(0o644)
	if info, err := fs.Stat(l.repo.FS, f); err == nil && info.Mode()&0o111 != 0 {
		perm = 0o755
	}
	target := filepath.Join(l.Dir, filepath.FromSlash(f))
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(target, data, perm); err != nil {
		return err
	}
	l.files[f] = true
	return nil
}

// Switch turns the directory into the revision repo was loaded from,
// which differs from the current one in the changed files (relative to
// the root): those already written are rewritten or removed, the rest is
// written on demand as before. A change to ignore rules, which may keep or
// drop any file, empties the directory.
func (l *LazyDir) Switch(repo *fleet.Repo, changed []string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, f := range changed {
		if b := path.Base(f); b == ".sourceignore" || b == ".gitignore" {
			return l.empty(repo)
		}
	}
	written := map[string]bool{}
	for _, f := range changed {
		if l.files[f] || l.dirs[path.Dir(f)] {
			written[f] = true
			delete(l.files, f)
			if err := os.Remove(filepath.Join(l.Dir, filepath.FromSlash(f))); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	}
	l.reset(repo)
	for f := range written {
		if l.isFile[f] {
			if err := l.writeFile(f); err != nil {
				return err
			}
		}
	}
	return nil
}

// empty removes everything written and starts over with repo.
func (l *LazyDir) empty(repo *fleet.Repo) error {
	des, err := os.ReadDir(l.Dir)
	if err != nil {
		return err
	}
	for _, de := range des {
		if err := os.RemoveAll(filepath.Join(l.Dir, de.Name())); err != nil {
			return err
		}
	}
	l.dirs, l.files = nil, nil
	l.reset(repo)
	return nil
}
