package render

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/registry"
)

// ociChart resolves the chart at ref (host/path/chart, with or without
// oci://) to the highest tag matching version and loads it, from the cache
// when it holds it. Tags list once per render, or from the cache offline.
func (r *renderer) ociChart(ctx context.Context, ref, version string, insecure bool) (*helmChart, error) {
	ref = strings.TrimPrefix(ref, "oci://")
	dir, err := r.cacheDir()
	if err != nil {
		return nil, fmt.Errorf("%w: no chart cache directory: %v", errChartUnavailable, err)
	}
	cache := chartCache{dir: dir}
	if version == "" {
		version = "*"
	}
	var client *registry.Client
	if !r.opts.Offline {
		opts := []registry.ClientOption{registry.ClientOptWriter(io.Discard), registry.ClientOptHTTPClient(r.charts.client)}
		if insecure {
			opts = append(opts, registry.ClientOptPlainHTTP())
		}
		if client, err = registry.NewClient(opts...); err != nil {
			return nil, fmt.Errorf("%w: registry client: %v", errChartUnavailable, err)
		}
	}
	tag := version
	if _, err := semverExact(version); err != nil {
		tags, err := r.ociTags(cache, client, ref)
		if err != nil {
			return nil, err
		}
		versions := make([]string, len(tags))
		for i, t := range tags {
			versions[i] = strings.ReplaceAll(t, "_", "+")
		}
		i, err := pickVersion(versions, version)
		if err != nil {
			return nil, fmt.Errorf("oci://%s: %w", ref, err)
		}
		tag = tags[i]
	}
	key := cacheKey("oci://"+ref, "", tag)
	data, ok := cache.get(key)
	if !ok {
		if client == nil {
			return nil, fmt.Errorf("%w: oci://%s:%s is not in the chart cache (offline)", errChartUnavailable, ref, tag)
		}
		res, err := client.Pull(ref+":"+tag, registry.PullOptWithChart(true))
		if err != nil {
			return nil, fmt.Errorf("%w: pull oci://%s:%s: %v", errChartUnavailable, ref, tag, err)
		}
		data = res.Chart.Data
		if err := cache.put(key, data); err != nil {
			return nil, fmt.Errorf("cache chart oci://%s:%s: %w", ref, tag, err)
		}
	}
	c, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("load chart oci://%s:%s: %w", ref, tag, err)
	}
	sum := sha256.Sum256(data)
	return &helmChart{chart: c, path: "oci://" + ref + ":" + tag, digest: hex.EncodeToString(sum[:])}, nil
}

// semverExact accepts a version that is a single exact version, not a
// range.
func semverExact(v string) (string, error) {
	if v == "latest" {
		return v, nil
	}
	if strings.ContainsAny(v, "*xX^~<>=|, ") {
		return "", fmt.Errorf("%q is a range", v)
	}
	if _, err := pickVersion([]string{v}, v); err != nil {
		return "", err
	}
	return v, nil
}

// ociTags lists the tags of ref, once per render online, from the cache
// offline.
func (r *renderer) ociTags(cache chartCache, client *registry.Client, ref string) ([]string, error) {
	key := "tags-" + hashString(ref)
	if client == nil {
		data, ok := cache.get(key)
		if !ok {
			return nil, fmt.Errorf("%w: the tags of oci://%s are not in the chart cache (offline)", errChartUnavailable, ref)
		}
		var tags []string
		if err := json.Unmarshal(data, &tags); err != nil {
			return nil, fmt.Errorf("%w: cached tags of oci://%s: %v", errChartUnavailable, ref, err)
		}
		return tags, nil
	}
	f := r.charts
	f.mu.Lock()
	e := f.indexes["oci://"+ref]
	if e == nil {
		e = &indexEntry{}
		f.indexes["oci://"+ref] = e
	}
	f.mu.Unlock()
	e.once.Do(func() {
		tags, err := client.Tags(ref)
		if err != nil {
			e.err = fmt.Errorf("%w: list tags of oci://%s: %v", errChartUnavailable, ref, err)
			return
		}
		e.tags = tags
		if b, err := json.Marshal(tags); err == nil {
			_ = cache.put(key, b)
		}
	})
	return e.tags, e.err
}
