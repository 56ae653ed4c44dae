package fleet_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/fluxgate/fluxgate/fleet"
)

// ExampleLoad loads the fleet-infra example repository through an os.Root
// (symlinks cannot leave it) and prints its cluster entry points.
func ExampleLoad() {
	root, err := os.OpenRoot("../testdata/fleets/fleet-infra")
	if err != nil {
		log.Fatal(err)
	}
	defer root.Close()

	repo, err := fleet.Load(context.Background(), root.FS(), fleet.Options{})
	if err != nil {
		log.Fatal(err)
	}
	for _, dir := range repo.EntryPoints() {
		fmt.Println(dir)
	}
	for _, p := range repo.Problems {
		fmt.Println(p)
	}
	// Output:
	// clusters/production
	// clusters/staging
}

func ExampleProblem_String() {
	p := fleet.Problem{
		Rule:     fleet.RuleDependencyNotFound,
		Severity: fleet.SeverityWarning,
		File:     "clusters/production/apps.yaml",
		Line:     3,
		Object:   "Kustomization/flux-system/apps",
		Message:  "dependsOn Kustomization/flux-system/infra is not defined in the repository",
	}
	fmt.Println(p)
	// Output:
	// clusters/production/apps.yaml:3: warning: Kustomization/flux-system/apps: dependsOn Kustomization/flux-system/infra is not defined in the repository [dependency-not-found]
}
