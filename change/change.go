package change

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/fluxgate/fluxgate/forge"
	"github.com/fluxgate/fluxgate/gitrepo"
)

// Edit is one file's new content, by slash path from the repository root.
type Edit struct {
	Path  string
	After []byte
}

// Proposal is what one automation proposes; the Publisher calls its
// methods in this order, each at most once.
type Proposal interface {
	// Edits computes the edits from the tree of the base branch. No edit
	// means the base is up to date.
	Edits(base fs.FS) ([]Edit, error)
	// Message is the commit message for the edits Edits returned.
	Message() (string, error)
	// PullRequest is the pull request's title and body for a commit
	// message; link makes a web link to a line of a file on the bot branch.
	PullRequest(message string, link func(path string, line int) string) (title, body string)
}

// Request names where a proposal goes.
type Request struct {
	// Name identifies the proposal in errors and progress, as
	// "Kind/namespace/name (file:line)".
	Name string
	// CloneURL is the HTTP(S) URL to clone from and push to.
	CloneURL string
	// Base is the branch the edits apply to and the pull request targets.
	Base string
	// Head is the bot branch; it must differ from Base.
	Head string
	// Author writes the commit; a commit on Head by any other e-mail
	// address stops the run.
	Author gitrepo.Signature
	// Labels are set on a new pull request.
	Labels []string
}

// PullRequests is what a Publisher needs of a code-hosting service.
type PullRequests interface {
	forge.PullRequests
	forge.Links
}

var _ PullRequests = forge.Forge(nil)

// Result is what a Publish did.
type Result struct {
	// Edits are the proposal's edits (none when the base is up to date).
	Edits []Edit
	// Commit is the pushed commit, empty when nothing was pushed.
	Commit string
	// Pushed reports whether Head was updated.
	Pushed bool
	// PullRequest is the URL of the pull request, empty without edits.
	PullRequest string
}

// Publisher turns proposals into commits on bot branches and pull requests.
type Publisher struct {
	forge    PullRequests
	auth     *gitrepo.BasicAuth
	now      func() time.Time
	progress func(string)
}

// Option configures a Publisher.
type Option func(*Publisher)

// WithAuth sets the credentials for cloning and pushing over HTTP(S).
func WithAuth(a *gitrepo.BasicAuth) Option { return func(p *Publisher) { p.auth = a } }

// WithClock sets the time commits are written at (default time.Now).
func WithClock(now func() time.Time) Option { return func(p *Publisher) { p.now = now } }

// WithProgress receives one line per step taken (pushed, opened, current).
func WithProgress(f func(line string)) Option { return func(p *Publisher) { p.progress = f } }

// NewPublisher returns a Publisher opening pull requests through f.
func NewPublisher(f PullRequests, opts ...Option) *Publisher {
	p := &Publisher{forge: f, now: time.Now, progress: func(string) {}}
	for _, o := range opts {
		o(p)
	}
	return p
}

// With returns a copy of p with opts applied on top of its own.
func (p *Publisher) With(opts ...Option) *Publisher {
	c := *p
	for _, o := range opts {
		o(&c)
	}
	return &c
}

// Publish brings req.Head and its pull request in line with what prop
// proposes on req.Base. Errors name req.Name.
func (p *Publisher) Publish(ctx context.Context, req Request, prop Proposal) (*Result, error) {
	where := req.Name
	fail := func(err error) (*Result, error) { return nil, fmt.Errorf("%s: %w", where, err) }
	if req.Head == req.Base {
		return nil, fmt.Errorf("%s: push branch %q is the checkout branch; a pull request needs another branch (--branch)", where, req.Head)
	}
	repo, err := gitrepo.CloneBranch(ctx, req.CloneURL, p.auth, req.Base)
	if err != nil {
		return fail(err)
	}
	base, err := repo.Resolve("refs/remotes/origin/" + req.Base)
	if err != nil {
		return fail(err)
	}
	baseFS, err := repo.TreeFS(base)
	if err != nil {
		return fail(err)
	}
	edits, err := prop.Edits(baseFS)
	if err != nil {
		return fail(err)
	}
	res := &Result{Edits: edits}

	bot, found, err := repo.FetchBranch(ctx, req.Head)
	if err != nil {
		return fail(err)
	}
	if found {
		commits, err := repo.CommitsBetween(bot, base)
		if err != nil {
			return fail(err)
		}
		for _, c := range commits {
			if !strings.EqualFold(c.Author.Email, req.Author.Email) {
				return nil, fmt.Errorf("%s: branch %s holds commit %.12s by %s <%s>, not written by this automation (%s); not overwriting it: merge or close the pull request, or delete the branch",
					where, req.Head, c.Hash, c.Author.Name, c.Author.Email, req.Author.Email)
			}
		}
	}
	if len(edits) == 0 {
		p.progress(fmt.Sprintf("%s is up to date", req.Base))
		return res, nil
	}

	message, err := prop.Message()
	if err != nil {
		return nil, err
	}
	current := false
	if found {
		if current, err = holdsEdits(repo, bot, edits); err != nil {
			return fail(err)
		}
	}
	if !current {
		files := make(map[string][]byte, len(edits))
		for _, e := range edits {
			files[e.Path] = e.After
		}
		author := req.Author
		author.When = p.now()
		commit, err := repo.CommitFiles(base, files, message, author)
		if err != nil {
			return fail(err)
		}
		lease := ""
		if found {
			lease = bot
		}
		if err := repo.PushBranch(ctx, commit, req.Head, lease); err != nil {
			if errors.Is(err, gitrepo.ErrStaleBranch) {
				return nil, fmt.Errorf("%s: branch %s changed on the remote while updating it; not overwriting it (run again): %w", where, req.Head, err)
			}
			return fail(err)
		}
		res.Commit, res.Pushed = commit, true
		p.progress(fmt.Sprintf("pushed %.12s to %s", commit, req.Head))
	} else {
		p.progress(fmt.Sprintf("%s already holds these updates", req.Head))
	}

	title, body := prop.PullRequest(message, func(path string, line int) string {
		return p.forge.FileURL(req.Head, path, line)
	})
	pr, err := p.forge.FindPullRequest(ctx, req.Head, req.Base)
	if err != nil {
		return fail(err)
	}
	switch {
	case pr == nil:
		pr, err = p.forge.CreatePullRequest(ctx, forge.NewPullRequest{Head: req.Head, Base: req.Base, Title: title, Body: body, Labels: req.Labels})
		if err == nil {
			p.progress("opened " + pr.URL)
		}
	case pr.Title != title || pr.Body != body:
		pr, err = p.forge.UpdatePullRequest(ctx, pr.Number, title, body)
		if err == nil {
			p.progress("updated " + pr.URL)
		}
	default:
		p.progress(pr.URL + " is current")
	}
	if err != nil {
		return fail(err)
	}
	res.PullRequest = pr.URL
	return res, nil
}

// holdsEdits reports whether every edited file already has its new content
// at commit rev: the bot branch holds these edits, whatever else moved on
// the base branch since.
func holdsEdits(repo *gitrepo.Repo, rev string, edits []Edit) (bool, error) {
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
