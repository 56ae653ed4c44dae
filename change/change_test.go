package change_test

import (
	"context"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxgate/fluxgate/change"
	"github.com/fluxgate/fluxgate/forge"
	"github.com/fluxgate/fluxgate/gitrepo"
	"github.com/fluxgate/fluxgate/internal/testenv"
)

// pullRequests is an in-memory code-hosting service: the interface is
// four calls and a link, the Git side is a real server over HTTP.
type pullRequests struct {
	mu    sync.Mutex
	open  []*forge.PullRequest
	calls []string
}

var _ change.PullRequests = (*pullRequests)(nil)

func (f *pullRequests) FindPullRequest(_ context.Context, head, base string) (*forge.PullRequest, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "find")
	for _, pr := range f.open {
		if pr.Head == head && pr.Base == base {
			c := *pr
			return &c, nil
		}
	}
	return nil, nil
}

func (f *pullRequests) CreatePullRequest(_ context.Context, n forge.NewPullRequest) (*forge.PullRequest, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "create")
	pr := &forge.PullRequest{Number: len(f.open) + 1, Title: n.Title, Body: n.Body, Head: n.Head, Base: n.Base, Labels: n.Labels}
	pr.URL = fmt.Sprintf("https://forge.example/pulls/%d", pr.Number)
	f.open = append(f.open, pr)
	c := *pr
	return &c, nil
}

func (f *pullRequests) UpdatePullRequest(_ context.Context, number int, title, body string) (*forge.PullRequest, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "update")
	pr := f.open[number-1]
	pr.Title, pr.Body = title, body
	c := *pr
	return &c, nil
}

func (f *pullRequests) AddLabels(context.Context, int, []string) error { return nil }

func (f *pullRequests) FileURL(branch, path string, line int) string {
	return fmt.Sprintf("https://forge.example/blob/%s/%s#L%d", branch, path, line)
}

// replace proposes to replace one string by another in one file.
type replace struct {
	path, old, new string
	calls          []string
}

func (p *replace) Edits(base fs.FS) ([]change.Edit, error) {
	p.calls = append(p.calls, "edits")
	data, err := fs.ReadFile(base, p.path)
	if err != nil {
		return nil, err
	}
	after := strings.ReplaceAll(string(data), p.old, p.new)
	if after == string(data) {
		return nil, nil
	}
	return []change.Edit{{Path: p.path, After: []byte(after)}}, nil
}

func (p *replace) Message() (string, error) {
	p.calls = append(p.calls, "message")
	return "Update " + p.new + "\n", nil
}

func (p *replace) PullRequest(message string, link func(string, int) string) (string, string) {
	p.calls = append(p.calls, "pull request")
	return strings.TrimSpace(message), "See " + link(p.path, 1)
}

type fixture struct {
	srv      *testenv.GitHTTPServer
	url      string
	auth     *gitrepo.BasicAuth
	forge    *pullRequests
	progress []string
	pub      *change.Publisher
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv := testenv.GitHTTP(t)
	f := &fixture{
		srv:   srv,
		url:   srv.NewBareRepo(t, "fleet", "main", map[string]string{"apps/app.yaml": "image: app:1.0.0\n"}),
		auth:  &gitrepo.BasicAuth{Username: srv.Username, Password: srv.Password},
		forge: &pullRequests{},
	}
	when := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f.pub = change.NewPublisher(f.forge, change.WithAuth(f.auth),
		change.WithClock(func() time.Time { return when }),
		change.WithProgress(func(line string) { f.progress = append(f.progress, line) }))
	return f
}

func (f *fixture) request() change.Request {
	return change.Request{
		Name: "ImageUpdateAutomation/flux-system/apps (apps.yaml:1)", CloneURL: f.url,
		Base: "main", Head: "bot/apps",
		Author: gitrepo.Signature{Name: "Bot", Email: "bot@example.com"},
		Labels: []string{"dependencies"},
	}
}

// branch returns the content of path on branch and its commits since main.
func (f *fixture) branch(t *testing.T, branch, path string) (string, []gitrepo.CommitInfo) {
	t.Helper()
	ctx := context.Background()
	repo, err := gitrepo.CloneBranch(ctx, f.url, f.auth, "main")
	if err != nil {
		t.Fatal(err)
	}
	head, found, err := repo.FetchBranch(ctx, branch)
	if err != nil || !found {
		t.Fatalf("branch %s: found %v, %v", branch, found, err)
	}
	base, err := repo.Resolve("refs/remotes/origin/main")
	if err != nil {
		t.Fatal(err)
	}
	fsys, err := repo.TreeFS(head)
	if err != nil {
		t.Fatal(err)
	}
	data, err := fs.ReadFile(fsys, path)
	if err != nil {
		t.Fatal(err)
	}
	commits, err := repo.CommitsBetween(head, base)
	if err != nil {
		t.Fatal(err)
	}
	return string(data), commits
}

func TestPublishOpensThenKeepsOnePullRequest(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	req := f.request()

	// 1. A first proposal pushes one commit and opens the pull request.
	res, err := f.pub.Publish(ctx, req, &replace{path: "apps/app.yaml", old: "1.0.0", new: "1.1.0"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Pushed || res.PullRequest != "https://forge.example/pulls/1" {
		t.Fatalf("first publish: %+v", res)
	}
	first := res.Commit
	content, commits := f.branch(t, "bot/apps", "apps/app.yaml")
	if content != "image: app:1.1.0\n" || len(commits) != 1 || commits[0].Author.Email != "bot@example.com" || commits[0].Message != "Update 1.1.0\n" {
		t.Fatalf("bot branch after the first publish: %q, %+v", content, commits)
	}
	want := &forge.PullRequest{Number: 1, URL: "https://forge.example/pulls/1", Title: "Update 1.1.0",
		Body: "See https://forge.example/blob/bot/apps/apps/app.yaml#L1", Head: "bot/apps", Base: "main", Labels: []string{"dependencies"}}
	if d := cmp.Diff(want, f.forge.open[0]); d != "" {
		t.Errorf("pull request (-want +got):\n%s", d)
	}

	// 2. The same proposal again pushes nothing and leaves the pull request.
	pushes := f.srv.Pushes()
	res, err = f.pub.Publish(ctx, req, &replace{path: "apps/app.yaml", old: "1.0.0", new: "1.1.0"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Pushed || f.srv.Pushes() != pushes || res.PullRequest != want.URL {
		t.Errorf("second publish pushed %v (%d pushes, %d before), pull request %q", res.Pushed, f.srv.Pushes(), pushes, res.PullRequest)
	}

	// 3. A newer proposal force-updates the bot branch (still one commit on
	// top of main) and updates the same pull request.
	res, err = f.pub.Publish(ctx, req, &replace{path: "apps/app.yaml", old: "1.0.0", new: "1.2.0"})
	if err != nil {
		t.Fatal(err)
	}
	content, commits = f.branch(t, "bot/apps", "apps/app.yaml")
	if !res.Pushed || content != "image: app:1.2.0\n" || len(commits) != 1 {
		t.Errorf("third publish: %+v; branch %q with %d commits", res, content, len(commits))
	}
	if len(f.forge.open) != 1 || f.forge.open[0].Title != "Update 1.2.0" {
		t.Errorf("pull requests after the third publish: %+v", f.forge.open)
	}
	if d := cmp.Diff([]string{"find", "create", "find", "find", "update"}, f.forge.calls); d != "" {
		t.Errorf("forge calls (-want +got):\n%s", d)
	}
	wantProgress := []string{
		"pushed " + first[:12] + " to bot/apps",
		"opened https://forge.example/pulls/1",
		"bot/apps already holds these updates",
		"https://forge.example/pulls/1 is current",
		"pushed " + res.Commit[:12] + " to bot/apps",
		"updated https://forge.example/pulls/1",
	}
	if d := cmp.Diff(wantProgress, f.progress); d != "" {
		t.Errorf("progress (-want +got):\n%s", d)
	}
}

func TestPublishUpToDate(t *testing.T) {
	f := newFixture(t)
	prop := &replace{path: "apps/app.yaml", old: "9.9.9", new: "10.0.0"}
	res, err := f.pub.Publish(context.Background(), f.request(), prop)
	if err != nil {
		t.Fatal(err)
	}
	if res.Pushed || res.PullRequest != "" || len(res.Edits) != 0 || f.srv.Pushes() != 0 || len(f.forge.calls) != 0 {
		t.Errorf("an up-to-date base: %+v, %d pushes, forge calls %v", res, f.srv.Pushes(), f.forge.calls)
	}
	if d := cmp.Diff([]string{"edits"}, prop.calls); d != "" {
		t.Errorf("proposal calls (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"main is up to date"}, f.progress); d != "" {
		t.Errorf("progress (-want +got):\n%s", d)
	}
}

func TestPublishRefusesForeignCommits(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	req := f.request()
	if _, err := f.pub.Publish(ctx, req, &replace{path: "apps/app.yaml", old: "1.0.0", new: "1.1.0"}); err != nil {
		t.Fatal(err)
	}
	// Someone pushes a commit of their own onto the bot branch.
	repo, err := gitrepo.CloneBranch(ctx, f.url, f.auth, "bot/apps")
	if err != nil {
		t.Fatal(err)
	}
	tip, err := repo.Resolve("refs/remotes/origin/bot/apps")
	if err != nil {
		t.Fatal(err)
	}
	human, err := repo.CommitFiles(tip, map[string][]byte{"apps/app.yaml": []byte("image: app:1.1.1\n")}, "hotfix\n",
		gitrepo.Signature{Name: "Human", Email: "human@example.com", When: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if err := repo.PushBranch(ctx, human, "bot/apps", tip); err != nil {
		t.Fatal(err)
	}
	pushes := f.srv.Pushes()

	_, err = f.pub.Publish(ctx, req, &replace{path: "apps/app.yaml", old: "1.0.0", new: "1.2.0"})
	if err == nil || !strings.Contains(err.Error(), "not written by this automation") || !strings.Contains(err.Error(), "human@example.com") ||
		!strings.HasPrefix(err.Error(), req.Name+": ") {
		t.Fatalf("publish over a human commit: %v", err)
	}
	content, _ := f.branch(t, "bot/apps", "apps/app.yaml")
	if content != "image: app:1.1.1\n" || f.srv.Pushes() != pushes {
		t.Errorf("the human commit was overwritten: %q, %d pushes (%d before)", content, f.srv.Pushes(), pushes)
	}
	if strings.Contains(err.Error(), f.srv.Password) {
		t.Errorf("the error holds the password: %v", err)
	}
}

func TestPublishNeedsAnotherBranch(t *testing.T) {
	f := newFixture(t)
	req := f.request()
	req.Head = req.Base
	_, err := f.pub.Publish(context.Background(), req, &replace{path: "apps/app.yaml", old: "1.0.0", new: "1.1.0"})
	if err == nil || !strings.Contains(err.Error(), "is the checkout branch") || f.srv.Pushes() != 0 {
		t.Fatalf("head == base: %v (%d pushes)", err, f.srv.Pushes())
	}
}
