package gitrepo

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// diskDirs lists the directories under dir, relative to it.
func diskDirs(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() || p == dir {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		out = append(out, filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestUpdate(t *testing.T) {
	dir, g := initRepo(t)
	writeFiles(t, dir,
		file{path: "README.md", content: "v1\n"},
		file{path: "apps/a.yaml", content: "a\n"},
		file{path: "apps/b.yaml", content: "b\n"},
		file{path: "gone/deep/x.yaml", content: "x\n"},
		file{path: "becomes-dir", content: "file\n"},
		file{path: "becomes-file/y.yaml", content: "y\n"},
		file{path: "run.sh", content: "#!/bin/sh\n"},
		file{path: "link", link: "apps"},
	)
	c1 := commitAll(t, g, "one", epoch)
	for _, p := range []string{"gone", "becomes-dir", "becomes-file", "apps/b.yaml", "link"} {
		if err := os.RemoveAll(filepath.Join(dir, p)); err != nil {
			t.Fatal(err)
		}
	}
	commitAll(t, g, "removals", epoch) // go-git's index cannot turn a file into a directory in one go
	writeFiles(t, dir,
		file{path: "README.md", content: "v2\n"},
		file{path: "becomes-dir/z.yaml", content: "z\n"},
		file{path: "becomes-file", content: "now a file\n"},
		file{path: "new/sub/n.yaml", content: "n\n"},
		file{path: "run.sh", content: "#!/bin/sh\n", exec: true},
		file{path: "link", link: "README.md"},
		file{path: "new/up", link: "../apps/a.yaml"},
	)
	c2 := commitAll(t, g, "two", epoch)
	// c2 to c3 changes no link: Update reads only the changed entries.
	for _, p := range []string{"new/sub", "becomes-dir"} {
		if err := os.RemoveAll(filepath.Join(dir, p)); err != nil {
			t.Fatal(err)
		}
	}
	commitAll(t, g, "removals", epoch)
	writeFiles(t, dir,
		file{path: "README.md", content: "v3\n"},
		file{path: "new/sub", content: "a file now\n"},
		file{path: "becomes-dir", content: "a file again\n"},
		file{path: "added/deep/er/d.yaml", content: "d\n", exec: true},
	)
	c3 := commitAll(t, g, "three", epoch)
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, revs := range [][2]string{{c1, c2}, {c2, c1}, {c2, c3}, {c3, c2}, {c1, c3}} {
		want := filepath.Join(t.TempDir(), "want")
		if err := r.Extract(revs[1], want); err != nil {
			t.Fatal(err)
		}
		got := filepath.Join(t.TempDir(), "got")
		if err := r.Extract(revs[0], got); err != nil {
			t.Fatal(err)
		}
		if err := r.Update(got, revs[0], revs[1]); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(diskContents(t, want), diskContents(t, got)); diff != "" {
			t.Errorf("Update(%s, %s) files (-Extract +Update):\n%s", revs[0], revs[1], diff)
		}
		if diff := cmp.Diff(diskDirs(t, want), diskDirs(t, got)); diff != "" {
			t.Errorf("Update(%s, %s) directories (-Extract +Update):\n%s", revs[0], revs[1], diff)
		}
	}
}

func TestUpdateUnsafeSymlink(t *testing.T) {
	dir, g := initRepo(t)
	writeFiles(t, dir, file{path: "README.md", content: "v1\n"})
	c1 := commitAll(t, g, "one", epoch)
	writeFiles(t, dir, file{path: "README.md", content: "v2\n"}, file{path: "evil", link: "../outside"})
	c2 := commitAll(t, g, "two", epoch)
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "out")
	if err := r.Extract(c1, dst); err != nil {
		t.Fatal(err)
	}
	if err := r.Update(dst, c1, c2); !errors.Is(err, ErrUnsafeSymlink) {
		t.Fatalf("Update: got %v, want an error wrapping ErrUnsafeSymlink", err)
	}
	if diff := cmp.Diff(map[string]string{"README.md": "file:v1\n"}, diskContents(t, dst)); diff != "" {
		t.Errorf("Update changed the destination (-want +got):\n%s", diff)
	}
}
