package render

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/strvals"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/render/cache"
	"github.com/fluxgate/fluxgate/render/helm"
	"github.com/fluxgate/fluxgate/render/kustomize"
)

// DefaultKubernetesVersion is the Kubernetes version Helm charts see when
// Options.KubernetesVersion is empty.
const DefaultKubernetesVersion = "1.37.0"

// Labels helm-controller's post-renderer sets on every object of a release.
const (
	helmNameLabel      = "helm.toolkit.fluxcd.io/name"
	helmNamespaceLabel = "helm.toolkit.fluxcd.io/namespace"
)

// fetchProblem turns a chart fetch error into chart-unavailable (a
// warning: Flux would fetch it) or render-failed.
func (r *renderer) fetchProblem(u *Unit, prefix string, err error) *fleet.Problem {
	if errors.Is(err, helm.ErrUnavailable) {
		msg := strings.Replace(err.Error(), helm.ErrUnavailable.Error()+": ", "", 1)
		p := r.problem(u, fleet.RuleChartUnavailable, fleet.SeverityWarning, prefix+": "+msg)
		return &p
	}
	p := r.problem(u, fleet.RuleRenderFailed, fleet.SeverityError, prefix+": "+err.Error())
	return &p
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
	u.Path = ch.Path
	vals, probs := r.helmValues(u, j, &hr)
	u.Problems = append(u.Problems, probs...)
	vb, _ := json.Marshal(vals)
	u.Hash = hashInputs(j.hr, []string{"chart:" + ch.Digest, "values:" + string(vb)}, nil)

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
		objs, err = r.helmTemplate(ctx, &hr, ch.Chart, vals)
		r.stats.built.Add(1)
		if err != nil {
			r.fail(u, fmt.Errorf("render HelmRelease %s (%s:%d) chart %s: %w", u.ID, u.File, u.Line, ch.Path, err))
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

// chartSpec is where a chart comes from: a HelmRelease's
// spec.chart.spec or a HelmChart's spec.
type chartSpec struct {
	kind, namespace, name   string
	chart, version          string
	valuesFiles             []string
	ignoreMissingValuesFile bool
}

// helmChart finds and loads the HelmRelease's chart.
func (r *renderer) helmChart(ctx context.Context, u *Unit, j job, hr *helmv2.HelmRelease) (*helm.Chart, *fleet.Problem) {
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
				r.fromProviderSet(j.cluster, ref.Kind, ns, ref.Name, &p)
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
				r.fromProviderSet(j.cluster, ref.Kind, ns, ref.Name, &p)
				return nil, &p
			}
			access, err := r.sourceAccess(j, ref.Kind, oci)
			if err != nil {
				p := r.problem(u, fleet.RuleRenderFailed, fleet.SeverityError, fmt.Sprintf("chartRef %s: %v", what, err))
				return nil, &p
			}
			ch, err := r.charts.OCIRepositoryChart(ctx, oci, access)
			if err != nil {
				return nil, r.fetchProblem(u, "chartRef "+what, err)
			}
			return ch, nil
		}
		if ref.Kind == "ExternalArtifact" {
			// helm-controller reads the chart at the artifact's root.
			ch, prob := r.chartFromSource(ctx, u, j, chartSpec{kind: ref.Kind, namespace: ns, name: ref.Name, chart: "."})
			if prob != nil {
				p := *prob
				if p.Object == u.ID && !strings.HasPrefix(p.Message, "chartRef ") {
					p.Message = "chartRef " + what + ": " + p.Message
				}
				return nil, &p
			}
			return ch, nil
		}
		p := r.problem(u, fleet.RuleRenderFailed, fleet.SeverityError,
			fmt.Sprintf("chartRef %s: kind must be OCIRepository, HelmChart or ExternalArtifact", what))
		return nil, &p
	}
	p := r.problem(u, fleet.RuleRenderFailed, fleet.SeverityError, "spec.chart or spec.chartRef must be set")
	return nil, &p
}

// chartFromSource loads a chart as source-controller builds a HelmChart:
// from a chart repository (HelmRepository, HTTP or OCI), or from a
// directory of a source that maps to the tree (GitRepository, Bucket),
// with its missing dependencies fetched.
func (r *renderer) chartFromSource(ctx context.Context, u *Unit, j job, s chartSpec) (*helm.Chart, *fleet.Problem) {
	if s.kind == "HelmRepository" {
		what := fleet.ObjectRef(s.kind, s.namespace, s.name)
		repo := r.lookupAny(j, s.kind, s.namespace, s.name)
		if repo == nil {
			p := r.problem(u, fleet.RuleSourceNotFound, fleet.SeverityError,
				fmt.Sprintf("sourceRef %s is not defined in the repository", what))
			r.fromProviderSet(j.cluster, s.kind, s.namespace, s.name, &p)
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
		var ch *helm.Chart
		if typ == "oci" || strings.HasPrefix(url, "oci://") {
			ch, err = r.charts.OCIChart(ctx, strings.TrimSuffix(url, "/")+"/"+s.chart, s.version, access)
		} else {
			ch, err = r.charts.RepositoryChart(ctx, url, access, s.chart, s.version)
		}
		if err != nil {
			return nil, r.fetchProblem(u, prefix, err)
		}
		if err := helm.ApplyValuesFiles(ch.Chart, s.valuesFiles, s.ignoreMissingValuesFile); err != nil {
			p := r.problem(u, fleet.RuleRenderFailed, fleet.SeverityError, err.Error())
			return nil, &p
		}
		return ch, nil
	}
	src := r.repo.ResolveSourceIn(j.cluster, s.kind, s.namespace, s.name, &fleet.Document{File: u.File, Line: u.Line, Kind: u.Kind, Namespace: u.Namespace, Name: u.Name})
	tree, isDir, display := r.chartTree(), r.repo.IsDir, func(dir string) string { return dir }
	if src.Problem != nil && s.kind == "ExternalArtifact" {
		if ga := r.repo.GeneratedArtifactIn(j.cluster, s.namespace, s.name); ga != nil {
			// An artifact laid out by its copy rules: the chart is read
			// from the staging directory.
			t := r.artifact(ctx, ga)
			if errors.Is(t.err, errUnsupported) {
				p := r.problem(u, fleet.RuleSourceUnavailable, fleet.SeverityWarning,
					fmt.Sprintf("ExternalArtifact %s of ArtifactGenerator %s (%s:%d): %v; the chart is not rendered",
						t.ref, t.gen.Ref(), t.gen.File, t.gen.Line, t.scrub(t.err)))
				return nil, &p
			}
			if t.err != nil {
				p := fleet.Problem{Rule: fleet.RuleRenderFailed, Severity: fleet.SeverityError,
					File: ga.Generator.File, Line: ga.Generator.Line, Object: ga.Generator.Ref(),
					Message: fmt.Sprintf("ExternalArtifact %s (needed by %s): %v", t.ref, u.ID, t.scrub(t.err))}
				return nil, &p
			}
			src = fleet.SourceResolution{Dir: "."}
			tree, isDir = helm.Tree{Root: t.root}, t.repo.IsDir
			display = func(dir string) string { return t.ref + ":" + dir }
		}
	}
	if src.Problem != nil {
		p := *src.Problem
		r.generatedSource(j, s.kind, s.namespace, s.name, &p)
		return nil, &p
	}
	rel := path.Clean("./" + strings.TrimPrefix(s.chart, "/"))
	if rel == ".." || strings.HasPrefix(rel, "../") {
		p := r.problem(u, fleet.RulePathEscape, fleet.SeverityError, fmt.Sprintf("spec.chart.spec.chart %q leaves the source root", s.chart))
		return nil, &p
	}
	dir := path.Join(src.Dir, rel)
	if !isDir(dir) {
		p := r.problem(u, fleet.RulePathNotFound, fleet.SeverityError,
			fmt.Sprintf("chart %q does not exist in source %s (%s)", s.chart, fleet.ObjectRef(s.kind, s.namespace, s.name), display(dir)))
		return nil, &p
	}
	c, err := tree.LoadChart(dir)
	if err != nil {
		p := r.problem(u, fleet.RuleRenderFailed, fleet.SeverityError, err.Error())
		return nil, &p
	}
	// source-controller reads the values files of a chart in a source
	// from the source's root.
	if err := tree.ApplySourceValuesFiles(c, src.Dir, s.valuesFiles, s.ignoreMissingValuesFile); err != nil {
		p := r.problem(u, fleet.RuleRenderFailed, fleet.SeverityError, fmt.Sprintf("chart %s: %v", display(dir), err))
		return nil, &p
	}
	deps, err := r.charts.BuildDependencies(ctx, tree, c, src.Dir, dir, func(nURL string) (*helm.Access, error) {
		if repo := r.helmRepositoryFor(j, s.namespace, nURL); repo != nil {
			return r.sourceAccess(j, "HelmRepository", repo)
		}
		return nil, nil
	})
	if err != nil {
		return nil, r.fetchProblem(u, fmt.Sprintf("chart %s: dependencies", display(dir)), err)
	}
	return &helm.Chart{Chart: c, Path: display(dir), Digest: helm.Digest(c, deps)}, nil
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
		if ref.Kind == "Secret" && data != EncryptedPlaceholder {
			// The chart places single values, not the whole document.
			u.Sensitive = append(u.Sensitive, valueLeaves(v.AsMap(), nil)...)
		}
		result = helm.MergeMaps(result, v)
	}
	if hr.Spec.Values != nil && len(hr.Spec.Values.Raw) > 0 {
		var v map[string]any
		if err := json.Unmarshal(hr.Spec.Values.Raw, &v); err != nil {
			problems = append(problems, r.problem(u, fleet.RuleRenderFailed, fleet.SeverityError, fmt.Sprintf("spec.values: %v", err)))
		} else {
			result = helm.MergeMaps(result, v)
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

// helmTemplate runs a client-only dry-run install and returns the release's
// objects: manifests (CRDs first when the CRD policy installs them) then
// hooks, labelled and namespaced as helm-controller applies them.
func (r *renderer) helmTemplate(ctx context.Context, hr *helmv2.HelmRelease, c *chart.Chart, vals map[string]any) ([]*Object, error) {
	kv := r.opts.KubernetesVersion
	if kv == "" {
		kv = DefaultKubernetesVersion
	}
	rel, err := helm.Template(ctx, hr, c, vals, helm.TemplateOptions{KubeVersion: kv, Kustomize: postRenderBuild})
	if err != nil {
		return nil, err
	}
	objs := docObjects(nil, rel.CRDs)
	crds := len(objs)
	objs = docObjects(objs, rel.Manifests)
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
			kustomize.SetCommonMetadata(&u, meta)
		}
	}
	objs = docObjects(objs, rel.Hooks)
	// Helm applies namespaced objects without a namespace in the release
	// namespace.
	scopes := CRDScopes(objs)
	for _, o := range objs {
		u := unstructured.Unstructured{Object: o.Object}
		if u.GetNamespace() == "" && !IsClusterScoped(o.Object, scopes) {
			u.SetNamespace(rel.Namespace)
		}
	}
	return objs, nil
}

// docObjects appends the objects of docs to objs.
func docObjects(objs []*Object, docs []helm.Doc) []*Object {
	for _, d := range docs {
		objs = append(objs, &Object{Object: d.Object, Template: d.Template})
	}
	return objs
}

// postRenderBuild is the kustomize build of a HelmRelease's kustomize
// post-renderer: the same build as a Kustomization's, plugins off.
func postRenderBuild(fsys filesys.FileSystem, dir string) ([]byte, error) {
	m, err := kustomize.Build(kustomize.NewFS(fsys, dir+"/.none", nil), dir, kustomize.Options{})
	if err != nil {
		return nil, err
	}
	return m.AsYaml()
}

// chartTree is the repository as local charts are read from it.
func (r *renderer) chartTree() helm.Tree {
	return helm.Tree{Root: r.opts.Dir, Need: r.need}
}

// HelmCredentialsEnv returns the prefix of the environment variables that
// hold the credentials of the chart source namespace/name:
// FLUXGATE_HELM_<NAMESPACE>_<NAME>, followed by _USERNAME, _PASSWORD,
// _CA_FILE, _CERT_FILE or _KEY_FILE.
func HelmCredentialsEnv(namespace, name string) string {
	return helm.CredentialsEnv(namespace, name)
}

func stringMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// valueLeaves appends the scalar values below v, each as written and in
// base64 (a chart's b64enc), to out.
func valueLeaves(v any, out []string) []string {
	switch t := v.(type) {
	case map[string]any:
		for _, e := range t {
			out = valueLeaves(e, out)
		}
	case []any:
		for _, e := range t {
			out = valueLeaves(e, out)
		}
	case nil:
	default:
		s := fmt.Sprint(t)
		out = append(out, s, base64.StdEncoding.EncodeToString([]byte(s)))
	}
	return out
}
