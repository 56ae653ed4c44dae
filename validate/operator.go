package validate

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/render"
	"github.com/fluxgate/fluxgate/validate/catalog"
)

// fluxInstanceGVK is the apiVersion/kind of the Flux Operator's
// FluxInstance: when the render holds one, the Flux CRDs in the cluster
// are the operator's distribution, not files of the repository.
const fluxInstanceGVK = "fluxcd.controlplane.io/v1/FluxInstance"

// operatorNotificationKinds are the kinds the Flux Operator adds to the
// kind enums of Alert spec.eventSources and Receiver spec.resources when
// it installs notification-controller (flux-operator
// internal/builder/profiles.go, the notification profile), so that
// alerts and receivers can name the operator's own objects.
var operatorNotificationKinds = []string{"FluxInstance", "ResourceSet", "ResourceSetInputProvider"}

// operatorEnumPaths are, per notification kind, the property path (from
// the schema root) of the kind enum the operator extends.
var operatorEnumPaths = map[string][]string{
	"Alert":    {"spec", "eventSources", "kind"},
	"Receiver": {"spec", "resources", "kind"},
}

// operatorSchemas are the schemas of the Flux kinds as a Flux Operator
// installs them: the catalog's, with the operator's notification patch,
// then the spec.kustomize.patches of the FluxInstances that target
// CustomResourceDefinitions, applied with kustomize to the CRDs made
// from them.
type operatorSchemas struct {
	// schemas by apiVersion/kind.
	schemas map[string][]byte
	// from names the FluxInstances, for messages.
	from string
	// problems are FluxInstances whose patches kustomize cannot apply
	// (the operator fails its build then).
	problems []Finding
}

// fluxInstances returns the rendered FluxInstances, in file order.
func (v *run) fluxInstances() []*render.Object {
	var out []*render.Object
	for _, u := range v.res.Units {
		for _, o := range u.Objects {
			if api, kind := o.GVK(); api+"/"+kind == fluxInstanceGVK {
				out = append(out, o)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].File != out[j].File {
			return out[i].File < out[j].File
		}
		return out[i].Line < out[j].Line
	})
	return out
}

// operatorDistribution builds the schemas of the Flux kinds the catalog
// holds as the Flux Operator of instances serves them.
func (v *run) operatorDistribution(instances []*render.Object) (*operatorSchemas, error) {
	crds, err := catalogCRDs(v.catalog, v.target)
	if err != nil {
		return nil, err
	}
	for _, crd := range crds {
		kind, _ := lookupPath(crd, "spec", "names", "kind").(string)
		path, ok := operatorEnumPaths[kind]
		if !ok {
			continue
		}
		versions, _ := lookupPath(crd, "spec", "versions").([]any)
		for _, ver := range versions {
			root, _ := lookupPath(ver, "schema", "openAPIV3Schema").(map[string]any)
			extendEnum(root, path, operatorNotificationKinds)
		}
	}
	out := &operatorSchemas{schemas: map[string][]byte{}}
	var names []string
	for _, o := range instances {
		names = append(names, o.Ref())
		patches := crdPatches(o.Value())
		if len(patches) == 0 {
			continue
		}
		patched, err := applyPatches(crds, patches)
		if err != nil {
			out.problems = append(out.problems, Finding{Rule: RuleRenderFailed, Severity: SeverityError, File: o.File,
				Line: v.repo.FieldLine(o.File, o.Line, []string{"spec", "kustomize", "patches"}), Object: o.Ref(),
				Message: fmt.Sprintf("spec.kustomize.patches cannot be applied to the Flux CRDs; the Flux Operator fails the FluxInstance build: %v", err)})
			continue
		}
		crds = patched
	}
	out.from = strings.Join(names, ", ")
	for _, crd := range crds {
		schemas, err := crdSchemas(crd)
		if err != nil {
			return nil, fmt.Errorf("Flux Operator distribution: %w", err)
		}
		for k, s := range schemas {
			out.schemas[k] = s
		}
	}
	return out, nil
}

// catalogCRDs makes a CustomResourceDefinition of every Flux kind the
// catalog holds, with its served versions in the order controller-gen
// writes them (by name), each version's schema the catalog's. The
// catalog's schemas are already strict; turning the CRD back into schemas
// gives them again, with what patches changed.
func catalogCRDs(schemas Schemas, target string) ([]map[string]any, error) {
	type crdKey struct{ group, kind string }
	versions := map[crdKey][]string{}
	var keys []crdKey
	for _, gvk := range catalog.Kinds(target) {
		api, kind := splitGVK(gvk)
		group, version, ok := strings.Cut(api, "/")
		if !ok || !fleet.IsFluxGroup(group) {
			continue
		}
		k := crdKey{group, kind}
		if _, seen := versions[k]; !seen {
			keys = append(keys, k)
		}
		versions[k] = append(versions[k], version)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].group != keys[j].group {
			return keys[i].group < keys[j].group
		}
		return keys[i].kind < keys[j].kind
	})
	var out []map[string]any
	for _, k := range keys {
		vs := versions[k]
		sort.Strings(vs)
		var list []any
		for _, ver := range vs {
			data, ok := schemas.Schema(k.group+"/"+ver, k.kind)
			if !ok {
				continue
			}
			var root map[string]any
			if err := json.Unmarshal(data, &root); err != nil {
				return nil, fmt.Errorf("catalog schema of %s/%s/%s: %w", k.group, ver, k.kind, err)
			}
			delete(root, "$schema")
			if props, ok := root["properties"].(map[string]any); ok {
				// FromCRD sets metadata to ObjectMeta again.
				props["metadata"] = map[string]any{"type": "object"}
			}
			list = append(list, map[string]any{"name": ver, "served": true, "storage": ver == vs[len(vs)-1],
				"schema": map[string]any{"openAPIV3Schema": root}})
		}
		if len(list) == 0 {
			continue
		}
		plural := pluralOf(k.kind)
		out = append(out, map[string]any{
			"apiVersion": "apiextensions.k8s.io/v1",
			"kind":       "CustomResourceDefinition",
			"metadata":   map[string]any{"name": plural + "." + k.group},
			"spec": map[string]any{
				"group":    k.group,
				"names":    map[string]any{"kind": k.kind, "plural": plural, "singular": strings.ToLower(k.kind), "listKind": k.kind + "List"},
				"scope":    "Namespaced",
				"versions": list,
			},
		})
	}
	return out, nil
}

// pluralOf is the resource name of a Flux kind (gitrepositories,
// imagepolicies, alerts).
func pluralOf(kind string) string {
	s := strings.ToLower(kind)
	if strings.HasSuffix(s, "y") {
		return strings.TrimSuffix(s, "y") + "ies"
	}
	return s + "s"
}

// extendEnum appends values missing from the enum of the property at path
// (through the items of arrays) in a schema.
func extendEnum(root map[string]any, path []string, values []string) {
	s := root
	for _, name := range path {
		props, _ := s["properties"].(map[string]any)
		next, _ := props[name].(map[string]any)
		if next == nil {
			return
		}
		if items, ok := next["items"].(map[string]any); ok {
			next = items
		}
		s = next
	}
	enum, ok := s["enum"].([]any)
	if !ok {
		return
	}
	for _, v := range values {
		found := false
		for _, e := range enum {
			found = found || e == v
		}
		if !found {
			enum = append(enum, v)
		}
	}
	s["enum"] = enum
}

// crdPatches returns the FluxInstance's spec.kustomize.patches that
// change CustomResourceDefinitions: those whose target kind is
// CustomResourceDefinition, and untargeted strategic merge patches of a
// CustomResourceDefinition. The others change controllers, not schemas.
func crdPatches(fi map[string]any) []any {
	list, _ := lookupPath(fi, "spec", "kustomize", "patches").([]any)
	var out []any
	for _, p := range list {
		pm, _ := p.(map[string]any)
		if pm == nil {
			continue
		}
		if target, ok := pm["target"].(map[string]any); ok {
			if target["kind"] == "CustomResourceDefinition" {
				out = append(out, pm)
			}
			continue
		}
		body, _ := pm["patch"].(string)
		var doc map[string]any
		if yaml.Unmarshal([]byte(body), &doc) == nil && doc["kind"] == "CustomResourceDefinition" {
			out = append(out, pm)
		}
	}
	return out
}

// applyPatches runs kustomize over crds with patches, in memory, as the
// operator builds its distribution with the FluxInstance's patches.
func applyPatches(crds []map[string]any, patches []any) ([]map[string]any, error) {
	fs := filesys.MakeFsInMemory()
	var docs []string
	for _, c := range crds {
		b, err := yaml.Marshal(c)
		if err != nil {
			return nil, err
		}
		docs = append(docs, string(b))
	}
	if err := fs.WriteFile("/crds.yaml", []byte(strings.Join(docs, "---\n"))); err != nil {
		return nil, err
	}
	k, err := yaml.Marshal(map[string]any{"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
		"resources": []any{"crds.yaml"}, "patches": patches})
	if err != nil {
		return nil, err
	}
	if err := fs.WriteFile("/kustomization.yaml", k); err != nil {
		return nil, err
	}
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fs, "/")
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	for _, res := range m.Resources() {
		b, err := res.MarshalJSON()
		if err != nil {
			return nil, err
		}
		var obj map[string]any
		if err := json.Unmarshal(b, &obj); err != nil {
			return nil, err
		}
		out = append(out, obj)
	}
	return out, nil
}

// lookupPath follows map keys from v.
func lookupPath(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}
