package fleet

import (
	"path"
	"slices"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// kustFile is the part of a kustomization.yaml the graph needs.
type kustFile struct {
	file      string
	component bool
	// includes are local directories named by resources, bases and
	// components, relative to the repository root.
	includes []string
	// remote are the remote bases and resources (URLs) it names.
	remote []string
	// refs are every local path the file may name (any string value, and
	// the part after "=" of generator entries), relative to the repository
	// root: patches, generator files, components, resources.
	refs []string
	// generated are the names of its configMapGenerator and
	// secretGenerator entries.
	generated []string
	// rewrites is set when the file may change a Flux Kustomization or
	// HelmRelease it builds: it has replacements, or a patch that may
	// target those kinds; namespaced when it sets their namespace.
	rewrites, namespaced bool
	// secrets is set when a secretGenerator has literals: Secret values
	// in the file itself (HasSecretLiterals), never written to a cache.
	secrets bool
}

func isKustomizationFile(p string) bool {
	switch path.Base(p) {
	case "kustomization.yaml", "kustomization.yml", "Kustomization":
		return true
	}
	return false
}

func parseKustFile(file string, data []byte) *kustFile {
	var generic map[string]any
	if err := yaml.Unmarshal(data, &generic); err != nil {
		return &kustFile{file: file}
	}
	kind, _ := generic["kind"].(string)
	k := &kustFile{file: file, component: kind == "Component", secrets: HasSecretLiterals(generic)}
	dir := path.Dir(file)
	var lists [][]string
	for _, field := range []string{"resources", "bases", "components"} {
		l, ok := stringList(generic[field])
		if !ok {
			return &kustFile{file: file} // kustomize refuses it too
		}
		lists = append(lists, l)
	}
	k.refs = localRefs(dir, generic, nil)
	if _, ok := generic["helmCharts"]; ok {
		// kustomize's default chart home, when helmGlobals names none.
		k.refs = append(k.refs, path.Join(dir, "charts"))
	}
	k.rewrites = rewritesFlux(generic)
	ns, _ := generic["namespace"].(string)
	k.namespaced = ns != ""
	for _, g := range []string{"configMapGenerator", "secretGenerator"} {
		entries, _ := generic[g].([]any)
		for _, e := range entries {
			if m, ok := e.(map[string]any); ok {
				if n, ok := m["name"].(string); ok {
					k.generated = append(k.generated, n)
				}
			}
		}
	}
	for _, l := range lists {
		for _, e := range l {
			if isRemote(e) {
				k.remote = append(k.remote, e)
				continue
			}
			k.includes = append(k.includes, path.Join(dir, e))
		}
	}
	return k
}

// stringList reads a list of strings; a missing field is an empty list.
func stringList(v any) ([]string, bool) {
	if v == nil {
		return nil, true
	}
	l, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(l))
	for _, e := range l {
		s, ok := e.(string)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// fluxUnitKinds are the kinds whose objects are further units.
var fluxUnitKinds = map[string]bool{"Kustomization": true, "HelmRelease": true}

// rewritesFlux reports whether a kustomization may change the spec of a
// Flux Kustomization or HelmRelease it builds. It errs on the side of
// "yes": any patch is assumed to, unless its target or its own body names
// only other kinds.
func rewritesFlux(k map[string]any) bool {
	if r, _ := k["replacements"].([]any); len(r) > 0 {
		return true
	}
	for _, field := range []string{"patches", "patchesStrategicMerge", "patchesJson6902"} {
		entries, _ := k[field].([]any)
		for _, e := range entries {
			if mayPatchFlux(e) {
				return true
			}
		}
	}
	return false
}

// mayPatchFlux reports whether one patch entry may apply to a Flux
// Kustomization or HelmRelease.
func mayPatchFlux(e any) bool {
	var body string
	switch t := e.(type) {
	case string: // patchesStrategicMerge: inline or a file
		body = t
	case map[string]any:
		if target, ok := t["target"].(map[string]any); ok {
			kind, _ := target["kind"].(string)
			return kind == "" || strings.ContainsAny(kind, `.*+?()[]{}|^$\`) || fluxUnitKinds[kind]
		}
		if _, ok := t["path"]; ok {
			return true
		}
		body, _ = t["patch"].(string)
	default:
		return true
	}
	var doc struct {
		Kind string `json:"kind"`
	}
	if yaml.Unmarshal([]byte(body), &doc) != nil || doc.Kind == "" {
		return true // a file name, a JSON6902 list, or unreadable
	}
	return fluxUnitKinds[doc.Kind]
}

// isRemote reports whether a kustomize resource entry is a URL (kustomize
// fetches those over the network).
func isRemote(e string) bool {
	for _, p := range []string{"git::", "gh:", "ssh://", "https://", "http://", "git@", "github.com/", "github.com:"} {
		if strings.HasPrefix(strings.ToLower(e), p) {
			return true
		}
	}
	return false
}

// RemoteBases lists the remote resources that a kustomize build of dir
// would fetch, as "file: url", from every kustomization file it reaches.
func (r *Repo) RemoteBases(dir string) []string {
	seen := map[string]bool{}
	r.reach(path.Clean(dir), seen)
	var out []string
	for _, d := range sortedKeys(seen) {
		if k, ok := r.kustFiles[d]; ok {
			for _, u := range k.remote {
				out = append(out, k.file+": "+u)
			}
		}
	}
	return out
}

// HasKustomizationFile reports whether dir holds a kustomization file.
func (r *Repo) HasKustomizationFile(dir string) bool {
	_, ok := r.kustFiles[path.Clean(dir)]
	return ok
}

// reach returns every directory a kustomize build of dir reads manifests
// from: the directories its kustomization file includes, transitively, or,
// when it has none, every subdirectory (Flux generates a kustomization.yaml
// listing every manifest below it).
func (r *Repo) reach(dir string, seen map[string]bool) {
	dir = path.Clean(dir)
	if seen[dir] {
		return
	}
	seen[dir] = true
	if k, ok := r.kustFiles[dir]; ok {
		for _, inc := range k.includes {
			if r.dirSet[inc] {
				r.reach(inc, seen)
			}
		}
		return
	}
	for _, d := range r.DirsBelow(dir) {
		if !seen[d] {
			// A subdirectory with its own kustomization file is one
			// resource; one without is scanned with its parent.
			r.reach(d, seen)
		}
	}
}

// EntryPoints returns the cluster entry points, sorted: the path of every
// Kustomization that builds the directory declaring it (the bootstrap
// pattern, clusters/<name> holding flux-system), and every directory that
// declares Flux Kustomizations for a local source and that no local
// Kustomization reaches (neither the directory nor, when a kustomization
// file lists it, the file declaring them). A repository without Flux Kustomizations has as
// entry points its kustomize overlays that no other kustomization includes.
func (r *Repo) EntryPoints() []string {
	type decl struct {
		dir, file, path string
		self            bool
	}
	var decls []decl
	// reached holds the directories another Kustomization's build reaches,
	// read the files it reads: a child declared in a file that its parent's
	// kustomization.yaml lists (resources: [./app/ks.yaml]) is rendered as
	// the parent's build outputs it, patched, never from its file alone.
	reached, read := map[string]bool{}, map[string]bool{}
	for _, fo := range r.Kustomizations() {
		ks := fo.Kustomization()
		if strings.TrimSpace(ks.Spec.Path) == "" {
			continue // the path is patched in by whoever builds it
		}
		root, ok := r.sourceDirNear(ks.Spec.SourceRef.Kind, sourceNamespace(ks.Spec.SourceRef.Namespace, fo.Doc.Namespace), ks.Spec.SourceRef.Name, fo.Doc.File)
		p := path.Join(root, strings.TrimPrefix(ks.Spec.Path, "/"))
		if !ok || !r.dirSet[p] {
			// Its source or path is missing: it still declares its
			// directory, so that the problem is rendered, not skipped.
			decls = append(decls, decl{dir: path.Dir(fo.Doc.File), file: fo.Doc.File})
			continue
		}
		seen := map[string]bool{}
		r.reach(p, seen)
		self := seen[path.Dir(fo.Doc.File)]
		decls = append(decls, decl{dir: path.Dir(fo.Doc.File), file: fo.Doc.File, path: p, self: self})
		if !self {
			for d := range seen {
				reached[d] = true
			}
			for f := range r.buildFiles(seen) {
				read[f] = true
			}
		}
	}
	set := map[string]bool{}
	if len(decls) > 0 {
		for _, d := range decls {
			switch {
			case d.self && !reached[d.path]:
				set[d.path] = true
			case !d.self && !reached[d.dir] && !read[d.file]:
				set[d.dir] = true
			}
		}
		// A directory inside an entry point's build is not an entry point.
		for e := range set {
			seen := map[string]bool{}
			r.reach(e, seen)
			for d := range seen {
				if d != e {
					delete(set, d)
				}
			}
		}
		return sortedKeys(set)
	}
	included := map[string]bool{}
	for _, k := range r.kustFiles {
		for _, inc := range k.includes {
			included[inc] = true
		}
	}
	for dir, k := range r.kustFiles {
		if !k.component && !included[dir] {
			set[dir] = true
		}
	}
	return sortedKeys(set)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sourceNamespace(refNS, objNS string) string {
	if refNS != "" {
		return refNS
	}
	return objNS
}

// checkDependencies reports dependsOn entries that name no Kustomization or
// HelmRelease of the repository, and dependsOn cycles.
func (r *Repo) checkDependencies() {
	type node struct {
		fo   *FluxObject
		deps []string
	}
	nodes := map[string]*node{}
	var order []string
	for _, fo := range r.Flux {
		var deps []string
		switch fo.Doc.Kind {
		case "Kustomization":
			ks := fo.Kustomization()
			if ks == nil {
				continue
			}
			for _, d := range ks.Spec.DependsOn {
				deps = append(deps, ObjectRef("Kustomization", sourceNamespace(d.Namespace, fo.Doc.Namespace), d.Name))
			}
		case "HelmRelease":
			for _, d := range dependsOnOf(fo.Doc.Object) {
				deps = append(deps, ObjectRef("HelmRelease", sourceNamespace(d[0], fo.Doc.Namespace), d[1]))
			}
		default:
			continue
		}
		key := fo.Doc.Ref()
		if _, dup := nodes[key]; dup {
			continue
		}
		nodes[key] = &node{fo: fo, deps: deps}
		order = append(order, key)
	}
	// Flux looks a dependsOn entry without namespace up in the dependent's
	// namespace. A document without a namespace gets one from whoever
	// builds it (a kustomization's namespace field, a parent's
	// targetNamespace): a dependency on Kind/ns/name is met by Kind/name
	// written without one, and Kind/name (from a dependent whose namespace
	// is not written either) by Kind/name in any namespace, the first in
	// file order.
	byName := map[string]string{}
	for _, key := range order {
		parts := strings.Split(key, "/")
		if k := parts[0] + "/" + parts[len(parts)-1]; byName[k] == "" {
			byName[k] = key
		}
	}
	resolve := func(dep string) string {
		if _, ok := nodes[dep]; ok {
			return dep
		}
		parts := strings.Split(dep, "/")
		if len(parts) == 3 {
			if alt := parts[0] + "/" + parts[2]; nodes[alt] != nil {
				return alt
			}
		}
		if len(parts) == 2 && byName[dep] != "" {
			return byName[dep]
		}
		return dep
	}
	hidden, looked := "", false
	for _, key := range order {
		n := nodes[key]
		for i, dep := range n.deps {
			dep = resolve(dep)
			n.deps[i] = dep
			if _, ok := nodes[dep]; !ok {
				// Flux never reconciles an object whose dependency does not
				// exist ("dependency not found", retried forever): an
				// error, unless the dependency may be defined where this
				// run cannot look.
				if !looked {
					hidden, looked = r.hiddenDefinitions(), true
				}
				sev, msg := SeverityError, "dependsOn "+dep+" is not defined in the repository; Flux will not reconcile "+key+" until it exists"
				switch {
				case strings.Contains(dep, "${"):
					sev, msg = SeverityWarning, "dependsOn "+dep+" names a variable; it is not defined in the repository as written"
				case hidden != "":
					sev, msg = SeverityWarning, "dependsOn "+dep+" is not defined in the repository (it may come from "+hidden+", which this run cannot see)"
				}
				r.Problems = append(r.Problems, Problem{
					Rule: RuleDependencyNotFound, Severity: sev,
					File: n.fo.Doc.File, Line: n.fo.Doc.Line, Object: key,
					Message: msg,
				})
			}
		}
	}
	// Cycle detection: depth-first, each cycle reported once at the object
	// of the cycle that comes first in file order.
	const (
		white = iota
		grey
		black
	)
	pos := make(map[string]int, len(order))
	for i, k := range order {
		pos[k] = i
	}
	color := map[string]int{}
	var stack []string
	reported := map[string]bool{}
	var visit func(string)
	visit = func(k string) {
		color[k] = grey
		stack = append(stack, k)
		for _, dep := range nodes[k].deps {
			if _, ok := nodes[dep]; !ok {
				continue
			}
			switch color[dep] {
			case white:
				visit(dep)
			case grey:
				var cyc []string
				for i := len(stack) - 1; i >= 0; i-- {
					cyc = append([]string{stack[i]}, cyc...)
					if stack[i] == dep {
						break
					}
				}
				sig := cycleKey(cyc)
				if !reported[sig] {
					reported[sig] = true
					// Start the cycle at its member first in file order,
					// wherever the search entered it.
					start := 0
					for i, c := range cyc {
						if pos[c] < pos[cyc[start]] {
							start = i
						}
					}
					cyc = append(append([]string{}, cyc[start:]...), cyc[:start]...)
					first := nodes[cyc[0]].fo.Doc
					r.Problems = append(r.Problems, Problem{
						Rule: RuleDependencyCycle, Severity: SeverityError,
						File: first.File, Line: first.Line, Object: cyc[0],
						Message: "dependsOn cycle: " + strings.Join(append(cyc, cyc[0]), " -> "),
					})
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[k] = black
	}
	for _, k := range order {
		if color[k] == white {
			visit(k)
		}
	}
}

func cycleKey(c []string) string {
	s := append([]string(nil), c...)
	sort.Strings(s)
	return strings.Join(s, ",")
}

// dependsOnOf reads spec.dependsOn as (namespace, name) pairs.
func dependsOnOf(obj map[string]any) [][2]string {
	spec, _ := obj["spec"].(map[string]any)
	list, _ := spec["dependsOn"].([]any)
	var out [][2]string
	for _, e := range list {
		m, _ := e.(map[string]any)
		name, _ := m["name"].(string)
		ns, _ := m["namespace"].(string)
		if name != "" {
			out = append(out, [2]string{ns, name})
		}
	}
	return out
}

// localRefs collects the strings of a kustomization file that may name a
// local path, resolved against dir.
func localRefs(dir string, v any, out []string) []string {
	switch t := v.(type) {
	case map[string]any:
		for _, e := range t {
			out = localRefs(dir, e, out)
		}
	case []any:
		for _, e := range t {
			out = localRefs(dir, e, out)
		}
	case string:
		for _, s := range []string{t, t[strings.LastIndex(t, "=")+1:]} {
			if s == "" || strings.ContainsAny(s, "\n:") || path.IsAbs(s) || isRemote(s) {
				continue
			}
			out = append(out, path.Join(dir, s))
		}
	}
	return out
}

// BuildInputs returns what a kustomize build of dir may read, relative to
// the root: the directories it reaches (their files, not their
// subdirectories) and the paths its kustomization files name (files, or
// directories with everything below them). It is what --changed-only
// trusts to find the builds a change reaches.
func (r *Repo) BuildInputs(dir string) (dirs, refs []string) {
	seen := map[string]bool{}
	r.reach(path.Clean(dir), seen)
	dirs = sortedKeys(seen)
	for _, d := range dirs {
		if k, ok := r.kustFiles[d]; ok {
			refs = append(refs, k.refs...)
		}
	}
	return dirs, refs
}

// FilesBelow lists the files of Tree in dir and below it, sorted.
func (r *Repo) FilesBelow(dir string) []string {
	r.sortedOnce.Do(r.sortPaths)
	return below(r.sortedTree, dir)
}

// DirsBelow lists the directories of Dirs below dir (not dir itself),
// sorted.
func (r *Repo) DirsBelow(dir string) []string {
	r.sortedOnce.Do(r.sortPaths)
	return below(r.sortedDirs, dir)
}

func (r *Repo) sortPaths() {
	r.sortedTree = slices.Sorted(slices.Values(r.Tree))
	r.sortedDirs = slices.Sorted(slices.Values(r.Dirs))
	if len(r.sortedDirs) > 0 && r.sortedDirs[0] == "." {
		r.sortedDirs = r.sortedDirs[1:]
	}
}

// below returns the paths of the sorted list that are below dir.
func below(sorted []string, dir string) []string {
	dir = path.Clean(dir)
	if dir == "." {
		return sorted
	}
	// Paths below dir sort together, between dir+"/" and dir+"0" ('/'+1).
	lo, _ := slices.BinarySearch(sorted, dir+"/")
	hi, _ := slices.BinarySearch(sorted, dir+"0")
	return sorted[lo:hi]
}

// BuildSize estimates, without building it, the size of a kustomize build
// of dir: the number of documents in the YAML files of the directories
// the build reaches (its kustomization file's includes, transitively, or
// every subdirectory when it has none). It is 0 for a directory the
// repository does not hold.
func (r *Repo) BuildSize(dir string) int {
	dir = path.Clean(dir)
	if !r.dirSet[dir] {
		return 0
	}
	r.docsByDirOnce.Do(func() {
		r.docsByDir = map[string]int{}
		for f, docs := range r.byFile {
			r.docsByDir[path.Dir(f)] += len(docs)
		}
	})
	seen := map[string]bool{}
	r.reach(dir, seen)
	n := 0
	for d := range seen {
		n += r.docsByDir[d]
	}
	return n
}

// TreeSize counts the files, YAML or not, under dir (a Helm chart's
// directory, say).
func (r *Repo) TreeSize(dir string) int {
	dir = path.Clean(dir)
	prefix := dir + "/"
	if dir == "." {
		prefix = ""
	}
	n := 0
	for _, f := range r.Tree {
		if strings.HasPrefix(f, prefix) {
			n++
		}
	}
	return n
}

// BuildFluxDocs returns, in file order, the documents of a Flux API group
// that a kustomize build of dir may output, judged from the tree alone:
// those of the resource files the kustomization files of the directories
// the build reaches name, and of every file of a reached directory
// without a kustomization file (Flux generates one listing them all).
// Patches and generator inputs do not count. Nothing is built or
// substituted, so it is an estimate (for the weights of a partition of
// the units into shards, say).
func (r *Repo) BuildFluxDocs(dir string) []*Document {
	seen := map[string]bool{}
	r.reach(path.Clean(dir), seen)
	files := r.buildFiles(seen)
	sorted := make([]string, 0, len(files))
	for f := range files {
		sorted = append(sorted, f)
	}
	sort.Strings(sorted)
	var out []*Document
	for _, f := range sorted {
		for _, d := range r.byFile[f] {
			if strings.Contains(d.APIVersion, ".fluxcd.io/") {
				out = append(out, d)
			}
		}
	}
	return out
}

// buildFiles returns the YAML files a build reaching the directories seen
// reads resources from: those the kustomization files of the directories
// name, and every file of a directory without a kustomization file (Flux
// generates one listing them all).
func (r *Repo) buildFiles(seen map[string]bool) map[string]bool {
	r.filesByDirOnce.Do(func() {
		r.filesByDir = map[string][]string{}
		for _, f := range r.Files {
			r.filesByDir[path.Dir(f)] = append(r.filesByDir[path.Dir(f)], f)
		}
	})
	files := map[string]bool{}
	for d := range seen {
		k, ok := r.kustFiles[d]
		if !ok {
			for _, f := range r.filesByDir[d] {
				files[f] = true
			}
			continue
		}
		for _, f := range k.includes {
			if _, ok := r.byFile[f]; ok {
				files[f] = true
			}
		}
	}
	return files
}

// DeclaresFlux reports whether a kustomize build of dir may output a Flux
// object: a file it reaches, or a file its kustomization file names,
// holds a document of a Flux API group. A build for which it is false
// declares no Flux Kustomization or HelmRelease.
func (r *Repo) DeclaresFlux(dir string) bool {
	seen := map[string]bool{}
	r.reach(path.Clean(dir), seen)
	flux := func(f string) bool {
		for _, d := range r.byFile[f] {
			if strings.Contains(d.APIVersion, ".fluxcd.io/") {
				return true
			}
		}
		return false
	}
	for f := range r.byFile {
		if seen[path.Dir(f)] && flux(f) {
			return true
		}
	}
	for d := range seen {
		if k, ok := r.kustFiles[d]; ok && slices.ContainsFunc(k.refs, flux) {
			return true
		}
	}
	return false
}

// hiddenDefinitions names a place Flux objects may be defined that a run
// over this tree cannot see, or returns "": a Kustomization whose source
// is not this work tree, or a Flux Operator ResourceSet (which generates
// Kustomizations and HelmReleases from templates).
func (r *Repo) hiddenDefinitions() string {
	for _, fo := range r.Flux {
		if fo.Doc.Kind != "Kustomization" {
			continue
		}
		ks := fo.Kustomization()
		if ks == nil {
			continue
		}
		ref := ks.Spec.SourceRef
		ns := sourceNamespace(ref.Namespace, fo.Doc.Namespace)
		if res := r.ResolveSource(ref.Kind, ns, ref.Name, fo.Doc); res.Problem != nil {
			return "the source " + ObjectRef(ref.Kind, ns, ref.Name) + " of " + fo.Doc.Ref()
		}
	}
	for _, d := range r.Docs {
		if d.Kind == "ResourceSet" && strings.HasPrefix(d.APIVersion, "fluxcd.controlplane.io/") {
			return "ResourceSet " + d.Ref()
		}
	}
	return ""
}
