package convert

import (
	"fmt"
	"reflect"
	"sort"
)

const gvkExtension = "x-kubernetes-group-version-kind"

// Kubernetes converts the OpenAPI v3 documents of one Kubernetes release
// (api/openapi-spec/v3/*.json in the k8s.io/kubernetes module) into strict
// JSON schema definitions that still refer to each other with
// "#/definitions/NAME", and the apiVersion/kind index: "apps/v1/Deployment"
// (core kinds as "v1/ConfigMap") to the name of its definition.
//
// The documents repeat shared definitions; a name must mean the same schema
// in every document, except for its x-kubernetes-group-version-kind list,
// which is merged (DeleteOptions and WatchEvent list the group versions of
// the document they are in).
func Kubernetes(docs [][]byte) (defs map[string]any, kinds map[string]string, err error) {
	raw := map[string]map[string]any{}
	gvks := map[string][]any{}
	for i, doc := range docs {
		v, err := Decode(doc)
		if err != nil {
			return nil, nil, fmt.Errorf("document %d: %w", i, err)
		}
		schemas, _ := lookup(v, "components", "schemas").(map[string]any)
		for name, s := range schemas {
			m, ok := s.(map[string]any)
			if !ok {
				return nil, nil, fmt.Errorf("document %d: definition %s is a %T", i, name, s)
			}
			list, _ := m[gvkExtension].([]any)
			m = withoutKey(m, gvkExtension)
			if prev, ok := raw[name]; ok && !reflect.DeepEqual(prev, m) {
				return nil, nil, fmt.Errorf("definition %s differs between documents", name)
			}
			raw[name] = m
			gvks[name] = append(gvks[name], list...)
		}
	}

	c := &converter{refPrefix: "#/components/schemas/"}
	defs = make(map[string]any, len(raw))
	for name, m := range raw {
		conv, err := c.schema(name, m, false)
		if err != nil {
			return nil, nil, err
		}
		defs[name] = conv
	}
	for name, d := range defs {
		if err := resolveNullable(defs, name, d); err != nil {
			return nil, nil, err
		}
	}

	kinds = map[string]string{}
	names := make([]string, 0, len(gvks))
	for name := range gvks {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, g := range gvks[name] {
			gm, _ := g.(map[string]any)
			group, _ := gm["group"].(string)
			version, _ := gm["version"].(string)
			kind, _ := gm["kind"].(string)
			if version == "" || kind == "" {
				return nil, nil, fmt.Errorf("definition %s: malformed %s %v", name, gvkExtension, g)
			}
			key := GVK(group, version, kind)
			if prev, ok := kinds[key]; ok && prev != name {
				return nil, nil, fmt.Errorf("%s is both %s and %s", key, prev, name)
			}
			kinds[key] = name
		}
	}
	return defs, kinds, nil
}

// GVK is the catalog's key for a kind: "group/version/Kind", or
// "version/Kind" for the core group.
func GVK(group, version, kind string) string {
	if group == "" {
		return version + "/" + kind
	}
	return group + "/" + version + "/" + kind
}

// resolveNullable replaces every nullable marker beside a $ref with the
// referenced definition's type (and enum) plus null, which the inliner
// lays over the inlined definition.
func resolveNullable(defs map[string]any, where string, n any) error {
	var err error
	walkSchemas(n, func(t map[string]any) {
		if !isTrue(t[nullableMarker]) {
			return
		}
		delete(t, nullableMarker)
		ref, _ := t["$ref"].(string)
		target, ok := defs[refName(ref)].(map[string]any)
		if !ok {
			if err == nil {
				err = fmt.Errorf("definition %s: reference to unknown %s", where, ref)
			}
			return
		}
		over := map[string]any{}
		for _, k := range []string{"type", "enum"} {
			if v, ok := target[k]; ok {
				over[k] = clone(v)
			}
		}
		if _, ok := over["type"]; ok {
			addNull(over)
			for k, v := range over {
				t[k] = v
			}
		}
	})
	return err
}

// walkSchemas calls fn on n and on every schema nested in it, following
// only the keywords that hold schemas (so that a property named "enum" is
// a schema, and the values of an enum are not).
func walkSchemas(n any, fn func(map[string]any)) {
	m, ok := n.(map[string]any)
	if !ok {
		return
	}
	fn(m)
	for k, v := range m {
		switch k {
		case "properties", "patternProperties", "dependencies", "definitions":
			if mm, ok := v.(map[string]any); ok {
				for _, s := range mm {
					walkSchemas(s, fn)
				}
			}
		case "allOf", "anyOf", "oneOf", "items":
			if list, ok := v.([]any); ok {
				for _, s := range list {
					walkSchemas(s, fn)
				}
			} else {
				walkSchemas(v, fn)
			}
		case "not", "additionalProperties", "additionalItems":
			walkSchemas(v, fn)
		}
	}
}

func lookup(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func withoutKey(m map[string]any, key string) map[string]any {
	if _, ok := m[key]; !ok {
		return m
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		if k != key {
			out[k] = v
		}
	}
	return out
}
