package gitrepo

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// ErrNotRepository is returned (wrapped) by [Open] when neither the directory
// nor any of its parents is inside a Git work tree.
var ErrNotRepository = errors.New("not a git repository")

// ErrRevisionNotFound is returned (wrapped) when a revision names no commit.
var ErrRevisionNotFound = errors.New("revision not found")

// Repo is a Git repository opened on disk with [Open] or cloned into
// memory with [CloneBranch].
//
// A Repo, and the file systems returned by [Repo.TreeFS], are safe for
// concurrent use: access to the object database is serialised (including
// for the duration of [Repo.FetchBranch] and [Repo.PushBranch]).
type Repo struct {
	mu     sync.Mutex // guards git, whose storage is not safe for concurrent use
	git    *git.Repository
	root   string        // work-tree root; "" for a clone in memory
	remote *remoteAccess // set by CloneBranch; nil: use the remote "origin"
	// trees holds the trees TreeFS decoded, by hash, shared by every
	// revision's TreeFS (two revisions share most trees); guarded by mu.
	trees map[plumbing.Hash]*dirNode
}

// Open opens the repository containing dir. Like git, it searches dir and
// then its parent directories for a ".git" directory or a ".git" file (as
// used by linked worktrees and submodules). It returns an error wrapping
// [ErrNotRepository] when no repository is found.
func Open(dir string) (*Repo, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open repository at %s: %w", dir, err)
	}
	if _, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("open repository at %s: %w", dir, err)
	}
	g, err := git.PlainOpenWithOptions(abs, &git.PlainOpenOptions{
		DetectDotGit:          true,
		EnableDotGitCommonDir: true,
	})
	if errors.Is(err, git.ErrRepositoryNotExists) {
		return nil, fmt.Errorf("open repository at %s: %w", dir, ErrNotRepository)
	}
	if err != nil {
		return nil, fmt.Errorf("open repository at %s: %w", dir, err)
	}
	wt, err := g.Worktree()
	if errors.Is(err, git.ErrIsBareRepository) {
		return nil, fmt.Errorf("open repository at %s: bare repository has no work tree: %w", dir, ErrNotRepository)
	}
	if err != nil {
		return nil, fmt.Errorf("open repository at %s: %w", dir, err)
	}
	if st, ok := g.Storer.(*filesystem.Storage); ok {
		// Keep pack files open between object reads: reading a tree's
		// blobs one by one otherwise opens the pack again for each.
		keep := filesystem.NewStorageWithOptions(st.Filesystem(), cache.NewObjectLRUDefault(), filesystem.Options{KeepDescriptors: true, ExclusiveAccess: true})
		if g, err = git.Open(keep, wt.Filesystem); err != nil {
			return nil, fmt.Errorf("open repository at %s: %w", dir, err)
		}
	}
	return &Repo{git: g, root: wt.Filesystem.Root()}, nil
}

// Root returns the absolute work-tree root directory, or "" for a
// repository from [CloneBranch], which has none.
func (r *Repo) Root() string {
	return r.root
}

// RemoteURLs returns the fetch URLs of all remotes, the one of "origin"
// first, the others sorted by remote name. url.<base>.insteadOf rules from
// the repository configuration are applied. A repository without remotes
// yields an empty list.
func (r *Repo) RemoteURLs() ([]string, error) {
	r.mu.Lock()
	cfg, err := r.git.Config()
	r.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("read config of repository %s: %w", r.root, err)
	}
	names := make([]string, 0, len(cfg.Remotes))
	for name := range cfg.Remotes {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool {
		if (names[i] == "origin") != (names[j] == "origin") {
			return names[i] == "origin"
		}
		return names[i] < names[j]
	})
	var urls []string
	for _, name := range names {
		// git fetches from the first url; further ones are push-only.
		if rc := cfg.Remotes[name]; len(rc.URLs) > 0 {
			urls = append(urls, rc.URLs[0])
		}
	}
	return urls, nil
}

// Resolve turns a revision into the full hexadecimal hash of the commit it
// names. Accepted forms include branch and tag names (annotated tags are
// peeled to their commit), remote-tracking branches such as "origin/main",
// full reference names, "HEAD", ancestry suffixes such as "HEAD~1" or
// "main^", and full or abbreviated commit hashes. An unknown revision gives
// an error wrapping [ErrRevisionNotFound].
func (r *Repo) Resolve(rev string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.commit(rev)
	if err != nil {
		return "", err
	}
	return c.Hash.String(), nil
}

// commit resolves rev to a commit object. The caller holds r.mu.
func (r *Repo) commit(rev string) (*object.Commit, error) {
	if rev == "" {
		return nil, fmt.Errorf("resolve revision %q: %w", rev, ErrRevisionNotFound)
	}
	h, err := r.git.ResolveRevision(plumbing.Revision(rev))
	if errors.Is(err, plumbing.ErrReferenceNotFound) || errors.Is(err, object.ErrParentNotFound) || errors.Is(err, io.EOF) {
		// io.EOF: an ancestry suffix such as HEAD~9 went past a root commit.
		return nil, fmt.Errorf("resolve revision %q: %w", rev, ErrRevisionNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("resolve revision %q: %w", rev, err)
	}
	c, err := r.git.CommitObject(*h)
	if err != nil {
		return nil, fmt.Errorf("resolve revision %q: read commit %s: %w", rev, h, err)
	}
	return c, nil
}

// ChangedFiles lists, sorted, the paths (slash-separated, relative to the
// repository root) whose content, mode or existence differs between the
// trees of revisions from and to. A rename lists both paths.
func (r *Repo) ChangedFiles(from, to string) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	changes, _, err := r.diffTrees(from, to)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, c := range changes {
		for _, name := range []string{c.From.Name, c.To.Name} {
			if name != "" {
				seen[name] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out, nil
}

// diffTrees compares the trees of revisions from and to and returns the
// changes and the tree of to. The caller holds r.mu.
func (r *Repo) diffTrees(from, to string) (object.Changes, *object.Tree, error) {
	var trees [2]*object.Tree
	for i, rev := range []string{from, to} {
		c, err := r.commit(rev)
		if err != nil {
			return nil, nil, err
		}
		if trees[i], err = c.Tree(); err != nil {
			return nil, nil, fmt.Errorf("read the tree of %s: %w", rev, err)
		}
	}
	changes, err := object.DiffTree(trees[0], trees[1])
	if err != nil {
		return nil, nil, fmt.Errorf("compare %s and %s: %w", from, to, err)
	}
	return changes, trees[1], nil
}
