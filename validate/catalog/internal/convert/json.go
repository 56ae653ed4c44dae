package convert

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// Canonical encodes v as compact JSON with object keys sorted and without
// HTML escaping, so that equal values always give equal bytes.
func Canonical(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Decode parses one JSON value, keeping numbers as json.Number so that they
// are written back exactly as they were read.
func Decode(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("trailing data after JSON value")
	}
	return v, nil
}

// Normalize turns any JSON-compatible Go value (maps, slices, strings,
// numbers of any Go type, bools, nil) into the form Decode produces:
// map[string]any, []any, string, json.Number, bool and nil.
func Normalize(v any) (any, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return Decode(data)
}

// clone copies a decoded JSON value deeply.
func clone(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = clone(x)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, x := range t {
			s[i] = clone(x)
		}
		return s
	default:
		return v
	}
}
