package helm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/repo"
	"sigs.k8s.io/yaml"

	"github.com/fluxgate/fluxgate/internal/atomicfile"
	"github.com/fluxgate/fluxgate/internal/egress"
)

// Size limits of source-controller (its --helm-index-max-size and
// --helm-chart-max-size defaults): a bigger index or chart archive fails
// the source.
const (
	maxIndexSize = 50 << 20
	maxChartSize = 10 << 20
)

// errTooLarge marks a download over its size limit: not a fetch failure
// Flux would recover from, but a chart Flux refuses.
var errTooLarge = errors.New("too large")

// ErrUnavailable marks a chart that cannot be fetched (offline and not
// cached, a registry that refuses or does not answer): Flux would fetch
// it, so it is a warning, not a broken release.
var ErrUnavailable = errors.New("chart unavailable")

// Chart is a loaded chart and a digest of its content.
type Chart struct {
	Chart *chart.Chart
	// Path is the chart directory in the repository for local charts,
	// or repoURL/chart@version (oci://ref:tag) for fetched ones.
	Path   string
	Digest string
}

// Fetcher fetches chart repository indexes, OCI tags and chart archives,
// each once per Fetcher (one render), through a content-addressed cache
// on disk. It is safe for concurrent use.
type Fetcher struct {
	client *http.Client
	// transport is the client's transport, cloned for sources with their
	// own TLS settings.
	transport *http.Transport
	offline   bool
	cacheDir  func() (string, error)
	mu        sync.Mutex
	// indexes holds each repository's index (or OCI tags), fetched once
	// per render.
	indexes map[string]*indexEntry
	// blobs holds each chart archive by cache key, fetched once per render
	// even when several releases ask for it at once.
	blobs map[string]*blobEntry
}

// FetchTimeout bounds one request of a Fetcher (an index, a tag list, a
// chart archive), connection and body included; the render's context
// ends it sooner.
const FetchTimeout = 2 * time.Minute

// FetcherOptions configure a Fetcher.
type FetcherOptions struct {
	// CacheDir is the chart cache (empty: $XDG_CACHE_HOME/fluxgate/charts).
	CacheDir string
	// Offline reads the cache only.
	Offline bool
	// RestrictEgress refuses connections to anything but public addresses
	// (internal/egress): no loopback, private, link-local or metadata
	// address is reached, whatever a source's URL says.
	RestrictEgress bool
}

// NewFetcher returns a Fetcher caching under opts.CacheDir.
func NewFetcher(opts FetcherOptions) *Fetcher {
	cacheDir := opts.CacheDir
	t := egress.Transport(opts.RestrictEgress)
	return &Fetcher{
		client:    &http.Client{Timeout: FetchTimeout, Transport: t},
		transport: t,
		offline:   opts.Offline,
		cacheDir: func() (string, error) {
			if cacheDir != "" {
				return cacheDir, nil
			}
			d, err := os.UserCacheDir()
			if err != nil {
				return "", err
			}
			return filepath.Join(d, "fluxgate", "charts"), nil
		},
		indexes: map[string]*indexEntry{},
		blobs:   map[string]*blobEntry{},
	}
}

type indexEntry struct {
	once sync.Once
	idx  *repo.IndexFile
	tags []string // for OCI repositories
	err  error
}

type blobEntry struct {
	once sync.Once
	data []byte
	err  error
}

// index returns the in-process entry of a repository.
func (f *Fetcher) index(key string) *indexEntry {
	f.mu.Lock()
	defer f.mu.Unlock()
	e := f.indexes[key]
	if e == nil {
		e = &indexEntry{}
		f.indexes[key] = e
	}
	return e
}

// blob returns the chart archive of key, from the cache or by calling
// fetch, once per render.
func (f *Fetcher) blob(cache chartCache, key string, fetch func() ([]byte, error)) ([]byte, error) {
	f.mu.Lock()
	e := f.blobs[key]
	if e == nil {
		e = &blobEntry{}
		f.blobs[key] = e
	}
	f.mu.Unlock()
	e.once.Do(func() {
		if data, ok := cache.get(key); ok {
			e.data = data
			return
		}
		e.data, e.err = fetch()
		if e.err == nil {
			// A cache we cannot write only costs a refetch.
			_ = cache.put(key, e.data)
		}
	})
	return e.data, e.err
}

// chartRepo is an HTTP chart repository and how to reach it.
type chartRepo struct {
	url string
	// access holds the credentials and TLS settings; nil is anonymous.
	access *Access
}

// id tells repositories of one URL reached differently apart in the
// in-process index map (never in the on-disk cache).
func (c chartRepo) id() string {
	if c.access == nil {
		return c.url
	}
	return c.url + "\x00" + c.access.what
}

// RepositoryChart resolves chartName at version (a semver constraint) in
// the HTTP chart repository at url, reached with access (nil:
// anonymously), and loads it, from the cache when it holds it.
func (f *Fetcher) RepositoryChart(ctx context.Context, url string, access *Access, chartName, version string) (*Chart, error) {
	cr := chartRepo{url: url, access: access}
	if cr.url == "" {
		return nil, errors.New("the HelmRepository has no spec.url")
	}
	dir, err := f.cacheDir()
	if err != nil {
		return nil, fmt.Errorf("%w: no chart cache directory: %v", ErrUnavailable, err)
	}
	cache := chartCache{dir: dir}
	idx, err := f.chartIndex(ctx, cache, cr)
	if err != nil {
		return nil, err
	}
	cv, err := resolveChartVersion(idx, chartName, version)
	if err != nil {
		return nil, err
	}
	what := chartName + " " + cv.Version
	data, err := f.blob(cache, cacheKey(cr.url, chartName, cv.Version), func() ([]byte, error) {
		if f.offline {
			return nil, fmt.Errorf("%w: version %s is not in the chart cache (offline)", ErrUnavailable, cv.Version)
		}
		if len(cv.URLs) == 0 {
			return nil, fmt.Errorf("version %s has no download URL in the index of %s", cv.Version, redactURL(cr.url))
		}
		u, err := repo.ResolveReferenceURL(cr.url, cv.URLs[0])
		if err != nil {
			return nil, fmt.Errorf("version %s: %w", cv.Version, err)
		}
		data, _, err := f.get(ctx, cr, u, nil, maxChartSize)
		if err != nil {
			if errors.Is(err, errTooLarge) {
				return nil, fmt.Errorf("chart %s: %s exceeds the maximum chart size of %d bytes (source-controller --helm-chart-max-size)", what, redactURL(u), maxChartSize)
			}
			return nil, fmt.Errorf("%w: download %s: %v", ErrUnavailable, redactURL(u), err)
		}
		sum := sha256.Sum256(data)
		if cv.Digest != "" && !strings.EqualFold(cv.Digest, hex.EncodeToString(sum[:])) {
			return nil, fmt.Errorf("digest of %s does not match the index (%s)", redactURL(u), cv.Digest)
		}
		if _, err := loadChartArchive(data, what); err != nil {
			return nil, err
		}
		return data, nil
	})
	if err != nil {
		return nil, err
	}
	c, err := loadChartArchive(data, what)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	return &Chart{Chart: c, Path: redactURL(cr.url) + "/" + chartName + "@" + cv.Version, Digest: hex.EncodeToString(sum[:])}, nil
}

// loadChartArchive loads a packaged chart, refusing one over
// source-controller's size limit.
func loadChartArchive(data []byte, what string) (*chart.Chart, error) {
	if len(data) > maxChartSize {
		return nil, fmt.Errorf("chart %s: size %d exceeds the maximum chart size of %d bytes (source-controller --helm-chart-max-size)", what, len(data), maxChartSize)
	}
	c, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("load chart %s: %w", what, err)
	}
	return c, nil
}

// indexValidators are the HTTP validators of a cached index, sent back
// as If-None-Match and If-Modified-Since.
type indexValidators struct {
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"lastModified,omitempty"`
}

// chartIndex returns the repository's index: fetched once per render and
// stored in the cache (a conditional request revalidates the cached copy
// of an earlier run), or the cached one when offline.
func (f *Fetcher) chartIndex(ctx context.Context, cache chartCache, cr chartRepo) (*repo.IndexFile, error) {
	e := f.index(cr.id())
	e.once.Do(func() {
		ikey := "index-" + hashString(strings.TrimSuffix(cr.url, "/"))
		vkey := "index-validators-" + hashString(strings.TrimSuffix(cr.url, "/"))
		cached, haveCached := cache.get(ikey)
		var data []byte
		if f.offline {
			if !haveCached {
				e.err = fmt.Errorf("%w: the index of %s is not in the chart cache (offline)", ErrUnavailable, redactURL(cr.url))
				return
			}
			data = cached
		} else {
			var sent *indexValidators
			if haveCached {
				if b, ok := cache.get(vkey); ok {
					var v indexValidators
					if json.Unmarshal(b, &v) == nil {
						sent = &v
					}
				}
			}
			iu := strings.TrimSuffix(cr.url, "/") + "/index.yaml"
			d, header, err := f.get(ctx, cr, iu, sent, maxIndexSize)
			switch {
			case errors.Is(err, errNotModified):
				data = cached
			case errors.Is(err, errTooLarge):
				e.err = fmt.Errorf("the index of %s exceeds the maximum index size of %d bytes (source-controller --helm-index-max-size)", redactURL(cr.url), maxIndexSize)
				return
			case err != nil:
				e.err = fmt.Errorf("%w: fetch %s: %v", ErrUnavailable, redactURL(iu), err)
				return
			default:
				data = d
				_ = cache.put(ikey, data) // a cache we cannot write only costs a refetch
				v := indexValidators{ETag: header.Get("ETag"), LastModified: header.Get("Last-Modified")}
				if b, err := json.Marshal(v); err == nil && (v.ETag != "" || v.LastModified != "") {
					_ = cache.put(vkey, b)
				}
			}
		}
		var idx repo.IndexFile
		if err := yaml.Unmarshal(data, &idx); err != nil {
			e.err = fmt.Errorf("parse the index of %s: %w", redactURL(cr.url), err)
			return
		}
		idx.SortEntries()
		e.idx = &idx
	})
	return e.idx, e.err
}

// resolveChartVersion picks the highest version of chartName matching the
// constraint, as source-controller does: empty means "*"; an exact version
// string matches first; pre-releases only when the constraint names one.
func resolveChartVersion(idx *repo.IndexFile, chartName, version string) (*repo.ChartVersion, error) {
	cvs := idx.Entries[chartName]
	if len(cvs) == 0 {
		return nil, fmt.Errorf("no chart named %q in the repository index", chartName)
	}
	if version == "" {
		version = "*"
	}
	for _, cv := range cvs {
		if cv.Version == version {
			return cv, nil
		}
	}
	versions := make([]string, len(cvs))
	for i, cv := range cvs {
		versions[i] = cv.Version
	}
	i, err := pickVersion(versions, version)
	if err != nil {
		return nil, fmt.Errorf("chart %q: %w", chartName, err)
	}
	return cvs[i], nil
}

// pickVersion returns the index of the highest version matching the
// semver constraint; pre-releases match only a constraint that names one.
func pickVersion(versions []string, constraint string) (int, error) {
	c, err := semver.NewConstraint(constraint)
	if err != nil {
		return 0, fmt.Errorf("invalid version constraint %q: %w", constraint, err)
	}
	best, bestIdx := (*semver.Version)(nil), -1
	for i, s := range versions {
		v, err := semver.NewVersion(s)
		if err != nil || !c.Check(v) {
			continue
		}
		if best == nil || v.GreaterThan(best) {
			best, bestIdx = v, i
		}
	}
	if bestIdx < 0 {
		return 0, fmt.Errorf("no version matches %q", constraint)
	}
	return bestIdx, nil
}

// errNotModified is a conditional request answered 304.
var errNotModified = errors.New("not modified")

// get fetches url of the repository cr, with its credentials when Helm
// would send them (same host, or passCredentials) and its TLS settings,
// reading at most limit bytes. With validators the request is
// conditional and a 304 is errNotModified.
func (f *Fetcher) get(ctx context.Context, cr chartRepo, url string, validators *indexValidators, limit int64) ([]byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, nil, err
	}
	if cr.access.sendsAuthTo(cr.url, url) {
		req.SetBasicAuth(cr.access.username, cr.access.password)
	}
	if validators != nil {
		if validators.ETag != "" {
			req.Header.Set("If-None-Match", validators.ETag)
		}
		if validators.LastModified != "" {
			req.Header.Set("If-Modified-Since", validators.LastModified)
		}
	}
	resp, err := cr.access.httpClient(f.client, f.transport).Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotModified && validators != nil {
		return nil, resp.Header, errNotModified
	}
	if resp.StatusCode != http.StatusOK {
		msg := "HTTP " + resp.Status
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			msg += cr.access.authHint()
		}
		return nil, nil, errors.New(msg)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, nil, err
	}
	if int64(len(data)) > limit {
		return nil, nil, errTooLarge
	}
	return data, resp.Header, nil
}

// chartCache is a content-addressed store: blobs/<sha256> hold the
// content, refs/<key> the digest of a key's blob. Writes go through a
// temporary file and a rename, so parallel workers and processes never
// see a partial file; reads verify the digest. Keys are hashes of URLs,
// chart names and versions, never of credentials.
type chartCache struct{ dir string }

func cacheKey(url, chartName, version string) string {
	return "chart-" + hashString(strings.TrimSuffix(url, "/")+"\x00"+chartName+"\x00"+version)
}

func hashString(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func (c chartCache) get(key string) ([]byte, bool) {
	ref, err := os.ReadFile(filepath.Join(c.dir, "refs", key))
	if err != nil {
		return nil, false
	}
	digest := strings.TrimSpace(string(ref))
	data, err := os.ReadFile(filepath.Join(c.dir, "blobs", digest))
	if err != nil {
		return nil, false
	}
	if hashString(string(data)) != digest {
		return nil, false
	}
	return data, true
}

func (c chartCache) put(key string, data []byte) error {
	digest := hashString(string(data))
	if err := atomicfile.Write(filepath.Join(c.dir, "blobs"), digest, data); err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(c.dir, "refs"), key, []byte(digest+"\n"))
}

// redactURL drops the user info of a URL.
func redactURL(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		if at := strings.Index(u[i+3:], "@"); at >= 0 && !strings.Contains(u[i+3:i+3+at], "/") {
			return u[:i+3] + u[i+3+at+1:]
		}
	}
	return u
}
