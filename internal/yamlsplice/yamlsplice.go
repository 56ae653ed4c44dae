package yamlsplice

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"

	yaml "go.yaml.in/yaml/v3"
)

// Decode parses every document of src.
func Decode(src []byte) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var docs []*yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		docs = append(docs, &n)
	}
}

func AppendRoute(route []int, i int) []int {
	r := make([]int, len(route), len(route)+1)
	copy(r, route)
	return append(r, i)
}

func RouteKey(route []int) string {
	var b strings.Builder
	for _, i := range route {
		b.WriteString(strconv.Itoa(i))
		b.WriteByte('/')
	}
	return b.String()
}

// MappingScalar returns the scalar value of key in mapping n, or "".
func MappingScalar(n *yaml.Node, key string) string {
	if n == nil || n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			if v := n.Content[i+1]; v.Kind == yaml.ScalarNode {
				return v.Value
			}
			return ""
		}
	}
	return ""
}

func MappingValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// LineStarts returns the byte offset at which each line starts.
func LineStarts(src []byte) []int {
	starts := []int{0}
	for i, c := range src {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// Offset converts n's 1-based line and (rune) column to a byte
// offset in src.
func Offset(src []byte, lines []int, n *yaml.Node) int {
	if n.Line < 1 || n.Line > len(lines) {
		return -1
	}
	off := lines[n.Line-1]
	if n.Line == 1 && bytes.HasPrefix(src, []byte("\xef\xbb\xbf")) {
		off += 3
	}
	for col := 1; col < n.Column; col++ {
		if off >= len(src) || src[off] == '\n' {
			return -1
		}
		_, size := utf8.DecodeRune(src[off:])
		off += size
	}
	return off
}

// Locate returns the byte range of scalar n's text in src,
// past any anchor or tag, and checks that it reads back as n's value.
func Locate(src []byte, lines []int, n *yaml.Node) (start, end int, err error) {
	p := Offset(src, lines, n)
	if p < 0 {
		return 0, 0, fmt.Errorf("cannot locate the value in the file")
	}
	// Skip anchors (&a) and tags (!t) before the value.
	for p < len(src) && (src[p] == '&' || src[p] == '!') {
		for p < len(src) && !isSpace(src[p]) {
			p++
		}
		for p < len(src) && isSpace(src[p]) {
			p++
		}
	}
	if p >= len(src) {
		return 0, 0, fmt.Errorf("cannot locate the value in the file")
	}
	switch {
	case n.Style&yaml.SingleQuotedStyle != 0:
		if src[p] != '\'' {
			return 0, 0, fmt.Errorf("cannot locate the single-quoted value in the file")
		}
		end = -1
		for i := p + 1; i < len(src); i++ {
			if src[i] == '\'' {
				if i+1 < len(src) && src[i+1] == '\'' {
					i++
					continue
				}
				end = i + 1
				break
			}
		}
	case n.Style&yaml.DoubleQuotedStyle != 0:
		if src[p] != '"' {
			return 0, 0, fmt.Errorf("cannot locate the double-quoted value in the file")
		}
		end = -1
		for i := p + 1; i < len(src); i++ {
			if src[i] == '\\' {
				i++
				continue
			}
			if src[i] == '"' {
				end = i + 1
				break
			}
		}
	default:
		if n.Value == "" || !bytes.HasPrefix(src[p:], []byte(n.Value)) {
			return 0, 0, fmt.Errorf("the value %q is not a plain scalar on one line, which is not edited", n.Value)
		}
		return p, p + len(n.Value), nil
	}
	if end < 0 {
		return 0, 0, fmt.Errorf("cannot find the end of the quoted value")
	}
	var got string
	if err := yaml.Unmarshal(src[p:end], &got); err != nil || got != n.Value {
		return 0, 0, fmt.Errorf("cannot locate the quoted value %q in the file", n.Value)
	}
	return p, end, nil
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n'
}

// ScalarText is how v is written in place of a scalar of style:
// quoted values keep their quotes; a plain value stays plain when v reads
// back as the string v, and is otherwise quoted the way
// image-automation-controller's output has it: double quotes for values
// that YAML 1.1 reads as numbers, booleans or null ("1.10", "yes", ""),
// the YAML encoder's choice (single quotes, usually) for the rest ("*x").
func ScalarText(v string, style yaml.Style, flow bool) string {
	switch {
	case style&yaml.SingleQuotedStyle != 0:
		if canSingleQuote(v) {
			return "'" + strings.ReplaceAll(v, "'", "''") + "'"
		}
	case style&yaml.DoubleQuotedStyle != 0:
	default:
		if v == "" || kyaml.IsValueNonString(v) {
			break
		}
		out, err := yaml.Marshal(&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v})
		text := strings.TrimSuffix(string(out), "\n")
		if err != nil || strings.Contains(text, "\n") {
			break
		}
		if text == v && flow && strings.ContainsAny(v, ",[]{}") {
			break // plain in block context, not in a flow collection
		}
		return text
	}
	return doubleQuote(v)
}

func canSingleQuote(v string) bool {
	for _, r := range v {
		if r == '\n' || r == '\r' || !unicode.IsPrint(r) && r != '\t' {
			return false
		}
	}
	return true
}

// doubleQuote writes v as a YAML double-quoted scalar.
func doubleQuote(v string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range v {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			switch {
			case unicode.IsPrint(r):
				b.WriteRune(r)
			case r <= 0xffff:
				fmt.Fprintf(&b, `\u%04x`, r)
			default:
				fmt.Fprintf(&b, `\U%08x`, r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// Verify parses after and checks that it holds the same
// documents as before, except that the values at the routes in want now
// read as the strings given.
func Verify(before []*yaml.Node, after []byte, want map[string]string) error {
	docs, err := Decode(after)
	if err != nil {
		return fmt.Errorf("edited file does not parse: %w", err)
	}
	if len(docs) != len(before) {
		return fmt.Errorf("edited file has %d documents, want %d", len(docs), len(before))
	}
	seen := 0
	var cmp func(a, b *yaml.Node, route []int) error
	cmp = func(a, b *yaml.Node, route []int) error {
		if a.Kind != b.Kind || len(a.Content) != len(b.Content) {
			return fmt.Errorf("line %d: structure changed", b.Line)
		}
		if nv, ok := want[RouteKey(route)]; ok {
			seen++
			if b.Value != nv || b.ShortTag() != "!!str" {
				return fmt.Errorf("line %d: value reads back as %s %q, want string %q", b.Line, b.ShortTag(), b.Value, nv)
			}
		} else if a.Value != b.Value || a.Tag != b.Tag {
			return fmt.Errorf("line %d: unmarked value changed from %q to %q", b.Line, a.Value, b.Value)
		}
		for i := range a.Content {
			if err := cmp(a.Content[i], b.Content[i], AppendRoute(route, i)); err != nil {
				return err
			}
		}
		return nil
	}
	for i := range docs {
		if err := cmp(before[i], docs[i], []int{i}); err != nil {
			return err
		}
	}
	if seen != len(want) {
		return fmt.Errorf("found %d of %d edited values", seen, len(want))
	}
	return nil
}
