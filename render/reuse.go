package render

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/fluxgate/fluxgate/render/kustomize"
)

// A render keeps its kustomize builds (Options.KeepBuilds) so that a render
// of another revision of the same repository (Options.Reuse) skips every
// build whose inputs did not change: the generated kustomization file is
// the same and every file the build read has the same content. Post-build
// substitution, commonMetadata and the checks after the build run again,
// so a reused build gives exactly the output a fresh one would.

// keptBuild is one kustomize build kept for reuse.
type keptBuild struct {
	// rec holds the files the build read, relative to the repository
	// root, with the sha256 of their content, and the files it decrypted.
	rec kustomize.Record
	res kustomize.Objects
}

// builds holds the kept builds of one render: kustomize builds by
// buildKey, HelmRelease installs by the unit's input hash (which covers the
// HelmRelease, the chart's digest and the merged values).
type builds struct {
	mu   sync.Mutex
	m    map[string]*keptBuild
	helm map[string][]*Object
	// generated holds the kustomization files Flux generates, by
	// generatedKey (generate.go).
	generated sync.Map
	// units are the render's units by cluster and ID, for a later
	// render's scope (unchangedUnit).
	units map[string]*Unit
}

// unit returns the kept render's unit of cluster with the ID, or nil.
func (b *builds) unit(cluster, id string) *Unit {
	if b == nil {
		return nil
	}
	return b.units[cluster+"|"+id]
}

// template returns a copy of the kept objects of a HelmRelease install.
func (b *builds) template(key string) []*Object {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	objs, ok := b.helm[key]
	b.mu.Unlock()
	if !ok {
		return nil
	}
	return copyObjects(objs)
}

func (b *builds) putTemplate(key string, objs []*Object) {
	c := copyObjects(objs)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.helm == nil {
		b.helm = map[string][]*Object{}
	}
	b.helm[key] = c
}

func copyObjects(objs []*Object) []*Object {
	out := make([]*Object, len(objs))
	for i, o := range objs {
		out[i] = o.DeepCopy()
	}
	return out
}

func (b *builds) get(key string) *keptBuild {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.m[key]
}

func (b *builds) put(key string, k *keptBuild) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil {
		b.m = map[string]*keptBuild{}
	}
	b.m[key] = k
}

// Stats count the builds (kustomize builds and Helm installs) of a render.
type Stats struct {
	// Built is the number of builds run; Reused the number of builds taken
	// from Options.Reuse because their inputs were unchanged; Cached the
	// number taken from the unit cache (Options.UnitCacheDir).
	Built, Reused, Cached int64
}

type stats struct{ built, reused, cached atomic.Int64 }

// buildKey names a build by what decides its output besides the files it
// reads: the source root, the directory, the kustomization file Flux
// generates for it, and whether SOPS files are decrypted.
func buildKey(srcDir, dir, kfile string, manifest []byte, decrypt bool) string {
	h := sha256.New()
	for _, s := range []string{srcDir, dir, kfile} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	h.Write(manifest)
	if decrypt {
		h.Write([]byte{1})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// reusable returns the kept build of the other revision for key when every
// file it read has the same content under the render's root. A file's
// digest is computed once per render: units share bases.
func (r *renderer) reusable(key string) *keptBuild {
	return r.reusableIn(nil, key)
}

// reusableIn is reusable for a build in the tree t: never for a laid-out
// artifact, whose builds are not kept.
func (r *renderer) reusableIn(t *artifactTree, key string) *keptBuild {
	if t != nil {
		return nil
	}
	k := r.opts.Reuse.kept().get(key)
	if k == nil {
		return nil
	}
	for rel, sum := range k.rec.Reads {
		if rel == k.rec.Overlay {
			continue // the key covers the generated kustomization file
		}
		if r.fileSum(rel) != sum {
			return nil
		}
	}
	return k
}

// fileSum is the sha256 of a file under the render's root, "" when it
// cannot be read.
func (r *renderer) fileSum(rel string) string {
	if v, ok := r.sums.Load(rel); ok {
		return v.(string)
	}
	sum := ""
	if r.need(false, rel) != nil {
		return sum
	}
	if data, err := os.ReadFile(filepath.Join(r.opts.Dir, filepath.FromSlash(rel))); err == nil {
		s := sha256.Sum256(data)
		sum = hex.EncodeToString(s[:])
	}
	r.sums.Store(rel, sum)
	return sum
}
