package helm

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
	"sigs.k8s.io/yaml"
)

// maxChartFileSize is source-controller's limit on one file of a chart
// it loads from a source.
const maxChartFileSize = 5 << 20

// Tree is the repository local charts are read from.
type Tree struct {
	// Root is the directory holding the repository's files.
	Root string
	// Need, when set, is handed the repository paths a load reads before
	// it reads them (deep: with everything under them), for trees whose
	// files are written as they are asked for.
	Need func(deep bool, paths ...string) error
}

func (t Tree) need(deep bool, p string) error {
	if t.Need == nil {
		return nil
	}
	return t.Need(deep, p)
}

func (t Tree) abs(p string) string { return filepath.Join(t.Root, filepath.FromSlash(p)) }

// LoadChart loads the chart at dir (relative to the repository root, a
// directory or a packaged chart) as source-controller's secure loader
// does: no file over maxChartFileSize.
func (t Tree) LoadChart(dir string) (*chart.Chart, error) {
	if err := t.need(true, dir); err != nil {
		return nil, err
	}
	c, err := loader.Load(t.abs(dir))
	if err != nil {
		return nil, fmt.Errorf("load chart %s: %s", dir, strings.ReplaceAll(err.Error(), t.Root+string(filepath.Separator), ""))
	}
	for _, f := range c.Raw {
		if len(f.Data) > maxChartFileSize {
			return nil, fmt.Errorf("load chart %s: size of '%s' exceeds '%d' bytes limit", dir, f.Name, maxChartFileSize)
		}
	}
	return c, nil
}

// ApplyValuesFiles replaces the chart's default values with the merge of
// the named files of a packaged chart, as source-controller does for a
// HelmChart of a HelmRepository with valuesFiles: values.yaml is the
// chart's values, a missing file fails unless ignoreMissing.
func ApplyValuesFiles(c *chart.Chart, files []string, ignoreMissing bool) error {
	if len(files) == 0 {
		return nil
	}
	merged := map[string]any{}
	for _, name := range files {
		clean := path.Clean(name)
		if clean == chartutil.ValuesfileName {
			merged = MergeMaps(merged, c.Values)
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
		merged = MergeMaps(merged, v)
	}
	c.Values = merged
	return nil
}

// ApplySourceValuesFiles replaces the chart's default values with the
// merge of the named files, relative to the root of the source srcDir, as
// source-controller does for a HelmChart of a GitRepository or Bucket.
func (t Tree) ApplySourceValuesFiles(c *chart.Chart, srcDir string, files []string, ignoreMissing bool) error {
	if len(files) == 0 {
		return nil
	}
	merged := map[string]any{}
	for _, name := range files {
		p := inSource(srcDir, srcDir, name)
		if err := t.need(false, p); err != nil {
			return err
		}
		data, err := os.ReadFile(t.abs(p))
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
		merged = MergeMaps(merged, v)
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

// AccessFunc returns how to reach the chart repository at a normalised
// URL (NormalizeRepoURL): nil for anonymous access.
type AccessFunc func(normalizedURL string) (*Access, error)

// BuildDependencies adds the dependencies a chart directory declares
// (Chart.lock first) and does not vendor in charts/, as source-controller's
// dependency manager does for a chart in a source: file:// (or empty)
// repositories from the source, relative to the chart; http(s):// and
// oci:// ones through the chart cache, with the credentials of a
// HelmRepository with that URL as access finds them. It returns a digest
// per dependency added.
func (f *Fetcher) BuildDependencies(ctx context.Context, t Tree, c *chart.Chart, srcDir, chartDir string, access AccessFunc) ([]string, error) {
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
			sub, digest, err = t.localDependency(srcDir, chartDir, dep)
			if err != nil {
				return nil, fmt.Errorf("failed to add local dependency '%s': %w", name, err)
			}
		} else {
			sub, digest, err = f.remoteDependency(ctx, access, dep)
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

func (t Tree) localDependency(srcDir, chartDir string, dep *chart.Dependency) (*chart.Chart, string, error) {
	rel := path.Join("charts", dep.Name)
	if dep.Repository != "" {
		u, err := url.Parse(dep.Repository)
		if err != nil {
			return nil, "", errors.New("failed to parse alleged local chart reference")
		}
		rel = u.Host + u.Path
	}
	p := inSource(srcDir, chartDir, rel)
	if err := t.need(true, p); err != nil {
		return nil, "", err
	}
	if _, err := os.Stat(t.abs(p)); err != nil {
		return nil, "", fmt.Errorf("no chart found at '%s' (reference '%s')", p, dep.Repository)
	}
	constraint, err := semver.NewConstraint(dep.Version)
	if err != nil {
		return nil, "", fmt.Errorf("invalid version/constraint format '%s': %w", dep.Version, err)
	}
	sub, err := t.LoadChart(p)
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
	return sub, Digest(sub, nil), nil
}

// Digest is a digest of a chart loaded from a directory: its files and
// the digests of the dependencies BuildDependencies added.
func Digest(c *chart.Chart, dependencies []string) string {
	h := sha256.New()
	for _, f := range c.Raw {
		fmt.Fprintf(h, "%s\x00%d\x00", f.Name, len(f.Data))
		h.Write(f.Data)
	}
	for _, d := range dependencies {
		fmt.Fprintf(h, "dependency\x00%s\x00", d)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (f *Fetcher) remoteDependency(ctx context.Context, accessFor AccessFunc, dep *chart.Dependency) (*chart.Chart, string, error) {
	nURL, err := NormalizeRepoURL(dep.Repository)
	if err != nil {
		return nil, "", err
	}
	access, err := accessFor(nURL)
	if err != nil {
		return nil, "", err
	}
	var ch *Chart
	if strings.HasPrefix(nURL, "oci://") {
		ch, err = f.OCIChart(ctx, nURL+"/"+dep.Name, dep.Version, access)
	} else {
		ch, err = f.RepositoryChart(ctx, nURL, access, dep.Name, dep.Version)
	}
	if err != nil {
		return nil, "", fmt.Errorf("failed to get chart '%s' version '%s' from '%s': %w", dep.Name, dep.Version, redactURL(dep.Repository), err)
	}
	return ch.Chart, ch.Digest, nil
}

// NormalizeRepoURL is source-controller's NormalizeURL and ValidateDepURL:
// oci:// without a trailing slash, http(s):// with one; aliases ("@repo",
// "alias:repo") and other schemes are refused.
func NormalizeRepoURL(repository string) (string, error) {
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
