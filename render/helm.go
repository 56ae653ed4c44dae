package render

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/releaseutil"
	"helm.sh/helm/v3/pkg/strvals"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/render/cache"
)

// DefaultKubernetesVersion is the Kubernetes version Helm charts see when
// Options.KubernetesVersion is empty.
const DefaultKubernetesVersion = "1.37.0"

// Labels helm-controller's post-renderer sets on every object of a release.
const (
	helmNameLabel      = "helm.toolkit.fluxcd.io/name"
	helmNamespaceLabel = "helm.toolkit.fluxcd.io/namespace"
)

// errChartUnavailable marks a chart that cannot be fetched; it becomes a
// chart-unavailable problem rather than render-failed.
var errChartUnavailable = errors.New("chart unavailable")

// fetchProblem turns a chart fetch error into chart-unavailable (a
// warning: Flux would fetch it) or render-failed.
func (r *renderer) fetchProblem(u *Unit, prefix string, err error) *fleet.Problem {
	if errors.Is(err, errChartUnavailable) {
		msg := strings.Replace(err.Error(), errChartUnavailable.Error()+": ", "", 1)
		p := r.problem(u, fleet.RuleChartUnavailable, fleet.SeverityWarning, prefix+": "+msg)
		return &p
	}
	p := r.problem(u, fleet.RuleRenderFailed, fleet.SeverityError, prefix+": "+err.Error())
	return &p
}

// helmChart is a loaded chart and a digest of its content.
type helmChart struct {
	chart *chart.Chart
	// path is the chart directory in the repository for local charts,
	// or repoURL/chart@version for fetched ones.
	path   string
	digest string
}

// buildHelmRelease renders a HelmRelease the way helm-controller installs
// it: the chart from its source, values merged in helm-controller's order
// (chart defaults, valuesFrom, spec.values), a client-only dry-run install
// with hooks and the CRD policy, objects in the release namespace with
// helm-controller's origin labels.
func (r *renderer) buildHelmRelease(ctx context.Context, u *Unit, j job) {
	obj := unstructured.Unstructured{Object: j.hr}
	u.Kind, u.Namespace, u.Name = KindHelmRelease, obj.GetNamespace(), obj.GetName()
	var hr helmv2.HelmRelease
	if err := decodeHelmRelease(j.hr, &hr); err != nil {
		r.fail(u, fmt.Errorf("decode HelmRelease %s: %w", u.ID, err))
		u.Hash = hashInputs(j.hr, nil, nil)
		return
	}
	u.Suspended = hr.Spec.Suspend
	u.ServiceAccountName = hr.Spec.ServiceAccountName
	u.TargetNamespace = hr.Spec.TargetNamespace

	ch, prob := r.helmChart(ctx, u, j, &hr)
	if prob != nil {
		u.Problems = append(u.Problems, *prob)
		u.Failed = prob.Severity == fleet.SeverityError
		u.Hash = hashInputs(j.hr, nil, nil)
		return
	}
	u.Path = ch.path
	vals, probs := r.helmValues(u, j, &hr)
	u.Problems = append(u.Problems, probs...)
	vb, _ := json.Marshal(vals)
	u.Hash = hashInputs(j.hr, []string{"chart:" + ch.digest, "values:" + string(vb)}, nil)

	key := u.Hash + "|" + r.opts.KubernetesVersion
	// The unit cache's slot: the release's output depends on its input
	// hash (the HelmRelease, the chart's digest, the merged values) and
	// the Kubernetes version only. Values from Secrets are never cached.
	slot := ""
	if len(u.Sensitive) == 0 {
		kv := r.opts.KubernetesVersion
		if kv == "" {
			kv = DefaultKubernetesVersion
		}
		slot = r.unitSlot("helm", u.Cluster, u.ID, kv)
	}
	objs := r.opts.Reuse.kept().template(key)
	if objs != nil {
		r.stats.reused.Add(1)
	} else if e := r.cachedTemplate(slot, u.Hash); e != nil {
		objs = fromCached(e.Objects)
		r.stats.cached.Add(1)
	} else {
		var err error
		objs, err = r.helmTemplate(ctx, &hr, ch.chart, vals)
		r.stats.built.Add(1)
		if err != nil {
			r.fail(u, fmt.Errorf("render HelmRelease %s (%s:%d) chart %s: %w", u.ID, u.File, u.Line, ch.path, err))
			return
		}
		if slot != "" && cacheableObjects(objs) {
			r.ucache.Put(slot, cache.EntryName(slot, u.Hash), &cache.Entry{Objects: toCached(objs)})
		}
	}
	if r.opts.KeepBuilds {
		r.kept.putTemplate(key, objs)
	}
	for _, o := range objs {
		o.File, o.Line = u.File, u.Line
	}
	u.Objects = objs
}

// cachedTemplate returns the unit cache's entry of a release, or nil.
func (r *renderer) cachedTemplate(slot, hash string) *cache.Entry {
	if slot == "" {
		return nil
	}
	e, err := r.ucache.Get(slot, cache.EntryName(slot, hash))
	if err != nil || len(e.Reads) > 0 || len(e.Own) > 0 || len(e.Problems) > 0 {
		return nil
	}
	return e
}

// decodeHelmRelease decodes any served version of a HelmRelease into the v2
// type; the fields fluxgate reads have the same shape in all of them.
func decodeHelmRelease(obj map[string]any, hr *helmv2.HelmRelease) error {
	b, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, hr)
}

// releaseName is helm-controller's release name: spec.releaseName, else
// <targetNamespace>-<name> or <name>, shortened past 53 characters to a
// 40-character prefix, a dash and 12 hex digits of its SHA-256.
func releaseName(hr *helmv2.HelmRelease) string {
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

// chartSpec is where a chart comes from: a HelmRelease's
// spec.chart.spec or a HelmChart's spec.
type chartSpec struct {
	kind, namespace, name   string
	chart, version          string
	valuesFiles             []string
	ignoreMissingValuesFile bool
}

// helmChart finds and loads the HelmRelease's chart.
func (r *renderer) helmChart(ctx context.Context, u *Unit, j job, hr *helmv2.HelmRelease) (*helmChart, *fleet.Problem) {
	switch {
	case hr.Spec.Chart != nil:
		s := hr.Spec.Chart.Spec
		ns := s.SourceRef.Namespace
		if ns == "" {
			ns = u.Namespace
		}
		return r.chartFromSource(ctx, u, j, chartSpec{kind: s.SourceRef.Kind, namespace: ns, name: s.SourceRef.Name,
			chart: s.Chart, version: s.Version, valuesFiles: s.ValuesFiles, ignoreMissingValuesFile: s.IgnoreMissingValuesFiles})
	case hr.Spec.ChartRef != nil:
		ref := hr.Spec.ChartRef
		ns := ref.Namespace
		if ns == "" {
			ns = u.Namespace
		}
		what := fleet.ObjectRef(ref.Kind, ns, ref.Name)
		switch ref.Kind {
		case "HelmChart":
			// The HelmChart source-controller builds: its sourceRef is in
			// its namespace.
			hc := r.lookupAny(j, "HelmChart", ns, ref.Name)
			if hc == nil {
				p := r.problem(u, fleet.RuleSourceNotFound, fleet.SeverityError, fmt.Sprintf("chartRef %s is not defined in the repository", what))
				return nil, &p
			}
			s := chartSpec{namespace: ns}
			s.kind, _, _ = unstructured.NestedString(hc, "spec", "sourceRef", "kind")
			s.name, _, _ = unstructured.NestedString(hc, "spec", "sourceRef", "name")
			s.chart, _, _ = unstructured.NestedString(hc, "spec", "chart")
			s.version, _, _ = unstructured.NestedString(hc, "spec", "version")
			s.valuesFiles, _, _ = unstructured.NestedStringSlice(hc, "spec", "valuesFiles")
			s.ignoreMissingValuesFile, _, _ = unstructured.NestedBool(hc, "spec", "ignoreMissingValuesFiles")
			if s.chart == "" || s.kind == "" || s.name == "" {
				p := r.problem(u, fleet.RuleRenderFailed, fleet.SeverityError, fmt.Sprintf("chartRef %s: spec.chart and spec.sourceRef must be set", what))
				return nil, &p
			}
			ch, prob := r.chartFromSource(ctx, u, j, s)
			if prob != nil {
				p := *prob
				p.Message = "chartRef " + what + ": " + p.Message
				return nil, &p
			}
			return ch, nil
		case "OCIRepository":
			oci := r.lookupAny(j, ref.Kind, ns, ref.Name)
			if oci == nil {
				p := r.problem(u, fleet.RuleSourceNotFound, fleet.SeverityError, fmt.Sprintf("chartRef %s is not defined in the repository", what))
				return nil, &p
			}
			access, err := r.sourceAccess(j, ref.Kind, oci)
			if err != nil {
				p := r.problem(u, fleet.RuleRenderFailed, fleet.SeverityError, fmt.Sprintf("chartRef %s: %v", what, err))
				return nil, &p
			}
			ch, err := r.ociRepositoryChart(ctx, oci, access)
			if err != nil {
				return nil, r.fetchProblem(u, "chartRef "+what, err)
			}
			return ch, nil
		}
		p := r.problem(u, fleet.RuleRenderFailed, fleet.SeverityError,
			fmt.Sprintf("chartRef %s: kind must be OCIRepository or HelmChart", what))
		return nil, &p
	}
	p := r.problem(u, fleet.RuleRenderFailed, fleet.SeverityError, "spec.chart or spec.chartRef must be set")
	return nil, &p
}

// chartFromSource loads a chart as source-controller builds a HelmChart:
// from a chart repository (HelmRepository, HTTP or OCI), or from a
// directory of a source that maps to the tree (GitRepository, Bucket),
// with its missing dependencies fetched.
func (r *renderer) chartFromSource(ctx context.Context, u *Unit, j job, s chartSpec) (*helmChart, *fleet.Problem) {
	if s.kind == "HelmRepository" {
		what := fleet.ObjectRef(s.kind, s.namespace, s.name)
		repo := r.lookupAny(j, s.kind, s.namespace, s.name)
		if repo == nil {
			p := r.problem(u, fleet.RuleSourceNotFound, fleet.SeverityError,
				fmt.Sprintf("sourceRef %s is not defined in the repository", what))
			return nil, &p
		}
		prefix := fmt.Sprintf("chart %s %s from %s", s.chart, displayVersion(s.version), what)
		access, err := r.sourceAccess(j, s.kind, repo)
		if err != nil {
			p := r.problem(u, fleet.RuleRenderFailed, fleet.SeverityError, prefix+": "+err.Error())
			return nil, &p
		}
		url, _, _ := unstructured.NestedString(repo, "spec", "url")
		typ, _, _ := unstructured.NestedString(repo, "spec", "type")
		var ch *helmChart
		if typ == "oci" || strings.HasPrefix(url, "oci://") {
			ch, err = r.ociChart(ctx, strings.TrimSuffix(url, "/")+"/"+s.chart, s.version, access)
		} else {
			ch, err = r.remoteChart(ctx, chartRepo{url: url, access: access}, s.chart, s.version)
		}
		if err != nil {
			return nil, r.fetchProblem(u, prefix, err)
		}
		if err := applyValuesFiles(ch.chart, s.valuesFiles, s.ignoreMissingValuesFile); err != nil {
			p := r.problem(u, fleet.RuleRenderFailed, fleet.SeverityError, err.Error())
			return nil, &p
		}
		return ch, nil
	}
	src := r.repo.ResolveSourceIn(j.cluster, s.kind, s.namespace, s.name, &fleet.Document{File: u.File, Line: u.Line, Kind: u.Kind, Namespace: u.Namespace, Name: u.Name})
	if src.Problem != nil {
		return nil, src.Problem
	}
	rel := path.Clean("./" + strings.TrimPrefix(s.chart, "/"))
	if rel == ".." || strings.HasPrefix(rel, "../") {
		p := r.problem(u, fleet.RulePathEscape, fleet.SeverityError, fmt.Sprintf("spec.chart.spec.chart %q leaves the source root", s.chart))
		return nil, &p
	}
	dir := path.Join(src.Dir, rel)
	if !r.repo.IsDir(dir) {
		p := r.problem(u, fleet.RulePathNotFound, fleet.SeverityError,
			fmt.Sprintf("chart %q does not exist in source %s (%s)", s.chart, fleet.ObjectRef(s.kind, s.namespace, s.name), dir))
		return nil, &p
	}
	c, err := r.loadLocalChart(dir)
	if err != nil {
		p := r.problem(u, fleet.RuleRenderFailed, fleet.SeverityError, err.Error())
		return nil, &p
	}
	// source-controller reads the values files of a chart in a source
	// from the source's root.
	if err := r.applySourceValuesFiles(c, src.Dir, s.valuesFiles, s.ignoreMissingValuesFile); err != nil {
		p := r.problem(u, fleet.RuleRenderFailed, fleet.SeverityError, fmt.Sprintf("chart %s: %v", dir, err))
		return nil, &p
	}
	h := sha256.New()
	for _, f := range c.Raw {
		fmt.Fprintf(h, "%s\x00%d\x00", f.Name, len(f.Data))
		h.Write(f.Data)
	}
	deps, err := r.buildDependencies(ctx, j, c, src.Dir, dir, s.namespace)
	if err != nil {
		return nil, r.fetchProblem(u, fmt.Sprintf("chart %s: dependencies", dir), err)
	}
	for _, d := range deps {
		fmt.Fprintf(h, "dependency\x00%s\x00", d)
	}
	return &helmChart{chart: c, path: dir, digest: hex.EncodeToString(h.Sum(nil))}, nil
}

func displayVersion(v string) string {
	if v == "" {
		return "*"
	}
	return v
}

// lookupAny finds an object a HelmRelease refers to (its chart source):
// see lookup; every unit of the cluster is searched in the second pass,
// which mustDefer sends HelmReleases with unresolved references to.
func (r *renderer) lookupAny(j job, kind, ns, name string) map[string]any {
	return r.lookup(j.parent, kind, ns, name, j.cluster, r.isFinal())
}

// helmValues merges values in helm-controller's order: valuesFrom in
// order (valuesKey default values.yaml, targetPath with Helm's --set
// parser), then spec.values. The chart defaults are merged by Helm.
func (r *renderer) helmValues(u *Unit, j job, hr *helmv2.HelmRelease) (map[string]any, []fleet.Problem) {
	result := map[string]any{}
	var problems []fleet.Problem
	for _, ref := range hr.Spec.ValuesFrom {
		obj, problem := r.referenced(u, j, ref.Kind, ref.Name, nil)
		if problem != nil {
			problems = append(problems, *problem)
		}
		what := fleet.ObjectRef(ref.Kind, u.Namespace, ref.Name)
		if obj == nil {
			if !ref.Optional {
				problems = append(problems, r.problem(u, fleet.RuleSourceUnavailable, fleet.SeverityWarning,
					fmt.Sprintf("valuesFrom %s is not in the repository; helm-controller fails unless it exists in the cluster; rendered without it", what)))
			}
			continue
		}
		key := ref.ValuesKey
		if key == "" {
			key = "values.yaml"
		}
		data, ok := dataOf(ref.Kind, obj)[key]
		if ok && ref.Kind == "Secret" && data != EncryptedPlaceholder {
			u.Sensitive = append(u.Sensitive, data)
		}
		if !ok {
			if !ref.Optional {
				problems = append(problems, r.problem(u, fleet.RuleRenderFailed, fleet.SeverityError,
					fmt.Sprintf("valuesFrom %s has no key %q", what, key)))
			}
			continue
		}
		if ref.TargetPath != "" {
			if err := replacePathValue(result, ref.TargetPath, data); err != nil {
				problems = append(problems, r.problem(u, fleet.RuleRenderFailed, fleet.SeverityError,
					fmt.Sprintf("valuesFrom %s targetPath %q: %v", what, ref.TargetPath, err)))
			}
			continue
		}
		v, err := chartutil.ReadValues([]byte(data))
		if err != nil {
			problems = append(problems, r.problem(u, fleet.RuleRenderFailed, fleet.SeverityError,
				fmt.Sprintf("valuesFrom %s key %q is not valid YAML: %v", what, key, err)))
			continue
		}
		result = mergeMaps(result, v)
	}
	if hr.Spec.Values != nil && len(hr.Spec.Values.Raw) > 0 {
		var v map[string]any
		if err := json.Unmarshal(hr.Spec.Values.Raw, &v); err != nil {
			problems = append(problems, r.problem(u, fleet.RuleRenderFailed, fleet.SeverityError, fmt.Sprintf("spec.values: %v", err)))
		} else {
			result = mergeMaps(result, v)
		}
	}
	return result, problems
}

// replacePathValue sets value at path the way helm-controller does: with
// Helm's --set parser, as a string when the value is quoted.
func replacePathValue(values map[string]any, targetPath, value string) error {
	const single, double = "'", `"`
	if (strings.HasPrefix(value, single) && strings.HasSuffix(value, single)) ||
		(strings.HasPrefix(value, double) && strings.HasSuffix(value, double)) {
		return strvals.ParseIntoString(targetPath+"="+strings.Trim(value, single+double), values)
	}
	return strvals.ParseInto(targetPath+"="+value, values)
}

// mergeMaps merges b into a copy of a, recursively for maps; b wins.
func mergeMaps(a, b map[string]any) map[string]any {
	out := make(map[string]any, len(a))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if bm, ok := v.(map[string]any); ok {
			if am, ok := out[k].(map[string]any); ok {
				out[k] = mergeMaps(am, bm)
				continue
			}
		}
		out[k] = v
	}
	return out
}

// helmTemplate runs a client-only dry-run install and returns the release's
// objects: manifests (CRDs first when the CRD policy installs them) then
// hooks.
func (r *renderer) helmTemplate(ctx context.Context, hr *helmv2.HelmRelease, c *chart.Chart, vals map[string]any) ([]*Object, error) {
	kv := r.opts.KubernetesVersion
	if kv == "" {
		kv = DefaultKubernetesVersion
	}
	kubeVersion, err := chartutil.ParseKubeVersion(kv)
	if err != nil {
		return nil, fmt.Errorf("kubernetes version %q: %w", kv, err)
	}
	install := action.NewInstall(&action.Configuration{Log: func(string, ...any) {}})
	install.DryRun = true
	install.ClientOnly = true
	install.Replace = true
	install.ReleaseName = releaseName(hr)
	install.Namespace = hr.GetReleaseNamespace()
	install.KubeVersion = kubeVersion
	install.DisableOpenAPIValidation = true
	policy := helmv2.Create
	if hr.Spec.Install != nil && hr.Spec.Install.CRDs != "" {
		policy = hr.Spec.Install.CRDs
	}
	// The chart's crds/ are applied apart from the release, as
	// helm-controller does: never post-rendered nor labelled.
	install.IncludeCRDs = false
	var templates *templateRecorder
	if pr := postRenderers(hr); pr != nil {
		templates = &templateRecorder{next: pr}
		install.PostRenderer = templates
	}
	rel, err := install.RunWithContext(ctx, c, vals)
	if err != nil {
		return nil, err
	}
	releaseNS := install.Namespace
	var objs []*Object
	if policy != helmv2.Skip {
		for _, crd := range c.CRDObjects() {
			o, err := manifestObjects(string(crd.File.Data), crd.Filename)
			if err != nil {
				return nil, err
			}
			objs = append(objs, o...)
		}
	}
	crds := len(objs)
	m := releaseutil.SplitManifests(rel.Manifest)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Sort(releaseutil.BySplitManifestsOrder(keys))
	for _, k := range keys {
		o, err := manifestObjects(m[k], "")
		if err != nil {
			return nil, err
		}
		if templates != nil {
			// Post-renderers drop the "# Source:" comments.
			for _, x := range o {
				if x.Template == "" {
					x.Template = templates.template(x.Object)
				}
			}
		}
		objs = append(objs, o...)
	}
	for _, o := range objs[crds:] {
		// helm-controller's post-renderer labels every object of the release.
		u := unstructured.Unstructured{Object: o.Object}
		labels := u.GetLabels()
		if labels == nil {
			labels = map[string]string{}
		}
		labels[helmNameLabel] = hr.Name
		labels[helmNamespaceLabel] = hr.Namespace
		u.SetLabels(labels)
		if cm := hr.Spec.CommonMetadata; cm != nil {
			// helm-controller's commonMetadata post-renderer.
			meta := map[string]any{}
			if len(cm.Labels) > 0 {
				meta["labels"] = stringMap(cm.Labels)
			}
			if len(cm.Annotations) > 0 {
				meta["annotations"] = stringMap(cm.Annotations)
			}
			setCommonMetadata(&u, meta)
		}
	}
	for _, h := range rel.Hooks {
		o, err := manifestObjects(h.Manifest, h.Path)
		if err != nil {
			return nil, err
		}
		objs = append(objs, o...)
	}
	// Helm applies namespaced objects without a namespace in the release
	// namespace.
	scopes := CRDScopes(objs)
	for _, o := range objs {
		u := unstructured.Unstructured{Object: o.Object}
		if u.GetNamespace() == "" && !IsClusterScoped(o.Object, scopes) {
			u.SetNamespace(releaseNS)
		}
	}
	return objs, nil
}

// manifestObjects parses one rendered manifest (possibly several
// documents) into objects, with the template named by its "# Source:"
// comment (or source when given).
func manifestObjects(manifest, source string) ([]*Object, error) {
	var out []*Object
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
		out = append(out, &Object{Object: obj, Template: tmpl})
	}
	return out, nil
}

// cacheDir is the chart cache directory.
func (r *renderer) cacheDir() (string, error) {
	if r.opts.CacheDir != "" {
		return r.opts.CacheDir, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "fluxgate", "charts"), nil
}

func stringMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
