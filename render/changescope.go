package render

import (
	"path"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/fluxgate/fluxgate/fleet"
)

// outOfScope decides, with Options.Scope, whether the change can reach the
// unit; it marks the unit affected, or Skipped when it need not be built.
// The decision depends only on the unit's ancestors and on both
// revisions, so it is the same in the renders of both.
func (r *renderer) outOfScope(u *Unit, j job) bool {
	sc := r.opts.Scope
	if sc == nil {
		return false
	}
	if j.parent != nil && j.parent.affected {
		u.affected = true
		return false
	}
	if j.hr != nil {
		u.affected = r.helmReleaseAffected(j)
		u.Skipped = !u.affected
		return u.Skipped
	}
	u.affected = sc.Touches(u.Path)
	if j.ks != nil {
		if refs, _, _ := unstructured.NestedSlice(j.ks, "spec", "postBuild", "substituteFrom"); len(refs) > 0 && sc.ValuesChanged() {
			u.affected = true
		}
	}
	u.Skipped = !u.affected && sc.Leaf(u.Path)
	return u.Skipped
}

// helmReleaseAffected tells whether the change can reach a HelmRelease
// whose declaration is unchanged: through its values, its chart's source,
// or its chart's files in this repository.
func (r *renderer) helmReleaseAffected(j job) bool {
	sc := r.opts.Scope
	if refs, _, _ := unstructured.NestedSlice(j.hr, "spec", "valuesFrom"); len(refs) > 0 && sc.ValuesChanged() {
		return true
	}
	if sc.SourcesChanged() {
		return true
	}
	if _, ok, _ := unstructured.NestedMap(j.hr, "spec", "chartRef"); ok {
		// An OCIRepository's chart is fetched by digest or tag, the same on
		// both sides unless the source changed; a HelmChart may build from
		// files of this repository.
		kind, _, _ := unstructured.NestedString(j.hr, "spec", "chartRef", "kind")
		return kind != "OCIRepository"
	}
	kind, _, _ := unstructured.NestedString(j.hr, "spec", "chart", "spec", "sourceRef", "kind")
	if kind != "GitRepository" && kind != "Bucket" {
		return false // a chart repository's chart, by name and version
	}
	name, _, _ := unstructured.NestedString(j.hr, "spec", "chart", "spec", "sourceRef", "name")
	ns, _, _ := unstructured.NestedString(j.hr, "spec", "chart", "spec", "sourceRef", "namespace")
	if ns == "" {
		ns, _, _ = unstructured.NestedString(j.hr, "metadata", "namespace")
	}
	src := r.repo.ResolveSourceIn(j.cluster, kind, ns, name, &fleet.Document{File: j.file, Line: j.line})
	if src.Problem != nil {
		return true // the build reports it
	}
	chart, _, _ := unstructured.NestedString(j.hr, "spec", "chart", "spec", "chart")
	dirs := []string{path.Join(src.Dir, strings.TrimPrefix(chart, "/"))}
	files, _, _ := unstructured.NestedStringSlice(j.hr, "spec", "chart", "spec", "valuesFiles")
	for _, f := range files {
		dirs = append(dirs, path.Join(src.Dir, strings.TrimPrefix(f, "/")))
	}
	for _, d := range dirs {
		if sc.TouchesTree(d) {
			return true
		}
	}
	return false
}
