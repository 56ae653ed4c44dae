package registry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Defaults for the zero values of Options.
const (
	defaultMaxConcurrentPerRegistry = 4
	defaultMaxRetries               = 4
	defaultPageSize                 = 1000
)

// Options configure a Client. The zero value is ready to use.
type Options struct {
	// Keychain finds credentials per registry; nil means
	// DefaultKeychain(os.Getenv).
	Keychain authn.Keychain
	// Transport sends the HTTP requests; nil means a clone of
	// remote.DefaultTransport.
	Transport http.RoundTripper
	// MaxConcurrentPerRegistry bounds the HTTP requests in flight to one
	// registry host; 0 or less means 4.
	MaxConcurrentPerRegistry int
	// MaxRetries bounds the retries of one request answered with 408, 429
	// or a 5xx status, or failed by a transient network error; 0 means 4,
	// a negative value no retries.
	MaxRetries int
	// PageSize is the number of tags asked for per page (the `n`
	// parameter); 0 or less means 1000 (ECR refuses more).
	PageSize int
	// Sleep waits between retries and returns early with ctx's error when
	// ctx ends; nil means a timer. Tests inject a recorder.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Client lists tags and reads digests from container registries. It is safe
// for concurrent use; the per-registry limit on requests in flight is shared
// by all calls on one Client, and so is the authentication with a
// repository.
type Client struct {
	puller *remote.Puller
	err    error // from building the puller
}

// New returns a Client configured by opts.
func New(opts Options) *Client {
	keychain := opts.Keychain
	if keychain == nil {
		keychain = DefaultKeychain(os.Getenv)
	}
	base := opts.Transport
	if base == nil {
		base = remote.DefaultTransport
		if t, ok := base.(*http.Transport); ok {
			base = t.Clone()
		}
	}
	perHost := opts.MaxConcurrentPerRegistry
	if perHost <= 0 {
		perHost = defaultMaxConcurrentPerRegistry
	}
	retries := opts.MaxRetries
	switch {
	case retries == 0:
		retries = defaultMaxRetries
	case retries < 0:
		retries = 0
	}
	pageSize := opts.PageSize
	if pageSize <= 0 {
		pageSize = defaultPageSize
	}
	sleep := opts.Sleep
	if sleep == nil {
		sleep = sleepContext
	}

	// Retries wrap the per-host limit, so a request waiting to retry does
	// not hold a slot.
	rt := &retryTransport{
		inner:   &limitTransport{inner: base, n: perHost},
		retries: retries,
		sleep:   sleep,
		now:     time.Now,
	}
	puller, err := remote.NewPuller(
		remote.WithAuthFromKeychain(keychain),
		remote.WithTransport(rt),
		remote.WithPageSize(pageSize),
		// Retries are rt's job; go-containerregistry's retry transport
		// (which it puts around rt) must not multiply them.
		remote.WithRetryStatusCodes(),
		remote.WithRetryPredicate(func(error) bool { return false }),
		remote.WithRetryBackoff(remote.Backoff{Steps: 1}),
	)
	return &Client{puller: puller, err: err}
}

// Repository names an image repository as an ImageRepository spec gives it.
type Repository struct {
	// Image is the repository without tag or digest: "ghcr.io/org/app",
	// "nginx" (index.docker.io/library/nginx), "127.0.0.1:5000/app".
	Image string
	// Insecure allows plain HTTP (and falling back to it) for this
	// registry. Registries on localhost and 127.0.0.1 get it without asking.
	Insecure bool
}

func (r Repository) nameOptions() []name.Option {
	if r.Insecure {
		return []name.Option{name.Insecure}
	}
	return nil
}

// Tags returns every tag of repo in the order the registry lists them,
// reading all pages the registry links to.
func (c *Client) Tags(ctx context.Context, repo Repository) ([]string, error) {
	if c.err != nil {
		return nil, fmt.Errorf("list tags of %s: %w", repo.Image, c.err)
	}
	ref, err := name.NewRepository(repo.Image, repo.nameOptions()...)
	if err != nil {
		return nil, fmt.Errorf("list tags of %s: %w", repo.Image, err)
	}
	// remote's List follows `Link: <...>; rel="next"` itself (and refuses
	// links to another host).
	tags, err := c.puller.List(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("list tags of %s: %w", repo.Image, err)
	}
	return tags, nil
}

// Digest returns the digest ("sha256:...") of the manifest or index that
// tag of repo points at. Like `crane digest` it asks with HEAD and falls
// back to GET when HEAD fails or its answer lacks the digest.
func (c *Client) Digest(ctx context.Context, repo Repository, tag string) (string, error) {
	what := repo.Image + ":" + tag
	if c.err != nil {
		return "", fmt.Errorf("read digest of %s: %w", what, c.err)
	}
	if tag == "" {
		return "", fmt.Errorf("read digest of %s: empty tag", repo.Image)
	}
	r, err := name.NewRepository(repo.Image, repo.nameOptions()...)
	if err != nil {
		return "", fmt.Errorf("read digest of %s: %w", what, err)
	}
	ref, err := name.NewTag(r.Name()+":"+tag, repo.nameOptions()...)
	if err != nil {
		return "", fmt.Errorf("read digest of %s: %w", what, err)
	}
	desc, err := c.puller.Head(ctx, ref)
	if err == nil {
		return desc.Digest.String(), nil
	}
	// A GET after HEAD gave up on retries (or after ctx ended) would only
	// repeat them.
	var rerr *retryError
	if errors.As(err, &rerr) || ctx.Err() != nil {
		return "", fmt.Errorf("read digest of %s: %w", what, err)
	}
	got, err := c.puller.Get(ctx, ref)
	if err != nil {
		return "", fmt.Errorf("read digest of %s: %w", what, err)
	}
	return got.Digest.String(), nil
}

// Lister is c seen through the flat signature of imageupdate.TagLister:
// an image name and its insecure flag instead of a Repository.
type Lister struct{ *Client }

// Tags lists every tag of image; see [Client.Tags].
func (l Lister) Tags(ctx context.Context, image string, insecure bool) ([]string, error) {
	return l.Client.Tags(ctx, Repository{Image: image, Insecure: insecure})
}

// Digest returns the digest image:tag points at; see [Client.Digest].
func (l Lister) Digest(ctx context.Context, image string, insecure bool, tag string) (string, error) {
	return l.Client.Digest(ctx, Repository{Image: image, Insecure: insecure}, tag)
}
