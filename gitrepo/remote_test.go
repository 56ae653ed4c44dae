package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/google/go-cmp/cmp"

	"github.com/fluxgate/fluxgate/internal/testenv"
)

// seedFiles is the content of the main branch of test remotes.
var seedFiles = map[string]string{
	"README.md":                 "fleet\n",
	"apps/podinfo.yaml":         "image: podinfo:1.0.0\n",
	"bin/run.sh":                "#!/bin/sh\necho run\n",
	"clusters/prod/kustom.yaml": "kind: Kustomization\n",
}

// bot is the author of the commits the tests write.
var bot = Signature{Name: "Fluxgate Bot", Email: "bot@fluxgate.invalid", When: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)}

// remoteEnv is a test Git server with one repository, "fleet", whose main
// branch holds seedFiles.
type remoteEnv struct {
	server *testenv.GitHTTPServer
	url    string
	auth   *BasicAuth
}

func newRemoteEnv(t *testing.T) *remoteEnv {
	t.Helper()
	s := testenv.GitHTTP(t)
	return &remoteEnv{
		server: s,
		url:    s.NewBareRepo(t, "fleet", "main", seedFiles),
		auth:   &BasicAuth{Username: s.Username, Password: s.Password},
	}
}

// testContext bounds every network operation of a test.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// clone clones branch of the environment's repository.
func (e *remoteEnv) clone(t *testing.T, branch string) *Repo {
	t.Helper()
	r, err := CloneBranch(testContext(t), e.url, e.auth, branch)
	if err != nil {
		t.Fatalf("CloneBranch(%s): %v", branch, err)
	}
	return r
}

// bare opens the server's bare repository with go-git.
func (e *remoteEnv) bare(t *testing.T) *git.Repository {
	t.Helper()
	g, err := git.PlainOpen(e.server.RepoDir("fleet"))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// remoteBranch returns the hash of branch on the server, "" when absent.
func (e *remoteEnv) remoteBranch(t *testing.T, branch string) string {
	t.Helper()
	ref, err := e.bare(t).Reference(plumbing.NewBranchReferenceName(branch), true)
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return ref.Hash().String()
}

// treeContents reads every file of rev through TreeFS, prefixing the
// content of executable files with "exec:".
func treeContentsOf(t *testing.T, r *Repo, rev string) map[string]string {
	t.Helper()
	fsys, err := r.TreeFS(rev)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Mode()&0o100 != 0 {
			got[p] = "exec:" + string(b)
		} else {
			got[p] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestCloneBranch(t *testing.T) {
	e := newRemoteEnv(t)
	const wrong = "wrong-Secret-Token-1234"
	withUser := func(user, password string) string {
		u, err := url.Parse(e.url)
		if err != nil {
			t.Fatal(err)
		}
		u.User = url.UserPassword(user, password)
		return u.String()
	}
	tests := []struct {
		name    string
		url     string
		auth    *BasicAuth
		branch  string
		wantErr error  // checked with errors.Is when set
		fail    bool   // an error is expected
		secret  string // must not appear in the error
	}{
		{name: "basic auth", url: e.url, auth: e.auth, branch: "main"},
		{name: "credentials in the URL", url: withUser(e.auth.Username, e.auth.Password), branch: "main", secret: e.auth.Password},
		{name: "wrong password", url: e.url, auth: &BasicAuth{Username: e.auth.Username, Password: wrong}, branch: "main", fail: true, secret: wrong},
		{name: "wrong password in the URL", url: withUser(e.auth.Username, wrong), branch: "main", fail: true, secret: wrong},
		{name: "anonymous", url: e.url, branch: "main", fail: true},
		{name: "unknown branch", url: e.url, auth: e.auth, branch: "nope", fail: true, wantErr: ErrBranchNotFound},
		{name: "invalid branch name", url: e.url, auth: e.auth, branch: "a..b", fail: true},
		{name: "unknown repository", url: e.server.URL + "/nope.git", auth: e.auth, branch: "main", fail: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := CloneBranch(testContext(t), tt.url, tt.auth, tt.branch)
			if tt.fail {
				if err == nil {
					t.Fatal("CloneBranch succeeded, want an error")
				}
				if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Errorf("error = %v, want %v", err, tt.wantErr)
				}
				if tt.secret != "" && strings.Contains(err.Error(), tt.secret) {
					t.Errorf("error shows the password: %v", err)
				}
				if !strings.Contains(err.Error(), "/fleet.git") && !strings.Contains(err.Error(), "/nope.git") {
					t.Errorf("error does not name the repository: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("CloneBranch: %v", err)
			}
			wantFiles := map[string]string{}
			for p, c := range seedFiles {
				if strings.HasPrefix(c, "#!") {
					c = "exec:" + c
				}
				wantFiles[p] = c
			}
			if diff := cmp.Diff(wantFiles, treeContentsOf(t, r, "origin/main")); diff != "" {
				t.Errorf("files mismatch (-want +got):\n%s", diff)
			}
			var hashes []string
			for _, rev := range []string{"main", "origin/main", "HEAD"} {
				h, err := r.Resolve(rev)
				if err != nil {
					t.Fatalf("Resolve(%s): %v", rev, err)
				}
				hashes = append(hashes, h)
			}
			want := e.remoteBranch(t, "main")
			if diff := cmp.Diff([]string{want, want, want}, hashes); diff != "" {
				t.Errorf("main, origin/main and HEAD mismatch (-want +got):\n%s", diff)
			}
			urls, err := r.RemoteURLs()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{e.url}, urls); diff != "" {
				t.Errorf("RemoteURLs mismatch (-want +got):\n%s", diff)
			}
			if r.Root() != "" {
				t.Errorf("Root() = %q, want \"\"", r.Root())
			}
		})
	}
	if got := e.server.Pushes(); got != 0 {
		t.Errorf("Pushes() = %d, want 0", got)
	}
}

func TestBasicAuthHidesPassword(t *testing.T) {
	a := BasicAuth{Username: "x-access-token", Password: "ghs_secret"}
	for _, format := range []string{"%v", "%+v", "%s", "%#v"} {
		for _, v := range []any{a, &a} {
			if got := fmt.Sprintf(format, v); strings.Contains(got, "ghs_secret") {
				t.Errorf("Sprintf(%q) = %q shows the password", format, got)
			}
		}
	}
}

func TestFetchBranch(t *testing.T) {
	e := newRemoteEnv(t)
	ctx := testContext(t)
	other := e.clone(t, "main")
	c, err := other.CommitFiles("origin/main", map[string][]byte{"apps/podinfo.yaml": []byte("image: podinfo:1.1.0\n")}, "bump\n", bot)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.PushBranch(ctx, c, "feature", ""); err != nil {
		t.Fatal(err)
	}

	r := e.clone(t, "main")
	tests := []struct {
		name      string
		branch    string
		wantHash  string
		wantFound bool
	}{
		{name: "cloned branch", branch: "main", wantHash: e.remoteBranch(t, "main"), wantFound: true},
		{name: "other branch", branch: "feature", wantHash: c, wantFound: true},
		{name: "missing branch", branch: "nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hash, found, err := r.FetchBranch(ctx, tt.branch)
			if err != nil {
				t.Fatalf("FetchBranch: %v", err)
			}
			if hash != tt.wantHash || found != tt.wantFound {
				t.Fatalf("FetchBranch = %q, %v; want %q, %v", hash, found, tt.wantHash, tt.wantFound)
			}
			got, err := r.Resolve("origin/" + tt.branch)
			if !tt.wantFound {
				if !errors.Is(err, ErrRevisionNotFound) {
					t.Errorf("Resolve(origin/%s) = %q, %v; want ErrRevisionNotFound", tt.branch, got, err)
				}
				return
			}
			if err != nil || got != tt.wantHash {
				t.Errorf("Resolve(origin/%s) = %q, %v; want %q", tt.branch, got, err, tt.wantHash)
			}
		})
	}

	t.Run("deleted on the remote", func(t *testing.T) {
		if err := e.bare(t).Storer.RemoveReference(plumbing.NewBranchReferenceName("feature")); err != nil {
			t.Fatal(err)
		}
		hash, found, err := r.FetchBranch(ctx, "feature")
		if err != nil || found || hash != "" {
			t.Fatalf("FetchBranch = %q, %v, %v; want not found", hash, found, err)
		}
		if _, err := r.Resolve("origin/feature"); !errors.Is(err, ErrRevisionNotFound) {
			t.Errorf("Resolve(origin/feature) error = %v, want ErrRevisionNotFound", err)
		}
	})
}

func TestFetchBranchOpenedRepo(t *testing.T) {
	e := newRemoteEnv(t)
	dir, _ := newRepoWith(t, file{path: "README.md", content: "local\n"})
	g, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(e.url)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(e.auth.Username, e.auth.Password)
	if _, err := g.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{u.String()}}); err != nil {
		t.Fatal(err)
	}
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	hash, found, err := r.FetchBranch(testContext(t), "main")
	if err != nil || !found || hash != e.remoteBranch(t, "main") {
		t.Fatalf("FetchBranch = %q, %v, %v; want %q, true, nil", hash, found, err, e.remoteBranch(t, "main"))
	}
	fsys, err := r.TreeFS("origin/main")
	if err != nil {
		t.Fatal(err)
	}
	if b, err := fs.ReadFile(fsys, "README.md"); err != nil || string(b) != seedFiles["README.md"] {
		t.Errorf("README.md at origin/main = %q, %v", b, err)
	}
}

func TestCommitFilesAndPush(t *testing.T) {
	e := newRemoteEnv(t)
	ctx := testContext(t)
	r := e.clone(t, "main")
	main, err := r.Resolve("origin/main")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"apps/podinfo.yaml":           []byte("image: podinfo:1.2.3\n"),
		"bin/run.sh":                  []byte("#!/bin/sh\necho updated\n"),
		"clusters/staging/new/a.yaml": []byte("kind: New\n"),
		"top.txt":                     nil,
	}
	const msg = "Update podinfo to 1.2.3\n\nBy fluxgate.\n"
	c, err := r.CommitFiles("origin/main", files, msg, bot)
	if err != nil {
		t.Fatalf("CommitFiles: %v", err)
	}
	if head, _ := r.Resolve("HEAD"); head != main {
		t.Errorf("CommitFiles moved HEAD to %s", head)
	}
	if err := r.PushBranch(ctx, c, "fluxgate/image-update", ""); err != nil {
		t.Fatalf("PushBranch: %v", err)
	}
	if got := e.server.Pushes(); got != 1 {
		t.Errorf("Pushes() = %d, want 1", got)
	}
	if got, err := r.Resolve("origin/fluxgate/image-update"); err != nil || got != c {
		t.Errorf("origin/fluxgate/image-update = %q, %v; want %q", got, err, c)
	}

	// What the server holds, read back by a second client.
	if got := e.remoteBranch(t, "fluxgate/image-update"); got != c {
		t.Fatalf("server branch at %q, want %q", got, c)
	}
	second := e.clone(t, "fluxgate/image-update")
	want := map[string]string{
		"README.md":                   "fleet\n",
		"apps/podinfo.yaml":           "image: podinfo:1.2.3\n",
		"bin/run.sh":                  "exec:#!/bin/sh\necho updated\n",
		"clusters/prod/kustom.yaml":   "kind: Kustomization\n",
		"clusters/staging/new/a.yaml": "kind: New\n",
		"top.txt":                     "",
	}
	if diff := cmp.Diff(want, treeContentsOf(t, second, "HEAD")); diff != "" {
		t.Errorf("pushed tree mismatch (-want +got):\n%s", diff)
	}
	commit, err := e.bare(t).CommitObject(plumbing.NewHash(c))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{main}, []string{commit.ParentHashes[0].String()}); diff != "" || len(commit.ParentHashes) != 1 {
		t.Errorf("parents = %v, want [%s]", commit.ParentHashes, main)
	}
	got := []CommitInfo{{
		Hash:      commit.Hash.String(),
		Message:   commit.Message,
		Author:    signatureOf(commit.Author),
		Committer: signatureOf(commit.Committer),
	}}
	wantInfo := []CommitInfo{{Hash: c, Message: msg, Author: bot, Committer: bot}}
	timeEqual := cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })
	if diff := cmp.Diff(wantInfo, got, timeEqual); diff != "" {
		t.Errorf("pushed commit mismatch (-want +got):\n%s", diff)
	}
	between, err := second.CommitsBetween("HEAD", main)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantInfo, between, timeEqual); diff != "" {
		t.Errorf("CommitsBetween on the second clone mismatch (-want +got):\n%s", diff)
	}
}

func TestPushBranchLease(t *testing.T) {
	const branch = "fluxgate/bot"
	tests := []struct {
		name string
		// foreign is how many commits another client pushes to the branch,
		// one on top of the other, before ours.
		foreign int
		// lease is the expected value: 0 for "", n for the n-th foreign
		// commit.
		lease int
		// pushForeign, when not 0, pushes the n-th foreign commit instead
		// of a new commit built on main.
		pushForeign int
		wantErr     error
		wantPushes  int // receive-pack requests of our push
	}{
		{name: "new branch", foreign: 0, lease: 0, wantPushes: 1},
		{name: "new branch, but it exists", foreign: 1, lease: 0, wantErr: ErrStaleBranch},
		{name: "lease held, non-fast-forward", foreign: 1, lease: 1, wantPushes: 1},
		{name: "lease lost to another push", foreign: 2, lease: 1, wantErr: ErrStaleBranch},
		{name: "lease on a deleted branch", foreign: 0, lease: -1, wantErr: ErrStaleBranch},
		{name: "already at the commit", foreign: 1, lease: 1, pushForeign: 1, wantPushes: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newRemoteEnv(t)
			ctx := testContext(t)
			other := e.clone(t, "main")
			var foreign []string
			parent := "origin/main"
			for i := range tt.foreign {
				c, err := other.CommitFiles(parent, map[string][]byte{"README.md": fmt.Appendf(nil, "foreign %d\n", i)},
					fmt.Sprintf("foreign %d\n", i), Signature{Name: "Someone", Email: "someone@example.com", When: bot.When})
				if err != nil {
					t.Fatal(err)
				}
				prev := ""
				if i > 0 {
					prev = foreign[i-1]
				}
				if err := other.PushBranch(ctx, c, branch, prev); err != nil {
					t.Fatalf("foreign push %d: %v", i, err)
				}
				foreign = append(foreign, c)
				parent = c
			}

			r := e.clone(t, "main")
			if _, _, err := r.FetchBranch(ctx, branch); err != nil {
				t.Fatal(err)
			}
			var commit string
			if tt.pushForeign > 0 {
				commit = foreign[tt.pushForeign-1]
			} else {
				var err error
				commit, err = r.CommitFiles("origin/main", map[string][]byte{"apps/podinfo.yaml": []byte("image: podinfo:2.0.0\n")}, "ours\n", bot)
				if err != nil {
					t.Fatal(err)
				}
			}
			var lease string
			switch {
			case tt.lease > 0:
				lease = foreign[tt.lease-1]
			case tt.lease < 0:
				lease = e.remoteBranch(t, "main") // exists, but not as this branch
			}
			before := e.remoteBranch(t, branch)
			pushes := e.server.Pushes()

			err := r.PushBranch(ctx, commit, branch, lease)

			if got := e.server.Pushes() - pushes; got != tt.wantPushes {
				t.Errorf("receive-pack requests = %d, want %d", got, tt.wantPushes)
			}
			after := e.remoteBranch(t, branch)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("PushBranch error = %v, want %v", err, tt.wantErr)
				}
				if after != before {
					t.Errorf("remote branch moved from %q to %q", before, after)
				}
				if !strings.Contains(err.Error(), branch) || !strings.Contains(err.Error(), "/fleet.git") {
					t.Errorf("error does not name the branch and the repository: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("PushBranch: %v", err)
			}
			if after != commit {
				t.Errorf("remote branch at %q, want %q", after, commit)
			}
		})
	}
}

// TestPushBranchRace moves the branch between PushBranch's lease check and
// its update: the server must refuse the update, whose old value is the
// lease.
func TestPushBranchRace(t *testing.T) {
	const branch = "bot"
	tests := []struct {
		name  string
		lease bool // the branch exists and the lease is its commit; else it must not exist
	}{
		{name: "created meanwhile", lease: false},
		{name: "moved meanwhile", lease: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newRemoteEnv(t)
			ctx := testContext(t)
			other := e.clone(t, "main")
			r := e.clone(t, "main")
			lease := ""
			if tt.lease {
				c, err := other.CommitFiles("origin/main", map[string][]byte{"README.md": []byte("first\n")}, "first\n", bot)
				if err != nil {
					t.Fatal(err)
				}
				if err := other.PushBranch(ctx, c, branch, ""); err != nil {
					t.Fatal(err)
				}
				lease = c
			}
			foreign, err := other.CommitFiles("origin/main", map[string][]byte{"README.md": []byte("foreign\n")}, "foreign\n", bot)
			if err != nil {
				t.Fatal(err)
			}
			ours, err := r.CommitFiles("origin/main", map[string][]byte{"README.md": []byte("ours\n")}, "ours\n", bot)
			if err != nil {
				t.Fatal(err)
			}
			testHookBeforeSend = func() {
				testHookBeforeSend = nil // once: not for the concurrent push itself
				if err := other.PushBranch(ctx, foreign, branch, lease); err != nil {
					t.Errorf("concurrent push: %v", err)
				}
			}
			t.Cleanup(func() { testHookBeforeSend = nil })

			err = r.PushBranch(ctx, ours, branch, lease)
			if !errors.Is(err, ErrStaleBranch) {
				t.Fatalf("PushBranch error = %v, want ErrStaleBranch", err)
			}
			if got := e.remoteBranch(t, branch); got != foreign {
				t.Errorf("remote branch at %q, want the concurrent push's %q", got, foreign)
			}
		})
	}
}

func TestPushBranchInvalid(t *testing.T) {
	_, r := newRepoWith(t, file{path: "README.md", content: "x\n"})
	head, err := r.Resolve("HEAD")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, commit, branch, expected string
		wantErr                        error
	}{
		{name: "abbreviated lease", commit: head, branch: "bot", expected: head[:12]},
		{name: "invalid branch", commit: head, branch: "bad..name"},
		{name: "unknown commit", commit: "nope", branch: "bot", wantErr: ErrRevisionNotFound},
		{name: "no origin", commit: head, branch: "bot"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := r.PushBranch(testContext(t), tt.commit, tt.branch, tt.expected)
			if err == nil {
				t.Fatal("PushBranch succeeded, want an error")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error = %v, want %v", err, tt.wantErr)
			}
			if errors.Is(err, ErrStaleBranch) {
				t.Errorf("error = %v, must not be ErrStaleBranch", err)
			}
		})
	}
}

func TestCommitsBetween(t *testing.T) {
	e := newRemoteEnv(t)
	ctx := testContext(t)
	other := e.clone(t, "main")
	someone := Signature{Name: "Someone", Email: "someone@example.com", When: bot.When}
	later := someone
	later.When = later.When.Add(time.Hour)
	c1, err := other.CommitFiles("origin/main", map[string][]byte{"a.txt": []byte("1\n")}, "first\n", someone)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := other.CommitFiles(c1, map[string][]byte{"a.txt": []byte("2\n")}, "second\n", later)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.PushBranch(ctx, c2, "bot", ""); err != nil {
		t.Fatal(err)
	}

	r := e.clone(t, "main")
	if _, _, err := r.FetchBranch(ctx, "bot"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		head, base string
		want       []CommitInfo
	}{
		{
			name: "foreign commits", head: "origin/bot", base: "origin/main",
			want: []CommitInfo{
				{Hash: c2, Message: "second\n", Author: later, Committer: later},
				{Hash: c1, Message: "first\n", Author: someone, Committer: someone},
			},
		},
		{
			name: "from a hash", head: c2, base: c1,
			want: []CommitInfo{{Hash: c2, Message: "second\n", Author: later, Committer: later}},
		},
		{name: "head behind base", head: "origin/main", base: "origin/bot"},
		{name: "same commit", head: "origin/bot", base: c2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := r.CommitsBetween(tt.head, tt.base)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
				t.Errorf("CommitsBetween mismatch (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := r.CommitsBetween("nope", "origin/main"); !errors.Is(err, ErrRevisionNotFound) {
		t.Errorf("unknown head: error = %v, want ErrRevisionNotFound", err)
	}
}

func TestCommitFilesModes(t *testing.T) {
	_, r := newRepoWith(t,
		file{path: "README.md", content: "v1\n"},
		file{path: "bin/run.sh", content: "#!/bin/sh\n", exec: true},
		file{path: "link", link: "README.md"},
	)
	c, err := r.CommitFiles("HEAD", map[string][]byte{
		"bin/run.sh":          []byte("#!/bin/sh\necho 2\n"),
		"README.md":           []byte("v2\n"),
		"deep/new/dir/x.yaml": []byte("x: 1\n"),
		"bin/new.sh":          []byte("#!/bin/sh\n"),
	}, "edit\n", bot)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"README.md":           "file:v2\n",
		"bin/run.sh":          "exec:#!/bin/sh\necho 2\n",
		"bin/new.sh":          "file:#!/bin/sh\n",
		"deep/new/dir/x.yaml": "file:x: 1\n",
		"link":                "link:README.md",
	}
	if diff := cmp.Diff(want, diskContents(t, extractTo(t, r, c))); diff != "" {
		t.Errorf("tree mismatch (-want +got):\n%s", diff)
	}
	changed, err := r.ChangedFiles("HEAD", c)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"README.md", "bin/new.sh", "bin/run.sh", "deep/new/dir/x.yaml"}, changed); diff != "" {
		t.Errorf("changed files mismatch (-want +got):\n%s", diff)
	}
}

// extractTo extracts rev into a new directory.
func extractTo(t *testing.T, r *Repo, rev string) string {
	t.Helper()
	dst := t.TempDir()
	if err := r.Extract(rev, dst); err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestCommitFilesErrors(t *testing.T) {
	_, r := newRepoWith(t,
		file{path: "README.md", content: "v1\n"},
		file{path: "apps/a.yaml", content: "a\n"},
		file{path: "link", link: "README.md"},
	)
	one := func(p string) map[string][]byte { return map[string][]byte{p: []byte("x\n")} }
	tests := []struct {
		name    string
		parent  string
		files   map[string][]byte
		author  Signature
		wantErr error
	}{
		{name: "no files", parent: "HEAD", files: map[string][]byte{}, author: bot},
		{name: "absolute", parent: "HEAD", files: one("/etc/passwd"), author: bot},
		{name: "dot-dot", parent: "HEAD", files: one("apps/../../x"), author: bot},
		{name: "dot", parent: "HEAD", files: one("./x"), author: bot},
		{name: "empty element", parent: "HEAD", files: one("apps//x"), author: bot},
		{name: "git directory", parent: "HEAD", files: one(".GIT/config"), author: bot},
		{name: "backslash", parent: "HEAD", files: one(`apps\x`), author: bot},
		{name: "replace a directory", parent: "HEAD", files: one("apps"), author: bot},
		{name: "through a file", parent: "HEAD", files: one("README.md/x"), author: bot},
		{name: "replace a symbolic link", parent: "HEAD", files: one("link"), author: bot},
		{name: "file and directory", parent: "HEAD", files: map[string][]byte{"new": nil, "new/x": nil}, author: bot},
		{name: "no author", parent: "HEAD", files: one("x"), author: Signature{}},
		{name: "unknown parent", parent: "nope", files: one("x"), author: bot, wantErr: ErrRevisionNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := r.CommitFiles(tt.parent, tt.files, "msg\n", tt.author)
			if err == nil {
				t.Fatalf("CommitFiles = %s, want an error", h)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestLocalRemote(t *testing.T) {
	e := newRemoteEnv(t)
	dir := e.server.RepoDir("fleet")
	tests := []struct {
		name string
		url  string
	}{
		{name: "path", url: dir},
		{name: "file URL", url: "file://" + filepath.ToSlash(dir)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			r, err := CloneBranch(ctx, tt.url, nil, "main")
			if err != nil {
				t.Fatalf("CloneBranch: %v", err)
			}
			branch := "local/" + strings.ReplaceAll(tt.name, " ", "-")
			c, err := r.CommitFiles("origin/main", map[string][]byte{"README.md": []byte(tt.name + "\n")}, "local\n", bot)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.PushBranch(ctx, c, branch, ""); err != nil {
				t.Fatalf("PushBranch: %v", err)
			}
			if got := e.remoteBranch(t, branch); got != c {
				t.Errorf("remote branch at %q, want %q", got, c)
			}
			if hash, found, err := r.FetchBranch(ctx, branch); err != nil || !found || hash != c {
				t.Errorf("FetchBranch = %q, %v, %v; want %q, true, nil", hash, found, err, c)
			}
		})
	}
}
