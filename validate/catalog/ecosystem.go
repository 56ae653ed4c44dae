package catalog

import (
	"bytes"
	"compress/gzip"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"sync"
)

//go:generate go run ./gen -ecosystem

// ecosystemFS holds the ecosystem catalog: index.json and one compressed
// file of schemas per operator, generated from gen/pins.yaml.
//
//go:embed data/ecosystem
var ecosystemFS embed.FS

// Operator is one operator of the ecosystem catalog: the Go module whose
// CRD files the schemas were converted from, and its kinds.
type Operator struct {
	Name    string `json:"name"`
	Module  string `json:"module"`
	Version string `json:"version"`
	Kinds   []Kind `json:"kinds"`
}

// Kind is one served version of a custom resource kind.
type Kind struct {
	// GVK is "group/version/Kind".
	GVK string `json:"gvk"`
	// CELRules counts the CRD's x-kubernetes-validations rules for this
	// version; the schema check does not evaluate them.
	CELRules int `json:"celRules,omitempty"`
}

var (
	indexOnce sync.Once
	operators []Operator
	kindOwner map[string]int // gvk -> index in operators

	opMu      sync.Mutex
	opSchemas = map[string]map[string]json.RawMessage{}
)

func ecosystemIndex() ([]Operator, map[string]int) {
	indexOnce.Do(func() {
		b, err := ecosystemFS.ReadFile("data/ecosystem/index.json")
		if err != nil {
			panic(fmt.Sprintf("catalog: ecosystem index: %v", err))
		}
		if err := json.Unmarshal(b, &operators); err != nil {
			panic(fmt.Sprintf("catalog: ecosystem index is corrupt: %v", err))
		}
		kindOwner = map[string]int{}
		for i, op := range operators {
			for _, k := range op.Kinds {
				kindOwner[k.GVK] = i
			}
		}
	})
	return operators, kindOwner
}

// Ecosystem lists the operators of the embedded ecosystem catalog, in
// pin order. The caller may modify the result.
func Ecosystem() []Operator {
	ops, _ := ecosystemIndex()
	out := make([]Operator, len(ops))
	for i, op := range ops {
		out[i] = op
		out[i].Kinds = append([]Kind(nil), op.Kinds...)
	}
	return out
}

// EcosystemSchema returns the strict schema of a custom resource kind of
// the ecosystem catalog, and the operator it comes from. Only that
// operator's schemas are decompressed, on its first lookup.
func EcosystemSchema(apiVersion, kind string) ([]byte, *Operator, bool) {
	ops, owner := ecosystemIndex()
	gvk := apiVersion + "/" + kind
	i, ok := owner[gvk]
	if !ok {
		return nil, nil, false
	}
	op := &ops[i]
	opMu.Lock()
	schemas, loaded := opSchemas[op.Name]
	if !loaded {
		var err error
		if schemas, err = decodeOperator(op.Name); err != nil {
			opMu.Unlock()
			panic(fmt.Sprintf("catalog: ecosystem %s: %v", op.Name, err))
		}
		opSchemas[op.Name] = schemas
	}
	opMu.Unlock()
	s, ok := schemas[gvk]
	if !ok {
		return nil, nil, false
	}
	return append([]byte(nil), s...), op, true
}

// decodeOperator decompresses one operator's schemas.
func decodeOperator(name string) (map[string]json.RawMessage, error) {
	gz, err := ecosystemFS.ReadFile("data/ecosystem/" + name + ".json.gz")
	if err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		return nil, err
	}
	var out map[string]json.RawMessage
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, err
	}
	return out, nil
}
