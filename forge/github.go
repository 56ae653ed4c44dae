package forge

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/google/go-github/v93/github"
)

// GitHub is the driver for github.com and GitHub Enterprise Server.
type GitHub struct {
	client *github.Client
	web    string // the web address of the repository
	owner  string
	repo   string
	token  string
	retry  Retry
}

var _ Forge = (*GitHub)(nil)

// NewGitHub returns the driver for repository opts.Owner/opts.Repo on
// github.com, or on GitHub Enterprise Server when opts.BaseURL names
// another host.
func NewGitHub(opts Options) (*GitHub, error) {
	if err := opts.validate("github"); err != nil {
		return nil, err
	}
	retry := opts.Retry.withDefaults()
	copts := []github.ClientOptionsFunc{
		github.WithHTTPClient(opts.httpClient()),
		github.WithUserAgent("fluxgate"),
		// go-github refuses requests until a secondary rate limit's
		// Retry-After has passed; keep its wait within ours.
		github.WithMaxSecondaryRateLimitRetryAfterDuration(retry.Max),
	}
	if opts.Token != "" {
		copts = append(copts, github.WithAuthToken(opts.Token))
	}
	if opts.BaseURL != "" {
		u, err := url.Parse(opts.BaseURL)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, fmt.Errorf("github: invalid base URL %q", opts.BaseURL)
		}
		if strings.EqualFold(u.Host, "api.github.com") || strings.EqualFold(u.Host, "github.com") {
			base := "https://api.github.com/"
			copts = append(copts, github.WithURLs(&base, nil))
		} else {
			copts = append(copts, github.WithEnterpriseURLs(opts.BaseURL, opts.BaseURL))
		}
	}
	c, err := github.NewClient(copts...)
	if err != nil {
		return nil, fmt.Errorf("github: %w", redact(err, opts.Token))
	}
	g := &GitHub{client: c, owner: opts.Owner, repo: opts.Repo, token: opts.Token, retry: retry}
	g.web = webBase(c.BaseURL()) + "/" + url.PathEscape(opts.Owner) + "/" + url.PathEscape(opts.Repo)
	return g, nil
}

// webBase returns the web address of the GitHub whose API is at api:
// https://github.com for api.github.com, the same host without the
// "api." prefix (GHE.com: api.acme.ghe.com serves acme.ghe.com), and the
// same address without /api/v3 for GitHub Enterprise Server.
func webBase(api string) string {
	u, err := url.Parse(api)
	if err != nil {
		return strings.TrimSuffix(api, "/")
	}
	if h, ok := strings.CutPrefix(strings.ToLower(u.Host), "api."); ok {
		u.Host = h
	}
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/api/v3")
	u.RawPath, u.RawQuery, u.Fragment = "", "", ""
	return strings.TrimSuffix(u.String(), "/")
}

// BaseURL returns the API endpoint the driver talks to.
func (g *GitHub) BaseURL() string { return g.client.BaseURL() }

// FileURL implements [Links]:
// https://github.com/OWNER/REPO/blob/BRANCH/PATH#L12.
func (g *GitHub) FileURL(branch, path string, line int) string {
	return fileURL(g.web+"/blob", branch, path, line)
}

func (g *GitHub) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("github %s/%s: %s: %w", g.owner, g.repo, op, redact(err, g.token))
}

// UpsertComment implements [Comments].
func (g *GitHub) UpsertComment(ctx context.Context, pr int, marker, body string) (Comment, error) {
	op := fmt.Sprintf("upsert comment %s on pull request #%d", marker, pr)
	if err := validateComment(pr, marker, body); err != nil {
		return Comment{}, g.wrap(op, err)
	}
	var out Comment
	// The whole find-then-write step is retried: a create that failed with
	// a 5xx may have happened anyway, and the next scan then finds it.
	err := g.retry.do(ctx, g.transient, func(int) error {
		existing, err := g.findComment(ctx, pr, marker)
		if err != nil {
			return err
		}
		switch {
		case existing == nil:
			c, _, err := g.client.Issues.CreateComment(ctx, g.owner, g.repo, pr, github.IssueCommentRequest{Body: body})
			if err != nil {
				return err
			}
			out = Comment{ID: c.GetID(), URL: c.GetHTMLURL(), Outcome: Created}
		case existing.GetBody() == body:
			out = Comment{ID: existing.GetID(), URL: existing.GetHTMLURL(), Outcome: Unchanged}
		default:
			c, _, err := g.client.Issues.UpdateComment(ctx, g.owner, g.repo, existing.GetID(), github.IssueCommentRequest{Body: body})
			if err != nil {
				return err
			}
			out = Comment{ID: c.GetID(), URL: c.GetHTMLURL(), Outcome: Updated}
		}
		return nil
	})
	return out, g.wrap(op, err)
}

// findComment returns the first comment of pull request pr holding marker,
// or nil, reading every page.
func (g *GitHub) findComment(ctx context.Context, pr int, marker string) (*github.IssueComment, error) {
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	for {
		page, resp, err := g.client.Issues.ListComments(ctx, g.owner, g.repo, pr, opts)
		if err != nil {
			return nil, err
		}
		for _, c := range page {
			if strings.Contains(c.GetBody(), marker) {
				return c, nil
			}
		}
		if resp.NextPage == 0 || resp.NextPage == opts.Page {
			return nil, nil
		}
		opts.Page = resp.NextPage
	}
}

// FindPullRequest implements [PullRequests].
func (g *GitHub) FindPullRequest(ctx context.Context, head, base string) (*PullRequest, error) {
	op := fmt.Sprintf("find pull request %s -> %s", head, base)
	var out *PullRequest
	err := g.retry.do(ctx, g.transient, func(int) error {
		var err error
		out, err = g.findPullRequest(ctx, head, base)
		return err
	})
	return out, g.wrap(op, err)
}

func (g *GitHub) findPullRequest(ctx context.Context, head, base string) (*PullRequest, error) {
	opts := &github.PullRequestListOptions{
		State:       "open",
		Head:        g.owner + ":" + head,
		Base:        base,
		ListOptions: github.ListOptions{PerPage: 100},
	}
	for {
		page, resp, err := g.client.PullRequests.List(ctx, g.owner, g.repo, opts)
		if err != nil {
			return nil, err
		}
		// The server filters already; check again rather than trust it.
		for _, p := range page {
			if p.GetState() == "open" && p.GetHead().GetRef() == head && p.GetBase().GetRef() == base &&
				strings.EqualFold(p.GetHead().GetRepo().GetFullName(), g.owner+"/"+g.repo) {
				return fromGitHub(p), nil
			}
		}
		if resp.NextPage == 0 || resp.NextPage == opts.Page {
			return nil, nil
		}
		opts.Page = resp.NextPage
	}
}

// CreatePullRequest implements [PullRequests].
func (g *GitHub) CreatePullRequest(ctx context.Context, pr NewPullRequest) (*PullRequest, error) {
	op := fmt.Sprintf("create pull request %s -> %s", pr.Head, pr.Base)
	if err := validateNewPullRequest(pr); err != nil {
		return nil, g.wrap(op, err)
	}
	labels, _ := cleanLabels(pr.Labels)
	var out *PullRequest
	err := g.retry.do(ctx, g.transient, createAttempt(&out, labels,
		func() (*PullRequest, error) { return g.findPullRequest(ctx, pr.Head, pr.Base) },
		func() (*PullRequest, error) {
			p, _, err := g.client.PullRequests.Create(ctx, g.owner, g.repo, github.CreatePullRequest{
				Title: github.Ptr(pr.Title),
				Head:  pr.Head,
				Base:  pr.Base,
				Body:  github.Ptr(pr.Body),
			})
			if err != nil {
				return nil, err
			}
			return fromGitHub(p), nil
		},
		func(number int) ([]string, error) { return g.addLabels(ctx, number, labels) },
	))
	return out, g.wrap(op, err)
}

// AddLabels implements [PullRequests]. GitHub creates the labels the
// repository lacks, and matches names regardless of case.
func (g *GitHub) AddLabels(ctx context.Context, number int, labels []string) error {
	op := fmt.Sprintf("add labels %q to pull request #%d", labels, number)
	labels, err := checkLabels(number, labels)
	if err != nil || len(labels) == 0 {
		return g.wrap(op, err)
	}
	err = g.retry.do(ctx, g.transient, func(int) error {
		_, err := g.addLabels(ctx, number, labels)
		return err
	})
	return g.wrap(op, err)
}

// addLabels adds labels to issue or pull request number and returns the
// names of all its labels.
func (g *GitHub) addLabels(ctx context.Context, number int, labels []string) ([]string, error) {
	all, _, err := g.client.Issues.AddLabelsToIssue(ctx, g.owner, g.repo, number, labels)
	if err != nil {
		return nil, err
	}
	return sortedNames(all, (*github.Label).GetName), nil
}

// UpdatePullRequest implements [PullRequests].
func (g *GitHub) UpdatePullRequest(ctx context.Context, number int, title, body string) (*PullRequest, error) {
	op := fmt.Sprintf("update pull request #%d", number)
	if strings.TrimSpace(title) == "" {
		return nil, g.wrap(op, errors.New("empty pull request title"))
	}
	var out *PullRequest
	err := g.retry.do(ctx, g.transient, func(int) error {
		p, _, err := g.client.PullRequests.Edit(ctx, g.owner, g.repo, number, &github.PullRequest{
			Title: github.Ptr(title),
			Body:  github.Ptr(body),
		})
		if err != nil {
			return err
		}
		out = fromGitHub(p)
		return nil
	})
	return out, g.wrap(op, err)
}

func fromGitHub(p *github.PullRequest) *PullRequest {
	return &PullRequest{
		Number: p.GetNumber(),
		URL:    p.GetHTMLURL(),
		Title:  p.GetTitle(),
		Body:   p.GetBody(),
		Head:   p.GetHead().GetRef(),
		Base:   p.GetBase().GetRef(),
		Labels: sortedNames(p.Labels, (*github.Label).GetName),
	}
}

// transient classifies go-github errors for [Retry].
func (g *GitHub) transient(err error) (bool, time.Duration) {
	if abuse, ok := errors.AsType[*github.AbuseRateLimitError](err); ok {
		return true, abuse.GetRetryAfter()
	}
	if rl, ok := errors.AsType[*github.RateLimitError](err); ok {
		// The primary limit resets hourly: wait only when it is near.
		wait := max(time.Until(rl.Rate.Reset.Time), 0) + time.Second
		return wait <= g.retry.Max, wait
	}
	if er, ok := errors.AsType[*github.ErrorResponse](err); ok && er.Response != nil {
		return transientStatus(er.Response.StatusCode, er.Response.Header, er.Message)
	}
	return false, 0
}
