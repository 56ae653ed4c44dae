package convert

import (
	"fmt"
)

// CRD converts a CustomResourceDefinition (apiextensions.k8s.io/v1, as
// decoded JSON) into one strict standalone schema per served version,
// keyed "group/version/Kind". objectMeta is the standalone schema used for
// the metadata of every object (Kubernetes' ObjectMeta); it is copied, not
// modified.
//
// Each version's openAPIV3Schema is converted as described on converter;
// apiVersion and kind are pinned to the version's values, and metadata is
// objectMeta, combined with whatever the CRD itself says about metadata
// (CRDs may only restrict name and generateName). A served version without
// a schema accepts any object.
func CRD(crd map[string]any, objectMeta map[string]any) (map[string][]byte, error) {
	n, err := Normalize(crd)
	if err != nil {
		return nil, fmt.Errorf("CustomResourceDefinition is not JSON: %w", err)
	}
	doc, _ := n.(map[string]any)
	name, _ := lookup(doc, "metadata", "name").(string)
	if api := doc["apiVersion"]; api != "apiextensions.k8s.io/v1" || doc["kind"] != "CustomResourceDefinition" {
		return nil, fmt.Errorf("CustomResourceDefinition %s: want apiextensions.k8s.io/v1 CustomResourceDefinition, got %v %v", name, api, doc["kind"])
	}
	group, _ := lookup(doc, "spec", "group").(string)
	kind, _ := lookup(doc, "spec", "names", "kind").(string)
	versions, _ := lookup(doc, "spec", "versions").([]any)
	if group == "" || kind == "" || len(versions) == 0 {
		return nil, fmt.Errorf("CustomResourceDefinition %s: spec.group, spec.names.kind and spec.versions are required", name)
	}

	out := map[string][]byte{}
	c := &converter{}
	for i, v := range versions {
		vm, _ := v.(map[string]any)
		version, _ := vm["name"].(string)
		if version == "" {
			return nil, fmt.Errorf("CustomResourceDefinition %s: spec.versions[%d].name is empty", name, i)
		}
		if !isTrue(vm["served"]) {
			continue
		}
		apiVersion := group + "/" + version
		var root map[string]any
		if s, ok := lookup(vm, "schema", "openAPIV3Schema").(map[string]any); ok {
			conv, err := c.schema("", s, false)
			if err != nil {
				return nil, fmt.Errorf("CustomResourceDefinition %s version %s: %w", name, version, err)
			}
			root = conv.(map[string]any)
		} else {
			root = map[string]any{"type": "object"}
		}
		props, _ := root["properties"].(map[string]any)
		if props == nil {
			props = map[string]any{}
			root["properties"] = props
		}
		props["apiVersion"] = map[string]any{"type": "string", "enum": []any{apiVersion}}
		props["kind"] = map[string]any{"type": "string", "enum": []any{kind}}
		props["metadata"] = metadataSchema(objectMeta, props["metadata"])
		root["$schema"] = Draft4
		data, err := Canonical(root)
		if err != nil {
			return nil, err
		}
		out[GVK(group, version, kind)] = data
	}
	return out, nil
}

// metadataSchema is objectMeta with the CRD's own constraints on
// metadata fields added.
func metadataSchema(objectMeta map[string]any, crdMeta any) map[string]any {
	meta := clone(objectMeta).(map[string]any)
	delete(meta, "$schema")
	cm, _ := crdMeta.(map[string]any)
	cprops, _ := cm["properties"].(map[string]any)
	mprops, _ := meta["properties"].(map[string]any)
	if len(cprops) == 0 || mprops == nil {
		return meta
	}
	for name, s := range cprops {
		sm, _ := s.(map[string]any)
		sm = withoutKey(sm, "type") // objectMeta's type (maybe with null) holds
		if len(sm) == 0 {
			continue
		}
		if base, ok := mprops[name]; ok {
			mprops[name] = map[string]any{"allOf": []any{base, sm}}
		}
	}
	return meta
}
