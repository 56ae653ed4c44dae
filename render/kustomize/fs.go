package kustomize

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

	"github.com/fluxgate/fluxgate/render/sops"
)

// FS is the filesystem one kustomize build sees: the source root on disk
// (confined to it), with the kustomization file Flux generates for the unit
// laid over it in memory, so nothing is ever written to the user's tree. It
// records every file the build reads, for the unit's input hash.
type FS struct {
	filesys.FileSystem
	overlayPath string
	overlay     []byte
	// Unsafe maps absolute paths of files that must not be parsed (alias
	// bombs) to the reason.
	Unsafe map[string]string
	// Decrypt, when set, opens SOPS-encrypted files as they are read, as
	// kustomize-controller decrypts sources and resources.
	Decrypt func(name string, data []byte) ([]byte, error)
	// MaxFileSize, when above zero, refuses files on disk larger than it
	// (--max-file-size): the loader did not read them, and neither does
	// the build.
	MaxFileSize int64

	mu   sync.Mutex
	read map[string]string // absolute path -> sha256 of content
	// openAPI is set when a kustomization file read uses the openapi
	// field (schemas of its own for kustomize's global).
	openAPI   bool
	decrypted []string // absolute paths opened with Decrypt
	// failed is the first file Decrypt could not open, and why.
	failed    string
	failedErr error
	// tooLarge is the first file refused for MaxFileSize.
	tooLarge string
}

var _ filesys.FileSystem = (*FS)(nil)

// NewFS lays the kustomization file overlay, at the absolute overlayPath,
// over base.
func NewFS(base filesys.FileSystem, overlayPath string, overlay []byte) *FS {
	return &FS{FileSystem: base, overlayPath: filepath.Clean(overlayPath), overlay: overlay, read: map[string]string{}}
}

func (f *FS) usesOpenAPI() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.openAPI
}

func (f *FS) isOverlay(p string) bool { return filepath.Clean(p) == f.overlayPath }

func (f *FS) Exists(p string) bool {
	return f.isOverlay(p) || f.FileSystem.Exists(p)
}

func (f *FS) IsDir(p string) bool {
	if f.isOverlay(p) {
		return false
	}
	return f.FileSystem.IsDir(p)
}

func (f *FS) ReadFile(p string) ([]byte, error) {
	var data []byte
	var err error
	if f.isOverlay(p) {
		data = f.overlay
	} else {
		if reason, ok := f.Unsafe[filepath.Clean(p)]; ok {
			return nil, fmt.Errorf("refusing to read %s: %s", filepath.Base(p), reason)
		}
		if info, err := os.Stat(p); err == nil {
			if !info.Mode().IsRegular() && !info.IsDir() {
				// A named pipe blocks the read until a writer comes.
				return nil, fmt.Errorf("refusing to read %s: not a regular file (a named pipe, socket or device)", filepath.Base(p))
			}
			if f.MaxFileSize > 0 && info.Size() > f.MaxFileSize {
				f.mu.Lock()
				if f.tooLarge == "" {
					f.tooLarge = filepath.Clean(p)
				}
				f.mu.Unlock()
				return nil, fmt.Errorf("refusing to read %s: %d bytes is over the file size limit of %d (--max-file-size)", filepath.Base(p), info.Size(), f.MaxFileSize)
			}
		}
		data, err = f.FileSystem.ReadFile(p)
		if err != nil {
			return nil, err
		}
	}
	sum := sha256.Sum256(data)
	if f.Decrypt != nil && !IsKustomizationName(filepath.Base(p)) && sops.IsEncrypted(p, data) {
		plain, err := f.Decrypt(p, data)
		if err != nil {
			f.mu.Lock()
			if f.failed == "" {
				f.failed, f.failedErr = filepath.Clean(p), err
			}
			f.mu.Unlock()
			return nil, err
		}
		f.mu.Lock()
		f.decrypted = append(f.decrypted, p)
		f.mu.Unlock()
		data = plain
	}
	f.mu.Lock()
	f.read[filepath.Clean(p)] = hex.EncodeToString(sum[:])
	if IsKustomizationName(filepath.Base(p)) && bytes.Contains(data, []byte("openapi:")) {
		f.openAPI = true
	}
	f.mu.Unlock()
	return data, nil
}

func (f *FS) ReadDir(p string) ([]string, error) {
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
func (f *FS) Create(string) (filesys.File, error) { return nil, os.ErrPermission }
func (f *FS) Mkdir(string) error                  { return os.ErrPermission }
func (f *FS) MkdirAll(string) error               { return os.ErrPermission }
func (f *FS) RemoveAll(string) error              { return os.ErrPermission }
func (f *FS) WriteFile(string, []byte) error      { return os.ErrPermission }

// Reads returns the files read, as sorted "path sha256" pairs with paths
// relative to root.
func (f *FS) Reads(root string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, 0, len(f.read))
	for p, sum := range f.read {
		out = append(out, relSlash(root, p)+" "+sum)
	}
	sort.Strings(out)
	return out
}

// Decrypted lists the files opened with Decrypt.
func (f *FS) Decrypted() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.decrypted...)
}

// DecryptFailure returns the first file (absolute path) that Decrypt
// could not open, with Decrypt's error; "" when every decryption worked.
// kustomize nests that error in its own, so a build that failed is
// explained by this file alone when there is one.
func (f *FS) DecryptFailure() (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failed, f.failedErr
}

// Record is what a build read, with paths relative to a root: the sha256
// of each file read and the files decrypted.
type Record struct {
	Reads     map[string]string
	Overlay   string // the generated kustomization file
	Decrypted []string
}

// Record returns what the builds on f read so far, relative to root.
func (f *FS) Record(root string) Record {
	f.mu.Lock()
	defer f.mu.Unlock()
	rec := Record{Reads: make(map[string]string, len(f.read)), Overlay: relSlash(root, f.overlayPath)}
	for p, sum := range f.read {
		rec.Reads[relSlash(root, p)] = sum
	}
	for _, p := range f.decrypted {
		rec.Decrypted = append(rec.Decrypted, relSlash(root, p))
	}
	return rec
}

// Replay makes f look as if it had run the build rec records: the same
// reads (for the input hash) and decrypted files.
func (f *FS) Replay(root string, rec Record) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for rel, sum := range rec.Reads {
		f.read[filepath.Join(root, filepath.FromSlash(rel))] = sum
	}
	for _, rel := range rec.Decrypted {
		f.decrypted = append(f.decrypted, filepath.Join(root, filepath.FromSlash(rel)))
	}
}

// TooLarge returns the first file the build refused for MaxFileSize, or "".
func (f *FS) TooLarge() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tooLarge
}

// IsKustomizationName reports whether base is a kustomization file's name.
func IsKustomizationName(base string) bool {
	return base == "kustomization.yaml" || base == "kustomization.yml" || base == "Kustomization"
}

func relSlash(root, p string) string {
	rel, err := filepath.Rel(root, p)
	if err != nil {
		return filepath.ToSlash(p)
	}
	return filepath.ToSlash(rel)
}
