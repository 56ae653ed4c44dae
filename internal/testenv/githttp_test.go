package testenv

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/storage/memory"
	"github.com/google/go-cmp/cmp"
)

func TestGitHTTPAuth(t *testing.T) {
	s := GitHTTP(t)
	url := s.NewBareRepo(t, "fleet", "main", map[string]string{"README.md": "hi\n"})
	tests := []struct {
		name           string
		user, password string
		noAuth         bool
		wantStatus     int
	}{
		{name: "no credentials", noAuth: true, wantStatus: http.StatusUnauthorized},
		{name: "wrong password", user: s.Username, password: "nope", wantStatus: http.StatusUnauthorized},
		{name: "wrong user", user: "someone", password: s.Password, wantStatus: http.StatusUnauthorized},
		{name: "right credentials", user: s.Username, password: s.Password, wantStatus: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/info/refs?service=git-upload-pack", nil)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.noAuth {
				req.SetBasicAuth(tt.user, tt.password)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d\n%s", resp.StatusCode, tt.wantStatus, body)
			}
			if tt.wantStatus == http.StatusUnauthorized {
				if diff := cmp.Diff(`Basic realm="git"`, resp.Header.Get("WWW-Authenticate")); diff != "" {
					t.Errorf("WWW-Authenticate mismatch (-want +got):\n%s", diff)
				}
				return
			}
			if diff := cmp.Diff("application/x-git-upload-pack-advertisement", resp.Header.Get("Content-Type")); diff != "" {
				t.Errorf("Content-Type mismatch (-want +got):\n%s", diff)
			}
		})
	}
	if got := s.Pushes(); got != 0 {
		t.Errorf("Pushes() = %d, want 0", got)
	}
}

func TestGitHTTPCloneAndPush(t *testing.T) {
	s := GitHTTP(t)
	url := s.NewBareRepo(t, "fleet", "main", map[string]string{
		"README.md":         "hi\n",
		"apps/podinfo.yaml": "kind: HelmRelease\n",
		"bin/check.sh":      "#!/bin/sh\nexit 0\n",
	})
	if want := s.URL + "/fleet.git"; url != want {
		t.Errorf("NewBareRepo URL = %q, want %q", url, want)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	auth := &githttp.BasicAuth{Username: s.Username, Password: s.Password}
	g, err := git.CloneContext(ctx, memory.NewStorage(), nil, &git.CloneOptions{
		URL: url, Auth: auth, RemoteName: "origin", ReferenceName: "refs/heads/main", SingleBranch: true,
	})
	if err != nil {
		t.Fatalf("clone %s: %v", url, err)
	}
	head, err := g.Reference("refs/heads/main", true)
	if err != nil {
		t.Fatal(err)
	}
	c, err := g.CommitObject(head.Hash())
	if err != nil {
		t.Fatal(err)
	}
	gotSig := []object.Signature{c.Author, c.Committer}
	want := object.Signature{Name: "Test", Email: "test@example.com", When: GitHTTPDate}
	if diff := cmp.Diff([]object.Signature{want, want}, gotSig,
		cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("author and committer mismatch (-want +got):\n%s", diff)
	}
	tree, err := c.Tree()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	err = tree.Files().ForEach(func(f *object.File) error {
		content, err := f.Contents()
		if f.Mode == filemode.Executable {
			content = "exec:" + content
		}
		got[f.Name] = content
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	wantFiles := map[string]string{
		"README.md":         "hi\n",
		"apps/podinfo.yaml": "kind: HelmRelease\n",
		"bin/check.sh":      "exec:#!/bin/sh\nexit 0\n",
	}
	if diff := cmp.Diff(wantFiles, got); diff != "" {
		t.Errorf("cloned files mismatch (-want +got):\n%s", diff)
	}

	// Push the commit to a new branch: receive-pack is enabled.
	err = g.PushContext(ctx, &git.PushOptions{
		RemoteName: "origin",
		Auth:       auth,
		RefSpecs:   []config.RefSpec{"refs/heads/main:refs/heads/copy"},
	})
	if err != nil {
		t.Fatalf("push: %v", err)
	}
	if got := s.Pushes(); got != 1 {
		t.Errorf("Pushes() = %d, want 1", got)
	}
	bare, err := git.PlainOpen(s.RepoDir("fleet"))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := bare.Reference(plumbing.NewBranchReferenceName("copy"), true)
	if err != nil {
		t.Fatalf("pushed branch: %v", err)
	}
	if ref.Hash() != head.Hash() {
		t.Errorf("pushed branch at %s, want %s", ref.Hash(), head.Hash())
	}
}
