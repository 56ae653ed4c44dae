package gitrepo

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/config"
	"github.com/google/go-cmp/cmp"
)

func TestOpen(t *testing.T) {
	f := newFixture(t)
	if err := os.MkdirAll(filepath.Join(f.dir, "apps", "nested"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		dir  string
	}{
		{name: "root", dir: f.dir},
		{name: "subdirectory", dir: filepath.Join(f.dir, "apps")},
		{name: "nested subdirectory", dir: filepath.Join(f.dir, "apps", "nested")},
		{name: "unclean path", dir: f.dir + "/apps/../bin/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Open(tt.dir)
			if err != nil {
				t.Fatalf("Open(%s): %v", tt.dir, err)
			}
			if diff := cmp.Diff(f.dir, r.Root()); diff != "" {
				t.Errorf("Root() mismatch (-want +got):\n%s", diff)
			}
			got, err := r.Resolve("HEAD")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(f.c2, got); diff != "" {
				t.Errorf("Resolve(HEAD) mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	notRepo := t.TempDir()
	tests := []struct {
		name           string
		dir            string
		wantNotRepoErr bool
	}{
		{name: "plain directory", dir: notRepo, wantNotRepoErr: true},
		{name: "missing directory", dir: filepath.Join(notRepo, "missing")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Open(tt.dir)
			if err == nil {
				t.Fatalf("Open(%s) = repository at %s, want error", tt.dir, r.Root())
			}
			if got := errors.Is(err, ErrNotRepository); got != tt.wantNotRepoErr {
				t.Errorf("Open(%s) = %v; errors.Is(err, ErrNotRepository) = %v, want %v", tt.dir, err, got, tt.wantNotRepoErr)
			}
		})
	}
}

// TestOpenLinkedWorktree opens a work tree whose .git is a file, laid out
// like `git worktree add` does: a private git directory holding HEAD, and
// a commondir file pointing back at the main repository.
func TestOpenLinkedWorktree(t *testing.T) {
	f := newFixture(t)
	if _, err := f.git.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{"https://example.com/org/repo.git"}}); err != nil {
		t.Fatal(err)
	}
	private := filepath.Join(f.dir, ".git", "worktrees", "wt")
	wt := filepath.Join(t.TempDir(), "wt")
	for name, content := range map[string]string{
		filepath.Join(private, "HEAD"):      "ref: refs/heads/feature\n",
		filepath.Join(private, "commondir"): "../..\n",
		filepath.Join(private, "gitdir"):    filepath.Join(wt, ".git") + "\n",
		filepath.Join(wt, ".git"):           "gitdir: " + private + "\n",
		filepath.Join(wt, "sub", "x.txt"):   "x\n",
	} {
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	r, err := Open(filepath.Join(wt, "sub"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wt, r.Root()); diff != "" {
		t.Errorf("Root() mismatch (-want +got):\n%s", diff)
	}
	head, err := r.Resolve("HEAD")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(f.c1, head); diff != "" {
		t.Errorf("Resolve(HEAD) mismatch (-want +got):\n%s", diff)
	}
	main, err := r.Resolve("main")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(f.c2, main); diff != "" {
		t.Errorf("Resolve(main) mismatch (-want +got):\n%s", diff)
	}
	urls, err := r.RemoteURLs()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"https://example.com/org/repo.git"}, urls); diff != "" {
		t.Errorf("RemoteURLs() mismatch (-want +got):\n%s", diff)
	}
}

func TestResolve(t *testing.T) {
	f := newFixture(t)
	r := f.open(t)
	tests := []struct {
		rev     string
		want    string
		wantErr error
	}{
		{rev: "HEAD", want: f.c2},
		{rev: "HEAD~1", want: f.c1},
		{rev: "HEAD^", want: f.c1},
		{rev: "main", want: f.c2},
		{rev: "main~1", want: f.c1},
		{rev: "refs/heads/main", want: f.c2},
		{rev: "heads/main", want: f.c2},
		{rev: "feature", want: f.c1},
		{rev: "origin/main", want: f.c2},
		{rev: "refs/remotes/origin/main", want: f.c2},
		{rev: "v1", want: f.c1},
		{rev: "v2", want: f.c2},
		{rev: "refs/tags/v2", want: f.c2},
		{rev: f.c1, want: f.c1},
		{rev: f.c2, want: f.c2},
		{rev: f.c1[:7], want: f.c1},
		{rev: f.c2[:12], want: f.c2},
		{rev: "", wantErr: ErrRevisionNotFound},
		{rev: "nope", wantErr: ErrRevisionNotFound},
		{rev: "origin/nope", wantErr: ErrRevisionNotFound},
		{rev: "HEAD~2", wantErr: ErrRevisionNotFound},
		{rev: "0000000000000000000000000000000000000001", wantErr: ErrRevisionNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.rev, func(t *testing.T) {
			got, err := r.Resolve(tt.rev)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Resolve(%q) = %q, %v; want error %v", tt.rev, got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve(%q): %v", tt.rev, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Resolve(%q) mismatch (-want +got):\n%s", tt.rev, diff)
			}
		})
	}
}

func TestRemoteURLs(t *testing.T) {
	tests := []struct {
		name    string
		remotes []*config.RemoteConfig
		want    []string
	}{
		{name: "no remotes"},
		{
			name: "origin first, others by name",
			remotes: []*config.RemoteConfig{
				{Name: "upstream", URLs: []string{"https://github.com/up/repo"}},
				{Name: "backup", URLs: []string{"git@backup.example.com:org/repo.git"}},
				{Name: "origin", URLs: []string{"ssh://git@github.com/org/repo.git"}},
			},
			want: []string{
				"ssh://git@github.com/org/repo.git",
				"git@backup.example.com:org/repo.git",
				"https://github.com/up/repo",
			},
		},
		{
			name: "no origin",
			remotes: []*config.RemoteConfig{
				{Name: "zeta", URLs: []string{"https://z.example.com/r"}},
				{Name: "alpha", URLs: []string{"https://a.example.com/r"}},
			},
			want: []string{"https://a.example.com/r", "https://z.example.com/r"},
		},
		{
			name: "fetch url is the first one",
			remotes: []*config.RemoteConfig{
				{Name: "origin", URLs: []string{"https://fetch.example.com/r", "https://push.example.com/r"}},
			},
			want: []string{"https://fetch.example.com/r"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, g := initRepo(t)
			for _, rc := range tt.remotes {
				if _, err := g.CreateRemote(rc); err != nil {
					t.Fatal(err)
				}
			}
			r, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			got, err := r.RemoteURLs()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("RemoteURLs() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestChangedFiles(t *testing.T) {
	f := newFixture(t)
	r, err := Open(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.ChangedFiles(f.c1, f.c2)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"README.md", "apps/app.yaml", "apps/new.yaml", "deep/a/b/c/up.yaml", "docs/readme", "empty.txt", "latest"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("changed files = %v, want %v", got, want)
	}
	if got, err := r.ChangedFiles(f.c2, f.c2); err != nil || len(got) != 0 {
		t.Errorf("same revision: %v %v", got, err)
	}
	if _, err := r.ChangedFiles("nope", f.c2); err == nil {
		t.Error("an unknown revision is not an error")
	}
}
