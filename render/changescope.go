package render

import (
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
		u.affected = sc.HelmReleaseReached(j.cluster, j.hr, &fleet.Document{File: j.file, Line: j.line})
		u.Skipped = !u.affected
		return u.Skipped
	}
	u.affected = sc.TouchesBuild(u.Path, j.ks)
	if j.ks != nil {
		if refs, _, _ := unstructured.NestedSlice(j.ks, "spec", "postBuild", "substituteFrom"); len(refs) > 0 && sc.ValuesChanged() {
			u.affected = true
		}
	}
	// Left out with its descendants when none of them can differ either;
	// not when its variables may come from a build's output, which any
	// build may change.
	u.Skipped = !u.affected && (j.ks == nil || sc.StaticValues(j.ks)) &&
		(sc.Leaf(u.Path, j.ks) || sc.Quiet(j.cluster, u.Path, j.ks))
	return u.Skipped
}

// unchangedUnit returns, for a unit the change does not reach, the same
// unit of the render of the other revision (Options.Reuse), whose output
// and children it has: the head of a diff takes it as it is. It returns
// nil when there is none to take, or when the unit's variables may come
// from another build's output.
func (r *renderer) unchangedUnit(u *Unit, j job) *Unit {
	if r.opts.Scope == nil || u.affected || (j.ks != nil && !r.opts.Scope.StaticValues(j.ks)) {
		return nil
	}
	b := r.opts.Reuse.kept().unit(u.Cluster, u.ID)
	if b == nil || b.affected || b.Skipped || b.Failed || b.Parent != u.Parent || b.File != u.File || b.Line != u.Line || b.Path != u.Path {
		return nil
	}
	r.stats.reused.Add(1)
	return b
}
