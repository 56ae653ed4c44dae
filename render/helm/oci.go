package helm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v3/pkg/helmpath"
	"helm.sh/helm/v3/pkg/registry"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
)

// ociClient returns Helm's registry client and the authorising HTTP
// client behind it for a registry reached with access: its basic-auth
// credentials when it has them, else those of Helm's registry config
// ($HELM_CONFIG_HOME/registry/config.json) with the Docker config
// ($DOCKER_CONFIG/config.json or ~/.docker/config.json) as a fallback,
// as the helm CLI does. Nil when offline.
func (f *Fetcher) ociClient(access *Access, host string) (*registry.Client, *auth.Client, error) {
	if f.offline {
		return nil, nil, nil
	}
	ac := &auth.Client{Client: access.httpClient(f.client, f.transport), Cache: auth.NewCache()}
	if access.hasAuth() {
		ac.Credential = auth.StaticCredential(host, auth.Credential{Username: access.username, Password: access.password})
	} else {
		ac.Credential = ambientCredential()
	}
	opts := []registry.ClientOption{registry.ClientOptWriter(io.Discard), registry.ClientOptHTTPClient(ac.Client), registry.ClientOptAuthorizer(*ac)}
	if access != nil && access.insecure {
		opts = append(opts, registry.ClientOptPlainHTTP())
	}
	client, err := registry.NewClient(opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: registry client: %v", ErrUnavailable, err)
	}
	return client, ac, nil
}

// ambientCredential reads registry credentials from Helm's registry
// config, then Docker's. A missing or unreadable file is no credential.
func ambientCredential() auth.CredentialFunc {
	var stores []credentials.Store
	if s, err := credentials.NewStore(helmpath.ConfigPath(registry.CredentialsFileBasename), credentials.StoreOptions{}); err == nil {
		stores = append(stores, s)
	}
	if s, err := credentials.NewStoreFromDocker(credentials.StoreOptions{}); err == nil {
		stores = append(stores, s)
	}
	if len(stores) == 0 {
		return auth.StaticCredential("", auth.EmptyCredential)
	}
	return credentials.Credential(credentials.NewStoreWithFallbacks(stores[0], stores[1:]...))
}

// OCIChart resolves the chart at ref (host/path/chart, with or without
// oci://) of an OCI HelmRepository to the highest tag matching version
// and loads it, from the cache when it holds it. Tags list once per
// render, or from the cache offline.
func (f *Fetcher) OCIChart(ctx context.Context, ref, version string, access *Access) (*Chart, error) {
	ref = strings.TrimPrefix(ref, "oci://")
	dir, err := f.cacheDir()
	if err != nil {
		return nil, fmt.Errorf("%w: no chart cache directory: %v", ErrUnavailable, err)
	}
	cache := chartCache{dir: dir}
	if version == "" {
		version = "*"
	}
	client, _, err := f.ociClient(access, dockerHost(ref))
	if err != nil {
		return nil, err
	}
	tag := version
	if _, err := semverExact(version); err != nil {
		tags, err := f.ociTags(cache, ref, "tags-", access, func() ([]string, error) { return client.Tags(ref) })
		if err != nil {
			return nil, ociAuthHint(err, access)
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
	return f.ociPull(cache, client, ref, tag, "", access)
}

// ociPull pulls ref:tag, or ref@digest when digest is set (checking the
// manifest's digest), through the cache, once per render.
func (f *Fetcher) ociPull(cache chartCache, client *registry.Client, ref, tag, digest string, access *Access) (*Chart, error) {
	full, key := ref+":"+tag, cacheKey("oci://"+ref, "", tag)
	if digest != "" {
		full, key = ref+"@"+digest, cacheKey("oci://"+ref, "", "@"+digest)
	}
	data, err := f.blob(cache, key, func() ([]byte, error) {
		if client == nil {
			return nil, fmt.Errorf("%w: oci://%s is not in the chart cache (offline)", ErrUnavailable, full)
		}
		res, err := client.Pull(full, registry.PullOptWithChart(true))
		if err != nil {
			return nil, ociAuthHint(fmt.Errorf("%w: pull oci://%s: %v", ErrUnavailable, full, err), access)
		}
		if digest != "" && res.Manifest.Digest != digest {
			return nil, fmt.Errorf("pull oci://%s: the manifest's digest is %s", full, res.Manifest.Digest)
		}
		if _, err := loadChartArchive(res.Chart.Data, "oci://"+full); err != nil {
			return nil, err
		}
		return res.Chart.Data, nil
	})
	if err != nil {
		return nil, err
	}
	c, err := loadChartArchive(data, "oci://"+full)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	return &Chart{Chart: c, Path: "oci://" + full, Digest: hex.EncodeToString(sum[:])}, nil
}

// ociAuthHint adds to a registry error what to set when it refused the
// request.
func ociAuthHint(err error, access *Access) error {
	msg := err.Error()
	if access == nil || !(strings.Contains(msg, "401") || strings.Contains(msg, "403") || strings.Contains(msg, "nauthorized") || strings.Contains(msg, "credential not found")) {
		return err
	}
	if errors.Is(err, ErrUnavailable) {
		return fmt.Errorf("%w%s", err, access.authHint())
	}
	return fmt.Errorf("%w: %v%s", ErrUnavailable, err, access.authHint())
}

// OCIRepositoryChart pulls the chart an OCIRepository points at, choosing
// the reference as source-controller does: spec.ref.digest, else the
// highest tag matching spec.ref.semver among the tags matching
// spec.ref.semverFilter, else spec.ref.tag, else latest.
func (f *Fetcher) OCIRepositoryChart(ctx context.Context, obj map[string]any, access *Access) (*Chart, error) {
	url, _, _ := unstructured.NestedString(obj, "spec", "url")
	if !strings.HasPrefix(url, "oci://") {
		return nil, fmt.Errorf("spec.url %q must start with oci://", redactURL(url))
	}
	ref := strings.TrimPrefix(url, "oci://")
	dir, err := f.cacheDir()
	if err != nil {
		return nil, fmt.Errorf("%w: no chart cache directory: %v", ErrUnavailable, err)
	}
	cache := chartCache{dir: dir}
	client, ac, err := f.ociClient(access, dockerHost(ref))
	if err != nil {
		return nil, err
	}
	digest, _, _ := unstructured.NestedString(obj, "spec", "ref", "digest")
	semverExp, _, _ := unstructured.NestedString(obj, "spec", "ref", "semver")
	filter, _, _ := unstructured.NestedString(obj, "spec", "ref", "semverFilter")
	tag, _, _ := unstructured.NestedString(obj, "spec", "ref", "tag")
	mediaType, _, _ := unstructured.NestedString(obj, "spec", "layerSelector", "mediaType")
	switch {
	case digest != "":
		if !regexp.MustCompile(`^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$`).MatchString(digest) {
			return nil, fmt.Errorf("spec.ref.digest %q is not a digest", digest)
		}
		return f.ociPull(cache, client, ref, "", digest, access)
	case semverExp != "":
		tags, err := f.ociTags(cache, ref, "oci-tags-", access, func() ([]string, error) {
			repo, err := remote.NewRepository(ref)
			if err != nil {
				return nil, err
			}
			repo.PlainHTTP = access != nil && access.insecure
			repo.Client = ac
			var all []string
			err = repo.Tags(ctx, "", func(tags []string) error {
				all = append(all, tags...)
				return nil
			})
			return all, err
		})
		if err != nil {
			return nil, ociAuthHint(err, access)
		}
		if tag, err = pickTagBySemver(tags, semverExp, filter, mediaType == registry.ChartLayerMediaType); err != nil {
			return nil, fmt.Errorf("oci://%s: %w", ref, err)
		}
	case tag == "":
		tag = "latest"
	}
	return f.ociPull(cache, client, ref, tag, "", access)
}

// pickTagBySemver is source-controller's choice of an OCIRepository tag:
// tags matching the filter regular expression, read as versions (with
// "_" as "+" for Helm chart layers), the highest matching the constraint.
func pickTagBySemver(tags []string, constraint, filter string, chartLayer bool) (string, error) {
	if filter != "" {
		re, err := regexp.Compile(filter)
		if err != nil {
			return "", fmt.Errorf("spec.ref.semverFilter %q: %w", filter, err)
		}
		var kept []string
		for _, t := range tags {
			if re.MatchString(t) {
				kept = append(kept, t)
			}
		}
		tags = kept
	}
	c, err := semver.NewConstraint(constraint)
	if err != nil {
		return "", fmt.Errorf("semver '%s' parse error: %w", constraint, err)
	}
	best, bestTag := (*semver.Version)(nil), ""
	for _, t := range tags {
		s := t
		if chartLayer {
			s = strings.ReplaceAll(t, "_", "+")
		}
		v, err := semver.NewVersion(s)
		if err != nil || !c.Check(v) {
			continue
		}
		if best == nil || v.GreaterThan(best) {
			best, bestTag = v, t
		}
	}
	if best == nil {
		return "", fmt.Errorf("no match found for semver: %s", constraint)
	}
	return bestTag, nil
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

// ociTags lists the tags of ref with list, once per render online, from
// the cache (under prefix) offline.
func (f *Fetcher) ociTags(cache chartCache, ref, prefix string, access *Access, list func() ([]string, error)) ([]string, error) {
	key := prefix + hashString(ref)
	if f.offline {
		data, ok := cache.get(key)
		if !ok {
			return nil, fmt.Errorf("%w: the tags of oci://%s are not in the chart cache (offline)", ErrUnavailable, ref)
		}
		var tags []string
		if err := json.Unmarshal(data, &tags); err != nil {
			return nil, fmt.Errorf("%w: cached tags of oci://%s: %v", ErrUnavailable, ref, err)
		}
		return tags, nil
	}
	e := f.index(prefix + "oci://" + ref + "\x00" + accessID(access))
	e.once.Do(func() {
		tags, err := list()
		if err != nil {
			e.err = fmt.Errorf("%w: list tags of oci://%s: %v", ErrUnavailable, ref, err)
			return
		}
		e.tags = tags
		if b, err := json.Marshal(tags); err == nil {
			_ = cache.put(key, b)
		}
	})
	return e.tags, e.err
}
