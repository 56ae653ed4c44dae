package promote

import (
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestFleetInfraWithoutConfig plans staging → production on the
// fleet-infra layout with no configuration: the image tags that differ
// between the apps overlays move, and the overlays that pin the same
// versions (clusters, infrastructure) change nothing.
func TestFleetInfraWithoutConfig(t *testing.T) {
	plan, err := Compute(os.DirFS("../testdata/fleets/fleet-infra"), Promotion{Name: "production", From: "staging", To: "production"})
	if err != nil {
		t.Fatal(err)
	}
	wantPairs := [][2]string{
		{"apps/staging", "apps/production"},
		{"clusters/staging", "clusters/production"},
		{"infrastructure/configs/staging", "infrastructure/configs/production"},
		{"infrastructure/controllers/staging", "infrastructure/controllers/production"},
	}
	if d := cmp.Diff(wantPairs, plan.Pairs); d != "" {
		t.Errorf("pairs (-want +got):\n%s", d)
	}
	want := []Change{
		{Kind: KindImage, File: "apps/production/kustomization.yaml", Line: 13, Path: "images[0].newTag", Object: "Kustomization", Old: "1.4.2", New: "1.5.0-rc.1", Why: "image ghcr.io/example/backend:1.5.0-rc.1 at apps/staging/kustomization.yaml:12"},
		{Kind: KindImage, File: "apps/production/kustomization.yaml", Line: 15, Path: "images[1].newTag", Object: "Kustomization", Old: "2.7.3", New: "2.8.0-rc.3", Why: "image ghcr.io/example/frontend:2.8.0-rc.3 at apps/staging/kustomization.yaml:14"},
	}
	if d := cmp.Diff(want, plan.Changes); d != "" {
		t.Errorf("changes (-want +got):\n%s", d)
	}
	if len(plan.Problems) != 0 {
		t.Errorf("problems: %v", plan.Problems)
	}
	if len(plan.Edits) != 1 || plan.Edits[0].Path != "apps/production/kustomization.yaml" {
		t.Fatalf("edits: %+v", plan.Edits)
	}
}
