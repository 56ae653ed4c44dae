package kustomize

import (
	"fmt"
	"path/filepath"
	"reflect"
	"strings"

	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/api/provider"
	"sigs.k8s.io/kustomize/api/resource"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/yaml"
)

// originAnnotation is where kustomize's originAnnotations build option
// records the file an object came from.
const originAnnotation = "config.kubernetes.io/origin"

// maxPlainDepth bounds the directories a plain build follows, as a guard
// against a base that lists itself (kustomize reports the cycle; a plain
// build hands such a tree back to kustomize).
const maxPlainDepth = 32

// buildPlain builds dir without kustomize's accumulator when its
// kustomization, and that of every directory it lists, does nothing but
// list local files and directories: the common Flux unit (a directory
// with no kustomization.yaml, for which Flux generates exactly such a
// file) and the common "resources only" overlay. kustomize checks every
// object it adds against all objects added before, and its legacy sort
// re-adds them all, so its build is quadratic in the number of objects: a
// 9 MB file of 30,000 small objects takes hours. The result here is the
// one kustomize gives as Flux runs it (same objects, same origin
// annotations, in the order listed: Flux sets no sort order, so kustomize
// keeps it; TestPlainBuildMatchesKustomize holds the two together), found
// in linear time.
//
// ok is false when the tree needs kustomize (any transformer, generator,
// remote base, missing file or anything unusual); err is set only for the
// errors kustomize would give too: a file that does not parse or an
// object listed twice.
func buildPlain(fs *FS, dir string) (res []*resource.Resource, ok bool, err error) {
	b := &plainBuild{fs: fs, rf: provider.NewDefaultDepProvider().GetResourceFactory(), seen: map[plainID]bool{}, open: map[string]bool{}}
	// Every kustomization file first, so that a tree kustomize must build
	// reads (and decrypts) none of its resource files here.
	if !b.plan(filepath.Clean(dir), "", 0) {
		return nil, false, nil
	}
	for _, f := range b.files {
		if ok, err := b.file(f); !ok || err != nil {
			return nil, ok, err
		}
	}
	kept := b.out[:0]
	for _, r := range b.out {
		if v, local := r.GetAnnotations()[konfig.IgnoredByKustomizeAnnotation]; local && v != "false" {
			continue
		}
		kept = append(kept, r)
	}
	return kept, true, nil
}

type plainBuild struct {
	fs    *FS
	rf    *resource.Factory
	files []plainFile // the resource files, in kustomize's order
	out   []*resource.Resource
	seen  map[plainID]bool // objects added so far
	open  map[string]bool  // directories being planned (a cycle is kustomize's error)
}

// plainFile is one resource file of a plain tree: its absolute path, its
// path as its kustomization names it, and its origin annotation.
type plainFile struct {
	abs, name string
	origin    *resource.Origin
}

// plainID is an object's identity as kustomize compares it: group,
// version, kind, name and effective namespace ("" and "default" are the
// same for namespaced kinds).
type plainID struct{ group, version, kind, name, namespace string }

// kustomizationNames are the names kustomize looks for in a directory, in
// its order.
var kustomizationNames = konfig.RecognizedKustomizationFileNames()

// plan lists the resource files of the kustomization in dir, and of the
// directories it lists, reporting whether all of them are plain; origin
// is dir's path as the root kustomization names it.
func (b *plainBuild) plan(dir, origin string, depth int) bool {
	if depth > maxPlainDepth || b.open[dir] {
		return false
	}
	b.open[dir] = true
	defer delete(b.open, dir)
	var kfile string
	for _, n := range kustomizationNames {
		if p := filepath.Join(dir, n); b.fs.Exists(p) {
			if kfile != "" {
				return false // kustomize refuses the ambiguity
			}
			kfile = p
		}
	}
	if kfile == "" {
		return false
	}
	data, err := b.fs.ReadFile(kfile)
	if err != nil {
		return false
	}
	var k kustypes.Kustomization
	if err := yaml.UnmarshalStrict(data, &k); err != nil || !plainKustomization(k) {
		return false
	}
	for _, p := range k.Resources {
		if p == "" || strings.Contains(p, "://") || strings.HasPrefix(p, "git@") || strings.HasPrefix(p, "github.com/") || filepath.IsAbs(p) {
			return false
		}
		abs := filepath.Join(dir, filepath.FromSlash(p))
		if !b.fs.Exists(abs) {
			return false
		}
		o := (&resource.Origin{Path: origin}).Append(p)
		switch {
		case b.fs.IsDir(abs):
			if !b.plan(abs, o.Path, depth+1) {
				return false
			}
		case IsKustomizationName(filepath.Base(abs)):
			return false
		default:
			b.files = append(b.files, plainFile{abs: abs, name: p, origin: o})
		}
	}
	return true
}

// file adds the objects of one resource file.
func (b *plainBuild) file(f plainFile) (bool, error) {
	data, err := b.fs.ReadFile(f.abs)
	if err != nil {
		return false, nil
	}
	objs, err := b.rf.SliceFromBytes(data)
	if err != nil {
		return false, nil // kustomize words the error
	}
	anno, err := f.origin.String()
	if err != nil {
		return false, nil
	}
	for _, r := range objs {
		if r.GetApiVersion() == "" || r.GetKind() == "" {
			return false, nil // kustomize's own message for these
		}
		id := r.CurId()
		key := plainID{id.Group, id.Version, id.Kind, id.Name, id.EffectiveNamespace()}
		if b.seen[key] {
			return true, fmt.Errorf("accumulating resources: merging resources from '%s': may not add resource with an already registered id: %s", f.name, id)
		}
		b.seen[key] = true
		if err := r.SetAnnotations(withAnnotation(r.GetAnnotations(), originAnnotation, anno)); err != nil {
			return false, nil
		}
		r.RemoveBuildAnnotations()
		b.out = append(b.out, r)
	}
	return true, nil
}

func withAnnotation(a map[string]string, k, v string) map[string]string {
	if a == nil {
		a = map[string]string{}
	}
	a[k] = v
	return a
}

// plainKustomization reports whether k lists resources and nothing else
// (apart from the origin annotations fluxgate asks for).
func plainKustomization(k kustypes.Kustomization) bool {
	if k.APIVersion != "" && k.APIVersion != kustypes.KustomizationVersion {
		return false
	}
	if k.Kind != "" && k.Kind != kustypes.KustomizationKind {
		return false
	}
	for _, m := range k.BuildMetadata {
		if m != originBuildMetadata {
			return false
		}
	}
	k.TypeMeta, k.Resources, k.BuildMetadata = kustypes.TypeMeta{}, nil, nil
	return reflect.DeepEqual(k, kustypes.Kustomization{})
}
