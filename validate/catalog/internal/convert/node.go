package convert

import (
	"fmt"
	"strings"
)

// nullableMarker is set, during conversion, beside a $ref that stands for
// an optional property. The property must then also accept null, which
// only the referenced definition's type can say; Kubernetes resolves the
// marker once every definition is converted (see resolveNullable).
const nullableMarker = "$nullable"

// Keywords kept as they are: JSON schema draft 4 validation keywords that
// take plain values.
var plainKeywords = map[string]bool{
	"$ref":             true,
	"type":             true,
	"format":           true,
	"enum":             true,
	"required":         true,
	"pattern":          true,
	"minLength":        true,
	"maxLength":        true,
	"minimum":          true,
	"maximum":          true,
	"exclusiveMinimum": true,
	"exclusiveMaximum": true,
	"multipleOf":       true,
	"minItems":         true,
	"maxItems":         true,
	"uniqueItems":      true,
	"minProperties":    true,
	"maxProperties":    true,
}

// Keywords whose values are schemas (or maps or lists of them). Every
// other keyword (description, default, example, title, nullable,
// x-kubernetes-*, ...) is dropped from the output; nullable and the
// x-kubernetes extensions that change validation are interpreted first.
var schemaKeywords = map[string]bool{
	"properties":           true,
	"patternProperties":    true,
	"items":                true,
	"additionalProperties": true,
	"additionalItems":      true,
	"allOf":                true,
	"anyOf":                true,
	"oneOf":                true,
	"not":                  true,
	"dependencies":         true,
}

// converter turns OpenAPI v3 schemas, as Kubernetes publishes them and as
// CustomResourceDefinitions carry them, into strict JSON schema draft 4:
//
//   - objects with properties and no additionalProperties get
//     "additionalProperties": false, unless x-kubernetes-preserve-unknown-fields
//     is true;
//   - int-or-string (format int-or-string, x-kubernetes-int-or-string)
//     becomes "type": ["integer", "string"];
//   - a oneOf/anyOf of bare types (Quantity: string or number) becomes a
//     type list;
//   - nullable: true, and every property not listed in required, also
//     accepts null, as the API server does (it decodes null as absent for
//     built-in types and prunes it for custom resources);
//   - descriptions, defaults, examples and extensions are dropped;
//   - "#/components/schemas/X" references become "#/definitions/X".
//
// Inside allOf/anyOf/oneOf/not nothing is made strict or nullable: those
// branches only add constraints to the enclosing object, whose own
// properties they do not repeat.
type converter struct {
	refPrefix string // prefix of $ref values to rewrite to "#/definitions/"
}

func (c *converter) schema(path string, n any, junctor bool) (any, error) {
	m, ok := n.(map[string]any)
	if !ok {
		if b, isBool := n.(bool); isBool {
			return b, nil
		}
		return nil, fmt.Errorf("%s: schema is a %T, not an object", path, n)
	}
	if ref, ok := singleRef(m); ok {
		return c.ref(path, ref)
	}

	out := map[string]any{}
	for k, v := range m {
		switch {
		case plainKeywords[k]:
			if k == "$ref" {
				r, err := c.ref(path, v)
				if err != nil {
					return nil, err
				}
				out[k] = r.(map[string]any)["$ref"]
				continue
			}
			if (k == "required" || k == "enum") && isEmptyList(v) {
				continue // draft 4 requires these lists to be non-empty
			}
			out[k] = v
		case schemaKeywords[k]:
			conv, err := c.keyword(path, k, v, junctor)
			if err != nil {
				return nil, err
			}
			out[k] = conv
		}
	}

	if isTrue(m["x-kubernetes-int-or-string"]) || m["format"] == "int-or-string" {
		out["type"] = []any{"integer", "string"}
		if out["format"] == "int-or-string" {
			delete(out, "format")
		}
		for _, k := range []string{"anyOf", "oneOf"} {
			if types, ok := bareTypes(out[k]); ok && subset(types, "integer", "string") {
				delete(out, k)
			}
		}
	}
	if _, hasType := out["type"]; !hasType {
		for _, k := range []string{"oneOf", "anyOf"} {
			if types, ok := bareTypes(out[k]); ok && distinctTypes(types) {
				list := make([]any, len(types))
				for i, t := range types {
					list[i] = t
				}
				out["type"] = list
				delete(out, k)
				break
			}
		}
	}
	if isTrue(m["nullable"]) {
		addNull(out)
	}
	if junctor {
		return out, nil
	}

	props, hasProps := out["properties"].(map[string]any)
	if hasProps {
		required := map[string]bool{}
		if list, ok := out["required"].([]any); ok {
			for _, r := range list {
				if s, ok := r.(string); ok {
					required[s] = true
				}
			}
		}
		for name, p := range props {
			if required[name] {
				continue
			}
			if pm, ok := p.(map[string]any); ok {
				if _, isRef := pm["$ref"]; isRef {
					pm[nullableMarker] = true
				} else {
					addNull(pm)
				}
			}
		}
		if isTrue(m["x-kubernetes-embedded-resource"]) {
			for name, typ := range map[string]string{"apiVersion": "string", "kind": "string", "metadata": "object"} {
				if _, ok := props[name]; !ok {
					props[name] = map[string]any{"type": typ}
				}
			}
		}
		if _, ok := out["additionalProperties"]; !ok && !isTrue(m["x-kubernetes-preserve-unknown-fields"]) {
			out["additionalProperties"] = false
		}
	}
	return out, nil
}

// keyword converts the value of a keyword that holds schemas.
func (c *converter) keyword(path, k string, v any, junctor bool) (any, error) {
	p := path + "/" + k
	switch k {
	case "properties", "patternProperties":
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: %T, not an object", p, v)
		}
		out := make(map[string]any, len(m))
		for name, s := range m {
			conv, err := c.schema(p+"/"+name, s, junctor)
			if err != nil {
				return nil, err
			}
			out[name] = conv
		}
		return out, nil
	case "dependencies":
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: %T, not an object", p, v)
		}
		out := make(map[string]any, len(m))
		for name, s := range m {
			if list, isList := s.([]any); isList {
				out[name] = list
				continue
			}
			conv, err := c.schema(p+"/"+name, s, true)
			if err != nil {
				return nil, err
			}
			out[name] = conv
		}
		return out, nil
	case "allOf", "anyOf", "oneOf":
		list, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("%s: %T, not a list", p, v)
		}
		out := make([]any, len(list))
		for i, s := range list {
			conv, err := c.schema(fmt.Sprintf("%s/%d", p, i), s, true)
			if err != nil {
				return nil, err
			}
			out[i] = conv
		}
		return out, nil
	case "not":
		return c.schema(p, v, true)
	case "items":
		if list, ok := v.([]any); ok {
			out := make([]any, len(list))
			for i, s := range list {
				conv, err := c.schema(fmt.Sprintf("%s/%d", p, i), s, junctor)
				if err != nil {
					return nil, err
				}
				out[i] = conv
			}
			return out, nil
		}
		return c.schema(p, v, junctor)
	default: // additionalProperties, additionalItems: a schema or a bool
		return c.schema(p, v, junctor)
	}
}

// ref rewrites a reference to a definition.
func (c *converter) ref(path string, v any) (any, error) {
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("%s: $ref is a %T", path, v)
	}
	name, ok := strings.CutPrefix(s, c.refPrefix)
	if c.refPrefix == "" || !ok || name == "" {
		return nil, fmt.Errorf("%s: unsupported $ref %q", path, s)
	}
	return map[string]any{"$ref": "#/definitions/" + name}, nil
}

// singleRef reports whether m is a reference and nothing else that
// validates: {"$ref": X} or {"allOf": [{"$ref": X}]}, with any number of
// non-validating siblings (description, default, x-kubernetes-*), which is
// how Kubernetes' OpenAPI v3 spec points at a definition.
func singleRef(m map[string]any) (any, bool) {
	var ref any
	for k, v := range m {
		switch {
		case k == "$ref":
			ref = v
		case k == "allOf":
			list, ok := v.([]any)
			if !ok || len(list) != 1 {
				return nil, false
			}
			inner, ok := list[0].(map[string]any)
			if !ok || len(inner) != 1 || inner["$ref"] == nil {
				return nil, false
			}
			ref = inner["$ref"]
		case plainKeywords[k] || schemaKeywords[k]:
			return nil, false
		case k == "nullable" && isTrue(v):
			return nil, false
		}
	}
	return ref, ref != nil
}

// addNull lets a schema with a type also accept null.
func addNull(m map[string]any) {
	switch t := m["type"].(type) {
	case string:
		if t == "null" {
			return
		}
		m["type"] = []any{t, "null"}
	case []any:
		for _, x := range t {
			if x == "null" {
				return
			}
		}
		m["type"] = append(append([]any{}, t...), "null")
	default:
		return
	}
	if enum, ok := m["enum"].([]any); ok {
		for _, x := range enum {
			if x == nil {
				return
			}
		}
		m["enum"] = append(append([]any{}, enum...), nil)
	}
}

// bareTypes returns the types of a list of schemas that are each exactly
// {"type": T}.
func bareTypes(v any) ([]string, bool) {
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		return nil, false
	}
	types := make([]string, 0, len(list))
	for _, s := range list {
		m, ok := s.(map[string]any)
		if !ok || len(m) != 1 {
			return nil, false
		}
		t, ok := m["type"].(string)
		if !ok {
			return nil, false
		}
		types = append(types, t)
	}
	return types, true
}

// distinctTypes reports whether a value can match at most one of types, so
// that oneOf over them means the same as a type list.
func distinctTypes(types []string) bool {
	seen := map[string]bool{}
	for _, t := range types {
		if seen[t] {
			return false
		}
		seen[t] = true
	}
	return !(seen["integer"] && seen["number"])
}

func subset(types []string, allowed ...string) bool {
	for _, t := range types {
		ok := false
		for _, a := range allowed {
			ok = ok || t == a
		}
		if !ok {
			return false
		}
	}
	return true
}

func isTrue(v any) bool { b, ok := v.(bool); return ok && b }

func isEmptyList(v any) bool { l, ok := v.([]any); return ok && len(l) == 0 }
