package main

import (
	"strings"
	"testing"
)

func crd(description, typ string) crdFile {
	return crdFile{file: "x.yaml", doc: map[string]any{
		"metadata": map[string]any{"name": "widgets.example.com"},
		"spec": map[string]any{"versions": []any{map[string]any{
			"name": "v1", "served": true, "storage": true,
			"schema": map[string]any{"openAPIV3Schema": map[string]any{
				"description": description,
				"type":        "object",
				"properties": map[string]any{
					"spec": map[string]any{"type": typ, "description": description},
					// A property named description is a schema, kept.
					"description": map[string]any{"type": "string"},
				},
			}},
		}}},
	}}
}

func TestCompareCRDs(t *testing.T) {
	if err := compareCRDs([]crdFile{crd("one", "object")}, []crdFile{crd("two", "object")}); err != nil {
		t.Errorf("CRDs that differ only in descriptions: %v", err)
	}
	err := compareCRDs([]crdFile{crd("one", "object")}, []crdFile{crd("one", "string")})
	if err == nil || !strings.Contains(err.Error(), "widgets.example.com v1") {
		t.Errorf("CRDs with different schemas: got %v, want a difference on widgets.example.com v1", err)
	}
	if err := compareCRDs([]crdFile{crd("one", "object")}, nil); err == nil {
		t.Error("a missing CRD was not reported")
	}
	noProp := crd("one", "object")
	delete(noProp.doc["spec"].(map[string]any)["versions"].([]any)[0].(map[string]any)["schema"].(map[string]any)["openAPIV3Schema"].(map[string]any)["properties"].(map[string]any), "description")
	if err := compareCRDs([]crdFile{crd("one", "object")}, []crdFile{noProp}); err == nil {
		t.Error("a removed property named description was not reported")
	}
}
