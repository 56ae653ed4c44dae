package render

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"

	fluxkustomize "github.com/fluxcd/pkg/kustomize"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/fluxgate/fluxgate/internal/atomicfile"
)

// The kustomization file Flux generates for a unit (GenerateManifest)
// depends on the Flux Kustomization's spec and on the unit directory's
// files: its kustomization file when it has one, or else every file below
// it, which Flux parses in search of manifests. That search is the
// costliest part of a build that is otherwise reused or cached, so the
// result is kept by a digest of those inputs: in memory for the render
// and the next one (Options.KeepBuilds, Options.Reuse), and in the unit
// cache across runs.

// generatedFormat changes whenever the key or the file format changes.
const generatedFormat = "fluxgate-generated-1"

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
		g, ok = r.ucache.generated(key)
	}
	if !ok {
		abs := filepath.Join(r.opts.Dir, filepath.FromSlash(dir))
		gen := fluxkustomize.NewGenerator(filepath.Join(r.opts.Dir, filepath.FromSlash(srcDir)), unstructured.Unstructured{Object: spec})
		manifest, kfile, _, err := gen.GenerateManifest(abs)
		if err != nil {
			return nil, "", err
		}
		g = generated{manifest: manifest, kfile: r.rel(kfile)}
		r.ucache.putGenerated(key, g)
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
	for _, s := range []string{generatedFormat, buildStamp(), srcDir, dir, string(b)} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	files := r.repo.FilesBelow(dir)
	if r.repo.HasKustomizationFile(dir) {
		var own []string
		for _, f := range files {
			if path.Dir(f) == path.Clean(dir) && isKustomizationName(path.Base(f)) {
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

// A generated kustomization file in the cache is <dir>/generated/<key>:
// a line with the format and the key, a line with the file's path, a line
// with the sha256 of both (generatedSum), then the content. Anything else (a
// truncated or garbled file) is a miss.

// generated reads a generated kustomization file from the cache.
func (c *unitCache) generated(key string) (generated, bool) {
	if c == nil {
		return generated{}, false
	}
	data, err := os.ReadFile(filepath.Join(c.dir, "generated", key))
	if err != nil {
		return generated{}, false
	}
	lines := bytes.SplitN(data, []byte{'\n'}, 4)
	if len(lines) != 4 || string(lines[0]) != generatedFormat+" "+key || len(lines[1]) == 0 {
		return generated{}, false
	}
	if string(lines[2]) != generatedSum(string(lines[1]), lines[3]) {
		return generated{}, false
	}
	return generated{manifest: lines[3], kfile: string(lines[1])}, true
}

// putGenerated writes a generated kustomization file to the cache.
func (c *unitCache) putGenerated(key string, g generated) {
	if c == nil {
		return
	}
	data := fmt.Appendf(nil, "%s %s\n%s\n%s\n%s", generatedFormat, key, g.kfile, generatedSum(g.kfile, g.manifest), g.manifest)
	if atomicfile.Write(filepath.Join(c.dir, "generated"), key, data) == nil {
		c.wrote.Store(true)
	}
}

// generatedSum is the digest of a cached generated kustomization file.
func generatedSum(kfile string, manifest []byte) string {
	h := sha256.New()
	h.Write([]byte(kfile))
	h.Write([]byte{0})
	h.Write(manifest)
	return hex.EncodeToString(h.Sum(nil))
}
