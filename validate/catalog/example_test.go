package catalog_test

import (
	"fmt"
	"strings"

	"github.com/fluxgate/fluxgate/validate/catalog"
)

func ExampleSchema() {
	schema, ok := catalog.Schema("1.36", "apps/v1", "Deployment")
	fmt.Println(ok, strings.Contains(string(schema), `"additionalProperties":false`))

	// Flux schemas do not depend on the Kubernetes version.
	_, ok = catalog.Schema("", "kustomize.toolkit.fluxcd.io/v1", "Kustomization")
	fmt.Println(ok)

	// Removed APIs are not there.
	_, ok = catalog.Schema("", "policy/v1beta1", "PodSecurityPolicy")
	fmt.Println(ok)
	// Output:
	// true true
	// true
	// false
}

func ExampleFromCRD() {
	crd := map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1",
		"kind":       "CustomResourceDefinition",
		"metadata":   map[string]any{"name": "widgets.example.com"},
		"spec": map[string]any{
			"group": "example.com",
			"names": map[string]any{"kind": "Widget", "plural": "widgets"},
			"scope": "Namespaced",
			"versions": []any{map[string]any{
				"name": "v1", "served": true, "storage": true,
				"schema": map[string]any{"openAPIV3Schema": map[string]any{
					"type":       "object",
					"properties": map[string]any{"spec": map[string]any{"type": "object"}},
				}},
			}},
		},
	}
	schemas, err := catalog.FromCRD(crd)
	if err != nil {
		fmt.Println(err)
		return
	}
	for gvk := range schemas {
		fmt.Println(gvk)
	}
	// Output: example.com/v1/Widget
}
