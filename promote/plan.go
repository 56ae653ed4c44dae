package promote

import (
	"bytes"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/Masterminds/semver/v3"
	yaml "go.yaml.in/yaml/v3"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/internal/yamlsplice"
)

// RulePromote is the rule of the problems a plan reports.
const RulePromote = "promote"

// field is one promotable scalar found in a file.
type field struct {
	key    string // what it pins: image/NAME, chart/HelmRelease/NAME/version, var/KEY
	kind   string
	comp   string // for images: tag, digest, or ref (a whole name:tag@digest)
	file   string
	node   *yaml.Node
	route  []int
	flow   bool
	path   string // YAML path in the document
	object string
	// value is the scalar's pinned value; for a whole image reference
	// (image: name:tag@digest) ref holds its parts.
	value string
	ref   *imageRef
}

type imageRef struct{ name, tag, digest string }

func (r imageRef) String() string {
	s := r.name
	if r.tag != "" {
		s += ":" + r.tag
	}
	if r.digest != "" {
		s += "@" + r.digest
	}
	return s
}

// parseImage splits name[:tag][@digest]; ok is false for a value that is
// no image reference.
func parseImage(s string) (imageRef, bool) {
	if s == "" || strings.ContainsAny(s, " \t\n${}") {
		return imageRef{}, false
	}
	var r imageRef
	if i := strings.Index(s, "@"); i >= 0 {
		r.digest = s[i+1:]
		s = s[:i]
	}
	if i := strings.LastIndex(s, ":"); i > strings.LastIndex(s, "/") {
		r.tag = s[i+1:]
		s = s[:i]
	}
	r.name = s
	return r, r.name != ""
}

// Compute plans promotion p over the tree fsys: for every pair of source
// and target directories p.From and p.To name, the versions pinned in
// the source that the target pins differently.
func Compute(fsys fs.FS, p Promotion) (*Plan, error) {
	pairs, err := ResolvePairs(fsys, p.From, p.To)
	if err != nil {
		return nil, err
	}
	plan := &Plan{Promotion: p, Pairs: pairs}
	for _, pr := range pairs {
		if err := plan.pair(fsys, pr[0], pr[1]); err != nil {
			return nil, err
		}
	}
	sort.SliceStable(plan.Changes, func(i, j int) bool {
		a, b := plan.Changes[i], plan.Changes[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
	sort.Slice(plan.Edits, func(i, j int) bool { return plan.Edits[i].Path < plan.Edits[j].Path })
	return plan, nil
}

// ResolvePairs turns from and to into source and target directories:
// two directories of the tree are one pair; two environment names are
// every pair of sibling directories so named (apps/staging and
// apps/production), which is how the fleet-infra layout keeps its
// overlays.
func ResolvePairs(fsys fs.FS, from, to string) ([][2]string, error) {
	if strings.Contains(from, ":") || strings.Contains(to, ":") {
		return nil, fmt.Errorf("promote %s to %s: branch:path environments are not supported yet; give directories of the checkout", from, to)
	}
	from, to = path.Clean(strings.TrimPrefix(from, "./")), path.Clean(strings.TrimPrefix(to, "./"))
	if isDir(fsys, from) && isDir(fsys, to) {
		if from == to || within(from, to) || within(to, from) {
			return nil, fmt.Errorf("promote %s to %s: one directory holds the other", from, to)
		}
		return [][2]string{{from, to}}, nil
	}
	if strings.Contains(from, "/") || strings.Contains(to, "/") {
		return nil, fmt.Errorf("promote %s to %s: both must be directories of the repository", from, to)
	}
	var pairs [][2]string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if p != "." && strings.HasPrefix(d.Name(), ".") {
			return fs.SkipDir
		}
		if d.Name() == from {
			if t := path.Join(path.Dir(p), to); isDir(fsys, t) {
				pairs = append(pairs, [2]string{p, t})
			}
			return fs.SkipDir
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("promote %s to %s: %w", from, to, err)
	}
	if len(pairs) == 0 {
		return nil, fmt.Errorf("promote %s to %s: no directory %s has a sibling %s, and neither names a directory of the repository", from, to, from, to)
	}
	return pairs, nil
}

func isDir(fsys fs.FS, p string) bool {
	fi, err := fs.Stat(fsys, p)
	return err == nil && fi.IsDir()
}

func within(dir, p string) bool { return dir == "." || strings.HasPrefix(p, dir+"/") }

// moves reports which kinds p moves: those it lists, or images and
// charts when it lists none.
func (p Promotion) moves(kind string) bool {
	if len(p.Images)+len(p.Charts)+len(p.Vars)+len(p.Files) == 0 {
		return kind == KindImage || kind == KindChart
	}
	switch kind {
	case KindImage:
		return len(p.Images) > 0
	case KindChart:
		return len(p.Charts) > 0
	case KindVar:
		return len(p.Vars) > 0
	}
	return false
}

func matchAny(globs []string, s string) bool {
	if len(globs) == 0 {
		return true
	}
	for _, g := range globs {
		if ok, _ := path.Match(g, s); ok {
			return true
		}
	}
	return false
}

// selected reports whether the field's subject is selected by p.
func (p Promotion) selected(f *field) bool {
	if !p.moves(f.kind) {
		return false
	}
	parts := strings.Split(f.key, "/")
	switch f.kind {
	case KindImage:
		return matchAny(p.Images, strings.TrimPrefix(f.key, "image/"))
	case KindChart:
		return matchAny(p.Charts, parts[2])
	case KindVar:
		return matchAny(p.Vars, parts[1])
	}
	return false
}

func (plan *Plan) problem(file string, line int, object, format string, args ...any) {
	plan.Problems = append(plan.Problems, fleet.Problem{
		Rule: RulePromote, Severity: fleet.SeverityWarning, File: file, Line: line, Object: object,
		Message: fmt.Sprintf(format, args...),
	})
}

// yamlFiles lists the YAML files under dir.
func yamlFiles(fsys fs.FS, dir string) ([]string, error) {
	var out []string
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != dir && strings.HasPrefix(d.Name(), ".") {
				return fs.SkipDir
			}
			return nil
		}
		if ext := path.Ext(p); ext == ".yaml" || ext == ".yml" {
			out = append(out, p)
		}
		return nil
	})
	return out, err
}

// scanned is one file's promotable fields.
type scanned struct {
	path   string
	src    []byte
	docs   []*yaml.Node
	fields []*field
}

func (plan *Plan) scan(fsys fs.FS, dir string) ([]*scanned, error) {
	files, err := yamlFiles(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dir, err)
	}
	var out []*scanned
	for _, p := range files {
		src, err := fleet.ReadRegularFile(fsys, p)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
		docs, err := yamlsplice.Decode(src)
		if err != nil {
			plan.problem(p, 0, "", "not valid YAML, nothing in it is promoted: %v", err)
			continue
		}
		s := &scanned{path: p, src: src, docs: docs}
		for i, doc := range docs {
			if len(doc.Content) == 0 {
				continue
			}
			root := doc.Content[0]
			if yamlsplice.MappingValue(root, "sops") != nil {
				continue // encrypted: its values are never read
			}
			s.fields = append(s.fields, fieldsOf(p, root, []int{i, 0})...)
		}
		out = append(out, s)
	}
	return out, nil
}

// pin is what the source pins for one key: a value, or for an image
// its tag and digest.
type pin struct {
	value    string
	ref      imageRef
	where    string
	conflict bool
}

func (pn *pin) String() string {
	if pn.ref.name != "" {
		return strings.TrimPrefix(pn.ref.String(), pn.ref.name)
	}
	return pn.value
}

// merge adds what field f pins to pn; false when the two disagree.
func (pn *pin) merge(f *field) bool {
	switch f.comp {
	case "":
		return pn.value == f.value
	case "tag":
		if pn.ref.tag != "" && pn.ref.tag != f.value {
			return false
		}
		pn.ref.tag = f.value
	case "digest":
		if pn.ref.digest != "" && pn.ref.digest != f.value {
			return false
		}
		pn.ref.digest = f.value
	case "ref":
		if (pn.ref.tag != "" && pn.ref.tag != f.ref.tag) || (pn.ref.digest != "" && pn.ref.digest != f.ref.digest) {
			return false
		}
		pn.ref.tag, pn.ref.digest = f.ref.tag, f.ref.digest
	}
	return true
}

// pair plans the changes of one target directory.
func (plan *Plan) pair(fsys fs.FS, from, to string) error {
	copied, err := plan.copies(fsys, from, to)
	if err != nil {
		return err
	}
	src, err := plan.scan(fsys, from)
	if err != nil {
		return err
	}
	pins := map[string]*pin{}
	for _, s := range src {
		for _, f := range s.fields {
			if !plan.Promotion.selected(f) {
				continue
			}
			where := fmt.Sprintf("%s:%d", f.file, f.node.Line)
			pn, ok := pins[f.key]
			if !ok {
				pn = &pin{value: f.value, where: where}
				if f.kind == KindImage {
					pn.ref.name = strings.TrimPrefix(f.key, "image/")
				}
				pins[f.key] = pn
			}
			if pn.conflict {
				continue
			}
			before := pn.String()
			if !pn.merge(f) {
				pn.conflict = true
				plan.problem(f.file, f.node.Line, f.object, "%s: %s here, %s at %s; it is not promoted", f.key, f.value, before, pn.where)
			}
		}
	}
	dst, err := plan.scan(fsys, to)
	if err != nil {
		return err
	}
	for _, s := range dst {
		if copied[s.path] {
			continue
		}
		var edits []edit
		for _, f := range s.fields {
			if !plan.Promotion.selected(f) {
				continue
			}
			pn, ok := pins[f.key]
			if !ok || pn.conflict {
				continue
			}
			var newValue, prev, next string
			switch f.comp {
			case "":
				newValue, prev, next = pn.value, f.value, pn.value
			case "tag":
				newValue, prev, next = pn.ref.tag, f.value, pn.ref.tag
			case "digest":
				newValue, prev, next = pn.ref.digest, f.value, pn.ref.digest
			case "ref":
				if pn.ref.tag == "" && pn.ref.digest == "" {
					continue
				}
				r := imageRef{name: f.ref.name, tag: pn.ref.tag, digest: pn.ref.digest}
				newValue, prev, next = r.String(), f.ref.tag, r.tag
				if prev == next {
					prev, next = f.ref.digest, r.digest
				}
			}
			if newValue == "" || newValue == f.value {
				continue
			}
			c := Change{
				Kind: f.kind, File: s.path, Line: f.node.Line, Path: f.path, Object: f.object,
				Old: f.value, New: newValue,
				Why: fmt.Sprintf("%s at %s", describe(f.key, pn), pn.where),
			}
			c.Downgrade, c.Order = order(f.kind, prev, next)
			edits = append(edits, edit{field: f, value: newValue, change: c})
		}
		if len(edits) == 0 {
			continue
		}
		after, changes, err := splice(s, edits)
		if err != nil {
			plan.problem(s.path, 0, "", "%v", err)
			continue
		}
		plan.Changes = append(plan.Changes, changes...)
		plan.Edits = append(plan.Edits, FileEdit{Path: s.path, Before: s.src, After: after})
	}
	return nil
}

// describe says what the source pins for key, for a change's Why.
func describe(key string, pn *pin) string {
	parts := strings.Split(key, "/")
	switch parts[0] {
	case KindImage:
		return "image " + pn.ref.String()
	case KindChart:
		return parts[1] + " " + parts[2] + " " + parts[3] + " " + pn.value
	case KindVar:
		return "postBuild variable " + parts[1] + "=" + pn.value
	}
	return key
}

// order compares two versions: downgrade when next is an older semantic
// version than prev; why when the order cannot be told.
func order(kind, prev, next string) (downgrade bool, why string) {
	if kind == KindVar {
		return false, ""
	}
	if strings.Contains(next, ":") {
		return false, "a digest: its order is not known"
	}
	a, errA := semver.NewVersion(prev)
	b, errB := semver.NewVersion(next)
	if errA != nil || errB != nil {
		return false, "not semver: the order is not known"
	}
	return b.LessThan(a), ""
}

type edit struct {
	field  *field
	value  string
	change Change
}

// splice writes the edits into the file's original bytes.
func splice(s *scanned, edits []edit) ([]byte, []Change, error) {
	lines := yamlsplice.LineStarts(s.src)
	type cut struct {
		start, end int
		text       string
	}
	var cuts []cut
	want := map[string]string{}
	var changes []Change
	for _, e := range edits {
		n := e.field.node
		if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
			return nil, nil, fmt.Errorf("%s at line %d is a block scalar, which is not edited", e.field.path, n.Line)
		}
		start, end, err := yamlsplice.Locate(s.src, lines, n)
		if err != nil {
			return nil, nil, fmt.Errorf("%s at line %d: %w", e.field.path, n.Line, err)
		}
		cuts = append(cuts, cut{start, end, yamlsplice.ScalarText(e.value, n.Style, e.field.flow)})
		want[yamlsplice.RouteKey(e.field.route)] = e.value
		changes = append(changes, e.change)
	}
	sort.Slice(cuts, func(i, j int) bool { return cuts[i].start < cuts[j].start })
	var out bytes.Buffer
	last := 0
	for _, c := range cuts {
		if c.start < last {
			return nil, nil, fmt.Errorf("overlapping edits")
		}
		out.Write(s.src[last:c.start])
		out.WriteString(c.text)
		last = c.end
	}
	out.Write(s.src[last:])
	if err := yamlsplice.Verify(s.docs, out.Bytes(), want); err != nil {
		return nil, nil, fmt.Errorf("verify edit: %w", err)
	}
	return out.Bytes(), changes, nil
}

func objectName(n *yaml.Node) string {
	kind := yamlsplice.MappingScalar(n, "kind")
	md := yamlsplice.MappingValue(n, "metadata")
	name, ns := yamlsplice.MappingScalar(md, "name"), yamlsplice.MappingScalar(md, "namespace")
	switch {
	case kind == "":
		return ""
	case name == "":
		return kind
	case ns != "":
		return kind + "/" + ns + "/" + name
	}
	return kind + "/" + name
}

// child returns the value of key in mapping n with its route and path.
func child(n *yaml.Node, route []int, p, key string) (*yaml.Node, []int, string) {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, nil, ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			q := key
			if p != "" {
				q = p + "." + key
			}
			return n.Content[i+1], yamlsplice.AppendRoute(route, i+1), q
		}
	}
	return nil, nil, ""
}

func scalar(n *yaml.Node) bool {
	return n != nil && n.Kind == yaml.ScalarNode && n.Value != "" && n.Tag != "!!null"
}

// fieldsOf finds the promotable fields of one object.
func fieldsOf(file string, root *yaml.Node, route []int) []*field {
	obj := objectName(root)
	kind := yamlsplice.MappingScalar(root, "kind")
	api := yamlsplice.MappingScalar(root, "apiVersion")
	name := yamlsplice.MappingScalar(yamlsplice.MappingValue(root, "metadata"), "name")
	var out []*field
	add := func(n *yaml.Node, r []int, p, key, k string, comp ...string) {
		if scalar(n) {
			out = append(out, &field{key: key, kind: k, comp: strings.Join(comp, ""), file: file, node: n, route: r, path: p, object: obj, value: n.Value, flow: n.Style&yaml.FlowStyle != 0})
		}
	}
	spec, sr, sp := child(root, route, "", "spec")
	switch {
	case kind == "Kustomization" && strings.HasPrefix(api, "kustomize.config.k8s.io/"):
		imgs, ir, ip := child(root, route, "", "images")
		if imgs != nil && imgs.Kind == yaml.SequenceNode {
			for i, it := range imgs.Content {
				n := yamlsplice.MappingScalar(it, "name")
				if n == "" {
					continue
				}
				r := yamlsplice.AppendRoute(ir, i)
				p := ip + "[" + strconv.Itoa(i) + "]"
				t, tr, _ := child(it, r, "", "newTag")
				add(t, tr, p+".newTag", "image/"+n, KindImage, "tag")
				d, dr, _ := child(it, r, "", "digest")
				add(d, dr, p+".digest", "image/"+n, KindImage, "digest")
			}
		}
		return out
	case kind == "HelmRelease":
		c, cr, cp := child(spec, sr, sp, "chart")
		c, cr, cp = child(c, cr, cp, "spec")
		v, vr, vp := child(c, cr, cp, "version")
		add(v, vr, vp, "chart/HelmRelease/"+name+"/version", KindChart)
		vals, valr, valp := child(spec, sr, sp, "values")
		out = append(out, imageFields(file, obj, vals, valr, valp, true)...)
		return out
	case kind == "OCIRepository":
		ref, rr, rp := child(spec, sr, sp, "ref")
		t, tr, tp := child(ref, rr, rp, "tag")
		add(t, tr, tp, "chart/OCIRepository/"+name+"/tag", KindChart)
		s, str, stp := child(ref, rr, rp, "semver")
		add(s, str, stp, "chart/OCIRepository/"+name+"/semver", KindChart)
		return out
	case kind == "HelmChart":
		v, vr, vp := child(spec, sr, sp, "version")
		add(v, vr, vp, "chart/HelmChart/"+name+"/version", KindChart)
		return out
	case kind == "Kustomization" && strings.HasPrefix(api, "kustomize.toolkit.fluxcd.io/"):
		pb, pr, pp := child(spec, sr, sp, "postBuild")
		sub, subr, subp := child(pb, pr, pp, "substitute")
		if sub != nil && sub.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(sub.Content); i += 2 {
				k := sub.Content[i].Value
				add(sub.Content[i+1], yamlsplice.AppendRoute(subr, i+1), subp+"."+k, "var/"+k, KindVar)
			}
		}
		return out
	}
	return imageFields(file, obj, root, route, "", false)
}

// imageFields finds image references under n: every image: field holding
// a whole reference, and, in HelmRelease values, repository/tag pairs.
func imageFields(file, obj string, n *yaml.Node, route []int, p string, values bool) []*field {
	var out []*field
	var walk func(n *yaml.Node, route []int, p string, flow bool)
	walk = func(n *yaml.Node, route []int, p string, flow bool) {
		if n == nil {
			return
		}
		flow = flow || n.Style&yaml.FlowStyle != 0
		switch n.Kind {
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, yamlsplice.AppendRoute(route, i), p+"["+strconv.Itoa(i)+"]", flow)
			}
		case yaml.MappingNode:
			if values {
				repo := yamlsplice.MappingScalar(n, "repository")
				if reg := yamlsplice.MappingScalar(n, "registry"); reg != "" && repo != "" {
					repo = reg + "/" + repo
				}
				if t, tr, tp := child(n, route, p, "tag"); repo != "" && scalar(t) {
					out = append(out, &field{key: "image/" + repo, kind: KindImage, comp: "tag", file: file, node: t, route: tr, path: tp, object: obj, value: t.Value, flow: flow})
				}
			}
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i].Value, n.Content[i+1]
				q := k
				if p != "" {
					q = p + "." + k
				}
				r := yamlsplice.AppendRoute(route, i+1)
				if k == "image" && scalar(v) {
					if ref, ok := parseImage(v.Value); ok && (ref.tag != "" || ref.digest != "") {
						out = append(out, &field{key: "image/" + ref.name, kind: KindImage, comp: "ref", file: file, node: v, route: r, path: q, object: obj, value: v.Value, ref: &ref, flow: flow})
					}
					continue
				}
				walk(v, r, q, flow)
			}
		}
	}
	walk(n, route, p, false)
	return out
}

// ComputeAll plans each promotion in turn.
func ComputeAll(fsys fs.FS, ps []Promotion) ([]*Plan, error) {
	var out []*Plan
	for _, p := range ps {
		plan, err := Compute(fsys, p)
		if err != nil {
			return nil, fmt.Errorf("promotion %s: %w", p.Name, err)
		}
		out = append(out, plan)
	}
	return out, nil
}
