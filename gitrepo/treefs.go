package gitrepo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
)

// ErrSymlink is returned (wrapped in an [*io/fs.PathError] naming the path)
// when reading a symbolic link through a file system returned by
// [Repo.TreeFS], or resolving a path through one: links are never followed.
var ErrSymlink = errors.New("symbolic link not followed")

var (
	errIsDir  = errors.New("is a directory")
	errNotDir = errors.New("not a directory")
)

// TreeFS returns a read-only file system holding the tree of the commit
// named by rev (see [Repo.Resolve]). Everything is read from the object
// database: nothing is checked out and changes in the work tree are not
// seen.
//
// The result implements [io/fs.ReadDirFS], [io/fs.ReadFileFS],
// [io/fs.StatFS] and [io/fs.ReadLinkFS] and satisfies
// [testing/fstest.TestFS]. Regular files have mode 0644 or, when executable,
// 0755; directories ModeDir|0755; every entry has the commit time as its
// modification time.
//
// Symbolic links are reported with [io/fs.ModeSymlink] and are not
// followed: Stat and Lstat describe the link itself, ReadLink returns its
// target, and opening one yields a file whose Read fails, as do ReadFile on
// the link and any path through it, with an [*io/fs.PathError] naming the
// path and wrapping [ErrSymlink]. Submodule entries are left out.
func (r *Repo) TreeFS(rev string) (fs.FS, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.commit(rev)
	if err != nil {
		return nil, err
	}
	return &treeFS{
		repo:    r,
		root:    c.TreeHash,
		modTime: c.Committer.When,
		dirs:    r.decodedTrees(),
	}, nil
}

// decodedTrees returns the cache of decoded trees. The caller holds r.mu.
func (r *Repo) decodedTrees() map[plumbing.Hash]*dirNode {
	if r.trees == nil {
		r.trees = make(map[plumbing.Hash]*dirNode)
	}
	return r.trees
}

// treeFS is the fs.FS returned by Repo.TreeFS.
type treeFS struct {
	repo    *Repo
	root    plumbing.Hash
	modTime time.Time
	dirs    map[plumbing.Hash]*dirNode // decoded trees; guarded by repo.mu
}

var (
	_ fs.ReadDirFS   = (*treeFS)(nil)
	_ fs.ReadFileFS  = (*treeFS)(nil)
	_ fs.StatFS      = (*treeFS)(nil)
	_ fs.ReadLinkFS  = (*treeFS)(nil)
	_ fs.SubFS       = (*treeFS)(nil)
	_ fs.ReadDirFile = (*dirFile)(nil)
	_ io.ReadSeeker  = (*blobFile)(nil)
	_ io.ReaderAt    = (*blobFile)(nil)
)

// node is one entry of a tree.
type node struct {
	name string
	mode filemode.FileMode
	hash plumbing.Hash
}

// dirNode is a decoded tree, entries sorted by name, submodules removed.
type dirNode struct {
	entries []node
}

func (d *dirNode) find(name string) (node, bool) {
	i, ok := slices.BinarySearchFunc(d.entries, name, func(n node, name string) int {
		return strings.Compare(n.name, name)
	})
	if !ok {
		return node{}, false
	}
	return d.entries[i], true
}

// loadDir decodes the tree with hash h. The caller holds repo.mu.
func (f *treeFS) loadDir(h plumbing.Hash) (*dirNode, error) {
	if d, ok := f.dirs[h]; ok {
		return d, nil
	}
	t, err := f.repo.git.TreeObject(h)
	if err != nil {
		return nil, fmt.Errorf("read tree %s: %w", h, err)
	}
	d := &dirNode{entries: make([]node, 0, len(t.Entries))}
	for _, e := range t.Entries {
		if e.Mode == filemode.Submodule {
			continue
		}
		if !validName(e.Name) {
			return nil, fmt.Errorf("read tree %s: invalid entry name %q", h, e.Name)
		}
		if _, ok := fileMode(e.Mode); !ok {
			return nil, fmt.Errorf("read tree %s: entry %q has unsupported mode %s", h, e.Name, e.Mode)
		}
		d.entries = append(d.entries, node{name: e.Name, mode: e.Mode, hash: e.Hash})
	}
	slices.SortFunc(d.entries, func(a, b node) int { return strings.Compare(a.name, b.name) })
	f.dirs[h] = d
	return d, nil
}

// lookup finds the node at name without following symbolic links. The
// caller holds repo.mu.
func (f *treeFS) lookup(op, name string) (node, error) {
	if !fs.ValidPath(name) {
		return node{}, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	cur := node{name: ".", mode: filemode.Dir, hash: f.root}
	if name == "." {
		return cur, nil
	}
	parts := strings.Split(name, "/")
	for i, part := range parts {
		switch cur.mode {
		case filemode.Dir:
		case filemode.Symlink:
			link := strings.Join(parts[:i], "/")
			return node{}, &fs.PathError{Op: op, Path: name, Err: fmt.Errorf("%w: %s", ErrSymlink, link)}
		default:
			return node{}, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
		}
		d, err := f.loadDir(cur.hash)
		if err != nil {
			return node{}, &fs.PathError{Op: op, Path: name, Err: err}
		}
		n, ok := d.find(part)
		if !ok {
			return node{}, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
		}
		cur = n
	}
	return cur, nil
}

// ContentKey names the content of the regular file name without reading
// it: its blob's hash, which is what git hashes a file's content to.
func (f *treeFS) ContentKey(name string) (string, error) {
	f.repo.mu.Lock()
	defer f.repo.mu.Unlock()
	n, err := f.lookup("contentkey", name)
	if err != nil {
		return "", err
	}
	if n.mode != filemode.Regular && n.mode != filemode.Executable && n.mode != filemode.Deprecated {
		return "", &fs.PathError{Op: "contentkey", Path: name, Err: errors.New("not a regular file")}
	}
	return n.hash.String(), nil
}

// Sub implements [fs.SubFS]: the tree of directory dir, sharing the trees
// decoded so far.
func (f *treeFS) Sub(dir string) (fs.FS, error) {
	f.repo.mu.Lock()
	defer f.repo.mu.Unlock()
	n, err := f.lookup("sub", dir)
	if err != nil {
		return nil, err
	}
	if n.mode != filemode.Dir {
		return nil, &fs.PathError{Op: "sub", Path: dir, Err: errNotDir}
	}
	return &treeFS{repo: f.repo, root: n.hash, modTime: f.modTime, dirs: f.dirs}, nil
}

// info describes n. The caller holds repo.mu.
func (f *treeFS) info(op, name string, n node) (*fileInfo, error) {
	mode, _ := fileMode(n.mode)
	fi := &fileInfo{name: n.name, mode: mode, modTime: f.modTime}
	if n.mode != filemode.Dir {
		size, err := f.repo.git.Storer.EncodedObjectSize(n.hash)
		if err != nil {
			return nil, &fs.PathError{Op: op, Path: name, Err: fmt.Errorf("read blob %s: %w", n.hash, err)}
		}
		fi.size = size
	}
	return fi, nil
}

// readBlob returns the content of the blob n. The caller holds repo.mu.
func (f *treeFS) readBlob(op, name string, n node) ([]byte, error) {
	b, err := readBlob(f.repo, n.hash)
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: name, Err: err}
	}
	return b, nil
}

// dirEntries returns the entries of directory n. The caller holds repo.mu.
func (f *treeFS) dirEntries(op, name string, n node) ([]fs.DirEntry, error) {
	d, err := f.loadDir(n.hash)
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: name, Err: err}
	}
	list := make([]fs.DirEntry, len(d.entries))
	for i, e := range d.entries {
		list[i] = &dirEntry{fsys: f, path: path.Join(name, e.name), n: e}
	}
	return list, nil
}

// Open implements [fs.FS].
func (f *treeFS) Open(name string) (fs.File, error) {
	f.repo.mu.Lock()
	defer f.repo.mu.Unlock()
	n, err := f.lookup("open", name)
	if err != nil {
		return nil, err
	}
	fi, err := f.info("open", name, n)
	if err != nil {
		return nil, err
	}
	switch n.mode {
	case filemode.Dir:
		list, err := f.dirEntries("open", name, n)
		if err != nil {
			return nil, err
		}
		return &dirFile{path: name, info: fi, entries: list}, nil
	case filemode.Symlink:
		return &linkFile{path: name, info: fi}, nil
	default:
		return &blobFile{fsys: f, path: name, n: n, info: fi}, nil
	}
}

// ReadDir implements [fs.ReadDirFS].
func (f *treeFS) ReadDir(name string) ([]fs.DirEntry, error) {
	f.repo.mu.Lock()
	defer f.repo.mu.Unlock()
	n, err := f.lookup("readdir", name)
	if err != nil {
		return nil, err
	}
	if n.mode != filemode.Dir {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errNotDir}
	}
	return f.dirEntries("readdir", name, n)
}

// ReadFile implements [fs.ReadFileFS].
func (f *treeFS) ReadFile(name string) ([]byte, error) {
	f.repo.mu.Lock()
	defer f.repo.mu.Unlock()
	n, err := f.lookup("read", name)
	if err != nil {
		return nil, err
	}
	switch n.mode {
	case filemode.Dir:
		return nil, &fs.PathError{Op: "read", Path: name, Err: errIsDir}
	case filemode.Symlink:
		return nil, &fs.PathError{Op: "read", Path: name, Err: ErrSymlink}
	}
	return f.readBlob("read", name, n)
}

// Stat implements [fs.StatFS]. It does not follow symbolic links.
func (f *treeFS) Stat(name string) (fs.FileInfo, error) {
	f.repo.mu.Lock()
	defer f.repo.mu.Unlock()
	n, err := f.lookup("stat", name)
	if err != nil {
		return nil, err
	}
	return f.info("stat", name, n)
}

// Lstat implements [fs.ReadLinkFS]. It is the same as Stat.
func (f *treeFS) Lstat(name string) (fs.FileInfo, error) {
	f.repo.mu.Lock()
	defer f.repo.mu.Unlock()
	n, err := f.lookup("lstat", name)
	if err != nil {
		return nil, err
	}
	return f.info("lstat", name, n)
}

// ReadLink implements [fs.ReadLinkFS].
func (f *treeFS) ReadLink(name string) (string, error) {
	f.repo.mu.Lock()
	defer f.repo.mu.Unlock()
	n, err := f.lookup("readlink", name)
	if err != nil {
		return "", err
	}
	if n.mode != filemode.Symlink {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
	}
	b, err := f.readBlob("readlink", name, n)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// fileMode maps a Git file mode to an fs.FileMode. It reports false for
// modes that have no file system counterpart (submodules, invalid modes).
func fileMode(m filemode.FileMode) (fs.FileMode, bool) {
	switch m {
	case filemode.Dir:
		return fs.ModeDir | 0o755, true
	case filemode.Regular, filemode.Deprecated:
		return 0o644, true
	case filemode.Executable:
		return 0o755, true
	case filemode.Symlink:
		return fs.ModeSymlink | 0o777, true
	default:
		return 0, false
	}
}

// validName reports whether a tree entry name is a single, safe path element.
func validName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, "/\\\x00")
}

// fileInfo implements fs.FileInfo for tree entries.
type fileInfo struct {
	name    string
	size    int64
	mode    fs.FileMode
	modTime time.Time
}

func (fi *fileInfo) Name() string       { return fi.name }
func (fi *fileInfo) Size() int64        { return fi.size }
func (fi *fileInfo) Mode() fs.FileMode  { return fi.mode }
func (fi *fileInfo) ModTime() time.Time { return fi.modTime }
func (fi *fileInfo) IsDir() bool        { return fi.mode.IsDir() }
func (fi *fileInfo) Sys() any           { return nil }
func (fi *fileInfo) String() string     { return fs.FormatFileInfo(fi) }

// dirEntry implements fs.DirEntry; Info looks the blob size up lazily.
type dirEntry struct {
	fsys *treeFS
	path string
	n    node
}

func (e *dirEntry) Name() string { return e.n.name }
func (e *dirEntry) IsDir() bool  { return e.n.mode == filemode.Dir }

func (e *dirEntry) Type() fs.FileMode {
	m, _ := fileMode(e.n.mode)
	return m.Type()
}

func (e *dirEntry) Info() (fs.FileInfo, error) {
	e.fsys.repo.mu.Lock()
	defer e.fsys.repo.mu.Unlock()
	return e.fsys.info("stat", e.path, e.n)
}

func (e *dirEntry) String() string { return fs.FormatDirEntry(e) }

// dirFile is an open directory.
type dirFile struct {
	path    string
	info    *fileInfo
	entries []fs.DirEntry
	offset  int
	closed  bool
}

func (d *dirFile) Stat() (fs.FileInfo, error) { return d.info, nil }

func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.path, Err: errIsDir}
}

func (d *dirFile) Close() error {
	d.closed = true
	return nil
}

func (d *dirFile) ReadDir(count int) ([]fs.DirEntry, error) {
	if d.closed {
		return nil, &fs.PathError{Op: "readdir", Path: d.path, Err: fs.ErrClosed}
	}
	rest := d.entries[d.offset:]
	if count > 0 && len(rest) == 0 {
		return nil, io.EOF
	}
	if count > 0 && count < len(rest) {
		rest = rest[:count]
	}
	d.offset += len(rest)
	return slices.Clone(rest), nil
}

// linkFile is an open symbolic link: it can be stat'ed but not read.
type linkFile struct {
	path string
	info *fileInfo
}

func (l *linkFile) Stat() (fs.FileInfo, error) { return l.info, nil }

func (l *linkFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: l.path, Err: ErrSymlink}
}

func (l *linkFile) Close() error { return nil }

// blobFile is an open regular file; its content is loaded on first read.
type blobFile struct {
	fsys   *treeFS
	path   string
	n      node
	info   *fileInfo
	r      *bytes.Reader
	closed bool
}

func (b *blobFile) Stat() (fs.FileInfo, error) { return b.info, nil }

func (b *blobFile) Close() error {
	b.closed = true
	return nil
}

func (b *blobFile) reader(op string) (*bytes.Reader, error) {
	if b.closed {
		return nil, &fs.PathError{Op: op, Path: b.path, Err: fs.ErrClosed}
	}
	if b.r == nil {
		b.fsys.repo.mu.Lock()
		data, err := b.fsys.readBlob(op, b.path, b.n)
		b.fsys.repo.mu.Unlock()
		if err != nil {
			return nil, err
		}
		b.r = bytes.NewReader(data)
	}
	return b.r, nil
}

func (b *blobFile) Read(p []byte) (int, error) {
	r, err := b.reader("read")
	if err != nil {
		return 0, err
	}
	return r.Read(p)
}

func (b *blobFile) ReadAt(p []byte, off int64) (int, error) {
	r, err := b.reader("read")
	if err != nil {
		return 0, err
	}
	return r.ReadAt(p, off)
}

func (b *blobFile) Seek(offset int64, whence int) (int64, error) {
	r, err := b.reader("seek")
	if err != nil {
		return 0, err
	}
	return r.Seek(offset, whence)
}

// readBlob returns the content of the blob h. The caller holds r.mu.
func readBlob(r *Repo, h plumbing.Hash) ([]byte, error) {
	blob, err := r.git.BlobObject(h)
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", h, err)
	}
	rc, err := blob.Reader()
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", h, err)
	}
	defer rc.Close()
	buf := bytes.NewBuffer(make([]byte, 0, blob.Size))
	if _, err := io.Copy(buf, rc); err != nil {
		return nil, fmt.Errorf("read blob %s: %w", h, err)
	}
	return buf.Bytes(), nil
}
