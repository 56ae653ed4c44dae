package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/fluxgate/fluxgate/diff"
	"github.com/fluxgate/fluxgate/internal/ghaction"
	"github.com/fluxgate/fluxgate/report"
)

// commentOptions are the flags of a command that posts one sticky pull
// request comment.
type commentOptions struct {
	enabled bool
	id      string
	forge   forgeOptions
	pr      int
}

func addCommentFlags(cmd *cobra.Command, o *commentOptions) {
	f := cmd.Flags()
	f.BoolVar(&o.enabled, "comment", false, "post the report as one pull request comment, updated in place on later runs")
	f.StringVar(&o.id, "comment-id", "default", "which sticky comment to own: one per ID, so several jobs or clusters can each keep one")
	addForgeFlags(cmd, &o.forge, "OWNER/NAME of the pull request's repository (default: $GITHUB_REPOSITORY)")
	f.IntVar(&o.pr, "pr", 0, "pull request number (default: from the Actions event payload)")
}

var commentIDPattern = regexp.MustCompile(`^[A-Za-z0-9._/-]+$`)

// marker is the hidden line that identifies the comment.
func (o *commentOptions) marker() string {
	return "<!-- fluxgate:diff:" + o.id + " -->"
}

// check refuses, before anything is read, comment flag values that
// cannot be right, with --comment or without.
func (o *commentOptions) check() error {
	if !commentIDPattern.MatchString(o.id) {
		return fmt.Errorf("--comment-id %q: use letters, digits, '.', '_', '-' and '/'", o.id)
	}
	if o.pr < 0 {
		return &flagError{"pr", strconv.Itoa(o.pr), "want a pull request number"}
	}
	return o.forge.check()
}

// resolve fills what the flags leave out from the Actions environment and
// checks that everything needed to post is there, before any rendering.
func (o *commentOptions) resolve(ev *ghaction.Event) error {
	if !commentIDPattern.MatchString(o.id) {
		return fmt.Errorf("--comment-id %q: use letters, digits, '.', '_', '-' and '/'", o.id)
	}
	if o.pr == 0 && ev.PullRequest != nil {
		o.pr = ev.PullRequest.Number
	}
	if err := o.forge.resolve("--comment"); err != nil {
		return err
	}
	if o.pr <= 0 {
		return errors.New("--comment: no pull request number; set --pr or run on a pull_request event")
	}
	return nil
}

// post creates or updates the comment and returns its URL.
func (o *commentOptions) post(ctx context.Context, body string) (string, error) {
	f, err := o.forge.open()
	if err != nil {
		return "", err
	}
	c, err := f.UpsertComment(ctx, o.pr, o.marker(), body)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s (%s)", c.URL, c.Outcome), nil
}

// postDiff posts the diff report as the comment, pointing to the full
// report in markdownFile when it does not fit; "" when there is none.
func (o *commentOptions) postDiff(ctx context.Context, rep *diff.Report, markdownFile string, stderr io.Writer) error {
	var buf bytes.Buffer
	truncated, err := report.DiffMarkdown(&buf, rep, report.DiffMarkdownOptions{
		Marker: o.marker(), Limit: report.CommentLimit, FullReport: filepath.Base(markdownFile),
	})
	if err != nil {
		return err
	}
	if truncated && markdownFile == "" {
		fmt.Fprintln(stderr, "fluxgate: the diff is larger than a comment; add -o markdown=PATH to keep the full report")
	}
	url, err := o.post(ctx, buf.String())
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "fluxgate: diff comment %s\n", url)
	return nil
}
