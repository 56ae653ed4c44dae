package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/fluxgate/fluxgate/validate/catalog"
)

// TestCatalogCommand: catalog lists every embedded operator with its
// module@version and kinds, in text and JSON, and version -o json carries
// the same listing.
func TestCatalogCommand(t *testing.T) {
	ops := catalog.Ecosystem()
	if len(ops) == 0 {
		t.Fatal("the embedded ecosystem catalog is empty")
	}
	out, stderr, code := run(t, "catalog")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	kinds := 0
	for _, op := range ops {
		if !strings.Contains(out, op.Name+" "+op.Module+"@"+op.Version+":") {
			t.Errorf("text lacks %s %s@%s", op.Name, op.Module, op.Version)
		}
		for _, k := range op.Kinds {
			if !strings.Contains(out, "  "+k.GVK) {
				t.Errorf("text lacks kind %s", k.GVK)
			}
		}
		kinds += len(op.Kinds)
	}
	if !strings.Contains(out, "operators, ") || !strings.Contains(out, " kinds\n") {
		t.Errorf("no totals line:\n%s", out)
	}
	js, _, code := run(t, "catalog", "-o", "json")
	var got []catalog.Operator
	if err := json.Unmarshal([]byte(js), &got); code != 0 || err != nil || len(got) != len(ops) {
		t.Fatalf("json: exit %d, %v, %d operators", code, err, len(got))
	}
	vjs, _, _ := run(t, "version", "-o", "json")
	var v struct {
		Catalog []catalog.Operator `json:"catalog"`
	}
	if err := json.Unmarshal([]byte(vjs), &v); err != nil || len(v.Catalog) != len(ops) {
		t.Errorf("version -o json catalog: %v, %d operators", err, len(v.Catalog))
	}
	n := 0
	for _, op := range v.Catalog {
		n += len(op.Kinds)
	}
	if n != kinds {
		t.Errorf("version lists %d kinds, catalog %d", n, kinds)
	}
	if _, _, code := run(t, "catalog", "-o", "yaml"); code != 2 {
		t.Errorf("-o yaml: exit %d, want 2", code)
	}
}
