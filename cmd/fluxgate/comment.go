package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fluxgate/fluxgate/internal/forge"
	"github.com/fluxgate/fluxgate/internal/ghaction"
)

// commentOptions are the flags of a command that posts one sticky pull
// request comment.
type commentOptions struct {
	enabled    bool
	id         string
	forgeName  string
	apiURL     string
	repository string
	pr         int
	token      string
}

func addCommentFlags(cmd *cobra.Command, o *commentOptions) {
	f := cmd.Flags()
	f.BoolVar(&o.enabled, "comment", false, "post the report as one pull request comment, updated in place on later runs")
	f.StringVar(&o.id, "comment-id", "default", "which sticky comment to own: one per ID, so several jobs or clusters can each keep one")
	f.StringVar(&o.forgeName, "forge", "", "github or gitea (default: gitea in Gitea Actions, else github)")
	f.StringVar(&o.apiURL, "api-url", "", "API endpoint (default: $GITHUB_API_URL, or the Gitea server $GITHUB_SERVER_URL)")
	f.StringVar(&o.repository, "repository", "", "OWNER/NAME of the pull request's repository (default: $GITHUB_REPOSITORY)")
	f.IntVar(&o.pr, "pr", 0, "pull request number (default: from the Actions event payload)")
}

var commentIDPattern = regexp.MustCompile(`^[A-Za-z0-9._/-]+$`)

// marker is the hidden line that identifies the comment.
func (o *commentOptions) marker() string {
	return "<!-- fluxgate:diff:" + o.id + " -->"
}

// resolve fills what the flags leave out from the Actions environment and
// checks that everything needed to post is there, before any rendering.
func (o *commentOptions) resolve(ev *ghaction.Event) error {
	if !commentIDPattern.MatchString(o.id) {
		return fmt.Errorf("--comment-id %q: use letters, digits, '.', '_', '-' and '/'", o.id)
	}
	if o.forgeName == "" {
		o.forgeName = "github"
		if os.Getenv("GITEA_ACTIONS") == "true" {
			o.forgeName = "gitea"
		}
	}
	if o.repository == "" {
		o.repository = os.Getenv("GITHUB_REPOSITORY")
	}
	if o.pr == 0 && ev.PullRequest != nil {
		o.pr = ev.PullRequest.Number
	}
	switch o.forgeName {
	case "github":
		if o.apiURL == "" {
			o.apiURL = os.Getenv("GITHUB_API_URL")
		}
		o.token = os.Getenv("GITHUB_TOKEN")
	case "gitea":
		if o.apiURL == "" {
			o.apiURL = os.Getenv("GITHUB_SERVER_URL")
		}
		o.token = os.Getenv("GITEA_TOKEN")
		if o.token == "" {
			o.token = os.Getenv("GITHUB_TOKEN")
		}
		if o.apiURL == "" {
			return errors.New("--comment: the Gitea server URL is unknown; set --api-url")
		}
	default:
		return fmt.Errorf("--forge %q: want github or gitea", o.forgeName)
	}
	if owner, name, ok := strings.Cut(o.repository, "/"); !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return fmt.Errorf("--comment: the repository %q is not OWNER/NAME; set --repository or GITHUB_REPOSITORY", o.repository)
	}
	if o.pr <= 0 {
		return errors.New("--comment: no pull request number; set --pr or run on a pull_request event")
	}
	if o.token == "" {
		return fmt.Errorf("--comment: no token; set %s", map[string]string{"github": "GITHUB_TOKEN", "gitea": "GITEA_TOKEN"}[o.forgeName])
	}
	return nil
}

// post creates or updates the comment and returns its URL.
func (o *commentOptions) post(ctx context.Context, body string) (string, error) {
	owner, name, _ := strings.Cut(o.repository, "/")
	opts := forge.Options{BaseURL: o.apiURL, Token: o.token, Owner: owner, Repo: name}
	var f forge.Comments
	var err error
	if o.forgeName == "gitea" {
		f, err = forge.NewGitea(opts)
	} else {
		f, err = forge.NewGitHub(opts)
	}
	if err != nil {
		return "", err
	}
	c, err := f.UpsertComment(ctx, o.pr, o.marker(), body)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s (%s)", c.URL, c.Outcome), nil
}
