package forge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"code.gitea.io/sdk/gitea"
)

// Gitea is the driver for Gitea (and API-compatible Forgejo) servers.
//
// Gitea's API differs from GitHub's where it matters here: the pull request
// list ignores a head filter, so FindPullRequest lists the open pull
// requests and matches head and base itself; issue comments come in a
// single page; the comments of a missing pull request are a 500, which
// UpsertComment turns back into the 404 it is; and labels are added by ID,
// so AddLabels looks the names up among the repository's labels and
// creates the missing ones itself.
type Gitea struct {
	baseURL string
	opts    Options
	retry   Retry
	// labelsMu keeps concurrent calls from creating the same label twice:
	// Gitea does not refuse a second label of the same name.
	labelsMu sync.Mutex
}

var _ Forge = (*Gitea)(nil)

// NewGitea returns the driver for repository opts.Owner/opts.Repo on the
// Gitea server at opts.BaseURL. It makes no request.
func NewGitea(opts Options) (*Gitea, error) {
	if err := opts.validate("gitea"); err != nil {
		return nil, err
	}
	u, err := url.Parse(opts.BaseURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("gitea: invalid base URL %q", opts.BaseURL)
	}
	opts.HTTPClient = opts.httpClient()
	return &Gitea{baseURL: strings.TrimSuffix(opts.BaseURL, "/"), opts: opts, retry: opts.Retry.withDefaults()}, nil
}

// client returns an SDK client bound to ctx: the SDK takes its context per
// client, not per call. Building one costs no request because the server
// version check is turned off (nothing here depends on it).
func (g *Gitea) client(ctx context.Context) (*gitea.Client, error) {
	copts := []gitea.ClientOption{
		gitea.SetHTTPClient(g.opts.HTTPClient),
		gitea.SetContext(ctx),
		gitea.SetGiteaVersion(""),
		gitea.SetUserAgent("fluxgate"),
	}
	if g.opts.Token != "" {
		copts = append(copts, gitea.SetToken(g.opts.Token))
	}
	return gitea.NewClient(g.baseURL, copts...)
}

func (g *Gitea) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("gitea %s/%s: %s: %w", g.opts.Owner, g.opts.Repo, op, redact(err, g.opts.Token))
}

// check turns the SDK's (response, error) pair into an error that carries
// the HTTP status for giteaTransient.
func check(resp *gitea.Response, err error) error {
	if err == nil {
		return nil
	}
	if resp != nil && resp.Response != nil && resp.StatusCode/100 != 2 {
		return &statusError{status: resp.StatusCode, header: resp.Header, err: err}
	}
	return err
}

// UpsertComment implements [Comments].
func (g *Gitea) UpsertComment(ctx context.Context, pr int, marker, body string) (Comment, error) {
	op := fmt.Sprintf("upsert comment %s on pull request #%d", marker, pr)
	if err := validateComment(pr, marker, body); err != nil {
		return Comment{}, g.wrap(op, err)
	}
	c, err := g.client(ctx)
	if err != nil {
		return Comment{}, g.wrap(op, err)
	}
	var out Comment
	err = g.retry.do(ctx, giteaTransient, func(int) error {
		existing, err := g.findComment(c, pr, marker)
		if err != nil {
			return err
		}
		switch {
		case existing == nil:
			cm, resp, err := c.CreateIssueComment(g.opts.Owner, g.opts.Repo, int64(pr), gitea.CreateIssueCommentOption{Body: body})
			if err := check(resp, err); err != nil {
				return err
			}
			out = Comment{ID: cm.ID, URL: cm.HTMLURL, Outcome: Created}
		case existing.Body == body:
			out = Comment{ID: existing.ID, URL: existing.HTMLURL, Outcome: Unchanged}
		default:
			cm, resp, err := c.EditIssueComment(g.opts.Owner, g.opts.Repo, existing.ID, gitea.EditIssueCommentOption{Body: body})
			if err := check(resp, err); err != nil {
				return err
			}
			out = Comment{ID: cm.ID, URL: cm.HTMLURL, Outcome: Updated}
		}
		return nil
	})
	return out, g.wrap(op, err)
}

func (g *Gitea) findComment(c *gitea.Client, pr int, marker string) (*gitea.Comment, error) {
	// Gitea answers with every comment of the issue at once; follow the
	// Link header anyway should a version start paging.
	opts := gitea.ListIssueCommentOptions{ListOptions: gitea.ListOptions{Page: 1, PageSize: 50}}
	for {
		page, resp, err := c.ListIssueComments(g.opts.Owner, g.opts.Repo, int64(pr), opts)
		if err := check(resp, err); err != nil {
			if se, ok := errors.AsType[*statusError](err); ok && se.status == http.StatusInternalServerError {
				// Gitea answers 500, not 404, for the comments of a missing
				// issue; ask for the pull request to tell the two apart.
				_, presp, perr := c.GetPullRequest(g.opts.Owner, g.opts.Repo, int64(pr))
				if perr := check(presp, perr); perr != nil {
					if pse, ok := errors.AsType[*statusError](perr); ok && pse.status == http.StatusNotFound {
						return nil, perr
					}
				}
			}
			return nil, err
		}
		for _, cm := range page {
			if strings.Contains(cm.Body, marker) {
				return cm, nil
			}
		}
		if resp == nil || resp.NextPage <= opts.Page {
			return nil, nil
		}
		opts.Page = resp.NextPage
	}
}

// FindPullRequest implements [PullRequests].
func (g *Gitea) FindPullRequest(ctx context.Context, head, base string) (*PullRequest, error) {
	op := fmt.Sprintf("find pull request %s -> %s", head, base)
	c, err := g.client(ctx)
	if err != nil {
		return nil, g.wrap(op, err)
	}
	var out *PullRequest
	err = g.retry.do(ctx, giteaTransient, func(int) error {
		found, err := g.findPullRequest(c, head, base)
		out = found
		return err
	})
	return out, g.wrap(op, err)
}

func (g *Gitea) findPullRequest(c *gitea.Client, head, base string) (*PullRequest, error) {
	opts := gitea.ListPullRequestsOptions{
		ListOptions: gitea.ListOptions{Page: 1, PageSize: 50},
		State:       gitea.StateOpen,
	}
	for {
		page, resp, err := c.ListRepoPullRequests(g.opts.Owner, g.opts.Repo, opts)
		if err := check(resp, err); err != nil {
			return nil, err
		}
		for _, p := range page {
			if p.State == gitea.StateOpen && p.Head != nil && p.Base != nil &&
				p.Head.Ref == head && p.Base.Ref == base && p.Head.RepoID == p.Base.RepoID {
				return fromGitea(p), nil
			}
		}
		if resp == nil || resp.NextPage <= opts.Page {
			return nil, nil
		}
		opts.Page = resp.NextPage
	}
}

// CreatePullRequest implements [PullRequests].
func (g *Gitea) CreatePullRequest(ctx context.Context, pr NewPullRequest) (*PullRequest, error) {
	op := fmt.Sprintf("create pull request %s -> %s", pr.Head, pr.Base)
	if err := validateNewPullRequest(pr); err != nil {
		return nil, g.wrap(op, err)
	}
	c, err := g.client(ctx)
	if err != nil {
		return nil, g.wrap(op, err)
	}
	labels, _ := cleanLabels(pr.Labels)
	var out *PullRequest
	err = g.retry.do(ctx, giteaTransient, createAttempt(&out, labels,
		func() (*PullRequest, error) { return g.findPullRequest(c, pr.Head, pr.Base) },
		func() (*PullRequest, error) {
			p, resp, err := c.CreatePullRequest(g.opts.Owner, g.opts.Repo, gitea.CreatePullRequestOption{
				Head:  pr.Head,
				Base:  pr.Base,
				Title: pr.Title,
				Body:  pr.Body,
			})
			if err := check(resp, err); err != nil {
				return nil, err
			}
			return fromGitea(p), nil
		},
		func(number int) ([]string, error) { return g.addLabels(c, number, labels) },
	))
	return out, g.wrap(op, err)
}

// AddLabels implements [PullRequests]. The labels the repository lacks are
// created with a neutral colour; a name matches an existing label
// regardless of case when none matches exactly, as on GitHub.
func (g *Gitea) AddLabels(ctx context.Context, number int, labels []string) error {
	op := fmt.Sprintf("add labels %q to pull request #%d", labels, number)
	labels, err := checkLabels(number, labels)
	if err != nil || len(labels) == 0 {
		return g.wrap(op, err)
	}
	c, err := g.client(ctx)
	if err != nil {
		return g.wrap(op, err)
	}
	err = g.retry.do(ctx, giteaTransient, func(int) error {
		_, err := g.addLabels(c, number, labels)
		return err
	})
	return g.wrap(op, err)
}

// labelColor is the colour of the labels AddLabels creates: GitHub's
// default grey.
const labelColor = "#ededed"

// addLabels adds labels to issue or pull request number, creating the
// ones the repository lacks, and returns the names of all its labels.
func (g *Gitea) addLabels(c *gitea.Client, number int, labels []string) ([]string, error) {
	ids, err := g.labelIDs(c, labels)
	if err != nil {
		return nil, err
	}
	all, resp, err := c.AddIssueLabels(g.opts.Owner, g.opts.Repo, int64(number), gitea.IssueLabelsOption{Labels: ids})
	if err := check(resp, err); err != nil {
		return nil, err
	}
	return sortedNames(all, func(l *gitea.Label) string { return l.Name }), nil
}

// labelIDs returns the IDs of the repository's labels named names, in
// order, creating the missing ones.
func (g *Gitea) labelIDs(c *gitea.Client, names []string) ([]int64, error) {
	g.labelsMu.Lock()
	defer g.labelsMu.Unlock()
	existing, err := g.repoLabels(c)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, 0, len(names))
	for _, name := range names {
		i := slices.IndexFunc(existing, func(l *gitea.Label) bool { return l.Name == name })
		if i < 0 {
			i = slices.IndexFunc(existing, func(l *gitea.Label) bool { return strings.EqualFold(l.Name, name) })
		}
		if i >= 0 {
			ids = append(ids, existing[i].ID)
			continue
		}
		l, resp, err := c.CreateLabel(g.opts.Owner, g.opts.Repo, gitea.CreateLabelOption{Name: name, Color: labelColor})
		if err := check(resp, err); err != nil {
			return nil, fmt.Errorf("create label %q: %w", name, err)
		}
		ids = append(ids, l.ID)
	}
	return ids, nil
}

// repoLabels lists the repository's labels, reading every page. Gitea
// sends no Link header with them, only X-Total-Count; without either, a
// full page means there may be another.
func (g *Gitea) repoLabels(c *gitea.Client) ([]*gitea.Label, error) {
	opts := gitea.ListLabelsOptions{ListOptions: gitea.ListOptions{Page: 1, PageSize: 50}}
	var out []*gitea.Label
	for {
		page, resp, err := c.ListRepoLabels(g.opts.Owner, g.opts.Repo, opts)
		if err := check(resp, err); err != nil {
			return nil, fmt.Errorf("list labels: %w", err)
		}
		out = append(out, page...)
		if resp == nil || resp.Response == nil {
			return out, nil
		}
		switch total, err := strconv.Atoi(resp.Header.Get("X-Total-Count")); {
		case resp.NextPage > opts.Page:
			opts.Page = resp.NextPage
		case len(page) == 0:
			return out, nil
		case err == nil && len(out) < total, err != nil && len(page) >= opts.PageSize:
			opts.Page++
		default:
			return out, nil
		}
	}
}

// FileURL implements [Links]: BASE/OWNER/REPO/src/branch/BRANCH/PATH#L12.
func (g *Gitea) FileURL(branch, path string, line int) string {
	prefix := g.baseURL + "/" + url.PathEscape(g.opts.Owner) + "/" + url.PathEscape(g.opts.Repo) + "/src/branch"
	return fileURL(prefix, branch, path, line)
}

// UpdatePullRequest implements [PullRequests].
func (g *Gitea) UpdatePullRequest(ctx context.Context, number int, title, body string) (*PullRequest, error) {
	op := fmt.Sprintf("update pull request #%d", number)
	if strings.TrimSpace(title) == "" {
		return nil, g.wrap(op, errors.New("empty pull request title"))
	}
	c, err := g.client(ctx)
	if err != nil {
		return nil, g.wrap(op, err)
	}
	var out *PullRequest
	err = g.retry.do(ctx, giteaTransient, func(int) error {
		// Unset fields (labels, assignees, milestone, base) are left alone.
		p, resp, err := c.EditPullRequest(g.opts.Owner, g.opts.Repo, int64(number), gitea.EditPullRequestOption{
			Title: title,
			Body:  &body,
		})
		if err := check(resp, err); err != nil {
			return err
		}
		out = fromGitea(p)
		return nil
	})
	return out, g.wrap(op, err)
}

func fromGitea(p *gitea.PullRequest) *PullRequest {
	out := &PullRequest{Number: int(p.Index), URL: p.HTMLURL, Title: p.Title, Body: p.Body,
		Labels: sortedNames(p.Labels, func(l *gitea.Label) string { return l.Name })}
	if p.Head != nil {
		out.Head = p.Head.Ref
	}
	if p.Base != nil {
		out.Base = p.Base.Ref
	}
	return out
}

// giteaTransient classifies the errors of check for [Retry].
func giteaTransient(err error) (bool, time.Duration) {
	if se, ok := errors.AsType[*statusError](err); ok {
		return transientStatus(se.status, se.header, se.err.Error())
	}
	return false, 0
}
