package render

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// maxChartFileSize is source-controller's limit on one file of a chart
// it loads from a source.
const maxChartFileSize = 5 << 20

// loadLocalChart loads the chart at dir (relative to the repository root,
// a directory or a packaged chart) as source-controller's secure loader
// does: no file over maxChartFileSize.
func (r *renderer) loadLocalChart(dir string) (*chart.Chart, error) {
	if err := r.need(true, dir); err != nil {
		return nil, err
	}
	abs := filepath.Join(r.opts.Dir, filepath.FromSlash(dir))
	c, err := loader.Load(abs)
	if err != nil {
		return nil, fmt.Errorf("load chart %s: %s", dir, r.scrubPaths(err.Error()))
	}
	for _, f := range c.Raw {
		if len(f.Data) > maxChartFileSize {
			return nil, fmt.Errorf("load chart %s: size of '%s' exceeds '%d' bytes limit", dir, f.Name, maxChartFileSize)
		}
	}
	return c, nil
}

// applyValuesFiles replaces the chart's default values with the merge of
// the named files of a packaged chart, as source-controller does for a
// HelmChart of a HelmRepository with valuesFiles: values.yaml is the
// chart's values, a missing file fails unless ignoreMissing.
func applyValuesFiles(c *chart.Chart, files []string, ignoreMissing bool) error {
	if len(files) == 0 {
		return nil
	}
	merged := map[string]any{}
	for _, name := range files {
		clean := path.Clean(name)
		if clean == chartutil.ValuesfileName {
			merged = mergeMaps(merged, c.Values)
			continue
		}
		var data []byte
		for _, f := range c.Files {
			if f.Name == clean {
				data = f.Data
				break
			}
		}
		if data == nil {
			if ignoreMissing {
				continue
			}
			return fmt.Errorf("values file %s not found in chart %s", name, c.Name())
		}
		v, err := chartutil.ReadValues(data)
		if err != nil {
			return fmt.Errorf("values file %s of chart %s: %w", name, c.Name(), err)
		}
		merged = mergeMaps(merged, v)
	}
	c.Values = merged
	return nil
}

// applySourceValuesFiles replaces the chart's default values with the
// merge of the named files, relative to the root of the source srcDir, as
// source-controller does for a HelmChart of a GitRepository or Bucket.
func (r *renderer) applySourceValuesFiles(c *chart.Chart, srcDir string, files []string, ignoreMissing bool) error {
	if len(files) == 0 {
		return nil
	}
	merged := map[string]any{}
	for _, name := range files {
		p := inSource(srcDir, srcDir, name)
		if err := r.need(false, p); err != nil {
			return err
		}
		data, err := os.ReadFile(filepath.Join(r.opts.Dir, filepath.FromSlash(p)))
		if err != nil {
			if ignoreMissing && errors.Is(err, os.ErrNotExist) {
				continue
			}
			return fmt.Errorf("no values file found at path '%s' (reference '%s')", p, name)
		}
		v := map[string]any{}
		if err := yaml.Unmarshal(data, &v); err != nil {
			return fmt.Errorf("unmarshaling values from '%s' failed: %w", name, err)
		}
		merged = mergeMaps(merged, v)
	}
	c.Values = merged
	return nil
}

// inSource joins p to dir, both inside the source root srcDir, the way
// source-controller's secure join does: ".." stops at the source root.
func inSource(srcDir, dir, p string) string {
	rel := dir
	if srcDir != "." {
		rel = strings.TrimPrefix(strings.TrimPrefix(dir, srcDir), "/")
	}
	return path.Join(srcDir, strings.TrimPrefix(path.Join("/", rel, p), "/"))
}

// buildDependencies adds the dependencies a chart directory declares
// (Chart.lock first) and does not vendor in charts/, as source-controller's
// dependency manager does for a chart in a source: file:// (or empty)
// repositories from the source, relative to the chart; http(s):// and
// oci:// ones through the chart cache, with the credentials of a
// HelmRepository of the namespace with that URL. It returns a digest per
// dependency added.
func (r *renderer) buildDependencies(ctx context.Context, j job, c *chart.Chart, srcDir, chartDir, namespace string) ([]string, error) {
	reqs := c.Metadata.Dependencies
	if c.Lock != nil {
		reqs = c.Lock.Dependencies
	}
	if len(c.Dependencies()) == len(reqs) {
		return nil, nil
	}
	var digests []string
	for _, dep := range reqs {
		name := dep.Name
		if dep.Alias != "" {
			name = dep.Alias
		}
		present := false
		for _, d := range c.Dependencies() {
			if d.Name() == name {
				present = true
			}
		}
		if present {
			continue
		}
		var (
			sub    *chart.Chart
			digest string
			err    error
		)
		if dep.Repository == "" || strings.HasPrefix(dep.Repository, "file://") {
			sub, digest, err = r.localDependency(srcDir, chartDir, dep)
			if err != nil {
				return nil, fmt.Errorf("failed to add local dependency '%s': %w", name, err)
			}
		} else {
			sub, digest, err = r.remoteDependency(ctx, j, namespace, dep)
			if err != nil {
				return nil, fmt.Errorf("failed to add remote dependency '%s': %w", name, err)
			}
		}
		if dep.Alias != "" {
			sub.Metadata.Name = dep.Alias
		}
		c.AddDependency(sub)
		digests = append(digests, name+"="+digest)
	}
	return digests, nil
}

func (r *renderer) localDependency(srcDir, chartDir string, dep *chart.Dependency) (*chart.Chart, string, error) {
	rel := path.Join("charts", dep.Name)
	if dep.Repository != "" {
		u, err := url.Parse(dep.Repository)
		if err != nil {
			return nil, "", errors.New("failed to parse alleged local chart reference")
		}
		rel = u.Host + u.Path
	}
	p := inSource(srcDir, chartDir, rel)
	if err := r.need(true, p); err != nil {
		return nil, "", err
	}
	if _, err := os.Stat(filepath.Join(r.opts.Dir, filepath.FromSlash(p))); err != nil {
		return nil, "", fmt.Errorf("no chart found at '%s' (reference '%s')", p, dep.Repository)
	}
	constraint, err := semver.NewConstraint(dep.Version)
	if err != nil {
		return nil, "", fmt.Errorf("invalid version/constraint format '%s': %w", dep.Version, err)
	}
	sub, err := r.loadLocalChart(p)
	if err != nil {
		return nil, "", err
	}
	v, err := semver.NewVersion(sub.Metadata.Version)
	if err != nil {
		return nil, "", fmt.Errorf("chart %s: version %q: %w", p, sub.Metadata.Version, err)
	}
	if !constraint.Check(v) {
		return nil, "", fmt.Errorf("can't get a valid version for constraint '%s'", dep.Version)
	}
	h := sha256.New()
	for _, f := range sub.Raw {
		fmt.Fprintf(h, "%s\x00%d\x00", f.Name, len(f.Data))
		h.Write(f.Data)
	}
	return sub, hex.EncodeToString(h.Sum(nil)), nil
}

func (r *renderer) remoteDependency(ctx context.Context, j job, namespace string, dep *chart.Dependency) (*chart.Chart, string, error) {
	nURL, err := normalizeRepoURL(dep.Repository)
	if err != nil {
		return nil, "", err
	}
	var access *repoAccess
	if repo := r.helmRepositoryFor(j, namespace, nURL); repo != nil {
		if access, err = r.sourceAccess(j, "HelmRepository", repo); err != nil {
			return nil, "", err
		}
	}
	var ch *helmChart
	if strings.HasPrefix(nURL, "oci://") {
		ch, err = r.ociChart(ctx, nURL+"/"+dep.Name, dep.Version, access)
	} else {
		ch, err = r.remoteChart(ctx, chartRepo{url: nURL, access: access}, dep.Name, dep.Version)
	}
	if err != nil {
		return nil, "", fmt.Errorf("failed to get chart '%s' version '%s' from '%s': %w", dep.Name, dep.Version, redactURL(dep.Repository), err)
	}
	return ch.chart, ch.digest, nil
}

// normalizeRepoURL is source-controller's NormalizeURL and ValidateDepURL:
// oci:// without a trailing slash, http(s):// with one; aliases ("@repo",
// "alias:repo") and other schemes are refused.
func normalizeRepoURL(repository string) (string, error) {
	switch {
	case strings.HasPrefix(repository, "oci://"):
	case strings.HasPrefix(repository, "https://"), strings.HasPrefix(repository, "http://"):
	case strings.HasPrefix(repository, "@"), strings.HasPrefix(repository, "alias:"):
		return "", fmt.Errorf("aliased repository dependency is not supported: %s", repository)
	default:
		return "", fmt.Errorf("invalid repository dependency URL: %s", redactURL(repository))
	}
	u, err := url.Parse(repository)
	if err != nil {
		return "", fmt.Errorf("invalid repository dependency URL: %s", redactURL(repository))
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = strings.TrimRight(u.RawPath, "/")
	if u.Scheme != "oci" {
		u.Path += "/"
		if u.RawPath != "" {
			u.RawPath += "/"
		}
	}
	return u.String(), nil
}

// helmRepositoryFor finds a HelmRepository of the namespace whose URL is
// url (normalised), in the unit's ancestors' output or the repository.
func (r *renderer) helmRepositoryFor(j job, namespace, nURL string) map[string]any {
	match := func(obj map[string]any) bool {
		o := unstructured.Unstructured{Object: obj}
		if o.GetKind() != "HelmRepository" || o.GetNamespace() != namespace {
			return false
		}
		u, _, _ := unstructured.NestedString(obj, "spec", "url")
		n, err := normalizeRepoURL(u)
		return err == nil && n == nURL
	}
	for p := j.parent; p != nil; p = p.parent {
		for _, o := range p.Objects {
			if _, kind := o.GVK(); kind != "HelmRepository" {
				continue
			}
			if obj := o.Value(); match(obj) {
				return obj
			}
		}
	}
	for _, fo := range r.repo.FluxKind("HelmRepository") {
		if match(fo.Doc.Object) {
			return fo.Doc.Object
		}
	}
	return nil
}
