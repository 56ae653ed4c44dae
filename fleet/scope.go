package fleet

import (
	"path"
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
	s := &ChangeScope{repos: []*Repo{base, head}, changed: changed, referenced: map[string]bool{}}
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
					if f == ref || strings.HasPrefix(f, ref+"/") {
						return true
					}
				}
			}
		}
	}
	return false
}

// TouchesTree reports whether a changed file is dir or below it (a
// chart's directory).
func (s *ChangeScope) TouchesTree(dir string) bool {
	if s.all {
		return true
	}
	dir = path.Clean(dir)
	for _, f := range s.changed {
		if dir == "." || f == dir || strings.HasPrefix(f, dir+"/") {
			return true
		}
	}
	return false
}

// Leaf reports whether a build of dir, in both revisions, can declare no
// Flux object (no further unit, no source) and no ConfigMap or Secret that
// a Flux object reads: leaving it out changes nothing else.
func (s *ChangeScope) Leaf(dir string) bool {
	for i, r := range s.repos {
		seen := s.closure(i, dir)
		files := map[string]bool{}
		for d := range seen {
			for _, f := range s.filesByDir[i][d] {
				files[f] = true
			}
		}
		for d := range seen {
			if k, ok := r.kustFiles[d]; ok {
				for _, ref := range k.refs {
					files[ref] = true
				}
				for _, n := range k.generated {
					if s.isReferenced(n) {
						return false
					}
				}
			}
		}
		for f := range files {
			for _, d := range r.byFile[f] {
				if strings.Contains(d.APIVersion, ".fluxcd.io/") {
					return false
				}
				if (d.Kind == "ConfigMap" || d.Kind == "Secret") && s.isReferenced(d.Name) {
					return false
				}
			}
		}
	}
	return true
}

// ValuesChanged reports whether a changed file holds a ConfigMap, a Secret
// or a kustomize generator: substitution variables and Helm values may
// differ.
func (s *ChangeScope) ValuesChanged() bool { return s.all || s.valuesChanged }

// SourcesChanged reports whether a changed file holds a Flux source: the
// chart a HelmRelease uses may differ.
func (s *ChangeScope) SourcesChanged() bool { return s.all || s.sourcesChanged }
