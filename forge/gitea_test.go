package forge

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"code.gitea.io/sdk/gitea"
	"github.com/google/go-cmp/cmp"

	"github.com/fluxgate/fluxgate/internal/testenv"
)

// TestGitea runs the contract, and Gitea's own cases, against a real Gitea
// server: one per test package, so every case is a subtest here.
func TestGitea(t *testing.T) {
	srv := testenv.Gitea(t)
	admin := srv.Client(t)
	repo := srv.CreateRepo(t, "fleet")

	newDriver := func(t *testing.T, base, token string) *Gitea {
		t.Helper()
		g, err := NewGitea(Options{BaseURL: base, Token: token, Owner: repo.Owner, Repo: repo.Name, Retry: fastRetry})
		if err != nil {
			t.Fatal(err)
		}
		return g
	}

	newDriverFor := func(t *testing.T, r *testenv.GiteaRepo) *Gitea {
		t.Helper()
		g, err := NewGitea(Options{BaseURL: srv.URL, Token: srv.Token, Owner: r.Owner, Repo: r.Name, Retry: fastRetry})
		if err != nil {
			t.Fatal(err)
		}
		return g
	}

	t.Run("contract", func(t *testing.T) {
		runContract(t, fixture{
			forge:     newDriver(t, srv.URL, srv.Token),
			newBranch: repo.CreateBranch,
			openPull:  repo.OpenPullRequest,
			addComment: func(t testing.TB, pr int, body string) {
				t.Helper()
				if _, _, err := admin.CreateIssueComment(repo.Owner, repo.Name, int64(pr), gitea.CreateIssueCommentOption{Body: body}); err != nil {
					t.Fatal(err)
				}
			},
			comments: func(t testing.TB, pr int) []string {
				t.Helper()
				cs, _, err := admin.ListIssueComments(repo.Owner, repo.Name, int64(pr), gitea.ListIssueCommentOptions{})
				if err != nil {
					t.Fatal(err)
				}
				var out []string
				for _, c := range cs {
					out = append(out, c.Body)
				}
				return out
			},
			// Gitea serves an issue's comments in one page; a few are enough.
			pageSize: 4,
			createLabel: func(t testing.TB, name, color string) {
				t.Helper()
				if _, _, err := admin.CreateLabel(repo.Owner, repo.Name, gitea.CreateLabelOption{Name: name, Color: "#" + color}); err != nil {
					t.Fatal(err)
				}
			},
			repoLabels: func(t testing.TB) []string {
				t.Helper()
				return giteaRepoLabels(t, admin, repo)
			},
			pullLabels: func(t testing.TB, pr int) []string {
				t.Helper()
				ls, _, err := admin.GetIssueLabels(repo.Owner, repo.Name, int64(pr), gitea.ListLabelsOptions{})
				if err != nil {
					t.Fatal(err)
				}
				var out []string
				for _, l := range ls {
					out = append(out, l.Name)
				}
				slices.Sort(out)
				return out
			},
		})
	})

	t.Run("errors name the repository and hide the token", func(t *testing.T) {
		g := newDriver(t, srv.URL, srv.Token)
		_, err := g.UpsertComment(context.Background(), 4242, "<!-- m -->", "<!-- m --> x")
		if err == nil {
			t.Fatal("want an error for a missing pull request")
		}
		t.Logf("error: %v", err)
		for _, want := range []string{"gitea " + repo.Owner + "/fleet", "#4242", "404 Not Found"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("err = %v, want it to contain %q", err, want)
			}
		}
		if strings.Contains(err.Error(), srv.Token) {
			t.Errorf("error shows the token: %v", err)
		}

		bad := newDriver(t, srv.URL, "0123456789abcdef0123456789abcdef01234567")
		_, err = bad.FindPullRequest(context.Background(), "main", "main")
		if err == nil || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), "0123456789abcdef") {
			t.Errorf("err = %v, want 401 without the token", err)
		}
	})

	t.Run("labels are found on every page and regardless of case", func(t *testing.T) {
		r, pr := srv.CreateRepoWithPullRequest(t, "labels-paged")
		// More labels than the driver reads a page.
		for i := range 55 {
			name := fmt.Sprintf("bulk-%02d", i)
			if i == 54 {
				name = "Dependencies"
			}
			if _, _, err := admin.CreateLabel(r.Owner, r.Name, gitea.CreateLabelOption{Name: name, Color: "#0075ca"}); err != nil {
				t.Fatal(err)
			}
		}
		g := newDriverFor(t, r)
		if err := g.AddLabels(context.Background(), pr, []string{"bulk-53", "dependencies"}); err != nil {
			t.Fatal(err)
		}
		found, err := g.FindPullRequest(context.Background(), "feature", "main")
		if err != nil || found == nil {
			t.Fatalf("find = %+v, %v", found, err)
		}
		if diff := cmp.Diff([]string{"Dependencies", "bulk-53"}, found.Labels); diff != "" {
			t.Errorf("labels (-want +got):\n%s", diff)
		}
		if got := giteaRepoLabels(t, admin, r); len(got) != 55 {
			t.Errorf("%d repository labels, want the 55 there were: %q", len(got), got)
		}
	})

	t.Run("concurrent calls create a missing label once", func(t *testing.T) {
		r := srv.CreateRepo(t, "labels-concurrent")
		g := newDriverFor(t, r)
		var prs []int
		for i := range 4 {
			head := fmt.Sprintf("automation-%d", i)
			r.CreateBranch(t, head, "main")
			prs = append(prs, r.OpenPullRequest(t, head, "main", head))
		}
		var wg sync.WaitGroup
		errs := make([]error, len(prs))
		for i, pr := range prs {
			wg.Go(func() { errs[i] = g.AddLabels(context.Background(), pr, []string{"image-update"}) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"image-update #ededed"}, giteaRepoLabels(t, admin, r)); diff != "" {
			t.Errorf("repository labels (-want +got):\n%s", diff)
		}
	})

	t.Run("file URLs open the file", func(t *testing.T) {
		r := srv.CreateRepo(t, "links")
		branch, path := "fluxgate/image-update", "clusters/prod apps/podinfo #1.yaml"
		_, _, err := admin.CreateFile(r.Owner, r.Name, path, gitea.CreateFileOptions{
			FileOptions: gitea.FileOptions{Message: "add", BranchName: "main", NewBranchName: branch},
			Content:     base64.StdEncoding.EncodeToString([]byte("image: ghcr.io/stefanprodan/podinfo:6.5.1\n")),
		})
		if err != nil {
			t.Fatal(err)
		}
		link := newDriverFor(t, r).FileURL(branch, path, 1)
		page, _, ok := strings.Cut(link, "#")
		if !ok || !strings.HasSuffix(link, "#L1") {
			t.Fatalf("FileURL = %q, want a #L1 fragment", link)
		}
		resp, err := http.Get(page)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "stefanprodan/podinfo") {
			t.Errorf("GET %s: %s, want the file's page", page, resp.Status)
		}
	})

	t.Run("transient failures in front of Gitea are retried", func(t *testing.T) {
		// A proxy that answers 502 to the first request and 429 to the
		// second, as a load balancer in front of Gitea might.
		target, err := url.Parse(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		proxy := httputil.NewSingleHostReverseProxy(target)
		var calls atomic.Int32
		front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch calls.Add(1) {
			case 1:
				http.Error(w, "bad gateway", http.StatusBadGateway)
			case 2:
				w.Header().Set("Retry-After", "0")
				http.Error(w, `{"message":"slow down"}`, http.StatusTooManyRequests)
			default:
				proxy.ServeHTTP(w, r)
			}
		}))
		defer front.Close()

		r := srv.CreateRepo(t, "retry")
		r.CreateBranch(t, "feature", "main")
		pr := r.OpenPullRequest(t, "feature", "main", "feature")
		g, err := NewGitea(Options{BaseURL: front.URL, Token: srv.Token, Owner: r.Owner, Repo: r.Name, Retry: fastRetry})
		if err != nil {
			t.Fatal(err)
		}
		c, err := g.UpsertComment(context.Background(), pr, "<!-- m -->", "<!-- m --> hello")
		if err != nil {
			t.Fatal(err)
		}
		if c.Outcome != Created || !strings.Contains(c.URL, "/pulls/1#issuecomment-") {
			t.Errorf("upsert = %+v, want created with the comment's URL", c)
		}
		if got := calls.Load(); got != 4 { // 502, 429, list, create
			t.Errorf("%d requests, want 4", got)
		}
	})
}

// giteaRepoLabels lists every label of repo as "name #color".
func giteaRepoLabels(t testing.TB, c *gitea.Client, repo *testenv.GiteaRepo) []string {
	t.Helper()
	var out []string
	for page := 1; ; page++ {
		ls, _, err := c.ListRepoLabels(repo.Owner, repo.Name, gitea.ListLabelsOptions{ListOptions: gitea.ListOptions{Page: page, PageSize: 50}})
		if err != nil {
			t.Fatal(err)
		}
		if len(ls) == 0 {
			return out
		}
		for _, l := range ls {
			out = append(out, l.Name+" #"+strings.ToLower(strings.TrimPrefix(l.Color, "#")))
		}
	}
}

func TestGiteaFileURL(t *testing.T) {
	for _, tc := range []struct {
		name, base, branch, path string
		line                     int
		want                     string
	}{
		{"file at a line", "https://gitea.example.com", "main", "clusters/prod/apps.yaml", 12,
			"https://gitea.example.com/acme/fleet/src/branch/main/clusters/prod/apps.yaml#L12"},
		{"no line", "https://gitea.example.com/", "main", "apps.yaml", 0,
			"https://gitea.example.com/acme/fleet/src/branch/main/apps.yaml"},
		{"branch with slashes", "https://gitea.example.com", "fluxgate/image-update/prod", "apps.yaml", 3,
			"https://gitea.example.com/acme/fleet/src/branch/fluxgate/image-update/prod/apps.yaml#L3"},
		{"path with spaces and specials", "https://gitea.example.com", "main", "/my apps/podinfo #1?.yaml", 1,
			"https://gitea.example.com/acme/fleet/src/branch/main/my%20apps/podinfo%20%231%3F.yaml#L1"},
		{"server under a sub-path", "https://example.com/git/", "main", "a.yaml", 0,
			"https://example.com/git/acme/fleet/src/branch/main/a.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := NewGitea(Options{BaseURL: tc.base, Owner: "acme", Repo: "fleet"})
			if err != nil {
				t.Fatal(err)
			}
			if got := g.FileURL(tc.branch, tc.path, tc.line); got != tc.want {
				t.Errorf("FileURL(%q, %q, %d) = %q, want %q", tc.branch, tc.path, tc.line, got, tc.want)
			}
		})
	}
}
