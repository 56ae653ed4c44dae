package workspace

import (
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/render"
)

// SourceKinds are the kinds --source maps: the sources whose artifact
// can be a directory of the tree (Kustomizations build from them, charts
// come from them, ArtifactGenerators copy from them).
var SourceKinds = []string{"GitRepository", "OCIRepository", "Bucket", "ExternalArtifact"}

// sourceMapping is one --source KIND/NAMESPACE/NAME=DIR.
type sourceMapping struct {
	flag                  string // as given
	kind, namespace, name string
	dir                   string
}

func (m sourceMapping) ref() string { return fleet.ObjectRef(m.kind, m.namespace, m.name) }

// parseSources reads --source values.
func parseSources(sources []string) ([]sourceMapping, error) {
	var out []sourceMapping
	for _, s := range sources {
		ref, d, ok := strings.Cut(s, "=")
		parts := strings.Split(ref, "/")
		if !ok || len(parts) != 3 || slices.Contains(parts, "") || strings.TrimSpace(d) == "" {
			return nil, fmt.Errorf("--source %q: want KIND/NAMESPACE/NAME=DIR", s)
		}
		if !slices.Contains(SourceKinds, parts[0]) {
			return nil, fmt.Errorf("--source %q: %s is not a source kind fluxgate maps (want %s)", s, parts[0], strings.Join(SourceKinds, ", "))
		}
		out = append(out, sourceMapping{flag: s, kind: parts[0], namespace: parts[1], name: parts[2], dir: filepath.ToSlash(d)})
	}
	return out, nil
}

// Check refuses option values that cannot be right, before anything is
// read: a size limit or worker count below what it means, a --source
// that is not KIND/NAMESPACE/NAME=DIR for a source kind.
func (o Options) Check() error {
	if o.MaxFileSize < 1 {
		return fmt.Errorf("--max-file-size %d: want a positive number of bytes (default %d)", o.MaxFileSize, fleet.DefaultMaxFileSize)
	}
	if o.Workers < 0 {
		return fmt.Errorf("--workers %d: want a positive number, or 0 for GOMAXPROCS", o.Workers)
	}
	_, err := parseSources(o.Sources)
	return err
}

// PendingSources are the --source mappings whose source object the
// repository's files do not name: the render may still output it (a
// substituted name, a remote base); CheckRendered says.
type PendingSources struct {
	dir      string
	mappings []sourceMapping
}

// CheckSources refuses a --source whose DIR is not a directory of any of
// repos (the revisions read; dir names the repository in errors), and
// returns the mappings that match no source object in their files: no
// document of that kind, namespace and name, and no Flux object whose
// sourceRef, chartRef or ArtifactGenerator source names it.
func CheckSources(sources []string, dir string, repos ...*fleet.Repo) (*PendingSources, error) {
	mappings, err := parseSources(sources)
	if err != nil {
		return nil, err
	}
	p := &PendingSources{dir: dir}
	for _, m := range mappings {
		clean := path.Clean(strings.TrimPrefix(m.dir, "./"))
		isDir, named := false, false
		for _, r := range repos {
			isDir = isDir || r.IsDir(clean)
			for _, d := range r.Docs {
				if named = named || namesSource(d.Object, d.Namespace, m); named {
					break
				}
			}
		}
		if !isDir {
			return nil, fmt.Errorf("--source %q: %s is not a directory of %s", m.flag, m.dir, dir)
		}
		if !named {
			p.mappings = append(p.mappings, m)
		}
	}
	return p, nil
}

// CheckRendered refuses the pending mappings that no rendered object
// names either: such a --source maps a source nothing in the render is
// or reads, most likely a typo. With a partial render (a shard, a
// --changed-only diff) the objects of the units not rendered are not
// seen.
func (p *PendingSources) CheckRendered(results ...*render.Result) error {
	if p == nil {
		return nil
	}
	for _, m := range p.mappings {
		if !renderNames(results, m) {
			return fmt.Errorf("--source %q: no source object %s in %s or its render, and nothing there reads one", m.flag, m.ref(), p.dir)
		}
	}
	return nil
}

// Err refuses every pending mapping, for commands that do not render.
func (p *PendingSources) Err() error {
	if p == nil || len(p.mappings) == 0 {
		return nil
	}
	m := p.mappings[0]
	return fmt.Errorf("--source %q: no source object %s in %s, and nothing there reads one", m.flag, m.ref(), p.dir)
}

func renderNames(results []*render.Result, m sourceMapping) bool {
	for _, res := range results {
		if res == nil {
			continue
		}
		for _, u := range res.Units {
			for _, o := range u.Objects {
				api, kind := o.GVK()
				group, _, _ := strings.Cut(api, "/")
				if !fleet.IsFluxGroup(group) {
					continue
				}
				ns, name := o.NamespacedName()
				if kind == m.kind && name == m.name && (ns == m.namespace || ns == "") {
					return true
				}
				if obj := o.Value(); obj != nil && namesSource(obj, ns, m) {
					return true
				}
			}
		}
	}
	return false
}

// namesSource reports whether obj (in namespace ns, "" when a build sets
// it) is the source of m, or a Flux object that reads it.
func namesSource(obj map[string]any, ns string, m sourceMapping) bool {
	api, _ := obj["apiVersion"].(string)
	group, _, _ := strings.Cut(api, "/")
	if !fleet.IsFluxGroup(group) {
		return false
	}
	kind, _ := obj["kind"].(string)
	md, _ := obj["metadata"].(map[string]any)
	name, _ := md["name"].(string)
	if kind == m.kind && name == m.name && (ns == m.namespace || ns == "") {
		return true
	}
	spec, _ := obj["spec"].(map[string]any)
	chart, _ := spec["chart"].(map[string]any)
	chartSpec, _ := chart["spec"].(map[string]any)
	refs := []any{spec["sourceRef"], spec["chartRef"], chartSpec["sourceRef"]}
	if sources, ok := spec["sources"].([]any); ok { // an ArtifactGenerator's
		refs = append(refs, sources...)
	}
	for _, r := range refs {
		ref, _ := r.(map[string]any)
		rk, _ := ref["kind"].(string)
		rn, _ := ref["name"].(string)
		rns, _ := ref["namespace"].(string)
		if rns == "" {
			rns = ns
		}
		if rk == m.kind && rn == m.name && (rns == m.namespace || rns == "") {
			return true
		}
	}
	return false
}
