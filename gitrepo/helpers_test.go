package gitrepo

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// epoch is the fixed author and committer time of the first test commit.
var epoch = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

func signature(when time.Time) *object.Signature {
	return &object.Signature{Name: "Fluxgate Test", Email: "test@fluxgate.invalid", When: when}
}

// file describes one work-tree entry to write: a regular file with content
// (executable when exec), or a symbolic link to link.
type file struct {
	path    string
	content string
	exec    bool
	link    string
}

// initRepo creates a repository with default branch main in a new
// temporary directory.
func initRepo(t *testing.T) (string, *git.Repository) {
	t.Helper()
	dir := t.TempDir()
	g, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName("main")},
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir, g
}

// writeFiles writes files into the work tree dir.
func writeFiles(t *testing.T, dir string, files ...file) {
	t.Helper()
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		if f.link != "" {
			if err := os.Symlink(f.link, p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		perm := os.FileMode(0o644)
		if f.exec {
			perm = 0o755
		}
		if err := os.WriteFile(p, []byte(f.content), perm); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, perm); err != nil { // ignore the umask
			t.Fatal(err)
		}
	}
}

// commitAll stages every change in the work tree and commits it at when,
// returning the commit hash.
func commitAll(t *testing.T, g *git.Repository, msg string, when time.Time) string {
	t.Helper()
	wt, err := g.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	h, err := wt.Commit(msg, &git.CommitOptions{Author: signature(when), Committer: signature(when)})
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

// newRepoWith creates a repository holding one commit of files.
func newRepoWith(t *testing.T, files ...file) (string, *Repo) {
	t.Helper()
	dir, g := initRepo(t)
	writeFiles(t, dir, files...)
	commitAll(t, g, "import", epoch)
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return dir, r
}

// fixture is a repository with two commits on main, and refs around them.
type fixture struct {
	dir    string
	git    *git.Repository
	c1, c2 string
}

// Contents of the fixture's commits, in the form produced by treeContents.
var (
	wantC1 = map[string]string{
		"README.md":     "file:v1\n",
		"apps/app.yaml": "file:kind: App\n",
		"bin/run.sh":    "exec:#!/bin/sh\necho run\n",
	}
	wantC2 = map[string]string{
		"README.md":          "file:v2\n",
		"apps/app.yaml":      "file:kind: App\nspec: {}\n",
		"apps/new.yaml":      "file:kind: New\n",
		"bin/run.sh":         "exec:#!/bin/sh\necho run\n",
		"docs/readme":        "link:../README.md",
		"latest":             "link:apps",
		"empty.txt":          "file:",
		"deep/a/b/c/up.yaml": "link:../../../../apps/new.yaml",
	}
)

// newFixture builds this history, then leaves uncommitted changes behind:
//
//	c1 (main~1, feature, v1) <- c2 (main, HEAD, origin/main, v2 annotated)
func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir, g := initRepo(t)
	writeFiles(t, dir,
		file{path: "README.md", content: "v1\n"},
		file{path: "apps/app.yaml", content: "kind: App\n"},
		file{path: "bin/run.sh", content: "#!/bin/sh\necho run\n", exec: true},
	)
	c1 := commitAll(t, g, "first", epoch)
	writeFiles(t, dir,
		file{path: "README.md", content: "v2\n"},
		file{path: "apps/app.yaml", content: "kind: App\nspec: {}\n"},
		file{path: "apps/new.yaml", content: "kind: New\n"},
		file{path: "docs/readme", link: "../README.md"},
		file{path: "latest", link: "apps"},
		file{path: "empty.txt"},
		file{path: "deep/a/b/c/up.yaml", link: "../../../../apps/new.yaml"},
	)
	c2 := commitAll(t, g, "second", epoch.Add(time.Hour))

	for name, h := range map[plumbing.ReferenceName]string{
		"refs/heads/feature":       c1,
		"refs/remotes/origin/main": c2,
	} {
		if err := g.Storer.SetReference(plumbing.NewHashReference(name, plumbing.NewHash(h))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := g.CreateTag("v1", plumbing.NewHash(c1), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := g.CreateTag("v2", plumbing.NewHash(c2), &git.CreateTagOptions{
		Tagger: signature(epoch.Add(2 * time.Hour)), Message: "release v2",
	}); err != nil {
		t.Fatal(err)
	}

	// Uncommitted work: a modified file and an untracked one.
	writeFiles(t, dir,
		file{path: "README.md", content: "dirty\n"},
		file{path: "untracked.txt", content: "new\n"},
	)
	return &fixture{dir: dir, git: g, c1: c1, c2: c2}
}

func (f *fixture) open(t *testing.T) *Repo {
	t.Helper()
	r, err := Open(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// entry is one entry of a tree built by commitTree: a blob with content,
// or, with mode filemode.Submodule, a gitlink to an arbitrary commit.
type entry struct {
	name    string
	mode    filemode.FileMode
	content string
}

// commitTree writes a commit of a single tree holding entries, bypassing
// the work tree so that trees git itself would not produce can be built,
// and points main at it. entries must be in Git tree order.
func commitTree(t *testing.T, g *git.Repository, entries ...entry) string {
	t.Helper()
	store := func(typ plumbing.ObjectType, encode func(plumbing.EncodedObject) error) plumbing.Hash {
		obj := g.Storer.NewEncodedObject()
		obj.SetType(typ)
		if err := encode(obj); err != nil {
			t.Fatal(err)
		}
		h, err := g.Storer.SetEncodedObject(obj)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	tree := &object.Tree{}
	for _, e := range entries {
		h := plumbing.NewHash("1234567890123456789012345678901234567890")
		if e.mode != filemode.Submodule {
			h = store(plumbing.BlobObject, func(obj plumbing.EncodedObject) error {
				w, err := obj.Writer()
				if err != nil {
					return err
				}
				if _, err := io.WriteString(w, e.content); err != nil {
					return err
				}
				return w.Close()
			})
		}
		tree.Entries = append(tree.Entries, object.TreeEntry{Name: e.name, Mode: e.mode, Hash: h})
	}
	th := store(plumbing.TreeObject, tree.Encode)
	commit := &object.Commit{
		Author:    *signature(epoch),
		Committer: *signature(epoch),
		Message:   "crafted",
		TreeHash:  th,
	}
	ch := store(plumbing.CommitObject, commit.Encode)
	if err := g.Storer.SetReference(plumbing.NewHashReference("refs/heads/main", ch)); err != nil {
		t.Fatal(err)
	}
	return ch.String()
}
