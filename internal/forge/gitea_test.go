package forge

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"code.gitea.io/sdk/gitea"

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
