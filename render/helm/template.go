package helm

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sort"
	"strings"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/releaseutil"
	"sigs.k8s.io/yaml"
)

// Doc is one object of a rendered manifest and the chart template that
// produced it ("" when unknown).
type Doc struct {
	Object   map[string]any
	Template string
}

// Release is what a client-only dry-run install of a HelmRelease
// produced.
type Release struct {
	// Namespace is the release namespace.
	Namespace string
	// CRDs are the chart's crds/ files unless the CRD policy is Skip:
	// applied apart from the release, as helm-controller does, never
	// post-rendered nor labelled.
	CRDs []Doc
	// Manifests are the release's objects in Helm's install order, after
	// the HelmRelease's post-renderers.
	Manifests []Doc
	// Hooks are the release's hooks.
	Hooks []Doc
}

// TemplateOptions are what a dry-run install needs beyond the release.
type TemplateOptions struct {
	// KubeVersion is the Kubernetes version charts see in .Capabilities.
	KubeVersion string
	// Kustomize runs the kustomize builds of spec.postRenderers.
	Kustomize KustomizeFunc
}

// Template runs a client-only dry-run install of the chart with vals the
// way helm-controller installs hr.
func Template(ctx context.Context, hr *helmv2.HelmRelease, c *chart.Chart, vals map[string]any, opts TemplateOptions) (*Release, error) {
	kv, err := chartutil.ParseKubeVersion(opts.KubeVersion)
	if err != nil {
		return nil, fmt.Errorf("kubernetes version %q: %w", opts.KubeVersion, err)
	}
	install := action.NewInstall(&action.Configuration{Log: func(string, ...any) {}})
	install.DryRun = true
	install.ClientOnly = true
	install.Replace = true
	install.ReleaseName = ReleaseName(hr)
	install.Namespace = hr.GetReleaseNamespace()
	install.KubeVersion = kv
	install.DisableOpenAPIValidation = true
	policy := helmv2.Create
	if hr.Spec.Install != nil && hr.Spec.Install.CRDs != "" {
		policy = hr.Spec.Install.CRDs
	}
	install.IncludeCRDs = false
	var templates *templateRecorder
	if pr := postRenderers(hr, opts.Kustomize); pr != nil {
		templates = &templateRecorder{next: pr}
		install.PostRenderer = templates
	}
	rel, err := install.RunWithContext(ctx, c, vals)
	if err != nil {
		return nil, err
	}
	out := &Release{Namespace: install.Namespace}
	if policy != helmv2.Skip {
		for _, crd := range c.CRDObjects() {
			d, err := ParseManifest(string(crd.File.Data), crd.Filename)
			if err != nil {
				return nil, err
			}
			out.CRDs = append(out.CRDs, d...)
		}
	}
	m := releaseutil.SplitManifests(rel.Manifest)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Sort(releaseutil.BySplitManifestsOrder(keys))
	for _, k := range keys {
		d, err := ParseManifest(m[k], "")
		if err != nil {
			return nil, err
		}
		if templates != nil {
			// Post-renderers drop the "# Source:" comments.
			for i := range d {
				if d[i].Template == "" {
					d[i].Template = templates.template(d[i].Object)
				}
			}
		}
		out.Manifests = append(out.Manifests, d...)
	}
	for _, h := range rel.Hooks {
		d, err := ParseManifest(h.Manifest, h.Path)
		if err != nil {
			return nil, err
		}
		out.Hooks = append(out.Hooks, d...)
	}
	return out, nil
}

// ParseManifest parses one rendered manifest (possibly several
// documents), each with the template named by its "# Source:" comment
// (or source when given).
func ParseManifest(manifest, source string) ([]Doc, error) {
	var out []Doc
	for _, doc := range strings.Split("\n"+manifest, "\n---") {
		tmpl := source
		for _, line := range strings.Split(doc, "\n") {
			if rest, ok := strings.CutPrefix(line, "# Source: "); ok && tmpl == "" {
				tmpl = strings.TrimSpace(rest)
			}
		}
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			return nil, fmt.Errorf("parse rendered %s: %w", tmpl, err)
		}
		if len(obj) == 0 {
			continue
		}
		out = append(out, Doc{Object: obj, Template: tmpl})
	}
	return out, nil
}

// ReleaseName is helm-controller's release name: spec.releaseName, else
// <targetNamespace>-<name> or <name>, shortened past 53 characters to a
// 40-character prefix, a dash and 12 hex digits of its SHA-256.
func ReleaseName(hr *helmv2.HelmRelease) string {
	return shortenReleaseName(hr.GetReleaseName())
}

func shortenReleaseName(name string) string {
	const maxLength, hashLength = 53, 12
	if len(name) <= maxLength {
		return name
	}
	sum := fmt.Sprintf("%x", sha256.Sum256([]byte(name)))
	return name[:maxLength-(hashLength+1)] + "-" + sum[:hashLength]
}

// MergeMaps merges b into a copy of a, recursively for maps; b wins.
func MergeMaps(a, b map[string]any) map[string]any {
	out := make(map[string]any, len(a))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if bm, ok := v.(map[string]any); ok {
			if am, ok := out[k].(map[string]any); ok {
				out[k] = MergeMaps(am, bm)
				continue
			}
		}
		out[k] = v
	}
	return out
}
