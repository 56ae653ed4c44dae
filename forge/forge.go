package forge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Comments keeps one comment per pull request up to date.
type Comments interface {
	// UpsertComment makes sure pull request pr has exactly one comment
	// containing marker, a hidden HTML comment such as
	// "<!-- fluxgate:diff:prod -->" that body must contain. It edits the
	// first existing comment holding marker (only when its body differs) or
	// creates one; it never posts a second comment while one exists, looking
	// through every page of comments.
	UpsertComment(ctx context.Context, pr int, marker, body string) (Comment, error)
}

// PullRequests finds, opens and updates the bot's pull request. Branches
// are branch names in the repository the driver was made for.
type PullRequests interface {
	// FindPullRequest returns the open pull request from branch head into
	// branch base, or nil when there is none.
	FindPullRequest(ctx context.Context, head, base string) (*PullRequest, error)
	// CreatePullRequest opens a pull request and adds pr.Labels to it.
	// A retry after a failure never opens a second pull request: it finds
	// the one an earlier attempt opened. When the pull request was opened
	// but its labels could not be added, it returns the pull request
	// together with the error.
	CreatePullRequest(ctx context.Context, pr NewPullRequest) (*PullRequest, error)
	// UpdatePullRequest replaces the title and body of pull request number,
	// leaving its labels alone.
	UpdatePullRequest(ctx context.Context, number int, title, body string) (*PullRequest, error)
	// AddLabels adds labels to pull request number, keeping the labels it
	// has; a label it already has is not added twice. Labels the
	// repository lacks are created. It makes no request when labels is
	// empty.
	AddLabels(ctx context.Context, number int, labels []string) error
}

// Links builds the web addresses of the repository's pages. It makes no
// request, so the pages need not exist.
type Links interface {
	// FileURL returns the web page of the file at path, slash-separated
	// and relative to the repository root, on branch, scrolled to line
	// (none when line is 0).
	FileURL(branch, path string, line int) string
}

// Forge is a code-hosting service seen through the operations fluxgate
// needs.
type Forge interface {
	Comments
	PullRequests
	Links
}

// Outcome says what UpsertComment did.
type Outcome string

// The outcomes of UpsertComment.
const (
	Created   Outcome = "created"
	Updated   Outcome = "updated"
	Unchanged Outcome = "unchanged"
)

// Comment is a pull request comment written by UpsertComment.
type Comment struct {
	ID      int64
	URL     string // the comment's web page
	Outcome Outcome
}

// PullRequest is an open (or just opened) pull request.
type PullRequest struct {
	Number int
	URL    string // the pull request's web page
	Title  string
	Body   string
	Head   string // source branch
	Base   string // target branch
	// Labels are the names of the pull request's labels, sorted; nil when
	// it has none.
	Labels []string
}

// NewPullRequest describes a pull request to open from branch Head into
// branch Base.
type NewPullRequest struct {
	Head  string
	Base  string
	Title string
	Body  string
	// Labels are added to the pull request once it is open; the ones the
	// repository lacks are created.
	Labels []string
}

// Options configure a driver.
type Options struct {
	// BaseURL is the API endpoint. GitHub: empty for github.com, or the
	// GitHub Enterprise Server URL (https://ghe.example.com or
	// https://ghe.example.com/api/v3). Gitea: the server URL, required.
	BaseURL string
	// Token authenticates the requests; it never appears in errors.
	Token string
	// Owner and Repo name the repository (user or organisation, and name).
	Owner string
	Repo  string
	// HTTPClient sends the requests; nil means a client with a 30s timeout.
	HTTPClient *http.Client
	// Retry bounds the retries of transient failures; zero fields take the
	// defaults of DefaultRetry.
	Retry Retry
}

func (o Options) validate(service string) error {
	if o.Owner == "" || o.Repo == "" {
		return fmt.Errorf("%s: owner and repository are required", service)
	}
	return nil
}

func (o Options) httpClient() *http.Client {
	if o.HTTPClient != nil {
		return o.HTTPClient
	}
	return &http.Client{Timeout: 30 * time.Second}
}

// validateComment checks UpsertComment's arguments: a body without its
// marker could never be found again, and every call would add a comment.
func validateComment(pr int, marker, body string) error {
	switch {
	case pr <= 0:
		return fmt.Errorf("invalid pull request number %d", pr)
	case strings.TrimSpace(marker) == "":
		return errors.New("empty comment marker")
	case !strings.Contains(body, marker):
		return fmt.Errorf("comment body does not contain its marker %q", marker)
	}
	return nil
}

func validateNewPullRequest(pr NewPullRequest) error {
	switch {
	case pr.Head == "" || pr.Base == "":
		return errors.New("head and base branches are required")
	case pr.Head == pr.Base:
		return fmt.Errorf("head and base are the same branch %q", pr.Head)
	case strings.TrimSpace(pr.Title) == "":
		return errors.New("empty pull request title")
	}
	_, err := cleanLabels(pr.Labels)
	return err
}

// cleanLabels returns labels without duplicates, in their first order,
// and refuses blank names. Like GitHub, it takes names that differ only in
// case for the same label.
func cleanLabels(labels []string) ([]string, error) {
	var out []string
	for _, l := range labels {
		if strings.TrimSpace(l) == "" {
			return nil, errors.New("empty label name")
		}
		if !slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, l) }) {
			out = append(out, l)
		}
	}
	return out, nil
}

// checkLabels prepares AddLabels' arguments: labels cleaned as by
// cleanLabels, an error for an invalid pull request number when there is
// anything to add.
func checkLabels(number int, labels []string) ([]string, error) {
	labels, err := cleanLabels(labels)
	if err != nil || len(labels) == 0 {
		return nil, err
	}
	if number <= 0 {
		return nil, fmt.Errorf("invalid pull request number %d", number)
	}
	return labels, nil
}

// createAttempt is the step both drivers' CreatePullRequest retries: after
// a failed attempt, find the pull request that attempt may have opened;
// open it when there is none; then add labels (adding is idempotent, so a
// retry adds them again). *out keeps the pull request across attempts, so
// it is never looked up or opened twice.
func createAttempt(out **PullRequest, labels []string,
	find func() (*PullRequest, error),
	create func() (*PullRequest, error),
	addLabels func(number int) ([]string, error),
) func(attempt int) error {
	return func(attempt int) error {
		if *out == nil && attempt > 1 {
			found, err := find()
			if err != nil {
				return err
			}
			*out = found
		}
		if *out == nil {
			p, err := create()
			if err != nil {
				return err
			}
			*out = p
		}
		if len(labels) == 0 {
			return nil
		}
		names, err := addLabels((*out).Number)
		if err != nil {
			return fmt.Errorf("add labels to pull request #%d: %w", (*out).Number, err)
		}
		(*out).Labels = names
		return nil
	}
}

// sortedNames returns the sorted names of labels, nil when there are none.
func sortedNames[L any](labels []L, name func(L) string) []string {
	var out []string
	for _, l := range labels {
		out = append(out, name(l))
	}
	slices.Sort(out)
	return out
}

// fileURL joins a repository's web address (ending in the folder holding
// files by branch), branch and path, escaping every segment but keeping
// the slashes of both, and adds the fragment of line.
func fileURL(prefix, branch, path string, line int) string {
	var b strings.Builder
	b.WriteString(prefix)
	for _, part := range []string{branch, path} {
		for seg := range strings.SplitSeq(part, "/") {
			if seg != "" {
				b.WriteString("/")
				b.WriteString(url.PathEscape(seg))
			}
		}
	}
	if line > 0 {
		fmt.Fprintf(&b, "#L%d", line)
	}
	return b.String()
}

// findMarked returns the index of the first body holding marker, or -1.
func findMarked(bodies []string, marker string) int {
	for i, b := range bodies {
		if strings.Contains(b, marker) {
			return i
		}
	}
	return -1
}

// redact replaces the token in err's message, keeping err in the chain.
func redact(err error, token string) error {
	if err == nil || token == "" || !strings.Contains(err.Error(), token) {
		return err
	}
	return &redactedError{msg: strings.ReplaceAll(err.Error(), token, "[REDACTED]"), err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
