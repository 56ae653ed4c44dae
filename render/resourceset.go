package render

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"text/template"

	sprig "github.com/go-task/slim-sprig/v3"
	"github.com/gosimple/slug"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	kjson "k8s.io/apimachinery/pkg/util/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/fluxgate/fluxgate/fleet"
)

// Flux Operator's ResourceSet (fluxcd.controlplane.io/v1) is a template of
// objects: spec.resources (objects whose strings hold templates) and
// spec.resourcesTemplate (a multi-document YAML template) are rendered once
// per input set with Go templates delimited by << and >>, the slim-sprig
// functions, slugify, toYaml and an inputs function returning the input
// set. A ResourceSet whose inputs are all written in spec.inputs is
// rendered here and its objects join the unit that applies the
// ResourceSet: references to them resolve, their HelmReleases and
// Kustomizations become units, and they are schema-checked. One whose
// inputs come from ResourceSetInputProviders (spec.inputsFrom) is not
// guessed at: references to objects of the kinds it templates are
// warnings saying so.

const (
	groupControlPlane = "fluxcd.controlplane.io"
	// resourceSetOwner is the group of the owner labels flux-operator puts
	// on every object of a ResourceSet.
	resourceSetOwner = "resourceset." + groupControlPlane
	// reconcileAnnotation set to disabled leaves an object out.
	reconcileAnnotation = groupControlPlane + "/reconcile"
)

// providerSet is a ResourceSet whose objects are not rendered: its inputs
// come from input providers, or it uses what is not supported offline.
type providerSet struct {
	cluster, ref, file string
	line               int
	// why completes "may produce it ...".
	why string
	// templates are the kinds and names (as written, templated or not) of
	// the objects it declares, with their namespaces.
	templates []templateRef
}

type templateRef struct{ kind, namespace, name string }

// may reports whether the ResourceSet may produce kind/namespace/name.
func (p providerSet) may(kind, namespace, name string) bool {
	for _, t := range p.templates {
		if t.kind != kind {
			continue
		}
		if t.namespace != "" && !strings.Contains(t.namespace, "<<") && t.namespace != namespace {
			continue
		}
		if strings.Contains(t.name, "<<") || t.name == name {
			return true
		}
	}
	return false
}

// expandResourceSets renders the ResourceSets among a unit's objects and
// adds their objects to the unit; it returns the jobs of the HelmReleases
// and Kustomizations among them.
func (r *renderer) expandResourceSets(u *Unit, j job) []job {
	if u.expanded {
		return nil // a unit reused from another render: already done
	}
	u.expanded = true
	var gen []*Object
	for _, o := range u.Objects {
		api, kind := o.GVK()
		if kind != "ResourceSet" || apiGroup(api) != groupControlPlane {
			continue
		}
		obj := o.Value()
		if obj == nil {
			continue
		}
		rs := unstructured.Unstructured{Object: obj}
		if providers := inputProviders(obj); len(providers) > 0 {
			r.addProviderSet(providerSet{cluster: j.cluster, ref: o.Ref(), file: o.File, line: o.Line,
				why:       "from the inputs of " + strings.Join(providers, ", ") + ", which are only known in the cluster",
				templates: resourceTemplates(obj)})
			continue
		}
		if rs.GetAnnotations()[reconcileAnnotation] == "disabled" {
			continue
		}
		objs, err := buildResourceSet(obj)
		if errors.Is(err, errUnsupported) {
			u.Problems = append(u.Problems, fleet.Problem{Rule: fleet.RuleSourceUnavailable, Severity: fleet.SeverityWarning,
				File: o.File, Line: o.Line, Object: o.Ref(), Message: fmt.Sprintf("ResourceSet %v; its objects are not rendered", err)})
			r.addProviderSet(providerSet{cluster: j.cluster, ref: o.Ref(), file: o.File, line: o.Line,
				why: fmt.Sprintf("(%v)", err), templates: resourceTemplates(obj)})
			continue
		}
		if err != nil {
			u.Problems = append(u.Problems, fleet.Problem{Rule: fleet.RuleRenderFailed, Severity: fleet.SeverityError,
				File: o.File, Line: o.Line, Object: o.Ref(), Message: "ResourceSet build failed: " + err.Error()})
			continue
		}
		resLines, docLines := r.resourceSetLines(o)
		for _, g := range objs {
			line := o.Line
			switch {
			case g.resource >= 0 && g.resource < len(resLines):
				line = resLines[g.resource]
			case g.doc >= 0 && g.doc < len(docLines):
				line = docLines[g.doc]
			}
			gen = append(gen, &Object{Object: g.obj, File: o.File, Line: line, GeneratedBy: o.Ref()})
		}
	}
	if len(gen) == 0 {
		return nil
	}
	u.Objects = append(u.Objects, gen...)
	return r.childrenOf(u, j, gen)
}

// resourceSetLines reads the file of a ResourceSet written in the
// repository for the lines of its templates (see sourceLines); nil when
// the object is not a document of the file or the file cannot be read.
func (r *renderer) resourceSetLines(o *Object) (resources, docs []int) {
	written := false
	for _, d := range r.repo.DocsInFile(o.File) {
		written = written || (d.Line == o.Line && d.Kind == "ResourceSet")
	}
	if !written || r.need(false, o.File) != nil {
		// Not written as such (a chart's output, a patched copy): the
		// ResourceSet's own line will do.
		return nil, nil
	}
	data, err := os.ReadFile(filepath.Join(r.opts.Dir, filepath.FromSlash(o.File)))
	if err != nil {
		return nil, nil
	}
	return sourceLines(strings.Split(string(data), "\n"), o.Line)
}

func (r *renderer) addProviderSet(p providerSet) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.providerSets = append(r.providerSets, p)
}

// inputProviders lists the input providers of a ResourceSet's
// spec.inputsFrom, as Kind/name (or Kind with a selector).
func inputProviders(obj map[string]any) []string {
	from, _, _ := unstructured.NestedSlice(obj, "spec", "inputsFrom")
	var out []string
	for _, f := range from {
		m, _ := f.(map[string]any)
		kind, _ := m["kind"].(string)
		if kind == "" {
			kind = "ResourceSetInputProvider"
		}
		name, _ := m["name"].(string)
		if name == "" {
			name = "(selector)"
		}
		out = append(out, kind+"/"+name)
	}
	return out
}

// resourceTemplates lists the kinds, namespaces and names a ResourceSet's
// spec.resources and spec.resourcesTemplate write, unrendered.
func resourceTemplates(obj map[string]any) []templateRef {
	var out []templateRef
	add := func(m map[string]any) {
		kind, _ := m["kind"].(string)
		ns, _, _ := unstructured.NestedString(m, "metadata", "namespace")
		name, _, _ := unstructured.NestedString(m, "metadata", "name")
		out = append(out, templateRef{kind, ns, name})
	}
	specs := []map[string]any{}
	if spec, ok := obj["spec"].(map[string]any); ok {
		specs = append(specs, spec)
		steps, _ := spec["steps"].([]any)
		for _, st := range steps {
			if m, ok := st.(map[string]any); ok {
				specs = append(specs, m)
			}
		}
	}
	var tmpls []string
	for _, spec := range specs {
		res, _ := spec["resources"].([]any)
		for _, e := range res {
			if m, ok := e.(map[string]any); ok {
				add(m)
			}
		}
		if t, ok := spec["resourcesTemplate"].(string); ok {
			tmpls = append(tmpls, t)
		}
	}
	// A multi-document template cannot be parsed before it is rendered:
	// read the kind, namespace and name lines of each document.
	for _, doc := range strings.Split(strings.Join(tmpls, "\n---\n"), "\n---") {
		var t templateRef
		meta := false
		for _, l := range strings.Split(doc, "\n") {
			trimmed := strings.TrimSpace(l)
			switch {
			case strings.HasPrefix(l, "kind:"):
				t.kind = strings.TrimSpace(strings.TrimPrefix(l, "kind:"))
			case strings.HasPrefix(l, "metadata:"):
				meta = true
			case meta && strings.HasPrefix(trimmed, "name:") && t.name == "":
				t.name = strings.Trim(strings.TrimSpace(strings.TrimPrefix(trimmed, "name:")), `"'`)
			case meta && strings.HasPrefix(trimmed, "namespace:") && t.namespace == "":
				t.namespace = strings.Trim(strings.TrimSpace(strings.TrimPrefix(trimmed, "namespace:")), `"'`)
			}
		}
		if t.kind != "" {
			out = append(out, t)
		}
	}
	return out
}

// buildResourceSet renders a ResourceSet with its spec.inputs (Flatten:
// each input set, with its provider block, once; no inputs: the templates
// once without inputs), objects from spec.resources first, then those of
// spec.resourcesTemplate, deduplicated by group, kind, namespace and name;
// objects annotated fluxcd.controlplane.io/reconcile: disabled are left
// out (but for spec.resources rendered without inputs, as upstream). Every object gets the owner labels and spec.commonMetadata, and a
// namespaced object written without a namespace the ResourceSet's.
func buildResourceSet(obj map[string]any) ([]rsObject, error) {
	rs := unstructured.Unstructured{Object: obj}
	if s, _, _ := unstructured.NestedString(obj, "spec", "inputStrategy", "name"); s != "" && s != "Flatten" {
		return nil, fmt.Errorf("inputStrategy %s: %w", s, errUnsupported)
	}
	if steps, _, _ := unstructured.NestedSlice(obj, "spec", "steps"); len(steps) > 0 {
		return nil, fmt.Errorf("spec.steps: %w", errUnsupported)
	}
	raw, _, _ := unstructured.NestedSlice(obj, "spec", "inputs")
	var inputs []map[string]any
	for i, in := range raw {
		m, ok := in.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("spec.inputs[%d] is not a map", i)
		}
		set := fleet.CopyValue(m).(map[string]any)
		set["provider"] = map[string]any{
			"apiVersion": groupControlPlane + "/v1",
			"kind":       "ResourceSet",
			"name":       rs.GetName(),
			"namespace":  rs.GetNamespace(),
		}
		inputs = append(inputs, set)
	}
	sets := inputs
	if len(sets) == 0 {
		sets = []map[string]any{nil}
	}
	var out []rsObject
	seen := map[string]bool{}
	// add keeps an object; filter (every object but those of spec.resources
	// rendered without inputs, as upstream) leaves out the disabled ones
	// and the duplicates.
	add := func(o rsObject, filter bool) {
		u := unstructured.Unstructured{Object: o.obj}
		key := strings.Join([]string{u.GroupVersionKind().Group, u.GetKind(), u.GetNamespace(), u.GetName()}, "/")
		if filter && (u.GetAnnotations()[reconcileAnnotation] == "disabled" || seen[key]) {
			return
		}
		seen[key] = true
		out = append(out, o)
	}
	resources, _, _ := unstructured.NestedSlice(obj, "spec", "resources")
	for i, res := range resources {
		b, err := json.Marshal(res)
		if err != nil {
			return nil, err
		}
		text, err := yaml.JSONToYAML(b)
		if err != nil {
			return nil, fmt.Errorf("spec.resources[%d]: %w", i, err)
		}
		for _, set := range sets {
			objs, err := renderTemplate(string(text), set)
			if err != nil {
				return nil, fmt.Errorf("spec.resources[%d]: %w", i, err)
			}
			if len(objs) != 1 {
				return nil, fmt.Errorf("spec.resources[%d]: renders %d objects, want one", i, len(objs))
			}
			add(rsObject{obj: objs[0], resource: i, doc: -1}, len(inputs) > 0)
		}
	}
	if text, _, _ := unstructured.NestedString(obj, "spec", "resourcesTemplate"); text != "" {
		docs := len(templateDocs(text))
		for _, set := range sets {
			objs, err := renderTemplate(text, set)
			if err != nil {
				return nil, fmt.Errorf("spec.resourcesTemplate: %w", err)
			}
			for d, o := range objs {
				doc := -1
				if len(objs) == docs {
					doc = d // one object per written document
				}
				add(rsObject{obj: o, resource: -1, doc: doc}, true)
			}
		}
	}
	labels, _, _ := unstructured.NestedStringMap(obj, "spec", "commonMetadata", "labels")
	annotations, _, _ := unstructured.NestedStringMap(obj, "spec", "commonMetadata", "annotations")
	for _, o := range out {
		u := unstructured.Unstructured{Object: o.obj}
		if u.GetNamespace() == "" && !IsClusterScopedKind(u.GetAPIVersion(), u.GetKind(), nil) {
			u.SetNamespace(rs.GetNamespace())
		}
		l := u.GetLabels()
		if l == nil {
			l = map[string]string{}
		}
		l[resourceSetOwner+"/name"] = rs.GetName()
		l[resourceSetOwner+"/namespace"] = rs.GetNamespace()
		for k, v := range labels {
			l[k] = v
		}
		u.SetLabels(l)
		if len(annotations) > 0 {
			a := u.GetAnnotations()
			if a == nil {
				a = map[string]string{}
			}
			for k, v := range annotations {
				a[k] = v
			}
			u.SetAnnotations(a)
		}
	}
	return out, nil
}

// rsObject is an object a ResourceSet renders, and what it renders it
// from: spec.resources[resource], or document doc of
// spec.resourcesTemplate (-1 when unknown or not from there).
type rsObject struct {
	obj           map[string]any
	resource, doc int
}

// templateDocs splits a multi-document template into its documents as
// written: the text of each, between "---" lines, that holds more than
// comments.
func templateDocs(text string) [][]string {
	var out [][]string
	var cur []string
	content := false
	flush := func() {
		if content {
			out = append(out, cur)
		}
		cur, content = nil, false
	}
	for _, l := range strings.Split(text, "\n") {
		t := strings.TrimSpace(l)
		if t == "---" {
			flush()
			continue
		}
		cur = append(cur, l)
		if t != "" && !strings.HasPrefix(t, "#") {
			content = true
		}
	}
	flush()
	return out
}

// sourceLines finds, in the lines of the file holding a ResourceSet
// document that starts at line docLine, the line of each spec.resources
// item and of each spec.resourcesTemplate document (its first line with
// content); 0 where not found.
func sourceLines(lines []string, docLine int) (resources, docs []int) {
	indent := func(l string) int { return len(l) - len(strings.TrimLeft(l, " ")) }
	blank := func(l string) bool {
		t := strings.TrimSpace(l)
		return t == "" || strings.HasPrefix(t, "#")
	}
	child := -1 // the indentation of spec's fields
	for i := docLine - 1; i >= 0 && i < len(lines); i++ {
		l := lines[i]
		if i > docLine-1 && strings.TrimRight(l, " ") == "---" {
			break // the next document
		}
		if blank(l) {
			continue
		}
		t := strings.TrimSpace(l)
		if t == "spec:" && indent(l) == 0 {
			for k := i + 1; k < len(lines); k++ {
				if !blank(lines[k]) {
					child = indent(lines[k])
					break
				}
			}
			continue
		}
		if child <= 0 || indent(l) != child {
			continue
		}
		switch {
		case t == "resources:":
			item := -1
			for k := i + 1; k < len(lines); k++ {
				if blank(lines[k]) {
					continue
				}
				n, lt := indent(lines[k]), strings.TrimSpace(lines[k])
				isItem := strings.HasPrefix(lt, "- ") || lt == "-"
				if item < 0 {
					if !isItem || n < child {
						break
					}
					item = n
				}
				if n < item || (n == item && !isItem) {
					break
				}
				if n == item {
					resources = append(resources, k+1)
				}
			}
		case strings.HasPrefix(t, "resourcesTemplate:"):
			content := false
			for k := i + 1; k < len(lines); k++ {
				if !blank(lines[k]) && indent(lines[k]) <= child {
					break
				}
				bt := strings.TrimSpace(lines[k])
				if bt == "---" {
					content = false
					continue
				}
				if !content && bt != "" && !strings.HasPrefix(bt, "#") {
					content = true
					docs = append(docs, k+1)
				}
			}
		}
	}
	return resources, docs
}

var slugOnce sync.Once

// slugify is gosimple/slug's Make as flux-operator configures it: at most
// 63 characters (a label value), truncated between words.
func slugify(s string) string {
	slugOnce.Do(func() {
		slug.MaxLength = 63
		slug.EnableSmartTruncate = true
	})
	return slug.Make(s)
}

// renderTemplate executes a ResourceSet template with one input set and
// reads the objects of the multi-document YAML it writes.
func renderTemplate(text string, set map[string]any) ([]map[string]any, error) {
	tp, err := template.New("resourceset").
		Delims("<<", ">>").
		Funcs(sprig.HermeticTxtFuncMap()).
		Funcs(template.FuncMap{
			"slugify":    slugify,
			"inputs":     func() any { return set },
			"toYaml":     toYAML,
			"mustToYaml": mustToYAML,
		}).
		Option("missingkey=error").
		Parse(text)
	if err != nil {
		return nil, fmt.Errorf("parse template: %w", err)
	}
	var b bytes.Buffer
	if err := tp.Execute(&b, nil); err != nil {
		return nil, fmt.Errorf("execute template: %w", err)
	}
	var out []map[string]any
	reader := utilyaml.NewYAMLReader(bufio.NewReader(&b))
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read rendered YAML: %w", err)
		}
		j, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return nil, fmt.Errorf("read rendered YAML: %w", err)
		}
		if string(bytes.TrimSpace(j)) == "null" {
			continue
		}
		var m map[string]any
		if err := kjson.Unmarshal(j, &m); err != nil {
			return nil, fmt.Errorf("rendered document is not an object: %w", err)
		}
		u := unstructured.Unstructured{Object: m}
		if u.GetAPIVersion() == "" || u.GetKind() == "" || u.GetName() == "" {
			return nil, fmt.Errorf("rendered object without apiVersion, kind or name: %s", strings.TrimSpace(string(doc)))
		}
		out = append(out, m)
	}
}

func toYAML(v any) string {
	s, err := mustToYAML(v)
	if err != nil {
		return ""
	}
	return s
}

func mustToYAML(v any) (string, error) {
	b, err := yaml.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// fromProviderSet rewrites a source-not-found problem about
// kind/namespace/name into a warning when a ResourceSet of the cluster
// whose inputs come from input providers may produce that object.
func (r *renderer) fromProviderSet(cluster, kind, namespace, name string, p *fleet.Problem) {
	if p == nil || p.Rule != fleet.RuleSourceNotFound {
		return
	}
	r.mu.Lock()
	sets := append([]providerSet(nil), r.providerSets...)
	r.mu.Unlock()
	for _, s := range sets {
		if s.cluster != cluster || !s.may(kind, namespace, name) {
			continue
		}
		p.Rule, p.Severity = fleet.RuleSourceUnavailable, fleet.SeverityWarning
		p.Message = fmt.Sprintf("%s is not defined in the repository; ResourceSet %s (%s:%d) may produce it %s",
			fleet.ObjectRef(kind, namespace, name), s.ref, s.file, s.line, s.why)
		return
	}
}

// generatedSource rewrites a source-not-found problem about a sourceRef
// that a ResourceSet of the render defines: the source exists, but is not
// this work tree.
func (r *renderer) generatedSource(j job, kind, namespace, name string, p *fleet.Problem) {
	if p == nil || p.Rule != fleet.RuleSourceNotFound {
		return
	}
	for q := j.parent; q != nil; q = q.parent {
		for _, o := range q.Objects {
			if o.GeneratedBy == "" || !o.is(kind, namespace, name) {
				continue
			}
			p.Rule, p.Severity = fleet.RuleSourceUnavailable, fleet.SeverityWarning
			p.Message = fmt.Sprintf("source %s is defined by ResourceSet %s (%s:%d) and is not this work tree; its units are not rendered (map it with --source %s=DIR)",
				fleet.ObjectRef(kind, namespace, name), o.GeneratedBy, o.File, o.Line, fleet.ObjectRef(kind, namespace, name))
			return
		}
	}
	r.fromProviderSet(j.cluster, kind, namespace, name, p)
}
