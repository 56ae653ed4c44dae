package kustomize

import (
	"bytes"
	"fmt"
	"sync"

	fluxkustomize "github.com/fluxcd/pkg/kustomize"
	securefs "github.com/fluxcd/pkg/kustomize/filesys"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resource"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/openapi"
	"sigs.k8s.io/yaml"
)

const originBuildMetadata = "originAnnotations"

// Options are the build options a user may turn on; kustomize-controller
// turns none of them on.
type Options struct {
	// Helm enables kustomize's helmCharts generator (running the helm
	// command on PATH).
	Helm bool
	// Exec enables exec KRM functions.
	Exec bool
}

// SourceFS opens the source root srcRoot the way kustomize-controller
// does: confined to it, and, with remote set, also allowing remote bases.
func SourceFS(srcRoot string, remote bool) (filesys.FileSystem, error) {
	if remote {
		return securefs.MakeFsOnDiskSecureBuild(srcRoot)
	}
	return securefs.MakeFsOnDiskSecure(srcRoot)
}

// Generate returns the kustomization file Flux generates for a build of
// the absolute directory dir by the Flux Kustomization spec in the source
// rooted at srcRoot (created when dir has none, patched otherwise), and
// its absolute path. Nothing is written.
func Generate(srcRoot, dir string, spec map[string]any) ([]byte, string, error) {
	gen := fluxkustomize.NewGenerator(srcRoot, unstructured.Unstructured{Object: spec})
	manifest, kfile, _, err := gen.GenerateManifest(dir)
	return manifest, kfile, err
}

// WithOriginAnnotations adds kustomize's origin annotations to the build so
// every object can be traced to its file. It reports whether the user asked
// for them (then they stay in the output).
func WithOriginAnnotations(manifest []byte) ([]byte, bool, error) {
	var k kustypes.Kustomization
	if err := yaml.Unmarshal(manifest, &k); err != nil {
		return nil, false, err
	}
	for _, m := range k.BuildMetadata {
		if m == originBuildMetadata {
			return manifest, true, nil
		}
	}
	k.BuildMetadata = append(k.BuildMetadata, originBuildMetadata)
	out, err := yaml.Marshal(k)
	return out, false, err
}

// buildMu serialises kustomize builds: kustomize keeps its OpenAPI schema
// in a process-wide global (fluxcd/pkg/kustomize's Build holds a mutex for
// the same reason).
var buildMu sync.Mutex

// openAPIDirty is set when a build loaded schemas of its own (the
// kustomization "openapi" field) into kustomize's global; guarded by
// buildMu.
var openAPIDirty = true

// Build runs kustomize on dir the way fluxcd/pkg/kustomize's Build does
// (no load restrictions, builtin plugins only, panics recovered), except
// that the builtin OpenAPI schema is parsed once and reset only after a
// build that added schemas of its own: Flux re-parses it before every
// build, which costs about a third of the build time and gives the same
// result.
//
// A tree that only lists files is built without kustomize's accumulator
// (buildPlain), in linear time.
func Build(fs *FS, dir string, opts Options) (m Objects, err error) {
	buildMu.Lock()
	defer buildMu.Unlock()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("recovered from kustomize build panic: %v", p)
		}
	}()
	pc := kustypes.DisabledPluginConfig()
	if opts.Helm || opts.Exec {
		pc = kustypes.MakePluginConfig(kustypes.PluginRestrictionsNone, kustypes.BploUseStaticallyLinked)
		if opts.Helm {
			pc.HelmConfig.Enabled = true
			pc.HelmConfig.Command = "helm"
		}
		pc.FnpLoadingOptions.EnableExec = opts.Exec
	}
	if openAPIDirty {
		openapi.ResetOpenAPI()
		_ = openapi.Schema()
		openAPIDirty = false
	}
	defer func() {
		if fs.usesOpenAPI() {
			openAPIDirty = true
		}
	}()
	if res, ok, err := buildPlain(fs, dir); ok {
		return res, err
	}
	return runKustomize(fs, dir, pc)
}

// runKustomize is kustomize's own build of dir; buildMu is held.
func runKustomize(fs *FS, dir string, pc *kustypes.PluginConfig) (Objects, error) {
	k := krusty.MakeKustomizer(&krusty.Options{LoadRestrictions: kustypes.LoadRestrictionsNone, PluginConfig: pc})
	rm, err := k.Run(fs, dir)
	if err != nil {
		return nil, err
	}
	return rm.Resources(), nil
}

// Objects are the output of a build, in kustomize's order.
type Objects []*resource.Resource

// DeepCopy copies every object.
func (o Objects) DeepCopy() Objects {
	c := make(Objects, len(o))
	for i, r := range o {
		c[i] = r.DeepCopy()
	}
	return c
}

// AsYaml is the build as kustomize prints it: the objects as YAML
// documents separated by "---".
func (o Objects) AsYaml() ([]byte, error) {
	var buf bytes.Buffer
	for i, r := range o {
		out, err := r.AsYAML()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.CurId(), err)
		}
		if i > 0 {
			buf.WriteString("---\n")
		}
		buf.Write(out)
	}
	return buf.Bytes(), nil
}

// OwnOutput looks an object up in a build's output: a substituteFrom
// ConfigMap a unit itself generates is in the cluster from its previous
// apply.
func OwnOutput(m Objects) func(kind, namespace, name string) map[string]any {
	return func(kind, namespace, name string) map[string]any {
		for _, res := range m {
			if res.GetKind() != kind || res.GetName() != name || res.GetNamespace() != namespace {
				continue
			}
			b, err := res.MarshalJSON()
			if err != nil {
				return nil
			}
			obj := &unstructured.Unstructured{}
			if err := obj.UnmarshalJSON(b); err != nil {
				return nil
			}
			return obj.Object
		}
		return nil
	}
}

// SetCommonMetadata merges spec.commonMetadata labels and annotations into
// an object, overriding existing keys, as kustomize-controller does.
func SetCommonMetadata(obj *unstructured.Unstructured, cm map[string]any) {
	if labels, ok := cm["labels"].(map[string]any); ok && len(labels) > 0 {
		l := obj.GetLabels()
		if l == nil {
			l = map[string]string{}
		}
		for k, v := range labels {
			l[k] = fmt.Sprint(v)
		}
		obj.SetLabels(l)
	}
	if annotations, ok := cm["annotations"].(map[string]any); ok && len(annotations) > 0 {
		a := obj.GetAnnotations()
		if a == nil {
			a = map[string]string{}
		}
		for k, v := range annotations {
			a[k] = fmt.Sprint(v)
		}
		obj.SetAnnotations(a)
	}
}
