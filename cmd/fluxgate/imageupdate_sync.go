package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"time"

	"github.com/fluxgate/fluxgate/change"
	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/gitrepo"
	"github.com/fluxgate/fluxgate/imageupdate"
	"github.com/fluxgate/fluxgate/workspace"
)

// syncer publishes each automation's planned edits as one commit on its
// push branch and one pull request (package change).
type syncer struct {
	o       *imageUpdateOptions
	remotes []string // URLs this repository is known by
	pub     *change.Publisher
	stderr  io.Writer
}

type syncResult struct {
	problems []fleet.Problem
	plan     imageupdate.AutomationEdits
}

func newSyncer(abs string, o *imageUpdateOptions, stderr io.Writer) (*syncer, error) {
	fo := o.forge
	if err := fo.resolve("image-update"); err != nil {
		return nil, err
	}
	f, err := fo.open()
	if err != nil {
		return nil, err
	}
	opts := []change.Option{change.WithClock(time.Now)}
	if t := gitToken(fo.token); t != "" {
		opts = append(opts, change.WithAuth(&gitrepo.BasicAuth{Username: o.gitUser, Password: t}))
	}
	return &syncer{o: o, remotes: workspace.RemoteURLs(abs), pub: change.NewPublisher(f, opts...), stderr: stderr}, nil
}

// cloneURL is the HTTPS URL of automation a's repository.
func (s *syncer) cloneURL(a *imageupdate.Automation) (string, error) {
	if s.o.gitURL != "" {
		return s.o.gitURL, nil
	}
	src := a.Source.Spec.URL
	local := false
	for _, r := range s.remotes {
		if gitrepo.SameRepository(src, r) {
			local = true
		}
	}
	candidates := []string{src}
	if local {
		candidates = s.remotes
	}
	for _, c := range candidates {
		if u, err := url.Parse(c); err == nil && (u.Scheme == "https" || u.Scheme == "http") {
			return c, nil
		}
	}
	return "", fmt.Errorf("%s (%s:%d): no HTTPS URL for GitRepository %s (%s); set --git-url",
		a.Ref(), a.Doc.File, a.Doc.Line, a.Source.Name, redactURL(src))
}

// pushBranch is where automation a's commit goes: --branch, else
// spec.git.push.branch when it differs from the checkout branch, else a
// branch of fluxgate's own (Flux would push to the checkout branch; a pull
// request needs another one).
func (s *syncer) pushBranch(a *imageupdate.Automation) string {
	switch {
	case s.o.branch != "":
		return s.o.branch
	case a.PushBranch != "" && a.PushBranch != a.CheckoutBranch:
		return a.PushBranch
	}
	return "fluxgate/image-update/" + a.Namespace + "/" + a.Name
}

func (s *syncer) run(ctx context.Context, a *imageupdate.Automation, set *imageupdate.Set, resolved map[string]imageupdate.ImageRef) (*syncResult, error) {
	cloneURL, err := s.cloneURL(a)
	if err != nil {
		return nil, err
	}
	author := a.Spec.GitSpec.Commit.Author
	req := change.Request{
		Name:     fmt.Sprintf("%s (%s:%d)", a.Ref(), a.Doc.File, a.Doc.Line),
		CloneURL: cloneURL,
		Base:     a.CheckoutBranch,
		Head:     s.pushBranch(a),
		Author:   gitrepo.Signature{Name: author.Name, Email: author.Email},
		Labels:   s.o.labels,
	}
	prop := &automationProposal{a: a, policies: set.PoliciesFor(a, resolved), resolved: resolved}
	progress := change.WithProgress(func(line string) { fmt.Fprintf(s.stderr, "%s: %s\n", a.Ref(), line) })
	published, err := s.pub.With(progress).Publish(ctx, req, prop)
	if err != nil {
		return nil, err
	}
	return &syncResult{
		problems: imageupdate.SetterProblems(prop.plan.Problems),
		plan: imageupdate.AutomationEdits{
			Automation: a, Edits: prop.plan.Edits, Branch: req.Head,
			Pushed: published.Pushed, PullRequest: published.PullRequest,
		},
	}, nil
}

// automationProposal is one ImageUpdateAutomation's setter edits as a
// change.Proposal.
type automationProposal struct {
	a        *imageupdate.Automation
	policies map[string]imageupdate.ImageRef
	resolved map[string]imageupdate.ImageRef
	plan     imageupdate.SetterPlan
}

var _ change.Proposal = (*automationProposal)(nil)

func (p *automationProposal) Edits(base fs.FS) ([]change.Edit, error) {
	plan, err := imageupdate.PlanSetters(base, p.a.UpdatePath, p.policies)
	if err != nil {
		return nil, err
	}
	p.plan = plan
	edits := make([]change.Edit, 0, len(plan.Edits))
	for _, e := range plan.Edits {
		edits = append(edits, change.Edit{Path: e.Path, After: e.After})
	}
	return edits, nil
}

func (p *automationProposal) Message() (string, error) {
	return imageupdate.CommitMessage(p.a, imageupdate.NewTemplateData(p.a, p.plan.Edits, p.resolved))
}

func (p *automationProposal) PullRequest(message string, link func(string, int) string) (string, string) {
	return imageupdate.PullRequestTitle(message), imageupdate.PullRequestBody(p.a, p.plan.Edits, message, link)
}
