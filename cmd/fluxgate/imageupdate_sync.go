package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"strings"
	"time"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/forge"
	"github.com/fluxgate/fluxgate/gitrepo"
	"github.com/fluxgate/fluxgate/imageupdate"
)

// syncer turns each automation's planned edits into one commit on its push
// branch and one pull request.
type syncer struct {
	o       *imageUpdateOptions
	remotes []string // URLs this repository is known by
	auth    *gitrepo.BasicAuth
	forge   forge.Forge
	stderr  io.Writer
	now     func() time.Time
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
	s := &syncer{o: o, remotes: remoteURLs(abs), forge: f, stderr: stderr, now: time.Now}
	if t := gitToken(fo.token); t != "" {
		s.auth = &gitrepo.BasicAuth{Username: o.gitUser, Password: t}
	}
	return s, nil
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
	res := &syncResult{plan: imageupdate.AutomationEdits{Automation: a}}
	where := fmt.Sprintf("%s (%s:%d)", a.Ref(), a.Doc.File, a.Doc.Line)
	cloneURL, err := s.cloneURL(a)
	if err != nil {
		return nil, err
	}
	head := s.pushBranch(a)
	if head == a.CheckoutBranch {
		return nil, fmt.Errorf("%s: push branch %q is the checkout branch; a pull request needs another branch (--branch)", where, head)
	}
	repo, err := gitrepo.CloneBranch(ctx, cloneURL, s.auth, a.CheckoutBranch)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	base, err := repo.Resolve("refs/remotes/origin/" + a.CheckoutBranch)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	baseFS, err := repo.TreeFS(base)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	plan, err := imageupdate.PlanSetters(baseFS, a.UpdatePath, set.PoliciesFor(a, resolved))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	res.problems = setterProblems(plan.Problems)
	res.plan.Edits, res.plan.Branch = plan.Edits, head

	bot, found, err := repo.FetchBranch(ctx, head)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	author := a.Spec.GitSpec.Commit.Author
	if found {
		commits, err := repo.CommitsBetween(bot, base)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		for _, c := range commits {
			if !strings.EqualFold(c.Author.Email, author.Email) {
				return nil, fmt.Errorf("%s: branch %s holds commit %.12s by %s <%s>, not written by this automation (%s); not overwriting it: merge or close the pull request, or delete the branch",
					where, head, c.Hash, c.Author.Name, c.Author.Email, author.Email)
			}
		}
	}
	if len(plan.Edits) == 0 {
		fmt.Fprintf(s.stderr, "%s: %s is up to date\n", a.Ref(), a.CheckoutBranch)
		return res, nil
	}

	message, err := imageupdate.CommitMessage(a, imageupdate.NewTemplateData(a, plan.Edits, resolved))
	if err != nil {
		return nil, err
	}
	current := false
	if found {
		if current, err = branchHasEdits(repo, bot, plan.Edits); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
	}
	if !current {
		files := map[string][]byte{}
		for _, e := range plan.Edits {
			files[e.Path] = e.After
		}
		commit, err := repo.CommitFiles(base, files, message, gitrepo.Signature{Name: author.Name, Email: author.Email, When: s.now()})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		lease := ""
		if found {
			lease = bot
		}
		if err := repo.PushBranch(ctx, commit, head, lease); err != nil {
			if errors.Is(err, gitrepo.ErrStaleBranch) {
				return nil, fmt.Errorf("%s: branch %s changed on the remote while updating it; not overwriting it (run again): %w", where, head, err)
			}
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		res.plan.Pushed = true
		fmt.Fprintf(s.stderr, "%s: pushed %.12s to %s\n", a.Ref(), commit, head)
	} else {
		fmt.Fprintf(s.stderr, "%s: %s already holds these updates\n", a.Ref(), head)
	}

	title := imageupdate.PullRequestTitle(message)
	body := imageupdate.PullRequestBody(a, plan.Edits, message, func(p string, line int) string {
		return s.forge.FileURL(head, p, line)
	})
	pr, err := s.forge.FindPullRequest(ctx, head, a.CheckoutBranch)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	switch {
	case pr == nil:
		pr, err = s.forge.CreatePullRequest(ctx, forge.NewPullRequest{Head: head, Base: a.CheckoutBranch, Title: title, Body: body, Labels: s.o.labels})
		if err == nil {
			fmt.Fprintf(s.stderr, "%s: opened %s\n", a.Ref(), pr.URL)
		}
	case pr.Title != title || pr.Body != body:
		pr, err = s.forge.UpdatePullRequest(ctx, pr.Number, title, body)
		if err == nil {
			fmt.Fprintf(s.stderr, "%s: updated %s\n", a.Ref(), pr.URL)
		}
	default:
		fmt.Fprintf(s.stderr, "%s: %s is current\n", a.Ref(), pr.URL)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	res.plan.PullRequest = pr.URL
	return res, nil
}

// branchHasEdits reports whether every edited file already has its new
// content at commit rev: the bot branch holds these updates, whatever else
// moved on the checkout branch since.
func branchHasEdits(repo *gitrepo.Repo, rev string, edits []imageupdate.FileEdit) (bool, error) {
	fsys, err := repo.TreeFS(rev)
	if err != nil {
		return false, err
	}
	for _, e := range edits {
		data, err := fs.ReadFile(fsys, e.Path)
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if string(data) != string(e.After) {
			return false, nil
		}
	}
	return true, nil
}

