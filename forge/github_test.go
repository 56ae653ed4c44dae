package forge

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fastRetry keeps backoffs short in tests; Max still lets a Retry-After of
// one second through.
var fastRetry = Retry{Attempts: 3, Initial: 10 * time.Millisecond, Max: 2 * time.Second}

func newTestGitHub(t *testing.T, f *fakeGitHub) *GitHub {
	t.Helper()
	opts := f.options()
	opts.Retry = fastRetry
	g, err := NewGitHub(opts)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestGitHubContract(t *testing.T) {
	f := newFakeGitHub(t)
	runContract(t, fixture{
		forge:       newTestGitHub(t, f),
		newBranch:   func(_ testing.TB, name, _ string) { f.addBranch(name) },
		openPull:    func(_ testing.TB, head, base, title string) int { return f.openPull(head, base, title) },
		addComment:  func(_ testing.TB, pr int, body string) { f.addComment(pr, "reviewer", body) },
		comments:    func(_ testing.TB, pr int) []string { return f.commentBodies(pr) },
		pageSize:    f.pageSize,
		createLabel: func(_ testing.TB, name, color string) { f.addLabel(name, color) },
		repoLabels:  func(testing.TB) []string { return f.repoLabels() },
		pullLabels: func(_ testing.TB, pr int) []string {
			return slices.Sorted(slices.Values(f.pullLabels(pr)))
		},
	})
}

func TestGitHubUnchangedCommentWritesNothing(t *testing.T) {
	f := newFakeGitHub(t)
	g := newTestGitHub(t, f)
	pr := f.openPull("feature", "main", "feature")
	for i := range 5 {
		f.addComment(pr, "reviewer", strings.Repeat("x", i+1))
	}
	f.addComment(pr, "fluxgate-bot", "<!-- m --> same")
	before := len(f.requestLog())
	c, err := g.UpsertComment(context.Background(), pr, "<!-- m -->", "<!-- m --> same")
	if err != nil {
		t.Fatal(err)
	}
	if c.Outcome != Unchanged {
		t.Errorf("outcome = %s, want unchanged", c.Outcome)
	}
	log := f.requestLog()[before:]
	// Six comments at three a page: two pages read, nothing written.
	want := []string{
		"GET /api/v3/repos/acme/fleet/issues/1/comments?per_page=100",
		"GET /api/v3/repos/acme/fleet/issues/1/comments?page=2&per_page=100",
	}
	if diff := cmp.Diff(want, log); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestGitHubRetries(t *testing.T) {
	secondary := `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",` +
		`"documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`
	for _, tc := range []struct {
		name     string
		faults   []fakeFault
		wantErr  string // "" for success
		requests int    // requests the upsert makes in all
		minTime  time.Duration
	}{
		{
			name:     "502 then success",
			faults:   []fakeFault{{method: "GET", status: 502, body: `{"message":"Server Error"}`}},
			requests: 3, // failed list, list, create
		},
		{
			name: "503 on create, then success",
			faults: []fakeFault{{method: "POST", status: 503,
				body: `{"message":"Service Unavailable"}`}},
			requests: 4, // list, failed create, list, create
		},
		{
			name: "secondary rate limit with Retry-After",
			faults: []fakeFault{{method: "GET", status: 403,
				header: http.Header{"Retry-After": {"1"}}, body: secondary}},
			requests: 3,
			minTime:  time.Second,
		},
		{
			name: "secondary rate limit by message only",
			faults: []fakeFault{{method: "GET", status: 403,
				body: `{"message":"You have exceeded a secondary rate limit."}`}},
			requests: 3,
		},
		{
			name:     "429",
			faults:   []fakeFault{{method: "GET", status: 429, body: `{"message":"Too Many Requests"}`}},
			requests: 3,
		},
		{
			name: "5xx until attempts run out",
			faults: []fakeFault{
				{method: "GET", status: 500, body: `{"message":"boom"}`},
				{method: "GET", status: 502, body: `{"message":"boom"}`},
				{method: "GET", status: 504, body: `{"message":"boom"}`},
			},
			wantErr:  "gave up after 3 attempts",
			requests: 3,
		},
		{
			name: "primary rate limit resetting in an hour is not waited for",
			faults: []fakeFault{{method: "GET", status: 403, header: http.Header{
				"X-Ratelimit-Limit":     {"5000"},
				"X-Ratelimit-Remaining": {"0"},
				"X-Ratelimit-Reset":     {strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)},
			}, body: `{"message":"API rate limit exceeded for installation ID 1."}`}},
			wantErr:  "API rate limit exceeded",
			requests: 1,
		},
		{
			name:     "404 is not retried",
			faults:   []fakeFault{{method: "GET", status: 404, body: `{"message":"Not Found"}`}},
			wantErr:  "404 Not Found",
			requests: 1,
		},
		{
			name: "plain 403 is not retried",
			faults: []fakeFault{{method: "GET", status: 403,
				body: `{"message":"Resource not accessible by integration"}`}},
			wantErr:  "Resource not accessible by integration",
			requests: 1,
		},
		{
			name:     "501 is not retried",
			faults:   []fakeFault{{method: "GET", status: 501, body: `{"message":"Not Implemented"}`}},
			wantErr:  "501",
			requests: 1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeGitHub(t)
			g := newTestGitHub(t, f)
			pr := f.openPull("feature", "main", "feature")
			for _, ft := range tc.faults {
				f.fail(ft.method, ft.status, ft.header, ft.body)
			}
			start := time.Now()
			c, err := g.UpsertComment(context.Background(), pr, "<!-- m -->", "<!-- m --> hello")
			elapsed := time.Since(start)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if c.Outcome != Created {
					t.Errorf("outcome = %s, want created", c.Outcome)
				}
				if diff := cmp.Diff([]string{"<!-- m --> hello"}, f.commentBodies(pr)); diff != "" {
					t.Errorf("comments (-want +got):\n%s", diff)
				}
			} else {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
				}
				t.Logf("error: %v", err)
				if want := "github acme/fleet: upsert comment <!-- m --> on pull request #1: "; !strings.HasPrefix(err.Error(), want) {
					t.Errorf("err = %q, want it to start with %q", err, want)
				}
			}
			if got := len(f.requestLog()); got != tc.requests {
				t.Errorf("%d requests, want %d: %q", got, tc.requests, f.requestLog())
			}
			if elapsed < tc.minTime {
				t.Errorf("took %v, want at least %v (Retry-After)", elapsed, tc.minTime)
			}
		})
	}
}

// A create that times out at the gateway after it took effect must not
// lead to a second comment or pull request.
func TestGitHubRetryAfterSideEffectDoesNotDuplicate(t *testing.T) {
	f := newFakeGitHub(t)
	g := newTestGitHub(t, f)
	pr := f.openPull("feature", "main", "feature")

	f.failWith(fakeFault{method: http.MethodPost, status: http.StatusGatewayTimeout, applied: true})

	c, err := g.UpsertComment(context.Background(), pr, "<!-- m -->", "<!-- m --> hello")
	if err != nil {
		t.Fatal(err)
	}
	if c.Outcome != Unchanged {
		t.Errorf("outcome = %s, want unchanged (found the comment the failed create made)", c.Outcome)
	}
	if got := f.commentBodies(pr); len(got) != 1 {
		t.Errorf("comments = %q, want one", got)
	}

	f.failWith(fakeFault{method: http.MethodPost, status: http.StatusGatewayTimeout, applied: true})
	f.addBranch("bot")
	created, err := g.CreatePullRequest(context.Background(), NewPullRequest{Head: "bot", Base: "main", Title: "bot"})
	if err != nil {
		t.Fatal(err)
	}
	found, err := g.FindPullRequest(context.Background(), "bot", "main")
	if err != nil || found == nil || found.Number != created.Number {
		t.Errorf("find = %+v, %v; want #%d", found, err, created.Number)
	}
}

// Labels are added after the pull request is opened; a failure there is
// retried without opening a second pull request.
func TestGitHubCreateWithLabelsRetries(t *testing.T) {
	const pulls, labels = "/api/v3/repos/acme/fleet/pulls", "/api/v3/repos/acme/fleet/issues/1/labels"
	for _, tc := range []struct {
		name    string
		faults  []fakeFault
		wantErr string // "" for success
		// requests made, as "METHOD path" without the query
		want []string
	}{
		{
			name: "no fault",
			want: []string{"POST " + pulls, "POST " + labels},
		},
		{
			name:   "labels fail with a 502, then succeed",
			faults: []fakeFault{{method: "POST", path: "/labels", status: 502, body: `{"message":"Server Error"}`}},
			want:   []string{"POST " + pulls, "POST " + labels, "POST " + labels},
		},
		{
			name:   "create times out after it took effect",
			faults: []fakeFault{{method: "POST", path: "/pulls", status: 504, applied: true}},
			want:   []string{"POST " + pulls, "GET " + pulls, "POST " + labels},
		},
		{
			name: "labels are refused",
			faults: []fakeFault{{method: "POST", path: "/labels", status: 403,
				body: `{"message":"Resource not accessible by integration"}`}},
			wantErr: "create pull request bot -> main: add labels to pull request #1: ",
			want:    []string{"POST " + pulls, "POST " + labels},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeGitHub(t)
			g := newTestGitHub(t, f)
			f.addBranch("bot")
			for _, ft := range tc.faults {
				f.failWith(ft)
			}
			pr, err := g.CreatePullRequest(context.Background(), NewPullRequest{
				Head: "bot", Base: "main", Title: "Update images", Labels: []string{"image-update", "automerge"},
			})
			if pr == nil || pr.Number != 1 {
				t.Fatalf("pull request = %+v, want #1 (err %v)", pr, err)
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("err = %v, want it to contain %q", err, tc.wantErr)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				want := []string{"automerge", "image-update"}
				if diff := cmp.Diff(want, pr.Labels); diff != "" {
					t.Errorf("labels (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(want, slices.Sorted(slices.Values(f.pullLabels(1)))); diff != "" {
					t.Errorf("labels on the fake (-want +got):\n%s", diff)
				}
			}
			var got []string
			for _, l := range f.requestLog() {
				got = append(got, strings.Split(l, "?")[0])
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGitHubAddLabelsWithoutLabelsSendsNothing(t *testing.T) {
	f := newFakeGitHub(t)
	g := newTestGitHub(t, f)
	pr := f.openPull("feature", "main", "feature")
	for _, labels := range [][]string{nil, {}} {
		if err := g.AddLabels(context.Background(), pr, labels); err != nil {
			t.Errorf("AddLabels(%q) = %v", labels, err)
		}
	}
	if err := g.AddLabels(context.Background(), pr, []string{""}); err == nil {
		t.Error("a blank label was accepted")
	}
	if _, err := g.CreatePullRequest(context.Background(), NewPullRequest{
		Head: "feature", Base: "main", Title: "t", Labels: []string{"ok", "\t"},
	}); err == nil || !strings.Contains(err.Error(), "empty label name") {
		t.Errorf("create with a blank label: err = %v", err)
	}
	if log := f.requestLog(); len(log) != 0 {
		t.Errorf("requests %q, want none", log)
	}
}

func TestGitHubFileURL(t *testing.T) {
	for _, tc := range []struct {
		name, base, branch, path string
		line                     int
		want                     string
	}{
		{"github.com", "", "main", "clusters/prod/apps.yaml", 12,
			"https://github.com/acme/fleet/blob/main/clusters/prod/apps.yaml#L12"},
		{"api.github.com given", "https://api.github.com/", "main", "apps.yaml", 0,
			"https://github.com/acme/fleet/blob/main/apps.yaml"},
		{"GitHub Enterprise Server", "https://ghe.example.com", "main", "apps.yaml", 7,
			"https://ghe.example.com/acme/fleet/blob/main/apps.yaml#L7"},
		{"GitHub Enterprise Server API URL", "https://ghe.example.com/api/v3/", "main", "apps.yaml", 7,
			"https://ghe.example.com/acme/fleet/blob/main/apps.yaml#L7"},
		{"GHE.com", "https://api.acme.ghe.com", "main", "apps.yaml", 0,
			"https://acme.ghe.com/acme/fleet/blob/main/apps.yaml"},
		{"branch with slashes", "", "fluxgate/image-update/prod", "apps.yaml", 3,
			"https://github.com/acme/fleet/blob/fluxgate/image-update/prod/apps.yaml#L3"},
		{"path with spaces and specials", "", "main", "/my apps/podinfo #1?.yaml", 1,
			"https://github.com/acme/fleet/blob/main/my%20apps/podinfo%20%231%3F.yaml#L1"},
		{"branch with specials", "", "release/v1.0+%", "a.yaml", 0,
			"https://github.com/acme/fleet/blob/release/v1.0+%25/a.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := NewGitHub(Options{BaseURL: tc.base, Owner: "acme", Repo: "fleet"})
			if err != nil {
				t.Fatal(err)
			}
			if got := g.FileURL(tc.branch, tc.path, tc.line); got != tc.want {
				t.Errorf("FileURL(%q, %q, %d) = %q, want %q", tc.branch, tc.path, tc.line, got, tc.want)
			}
		})
	}
}

func TestGitHubErrorsHideTheToken(t *testing.T) {
	f := newFakeGitHub(t)
	g := newTestGitHub(t, f)
	pr := f.openPull("feature", "main", "feature")
	// A server (or proxy) that echoes the credentials back.
	f.fail("GET", http.StatusBadRequest, nil, `{"message":"bad header Authorization: Bearer `+f.token+`"}`)
	_, err := g.UpsertComment(context.Background(), pr, "<!-- m -->", "<!-- m --> x")
	if err == nil {
		t.Fatal("want an error")
	}
	if strings.Contains(err.Error(), f.token) {
		t.Errorf("error shows the token: %v", err)
	}
	if !strings.Contains(err.Error(), "[REDACTED]") {
		t.Errorf("err = %v, want the token replaced", err)
	}

	// Wrong token: 401, not retried, no token in the message.
	opts := f.options()
	opts.Token = "ghp_wrongTOKEN"
	opts.Retry = fastRetry
	bad, err := NewGitHub(opts)
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.FindPullRequest(context.Background(), "feature", "main")
	if err == nil || !strings.Contains(err.Error(), "401 Bad credentials") || strings.Contains(err.Error(), "ghp_wrongTOKEN") {
		t.Errorf("err = %v, want 401 without the token", err)
	}
}

func TestGitHubRetryStopsWithContext(t *testing.T) {
	f := newFakeGitHub(t)
	opts := f.options()
	opts.Retry = Retry{Attempts: 5, Initial: time.Second, Max: 10 * time.Second}
	g, err := NewGitHub(opts)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		f.fail("", http.StatusBadGateway, nil, `{"message":"Bad Gateway"}`)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = g.FindPullRequest(ctx, "feature", "main")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want context.DeadlineExceeded", err)
	}
	if elapsed := time.Since(start); elapsed > 900*time.Millisecond {
		t.Errorf("took %v, want the backoff cut short", elapsed)
	}
}

func TestNewGitHubBaseURL(t *testing.T) {
	for _, tc := range []struct {
		base, want string
	}{
		{"", "https://api.github.com/"},
		{"https://api.github.com", "https://api.github.com/"},
		{"https://github.com/", "https://api.github.com/"},
		{"https://ghe.example.com", "https://ghe.example.com/api/v3/"},
		{"https://ghe.example.com/api/v3", "https://ghe.example.com/api/v3/"},
	} {
		g, err := NewGitHub(Options{BaseURL: tc.base, Owner: "acme", Repo: "fleet"})
		if err != nil {
			t.Fatalf("%q: %v", tc.base, err)
		}
		if got := g.BaseURL(); got != tc.want {
			t.Errorf("base %q: API URL %q, want %q", tc.base, got, tc.want)
		}
	}
	if _, err := NewGitHub(Options{Owner: "acme"}); err == nil {
		t.Error("missing repository accepted")
	}
	if _, err := NewGitHub(Options{BaseURL: "ghe.example.com", Owner: "acme", Repo: "fleet"}); err == nil {
		t.Error("base URL without scheme accepted")
	}
}
