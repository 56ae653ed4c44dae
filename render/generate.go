package render

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"path/filepath"

	"sigs.k8s.io/yaml"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/render/cache"
	"github.com/fluxgate/fluxgate/render/kustomize"
)

// The kustomization file Flux generates for a unit (GenerateManifest)
// depends on the Flux Kustomization's spec and on the unit directory's
// files: its kustomization file when it has one, or else every file below
// it, which Flux parses in search of manifests. That search is the
// costliest part of a build that is otherwise reused or cached, so the
// result is kept by a digest of those inputs: in memory for the render
// and the next one (Options.KeepBuilds, Options.Reuse), and in the unit
// cache across runs.

// generated is one generated kustomization file: its content and its
// path relative to the render's root.
type generated struct {
	manifest []byte
	kfile    string
}

// manifest returns a kept generated kustomization file.
func (b *builds) manifest(key string) (generated, bool) {
	if b == nil {
		return generated{}, false
	}
	v, ok := b.generated.Load(key)
	if !ok {
		return generated{}, false
	}
	return v.(generated), true
}

// generate returns Flux's kustomization file for a build of dir in the
// source rooted at srcDir (both relative to the root), and its absolute
// path.
func (r *renderer) generate(srcDir, dir string, spec map[string]any) ([]byte, string, error) {
	key := r.generatedKey(srcDir, dir, spec)
	g, ok := r.kept.manifest(key)
	if !ok {
		g, ok = r.opts.Reuse.kept().manifest(key)
	}
	if !ok {
		var kfile string
		var manifest []byte
		kfile, manifest, ok = r.ucache.Generated(key)
		g = generated{manifest: manifest, kfile: kfile}
	}
	if !ok && !r.repo.HasKustomizationFile(dir) {
		// Flux's generator decodes every manifest below dir itself, past
		// the file system that refuses alias bombs: refuse them here.
		for _, f := range r.repo.FilesBelow(dir) {
			if reason, bad := r.repo.Unsafe[f]; bad {
				return nil, "", fmt.Errorf("refusing to read %s: %s", f, reason)
			}
		}
	}
	if !ok {
		abs := filepath.Join(r.opts.Dir, filepath.FromSlash(dir))
		manifest, kfile, err := kustomize.Generate(filepath.Join(r.opts.Dir, filepath.FromSlash(srcDir)), abs, spec)
		if err != nil {
			return nil, "", err
		}
		g = generated{manifest: manifest, kfile: r.rel(kfile)}
		if !holdsSecretLiterals(manifest) {
			r.ucache.PutGenerated(key, g.kfile, g.manifest)
		}
	}
	r.kept.generated.Store(key, g)
	return g.manifest, filepath.Join(r.opts.Dir, filepath.FromSlash(g.kfile)), nil
}

// generatedKey digests what GenerateManifest reads for a build of dir:
// the spec, and the content of the directory's kustomization files, or of
// every file below it when it has none.
func (r *renderer) generatedKey(srcDir, dir string, spec map[string]any) string {
	h := sha256.New()
	b, _ := json.Marshal(spec)
	for _, s := range []string{cache.GeneratedFormat, cache.BuildStamp(), srcDir, dir, string(b)} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	files := r.repo.FilesBelow(dir)
	if r.repo.HasKustomizationFile(dir) {
		var own []string
		for _, f := range files {
			if path.Dir(f) == path.Clean(dir) && kustomize.IsKustomizationName(path.Base(f)) {
				own = append(own, f)
			}
		}
		files = own
	}
	for _, f := range files {
		h.Write([]byte(f))
		h.Write([]byte{0})
		h.Write([]byte(r.fileSum(f)))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// holdsSecretLiterals reports whether a kustomization file has Secret
// values of its own (secretGenerator literals): such a file is never
// written to the cache. One that does not parse is not written either.
func holdsSecretLiterals(manifest []byte) bool {
	var k map[string]any
	if err := yaml.Unmarshal(manifest, &k); err != nil {
		return true
	}
	return fleet.HasSecretLiterals(k)
}
