package fleet

import (
	"fmt"
	"path"
	"strings"
)

// Gitless layouts: the cluster syncs from an OCIRepository that CI pushes
// from this repository (flux push artifact, the Flux Operator's "gitless
// GitOps"). The source is then this work tree, though no URL in the tree
// says so the way a GitRepository's does.

// ociSync is an OCIRepository a cluster entry point syncs from.
type ociSync struct {
	ref string // OCIRepository/namespace/name
	// file declares the source: the OCIRepository's document, or the
	// FluxInstance whose spec.sync makes it.
	file string
	url  string
	// tag is the artifact tag the source follows; pinned is set when it
	// follows a digest instead (one artifact, not the tree's latest push).
	tag    string
	pinned bool
	// path is the sync Kustomization's spec.path, cleaned ("." for the
	// artifact root).
	path string
}

// resolveOCISync maps the OCIRepository a cluster entry point syncs from to
// the repository root, when the work tree is what CI pushes to it: its URL
// names this repository's image (ghcr.io/<org>/<repo> for a remote
// github.com/<org>/<repo>, a -manifests, -config, -fleet or -deploy suffix
// allowed), or the path its sync Kustomization builds exists here (and is
// not the root, which every artifact has). The sync sources are the
// OCIRepository of a FluxInstance's spec.sync (kind OCIRepository; the
// Flux Operator names it after the instance's namespace), and an
// OCIRepository written in the repository that the Kustomization
// flux-system syncs from (when it is flux-system too), or that a
// Kustomization declared inside the path it builds syncs from (the
// cluster applies itself). An application's artifact (an OCIRepository
// and Kustomization named podinfo, say) is neither. Each
// assumption taken is recorded in Assumed. An explicit --source mapping
// wins and takes no assumption.
func (r *Repo) resolveOCISync(set func(ref, dir, file string)) {
	for _, s := range r.ociSyncs() {
		if c := r.sourceDirs[s.ref]; len(c) > 0 && c[0].file == "" {
			continue // mapped with --source
		}
		if s.pinned {
			continue // a digest is one past push, not this tree
		}
		why := ""
		switch {
		case r.opts.IsLocalURL != nil && ociNamesLocal(s.url, r.opts.IsLocalURL):
			why = fmt.Sprintf("its URL %s is this repository's image", redactURL(s.url))
		case s.path != "." && r.dirSet[s.path]:
			why = fmt.Sprintf("its path ./%s exists here", s.path)
		default:
			continue
		}
		set(s.ref, ".", s.file)
		_, ns, name := splitRef(s.ref)
		from := ""
		switch {
		case s.url != "" && s.tag != "":
			from = " (" + redactURL(s.url) + " tag " + s.tag + ")"
		case s.url != "":
			from = " (" + redactURL(s.url) + ")"
		}
		r.Assumed = append(r.Assumed, fmt.Sprintf("OCIRepository %s/%s%s taken as this work tree: %s; --source %s=DIR overrides",
			ns, name, from, why, s.ref))
	}
}

// fluxInstanceSource says, for an OCIRepository that no document defines,
// which FluxInstance makes it (spec.sync) and that it is not taken as this
// work tree; "" when no FluxInstance makes it.
func (r *Repo) fluxInstanceSource(ref string) string {
	_, ns, name := splitRef(ref)
	for _, s := range r.ociSyncs() {
		if s.ref != ref && !(ns == "" && s.ref == ObjectRef("OCIRepository", name, name)) {
			continue
		}
		for _, d := range r.byFile[s.file] {
			if d.Kind == "FluxInstance" {
				why := fmt.Sprintf("neither its URL nor its path (./%s) shows it is this work tree", s.path)
				if s.pinned {
					why = "it follows a digest, one pushed artifact rather than this work tree"
				}
				return fmt.Sprintf("source %s is made by FluxInstance %s (%s:%d) from %s; %s, so its units are not rendered (map it with --source %s=DIR)",
					ref, d.Ref(), d.File, d.Line, redactURL(s.url), why, ref)
			}
		}
	}
	return ""
}

// ociSyncs lists the OCIRepositories cluster entry points sync from, in
// file order, each once.
func (r *Repo) ociSyncs() []ociSync {
	var out []ociSync
	seen := map[string]bool{}
	add := func(s ociSync) {
		if key := s.ref + "|" + s.file; !seen[key] {
			seen[key] = true
			out = append(out, s)
		}
	}
	for _, d := range r.Docs {
		if d.Kind != "FluxInstance" || !strings.HasPrefix(d.APIVersion, "fluxcd.controlplane.io/") {
			continue
		}
		spec, _ := d.Object["spec"].(map[string]any)
		sync, _ := spec["sync"].(map[string]any)
		if kind, _ := sync["kind"].(string); kind != "OCIRepository" {
			continue
		}
		ns := d.Namespace
		if ns == "" {
			ns = "flux-system"
		}
		url, _ := sync["url"].(string)
		ref, _ := sync["ref"].(string)
		p, _ := sync["path"].(string)
		add(ociSync{
			ref: ObjectRef("OCIRepository", ns, ns), file: d.File, url: url,
			tag: strings.TrimPrefix(ref, ":"), pinned: strings.Contains(ref, "sha256:"),
			path: cleanSyncPath(p),
		})
	}
	for _, fo := range r.FluxKind("OCIRepository") {
		if fo.Doc.Group() != GroupSource {
			continue
		}
		spec, _ := fo.Doc.Object["spec"].(map[string]any)
		ref, _ := spec["ref"].(map[string]any)
		tag, _ := ref["tag"].(string)
		if tag == "" {
			tag, _ = ref["semver"].(string)
		}
		digest, _ := ref["digest"].(string)
		url, _ := spec["url"].(string)
		for _, ks := range r.Kustomizations() {
			k := ks.Kustomization()
			if k.Spec.SourceRef.Kind != "OCIRepository" || k.Spec.SourceRef.Name != fo.Doc.Name ||
				(fo.Doc.Namespace != "" && sourceNamespace(k.Spec.SourceRef.Namespace, ks.Doc.Namespace) != fo.Doc.Namespace) {
				continue
			}
			p := cleanSyncPath(k.Spec.Path)
			bootstrap := fo.Doc.Name == "flux-system" && ks.Doc.Name == "flux-system"
			if !bootstrap && (p == "." || !isUnder(ks.Doc.File, p)) {
				continue // not a cluster's sync: an app's artifact, say
			}
			add(ociSync{ref: fo.Doc.Ref(), file: fo.Doc.File, url: url, tag: tag, pinned: digest != "", path: p})
		}
	}
	return out
}

// cleanSyncPath cleans a sync path relative to the artifact root.
func cleanSyncPath(p string) string {
	return path.Clean("./" + strings.TrimPrefix(strings.TrimSpace(p), "/"))
}

// splitRef splits Kind/namespace/name (namespace may be missing).
func splitRef(ref string) (kind, namespace, name string) {
	parts := strings.Split(ref, "/")
	if len(parts) == 3 {
		return parts[0], parts[1], parts[2]
	}
	return parts[0], "", parts[len(parts)-1]
}

// ociNamesLocal reports whether an OCI URL is the image CI pushes this
// repository to: oci://ghcr.io/<org>/<repo> (or registry.gitlab.com/...)
// for the Git repository <host>/<org>/<repo>, the repository name allowed a
// -manifests, -config, -fleet or -deploy suffix, or a /manifests path
// below it.
func ociNamesLocal(url string, isLocal func(string) bool) bool {
	rest, ok := strings.CutPrefix(url, "oci://")
	if !ok {
		return false
	}
	rest = redactURL("oci://" + rest)[len("oci://"):]
	if i := strings.LastIndex(rest, ":"); i > strings.LastIndex(rest, "/") {
		rest = rest[:i] // a tag in the URL
	}
	host, repo, ok := strings.Cut(rest, "/")
	if !ok {
		return false
	}
	gitHost := map[string]string{"ghcr.io": "github.com", "registry.gitlab.com": "gitlab.com"}[host]
	if gitHost == "" {
		return false
	}
	repo = strings.TrimSuffix(strings.TrimSuffix(repo, "/"), "/manifests")
	for _, suffix := range []string{"", "-manifests", "-config", "-fleet", "-deploy"} {
		cand, cut := strings.CutSuffix(repo, suffix)
		if (suffix == "" || cut) && strings.Count(cand, "/") >= 1 && isLocal("https://"+gitHost+"/"+cand) {
			return true
		}
	}
	return false
}
