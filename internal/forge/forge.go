package forge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
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
	// CreatePullRequest opens a pull request.
	CreatePullRequest(ctx context.Context, pr NewPullRequest) (*PullRequest, error)
	// UpdatePullRequest replaces the title and body of pull request number.
	UpdatePullRequest(ctx context.Context, number int, title, body string) (*PullRequest, error)
}

// Forge is a code-hosting service seen through the operations fluxgate
// needs.
type Forge interface {
	Comments
	PullRequests
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
}

// NewPullRequest describes a pull request to open from branch Head into
// branch Base.
type NewPullRequest struct {
	Head  string
	Base  string
	Title string
	Body  string
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
	return nil
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
