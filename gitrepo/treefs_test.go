package gitrepo

import (
	"errors"
	"io"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/google/go-cmp/cmp"
)

// treeContents lists every non-directory entry of fsys as "file:content",
// "exec:content" or "link:target".
func treeContents(t *testing.T, fsys fs.FS) map[string]string {
	t.Helper()
	got := make(map[string]string)
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := fs.ReadLink(fsys, p)
			if err != nil {
				return err
			}
			got[p] = "link:" + target
		case info.Mode()&0o111 != 0:
			b, err := fs.ReadFile(fsys, p)
			if err != nil {
				return err
			}
			got[p] = "exec:" + string(b)
		default:
			b, err := fs.ReadFile(fsys, p)
			if err != nil {
				return err
			}
			got[p] = "file:" + string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestTreeFS(t *testing.T) {
	f := newFixture(t)
	r := f.open(t)
	tests := []struct {
		rev         string
		want        map[string]string
		wantModTime time.Time
	}{
		{rev: "HEAD", want: wantC2, wantModTime: epoch.Add(time.Hour)},
		{rev: "v2", want: wantC2, wantModTime: epoch.Add(time.Hour)},
		{rev: "HEAD~1", want: wantC1, wantModTime: epoch},
		{rev: "feature", want: wantC1, wantModTime: epoch},
		{rev: f.c1[:8], want: wantC1, wantModTime: epoch},
	}
	for _, tt := range tests {
		t.Run(tt.rev, func(t *testing.T) {
			fsys, err := r.TreeFS(tt.rev)
			if err != nil {
				t.Fatal(err)
			}
			if err := fstest.TestFS(fsys, slices.Sorted(maps.Keys(tt.want))...); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, treeContents(t, fsys)); diff != "" {
				t.Errorf("tree mismatch (-want +got):\n%s", diff)
			}
			info, err := fs.Stat(fsys, "README.md")
			if err != nil {
				t.Fatal(err)
			}
			if !info.ModTime().Equal(tt.wantModTime) {
				t.Errorf("ModTime() = %v, want commit time %v", info.ModTime(), tt.wantModTime)
			}
		})
	}
}

func TestTreeFSIgnoresWorktree(t *testing.T) {
	f := newFixture(t) // leaves README.md modified and untracked.txt behind
	fsys, err := f.open(t).TreeFS("HEAD")
	if err != nil {
		t.Fatal(err)
	}
	got, err := fs.ReadFile(fsys, "README.md")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff("v2\n", string(got)); diff != "" {
		t.Errorf("README.md mismatch (-want +got):\n%s", diff)
	}
	if _, err := fs.Stat(fsys, "untracked.txt"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat(untracked.txt) error = %v, want fs.ErrNotExist", err)
	}
}

func TestTreeFSSymlinks(t *testing.T) {
	f := newFixture(t)
	fsys, err := f.open(t).TreeFS("HEAD")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("stat", func(t *testing.T) {
		for _, stat := range []func(fs.FS, string) (fs.FileInfo, error){fs.Stat, fs.Lstat} {
			info, err := stat(fsys, "docs/readme")
			if err != nil {
				t.Fatal(err)
			}
			got := []any{info.Name(), info.Mode(), info.Size(), info.IsDir()}
			want := []any{"readme", fs.ModeSymlink | 0o777, int64(len("../README.md")), false}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("stat mismatch (-want +got):\n%s", diff)
			}
		}
	})

	t.Run("readlink", func(t *testing.T) {
		got, err := fs.ReadLink(fsys, "latest")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff("apps", got); diff != "" {
			t.Errorf("ReadLink mismatch (-want +got):\n%s", diff)
		}
		if _, err := fs.ReadLink(fsys, "README.md"); err == nil {
			t.Error("ReadLink(README.md) succeeded on a regular file")
		}
	})

	// Every way of reading through a link fails with an error naming it.
	tests := []struct {
		name     string
		read     func() error
		wantPath string
	}{
		{
			name:     "ReadFile link",
			read:     func() error { _, err := fs.ReadFile(fsys, "docs/readme"); return err },
			wantPath: "docs/readme",
		},
		{
			name: "Open and Read link",
			read: func() error {
				file, err := fsys.Open("docs/readme")
				if err != nil {
					return err
				}
				defer file.Close()
				_, err = io.ReadAll(file)
				return err
			},
			wantPath: "docs/readme",
		},
		{
			name:     "ReadFile through directory link",
			read:     func() error { _, err := fs.ReadFile(fsys, "latest/app.yaml"); return err },
			wantPath: "latest",
		},
		{
			name:     "ReadDir directory link",
			read:     func() error { _, err := fs.ReadDir(fsys, "latest"); return err },
			wantPath: "latest",
		},
		{
			name:     "Stat through directory link",
			read:     func() error { _, err := fs.Stat(fsys, "latest/new.yaml"); return err },
			wantPath: "latest",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.read()
			if err == nil {
				t.Fatal("read through a symbolic link succeeded")
			}
			if !strings.Contains(err.Error(), tt.wantPath) {
				t.Errorf("error %q does not name %s", err, tt.wantPath)
			}
		})
	}

	t.Run("ErrSymlink", func(t *testing.T) {
		_, err := fs.ReadFile(fsys, "latest/app.yaml")
		if !errors.Is(err, ErrSymlink) {
			t.Errorf("error = %v, want ErrSymlink", err)
		}
		var pe *fs.PathError
		if !errors.As(err, &pe) || pe.Path != "latest/app.yaml" {
			t.Errorf("error = %#v, want *fs.PathError for latest/app.yaml", err)
		}
	})
}

func TestTreeFSErrors(t *testing.T) {
	f := newFixture(t)
	r := f.open(t)
	if _, err := r.TreeFS("nope"); !errors.Is(err, ErrRevisionNotFound) {
		t.Errorf("TreeFS(nope) error = %v, want ErrRevisionNotFound", err)
	}
	fsys, err := r.TreeFS("HEAD")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		op      func() error
		wantErr error
	}{
		{name: "missing file", op: func() error { _, err := fs.ReadFile(fsys, "missing"); return err }, wantErr: fs.ErrNotExist},
		{name: "below a file", op: func() error { _, err := fsys.Open("README.md/x"); return err }, wantErr: fs.ErrNotExist},
		{name: "invalid path", op: func() error { _, err := fsys.Open("../x"); return err }, wantErr: fs.ErrInvalid},
		{name: "ReadFile directory", op: func() error { _, err := fs.ReadFile(fsys, "apps"); return err }},
		{name: "ReadDir file", op: func() error { _, err := fs.ReadDir(fsys, "README.md"); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.op()
			if err == nil {
				t.Fatal("succeeded, want error")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestTreeFSSkipsSubmodules(t *testing.T) {
	dir, g := initRepo(t)
	commitTree(t, g,
		entry{name: "README.md", mode: filemode.Regular, content: "hi\n"},
		entry{name: "vendor", mode: filemode.Submodule},
	)
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	fsys, err := r.TreeFS("main")
	if err != nil {
		t.Fatal(err)
	}
	if err := fstest.TestFS(fsys, "README.md"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"README.md": "file:hi\n"}, treeContents(t, fsys)); diff != "" {
		t.Errorf("tree mismatch (-want +got):\n%s", diff)
	}
	if _, err := fs.Stat(fsys, "vendor"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat(vendor) error = %v, want fs.ErrNotExist", err)
	}
}

// TestTreeFSConcurrent reads one file system from several goroutines; run
// it with -race.
func TestTreeFSConcurrent(t *testing.T) {
	f := newFixture(t)
	fsys, err := f.open(t).TreeFS("HEAD")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if diff := cmp.Diff(wantC2, treeContents(t, fsys)); diff != "" {
				t.Errorf("tree mismatch (-want +got):\n%s", diff)
			}
		})
	}
	wg.Wait()
}
