package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"code.gitea.io/sdk/gitea"
	"github.com/go-git/go-git/v5"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/fluxgate/fluxgate/gitrepo"
	"github.com/fluxgate/fluxgate/internal/testenv"
)

// testRegistry is a real OCI registry (go-containerregistry's, in process).
type testRegistry struct{ host string }

func newTestRegistry(t *testing.T) *testRegistry {
	t.Helper()
	srv := httptest.NewServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return &testRegistry{host: strings.TrimPrefix(srv.URL, "http://")}
}

// push uploads a random image as repo:tag.
func (r *testRegistry) push(t *testing.T, repo, tag string) {
	t.Helper()
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.NewTag(r.host + "/" + repo + ":" + tag)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
}

// imageFleet is a fleet with one automation over apps/, its policy
// following image (semver >=1.0.0) from gitURL's main branch.
func imageFleet(image, gitURL string) map[string]string {
	return map[string]string{
		"clusters/prod/flux-system/gotk-sync.yaml": `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 1m
  ref:
    branch: main
  url: ` + gitURL + `
`,
		"clusters/prod/flux-system/images.yaml": `apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageRepository
metadata:
  name: app
  namespace: flux-system
spec:
  image: ` + image + `
  interval: 5m
---
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImagePolicy
metadata:
  name: app
  namespace: flux-system
spec:
  imageRepositoryRef:
    name: app
  policy:
    semver:
      range: ">=1.0.0"
---
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageUpdateAutomation
metadata:
  name: apps
  namespace: flux-system
spec:
  interval: 30m
  sourceRef:
    kind: GitRepository
    name: flux-system
  git:
    commit:
      author:
        name: fluxbot
        email: fluxbot@example.com
      messageTemplate: |
        Bump images in {{ .AutomationObject }}

        {{ range .Changed.Changes -}}
        - {{ .OldValue }} -> {{ .NewValue }}
        {{ end -}}
    push:
      branch: image-updates
  update:
    path: ./apps
    strategy: Setters
`,
		"apps/app.yaml": `# The app, kept current by image automation.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
  namespace: apps
spec:
  template:
    spec:
      containers:
        - name: app
          image: ` + image + `:1.0.0 # {"$imagepolicy": "flux-system:app"}
          args: ["--port", "8080"]   # unrelated, untouched
`,
	}
}

func TestImageUpdateDryRun(t *testing.T) {
	reg := newTestRegistry(t)
	image := reg.host + "/org/app"
	for _, tag := range []string{"1.0.0", "1.1.0", "2.0.0-rc.1", "latest"} {
		reg.push(t, "org/app", tag)
	}
	dir := testenv.WriteTree(t, imageFleet(image, "https://git.example.com/org/fleet"))
	before, err := os.ReadFile(filepath.Join(dir, "apps/app.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	jsonFile := filepath.Join(t.TempDir(), "plan.json")
	out, stderr, code := run(t, "image-update", dir, "--dry-run", "-o", "diff", "-o", "json="+jsonFile)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	wantDiff := `--- a/apps/app.yaml
+++ b/apps/app.yaml
@@ -9,5 +9,5 @@
     spec:
       containers:
         - name: app
-          image: ` + image + `:1.0.0 # {"$imagepolicy": "flux-system:app"}
+          image: ` + image + `:1.1.0 # {"$imagepolicy": "flux-system:app"}
           args: ["--port", "8080"]   # unrelated, untouched
`
	if diff := cmp.Diff(wantDiff, out); diff != "" {
		t.Errorf("diff output (-want +got):\n%s", diff)
	}
	data, err := os.ReadFile(jsonFile)
	if err != nil {
		t.Fatal(err)
	}
	var plan struct {
		Changes []map[string]any `json:"changes"`
	}
	if err := json.Unmarshal(data, &plan); err != nil {
		t.Fatalf("%v:\n%s", err, data)
	}
	want := []map[string]any{{
		"automation": "flux-system/apps", "file": "apps/app.yaml", "line": float64(12), "policy": "flux-system:app",
		"image": image, "old": image + ":1.0.0", "new": image + ":1.1.0",
	}}
	if diff := cmp.Diff(want, plan.Changes); diff != "" {
		t.Errorf("json (-want +got):\n%s", diff)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "apps/app.yaml"))
	if string(after) != string(before) {
		t.Errorf("--dry-run changed apps/app.yaml")
	}
}

func TestImageUpdateProblems(t *testing.T) {
	reg := newTestRegistry(t)
	reg.push(t, "org/app", "0.1.0")
	files := imageFleet(reg.host+"/org/app", "https://git.example.com/org/fleet")
	files["clusters/prod/flux-system/bad.yaml"] = `apiVersion: image.toolkit.fluxcd.io/v1
kind: ImagePolicy
metadata:
  name: bad
  namespace: flux-system
spec:
  imageRepositoryRef:
    name: app
  policy:
    semver:
      range: "not a range"
`
	files["apps/other.yaml"] = "image: x # {\"$imagepolicy\": \"flux-system:absent\"}\n"
	dir := testenv.WriteTree(t, files)
	_, stderr, code := run(t, "image-update", dir, "--dry-run", "-o", "json")
	if code != 1 {
		t.Fatalf("exit %d, want 1 (an invalid policy):\n%s", code, stderr)
	}
	for _, want := range []string{
		"clusters/prod/flux-system/bad.yaml:1: error: ImagePolicy/flux-system/bad: invalid image policy",
		"[image-policy-invalid]",
		"clusters/prod/flux-system/images.yaml:10: warning: ImagePolicy/flux-system/app: no tag of",
		"apps/other.yaml:1: warning: ",
		"[image-setter-invalid]",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

// TestImageUpdatePullRequestOnGitea runs image-update as a scheduled job
// would, against a real Gitea (Git over HTTP and pull requests) and a real
// registry: the first run opens a pull request, a re-run without new tags
// changes nothing, a new tag updates the same branch and pull request, and
// a commit by someone else on the bot branch stops the automation.
func TestImageUpdatePullRequestOnGitea(t *testing.T) {
	reg := newTestRegistry(t)
	image := reg.host + "/org/app"
	reg.push(t, "org/app", "1.0.0")
	reg.push(t, "org/app", "1.1.0")

	srv := testenv.Gitea(t)
	repo := srv.CreateRepo(t, "fleet")
	cloneURL := srv.URL + "/" + repo.Owner + "/" + repo.Name + ".git"
	auth := &gitrepo.BasicAuth{Username: srv.AdminUser, Password: srv.Token}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// Seed main with the fleet through go-git, then check it out locally
	// as a CI job would.
	seed, err := gitrepo.CloneBranch(ctx, cloneURL, auth, "main")
	if err != nil {
		t.Fatal(err)
	}
	mainHead, err := seed.Resolve("refs/remotes/origin/main")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for p, s := range imageFleet(image, cloneURL) {
		files[p] = []byte(s)
	}
	seeded, err := seed.CommitFiles(mainHead, files, "add fleet", gitrepo.Signature{Name: "Dev", Email: "dev@example.com", When: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if err := seed.PushBranch(ctx, seeded, "main", mainHead); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := git.PlainCloneContext(ctx, dir, false, &git.CloneOptions{URL: cloneURL, Auth: &githttp.BasicAuth{Username: auth.Username, Password: auth.Password}}); err != nil {
		t.Fatal(err)
	}

	t.Setenv("GITHUB_REPOSITORY", "")
	t.Setenv("GITHUB_TOKEN", "")
	t.Setenv("GITEA_TOKEN", srv.Token)
	t.Setenv("FLUXGATE_GIT_TOKEN", "")
	args := []string{"image-update", dir, "--forge", "gitea", "--api-url", srv.URL,
		"--repository", repo.Owner + "/" + repo.Name, "--git-username", srv.AdminUser, "--label", "dependencies"}
	client := srv.Client(t)
	branchHead := func() string {
		t.Helper()
		b, _, err := client.GetRepoBranch(repo.Owner, repo.Name, "image-updates")
		if err != nil {
			t.Fatalf("branch image-updates: %v", err)
		}
		return b.Commit.ID
	}
	pulls := func() []*gitea.PullRequest {
		t.Helper()
		prs, _, err := client.ListRepoPullRequests(repo.Owner, repo.Name, gitea.ListPullRequestsOptions{State: gitea.StateAll})
		if err != nil {
			t.Fatal(err)
		}
		return prs
	}
	fileOnBranch := func() string {
		t.Helper()
		data, _, err := client.GetFile(repo.Owner, repo.Name, "image-updates", "apps/app.yaml")
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}

	// 1. First run: one commit on image-updates, one pull request.
	result := filepath.Join(t.TempDir(), "result.json")
	_, stderr, code := run(t, append(args, "-o", "json="+result)...)
	if code != 0 {
		t.Fatalf("first run: exit %d:\n%s", code, stderr)
	}
	prs := pulls()
	if len(prs) != 1 {
		t.Fatalf("%d pull requests after the first run, want 1", len(prs))
	}
	pr := prs[0]
	var got struct {
		Changes      []struct{ File, Old, New string }
		PullRequests []struct {
			Automation, Branch, URL string
			Pushed                  bool
		}
	}
	if data, err := os.ReadFile(result); err != nil || json.Unmarshal(data, &got) != nil {
		t.Fatalf("result file: %v\n%s", err, data)
	}
	if len(got.Changes) != 1 || got.Changes[0].New != image+":1.1.0" || len(got.PullRequests) != 1 ||
		got.PullRequests[0].URL != pr.HTMLURL || !got.PullRequests[0].Pushed || got.PullRequests[0].Branch != "image-updates" {
		t.Errorf("result file: %+v, want one change and pull request %s", got, pr.HTMLURL)
	}
	if pr.Head.Ref != "image-updates" || pr.Base.Ref != "main" || pr.Title != "Bump images in flux-system/apps" {
		t.Errorf("pull request %s -> %s %q", pr.Head.Ref, pr.Base.Ref, pr.Title)
	}
	if len(pr.Labels) != 1 || pr.Labels[0].Name != "dependencies" {
		t.Errorf("labels %v, want dependencies", pr.Labels)
	}
	row := "| `" + image + "` | [apps/app.yaml:12](" + srv.URL + "/" + repo.Owner + "/" + repo.Name + "/src/branch/image-updates/apps/app.yaml#L12) | `" + image + ":1.0.0` | `" + image + ":1.1.0` |"
	if !strings.Contains(pr.Body, row) {
		t.Errorf("body lacks %q:\n%s", row, pr.Body)
	}
	want := strings.Replace(imageFleet(image, cloneURL)["apps/app.yaml"], ":1.0.0 #", ":1.1.0 #", 1)
	if got := fileOnBranch(); got != want {
		t.Errorf("apps/app.yaml on the branch:\n%s\nwant:\n%s", got, want)
	}
	first := branchHead()
	commit, _, err := client.GetSingleCommit(repo.Owner, repo.Name, first)
	if err != nil {
		t.Fatal(err)
	}
	if commit.RepoCommit.Author.Email != "fluxbot@example.com" || len(commit.Parents) != 1 || commit.Parents[0].SHA != seeded {
		t.Errorf("commit by %s with parents %v, want fluxbot on top of %s", commit.RepoCommit.Author.Email, commit.Parents, seeded)
	}
	if msg := commit.RepoCommit.Message; !strings.Contains(msg, "- "+image+":1.0.0 -> "+image+":1.1.0") {
		t.Errorf("commit message %q", msg)
	}

	// 2. No new tag: nothing is pushed and the pull request stays as is.
	_, stderr, code = run(t, args...)
	if code != 0 {
		t.Fatalf("second run: exit %d:\n%s", code, stderr)
	}
	if got := branchHead(); got != first {
		t.Errorf("second run moved image-updates from %s to %s", first, got)
	}
	if prs := pulls(); len(prs) != 1 || !prs[0].Updated.Equal(*pr.Updated) {
		t.Errorf("second run touched the pull request")
	}
	if !strings.Contains(stderr, "already holds these updates") || !strings.Contains(stderr, "is current") {
		t.Errorf("second run said:\n%s", stderr)
	}

	// 3. A newer tag: the branch is rebuilt on main and the same pull
	// request now lists 1.2.0.
	reg.push(t, "org/app", "1.2.0")
	_, stderr, code = run(t, args...)
	if code != 0 {
		t.Fatalf("third run: exit %d:\n%s", code, stderr)
	}
	third := branchHead()
	if third == first {
		t.Fatalf("a new tag did not update image-updates:\n%s", stderr)
	}
	if !strings.Contains(fileOnBranch(), image+":1.2.0 #") {
		t.Errorf("branch lacks 1.2.0:\n%s", fileOnBranch())
	}
	prs = pulls()
	if len(prs) != 1 || prs[0].Index != pr.Index || !strings.Contains(prs[0].Body, "`"+image+":1.2.0`") {
		t.Errorf("want pull request #%d updated to 1.2.0, got %d pull requests", pr.Index, len(prs))
	}

	// 4. Someone else commits to the bot branch: the next run stops and
	// leaves the branch alone.
	_, _, err = client.UpdateFile(repo.Owner, repo.Name, "apps/app.yaml", gitea.UpdateFileOptions{
		FileOptions: gitea.FileOptions{
			Message: "pin the app by hand", BranchName: "image-updates",
			Author: gitea.Identity{Name: "Human", Email: "human@example.com"},
		},
		SHA:     fileSHA(t, client, repo, "image-updates", "apps/app.yaml"),
		Content: b64(strings.Replace(fileOnBranch(), ":1.2.0 #", ":1.1.0 #", 1)),
	})
	if err != nil {
		t.Fatal(err)
	}
	human := branchHead()
	reg.push(t, "org/app", "1.3.0")
	_, stderr, code = run(t, args...)
	if code != 2 || !strings.Contains(stderr, "not written by this automation") || !strings.Contains(stderr, "human@example.com") {
		t.Fatalf("run after a human commit: exit %d:\n%s", code, stderr)
	}
	if got := branchHead(); got != human {
		t.Errorf("the human commit %s was overwritten by %s", human, got)
	}
}

func fileSHA(t *testing.T, c *gitea.Client, r *testenv.GiteaRepo, ref, p string) string {
	t.Helper()
	cr, _, err := c.GetContents(r.Owner, r.Name, ref, p)
	if err != nil {
		t.Fatal(err)
	}
	return cr.SHA
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// TestImageUpdateOneAutomationFails: an automation whose update path does
// not exist fails the run, and the other automations are still planned.
func TestImageUpdateOneAutomationFails(t *testing.T) {
	reg := newTestRegistry(t)
	reg.push(t, "org/app", "1.0.0")
	reg.push(t, "org/app", "1.1.0")
	files := imageFleet(reg.host+"/org/app", "https://git.example.com/org/fleet")
	files["clusters/prod/flux-system/broken.yaml"] = `apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageUpdateAutomation
metadata:
  name: broken
  namespace: flux-system
spec:
  interval: 30m
  sourceRef:
    kind: GitRepository
    name: flux-system
  git:
    commit:
      author:
        email: fluxbot@example.com
  update:
    path: ./missing
`
	dir := testenv.WriteTree(t, files)
	out, stderr, code := run(t, "image-update", dir, "--dry-run", "-o", "json")
	if code != 2 || !strings.Contains(stderr, "ImageUpdateAutomation/flux-system/broken (clusters/prod/flux-system/broken.yaml:1)") {
		t.Fatalf("exit %d, want 2 naming the broken automation:\n%s", code, stderr)
	}
	if !strings.Contains(out, `"automation": "flux-system/apps"`) || !strings.Contains(out, `"new": "`+reg.host+`/org/app:1.1.0"`) {
		t.Errorf("the other automation was not planned:\n%s", out)
	}
}

// TestImageUpdateRestrictEgress: with --restrict-egress a registry on
// the loopback address is not reached; the ImageRepository is reported
// as unreadable, naming the refused address. Without the flag the same
// fleet plans its update.
func TestImageUpdateRestrictEgress(t *testing.T) {
	reg := newTestRegistry(t)
	reg.push(t, "org/app", "1.1.0")
	dir := testenv.WriteTree(t, imageFleet(reg.host+"/org/app", "https://git.example.com/org/fleet"))
	out, stderr, code := run(t, "image-update", dir, "--dry-run", "--restrict-egress", "-o", "diff")
	if code != 1 || !strings.Contains(stderr, "refused: a loopback address") {
		t.Errorf("--restrict-egress: exit %d, want 1 with the refused address\nstderr:\n%s", code, stderr)
	}
	if out != "" {
		t.Errorf("--restrict-egress planned edits:\n%s", out)
	}
	out, stderr, code = run(t, "image-update", dir, "--dry-run", "-o", "diff")
	if code != 0 || !strings.Contains(out, ":1.1.0") {
		t.Errorf("without --restrict-egress: exit %d, diff %q\n%s", code, out, stderr)
	}
}
