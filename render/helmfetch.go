package render

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
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
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/repo"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// maxChartSize bounds a downloaded chart archive or index.
const maxChartSize = 256 << 20

// chartFetcher fetches chart repository indexes (once per render) and
// chart archives into the on-disk cache.
type chartFetcher struct {
	client *http.Client
	mu     sync.Mutex
	// indexes holds each repository URL's index, fetched once per render.
	indexes map[string]*indexEntry
}

type indexEntry struct {
	once sync.Once
	idx  *repo.IndexFile
	tags []string // for OCI repositories
	err  error
}

func newChartFetcher() *chartFetcher {
	return &chartFetcher{client: &http.Client{Timeout: 2 * time.Minute}, indexes: map[string]*indexEntry{}}
}

// remoteChart resolves chartName at version (a semver constraint) in the
// HelmRepository repoObj and loads it, from the cache when it holds it.
func (r *renderer) remoteChart(ctx context.Context, repoObj map[string]any, chartName, version string) (*helmChart, error) {
	url, _, _ := unstructured.NestedString(repoObj, "spec", "url")
	typ, _, _ := unstructured.NestedString(repoObj, "spec", "type")
	if typ == "oci" || strings.HasPrefix(url, "oci://") {
		insecure, _, _ := unstructured.NestedBool(repoObj, "spec", "insecure")
		return r.ociChart(ctx, strings.TrimSuffix(url, "/")+"/"+chartName, version, insecure)
	}
	if url == "" {
		return nil, errors.New("the HelmRepository has no spec.url")
	}
	dir, err := r.cacheDir()
	if err != nil {
		return nil, fmt.Errorf("%w: no chart cache directory: %v", errChartUnavailable, err)
	}
	cache := chartCache{dir: dir}
	idx, err := r.chartIndex(ctx, cache, url)
	if err != nil {
		return nil, err
	}
	cv, err := resolveChartVersion(idx, chartName, version)
	if err != nil {
		return nil, err
	}
	key := cacheKey(url, chartName, cv.Version)
	data, ok := cache.get(key)
	if !ok {
		if r.opts.Offline {
			return nil, fmt.Errorf("%w: version %s is not in the chart cache (offline)", errChartUnavailable, cv.Version)
		}
		if len(cv.URLs) == 0 {
			return nil, fmt.Errorf("version %s has no download URL in the index of %s", cv.Version, url)
		}
		u, err := repo.ResolveReferenceURL(url, cv.URLs[0])
		if err != nil {
			return nil, fmt.Errorf("version %s: %w", cv.Version, err)
		}
		data, err = r.charts.get(ctx, u)
		if err != nil {
			return nil, fmt.Errorf("%w: download %s: %v", errChartUnavailable, redactURL(u), err)
		}
		sum := sha256.Sum256(data)
		if cv.Digest != "" && !strings.EqualFold(cv.Digest, hex.EncodeToString(sum[:])) {
			return nil, fmt.Errorf("digest of %s does not match the index (%s)", redactURL(u), cv.Digest)
		}
		if err := cache.put(key, data); err != nil {
			return nil, fmt.Errorf("cache chart %s %s: %w", chartName, cv.Version, err)
		}
	}
	c, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("load chart %s %s: %w", chartName, cv.Version, err)
	}
	sum := sha256.Sum256(data)
	return &helmChart{chart: c, path: redactURL(url) + "/" + chartName + "@" + cv.Version, digest: hex.EncodeToString(sum[:])}, nil
}

// chartIndex returns the repository's index: fetched once per render
// (and stored in the cache), or the cached one when offline.
func (r *renderer) chartIndex(ctx context.Context, cache chartCache, url string) (*repo.IndexFile, error) {
	f := r.charts
	f.mu.Lock()
	e := f.indexes[url]
	if e == nil {
		e = &indexEntry{}
		f.indexes[url] = e
	}
	f.mu.Unlock()
	e.once.Do(func() {
		ikey := "index-" + hashString(url)
		var data []byte
		if r.opts.Offline {
			d, ok := cache.get(ikey)
			if !ok {
				e.err = fmt.Errorf("%w: the index of %s is not in the chart cache (offline)", errChartUnavailable, redactURL(url))
				return
			}
			data = d
		} else {
			iu := strings.TrimSuffix(url, "/") + "/index.yaml"
			d, err := f.get(ctx, iu)
			if err != nil {
				e.err = fmt.Errorf("%w: fetch %s: %v", errChartUnavailable, redactURL(iu), err)
				return
			}
			data = d
			_ = cache.put(ikey, data) // a cache we cannot write only costs a refetch
		}
		var idx repo.IndexFile
		if err := yaml.Unmarshal(data, &idx); err != nil {
			e.err = fmt.Errorf("parse the index of %s: %w", redactURL(url), err)
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

func (f *chartFetcher) get(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %s", resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxChartSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxChartSize {
		return nil, fmt.Errorf("larger than %d bytes", maxChartSize)
	}
	return data, nil
}

// chartCache is a content-addressed store: blobs/<sha256> hold the
// content, refs/<key> the digest of a key's blob. Writes go through a
// temporary file and a rename, so parallel workers and processes never
// see a partial file; reads verify the digest.
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
	if err := writeAtomic(filepath.Join(c.dir, "blobs"), digest, data); err != nil {
		return err
	}
	return writeAtomic(filepath.Join(c.dir, "refs"), key, []byte(digest+"\n"))
}

func writeAtomic(dir, name string, data []byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), filepath.Join(dir, name)); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
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
