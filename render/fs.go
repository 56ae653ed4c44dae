package render

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/render/sops"
)

// need hands paths about to be read to Options.Materialize, if set.
func (r *renderer) need(deep bool, paths ...string) error {
	if r.opts.Materialize == nil || len(paths) == 0 {
		return nil
	}
	if err := r.opts.Materialize(paths, deep); err != nil {
		return fmt.Errorf("read the repository's files: %w", err)
	}
	return nil
}

// needBuild hands Options.Materialize what a kustomize build of dir by the
// Flux Kustomization spec (nil for an overlay), in the source rooted at
// srcDir, may read: the build's inputs and its spec.components'.
func (r *renderer) needBuild(srcDir, dir string, spec map[string]any) error {
	if r.opts.Materialize == nil {
		return nil
	}
	if err := r.need(false, srcDir); err != nil {
		return err
	}
	for _, d := range append([]string{dir}, fleet.SpecComponents(dir, spec)...) {
		dirs, refs := r.repo.BuildInputs(d)
		if err := r.need(false, dirs...); err != nil {
			return err
		}
		if err := r.need(true, refs...); err != nil {
			return err
		}
	}
	return nil
}

// unitFS is the filesystem one kustomize build sees: the source root on disk
// (confined to it), with the kustomization file Flux generates for the unit
// laid over it in memory, so nothing is ever written to the user's tree. It
// records every file the build reads, for the unit's input hash.
type unitFS struct {
	filesys.FileSystem
	overlayPath string
	overlay     []byte
	// unsafe maps absolute paths of files that must not be parsed (alias
	// bombs) to the reason.
	unsafe map[string]string

	mu   sync.Mutex
	read map[string]string // absolute path -> sha256 of content
	// openAPI is set when a kustomization file read uses the openapi
	// field (schemas of its own for kustomize's global).
	openAPI bool
	// decrypt, when set, opens SOPS-encrypted files as they are read, as
	// kustomize-controller decrypts sources and resources; decrypted
	// lists them.
	decrypt   func(name string, data []byte) ([]byte, error)
	decrypted []string
}

func (f *unitFS) usesOpenAPI() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.openAPI
}

var _ filesys.FileSystem = (*unitFS)(nil)

func newUnitFS(base filesys.FileSystem, overlayPath string, overlay []byte) *unitFS {
	return &unitFS{FileSystem: base, overlayPath: filepath.Clean(overlayPath), overlay: overlay, read: map[string]string{}}
}

func (f *unitFS) isOverlay(p string) bool { return filepath.Clean(p) == f.overlayPath }

func (f *unitFS) Exists(p string) bool {
	return f.isOverlay(p) || f.FileSystem.Exists(p)
}

func (f *unitFS) IsDir(p string) bool {
	if f.isOverlay(p) {
		return false
	}
	return f.FileSystem.IsDir(p)
}

func (f *unitFS) ReadFile(p string) ([]byte, error) {
	var data []byte
	var err error
	if f.isOverlay(p) {
		data = f.overlay
	} else {
		if reason, ok := f.unsafe[filepath.Clean(p)]; ok {
			return nil, fmt.Errorf("refusing to read %s: %s", filepath.Base(p), reason)
		}
		data, err = f.FileSystem.ReadFile(p)
		if err != nil {
			return nil, err
		}
	}
	sum := sha256.Sum256(data)
	if f.decrypt != nil && !isKustomizationName(filepath.Base(p)) && sops.IsEncrypted(p, data) {
		plain, err := f.decrypt(p, data)
		if err != nil {
			return nil, err
		}
		f.mu.Lock()
		f.decrypted = append(f.decrypted, p)
		f.mu.Unlock()
		data = plain
	}
	f.mu.Lock()
	f.read[filepath.Clean(p)] = hex.EncodeToString(sum[:])
	if isKustomizationName(filepath.Base(p)) && bytes.Contains(data, []byte("openapi:")) {
		f.openAPI = true
	}
	f.mu.Unlock()
	return data, nil
}

func (f *unitFS) ReadDir(p string) ([]string, error) {
	names, err := f.FileSystem.ReadDir(p)
	if err != nil {
		return nil, err
	}
	if filepath.Dir(f.overlayPath) == filepath.Clean(p) {
		base := filepath.Base(f.overlayPath)
		for _, n := range names {
			if n == base {
				return names, nil
			}
		}
		names = append(names, base)
		sort.Strings(names)
	}
	return names, nil
}

// Writes never reach the user's tree.
func (f *unitFS) Create(string) (filesys.File, error) { return nil, os.ErrPermission }
func (f *unitFS) Mkdir(string) error                  { return os.ErrPermission }
func (f *unitFS) MkdirAll(string) error               { return os.ErrPermission }
func (f *unitFS) RemoveAll(string) error              { return os.ErrPermission }
func (f *unitFS) WriteFile(string, []byte) error      { return os.ErrPermission }

// reads returns the files read, as sorted "path sha256" pairs with paths
// relative to root.
func (f *unitFS) reads(root string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, 0, len(f.read))
	for p, sum := range f.read {
		rel, err := filepath.Rel(root, p)
		if err != nil {
			rel = p
		}
		out = append(out, filepath.ToSlash(rel)+" "+sum)
	}
	sort.Strings(out)
	return out
}

func isKustomizationName(base string) bool {
	return base == "kustomization.yaml" || base == "kustomization.yml" || base == "Kustomization"
}

// decryptedFiles lists the files opened with the decryptor.
func (f *unitFS) decryptedFiles() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.decrypted...)
}
