package diff_test

import (
	"encoding/json"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/fluxgate/fluxgate/diff"
	"github.com/fluxgate/fluxgate/render"
)

// FuzzCompare: any two objects compare without a panic, an object compared
// with itself is no change, and a Secret value never reaches the report.
func FuzzCompare(f *testing.F) {
	f.Add(deployA, deployB)
	f.Add(deployA, deployAReordered)
	f.Add(svc, "apiVersion: v1\nkind: Secret\nmetadata: {name: web, namespace: apps}\nstringData: {k: canary-Zm9v}\n")
	f.Add("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {a: \"x\\ny\"}\n", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {a: [1, {b: null}]}\n")
	f.Fuzz(func(t *testing.T, a, b string) {
		objA, okA := fuzzObject(a)
		objB, okB := fuzzObject(b)
		if !okA || !okB {
			return
		}
		unitOf := func(objs ...map[string]any) *render.Unit {
			u := &render.Unit{ID: "Kustomization/flux-system/apps", Cluster: "c", Kind: render.KindKustomization, File: "c/apps.yaml", Line: 1}
			for i, o := range objs {
				u.Objects = append(u.Objects, &render.Object{Object: o, File: "apps/file.yaml", Line: i + 1})
			}
			return u
		}
		rep := diff.Compare(&render.Result{Units: []*render.Unit{unitOf(objA)}}, &render.Result{Units: []*render.Unit{unitOf(objB)}}, diff.Options{})
		out, err := json.Marshal(rep)
		if err != nil {
			t.Fatalf("the report does not marshal: %v", err)
		}
		for _, o := range []map[string]any{objA, objB} {
			if o["kind"] != "Secret" {
				continue
			}
			for _, field := range []string{"data", "stringData"} {
				m, _ := o[field].(map[string]any)
				for _, v := range m {
					if s, ok := v.(string); ok && len(s) >= 12 && strings.Contains(string(out), s) {
						t.Fatalf("a Secret value %q is in the report:\n%s", s, out)
					}
				}
			}
		}
		same, _ := fuzzObject(a)
		if rep := diff.Compare(&render.Result{Units: []*render.Unit{unitOf(objA)}}, &render.Result{Units: []*render.Unit{unitOf(same)}}, diff.Options{}); rep.HasChanges() {
			t.Fatalf("an object compared with itself changed: %+v", rep.Units)
		}
	})
}

// fuzzObject decodes one object with the identity fields a render gives.
func fuzzObject(s string) (map[string]any, bool) {
	var obj map[string]any
	if yaml.Unmarshal([]byte(s), &obj) != nil || obj == nil {
		return nil, false
	}
	if _, ok := obj["kind"].(string); !ok {
		return nil, false
	}
	md, ok := obj["metadata"].(map[string]any)
	if !ok {
		return nil, false
	}
	if _, ok := md["name"].(string); !ok {
		return nil, false
	}
	return obj, true
}
