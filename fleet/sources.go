package fleet

import (
	"fmt"
	"path"
	"sort"
	"strings"
)

// SourceResolution says where a source's content comes from.
type SourceResolution struct {
	// Dir is the directory of the tree the source's artifact maps to,
	// relative to the repository root ("." for the root); empty when the
	// source cannot be resolved locally.
	Dir string
	// Problem is set when Dir is empty: source-not-found (no such source in
	// the repository) or source-unavailable (a remote source).
	Problem *Problem
}

// sourceCandidate is one definition of a source that maps to the tree.
type sourceCandidate struct {
	dir string
	// file declares the source; empty for explicit --source mappings.
	file string
}

// resolveSources maps every source of the repository that resolves to the
// local tree, in this order of precedence: explicit Options.Sources; the
// bootstrap flux-system GitRepository; a GitRepository whose URL is one of
// the repository's remotes; when no remote is known, a GitRepository all of
// whose Kustomizations' paths exist in the tree; the OCIRepository a
// gitless cluster syncs from (resolveOCISync); an ExternalArtifact
// produced by an ArtifactGenerator whose copy rules rebuild one directory of
// a local source. A GitRepository that follows another branch than the
// bootstrap source, or a tag, semver range or commit, is not the work tree.
// The same source may be defined once per cluster; each definition is kept
// with its file, so each cluster resolves its own.
func (r *Repo) resolveSources() {
	r.sourceDirs = map[string][]sourceCandidate{}
	for ref, dir := range r.opts.Sources {
		r.sourceDirs[ref] = []sourceCandidate{{dir: path.Clean(strings.TrimPrefix(dir, "./"))}}
	}
	set := func(ref, dir, file string) {
		if c := r.sourceDirs[ref]; len(c) > 0 && c[0].file == "" {
			return // explicit mapping wins
		}
		r.sourceDirs[ref] = append(r.sourceDirs[ref], sourceCandidate{dir: dir, file: file})
	}
	bootBranch := ""
	for _, fo := range r.FluxKind("GitRepository") {
		if fo.Doc.Name == "flux-system" {
			bootBranch, _ = gitRef(fo.Doc.Object)
			break
		}
	}
	var unmatched []*FluxObject
	for _, fo := range r.FluxKind("GitRepository") {
		if fo.Doc.Group() != GroupSource {
			continue
		}
		ref := fo.Doc.Ref()
		url := gitURL(fo.Doc.Object)
		branch, pinned := gitRef(fo.Doc.Object)
		switch {
		case fo.Doc.Name == "flux-system":
			set(ref, ".", fo.Doc.File)
		case pinned || (branch != "" && bootBranch != "" && branch != bootBranch):
			// Another revision of possibly the same repository.
		case r.opts.IsLocalURL != nil && url != "" && r.opts.IsLocalURL(url):
			set(ref, ".", fo.Doc.File)
		default:
			unmatched = append(unmatched, fo)
		}
	}
	if r.opts.IsLocalURL == nil {
		// No remote known: a GitRepository is this repository when every
		// Kustomization built from it names a path below the root that
		// exists here. A missing or root path proves nothing: another
		// repository has a root too, and a path may be patched in later.
		for _, fo := range unmatched {
			n, ok := 0, true
			for _, ks := range r.Kustomizations() {
				k := ks.Kustomization()
				if k.Spec.SourceRef.Kind != "GitRepository" || k.Spec.SourceRef.Name != fo.Doc.Name ||
					(fo.Doc.Namespace != "" && sourceNamespace(k.Spec.SourceRef.Namespace, ks.Doc.Namespace) != fo.Doc.Namespace) {
					continue
				}
				p := path.Clean(strings.TrimPrefix(k.Spec.Path, "/"))
				if p == "." {
					ok = false
					continue
				}
				n++
				if !r.dirSet[p] {
					ok = false
				}
			}
			if n > 0 && ok {
				set(fo.Doc.Ref(), ".", fo.Doc.File)
			}
		}
	}
	r.resolveOCISync(set)
	for _, fo := range r.FluxKind("ArtifactGenerator") {
		r.resolveGenerator(fo, set)
	}
}

// gitRef returns a GitRepository's branch, and whether it is pinned to a
// tag, semver range, name or commit instead.
func gitRef(obj map[string]any) (string, bool) {
	spec, _ := obj["spec"].(map[string]any)
	ref, _ := spec["ref"].(map[string]any)
	branch, _ := ref["branch"].(string)
	for _, k := range []string{"tag", "semver", "name", "commit"} {
		if v, _ := ref[k].(string); v != "" {
			return branch, true
		}
	}
	return branch, false
}

// resolveGenerator maps the ExternalArtifacts of a source-watcher
// ArtifactGenerator whose copy rules rebuild one directory of a local
// source: every rule copies "@alias/<base>/<sub>/**" into "@artifact/<sub>/"
// with the same alias and base (one rule "@alias/<base>/**" into
// "@artifact/" is the simplest case). The artifact is then <base>.
func (r *Repo) resolveGenerator(fo *FluxObject, set func(ref, dir, file string)) {
	spec, _ := fo.Doc.Object["spec"].(map[string]any)
	aliases := map[string]string{}
	sources, _ := spec["sources"].([]any)
	for _, s := range sources {
		m, _ := s.(map[string]any)
		alias, _ := m["alias"].(string)
		kind, _ := m["kind"].(string)
		name, _ := m["name"].(string)
		ns, _ := m["namespace"].(string)
		if dir, ok := r.sourceDirNear(kind, sourceNamespace(ns, fo.Doc.Namespace), name, fo.Doc.File); ok {
			aliases[alias] = dir
		}
	}
	artifacts, _ := spec["artifacts"].([]any)
	for _, a := range artifacts {
		m, _ := a.(map[string]any)
		name, _ := m["name"].(string)
		copies, _ := m["copy"].([]any)
		if name == "" || len(copies) == 0 {
			continue
		}
		base, ok := "", true
		for i, c := range copies {
			cm, _ := c.(map[string]any)
			b, good := copyBase(cm, aliases)
			if !good || (i > 0 && b != base) {
				ok = false
				break
			}
			base = b
		}
		if ok {
			set(ObjectRef("ExternalArtifact", fo.Doc.Namespace, name), base, fo.Doc.File)
		}
	}
}

// copyBase returns the directory a copy rule maps the artifact root to.
func copyBase(c map[string]any, aliases map[string]string) (string, bool) {
	from, _ := c["from"].(string)
	to, _ := c["to"].(string)
	if ex, _ := c["exclude"].([]any); len(ex) > 0 {
		return "", false
	}
	if !strings.HasPrefix(from, "@") || !strings.HasSuffix(from, "/**") || !strings.HasPrefix(to, "@artifact") {
		return "", false
	}
	alias, rest, _ := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(from, "@"), "/**"), "/")
	root, ok := aliases[alias]
	if !ok {
		return "", false
	}
	src := path.Join(root, rest)
	sub := strings.Trim(strings.TrimPrefix(to, "@artifact"), "/")
	if sub == "" {
		return src, true
	}
	if src != sub && !strings.HasSuffix(src, "/"+sub) {
		return "", false
	}
	base := strings.TrimSuffix(strings.TrimSuffix(src, sub), "/")
	if base == "" {
		base = "."
	}
	return base, true
}

func gitURL(obj map[string]any) string {
	spec, _ := obj["spec"].(map[string]any)
	u, _ := spec["url"].(string)
	return u
}

// SourceDir returns the local directory a source resolves to (its first
// definition when several clusters define it).
//
// A source document written without a namespace (one that a kustomization's
// namespace field places) matches a reference from any namespace.
func (r *Repo) SourceDir(kind, namespace, name string) (string, bool) {
	return r.sourceDirNear(kind, namespace, name, "")
}

// sourceDirNear resolves a source, preferring the definition that shares
// the longest directory prefix with near (the file or cluster directory of
// whoever refers to it).
func (r *Repo) sourceDirNear(kind, namespace, name, near string) (string, bool) {
	cands := r.sourceDirs[ObjectRef(kind, namespace, name)]
	if len(cands) == 0 {
		cands = r.sourceDirs[ObjectRef(kind, "", name)]
	}
	if len(cands) > 0 {
		best, score := cands[0], -1
		for _, c := range cands {
			if s := commonDirs(c.file, near); s > score {
				best, score = c, s
			}
		}
		return best.dir, true
	}
	if kind == "GitRepository" && name == "flux-system" {
		// The bootstrap source is this repository even when its
		// definition is not committed (flux install, Flux Operator).
		return ".", true
	}
	return "", false
}

// commonDirs counts the leading directories two slash paths share: those
// of a's directory and of b.
func commonDirs(a, b string) int {
	a = path.Dir(a)
	n := 0
	for {
		ac, arest, amore := strings.Cut(a, "/")
		bc, brest, bmore := strings.Cut(b, "/")
		if ac != bc || ac == "." {
			return n
		}
		n++
		if !amore || !bmore {
			return n
		}
		a, b = arest, brest
	}
}

// ResolveSource resolves a sourceRef of the object described by from (its
// document, for the problem's location). A source that is not defined in
// the repository is source-not-found; one that is defined but remote (another
// team's repository, a bucket, an OCI artifact) is source-unavailable.
func (r *Repo) ResolveSource(kind, namespace, name string, from *Document) SourceResolution {
	return r.ResolveSourceIn("", kind, namespace, name, from)
}

// ResolveSourceIn is ResolveSource for a reference made within a cluster
// entry point: when several clusters define the source, the definition
// closest to cluster wins.
func (r *Repo) ResolveSourceIn(cluster, kind, namespace, name string, from *Document) SourceResolution {
	near := cluster
	if near == "" && from != nil {
		near = path.Dir(from.File)
	}
	if dir, ok := r.sourceDirNear(kind, namespace, name, near); ok {
		return SourceResolution{Dir: dir}
	}
	ref := ObjectRef(kind, namespace, name)
	p := &Problem{Severity: SeverityError, Rule: RuleSourceNotFound}
	if from != nil {
		p.File, p.Line, p.Object = from.File, from.Line, from.Ref()
	}
	defs := r.Lookup(kind, namespace, name)
	if len(defs) == 0 {
		defs = r.Lookup(kind, "", name)
	}
	if len(defs) == 0 && kind == "ExternalArtifact" {
		if gen := r.generatorOf(namespace, name); gen != nil {
			p.Rule, p.Severity = RuleSourceUnavailable, SeverityWarning
			p.Message = fmt.Sprintf("ExternalArtifact %s comes from ArtifactGenerator %s (%s:%d), whose sources are not all in this work tree; map it with --source %s=DIR",
				ref, gen.Doc.Ref(), gen.Doc.File, gen.Doc.Line, ref)
			return SourceResolution{Problem: p}
		}
	}
	if len(defs) == 0 && kind == "OCIRepository" {
		if msg := r.fluxInstanceSource(ref); msg != "" {
			p.Rule, p.Severity, p.Message = RuleSourceUnavailable, SeverityWarning, msg
			return SourceResolution{Problem: p}
		}
	}
	if len(defs) == 0 {
		p.Message = fmt.Sprintf("sourceRef %s is not defined in the repository (map it with --source %s=DIR)", ref, ref)
		return SourceResolution{Problem: p}
	}
	p.Rule, p.Severity = RuleSourceUnavailable, SeverityWarning
	detail := ""
	if u := gitURL(defs[0].Object); u != "" {
		detail = " (" + redactURL(u) + ")"
		if _, pinned := gitRef(defs[0].Object); pinned {
			detail = " (" + redactURL(u) + " " + describeRef(defs[0].Object) + ")"
		}
	}
	p.Message = fmt.Sprintf("source %s%s defined at %s:%d is not this work tree; its units are not rendered (map it with --source %s=DIR)",
		ref, detail, defs[0].File, defs[0].Line, ref)
	return SourceResolution{Problem: p}
}

// LocalSources lists the sources that resolve to the tree, sorted, as
// "Kind/namespace/name=dir".
func (r *Repo) LocalSources() []string {
	var out []string
	seen := map[string]bool{}
	for ref, cands := range r.sourceDirs {
		for _, c := range cands {
			if e := ref + "=" + c.dir; !seen[e] {
				seen[e] = true
				out = append(out, e)
			}
		}
	}
	sort.Strings(out)
	return out
}

// redactURL drops credentials from a URL before it is printed.
func redactURL(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return u
	}
	if at := strings.Index(rest, "@"); at >= 0 && at < strings.IndexAny(rest+"/", "/") {
		rest = rest[at+1:]
	}
	return scheme + "://" + rest
}

// describeRef says which revision a GitRepository follows.
func describeRef(obj map[string]any) string {
	spec, _ := obj["spec"].(map[string]any)
	ref, _ := spec["ref"].(map[string]any)
	for _, k := range []string{"commit", "name", "semver", "tag", "branch"} {
		if v, _ := ref[k].(string); v != "" {
			return k + " " + v
		}
	}
	return ""
}

// artifactDecl is one spec.artifacts entry of an ArtifactGenerator.
type artifactDecl struct {
	gen      *FluxObject
	spec     map[string]any // the generator's spec
	artifact map[string]any // the entry
}

// artifactDecls lists the declarations of the ExternalArtifact
// namespace/name by the repository's ArtifactGenerators, in file order.
func (r *Repo) artifactDecls(namespace, name string) []artifactDecl {
	var out []artifactDecl
	for _, fo := range r.FluxKind("ArtifactGenerator") {
		if fo.Doc.Namespace != namespace && fo.Doc.Namespace != "" {
			continue
		}
		spec, _ := fo.Doc.Object["spec"].(map[string]any)
		artifacts, _ := spec["artifacts"].([]any)
		for _, a := range artifacts {
			m, _ := a.(map[string]any)
			if n, _ := m["name"].(string); n == name {
				out = append(out, artifactDecl{gen: fo, spec: spec, artifact: m})
			}
		}
	}
	return out
}

// generatorOf finds the ArtifactGenerator declaring an artifact.
func (r *Repo) generatorOf(namespace, name string) *FluxObject {
	if decls := r.artifactDecls(namespace, name); len(decls) > 0 {
		return decls[0].gen
	}
	return nil
}

// GeneratedArtifact is an ExternalArtifact that an ArtifactGenerator of the
// repository builds from sources that all resolve to the tree, and whose
// copy rules do not rebuild one directory: the render lays it out by
// applying the copy rules.
type GeneratedArtifact struct {
	// Generator is the ArtifactGenerator's document.
	Generator *Document
	// Namespace and Name name the ExternalArtifact.
	Namespace, Name string
	// Sources maps each alias of spec.sources to its directory, relative
	// to the repository root.
	Sources map[string]string
	// Copy holds the artifact's spec.artifacts[].copy operations as
	// written.
	Copy []map[string]any
}

// GeneratedArtifactIn finds the ArtifactGenerator that builds the
// ExternalArtifact namespace/name for a reference made within cluster (the
// closest definition when several clusters declare one). It returns nil
// when no generator declares it, or when one of the generator's sources
// does not resolve to the tree.
func (r *Repo) GeneratedArtifactIn(cluster, namespace, name string) *GeneratedArtifact {
	var best *GeneratedArtifact
	score := -1
	for _, d := range r.artifactDecls(namespace, name) {
		fo, spec, m := d.gen, d.spec, d.artifact
		s := commonDirs(fo.Doc.File, cluster)
		if s <= score {
			continue
		}
		ga := &GeneratedArtifact{Generator: fo.Doc, Namespace: namespace, Name: name, Sources: map[string]string{}}
		sources, _ := spec["sources"].([]any)
		local := true
		for _, src := range sources {
			sm, _ := src.(map[string]any)
			alias, _ := sm["alias"].(string)
			kind, _ := sm["kind"].(string)
			sname, _ := sm["name"].(string)
			ns, _ := sm["namespace"].(string)
			dir, ok := r.sourceDirNear(kind, sourceNamespace(ns, fo.Doc.Namespace), sname, fo.Doc.File)
			if !ok {
				local = false
				break
			}
			ga.Sources[alias] = dir
		}
		if !local {
			continue
		}
		copies, _ := m["copy"].([]any)
		for _, c := range copies {
			if cm, ok := c.(map[string]any); ok {
				ga.Copy = append(ga.Copy, cm)
			}
		}
		best, score = ga, s
	}
	return best
}
