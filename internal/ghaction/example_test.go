package ghaction_test

import (
	"fmt"
	"os"

	"github.com/fluxgate/fluxgate/internal/ghaction"
)

func ExampleEnv_Error() {
	env := &ghaction.Env{Getenv: os.Getenv, Stdout: os.Stdout}
	env.Error(ghaction.Annotation{File: "clusters/prod/apps.yaml", Line: 12, Title: "schema-invalid"},
		"Kustomization/flux-system/apps: spec.interval: required")
	// Output:
	// ::error file=clusters/prod/apps.yaml,line=12,title=schema-invalid::Kustomization/flux-system/apps: spec.interval: required
}

func ExampleInputVar() {
	fmt.Println(ghaction.InputVar("kubernetes-version"))
	// Output:
	// INPUT_KUBERNETES-VERSION
}
