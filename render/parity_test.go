package render_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	generator "github.com/fluxcd/pkg/kustomize"
	"github.com/fluxcd/pkg/sourceignore"
	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	yamlutil "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/yaml"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/render"
)

// The parity test renders one Flux Kustomization per fixture twice: with
// fluxgate, and with github.com/fluxcd/pkg/kustomize driven the way
// kustomize-controller's build() drives it (generated kustomization.yaml
// written into a copy of the source, SecureBuild, SubstituteVariables per
// object with a client serving the ConfigMaps and Secrets, AsYaml, then
// spec.commonMetadata as ssautil.SetCommonMetadata sets it). Both must give
// the same objects.
//
// A fixture under testdata/parity/<case>/ holds cluster/ks.yaml (the
// Kustomization under test, flux-system/app, built from GitRepository
// flux-system), optionally cluster/vars.yaml (the ConfigMaps and Secrets its
// substituteFrom reads; the reference serves them from a fake API server),
// and the source tree. fluxgate renders the entry point cluster/ as a plain
// overlay whose output declares the Kustomization; its child unit is the one
// compared.

const (
	parityUnit   = "Kustomization/flux-system/app"
	paritySource = "GitRepository/flux-system/flux-system"
)

// parityField expects a value at a path of one object of the reference
// output, so a fixture cannot pass by exercising nothing on both sides.
type parityField struct {
	ref   string
	path  []string
	value any // as decoded from JSON: string, float64, map[string]any...; nil: absent
}

var parityCases = []struct {
	name string
	// refs is the exact set of objects built, as Kind/namespace/name.
	refs   []string
	fields []parityField
}{
	{
		name: "generated",
		refs: []string{"ConfigMap/apps/web-config", "Deployment/apps/web", "Role/apps/reader", "Service/apps/web", "Service/apps/web-headless"},
		fields: []parityField{
			{ref: "Role/apps/reader", path: []string{"metadata", "labels", "team"}, value: "sub"},
			{ref: "ConfigMap/apps/web-config", path: []string{"data", "count"}, value: "3"},
		},
	},
	{
		name: "existing-patched",
		refs: []string{"Deployment/prod/prod-api-v1", "Service/prod/prod-api-v1"},
		fields: []parityField{
			{ref: "Deployment/prod/prod-api-v1", path: []string{"spec", "replicas"}, value: 3.0},
			{ref: "Deployment/prod/prod-api-v1", path: []string{"metadata", "annotations", "from-existing-patch"}, value: "true"},
			{ref: "Deployment/prod/prod-api-v1", path: []string{"metadata", "labels", "owner"}, value: "team-a"},
			{ref: "Deployment/prod/prod-api-v1", path: []string{"spec", "template", "spec", "containers", "0", "image"}, value: "ghcr.io/example/api:2.0.0"},
		},
	},
	{
		name: "patches",
		refs: []string{"ConfigMap/settings", "Deployment/web", "Deployment/worker", "Deployment/worker-b", "Service/apps/plain", "Service/apps/secure", "Service/other/secure"},
		fields: []parityField{
			{ref: "Deployment/web", path: []string{"spec", "replicas"}, value: 3.0},
			{ref: "Deployment/web", path: []string{"metadata", "annotations"}, value: nil},
			{ref: "Deployment/worker", path: []string{"metadata", "annotations", "tier-patched"}, value: "backend"},
			{ref: "Deployment/worker-b", path: []string{"spec", "template", "spec", "containers", "0", "env", "0", "value"}, value: "worker"},
			{ref: "Service/apps/secure", path: []string{"spec", "ports", "0", "port"}, value: 8443.0},
			{ref: "Service/other/secure", path: []string{"spec", "ports", "0", "port"}, value: 443.0},
			{ref: "ConfigMap/settings", path: []string{"data", "obsolete"}, value: nil},
		},
	},
	{
		name: "images",
		refs: []string{"CronJob/job", "Deployment/web"},
		fields: []parityField{
			{ref: "Deployment/web", path: []string{"spec", "template", "spec", "containers", "0", "image"}, value: "registry.example.com/mirror/nginx:1.27.3"},
			{ref: "Deployment/web", path: []string{"spec", "template", "spec", "containers", "1", "image"}, value: "redis:7.4"},
			{ref: "Deployment/web", path: []string{"spec", "template", "spec", "containers", "2", "image"}, value: "ghcr.io/example/app:v2.3.4"},
			{ref: "Deployment/web", path: []string{"spec", "template", "spec", "containers", "3", "image"}, value: "docker.io/library/untouched"},
			{ref: "Deployment/web", path: []string{"spec", "template", "spec", "initContainers", "0", "image"}, value: "busybox@sha256:4be429a5fbb2e71ae7958bfa558bc637cf3a61baf40a708cb8fff532b39e52d0"},
			{ref: "CronJob/job", path: []string{"spec", "jobTemplate", "spec", "template", "spec", "containers", "0", "image"}, value: "ghcr.io/example/app:v2.3.4"},
		},
	},
	{
		name: "components",
		refs: []string{"ConfigMap/shop/tls-settings-94f98dkgd4", "Deployment/shop/web", "ServiceMonitor/shop/web"},
		fields: []parityField{
			{ref: "Deployment/shop/web", path: []string{"spec", "template", "metadata", "annotations", "prometheus.io/scrape"}, value: "true"},
			{ref: "Deployment/shop/web", path: []string{"metadata", "labels", "tls"}, value: "enabled"},
		},
	},
	{
		name: "target-namespace",
		refs: []string{"ClusterRole/web-cluster", "ClusterRoleBinding/web-cluster", "Deployment/tenant-a/web", "Namespace/tenant-a", "RoleBinding/tenant-a/web", "ServiceAccount/tenant-a/web"},
		fields: []parityField{
			{ref: "RoleBinding/tenant-a/web", path: []string{"subjects", "0", "namespace"}, value: "tenant-a"},
			{ref: "ClusterRoleBinding/web-cluster", path: []string{"subjects", "0", "namespace"}, value: "tenant-a"},
		},
	},
	{
		name: "name-prefix-suffix",
		refs: []string{"ClusterRole/blue-web-reader-v2", "ClusterRoleBinding/blue-web-reader-v2", "ConfigMap/blue-web-env-v2", "Deployment/blue-web-v2", "Service/blue-web-v2", "ServiceAccount/blue-web-v2"},
		fields: []parityField{
			{ref: "Deployment/blue-web-v2", path: []string{"spec", "template", "spec", "containers", "0", "envFrom", "0", "configMapRef", "name"}, value: "blue-web-env-v2"},
			{ref: "Deployment/blue-web-v2", path: []string{"spec", "template", "spec", "volumes", "0", "configMap", "name"}, value: "blue-web-env-v2"},
			{ref: "Deployment/blue-web-v2", path: []string{"spec", "template", "spec", "serviceAccountName"}, value: "blue-web-v2"},
			{ref: "ClusterRoleBinding/blue-web-reader-v2", path: []string{"roleRef", "name"}, value: "blue-web-reader-v2"},
		},
	},
	{
		name: "common-metadata",
		refs: []string{"ConfigMap/bare", "ConfigMap/labelled", "Deployment/web"},
		fields: []parityField{
			{ref: "ConfigMap/bare", path: []string{"metadata", "labels"}, value: map[string]any{"app.kubernetes.io/part-of": "shop", "env": "production"}},
			{ref: "ConfigMap/labelled", path: []string{"metadata", "labels"}, value: map[string]any{"app.kubernetes.io/part-of": "shop", "env": "production", "keep": "me"}},
			{ref: "ConfigMap/labelled", path: []string{"metadata", "annotations"}, value: map[string]any{"owner": "platform-team", "example.com/ticket": "OPS-42", "note": "kept"}},
			{ref: "Deployment/web", path: []string{"spec", "template", "metadata", "labels"}, value: map[string]any{"app": "web"}},
		},
	},
	{
		name: "postbuild",
		refs: []string{"ConfigMap/raw-by-annotation", "ConfigMap/raw-by-label", "ConfigMap/settings", "Deployment/web"},
		fields: []parityField{
			{ref: "ConfigMap/settings", path: []string{"metadata", "labels", "region"}, value: "eu-west-1"},
			{ref: "ConfigMap/settings", path: []string{"data"}, value: map[string]any{
				"plain":           "$REGION", // Flux substitutes only ${VAR}
				"braced":          "prod-eu",
				"embedded":        "app.example.com/path",
				"defaulted":       "fallback",
				"dash-default":    "dash",
				"defined-default": "eu-west-1",
				"override":        "from-inline",
				"shared":          "from-secret",
				"password":        "s3cr3t",
				"token":           "tok-abc",
				"apikey":          "key-123",
				"wrapped":         "firstsecond",
				"multiline":       "line1line2",
				"undefined":       "xy",
				"escaped":         "${REGION}",
			}},
			{ref: "Deployment/web", path: []string{"spec", "replicas"}, value: 3.0},
			{ref: "ConfigMap/raw-by-annotation", path: []string{"data", "script"}, value: "echo ${HOME} $REGION ${X:=y}"},
			{ref: "ConfigMap/raw-by-label", path: []string{"data", "script"}, value: "echo ${REGION}"},
		},
	},
	{
		name: "postbuild-always",
		refs: []string{"ConfigMap/defaults"},
		fields: []parityField{
			{ref: "ConfigMap/defaults", path: []string{"data"}, value: map[string]any{"defaulted": "info", "dash-default": "30s", "undefined": "ab"}},
		},
	},
	{
		name: "postbuild-no-vars",
		refs: []string{"ConfigMap/defaults"},
		fields: []parityField{
			{ref: "ConfigMap/defaults", path: []string{"data"}, value: map[string]any{"defaulted": "${LOG_LEVEL:=info}", "undefined": "a${NOTHING}b"}},
		},
	},
	{
		name: "configmap-generator",
		refs: []string{"ConfigMap/fixed-name", "ConfigMap/web-config-dt8989fckc", "ConfigMap/web-env-47668c6k28", "Deployment/web", "Secret/web-secret-9279h2tbm8"},
		fields: []parityField{
			{ref: "ConfigMap/web-config-dt8989fckc", path: []string{"data", "GREETING"}, value: "hello"},
			{ref: "Deployment/web", path: []string{"spec", "template", "spec", "volumes", "0", "configMap", "name"}, value: "web-config-dt8989fckc"},
			{ref: "Deployment/web", path: []string{"spec", "template", "spec", "containers", "0", "envFrom", "1", "secretRef", "name"}, value: "web-secret-9279h2tbm8"},
		},
	},
	{
		name: "generator-only",
		refs: []string{"ConfigMap/apps/only-generated-9f2t6f5h6d"},
		fields: []parityField{
			// Flux adds originAnnotations to a kustomization without resources.
			{ref: "ConfigMap/apps/only-generated-9f2t6f5h6d", path: []string{"metadata", "annotations", "config.kubernetes.io/origin"},
				value: "configuredIn: kustomization.yaml\nconfiguredBy:\n  apiVersion: builtin\n  kind: ConfigMapGenerator\n"},
		},
	},
	{
		// Files Flux's default ignore rules keep out of a GitRepository
		// artifact (.github/, **/.sops.yaml, cloudbuild.yaml) are not
		// manifests; the generated kustomization.yaml must not list them.
		name: "sourceignore-defaults",
		refs: []string{"Deployment/web"},
	},
	{
		// A file excluded by the repository's .sourceignore is not in the
		// artifact, so the generated kustomization.yaml does not list it.
		name: "sourceignore-file",
		refs: []string{"Deployment/web"},
	},
	{
		// A directory without manifests builds to nothing.
		name: "empty-dir",
	},
	{
		name: "build-metadata",
		refs: []string{"ConfigMap/apps/x-cm"},
		fields: []parityField{
			// spec.buildMetadata replaces the file's originAnnotations.
			{ref: "ConfigMap/apps/x-cm", path: []string{"metadata", "annotations", "config.kubernetes.io/origin"}, value: nil},
			{ref: "ConfigMap/apps/x-cm", path: []string{"metadata", "annotations", "alpha.config.kubernetes.io/transformations"},
				value: "- configuredIn: kustomization.yaml\n  configuredBy:\n    apiVersion: builtin\n    kind: NamespaceTransformer\n" +
					"- configuredIn: kustomization.yaml\n  configuredBy:\n    apiVersion: builtin\n    kind: PrefixTransformer\n"},
		},
	},
	{
		name: "origin-annotations",
		refs: []string{"ConfigMap/gen-mh97k977cd", "Deployment/web", "Service/web"},
		fields: []parityField{
			{ref: "Deployment/web", path: []string{"metadata", "annotations", "config.kubernetes.io/origin"}, value: "path: base/deployment.yaml\n"},
			{ref: "Service/web", path: []string{"metadata", "annotations", "config.kubernetes.io/origin"}, value: "path: svc.yaml\n"},
		},
	},
}

func TestParityWithKustomizeController(t *testing.T) {
	for _, tc := range parityCases {
		t.Run(tc.name, func(t *testing.T) {
			dir, err := filepath.Abs(filepath.Join("testdata", "parity", tc.name))
			if err != nil {
				t.Fatal(err)
			}
			ks := parityKustomization(t, filepath.Join(dir, "cluster", "ks.yaml"))
			vars := parityVars(t, filepath.Join(dir, "cluster", "vars.yaml"))

			want := parityReference(t, dir, ks, vars)
			got := parityFluxgate(t, dir)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("fluxgate differs from kustomize-controller (-controller +fluxgate):\n%s", diff)
			}

			// The fixture must exercise what it is named after.
			var refs []string
			byRef := map[string]map[string]any{}
			for _, o := range want {
				ref := parityRef(o)
				refs = append(refs, ref)
				byRef[ref] = o
			}
			sort.Strings(refs)
			if diff := cmp.Diff(tc.refs, refs); diff != "" {
				t.Errorf("objects built by the reference (-fixture +reference):\n%s", diff)
			}
			for _, f := range tc.fields {
				obj, ok := byRef[f.ref]
				if !ok {
					t.Errorf("%s: not built", f.ref)
					continue
				}
				v, found := parityLookup(obj, f.path)
				if f.value == nil {
					if found {
						t.Errorf("%s %s: want absent, got %#v", f.ref, strings.Join(f.path, "."), v)
					}
					continue
				}
				if diff := cmp.Diff(f.value, v); diff != "" {
					t.Errorf("%s %s (-fixture +reference):\n%s", f.ref, strings.Join(f.path, "."), diff)
				}
			}
		})
	}
}

// parityFluxgate renders the fixture's cluster/ entry point with fluxgate
// and returns the objects of the Kustomization under test.
func parityFluxgate(t *testing.T, dir string) []map[string]any {
	t.Helper()
	ctx := context.Background()
	repo, err := fleet.Load(ctx, os.DirFS(dir), fleet.Options{Sources: map[string]string{paritySource: "."}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range repo.Problems {
		t.Logf("load: %s", p)
	}
	res, err := render.Render(ctx, repo, render.Options{Dir: dir, Paths: []string{"cluster"}})
	if err != nil {
		t.Fatal(err)
	}
	var unit *render.Unit
	for _, u := range res.Units {
		for _, p := range u.Problems {
			t.Logf("render %s: %s", u.ID, p)
		}
		if u.Failed {
			t.Errorf("fluxgate: unit %s failed", u.ID)
		}
		if u.ID == parityUnit {
			unit = u
		}
	}
	if unit == nil {
		t.Fatalf("fluxgate: no unit %s among %d units", parityUnit, len(res.Units))
	}
	objs := make([]map[string]any, 0, len(unit.Objects))
	for _, o := range unit.Objects {
		objs = append(objs, o.Object)
	}
	return parityNormalize(t, objs)
}

// parityReference builds the Kustomization the way kustomize-controller
// does (internal/controller/kustomization_controller.go, generate and
// build, then apply's SetCommonMetadata).
func parityReference(t *testing.T, dir string, ks *kustomizev1.Kustomization, vars []client.Object) []map[string]any {
	t.Helper()
	ctx := context.Background()

	// The controller builds in a temporary copy of the artifact: WriteFile
	// writes the generated kustomization.yaml into the tree.
	workDir := t.TempDir()
	parityArtifact(t, dir, workDir)
	dirPath := filepath.Join(workDir, filepath.FromSlash(ks.Spec.Path))

	k, err := runtime.DefaultUnstructuredConverter.ToUnstructured(ks)
	if err != nil {
		t.Fatal(err)
	}
	u := unstructured.Unstructured{Object: k}
	if _, err := generator.NewGenerator(workDir, u).WriteFile(dirPath); err != nil {
		t.Fatalf("reference: generate: %v", err)
	}
	m, err := generator.SecureBuild(workDir, dirPath, false)
	if err != nil {
		t.Fatalf("reference: kustomize build: %v", err)
	}

	kubeClient := fake.NewClientBuilder().WithObjects(vars...).Build()
	for _, res := range m.Resources() {
		if res.GetName() == "" || res.GetKind() == "" || res.GetApiVersion() == "" {
			t.Fatalf("reference: object without apiVersion, kind or name: %s", res.String())
		}
		if ks.Spec.PostBuild != nil {
			always := ks.GetSubstituteStrategy() == kustomizev1.SubstituteStrategyAlways
			outRes, err := generator.SubstituteVariables(ctx, kubeClient, u, res,
				generator.SubstituteWithStrict(false),
				generator.SubstituteWithAlways(always))
			if err != nil {
				t.Fatalf("reference: post build failed for '%s/%s': %v", res.GetGvk(), res.GetName(), err)
			}
			if outRes != nil {
				if _, err := m.Replace(res); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	resources, err := m.AsYaml()
	if err != nil {
		t.Fatal(err)
	}

	objects := parityReadObjects(t, resources)
	if cm := ks.Spec.CommonMetadata; cm != nil {
		parityCommonMetadata(objects, cm.Labels, cm.Annotations)
	}
	out := make([]map[string]any, 0, len(objects))
	for _, o := range objects {
		out = append(out, o.Object)
	}
	return parityNormalize(t, out)
}

// parityArtifact copies the tree the way source-controller archives a
// GitRepository: without the files that .sourceignore files and Flux's
// default ignore rules exclude.
func parityArtifact(t *testing.T, src, dst string) {
	t.Helper()
	ps, err := sourceignore.LoadIgnorePatterns(src, nil)
	if err != nil {
		t.Fatal(err)
	}
	matcher := sourceignore.NewDefaultMatcher(ps, nil)
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if rel == "." {
			return nil
		}
		if matcher.Match(strings.Split(filepath.ToSlash(rel), "/"), d.IsDir()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.Mkdir(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// parityReadObjects decodes a YAML stream like ssautil.ReadObjects.
func parityReadObjects(t *testing.T, data []byte) []*unstructured.Unstructured {
	t.Helper()
	dec := yamlutil.NewYAMLOrJSONDecoder(bytes.NewReader(data), 2048)
	var out []*unstructured.Unstructured
	for {
		obj := &unstructured.Unstructured{}
		if err := dec.Decode(&obj.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return out
			}
			t.Fatalf("reference: decode build output: %v", err)
		}
		if len(obj.Object) == 0 {
			continue
		}
		out = append(out, obj)
	}
}

// parityCommonMetadata is fluxcd/pkg/ssa/utils.SetCommonMetadata.
func parityCommonMetadata(objects []*unstructured.Unstructured, labels, annotations map[string]string) {
	for _, object := range objects {
		lbs := object.GetLabels()
		if lbs == nil {
			lbs = make(map[string]string)
		}
		for k, v := range labels {
			lbs[k] = v
		}
		if len(lbs) > 0 {
			object.SetLabels(lbs)
		}
		ans := object.GetAnnotations()
		if ans == nil {
			ans = make(map[string]string)
		}
		for k, v := range annotations {
			ans[k] = v
		}
		if len(ans) > 0 {
			object.SetAnnotations(ans)
		}
	}
}

// parityKustomization decodes the Kustomization under test into the Flux
// API type, as the controller receives it from the API server.
func parityKustomization(t *testing.T, file string) *kustomizev1.Kustomization {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	ks := &kustomizev1.Kustomization{}
	if err := yaml.UnmarshalStrict(data, ks); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if got := kustomizev1.GroupVersion.Group + "/" + ks.Namespace + "/" + ks.Name; got != "kustomize.toolkit.fluxcd.io/flux-system/app" {
		t.Fatalf("%s: the Kustomization under test must be flux-system/app, got %s", file, got)
	}
	return ks
}

// parityVars reads the ConfigMaps and Secrets the reference serves. A
// Secret's stringData is merged into data, as the API server does.
func parityVars(t *testing.T, file string) []client.Object {
	t.Helper()
	data, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []client.Object
	for _, doc := range bytes.Split(data, []byte("\n---\n")) {
		var meta struct {
			Kind string `json:"kind"`
		}
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		switch meta.Kind {
		case "ConfigMap":
			cm := &corev1.ConfigMap{}
			if err := yaml.UnmarshalStrict(doc, cm); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			out = append(out, cm)
		case "Secret":
			s := &corev1.Secret{}
			if err := yaml.UnmarshalStrict(doc, s); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			if s.Data == nil {
				s.Data = map[string][]byte{}
			}
			for k, v := range s.StringData {
				s.Data[k] = []byte(v)
			}
			s.StringData = nil
			out = append(out, s)
		default:
			t.Fatalf("%s: unexpected kind %q", file, meta.Kind)
		}
	}
	return out
}

// parityNormalize gives both sides the same JSON types and order.
func parityNormalize(t *testing.T, objs []map[string]any) []map[string]any {
	t.Helper()
	out := make([]map[string]any, 0, len(objs))
	for _, o := range objs {
		b, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := parityRef(out[i]), parityRef(out[j])
		if a != b {
			return a < b
		}
		return fmt.Sprint(out[i]["apiVersion"]) < fmt.Sprint(out[j]["apiVersion"])
	})
	return out
}

func parityRef(o map[string]any) string {
	u := unstructured.Unstructured{Object: o}
	return fleet.ObjectRef(u.GetKind(), u.GetNamespace(), u.GetName())
}

// parityLookup follows path through maps and (by decimal index) lists.
func parityLookup(obj any, path []string) (any, bool) {
	cur := obj
	for _, p := range path {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[p]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i := 0
			for _, r := range p {
				if r < '0' || r > '9' {
					return nil, false
				}
				i = i*10 + int(r-'0')
			}
			if i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}
