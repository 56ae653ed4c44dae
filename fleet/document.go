package fleet

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Document is one YAML document of the repository that is a Kubernetes
// object (it has apiVersion and kind).
type Document struct {
	// File is relative to the repository root, with forward slashes.
	File string
	// Line is the 1-based line of the document's first key.
	Line int
	// Index is the position of the document in its file, from 0.
	Index int

	APIVersion string
	Kind       string
	Name       string
	Namespace  string

	// Object is the whole document, JSON-compatible (maps with string keys,
	// int64, float64, bool, string, nil, slices).
	Object map[string]any
}

// Ref names the document's object as Kind/namespace/name, or Kind/name when
// it has no namespace.
func (d *Document) Ref() string {
	return ObjectRef(d.Kind, d.Namespace, d.Name)
}

// Group returns the API group of the document's apiVersion ("" for core).
func (d *Document) Group() string {
	if i := strings.Index(d.APIVersion, "/"); i >= 0 {
		return d.APIVersion[:i]
	}
	return ""
}

// Version returns the version part of the document's apiVersion.
func (d *Document) Version() string {
	if i := strings.Index(d.APIVersion, "/"); i >= 0 {
		return d.APIVersion[i+1:]
	}
	return d.APIVersion
}

// ObjectRef formats Kind/namespace/name, or Kind/name without a namespace.
func ObjectRef(kind, namespace, name string) string {
	if namespace == "" {
		return kind + "/" + name
	}
	return kind + "/" + namespace + "/" + name
}

var yamlLineRE = regexp.MustCompile(`line (\d+)`)

// parseDocuments splits data into YAML documents. Documents that are not
// mappings with apiVersion and kind are skipped: they are not Kubernetes
// objects (Helm values, workflows, Taskfiles). A syntax error stops the file
// and is returned with its line.
func parseDocuments(file string, data []byte) ([]*Document, *Problem) {
	var docs []*Document
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for i := 0; ; i++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return docs, yamlProblem(file, err)
		}
		if len(n.Content) == 0 {
			continue
		}
		content := n.Content[0]
		if content.Kind != yaml.MappingNode || !looksLikeObject(content) {
			// Not an object, but kustomize may still parse it: a document
			// with aliases is expanded once here so an alias bomb is caught
			// before any other parser sees it.
			if hasAlias(content) {
				var v any
				if err := content.Decode(&v); err != nil {
					p := yamlProblem(file, err)
					if p.Line == 0 {
						p.Line = content.Line
					}
					return docs, p
				}
			}
			continue
		}
		timestampsAsStrings(content)
		var raw map[string]any
		if err := content.Decode(&raw); err != nil {
			p := yamlProblem(file, err)
			if p.Line == 0 {
				p.Line = content.Line
			}
			return docs, p
		}
		obj, ok := normalize(raw).(map[string]any)
		if !ok {
			continue
		}
		d := &Document{File: file, Line: content.Line, Index: i, Object: obj}
		d.setIdentity()
		docs = append(docs, d)
	}
}

// setIdentity fills APIVersion, Kind, Name and Namespace from Object.
func (d *Document) setIdentity() {
	d.APIVersion, _ = d.Object["apiVersion"].(string)
	d.Kind, _ = d.Object["kind"].(string)
	if md, ok := d.Object["metadata"].(map[string]any); ok {
		d.Name, _ = md["name"].(string)
		d.Namespace, _ = md["namespace"].(string)
	}
}

func yamlProblem(file string, err error) *Problem {
	// Unmarshal errors span lines; a problem is reported on one.
	msg := strings.Join(strings.Fields(strings.TrimPrefix(err.Error(), "yaml: ")), " ")
	line := 0
	if m := yamlLineRE.FindStringSubmatchIndex(msg); m != nil {
		line, _ = strconv.Atoi(msg[m[2]:m[3]])
		if isParserProblem(msg) {
			// The YAML library reports parser errors (unlike scanner
			// errors) with the 0-based line of libyaml's mark.
			line++
			msg = msg[:m[2]] + strconv.Itoa(line) + msg[m[3]:]
		}
	}
	return &Problem{
		Rule:     RuleYAMLInvalid,
		Severity: SeverityError,
		File:     file,
		Line:     line,
		Message:  "invalid YAML: " + msg,
	}
}

// parserProblems are the problems libyaml's parser (not its scanner)
// reports; no scanner problem ends with one of them.
var parserProblems = []string{
	"did not find expected ',' or ']'",
	"did not find expected ',' or '}'",
	"did not find expected '-' indicator",
	"did not find expected <document start>",
	"did not find expected <stream-start>",
	"did not find expected key",
	"did not find expected node content",
	"found duplicate %TAG directive",
	"found duplicate %YAML directive",
	"found incompatible YAML document",
	"found undefined tag handle",
}

func isParserProblem(msg string) bool {
	for _, p := range parserProblems {
		if strings.HasSuffix(msg, p) {
			return true
		}
	}
	return false
}

// looksLikeObject reports whether a mapping node has string apiVersion and
// kind keys.
func looksLikeObject(n *yaml.Node) bool {
	var api, kind bool
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if v.Kind != yaml.ScalarNode {
			continue
		}
		switch k.Value {
		case "apiVersion":
			api = v.Value != ""
		case "kind":
			kind = v.Value != ""
		}
	}
	return api && kind
}

// hasAlias reports whether a node tree holds an alias. Alias targets are
// not followed, so the walk is linear in the document's size.
func hasAlias(n *yaml.Node) bool {
	if n.Kind == yaml.AliasNode {
		return true
	}
	for _, c := range n.Content {
		if hasAlias(c) {
			return true
		}
	}
	return false
}

// timestampsAsStrings retags timestamp scalars as strings, so that decoding
// keeps the text written ("2024-01-01") instead of a time.Time, which is not
// JSON-compatible. Aliases are not followed: their anchors are visited once.
func timestampsAsStrings(n *yaml.Node) {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!timestamp" {
		n.Tag = "!!str"
	}
	for _, c := range n.Content {
		timestampsAsStrings(c)
	}
}

// normalize turns what the YAML decoder produced into JSON-compatible values
// (string map keys, int64 numbers), the shape unstructured objects use.
func normalize(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = normalize(e)
		}
		return t
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[fmt.Sprint(k)] = normalize(e)
		}
		return m
	case []any:
		for i, e := range t {
			t[i] = normalize(e)
		}
		return t
	case int:
		return int64(t)
	case int32:
		return int64(t)
	case uint64:
		if t > math.MaxInt64 {
			return float64(t)
		}
		return int64(t)
	case float32:
		return float64(t)
	default:
		return v
	}
}

// FieldLine returns the line of a field inside the document of file that
// starts at docLine, following path (mapping keys and sequence indexes, as
// in a JSON pointer). It returns the line of the deepest part of the path
// found, or docLine when the file cannot be read again.
func (r *Repo) FieldLine(file string, docLine int, path []string) int {
	data, err := r.ReadFile(file)
	if err != nil {
		return docLine
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			return docLine
		}
		if len(n.Content) == 0 || n.Content[0].Line != docLine {
			continue
		}
		cur := n.Content[0]
		line := cur.Line
		for _, p := range path {
			next := child(cur, p)
			if next == nil {
				break
			}
			line = next.line
			cur = next.node
		}
		return line
	}
}

type located struct {
	node *yaml.Node
	line int
}

func child(n *yaml.Node, key string) *located {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				return &located{node: n.Content[i+1], line: n.Content[i].Line}
			}
		}
	case yaml.SequenceNode:
		i, err := strconv.Atoi(key)
		if err == nil && i >= 0 && i < len(n.Content) {
			return &located{node: n.Content[i], line: n.Content[i].Line}
		}
	}
	return nil
}

// ParseDocuments parses YAML data as the loader does: the Kubernetes
// objects it holds, with lines. It is for files the loader does not index
// (ignored by Flux); a syntax error ends the list.
func ParseDocuments(file string, data []byte) ([]*Document, error) {
	docs, p := parseDocuments(file, data)
	if p != nil {
		return docs, fmt.Errorf("%s", p.Message)
	}
	return docs, nil
}
