package imageupdate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v3"

	"github.com/fluxgate/fluxgate/internal/yamlsplice"
)

// ImageRef is the image a policy resolved to.
type ImageRef struct {
	// Name is the image repository as the ImageRepository gives it, e.g.
	// "ghcr.io/org/app".
	Name string
	// Tag is the selected tag; "" means the policy is known but was not
	// resolved, and its markers are left alone silently.
	Tag string
	// Digest is "sha256:…" when the policy reflects digests, else "".
	Digest string
}

// ObjectID names the Kubernetes object (document) holding a change; its
// fields are empty when the document is not a Kubernetes object (has
// neither apiVersion nor kind), e.g. a kustomization.yaml without them.
type ObjectID struct{ APIVersion, Kind, Namespace, Name string }

// Change is one setter-marked field whose value changes.
type Change struct {
	File   string   // slash path relative to the fsys root
	Line   int      // 1-based line of the value
	Object ObjectID // the document's object
	Policy string   // "namespace:name"
	Setter string   // marker value as written, e.g. "flux-system:podinfo:tag"
	Image  string   // ImageRef.Name of the policy
	Old    string   // the field's value before
	New    string   // the field's value after
}

// FileEdit is one file's planned change: its whole content before and
// after, and the changes that turn one into the other.
type FileEdit struct {
	Path    string
	Before  []byte
	After   []byte
	Changes []Change
}

// FileProblem is a file or marker that could not be processed: a file
// that is not valid YAML, a marker naming a policy absent from the
// policies map, a malformed or misplaced marker, or a marked value that
// cannot be edited in place (a block scalar, for example). Line is 0 when
// the problem concerns the whole file.
type FileProblem struct {
	Path    string
	Line    int
	Message string
}

// SetterPlan is what PlanSetters found: the edits to make and the problems
// that kept files or markers from being processed.
type SetterPlan struct {
	Edits    []FileEdit
	Problems []FileProblem
}

// setterToken is what a file must contain to be read at all, as
// image-automation-controller's ScreeningLocalReader requires: the
// shorthand key in double quotes.
const setterToken = `"$imagepolicy"`

// setterKey is the JSON key of a marker.
const setterKey = "$imagepolicy"

// PlanSetters reads the YAML files under dir (a slash path relative to
// fsys's root; "" or "." is the root) and returns the edits that policies
// (keyed "namespace:name") make. It writes nothing. Edits are sorted by
// path, their changes by line; problems by path and line.
//
// It follows image-automation-controller's Setters strategy
// (internal/update in fluxcd/image-automation-controller):
//
//   - Files are read recursively under dir when their name ends in .yaml
//     or .yml or is exactly "Kustomization", and only when they contain
//     the token "$imagepolicy" in double quotes; other files (README.md,
//     templates named .tpl, files without markers) are never read further.
//   - A marker is a comment {"$imagepolicy": "<namespace>:<name>"}, with
//     an optional ":tag", ":name" or ":digest" suffix, on a scalar value:
//     the comment at the end of the value's line, or, when there is none,
//     a head comment made of the marker alone (a sequence item's comment
//     on the line above). Leading '#' characters are dropped and the rest
//     must be a JSON object of strings, so spacing inside it is free.
//   - The value written is Name:Tag, or Name:Tag@Digest when the policy
//     has a digest (no suffix), Tag (":tag"), Name (":name") or Digest
//     (":digest", which is "" for a policy without a digest, as upstream
//     writes it).
//   - A policy with an empty Tag was not resolved: its markers are left
//     alone. A field whose value is already right is no change.
//
// Unlike upstream, PlanSetters does not re-serialise files: it splices
// each new value into the original bytes, keeping the rest of the file
// byte for byte. A plain value stays plain unless the new value would not
// read back as a string (for example "1.10", "yes", or ""), in which case
// it is double-quoted, as upstream does; single- and double-quoted values
// keep their quotes. Where upstream silently skips, PlanSetters reports a
// FileProblem: files that fail to parse, markers naming a policy missing
// from policies, malformed markers, markers Flux would ignore because they
// sit on a mapping key, an empty value or a collection, and marked block
// scalars (| or >), which it does not edit. Symbolic links are not
// followed, and .git directories are not entered.
//
// The error is non-nil only when dir cannot be walked or a file read, or
// when an edit does not read back as intended (a bug, never the input's
// fault).
func PlanSetters(fsys fs.FS, dir string, policies map[string]ImageRef) (SetterPlan, error) {
	root := path.Clean("./" + dir)
	if dir == "" {
		root = "."
	}
	if !fs.ValidPath(root) {
		return SetterPlan{}, fmt.Errorf("plan setters: invalid update path %q", dir)
	}
	var plan SetterPlan
	err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("plan setters: walk %s: %w", p, err)
		}
		if d.IsDir() {
			if d.Name() == ".git" && p != root {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !isSetterFile(p) {
			return nil // symbolic links and other non-regular files
		}
		src, err := fs.ReadFile(fsys, p)
		if err != nil {
			return fmt.Errorf("plan setters: read %s: %w", p, err)
		}
		if !bytes.Contains(src, []byte(setterToken)) {
			return nil
		}
		edit, problems, err := planSetterFile(p, src, policies)
		if err != nil {
			return err
		}
		plan.Problems = append(plan.Problems, problems...)
		if edit != nil {
			plan.Edits = append(plan.Edits, *edit)
		}
		return nil
	})
	if err != nil {
		return SetterPlan{}, err
	}
	sort.SliceStable(plan.Edits, func(i, j int) bool { return plan.Edits[i].Path < plan.Edits[j].Path })
	sort.SliceStable(plan.Problems, func(i, j int) bool {
		a, b := plan.Problems[i], plan.Problems[j]
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		return a.Line < b.Line
	})
	return plan, nil
}

// isSetterFile reports whether upstream's screening reader considers a
// file by its name.
func isSetterFile(p string) bool {
	switch path.Ext(p) {
	case ".yaml", ".yml":
		return true
	}
	return path.Base(p) == "Kustomization"
}

// setterField is the part of the image a marker sets.
type setterField int

const (
	setterFull setterField = iota
	setterTag
	setterName
	setterDigest
)

// setterMarker is a parsed marker.
type setterMarker struct {
	Value  string // as written, e.g. "flux-system:podinfo:tag"
	Policy string // "flux-system:podinfo"
	Field  setterField
}

// k8sNameRE accepts Kubernetes namespace and object names (DNS subdomains,
// loosely); anything else cannot name an ImagePolicy.
var k8sNameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)

const setterMarkerForm = "`{\"$imagepolicy\": \"<namespace>:<name>\"}` with an optional :tag, :name or :digest suffix"

// parseSetterComment reads a comment the way kyaml's fieldmeta does for
// image-automation-controller: leading '#'s dropped, the rest a JSON
// object of strings holding the "$imagepolicy" key. ok is false when the
// comment is not meant as a marker at all (it does not mention
// $imagepolicy); err is set when it is meant as one but Flux would not
// read it as one.
func parseSetterComment(comment string) (m setterMarker, ok bool, err error) {
	c := strings.TrimLeft(comment, "#")
	if !strings.Contains(strings.ToLower(c), strings.ToLower(setterKey)) {
		return setterMarker{}, false, nil
	}
	var obj map[string]string
	if err := json.Unmarshal([]byte(c), &obj); err != nil {
		return setterMarker{}, true, fmt.Errorf("malformed image policy marker %s: the comment must be exactly %s", markerText(c), setterMarkerForm)
	}
	v, found := obj[setterKey]
	if !found {
		return setterMarker{}, true, fmt.Errorf("malformed image policy marker %s: the key must be %q", markerText(c), setterKey)
	}
	m, err = parseSetterValue(v)
	return m, true, err
}

// parseSetterValue parses a marker's value, "<namespace>:<name>[:field]".
func parseSetterValue(v string) (setterMarker, error) {
	parts := strings.Split(v, ":")
	m := setterMarker{Value: v}
	switch len(parts) {
	case 2:
		m.Field = setterFull
	case 3:
		switch parts[2] {
		case "tag":
			m.Field = setterTag
		case "name":
			m.Field = setterName
		case "digest":
			m.Field = setterDigest
		default:
			return setterMarker{}, fmt.Errorf("malformed image policy marker value %q: unknown field %q (want tag, name or digest)", v, parts[2])
		}
	default:
		return setterMarker{}, fmt.Errorf("malformed image policy marker value %q: want <namespace>:<name> with an optional :tag, :name or :digest suffix", v)
	}
	if !k8sNameRE.MatchString(parts[0]) || !k8sNameRE.MatchString(parts[1]) {
		return setterMarker{}, fmt.Errorf("malformed image policy marker value %q: want <namespace>:<name> with an optional :tag, :name or :digest suffix", v)
	}
	m.Policy = parts[0] + ":" + parts[1]
	return m, nil
}

// setterValue is what a marker for field writes for ref, as
// image-automation-controller computes it from the policy's
// status.latestRef.
func setterValue(ref ImageRef, field setterField) string {
	switch field {
	case setterTag:
		return ref.Tag
	case setterName:
		return ref.Name
	case setterDigest:
		return ref.Digest
	}
	s := ref.Name + ":" + ref.Tag
	if ref.Digest != "" {
		s += "@" + ref.Digest
	}
	return s
}

// setterTarget is a marked scalar value.
type setterTarget struct {
	node   *yaml.Node
	route  []int // document index, then indices into Content
	marker setterMarker
	object ObjectID
	flow   bool // inside a flow collection
}

// setterFile walks one file's documents.
type setterFile struct {
	path     string
	src      []byte
	lines    []int // byte offsets of line starts
	problems []FileProblem
	targets  []setterTarget
}

func (f *setterFile) problem(line int, format string, args ...any) {
	f.problems = append(f.problems, FileProblem{Path: f.path, Line: line, Message: fmt.Sprintf(format, args...)})
}

// yamlErrLineRE finds the line number in a yaml.v3 error.
var yamlErrLineRE = regexp.MustCompile(`line (\d+)`)

// planSetterFile plans one file's edit; edit is nil when nothing changes.
func planSetterFile(p string, src []byte, policies map[string]ImageRef) (*FileEdit, []FileProblem, error) {
	lines := yamlsplice.LineStarts(src)
	f := &setterFile{path: p, src: src, lines: lines}
	docs, err := yamlsplice.Decode(src)
	if err != nil {
		line := 0
		if m := yamlErrLineRE.FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
		}
		f.problem(line, "not valid YAML, image policy markers in it are not applied: %v", err)
		return nil, f.problems, nil
	}
	for i, doc := range docs {
		f.walk(doc, []int{i}, ObjectID{}, false, false)
	}

	type splice struct {
		start, end int
		text       string
		target     *setterTarget
		change     Change
	}
	var splices []splice
	for i := range f.targets {
		t := &f.targets[i]
		line := t.node.Line
		ref, ok := policies[t.marker.Policy]
		if !ok {
			f.problem(line, "image policy marker %q names policy %s, which is not known", t.marker.Value, t.marker.Policy)
			continue
		}
		if ref.Tag == "" {
			continue // known but unresolved: left alone
		}
		newValue := setterValue(ref, t.marker.Field)
		if t.node.Value == newValue {
			continue
		}
		if t.node.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
			f.problem(line, "image policy marker %q is on a block scalar (| or >), which is not edited; write the value on the marker's line", t.marker.Value)
			continue
		}
		if tag := t.node.ShortTag(); tag != "!!str" && tag != "!!null" && t.node.Style&yaml.TaggedStyle != 0 {
			f.problem(line, "image policy marker %q is on a value with the explicit tag %s, which is not edited", t.marker.Value, tag)
			continue
		}
		if !utf8.ValidString(newValue) {
			f.problem(line, "image policy marker %q: the new value %q is not valid UTF-8", t.marker.Value, newValue)
			continue
		}
		start, end, err := yamlsplice.Locate(src, lines, t.node)
		if err != nil {
			f.problem(line, "image policy marker %q: %v", t.marker.Value, err)
			continue
		}
		valueLine := line + bytes.Count(src[yamlsplice.Offset(src, lines, t.node):start], []byte("\n"))
		splices = append(splices, splice{
			start:  start,
			end:    end,
			text:   yamlsplice.ScalarText(newValue, t.node.Style, t.flow),
			target: t,
			change: Change{
				File:   p,
				Line:   valueLine,
				Object: t.object,
				Policy: t.marker.Policy,
				Setter: t.marker.Value,
				Image:  ref.Name,
				Old:    t.node.Value,
				New:    newValue,
			},
		})
	}
	if len(splices) == 0 {
		return nil, f.problems, nil
	}
	sort.Slice(splices, func(i, j int) bool { return splices[i].start < splices[j].start })
	var after bytes.Buffer
	after.Grow(len(src))
	last := 0
	changes := make([]Change, 0, len(splices))
	want := map[string]string{}
	for _, s := range splices {
		if s.start < last {
			return nil, nil, fmt.Errorf("plan setters: %s:%d: overlapping edits", p, s.change.Line)
		}
		after.Write(src[last:s.start])
		after.WriteString(s.text)
		last = s.end
		changes = append(changes, s.change)
		want[yamlsplice.RouteKey(s.target.route)] = s.change.New
	}
	after.Write(src[last:])
	out := after.Bytes()
	if err := yamlsplice.Verify(docs, out, want); err != nil {
		return nil, nil, fmt.Errorf("plan setters: verify edit of %s: %w", p, err)
	}
	sort.SliceStable(changes, func(i, j int) bool { return changes[i].Line < changes[j].Line })
	return &FileEdit{Path: p, Before: src, After: out, Changes: changes}, f.problems, nil
}

// walk visits n the way image-automation-controller's setter filter does:
// mapping values (never keys), sequence items and scalars; value reports
// whether n is visited as a value. Comments holding markers anywhere Flux
// does not read them become problems.
func (f *setterFile) walk(n *yaml.Node, route []int, obj ObjectID, value, flow bool) {
	flow = flow || n.Style&yaml.FlowStyle != 0
	switch n.Kind {
	case yaml.DocumentNode:
		f.strayComments(n, "")
		for i, c := range n.Content {
			f.walk(c, yamlsplice.AppendRoute(route, i), objectIDOf(c), true, flow)
		}
	case yaml.MappingNode:
		f.strayComments(n, n.LineComment)
		list := isListObject(n)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			f.strayComments(k, k.LineComment)
			if list && k.Value == "items" && v.Kind == yaml.SequenceNode {
				f.strayComments(v, v.LineComment)
				for j, item := range v.Content {
					f.walk(item, yamlsplice.AppendRoute(yamlsplice.AppendRoute(route, i+1), j), objectIDOf(item), true, flow || v.Style&yaml.FlowStyle != 0)
				}
				continue
			}
			f.walk(v, yamlsplice.AppendRoute(route, i+1), obj, true, flow)
		}
	case yaml.SequenceNode:
		f.strayComments(n, n.LineComment)
		for i, c := range n.Content {
			f.walk(c, yamlsplice.AppendRoute(route, i), obj, true, flow)
		}
	case yaml.ScalarNode:
		if !value {
			f.strayComments(n, n.LineComment)
			return
		}
		if n.LineComment != "" {
			m, ok, err := parseSetterComment(n.LineComment)
			switch {
			case err != nil:
				f.problem(n.Line, "%v", err)
			case ok:
				f.targets = append(f.targets, setterTarget{node: n, route: route, marker: m, object: obj, flow: flow})
			}
			f.strayComments(n, "")
			return
		}
		// No line comment: upstream reads the head comment whole.
		if n.HeadComment != "" && !strings.Contains(n.HeadComment, "\n") {
			m, ok, err := parseSetterComment(n.HeadComment)
			switch {
			case err != nil:
				f.problem(n.Line, "%v", err)
			case ok:
				f.targets = append(f.targets, setterTarget{node: n, route: route, marker: m, object: obj, flow: flow})
			}
			f.footComment(n)
			return
		}
		f.strayComments(n, "")
	default: // aliases: upstream does not follow them
		f.strayComments(n, n.LineComment)
	}
}

// strayComments reports markers in n's head and foot comments, and in
// line (n's line comment, or "" when it was handled), which Flux does not
// read.
func (f *setterFile) strayComments(n *yaml.Node, line string) {
	if line != "" {
		if _, ok, _ := parseSetterComment(line); ok {
			f.problem(n.Line, "image policy marker %s is ignored by Flux: it is not on a scalar value (is the value empty, or on the following lines?)", markerText(line))
		}
	}
	f.headComment(n)
	f.footComment(n)
}

func (f *setterFile) headComment(n *yaml.Node) { f.commentLines(n.HeadComment, n.Line, -1) }

func (f *setterFile) footComment(n *yaml.Node) { f.commentLines(n.FootComment, n.Line, +1) }

// commentLines reports lines of a head or foot comment that are markers:
// Flux reads a marker only from the end of the value's line. The comment
// is above (dir -1) or below (dir +1) the node's line.
func (f *setterFile) commentLines(c string, line, dir int) {
	if c == "" {
		return
	}
	for _, l := range strings.Split(c, "\n") {
		l = strings.TrimSpace(l)
		if _, ok, err := parseSetterComment(l); ok && err == nil {
			f.problem(f.commentLine(l, line, dir), "image policy marker %s is ignored by Flux: a marker must be a comment at the end of the value's line", markerText(l))
		}
	}
}

// commentLine finds the line holding comment c, searching from line in
// direction dir; it returns line when it does not find it.
func (f *setterFile) commentLine(c string, line, dir int) int {
	for l := line + dir; l >= 1 && l <= len(f.lines); l += dir {
		start, end := f.lines[l-1], len(f.src)
		if l < len(f.lines) {
			end = f.lines[l]
		}
		if strings.TrimSpace(string(f.src[start:end])) == c {
			return l
		}
	}
	return line
}

// markerText is a comment as a problem quotes it.
func markerText(c string) string {
	return "`" + strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(c), "#")) + "`"
}

// objectIDOf identifies the object n, empty when n has neither apiVersion
// nor kind.
func objectIDOf(n *yaml.Node) ObjectID {
	id := ObjectID{APIVersion: yamlsplice.MappingScalar(n, "apiVersion"), Kind: yamlsplice.MappingScalar(n, "kind")}
	if id.APIVersion == "" && id.Kind == "" {
		return ObjectID{}
	}
	md := yamlsplice.MappingValue(n, "metadata")
	id.Namespace = yamlsplice.MappingScalar(md, "namespace")
	id.Name = yamlsplice.MappingScalar(md, "name")
	return id
}

// isListObject reports whether n is a List (or kyaml ResourceList) whose
// items upstream's reader unwraps into objects of their own.
func isListObject(n *yaml.Node) bool {
	k := yamlsplice.MappingScalar(n, "kind")
	return k == "List" || k == "ResourceList"
}
