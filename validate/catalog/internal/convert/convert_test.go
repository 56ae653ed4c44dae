package convert

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"
)

// jsonOf decodes a JSON literal for comparisons.
func jsonOf(t *testing.T, s string) any {
	t.Helper()
	v, err := Decode([]byte(s))
	if err != nil {
		t.Fatalf("bad JSON literal %s: %v", s, err)
	}
	return v
}

func canonicalString(t *testing.T, v any) string {
	t.Helper()
	b, err := Canonical(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestKubernetesDefinitions(t *testing.T) {
	defs, kinds, err := Kubernetes([][]byte{readTestdata(t, "apps_v1.json"), readTestdata(t, "core_v1.json")})
	if err != nil {
		t.Fatal(err)
	}
	wantKinds := map[string]string{
		"apps/v1/Widget":        "io.k8s.api.apps.v1.Widget",
		"v1/Tree":               "io.k8s.api.core.v1.Tree",
		"apps/v1/DeleteOptions": "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
		"v1/DeleteOptions":      "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
	}
	if diff := cmp.Diff(wantKinds, kinds); diff != "" {
		t.Errorf("kinds (-want +got):\n%s", diff)
	}
	tests := []struct {
		name string
		want string
	}{
		{
			// allOf-wrapped references collapse; optional ones carry the
			// target's type plus null, required ones nothing; descriptions,
			// defaults and extensions go; the object is strict.
			name: "io.k8s.api.apps.v1.Widget",
			want: `{"additionalProperties":false,"properties":{
				"apiVersion":{"type":["string","null"]},
				"kind":{"type":["string","null"]},
				"metadata":{"$ref":"#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta","type":["object","null"]},
				"spec":{"$ref":"#/definitions/io.k8s.api.apps.v1.WidgetSpec"}},
				"required":["spec"],"type":"object"}`,
		},
		{
			name: "io.k8s.api.apps.v1.WidgetSpec",
			want: `{"additionalProperties":false,"properties":{
				"mode":{"enum":["Fast","Slow",null],"type":["string","null"]},
				"name":{"type":"string"},
				"port":{"$ref":"#/definitions/io.k8s.apimachinery.pkg.util.intstr.IntOrString","type":["integer","string","null"]},
				"replicas":{"format":"int32","type":["integer","null"]},
				"resources":{"additionalProperties":{"$ref":"#/definitions/io.k8s.apimachinery.pkg.api.resource.Quantity"},"type":["object","null"]}},
				"required":["name"],"type":"object"}`,
		},
		{name: "io.k8s.apimachinery.pkg.util.intstr.IntOrString", want: `{"type":["integer","string"]}`},
		{name: "io.k8s.apimachinery.pkg.api.resource.Quantity", want: `{"type":["string","number"]}`},
		{name: "io.k8s.apimachinery.pkg.runtime.RawExtension", want: `{"type":"object"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := canonicalString(t, defs[tt.name])
			want := canonicalString(t, jsonOf(t, tt.want))
			if got != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
}

func TestKubernetesRejectsConflictingDefinitions(t *testing.T) {
	a := `{"components":{"schemas":{"X":{"type":"object"}}}}`
	b := `{"components":{"schemas":{"X":{"type":"string"}}}}`
	if _, _, err := Kubernetes([][]byte{[]byte(a), []byte(b)}); err == nil || !strings.Contains(err.Error(), "differs") {
		t.Fatalf("got %v, want a conflict error", err)
	}
}

func lookupDefs(defs map[string]any) Lookup {
	return func(name string) (map[string]any, bool) {
		m, ok := defs[name].(map[string]any)
		return m, ok
	}
}

func TestExpand(t *testing.T) {
	defs, _, err := Kubernetes([][]byte{readTestdata(t, "apps_v1.json"), readTestdata(t, "core_v1.json")})
	if err != nil {
		t.Fatal(err)
	}
	before := canonicalString(t, defs)
	got, err := Expand("io.k8s.api.apps.v1.WidgetSpec", lookupDefs(defs))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"additionalProperties":false,"properties":{
		"mode":{"enum":["Fast","Slow",null],"type":["string","null"]},
		"name":{"type":"string"},
		"port":{"type":["integer","string","null"]},
		"replicas":{"format":"int32","type":["integer","null"]},
		"resources":{"additionalProperties":{"type":["string","number"]},"type":["object","null"]}},
		"required":["name"],"type":"object"}`
	if g, w := canonicalString(t, got), canonicalString(t, jsonOf(t, want)); g != w {
		t.Errorf("got  %s\nwant %s", g, w)
	}
	if after := canonicalString(t, defs); after != before {
		t.Error("Expand modified the definitions it read")
	}
}

func TestExpandRecursive(t *testing.T) {
	defs, _, err := Kubernetes([][]byte{readTestdata(t, "core_v1.json")})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Expand("io.k8s.api.core.v1.Tree", lookupDefs(defs))
	if err != nil {
		t.Fatal(err)
	}
	// The outer Tree and its Node are inlined; Node refers to itself, so
	// it is also placed under definitions, and an optional reference to it
	// accepts null around the $ref.
	want := `{"additionalProperties":false,"properties":{
		"apiVersion":{"type":["string","null"]},
		"kind":{"type":["string","null"]},
		"root":{"additionalProperties":false,"properties":{
			"children":{"items":{"$ref":"#/definitions/io.k8s.api.core.v1.Node"},"type":["array","null"]},
			"next":{"anyOf":[{"type":"null"},{"$ref":"#/definitions/io.k8s.api.core.v1.Node"}]},
			"value":{"type":["string","null"]}},"type":["object","null"]}},
		"type":"object",
		"definitions":{"io.k8s.api.core.v1.Node":{"additionalProperties":false,"properties":{
			"children":{"items":{"$ref":"#/definitions/io.k8s.api.core.v1.Node"},"type":["array","null"]},
			"next":{"anyOf":[{"type":"null"},{"$ref":"#/definitions/io.k8s.api.core.v1.Node"}]},
			"value":{"type":["string","null"]}},"type":"object"}}}`
	if g, w := canonicalString(t, got), canonicalString(t, jsonOf(t, want)); g != w {
		t.Errorf("got  %s\nwant %s", g, w)
	}
}

func TestExpandUnknownReference(t *testing.T) {
	defs := map[string]any{"A": map[string]any{"$ref": "#/definitions/B"}}
	if _, err := Expand("A", lookupDefs(defs)); err == nil {
		t.Fatal("want an error for a reference to a missing definition")
	}
}

var objectMeta = map[string]any{
	"type":                 "object",
	"additionalProperties": false,
	"properties": map[string]any{
		"name":   map[string]any{"type": []any{"string", "null"}},
		"labels": map[string]any{"type": []any{"object", "null"}, "additionalProperties": map[string]any{"type": "string"}},
	},
}

func crdFromYAML(t *testing.T, name string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal(readTestdata(t, name), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestCRD(t *testing.T) {
	got, err := CRD(crdFromYAML(t, "crd.yaml"), objectMeta)
	if err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(got))
	for k := range got {
		keys = append(keys, k)
	}
	// v1alpha1 is not served.
	if diff := cmp.Diff([]string{"example.com/v1/Gadget"}, keys); diff != "" {
		t.Fatalf("versions (-want +got):\n%s", diff)
	}
	want := `{"$schema":"http://json-schema.org/draft-04/schema#","additionalProperties":false,"properties":{
		"apiVersion":{"enum":["example.com/v1"],"type":"string"},
		"kind":{"enum":["Gadget"],"type":"string"},
		"metadata":{"additionalProperties":false,"properties":{
			"labels":{"additionalProperties":{"type":"string"},"type":["object","null"]},
			"name":{"allOf":[{"type":["string","null"]},{"maxLength":20}]}},"type":"object"},
		"spec":{"additionalProperties":false,"properties":{
			"config":{"type":["object","null"]},
			"extra":{"additionalProperties":false,"properties":{"known":{"type":["string","null"]}},"type":["object","null"]},
			"free":{"properties":{"known":{"type":["string","null"]}},"type":["object","null"]},
			"level":{"enum":["low","high",null],"type":["string","null"]},
			"port":{"pattern":"^[0-9a-z]+$","type":["integer","string","null"]},
			"size":{"minimum":1,"type":"integer"},
			"template":{"additionalProperties":false,"properties":{
				"apiVersion":{"type":"string"},"kind":{"type":"string"},"metadata":{"type":"object"},
				"spec":{"type":["object","null"]}},"type":["object","null"]},
			"when":{"format":"date-time","type":["string","null"]},
			"choice":{"oneOf":[{"required":["a"]},{"properties":{"b":{"type":"string"}},"required":["b"]}],
				"properties":{"a":{"type":["string","null"]},"b":{"type":["string","null"]}},
				"additionalProperties":false,"type":["object","null"]}},
			"required":["size"],"type":"object"},
		"status":{"type":["object","null"]}},
		"required":["spec"],"type":"object"}`
	if g, w := string(got["example.com/v1/Gadget"]), canonicalString(t, jsonOf(t, want)); g != w {
		t.Errorf("got  %s\nwant %s", g, w)
	}
}

func TestCRDErrors(t *testing.T) {
	tests := []struct {
		name string
		crd  map[string]any
	}{
		{name: "not a CRD", crd: map[string]any{"apiVersion": "v1", "kind": "ConfigMap"}},
		{name: "v1beta1", crd: map[string]any{"apiVersion": "apiextensions.k8s.io/v1beta1", "kind": "CustomResourceDefinition"}},
		{name: "no versions", crd: map[string]any{"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
			"spec": map[string]any{"group": "example.com", "names": map[string]any{"kind": "Gadget"}}}},
		{name: "not JSON", crd: map[string]any{"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "x": make(chan int)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := CRD(tt.crd, objectMeta); err == nil {
				t.Fatal("want an error")
			}
		})
	}
}

// buildFile builds a catalog File from the fixtures the way gen does.
func buildFile(t *testing.T) []byte {
	t.Helper()
	var f File
	for _, v := range []string{"v1.2.3", "v1.10.0"} {
		defs, kinds, err := Kubernetes([][]byte{readTestdata(t, "apps_v1.json"), readTestdata(t, "core_v1.json")})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.AddRelease(v, defs, kinds); err != nil {
			t.Fatal(err)
		}
	}
	schemas, err := CRD(crdFromYAML(t, "crd.yaml"), objectMeta)
	if err != nil {
		t.Fatal(err)
	}
	f.Flux = map[string]string{}
	for gvk, data := range schemas {
		v, err := Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		if f.Flux[gvk], err = f.AddSchema(v); err != nil {
			t.Fatal(err)
		}
	}
	f.Sources = []string{"fixture"}
	data, err := f.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestGenerationIsDeterministic(t *testing.T) {
	a, b := buildFile(t), buildFile(t)
	if !bytes.Equal(a, b) {
		t.Fatal("two builds from the same inputs differ")
	}
	f, err := DecodeFile(a)
	if err != nil {
		t.Fatal(err)
	}
	if got := []string{f.Kubernetes[0].Version, f.Kubernetes[1].Version}; !cmp.Equal(got, []string{"1.10.0", "1.2.3"}) {
		t.Errorf("releases not newest first: %v", got)
	}
	// Identical definitions of the two releases are stored once.
	if n := len(f.Kubernetes[0].Definitions); len(f.Schemas) > n+1 {
		t.Errorf("%d schemas stored for %d definitions and one CRD", len(f.Schemas), n)
	}
	again, err := f.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, again) {
		t.Error("decoding and encoding again changed the bytes")
	}
	// The CRD conversion alone, twice.
	x, _ := CRD(crdFromYAML(t, "crd.yaml"), objectMeta)
	y, _ := CRD(crdFromYAML(t, "crd.yaml"), objectMeta)
	if !cmp.Equal(x, y) {
		t.Error("two CRD conversions differ")
	}
}

func TestCanonical(t *testing.T) {
	got, err := Canonical(map[string]any{"b": "<&>", "a": json.Number("1.50"), "c": []any{nil, true}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"a":1.50,"b":"<&>","c":[null,true]}`; string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if _, err := Decode([]byte(`{} {}`)); err == nil {
		t.Error("Decode accepted trailing data")
	}
}

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1.37.2", "1.36.3", 1},
		{"1.9.0", "1.10.0", -1},
		{"1.36", "1.36.0", 0},
		{"1.36.3", "1.36.3", 0},
	}
	for _, tt := range tests {
		if got := CompareVersions(tt.a, tt.b); got != tt.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
