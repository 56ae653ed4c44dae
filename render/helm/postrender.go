package helm

import (
	"bytes"
	"fmt"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"github.com/fluxcd/pkg/apis/kustomize"
	"helm.sh/helm/v3/pkg/postrender"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// KustomizeFunc builds the kustomization in dir of fsys with kustomize
// and returns the resulting YAML.
type KustomizeFunc func(fsys filesys.FileSystem, dir string) ([]byte, error)

// kustomizePostRenderer is a HelmRelease's spec.postRenderers[].kustomize
// as helm-controller runs it: the rendered manifest becomes the only
// resource of a kustomization with the patches and images, built with
// kustomize in memory. Helm 3 gives post-renderers the manifest without
// hooks and without the chart's crds/.
type kustomizePostRenderer struct {
	spec  *helmv2.Kustomize
	build KustomizeFunc
}

var _ postrender.PostRenderer = kustomizePostRenderer{}

func (k kustomizePostRenderer) Run(in *bytes.Buffer) (*bytes.Buffer, error) {
	kus := kustypes.Kustomization{
		TypeMeta:  kustypes.TypeMeta{APIVersion: kustypes.KustomizationVersion, Kind: kustypes.KustomizationKind},
		Resources: []string{"resources.yaml"},
	}
	for _, p := range k.spec.Patches {
		kus.Patches = append(kus.Patches, kustypes.Patch{Patch: p.Patch, Target: selector(p.Target)})
	}
	for _, i := range k.spec.Images {
		kus.Images = append(kus.Images, kustypes.Image{Name: i.Name, NewName: i.NewName, NewTag: i.NewTag, Digest: i.Digest})
	}
	manifest, err := yaml.Marshal(kus)
	if err != nil {
		return nil, err
	}
	mem := filesys.MakeFsInMemory()
	if err := mem.MkdirAll("/postrender"); err != nil {
		return nil, err
	}
	if err := mem.WriteFile("/postrender/resources.yaml", in.Bytes()); err != nil {
		return nil, err
	}
	if err := mem.WriteFile("/postrender/kustomization.yaml", manifest); err != nil {
		return nil, err
	}
	out, err := k.build(mem, "/postrender")
	if err != nil {
		return nil, fmt.Errorf("post-render with kustomize: %w", err)
	}
	return bytes.NewBuffer(out), nil
}

func selector(s *kustomize.Selector) *kustypes.Selector {
	if s == nil {
		return nil
	}
	out := &kustypes.Selector{Name: s.Name, Namespace: s.Namespace, LabelSelector: s.LabelSelector, AnnotationSelector: s.AnnotationSelector}
	out.Gvk.Group, out.Gvk.Version, out.Gvk.Kind = s.Group, s.Version, s.Kind
	return out
}

// postRenderChain runs post-renderers in order.
type postRenderChain []postrender.PostRenderer

func (c postRenderChain) Run(in *bytes.Buffer) (*bytes.Buffer, error) {
	var err error
	for _, p := range c {
		if in, err = p.Run(in); err != nil {
			return nil, err
		}
	}
	return in, nil
}

// postRenderers builds the chain of a HelmRelease's post-renderers; nil
// when it has none.
func postRenderers(hr *helmv2.HelmRelease, build KustomizeFunc) postrender.PostRenderer {
	var chain postRenderChain
	for _, p := range hr.Spec.PostRenderers {
		if p.Kustomize != nil {
			chain = append(chain, kustomizePostRenderer{spec: p.Kustomize, build: build})
		}
	}
	if len(chain) == 0 {
		return nil
	}
	return chain
}

// templateRecorder runs post-renderers after noting the chart template
// of each object of the manifest they get: their output has lost the
// "# Source:" comments.
type templateRecorder struct {
	next postrender.PostRenderer
	// byRef maps Kind/namespace/name, and byName Kind/name (empty when
	// ambiguous), to the template.
	byRef, byName map[string]string
}

var _ postrender.PostRenderer = (*templateRecorder)(nil)

func (t *templateRecorder) Run(in *bytes.Buffer) (*bytes.Buffer, error) {
	t.byRef, t.byName = map[string]string{}, map[string]string{}
	if docs, err := ParseManifest(in.String(), ""); err == nil {
		for _, o := range docs {
			if o.Template == "" {
				continue
			}
			kind, ns, name := objectKey(o.Object)
			t.byRef[kind+"/"+ns+"/"+name] = o.Template
			k := kind + "/" + name
			if prev, seen := t.byName[k]; seen && prev != o.Template {
				t.byName[k] = ""
			} else {
				t.byName[k] = o.Template
			}
		}
	}
	return t.next.Run(in)
}

// template is the template that produced obj before post-rendering,
// matched by kind, namespace and name, else by kind and name; empty for
// an object the post-renderers added.
func (t *templateRecorder) template(obj map[string]any) string {
	kind, ns, name := objectKey(obj)
	if tmpl, ok := t.byRef[kind+"/"+ns+"/"+name]; ok {
		return tmpl
	}
	return t.byName[kind+"/"+name]
}

func objectKey(obj map[string]any) (kind, namespace, name string) {
	kind, _ = obj["kind"].(string)
	md, _ := obj["metadata"].(map[string]any)
	namespace, _ = md["namespace"].(string)
	name, _ = md["name"].(string)
	return kind, namespace, name
}
