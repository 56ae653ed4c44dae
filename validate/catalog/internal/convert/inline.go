package convert

import (
	"fmt"
	"sort"
	"strings"
)

// Draft4 is the $schema of every schema the catalog returns.
const Draft4 = "http://json-schema.org/draft-04/schema#"

// Lookup returns the definition with the given name, which the caller
// must not modify, and whether it exists.
type Lookup func(name string) (map[string]any, bool)

// Expand returns the definition name with every "#/definitions/X"
// reference replaced by a copy of X, so that the result is a standalone
// schema. Keywords beside a $ref are laid over the copy (the catalog uses
// that to make optional properties nullable). A definition that refers
// back to itself through its own expansion (CustomResourceDefinition's
// JSONSchemaProps) cannot be inlined; those are placed once under the
// result's "definitions" and referred to there, which keeps the document
// standalone. Expand never modifies what lookup returns.
func Expand(name string, lookup Lookup) (map[string]any, error) {
	e := &expander{lookup: lookup, onStack: map[string]bool{}, recursive: map[string]bool{}}
	root, err := e.ref(name, nil)
	if err != nil {
		return nil, err
	}
	rm, ok := root.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("definition %s is not an object", name)
	}
	definitions := map[string]any{}
	for {
		var todo []string
		for n := range e.recursive {
			if _, done := definitions[n]; !done {
				todo = append(todo, n)
			}
		}
		if len(todo) == 0 {
			break
		}
		sort.Strings(todo)
		for _, n := range todo {
			target, _ := lookup(n)
			e.onStack[n] = true
			d, err := e.node(target)
			e.onStack[n] = false
			if err != nil {
				return nil, err
			}
			definitions[n] = d
		}
	}
	if len(definitions) > 0 {
		rm["definitions"] = definitions
	}
	return rm, nil
}

type expander struct {
	lookup    Lookup
	onStack   map[string]bool
	recursive map[string]bool
}

func refName(ref string) string { return strings.TrimPrefix(ref, "#/definitions/") }

// ref expands a reference to name with the sibling keywords over.
func (e *expander) ref(name string, over map[string]any) (any, error) {
	if e.onStack[name] {
		e.recursive[name] = true
		r := map[string]any{"$ref": "#/definitions/" + name}
		if t, ok := over["type"].([]any); ok && contains(t, "null") {
			// A draft 4 $ref ignores its siblings: say "or null" around it.
			return map[string]any{"anyOf": []any{map[string]any{"type": "null"}, r}}, nil
		}
		return r, nil
	}
	target, ok := e.lookup(name)
	if !ok {
		return nil, fmt.Errorf("reference to unknown definition %s", name)
	}
	e.onStack[name] = true
	n, err := e.node(target)
	e.onStack[name] = false
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	m, ok := n.(map[string]any)
	if !ok {
		return n, nil
	}
	for k, v := range over {
		m[k] = v
	}
	return m, nil
}

// node returns a copy of the schema n with references expanded.
func (e *expander) node(n any) (any, error) {
	m, ok := n.(map[string]any)
	if !ok {
		return n, nil
	}
	if ref, ok := m["$ref"].(string); ok {
		var over map[string]any
		for k, v := range m {
			if k != "$ref" {
				if over == nil {
					over = map[string]any{}
				}
				over[k] = v
			}
		}
		return e.ref(refName(ref), over)
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		var err error
		switch k {
		case "properties", "patternProperties", "dependencies", "definitions":
			mm, isMap := v.(map[string]any)
			if !isMap {
				out[k] = v
				continue
			}
			conv := make(map[string]any, len(mm))
			for name, s := range mm {
				if conv[name], err = e.node(s); err != nil {
					return nil, err
				}
			}
			out[k] = conv
		case "allOf", "anyOf", "oneOf", "items":
			list, isList := v.([]any)
			if !isList {
				if out[k], err = e.node(v); err != nil {
					return nil, err
				}
				continue
			}
			conv := make([]any, len(list))
			for i, s := range list {
				if conv[i], err = e.node(s); err != nil {
					return nil, err
				}
			}
			out[k] = conv
		case "not", "additionalProperties", "additionalItems":
			if out[k], err = e.node(v); err != nil {
				return nil, err
			}
		default:
			out[k] = v
		}
	}
	return out, nil
}

func contains(list []any, v any) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
