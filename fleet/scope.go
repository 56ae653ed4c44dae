package fleet

import (
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"

	"sigs.k8s.io/yaml"
)

// ChangeScope tells, for a change between two revisions of a repository,
// which builds the change can reach. It looks at both revisions, so a
// build judged unreached is unreached on both sides and renders the same
// in each. Every answer errs on the side of "reached".
type ChangeScope struct {
	repos   []*Repo
	changed []string
	// all is set when a change reaches every build (ignore rules).
	all bool
	// valuesChanged: a changed file holds a ConfigMap or Secret, or a
	// kustomize generator, that substitution, values or credentials may
	// read; sourcesChanged: a changed file holds a Flux source.
	valuesChanged, sourcesChanged bool
	// referenced names the ConfigMaps and Secrets Flux objects read
	// (substituteFrom, valuesFrom, secretRef, certSecretRef); anyName is
	// set when a name is itself substituted.
	referenced map[string]bool
	anyName    bool
	// filesByDir indexes each revision's YAML files by directory.
	filesByDir []map[string][]string

	// reached caches, per revision, the directories a build of a
	// directory reaches (Touches and Leaf ask for the same ones, from
	// concurrent builds).
	mu      sync.Mutex
	reached [2]map[string]map[string]bool
	// quietMemo remembers Quiet's answers by cluster, directory and
	// whether the building spec sets a target namespace.
	quietMemo map[string]bool
}

// closure returns the directories a kustomize build of dir reaches in
// revision i. The result is shared: do not modify it.
func (s *ChangeScope) closure(i int, dir string) map[string]bool {
	dir = path.Clean(dir)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reached[i] == nil {
		s.reached[i] = map[string]map[string]bool{}
	}
	if seen, ok := s.reached[i][dir]; ok {
		return seen
	}
	seen := map[string]bool{}
	s.repos[i].reach(dir, seen)
	s.reached[i][dir] = seen
	return seen
}

// NewChangeScope describes the change of the files changed (paths relative
// to the root, as gitrepo lists them) between the revisions loaded as
// base and head.
func NewChangeScope(base, head *Repo, changed []string) *ChangeScope {
	s := &ChangeScope{repos: []*Repo{base, head}, changed: changed, referenced: map[string]bool{}, quietMemo: map[string]bool{}}
	for _, f := range changed {
		if b := path.Base(f); b == ".sourceignore" || b == ".gitignore" {
			s.all = true
		}
	}
	for _, r := range s.repos {
		for _, d := range r.Docs {
			if strings.Contains(d.APIVersion, ".fluxcd.io/") {
				collectRefs(d.Object, s.referenced, &s.anyName)
			}
		}
	}
	for _, r := range s.repos {
		for _, f := range changed {
			for _, d := range r.byFile[f] {
				switch {
				case (d.Kind == "ConfigMap" || d.Kind == "Secret") && s.isReferenced(d.Name):
					s.valuesChanged = true
				case strings.HasPrefix(d.APIVersion, GroupSource+"/") || strings.HasPrefix(d.APIVersion, GroupSourceExtensions+"/"):
					s.sourcesChanged = true
				}
			}
			if k, ok := r.kustFiles[path.Dir(f)]; ok && k.file == f {
				for _, n := range k.generated {
					if s.isReferenced(n) {
						s.valuesChanged = true
					}
				}
			}
		}
	}
	s.filesByDir = make([]map[string][]string, len(s.repos))
	for i, r := range s.repos {
		m := map[string][]string{}
		for f := range r.byFile {
			m[path.Dir(f)] = append(m[path.Dir(f)], f)
		}
		s.filesByDir[i] = m
	}
	return s
}

// isReferenced reports whether a Flux object may read the ConfigMap or
// Secret name.
func (s *ChangeScope) isReferenced(name string) bool { return s.anyName || s.referenced[name] }

// collectRefs adds the names of the ConfigMaps and Secrets a Flux object
// reads.
func collectRefs(v any, names map[string]bool, anyName *bool) {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			switch k {
			case "substituteFrom", "valuesFrom":
				list, _ := e.([]any)
				for _, item := range list {
					if m, ok := item.(map[string]any); ok {
						addName(m["name"], names, anyName)
					}
				}
			case "secretRef", "certSecretRef", "kubeConfig", "decryption":
				if m, ok := e.(map[string]any); ok {
					addName(m["name"], names, anyName)
				}
			}
			collectRefs(e, names, anyName)
		}
	case []any:
		for _, e := range t {
			collectRefs(e, names, anyName)
		}
	case string:
		// Patches in a Flux object (a parent patching its children) may
		// add references: read them as YAML; when that finds none, any
		// name may be read.
		if !strings.Contains(t, "substituteFrom") && !strings.Contains(t, "valuesFrom") && !strings.Contains(t, "secretRef") {
			return
		}
		before := len(names)
		var v any
		if yaml.Unmarshal([]byte(t), &v) == nil {
			collectRefs(v, names, anyName)
		}
		if len(names) == before {
			*anyName = true
		}
	}
}

func addName(v any, names map[string]bool, anyName *bool) {
	n, _ := v.(string)
	if n == "" {
		return
	}
	if strings.Contains(n, "${") {
		*anyName = true
	}
	names[n] = true
}

// Touches reports whether a kustomize build of dir (relative to the root)
// can read a changed file: a file in a directory it reaches, or a path one
// of its kustomization files names.
func (s *ChangeScope) Touches(dir string) bool {
	if s.all {
		return true
	}
	for i, r := range s.repos {
		seen := s.closure(i, dir)
		for _, f := range s.changed {
			if seen[path.Dir(f)] {
				return true
			}
		}
		for d := range seen {
			k, ok := r.kustFiles[d]
			if !ok {
				continue
			}
			for _, ref := range k.refs {
				for _, f := range s.changed {
					if isUnder(f, ref) {
						return true
					}
				}
			}
		}
	}
	return false
}

// StaticValues reports whether every ConfigMap and Secret the Flux object
// reads values from (a Kustomization's postBuild.substituteFrom, a
// HelmRelease's valuesFrom) is a document of the repository, in its
// namespace, in both revisions: its content then changes only with a
// changed file, which ValuesChanged sees. One that only a build makes (a
// generator, another unit's output, a remote source) may change with any
// build, so the object's unit cannot be left out or taken from the other
// revision.
func (s *ChangeScope) StaticValues(obj map[string]any) bool {
	ns := str(obj, "metadata", "namespace")
	var refs []any
	for _, f := range [][]string{{"spec", "postBuild", "substituteFrom"}, {"spec", "valuesFrom"}} {
		l, _ := nested(obj, f...).([]any)
		refs = append(refs, l...)
	}
	for _, e := range refs {
		m, _ := e.(map[string]any)
		kind, _ := m["kind"].(string)
		name, _ := m["name"].(string)
		if ns == "" || name == "" || hasVariable(name) {
			return false
		}
		for _, r := range s.repos {
			if len(r.Lookup(kind, ns, name)) == 0 {
				return false
			}
		}
	}
	return true
}

// TouchesBuild is Touches for the build of dir by the Flux Kustomization
// spec (nil for a plain overlay): its spec.components, relative to dir,
// are built with it.
func (s *ChangeScope) TouchesBuild(dir string, spec map[string]any) bool {
	if s.Touches(dir) {
		return true
	}
	for _, c := range SpecComponents(dir, spec) {
		if s.Touches(c) {
			return true
		}
	}
	return false
}

// SpecComponents returns the directories of a Flux Kustomization's
// spec.components (relative to the root; they are relative to dir, the
// Kustomization's path), which kustomize-controller adds to the build.
func SpecComponents(dir string, spec map[string]any) []string {
	list, _ := nested(spec, "spec", "components").([]any)
	var out []string
	for _, c := range list {
		if c, ok := c.(string); ok && c != "" && !isRemote(c) {
			out = append(out, path.Join(dir, c))
		}
	}
	return out
}

// TouchesTree reports whether a changed file is dir or below it (a
// chart's directory).
func (s *ChangeScope) TouchesTree(dir string) bool {
	if s.all {
		return true
	}
	dir = path.Clean(dir)
	for _, f := range s.changed {
		if dir == "." || isUnder(f, dir) {
			return true
		}
	}
	return false
}

// Leaf reports whether a build of dir by the Flux Kustomization spec (nil
// for a plain overlay), its spec.components included, can declare in both
// revisions no Flux object (no further unit, no source) and no ConfigMap or
// Secret that a Flux object reads: leaving it out changes nothing else.
func (s *ChangeScope) Leaf(dir string, spec map[string]any) bool {
	dirs := buildDirs(dir, spec)
	for i, r := range s.repos {
		if s.generatesReferenced(i, dirs) {
			return false
		}
		for f := range s.closureFiles(i, dirs) {
			for _, d := range r.byFile[f] {
				if strings.Contains(d.APIVersion, ".fluxcd.io/") || s.readByFlux(d) {
					return false
				}
			}
		}
	}
	return true
}

// buildDirs are the directories a build of dir by spec starts from: dir
// and its spec.components.
func buildDirs(dir string, spec map[string]any) []string {
	return append([]string{path.Clean(dir)}, SpecComponents(dir, spec)...)
}

// buildClosure returns the directories builds of dirs reach in revision i.
func (s *ChangeScope) buildClosure(i int, dirs []string) map[string]bool {
	if len(dirs) == 1 {
		return s.closure(i, dirs[0])
	}
	out := map[string]bool{}
	for _, d := range dirs {
		for c := range s.closure(i, d) {
			out[c] = true
		}
	}
	return out
}

// closureFiles returns the files builds of dirs may read in revision i:
// those of the directories they reach and those their kustomization files
// name.
func (s *ChangeScope) closureFiles(i int, dirs []string) map[string]bool {
	files := map[string]bool{}
	for d := range s.buildClosure(i, dirs) {
		for _, f := range s.filesByDir[i][d] {
			files[f] = true
		}
		if k, ok := s.repos[i].kustFiles[d]; ok {
			for _, ref := range k.refs {
				files[ref] = true
			}
		}
	}
	return files
}

// generatesReferenced reports whether a kustomization file builds of dirs
// reach in revision i generates a ConfigMap or Secret a Flux object may
// read.
func (s *ChangeScope) generatesReferenced(i int, dirs []string) bool {
	for d := range s.buildClosure(i, dirs) {
		if k, ok := s.repos[i].kustFiles[d]; ok && slices.ContainsFunc(k.generated, s.isReferenced) {
			return true
		}
	}
	return false
}

// readByFlux reports whether d is a ConfigMap or Secret a Flux object may
// read.
func (s *ChangeScope) readByFlux(d *Document) bool {
	return (d.Kind == "ConfigMap" || d.Kind == "Secret") && s.isReferenced(d.Name)
}

// Quiet reports whether a build of dir that the change does not reach
// declares, in both revisions, only units the change cannot reach either,
// down to the last descendant, and nothing another unit looks up (a
// source, a ConfigMap or Secret a Flux object reads). Leaving it out with
// everything below it then changes nothing a diff compares. spec is the
// Flux Kustomization building dir (nil for a plain overlay), cluster the
// entry point, for resolving sources.
//
// A child's path, source and chart are read as its file declares them, so
// anything that may rewrite them makes the answer "no": variables in them,
// a patch or replacement that may target a Flux object (in spec or in a
// kustomization file), a namespace change with a sourceRef that relies on
// the object's namespace.
func (s *ChangeScope) Quiet(cluster, dir string, spec map[string]any) bool {
	if s.all {
		return false
	}
	return s.quiet(cluster, dir, spec, &quietWalk{visiting: map[string]bool{}})
}

// quietWalk is the state of one Quiet question: the directories being
// answered, and how many answers assumed one of those quiet (a cycle),
// which are not remembered.
type quietWalk struct {
	visiting map[string]bool
	cuts     int
}

func (s *ChangeScope) quiet(cluster, dir string, spec map[string]any, w *quietWalk) bool {
	dir = path.Clean(dir)
	if w.visiting[dir] {
		w.cuts++
		return true // being answered further up
	}
	if patches, _ := nested(spec, "spec", "patches").([]any); slices.ContainsFunc(patches, mayPatchFlux) {
		return false
	}
	renamespaced := str(spec, "spec", "targetNamespace") != ""
	dirs := buildDirs(dir, spec)
	key := cluster + "\x00" + strings.Join(dirs, "\x00") + "\x00" + strconv.FormatBool(renamespaced)
	s.mu.Lock()
	q, ok := s.quietMemo[key]
	s.mu.Unlock()
	if ok {
		return q
	}
	w.visiting[dir] = true
	cuts := w.cuts
	q = s.quietBuild(cluster, dirs, renamespaced, w)
	delete(w.visiting, dir)
	if w.cuts == cuts {
		s.mu.Lock()
		s.quietMemo[key] = q
		s.mu.Unlock()
	}
	return q
}

// quietBuild answers quiet for a build of dirs (a directory and its
// spec.components) once the spec is checked.
func (s *ChangeScope) quietBuild(cluster string, dirs []string, renamespaced bool, w *quietWalk) bool {
	for i, r := range s.repos {
		if s.generatesReferenced(i, dirs) {
			return false
		}
		renamespaced := renamespaced
		for d := range s.buildClosure(i, dirs) {
			if k, ok := r.kustFiles[d]; ok {
				if k.rewrites {
					return false
				}
				renamespaced = renamespaced || k.namespaced
			}
		}
		for f := range s.closureFiles(i, dirs) {
			for _, d := range r.byFile[f] {
				group, _, _ := strings.Cut(d.APIVersion, "/")
				switch {
				case s.readByFlux(d), group == GroupSource, group == GroupSourceExtensions:
					return false
				case group == GroupKustomize && d.Kind == "Kustomization":
					if !s.childQuiet(i, cluster, d, renamespaced, w) {
						return false
					}
				case group == GroupHelm && d.Kind == "HelmRelease":
					if sourceNamespaceUnknown(d, renamespaced, "spec", "chart", "spec", "sourceRef") ||
						sourceNamespaceUnknown(d, renamespaced, "spec", "chartRef") ||
						hasVariable(nested(d.Object, "spec", "chart")) || hasVariable(nested(d.Object, "spec", "chartRef")) ||
						s.HelmReleaseReached(cluster, d.Object, d) {
						return false
					}
				}
			}
		}
	}
	return true
}

// childQuiet reports whether the Flux Kustomization d, declared by a build
// the change does not reach, builds nothing the change reaches.
func (s *ChangeScope) childQuiet(i int, cluster string, d *Document, renamespaced bool, w *quietWalk) bool {
	p := str(d.Object, "spec", "path")
	if p == "" || hasVariable(p) || hasVariable(nested(d.Object, "spec", "sourceRef")) ||
		sourceNamespaceUnknown(d, renamespaced, "spec", "sourceRef") {
		return false
	}
	if refs, _ := nested(d.Object, "spec", "postBuild", "substituteFrom").([]any); len(refs) > 0 && (s.ValuesChanged() || renamespaced || !s.StaticValues(d.Object)) {
		return false
	}
	ns := str(d.Object, "spec", "sourceRef", "namespace")
	if ns == "" {
		ns = d.Namespace
	}
	src := s.repos[i].ResolveSourceIn(cluster, str(d.Object, "spec", "sourceRef", "kind"), ns, str(d.Object, "spec", "sourceRef", "name"), d)
	if src.Problem != nil {
		return true // not built from this repository: the same on both sides
	}
	rel := path.Clean("./" + strings.TrimPrefix(p, "/"))
	if rel == ".." || strings.HasPrefix(rel, "../") {
		return true // refused the same way on both sides
	}
	child := path.Join(src.Dir, rel)
	if s.TouchesBuild(child, d.Object) || hasVariable(nested(d.Object, "spec", "components")) {
		return false
	}
	return s.Leaf(child, d.Object) || s.quiet(cluster, child, d.Object, w)
}

// sourceNamespaceUnknown reports whether the sourceRef at fields of d
// takes its namespace from the object, whose namespace a parent may change
// or the file may leave out.
func sourceNamespaceUnknown(d *Document, renamespaced bool, fields ...string) bool {
	ref, ok := nested(d.Object, fields...).(map[string]any)
	if !ok {
		return false
	}
	if ns, _ := ref["namespace"].(string); ns != "" {
		return false
	}
	return renamespaced || d.Namespace == ""
}

// HelmReleaseReached tells whether the change can reach a HelmRelease
// whose declaration it does not change: through its values, its chart's
// source, or its chart's files in this repository (in either revision).
// at locates the HelmRelease for source resolution.
func (s *ChangeScope) HelmReleaseReached(cluster string, hr map[string]any, at *Document) bool {
	if refs, _ := nested(hr, "spec", "valuesFrom").([]any); len(refs) > 0 && (s.ValuesChanged() || !s.StaticValues(hr)) {
		return true
	}
	if s.SourcesChanged() {
		return true
	}
	if _, ok := nested(hr, "spec", "chartRef").(map[string]any); ok {
		// An OCIRepository's chart is fetched by digest or tag, the same on
		// both sides unless the source changed; a HelmChart may build from
		// files of this repository.
		return str(hr, "spec", "chartRef", "kind") != "OCIRepository"
	}
	kind := str(hr, "spec", "chart", "spec", "sourceRef", "kind")
	if kind != "GitRepository" && kind != "Bucket" {
		return false // a chart repository's chart, by name and version
	}
	ns := str(hr, "spec", "chart", "spec", "sourceRef", "namespace")
	if ns == "" {
		ns = str(hr, "metadata", "namespace")
	}
	name := str(hr, "spec", "chart", "spec", "sourceRef", "name")
	for _, r := range s.repos {
		src := r.ResolveSourceIn(cluster, kind, ns, name, at)
		if src.Problem != nil {
			return true // the build reports it
		}
		dirs := []string{path.Join(src.Dir, strings.TrimPrefix(str(hr, "spec", "chart", "spec", "chart"), "/"))}
		files, _ := nested(hr, "spec", "chart", "spec", "valuesFiles").([]any)
		for _, f := range files {
			if f, ok := f.(string); ok {
				dirs = append(dirs, path.Join(src.Dir, strings.TrimPrefix(f, "/")))
			}
		}
		if slices.ContainsFunc(dirs, s.TouchesTree) {
			return true
		}
	}
	return false
}

// isUnder reports whether the slash path f is dir or below it.
func isUnder(f, dir string) bool {
	return strings.HasPrefix(f, dir) && (len(f) == len(dir) || f[len(dir)] == '/')
}

// nested returns the value at fields of obj, or nil.
func nested(obj map[string]any, fields ...string) any {
	var v any = obj
	for _, f := range fields {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[f]
	}
	return v
}

// str returns the string at fields of obj, or "".
func str(obj map[string]any, fields ...string) string {
	v, _ := nested(obj, fields...).(string)
	return v
}

// hasVariable reports whether a value holds a ${...} substitution
// variable anywhere.
func hasVariable(v any) bool {
	switch t := v.(type) {
	case string:
		return strings.Contains(t, "${")
	case map[string]any:
		for k, e := range t {
			if strings.Contains(k, "${") || hasVariable(e) {
				return true
			}
		}
	case []any:
		return slices.ContainsFunc(t, hasVariable)
	}
	return false
}

// ValuesChanged reports whether a changed file holds a ConfigMap, a Secret
// or a kustomize generator: substitution variables and Helm values may
// differ.
func (s *ChangeScope) ValuesChanged() bool { return s.all || s.valuesChanged }

// SourcesChanged reports whether a changed file holds a Flux source: the
// chart a HelmRelease uses may differ.
func (s *ChangeScope) SourcesChanged() bool { return s.all || s.sourcesChanged }
