package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"sort"
	"strings"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/revlist"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/client"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/storage/memory"
)

// BasicAuth is HTTP basic credentials for a Git remote. A token goes in
// Password; most forges accept any non-empty Username with a token
// (GitHub: "x-access-token", GitLab: "oauth2"). The password is never
// printed: String and GoString mask it, and errors returned by this package
// have it replaced by "***".
type BasicAuth struct {
	Username string
	Password string
}

// String returns the username with the password masked.
func (a BasicAuth) String() string {
	return a.Username + ":***"
}

// GoString is String, so that %#v does not print the password either.
func (a BasicAuth) GoString() string {
	return fmt.Sprintf("gitrepo.BasicAuth{Username: %q, Password: \"***\"}", a.Username)
}

// ErrBranchNotFound is returned (wrapped) by [CloneBranch] when the remote
// has no such branch (or no branch at all).
var ErrBranchNotFound = errors.New("branch not found")

// ErrStaleBranch is returned (wrapped) by [Repo.PushBranch] when its lease
// fails: the remote branch is not at the expected commit, or exists when it
// was expected not to.
var ErrStaleBranch = errors.New("remote branch is not at the expected commit")

// originName is the name of the remote of cloned repositories, and the
// remote used by FetchBranch and PushBranch.
const originName = "origin"

// remoteAccess is how a Repo reaches its remote.
type remoteAccess struct {
	url  string     // without user information
	auth *BasicAuth // nil: anonymous
}

// transportAuth returns the go-git form of the credentials.
func (a *remoteAccess) transportAuth() transport.AuthMethod {
	if a.auth == nil {
		return nil
	}
	return &githttp.BasicAuth{Username: a.auth.Username, Password: a.auth.Password}
}

// scrub returns err with the password, in the forms it may take in a
// message, replaced by "***". The result still unwraps to err.
func (a *remoteAccess) scrub(err error) error {
	if err == nil || a.auth == nil || a.auth.Password == "" {
		return err
	}
	p := a.auth.Password
	msg := err.Error()
	clean := msg
	// As given, and escaped the ways a URL may carry it (the last one is
	// the userinfo escaping of ":password").
	for _, s := range []string{p, url.PathEscape(p), url.QueryEscape(p), url.UserPassword("", p).String()[1:]} {
		if s != "" {
			clean = strings.ReplaceAll(clean, s, "***")
		}
	}
	if clean == msg {
		return err
	}
	return &scrubbedError{msg: clean, err: err}
}

// scrubbedError is an error whose message had secrets removed.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// splitUserinfo removes the user information from an http(s) URL and
// returns it as credentials (nil when there is none). Other URLs are
// returned unchanged.
func splitUserinfo(raw string) (string, *BasicAuth) {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil || (u.Scheme != "http" && u.Scheme != "https") {
		return raw, nil
	}
	pw, _ := u.User.Password()
	auth := &BasicAuth{Username: u.User.Username(), Password: pw}
	u.User = nil
	return u.String(), auth
}

// redactURL returns raw without user information, for messages.
func redactURL(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return raw
	}
	authority, p, hasPath := strings.Cut(rest, "/")
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		authority = authority[at+1:]
	}
	if hasPath {
		return scheme + "://" + authority + "/" + p
	}
	return scheme + "://" + authority
}

// branchRef validates a branch name and returns its reference name.
func branchRef(name string) (plumbing.ReferenceName, error) {
	ref := plumbing.NewBranchReferenceName(name)
	if name == "" || strings.HasPrefix(name, "refs/") || ref.Validate() != nil {
		return "", fmt.Errorf("invalid branch name %q", name)
	}
	return ref, nil
}

// CloneBranch clones branch of the remote at rawURL into memory: go-git
// memory storage, no work tree and nothing written to disk. Only that
// branch is fetched, with its full history and no tags; it becomes the
// local branch of the same name, HEAD, and "origin/<branch>".
//
// rawURL is an http(s) URL, or a file:// URL or local path (go-git runs
// the git binary for those; meant for tests). auth is used for this and
// every later [Repo.FetchBranch] and [Repo.PushBranch]; nil means
// anonymous, or the user information of rawURL when it has some (which is
// then removed from the remote URL the repository records).
//
// An unknown branch gives an error wrapping [ErrBranchNotFound]. Errors
// name the URL without user information, and the branch.
func CloneBranch(ctx context.Context, rawURL string, auth *BasicAuth, branch string) (*Repo, error) {
	clean, fromURL := splitUserinfo(rawURL)
	if auth == nil {
		auth = fromURL
	}
	a := &remoteAccess{url: clean, auth: auth}
	ref, err := branchRef(branch)
	if err != nil {
		return nil, fmt.Errorf("clone %s: %w", redactURL(clean), err)
	}
	g, err := git.CloneContext(ctx, memory.NewStorage(), nil, &git.CloneOptions{
		URL:           clean,
		Auth:          a.transportAuth(),
		RemoteName:    originName,
		ReferenceName: ref,
		SingleBranch:  true,
		NoCheckout:    true,
		Tags:          git.NoTags,
	})
	if errors.Is(err, git.NoMatchingRefSpecError{}) || errors.Is(err, transport.ErrEmptyRemoteRepository) {
		return nil, fmt.Errorf("clone branch %s of %s: %w", branch, redactURL(clean), ErrBranchNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("clone branch %s of %s: %w", branch, redactURL(clean), a.scrub(err))
	}
	return &Repo{git: g, remote: a}, nil
}

// access returns how to reach the remote: the credentials given to
// CloneBranch, or, for a repository from Open, the first URL of its remote
// "origin" (with its user information as credentials). The caller holds
// r.mu.
func (r *Repo) access() (*remoteAccess, error) {
	if r.remote != nil {
		return r.remote, nil
	}
	rem, err := r.git.Remote(originName)
	if err != nil {
		return nil, fmt.Errorf("repository %s: remote %s: %w", r.root, originName, err)
	}
	urls := rem.Config().URLs
	if len(urls) == 0 {
		return nil, fmt.Errorf("repository %s: remote %s has no URL", r.root, originName)
	}
	clean, auth := splitUserinfo(urls[0])
	return &remoteAccess{url: clean, auth: auth}, nil
}

// FetchBranch fetches branch name of the remote "origin" into
// refs/remotes/origin/<name> (resolvable as "origin/<name>") and returns
// the commit hash it is at. When the remote has no such branch it returns
// found false and a nil error, and removes a stale refs/remotes/origin/<name>.
// Local branches, including the one CloneBranch created, do not move.
//
// On a repository from [Open] it uses the first URL of the remote "origin",
// anonymously unless the URL holds credentials, and stores what it fetches
// in that repository (objects and the remote-tracking branch only).
func (r *Repo) FetchBranch(ctx context.Context, name string) (hash string, found bool, err error) {
	ref, err := branchRef(name)
	if err != nil {
		return "", false, fmt.Errorf("fetch branch: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	a, err := r.access()
	if err != nil {
		return "", false, fmt.Errorf("fetch branch %s: %w", name, err)
	}
	tracking := plumbing.NewRemoteReferenceName(originName, name)
	err = r.git.FetchContext(ctx, &git.FetchOptions{
		RemoteName: originName,
		RemoteURL:  a.url,
		RefSpecs:   []config.RefSpec{config.RefSpec("+" + ref.String() + ":" + tracking.String())},
		Auth:       a.transportAuth(),
		Tags:       git.NoTags,
	})
	switch {
	case errors.Is(err, git.NoMatchingRefSpecError{}) || errors.Is(err, transport.ErrEmptyRemoteRepository):
		if err := r.git.Storer.RemoveReference(tracking); err != nil {
			return "", false, fmt.Errorf("fetch branch %s of %s: remove %s: %w", name, redactURL(a.url), tracking, err)
		}
		return "", false, nil
	case err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate):
		return "", false, fmt.Errorf("fetch branch %s of %s: %w", name, redactURL(a.url), a.scrub(err))
	}
	got, err := r.git.Reference(tracking, true)
	if err != nil {
		return "", false, fmt.Errorf("fetch branch %s of %s: %w", name, redactURL(a.url), err)
	}
	return got.Hash().String(), true, nil
}

// PushBranch sets branch name of the remote "origin" to commit (a revision,
// see [Repo.Resolve]), sending the objects the remote lacks, under a lease:
// when expected is "" the branch must not exist on the remote yet;
// otherwise it must still be at expected (a full commit hash), and the
// update may then be a non-fast-forward (like git push
// --force-with-lease=<name>:<expected>). A lost lease gives an error
// wrapping [ErrStaleBranch] and leaves the remote unchanged. Pushing the
// commit the branch is already at (with the right lease) does nothing.
//
// The lease is also the old value of the update sent to the server, which
// applies it only if the branch still holds that value, so a branch moved
// between the check and the update is not overwritten either.
//
// It uses the credentials given to [CloneBranch] (see [Repo.FetchBranch]
// for a repository from [Open]) and, on success, sets
// refs/remotes/origin/<name> to commit. No local branch is created or
// moved.
func (r *Repo) PushBranch(ctx context.Context, commit, name, expected string) error {
	ref, err := branchRef(name)
	if err != nil {
		return fmt.Errorf("push %s: %w", commit, err)
	}
	var lease plumbing.Hash // zero: the branch must not exist
	if expected != "" {
		if !plumbing.IsHash(expected) {
			return fmt.Errorf("push %s to branch %s: lease %q is not a full commit hash", commit, name, expected)
		}
		lease = plumbing.NewHash(expected)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.commit(commit)
	if err != nil {
		return fmt.Errorf("push to branch %s: %w", name, err)
	}
	a, err := r.access()
	if err != nil {
		return fmt.Errorf("push %s to branch %s: %w", commit, name, err)
	}
	what := fmt.Sprintf("push %s to branch %s of %s", shortHash(c.Hash), name, redactURL(a.url))

	sess, err := openReceivePack(a)
	if err != nil {
		return fmt.Errorf("%s: %w", what, a.scrub(err))
	}
	defer sess.Close()
	ar, err := sess.AdvertisedReferencesContext(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", what, a.scrub(err))
	}
	refs, err := ar.AllReferences()
	if err != nil {
		return fmt.Errorf("%s: %w", what, a.scrub(err))
	}
	current, err := hashOf(refs, ref)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if current != lease {
		return fmt.Errorf("%s: %w", what, staleError(current, lease))
	}
	if current == c.Hash {
		return r.setTracking(name, c.Hash)
	}

	var haves []plumbing.Hash
	iter, err := refs.IterReferences()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := iter.ForEach(func(rf *plumbing.Reference) error {
		if rf.Type() == plumbing.HashReference {
			haves = append(haves, rf.Hash())
		}
		return nil
	}); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	// Objects reachable from advertised refs we have locally are not sent;
	// advertised objects we lack are skipped.
	hashes, err := revlist.Objects(r.git.Storer, []plumbing.Hash{c.Hash}, haves)
	if err != nil {
		return fmt.Errorf("%s: list objects to send: %w", what, err)
	}
	if testHookBeforeSend != nil {
		testHookBeforeSend()
	}
	req := packp.NewReferenceUpdateRequestFromCapabilities(ar.Capabilities)
	req.Commands = []*packp.Command{{Name: ref, Old: lease, New: c.Hash}}
	status, err := sendPack(ctx, sess, r.git.Storer, req, hashes, !ar.Capabilities.Supports(capability.OFSDelta))
	if err == nil && status != nil {
		err = status.Error()
	}
	if err != nil {
		// The server refuses an update whose old value no longer matches;
		// tell a lost race apart from other failures.
		if now, lerr := remoteBranch(ctx, a, ref); lerr == nil && now != lease {
			return fmt.Errorf("%s: %w", what, staleError(now, lease))
		}
		return fmt.Errorf("%s: %w", what, a.scrub(err))
	}
	return r.setTracking(name, c.Hash)
}

// testHookBeforeSend, set by tests, runs in PushBranch between the lease
// check and the update, to stand in for a concurrent push.
var testHookBeforeSend func()

// staleError describes a lost lease.
func staleError(current, lease plumbing.Hash) error {
	switch {
	case lease.IsZero():
		return fmt.Errorf("branch exists at %s, expected none: %w", shortHash(current), ErrStaleBranch)
	case current.IsZero():
		return fmt.Errorf("branch does not exist, expected %s: %w", shortHash(lease), ErrStaleBranch)
	default:
		return fmt.Errorf("branch is at %s, expected %s: %w", shortHash(current), shortHash(lease), ErrStaleBranch)
	}
}

func shortHash(h plumbing.Hash) string {
	return h.String()[:12]
}

// setTracking points refs/remotes/origin/<name> at h. The caller holds r.mu.
func (r *Repo) setTracking(name string, h plumbing.Hash) error {
	ref := plumbing.NewHashReference(plumbing.NewRemoteReferenceName(originName, name), h)
	if err := r.git.Storer.SetReference(ref); err != nil {
		return fmt.Errorf("update %s: %w", ref.Name(), err)
	}
	return nil
}

// openReceivePack starts a push session with the remote.
func openReceivePack(a *remoteAccess) (transport.ReceivePackSession, error) {
	ep, err := transport.NewEndpoint(a.url)
	if err != nil {
		return nil, err
	}
	cli, err := client.NewClient(ep)
	if err != nil {
		return nil, err
	}
	return cli.NewReceivePackSession(ep, a.transportAuth())
}

// remoteBranch returns the hash the remote advertises for ref, zero when
// it has no such ref.
func remoteBranch(ctx context.Context, a *remoteAccess, ref plumbing.ReferenceName) (plumbing.Hash, error) {
	sess, err := openReceivePack(a)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	defer sess.Close()
	ar, err := sess.AdvertisedReferencesContext(ctx)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	refs, err := ar.AllReferences()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	return hashOf(refs, ref)
}

// hashOf returns the hash of ref in refs, zero when absent.
func hashOf(refs storer.ReferenceStorer, ref plumbing.ReferenceName) (plumbing.Hash, error) {
	got, err := refs.Reference(ref)
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return plumbing.ZeroHash, nil
	}
	if err != nil {
		return plumbing.ZeroHash, err
	}
	return got.Hash(), nil
}

// sendPack sends req with a packfile of the objects hs, streamed from s,
// and returns the server's report (nil when the server sends none).
func sendPack(ctx context.Context, sess transport.ReceivePackSession, s storer.EncodedObjectStorer, req *packp.ReferenceUpdateRequest, hs []plumbing.Hash, useRefDeltas bool) (*packp.ReportStatus, error) {
	rd, wr := io.Pipe()
	done := make(chan error, 1)
	req.Packfile = rd
	go func() {
		// Window 10 is git's default pack.window.
		_, err := packfile.NewEncoder(wr, s, useRefDeltas).Encode(hs, 10)
		_ = wr.CloseWithError(err) // nil: a plain Close
		done <- err
	}()
	status, err := sess.ReceivePack(ctx, req)
	if err != nil {
		_ = rd.CloseWithError(err) // unblock the encoder
		<-done
		return nil, err
	}
	if err := <-done; err != nil {
		return nil, err
	}
	return status, nil
}

// Signature is the name, e-mail address and time of a commit's author or
// committer.
type Signature struct {
	Name  string
	Email string
	When  time.Time
}

// CommitInfo describes a commit.
type CommitInfo struct {
	Hash      string // full hexadecimal hash
	Message   string // as stored, usually with a trailing newline
	Author    Signature
	Committer Signature
}

func signatureOf(s object.Signature) Signature {
	return Signature{Name: s.Name, Email: s.Email, When: s.When}
}

// CommitsBetween returns the commits reachable from head but not from base
// (both revisions, see [Repo.Resolve]), newest (by committer time) first,
// like git log base..head. It returns nil when there are none, for example
// when head is an ancestor of base. It walks the whole history of base.
func (r *Repo) CommitsBetween(head, base string) ([]CommitInfo, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	hc, err := r.commit(head)
	if err != nil {
		return nil, fmt.Errorf("list commits %s..%s: %w", base, head, err)
	}
	bc, err := r.commit(base)
	if err != nil {
		return nil, fmt.Errorf("list commits %s..%s: %w", base, head, err)
	}
	excluded := make(map[plumbing.Hash]bool)
	err = object.NewCommitPreorderIter(bc, nil, nil).ForEach(func(c *object.Commit) error {
		excluded[c.Hash] = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list commits %s..%s: walk %s: %w", base, head, base, err)
	}
	var out []CommitInfo
	err = object.NewCommitIterCTime(hc, excluded, nil).ForEach(func(c *object.Commit) error {
		out = append(out, CommitInfo{
			Hash:      c.Hash.String(),
			Message:   c.Message,
			Author:    signatureOf(c.Author),
			Committer: signatureOf(c.Committer),
		})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list commits %s..%s: %w", base, head, err)
	}
	return out, nil
}

// CommitFiles writes a commit whose parent is the commit named by parent
// (see [Repo.Resolve]) and whose tree is the parent's with files replaced
// or added, and returns its hash. Keys of files are slash-separated paths
// relative to the repository root. A replaced file keeps its mode
// (executable stays executable); a new file gets mode 0644, with any
// missing directories created. Replacing a directory, a symbolic link or a
// submodule, or going through a file as if it were a directory, is an
// error, as are unsafe paths (absolute, with "." or ".." elements, or
// naming ".git") and an empty files map.
//
// author, which needs a name and an e-mail address, is also the committer;
// a zero When means now. The message is
// stored as given. Only objects are written: no work tree is touched and no
// reference moves. A commit is written even when no content changes.
func (r *Repo) CommitFiles(parent string, files map[string][]byte, message string, author Signature) (string, error) {
	if len(files) == 0 {
		return "", fmt.Errorf("commit on %s: no files given", parent)
	}
	for p := range files {
		if err := checkFilePath(p); err != nil {
			return "", fmt.Errorf("commit on %s: %w", parent, err)
		}
	}
	if author.Name == "" || author.Email == "" {
		return "", fmt.Errorf("commit on %s: author name and e-mail address are required", parent)
	}
	if author.When.IsZero() {
		author.When = time.Now()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	pc, err := r.commit(parent)
	if err != nil {
		return "", fmt.Errorf("commit on %s: %w", parent, err)
	}
	tree, err := pc.Tree()
	if err != nil {
		return "", fmt.Errorf("commit on %s: read tree %s: %w", parent, pc.TreeHash, err)
	}
	th, err := r.updateTree(tree, "", files)
	if err != nil {
		return "", fmt.Errorf("commit on %s: %w", parent, err)
	}
	sig := object.Signature{Name: author.Name, Email: author.Email, When: author.When}
	c := &object.Commit{
		Author:       sig,
		Committer:    sig,
		Message:      message,
		TreeHash:     th,
		ParentHashes: []plumbing.Hash{pc.Hash},
	}
	h, err := r.store(plumbing.CommitObject, c.Encode)
	if err != nil {
		return "", fmt.Errorf("commit on %s: write commit: %w", parent, err)
	}
	return h.String(), nil
}

// checkFilePath refuses paths CommitFiles must not write.
func checkFilePath(p string) error {
	if p == "" || strings.HasPrefix(p, "/") {
		return fmt.Errorf("path %q: not relative", p)
	}
	for _, e := range strings.Split(p, "/") {
		if !validName(e) || strings.EqualFold(e, ".git") {
			return fmt.Errorf("path %q: unsafe element %q", p, e)
		}
	}
	return nil
}

// updateTree writes the tree t (nil: a new, empty directory) with changes
// (paths relative to t, which is at dir) applied, and returns its hash. The
// caller holds r.mu.
func (r *Repo) updateTree(t *object.Tree, dir string, changes map[string][]byte) (plumbing.Hash, error) {
	var entries []object.TreeEntry
	if t != nil {
		entries = append(entries, t.Entries...)
	}
	index := make(map[string]int, len(entries))
	for i, e := range entries {
		index[e.Name] = i
	}
	here := make(map[string][]byte)
	below := make(map[string]map[string][]byte)
	for p, content := range changes {
		first, rest, nested := strings.Cut(p, "/")
		if !nested {
			here[first] = content
			continue
		}
		if below[first] == nil {
			below[first] = make(map[string][]byte)
		}
		below[first][rest] = content
	}
	// Sorted for deterministic errors.
	names := make([]string, 0, len(here))
	for n := range here {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		rel := path.Join(dir, name)
		if _, ok := below[name]; ok {
			return plumbing.ZeroHash, fmt.Errorf("path %s given both as a file and as a directory", rel)
		}
		h, err := r.store(plumbing.BlobObject, func(o plumbing.EncodedObject) error {
			w, err := o.Writer()
			if err != nil {
				return err
			}
			if _, err := w.Write(here[name]); err != nil {
				w.Close()
				return err
			}
			return w.Close()
		})
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("write blob for %s: %w", rel, err)
		}
		i, ok := index[name]
		if !ok {
			index[name] = len(entries)
			entries = append(entries, object.TreeEntry{Name: name, Mode: filemode.Regular, Hash: h})
			continue
		}
		switch entries[i].Mode {
		case filemode.Regular, filemode.Executable:
		case filemode.Deprecated:
			entries[i].Mode = filemode.Regular // as git writes it
		case filemode.Dir:
			return plumbing.ZeroHash, fmt.Errorf("path %s is a directory", rel)
		case filemode.Symlink:
			return plumbing.ZeroHash, fmt.Errorf("path %s is a symbolic link", rel)
		default:
			return plumbing.ZeroHash, fmt.Errorf("path %s has mode %s, not a regular file", rel, entries[i].Mode)
		}
		entries[i].Hash = h
	}
	subdirs := make([]string, 0, len(below))
	for n := range below {
		subdirs = append(subdirs, n)
	}
	sort.Strings(subdirs)
	for _, name := range subdirs {
		rel := path.Join(dir, name)
		var sub *object.Tree
		i, ok := index[name]
		if ok {
			if entries[i].Mode != filemode.Dir {
				return plumbing.ZeroHash, fmt.Errorf("path %s is not a directory", rel)
			}
			var err error
			if sub, err = r.git.TreeObject(entries[i].Hash); err != nil {
				return plumbing.ZeroHash, fmt.Errorf("read tree %s (%s): %w", entries[i].Hash, rel, err)
			}
		}
		h, err := r.updateTree(sub, rel, below[name])
		if err != nil {
			return plumbing.ZeroHash, err
		}
		if ok {
			entries[i].Hash = h
		} else {
			index[name] = len(entries)
			entries = append(entries, object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: h})
		}
	}
	sort.Sort(object.TreeEntrySorter(entries))
	tree := &object.Tree{Entries: entries}
	h, err := r.store(plumbing.TreeObject, tree.Encode)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("write tree %s: %w", dirName(dir), err)
	}
	return h, nil
}

func dirName(dir string) string {
	if dir == "" {
		return "/"
	}
	return dir
}

// store writes an object of type typ encoded by encode and returns its
// hash. The caller holds r.mu.
func (r *Repo) store(typ plumbing.ObjectType, encode func(plumbing.EncodedObject) error) (plumbing.Hash, error) {
	obj := r.git.Storer.NewEncodedObject()
	obj.SetType(typ)
	if err := encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return r.git.Storer.SetEncodedObject(obj)
}
