package render_test

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/internal/testenv"
	"github.com/fluxgate/fluxgate/render"
)

// TestScopedRenderSharesUnreachedUnits: rendering the head of a change
// with the base's render and the change's scope, a unit the change does
// not reach is the base's own unit, one it reaches is rendered anew, and
// the output is what a render of the head alone gives.
func TestScopedRenderSharesUnreachedUnits(t *testing.T) {
	base := t.TempDir()
	testenv.CopyTree(t, filepath.Join(fleets, "fleet-infra"), base)
	head := t.TempDir()
	testenv.CopyTree(t, filepath.Join(fleets, "fleet-infra"), head)
	replaceIn(t, filepath.Join(head, "teams/team-a/configmap.yaml"), "#34577c", "#ff0000")

	baseRepo, _ := renderDirOpts(t, base, render.Options{})
	headRepo, fresh := renderDirOpts(t, head, render.Options{})
	scope := fleet.NewChangeScope(baseRepo, headRepo, []string{"teams/team-a/configmap.yaml"})
	_, first := renderDirOpts(t, base, render.Options{Scope: scope, KeepBuilds: true})
	_, again := renderDirOpts(t, head, render.Options{Scope: scope, Reuse: first})

	baseUnits := map[string]*render.Unit{}
	for _, u := range first.Units {
		baseUnits[u.Cluster+" "+u.ID] = u
	}
	shared := 0
	for _, u := range again.Units {
		b := baseUnits[u.Cluster+" "+u.ID]
		switch {
		case u.ID == "Kustomization/team-a/team-a":
			if b == u {
				t.Errorf("%s %s: the unit the change reaches is the base's", u.Cluster, u.ID)
			}
		case b == u:
			shared++
		}
	}
	if shared == 0 {
		t.Error("no unit out of the change's reach was taken from the base render")
	}
	// Units out of the change's reach and not built are left out of both
	// scoped renders; the others are what a render of the head gives.
	want := map[string]*render.Unit{}
	for _, u := range fresh.Units {
		want[u.Cluster+" "+u.ID] = u
	}
	for _, u := range again.Units {
		if u.Skipped {
			continue
		}
		w := want[u.Cluster+" "+u.ID]
		if w == nil {
			t.Errorf("%s %s: not in a render of the head", u.Cluster, u.ID)
			continue
		}
		if diff := cmp.Diff(dumpUnit(w), dumpUnit(u)); diff != "" {
			t.Errorf("%s %s differs from a render of the head (-head +scoped):\n%s", u.Cluster, u.ID, diff)
		}
	}
}
