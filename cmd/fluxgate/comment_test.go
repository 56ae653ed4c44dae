package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"code.gitea.io/sdk/gitea"

	"github.com/fluxgate/fluxgate/internal/testenv"
)

// TestDiffCommentOnGitea posts the diff of a change as one sticky comment
// on a pull request of a real Gitea server, as a Gitea Actions job would.
func TestDiffCommentOnGitea(t *testing.T) {
	srv := testenv.Gitea(t)
	remote, pr := srv.CreateRepoWithPullRequest(t, "fleet")

	g := newGitFleet(t, "fleet-infra")
	base := g.commit("base")
	g.branch("change")
	g.edit("apps/base/backend/deployment.yaml", "path: /readyz", "path: /healthz")
	g.commit("probe path")

	event := filepath.Join(t.TempDir(), "event.json")
	payload, _ := json.Marshal(map[string]any{"number": pr, "pull_request": map[string]any{"number": pr, "base": map[string]any{"sha": base}}})
	if err := os.WriteFile(event, payload, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GITHUB_EVENT_PATH", event)
	t.Setenv("GITEA_ACTIONS", "true")
	t.Setenv("GITHUB_SERVER_URL", srv.URL)
	t.Setenv("GITHUB_REPOSITORY", remote.Owner+"/"+remote.Name)
	t.Setenv("GITEA_TOKEN", srv.Token)
	t.Setenv("GITHUB_TOKEN", "")

	comments := func() []*gitea.Comment {
		t.Helper()
		cs, _, err := srv.Client(t).ListIssueComments(remote.Owner, remote.Name, int64(pr), gitea.ListIssueCommentOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return cs
	}
	md := filepath.Join(t.TempDir(), "fluxgate-diff.md")
	for i, want := range []string{"(created)", "(unchanged)"} {
		_, stderr, code := runDiffCmd(t, g.dir, "--head", "change", "--comment", "-o", "markdown="+md)
		if code != 0 || !strings.Contains(stderr, want) {
			t.Fatalf("run %d: exit %d, want %q in:\n%s", i+1, code, want, stderr)
		}
	}
	cs := comments()
	if len(cs) != 1 {
		t.Fatalf("%d comments after two runs, want 1", len(cs))
	}
	body := cs[0].Body
	for _, want := range []string{"<!-- fluxgate:diff:default -->", "| `clusters/production` | `Kustomization/flux-system/apps` | 0 | 1 | 0 | 0 |", "+            path: /healthz"} {
		if !strings.Contains(body, want) {
			t.Errorf("comment lacks %q:\n%s", want, body)
		}
	}
	if full, err := os.ReadFile(md); err != nil || !strings.Contains(string(full), "+            path: /healthz") {
		t.Errorf("markdown report file: %v", err)
	}

	// A new revision edits the same comment; another --comment-id owns a
	// comment of its own.
	g.edit("apps/base/backend/deployment.yaml", "path: /healthz", "path: /livez")
	g.commit("probe path again")
	if _, stderr, code := runDiffCmd(t, g.dir, "--head", "change", "--comment"); code != 0 || !strings.Contains(stderr, "(updated)") {
		t.Fatalf("update: exit %d\n%s", code, stderr)
	}
	if _, stderr, code := runDiffCmd(t, g.dir, "--head", "change", "--comment", "--comment-id", "staging", "--path", "clusters/staging"); code != 0 || !strings.Contains(stderr, "(created)") {
		t.Fatalf("second id: exit %d\n%s", code, stderr)
	}
	cs = comments()
	if len(cs) != 2 || !strings.Contains(cs[0].Body, "path: /livez") || !strings.Contains(cs[1].Body, "<!-- fluxgate:diff:staging -->") {
		t.Errorf("comments: %d", len(cs))
		for _, c := range cs {
			t.Log(c.Body)
		}
	}
}
