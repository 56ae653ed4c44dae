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

// resolveSources maps every source of the repository that resolves to the
// local tree, in this order of precedence: explicit Options.Sources; the
// bootstrap flux-system GitRepository; a GitRepository whose URL is one of
// the repository's remotes; when no remote is known, a GitRepository all of
// whose Kustomizations' paths exist in the tree; an ExternalArtifact
// produced by an ArtifactGenerator that copies one directory of a local
// source into its root.
func (r *Repo) resolveSources() {
	r.sourceDirs = map[string]string{}
	for ref, dir := range r.opts.Sources {
		r.sourceDirs[ref] = path.Clean(strings.TrimPrefix(dir, "./"))
	}
	set := func(ref, dir string) {
		if _, ok := r.sourceDirs[ref]; !ok {
			r.sourceDirs[ref] = dir
		}
	}
	var unmatched []*FluxObject
	for _, fo := range r.FluxKind("GitRepository") {
		if fo.Doc.Group() != GroupSource {
			continue
		}
		ref := fo.Doc.Ref()
		url := gitURL(fo.Doc.Object)
		switch {
		case fo.Doc.Name == "flux-system":
			set(ref, ".")
		case r.opts.IsLocalURL != nil && url != "" && r.opts.IsLocalURL(url):
			set(ref, ".")
		default:
			unmatched = append(unmatched, fo)
		}
	}
	if r.opts.IsLocalURL == nil {
		// No remote known: a GitRepository is this repository when every
		// Kustomization built from it has a path that exists here.
		for _, fo := range unmatched {
			ref := fo.Doc.Ref()
			n, ok := 0, true
			for _, ks := range r.Kustomizations() {
				k := ks.Kustomization()
				if k.Spec.SourceRef.Kind != "GitRepository" || k.Spec.SourceRef.Name != fo.Doc.Name ||
					(fo.Doc.Namespace != "" && sourceNamespace(k.Spec.SourceRef.Namespace, ks.Doc.Namespace) != fo.Doc.Namespace) {
					continue
				}
				n++
				if !r.dirSet[path.Clean(strings.TrimPrefix(k.Spec.Path, "/"))] {
					ok = false
				}
			}
			if n > 0 && ok {
				set(ref, ".")
			}
		}
	}
	for _, fo := range r.FluxKind("ArtifactGenerator") {
		r.resolveGenerator(fo, set)
	}
}

// resolveGenerator maps the ExternalArtifacts of a source-watcher
// ArtifactGenerator whose copy rules take one directory of a local source
// ("@alias/dir/**") into the artifact root ("@artifact/").
func (r *Repo) resolveGenerator(fo *FluxObject, set func(ref, dir string)) {
	spec, _ := fo.Doc.Object["spec"].(map[string]any)
	aliases := map[string]string{}
	sources, _ := spec["sources"].([]any)
	for _, s := range sources {
		m, _ := s.(map[string]any)
		alias, _ := m["alias"].(string)
		kind, _ := m["kind"].(string)
		name, _ := m["name"].(string)
		ns, _ := m["namespace"].(string)
		if dir, ok := r.sourceDirs[ObjectRef(kind, sourceNamespace(ns, fo.Doc.Namespace), name)]; ok {
			aliases[alias] = dir
		}
	}
	artifacts, _ := spec["artifacts"].([]any)
	for _, a := range artifacts {
		m, _ := a.(map[string]any)
		name, _ := m["name"].(string)
		copies, _ := m["copy"].([]any)
		if name == "" || len(copies) != 1 {
			continue
		}
		c, _ := copies[0].(map[string]any)
		from, _ := c["from"].(string)
		to, _ := c["to"].(string)
		if strings.TrimSuffix(to, "/") != "@artifact" || !strings.HasPrefix(from, "@") || !strings.HasSuffix(from, "/**") {
			continue
		}
		alias, rest, _ := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(from, "@"), "/**"), "/")
		base, ok := aliases[alias]
		if !ok {
			continue
		}
		set(ObjectRef("ExternalArtifact", fo.Doc.Namespace, name), path.Join(base, rest))
	}
}

func gitURL(obj map[string]any) string {
	spec, _ := obj["spec"].(map[string]any)
	u, _ := spec["url"].(string)
	return u
}

// SourceDir returns the local directory a source resolves to.
//
// A source document written without a namespace (one that a kustomization's
// namespace field places) matches a reference from any namespace.
func (r *Repo) SourceDir(kind, namespace, name string) (string, bool) {
	if dir, ok := r.sourceDirs[ObjectRef(kind, namespace, name)]; ok {
		return dir, true
	}
	if dir, ok := r.sourceDirs[ObjectRef(kind, "", name)]; ok {
		return dir, true
	}
	if kind == "GitRepository" && name == "flux-system" {
		// The bootstrap source is this repository even when its
		// definition is not committed (flux install, Flux Operator).
		return ".", true
	}
	return "", false
}

// ResolveSource resolves a sourceRef of the object described by from (its
// document, for the problem's location). A source that is not defined in
// the repository is source-not-found; one that is defined but remote (another
// team's repository, a bucket, an OCI artifact) is source-unavailable.
func (r *Repo) ResolveSource(kind, namespace, name string, from *Document) SourceResolution {
	if dir, ok := r.SourceDir(kind, namespace, name); ok {
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
	if len(defs) == 0 {
		p.Message = fmt.Sprintf("sourceRef %s is not defined in the repository (map it with --source %s=DIR)", ref, ref)
		return SourceResolution{Problem: p}
	}
	p.Rule, p.Severity = RuleSourceUnavailable, SeverityWarning
	detail := ""
	if u := gitURL(defs[0].Object); u != "" {
		detail = " (" + redactURL(u) + ")"
	}
	p.Message = fmt.Sprintf("source %s%s defined at %s:%d is not this repository; its units are not rendered (map it with --source %s=DIR)",
		ref, detail, defs[0].File, defs[0].Line, ref)
	return SourceResolution{Problem: p}
}

// LocalSources lists the sources that resolve to the tree, sorted, as
// "Kind/namespace/name=dir".
func (r *Repo) LocalSources() []string {
	var out []string
	for ref, dir := range r.sourceDirs {
		out = append(out, ref+"="+dir)
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
