package gitrepo

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/google/go-cmp/cmp"
)

// diskContents lists every non-directory entry under dir in the form of
// treeContents.
func diskContents(t *testing.T, dir string) map[string]string {
	t.Helper()
	got := make(map[string]string)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			got[rel] = "link:" + filepath.ToSlash(target)
		case info.Mode()&0o100 != 0:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			got[rel] = "exec:" + string(b)
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			got[rel] = "file:" + string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestExtract(t *testing.T) {
	f := newFixture(t)
	r := f.open(t)
	tests := []struct {
		name string
		rev  string
		dst  func(t *testing.T) string
		want map[string]string
	}{
		{
			name: "missing destination",
			rev:  "HEAD",
			dst:  func(t *testing.T) string { return filepath.Join(t.TempDir(), "a", "b") },
			want: wantC2,
		},
		{
			name: "empty destination",
			rev:  "HEAD~1",
			dst:  func(t *testing.T) string { return t.TempDir() },
			want: wantC1,
		},
		{
			name: "annotated tag",
			rev:  "v2",
			dst:  func(t *testing.T) string { return t.TempDir() },
			want: wantC2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := tt.dst(t)
			if err := r.Extract(tt.rev, dst); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, diskContents(t, dst)); diff != "" {
				t.Errorf("extracted tree mismatch (-want +got):\n%s", diff)
			}
			// Links work on disk.
			if tt.want["docs/readme"] != "" {
				b, err := os.ReadFile(filepath.Join(dst, "docs", "readme"))
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff("v2\n", string(b)); diff != "" {
					t.Errorf("docs/readme through link mismatch (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestExtractDestination(t *testing.T) {
	f := newFixture(t)
	r := f.open(t)
	nonEmpty := t.TempDir()
	if err := os.WriteFile(filepath.Join(nonEmpty, "keep"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	aFile := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(aFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		rev     string
		dst     string
		wantErr error
	}{
		{name: "not empty", rev: "HEAD", dst: nonEmpty},
		{name: "a file", rev: "HEAD", dst: aFile},
		{name: "unknown revision", rev: "nope", dst: t.TempDir(), wantErr: ErrRevisionNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := r.Extract(tt.rev, tt.dst)
			if err == nil {
				t.Fatal("Extract succeeded, want error")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error = %v, want %v", err, tt.wantErr)
			}
		})
	}
	b, err := os.ReadFile(filepath.Join(nonEmpty, "keep"))
	if err != nil || len(b) != 0 {
		t.Errorf("existing content was touched: %q, %v", b, err)
	}
}

func TestExtractSymlinks(t *testing.T) {
	readme := file{path: "README.md", content: "hi\n"}
	tests := []struct {
		name     string
		files    []file
		wantLink string // the offending link named in the error; "" for success
		want     map[string]string
	}{
		{
			name:  "inside",
			files: []file{readme, {path: "a/b/up", link: "../../README.md"}, {path: "self", link: "."}},
			want:  map[string]string{"README.md": "file:hi\n", "a/b/up": "link:../../README.md", "self": "link:."},
		},
		{
			name:  "dangling inside",
			files: []file{readme, {path: "gen", link: "generated/out.yaml"}},
			want:  map[string]string{"README.md": "file:hi\n", "gen": "link:generated/out.yaml"},
		},
		{
			name:     "parent",
			files:    []file{readme, {path: "evil", link: "../outside"}},
			wantLink: "evil",
		},
		{
			name:     "nested parent",
			files:    []file{readme, {path: "a/b/evil", link: "../../../etc/passwd"}},
			wantLink: "a/b/evil",
		},
		{
			name:     "absolute",
			files:    []file{readme, {path: "abs", link: "/etc/passwd"}},
			wantLink: "abs",
		},
		{
			// Each link alone stays inside, but x goes through a/b/c/l,
			// which points back to the root, and then climbs two levels.
			name:     "chain",
			files:    []file{readme, {path: "a/b/c/l", link: "../../.."}, {path: "x", link: "a/b/c/l/../.."}},
			wantLink: "x",
		},
		{
			name:     "loop",
			files:    []file{readme, {path: "l1", link: "l2"}, {path: "l2", link: "l1"}},
			wantLink: "l1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, r := newRepoWith(t, tt.files...)
			dst := filepath.Join(t.TempDir(), "out")
			err := r.Extract("HEAD", dst)
			if tt.wantLink == "" {
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.want, diskContents(t, dst)); diff != "" {
					t.Errorf("extracted tree mismatch (-want +got):\n%s", diff)
				}
				return
			}
			if !errors.Is(err, ErrUnsafeSymlink) {
				t.Fatalf("Extract error = %v, want ErrUnsafeSymlink", err)
			}
			if !strings.Contains(err.Error(), "symlink "+tt.wantLink+" ") {
				t.Errorf("error %q does not name %s", err, tt.wantLink)
			}
			if _, err := os.Lstat(dst); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("destination was written despite the unsafe link: %v", err)
			}
		})
	}
}

func TestExtractCraftedTrees(t *testing.T) {
	tests := []struct {
		name    string
		entries []entry
		want    map[string]string
		wantErr string
	}{
		{
			name: "submodule skipped",
			entries: []entry{
				{name: "README.md", mode: filemode.Regular, content: "hi\n"},
				{name: "vendor", mode: filemode.Submodule},
			},
			want: map[string]string{"README.md": "file:hi\n"},
		},
		{
			name:    "dot git entry",
			entries: []entry{{name: ".git", mode: filemode.Regular, content: "gitdir: /tmp\n"}},
			wantErr: `".git"`,
		},
		{
			name:    "dot git entry, other case",
			entries: []entry{{name: ".GIT", mode: filemode.Regular, content: "x"}},
			wantErr: `".GIT"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, g := initRepo(t)
			commitTree(t, g, tt.entries...)
			r, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			dst := filepath.Join(t.TempDir(), "out")
			err = r.Extract("main", dst)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Extract error = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, diskContents(t, dst)); diff != "" {
				t.Errorf("extracted tree mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
