package validate_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/internal/testenv"
	"github.com/fluxgate/fluxgate/validate"
)

// TestReportUnits: the report lists every unit checked, passing ones
// too, each with the findings about it (its own problems, its objects'
// findings); a repository finding is in no unit's list.
func TestReportUnits(t *testing.T) {
	ks := func(name, path string) string {
		return "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: " + name +
			"\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./" + path +
			"\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
	}
	dir := testenv.WriteTree(t, map[string]string{
		"clusters/test/units.yaml":  ks("good", "good") + "---\n" + ks("bad", "bad") + "---\n" + ks("broken", "broken"),
		"good/cm.yaml":              "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: good\n  namespace: default\ndata:\n  a: b\n",
		"bad/deploy.yaml":           "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: default\nspec:\n  replica: 1\n",
		"broken/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - missing.yaml\n",
		"stray.yaml":                "key: [unclosed\n",
	})
	rep := run(t, dir, fleet.Options{}, validate.Options{})
	byID := map[string]validate.Unit{}
	for _, u := range rep.Units {
		byID[u.ID] = u
	}
	rules := func(id string) []string {
		var out []string
		for _, i := range byID[id].Findings {
			out = append(out, rep.Findings[i].Rule)
		}
		return out
	}
	for id, want := range map[string][]string{
		"Kustomization/flux-system/good":   nil,
		"Kustomization/flux-system/bad":    {validate.RuleSchemaInvalid, validate.RuleSchemaInvalid}, // two schema errors in one Deployment
		"Kustomization/flux-system/broken": {fleet.RuleRenderFailed},
	} {
		u, ok := byID[id]
		if !ok {
			t.Errorf("unit %s not listed: %+v", id, rep.Units)
			continue
		}
		if u.Cluster != "clusters/test" || u.File != "clusters/test/units.yaml" || u.Line == 0 {
			t.Errorf("unit %s: %+v", id, u)
		}
		if diff := cmp.Diff(want, rules(id)); diff != "" {
			t.Errorf("findings of %s (-want +got):\n%s\nall: %+v", id, diff, rep.Findings)
		}
	}
	if len(rep.Units) != rep.Summary.Units {
		t.Errorf("%d units listed, summary counts %d", len(rep.Units), rep.Summary.Units)
	}
	listed := map[int]bool{}
	for _, u := range rep.Units {
		for _, i := range u.Findings {
			listed[i] = true
		}
	}
	for i, f := range rep.Findings {
		if f.File == "stray.yaml" && listed[i] {
			t.Errorf("repository finding %+v is listed under a unit", f)
		}
	}
}
