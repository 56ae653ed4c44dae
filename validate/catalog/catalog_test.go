package catalog_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jsonschema "github.com/santhosh-tekuri/jsonschema/v6"
	"sigs.k8s.io/yaml"

	"github.com/fluxgate/fluxgate/validate/catalog"
)

// compile compiles a schema the way kubeconform's downloadSchema does
// (pkg/validator/validator.go in kubeconform v0.8.0), including its Go
// duration format.
func compile(t testing.TB, name string, schema []byte) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		t.Fatalf("%s: schema is not JSON: %v", name, err)
	}
	c := jsonschema.NewCompiler()
	c.RegisterFormat(&jsonschema.Format{Name: "duration", Validate: validateDuration})
	c.DefaultDraft(jsonschema.Draft4)
	url := "file:///schemas/" + strings.ReplaceAll(name, "/", "_") + ".json"
	if err := c.AddResource(url, doc); err != nil {
		t.Fatalf("%s: AddResource: %v", name, err)
	}
	s, err := c.Compile(url)
	if err != nil {
		t.Fatalf("%s: Compile: %v", name, err)
	}
	return s
}

// validateDuration accepts Go durations, as kubeconform's format does (it
// also accepts ISO 8601 ones, which no test here needs).
func validateDuration(v any) error {
	s, ok := v.(string)
	if !ok {
		return nil
	}
	_, err := time.ParseDuration(s)
	return err
}

// validate checks a YAML manifest against the catalog's schema for its
// apiVersion/kind at k8sVersion, decoding it as kubeconform does.
func validate(t *testing.T, k8sVersion, manifest string) error {
	t.Helper()
	var obj map[string]any
	if err := yaml.Unmarshal([]byte(manifest), &obj); err != nil {
		t.Fatalf("bad test manifest: %v", err)
	}
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	schema, ok := catalog.Schema(k8sVersion, apiVersion, kind)
	if !ok {
		t.Fatalf("no schema for %s/%s at %q", apiVersion, kind, k8sVersion)
	}
	return compile(t, apiVersion+"/"+kind, schema).Validate(obj)
}

const deployment = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: apps
  labels: {app: web}
  annotations: {example.com/owner: team-a}
  creationTimestamp: null
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 25%, maxUnavailable: 1}
  template:
    metadata:
      labels: {app: web}
    spec:
      serviceAccountName: web
      securityContext: {runAsNonRoot: true, fsGroup: 2000}
      containers:
      - name: web
        image: nginx:1.27
        args: [--port, "8080"]
        ports:
        - {name: http, containerPort: 8080, protocol: TCP}
        env:
        - {name: MODE, value: production}
        - name: PASSWORD
          valueFrom:
            secretKeyRef: {name: web, key: password}
        resources:
          requests: {cpu: 100m, memory: 64Mi}
          limits: {cpu: 1, memory: 128Mi, ephemeral-storage: 1.5}
        readinessProbe:
          httpGet: {path: /healthz, port: http}
        livenessProbe:
          tcpSocket: {port: 8080}
        volumeMounts:
        - {name: cache, mountPath: /cache}
      volumes:
      - name: cache
        emptyDir: {sizeLimit: 1Gi}
`

func TestKubernetesVersions(t *testing.T) {
	want := []string{"1.37.2", "1.36.3", "1.35.4", "1.34.4", "1.33.13", "1.32.13", "1.31.14", "1.30.14", "1.29.15", "1.28.15", "1.27.16"}
	if got := catalog.KubernetesVersions(); !slices.Equal(got, want) {
		t.Fatalf("KubernetesVersions() = %v, want %v", got, want)
	}
}

func TestValidDeploymentAtEveryVersion(t *testing.T) {
	for _, v := range append(catalog.KubernetesVersions(), "", "v1.36.3", "1.35", "1.36.0") {
		t.Run("k8s="+v, func(t *testing.T) {
			if err := validate(t, v, deployment); err != nil {
				t.Fatalf("valid Deployment rejected: %v", err)
			}
		})
	}
}

func TestInvalidObjects(t *testing.T) {
	tests := []struct {
		name     string
		manifest string
		want     string // in the error
	}{
		{
			name:     "unknown field in a container",
			manifest: strings.Replace(deployment, "image: nginx:1.27", "image: nginx:1.27\n        imagePullPolice: Always", 1),
			want:     "imagePullPolice",
		},
		{
			name:     "unknown top-level field",
			manifest: deployment + "data: {a: b}\n",
			want:     "data",
		},
		{
			name:     "unknown metadata field",
			manifest: strings.Replace(deployment, "namespace: apps", "namespace: apps\n  labelz: {a: b}", 1),
			want:     "labelz",
		},
		{
			name:     "wrong type",
			manifest: strings.Replace(deployment, "replicas: 2", "replicas: two", 1),
			want:     "replicas",
		},
		{
			name:     "label value not a string",
			manifest: strings.Replace(deployment, "labels: {app: web}\n  annotations", "labels: {app: web, tier: 1}\n  annotations", 1),
			want:     "tier",
		},
		{
			name:     "int-or-string given a boolean",
			manifest: strings.Replace(deployment, "maxUnavailable: 1", "maxUnavailable: true", 1),
			want:     "maxUnavailable",
		},
		{
			name:     "quantity given a list",
			manifest: strings.Replace(deployment, "cpu: 100m", "cpu: [1]", 1),
			want:     "cpu",
		},
		{
			name:     "required field missing",
			manifest: strings.Replace(deployment, "- name: web\n        image", "- image", 1),
			want:     "name",
		},
		{
			name:     "null for a required field",
			manifest: strings.Replace(deployment, "containerPort: 8080", "containerPort: null", 1),
			want:     "containerPort",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.manifest == deployment {
				t.Fatal("test manifest was not changed")
			}
			for _, v := range catalog.KubernetesVersions() {
				err := validate(t, v, tt.manifest)
				var ve *jsonschema.ValidationError
				if !errors.As(err, &ve) {
					t.Fatalf("at %s: got %v, want a validation error", v, err)
				}
				if !strings.Contains(err.Error(), tt.want) {
					t.Errorf("at %s: error does not mention %q: %v", v, tt.want, err)
				}
			}
		})
	}
}

func TestIntOrStringAndQuantity(t *testing.T) {
	service := `
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: %s}
`
	for _, target := range []string{"8080", "http", `"8080"`} {
		t.Run("targetPort="+target, func(t *testing.T) {
			if err := validate(t, "", fmt.Sprintf(service, target)); err != nil {
				t.Fatalf("rejected: %v", err)
			}
		})
	}
	for _, target := range []string{"true", "1.5", "{port: 80}"} {
		t.Run("targetPort="+target, func(t *testing.T) {
			if err := validate(t, "", fmt.Sprintf(service, target)); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	quota := `
apiVersion: v1
kind: ResourceQuota
metadata: {name: q}
spec:
  hard: {cpu: %s}
`
	for _, q := range []string{"2", "0.5", "500m", `"1"`} {
		t.Run("quantity="+q, func(t *testing.T) {
			if err := validate(t, "", fmt.Sprintf(quota, q)); err != nil {
				t.Fatalf("rejected: %v", err)
			}
		})
	}
}

func TestRemovedAPIs(t *testing.T) {
	// minor is the first release without (removed) or with (present) the kind.
	removed := []struct {
		gvk   string
		minor int
	}{
		{"policy/v1beta1/PodSecurityPolicy", 25},
		{"flowcontrol.apiserver.k8s.io/v1beta2/FlowSchema", 29},
		{"flowcontrol.apiserver.k8s.io/v1beta3/FlowSchema", 32},
		{"batch/v1beta1/CronJob", 25},
		{"extensions/v1beta1/Ingress", 22},
	}
	present := []struct {
		gvk   string
		minor int
	}{
		{"apps/v1/Deployment", 0},
		{"v1/ConfigMap", 0},
		{"policy/v1/PodDisruptionBudget", 0},
		{"flowcontrol.apiserver.k8s.io/v1/FlowSchema", 29},
		{"apiextensions.k8s.io/v1/CustomResourceDefinition", 0},
		{"kustomize.toolkit.fluxcd.io/v1/Kustomization", 0},
	}
	for _, v := range catalog.KubernetesVersions() {
		var minor int
		if _, err := fmt.Sscanf(v, "1.%d.", &minor); err != nil {
			t.Fatalf("version %q: %v", v, err)
		}
		kinds := catalog.Kinds(v)
		if !slices.IsSorted(kinds) {
			t.Errorf("Kinds(%s) is not sorted", v)
		}
		for _, r := range removed {
			i := strings.LastIndex(r.gvk, "/")
			_, has := catalog.Schema(v, r.gvk[:i], r.gvk[i+1:])
			if listed := slices.Contains(kinds, r.gvk); listed != has {
				t.Errorf("Kinds(%s) and Schema disagree on %s", v, r.gvk)
			}
			if want := minor < r.minor; has != want {
				t.Errorf("%s in %s = %t, want %t (removed in 1.%d)", r.gvk, v, has, want, r.minor)
			}
		}
		for _, p := range present {
			if want := minor >= p.minor; slices.Contains(kinds, p.gvk) != want {
				t.Errorf("%s in Kinds(%s) = %t, want %t", p.gvk, v, !want, want)
			}
		}
	}
	if got := catalog.Kinds("1.20"); got != nil {
		t.Errorf("Kinds of a version not embedded = %d kinds, want nil", len(got))
	}
	if _, ok := catalog.Schema("1.20", "apps/v1", "Deployment"); ok {
		t.Error("Schema answered for a version not embedded")
	}
	if _, ok := catalog.Schema("not-a-version", "apps/v1", "Deployment"); ok {
		t.Error("Schema answered for a malformed version")
	}
}

// Kinds follows each release's API: a beta removed in 1.37 is gone there
// only, APIs added after 1.35 are not in 1.35, betas removed in 1.29 and
// 1.32 are in the older releases only.
func TestKindsDifferBetweenVersions(t *testing.T) {
	tests := []struct {
		gvk  string
		want map[string]bool
	}{
		{"networking.k8s.io/v1beta1/ServiceCIDR", map[string]bool{"1.35": true, "1.36": true, "1.37": false}},
		{"storagemigration.k8s.io/v1/StorageVersionMigration", map[string]bool{"1.35": false, "1.37": true}},
		{"admissionregistration.k8s.io/v1/MutatingAdmissionPolicy", map[string]bool{"1.35": false, "1.37": true}},
		{"flowcontrol.apiserver.k8s.io/v1beta2/FlowSchema", map[string]bool{"1.27": true, "1.28": true, "1.29": false}},
		{"flowcontrol.apiserver.k8s.io/v1beta3/FlowSchema", map[string]bool{"1.28": true, "1.31": true, "1.32": false}},
		{"apps/v1/Deployment", map[string]bool{"1.27": true, "1.32": true, "1.37": true}},
	}
	for _, tt := range tests {
		for v, want := range tt.want {
			if got := slices.Contains(catalog.Kinds(v), tt.gvk); got != want {
				t.Errorf("%s in Kinds(%s) = %t, want %t", tt.gvk, v, got, want)
			}
		}
	}
}

const (
	kustomization = `
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-system}
spec:
  interval: 10m
  retryInterval: 1m
  timeout: 5m
  path: ./apps/production
  prune: true
  wait: true
  sourceRef: {kind: GitRepository, name: flux-system}
  dependsOn: [{name: infrastructure}]
  postBuild:
    substitute: {cluster_env: production}
    substituteFrom: [{kind: ConfigMap, name: cluster-vars, optional: true}]
  patches:
  - patch: |
      - op: replace
        path: /spec/replicas
        value: 3
    target: {kind: Deployment, name: web}
  decryption: {provider: sops, secretRef: {name: sops-age}}
`
	helmRelease = `
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: podinfo, namespace: apps}
spec:
  interval: 10m
  chart:
    spec:
      chart: podinfo
      version: ">=6.0.0"
      interval: 1h
      sourceRef: {kind: HelmRepository, name: podinfo, namespace: flux-system}
  install: {remediation: {retries: 3}}
  upgrade: {remediation: {retries: 3, remediateLastFailure: true}}
  values:
    replicaCount: 2
    anything: {goes: [here, 1, true]}
  valuesFrom:
  - {kind: ConfigMap, name: podinfo-values, valuesKey: values.yaml}
`
	gitRepository = `
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: flux-system, namespace: flux-system}
spec:
  interval: 1m
  url: ssh://git@github.com/example/fleet
  ref: {branch: main}
  secretRef: {name: flux-system}
  ignore: |
    /*
    !/clusters
`
	artifactGenerator = `
apiVersion: source.extensions.fluxcd.io/v1beta1
kind: ArtifactGenerator
metadata: {name: podinfo, namespace: apps}
spec:
  sources:
  - {alias: repo, kind: GitRepository, name: podinfo}
  artifacts:
  - name: podinfo-chart
    copy:
    - {from: "@repo/charts/podinfo/**", to: "@artifact/"}
`
)

func TestFluxObjects(t *testing.T) {
	tests := []struct {
		name     string
		manifest string
		typo     [2]string // replace typo[0] by typo[1] to break it
	}{
		{name: "Kustomization", manifest: kustomization, typo: [2]string{"prune: true", "prunne: true"}},
		{name: "HelmRelease", manifest: helmRelease, typo: [2]string{"valuesKey:", "valueKey:"}},
		{name: "GitRepository", manifest: gitRepository, typo: [2]string{"ref: {branch: main}", "ref: {brnach: main}"}},
		{name: "ArtifactGenerator", manifest: artifactGenerator, typo: [2]string{"alias: repo", "aliass: repo"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Flux schemas do not depend on the Kubernetes version, even
			// one that is not embedded.
			for _, v := range []string{"", "1.35", "1.99.0"} {
				if err := validate(t, v, tt.manifest); err != nil {
					t.Fatalf("valid %s rejected at %q: %v", tt.name, v, err)
				}
			}
			broken := strings.Replace(tt.manifest, tt.typo[0], tt.typo[1], 1)
			if broken == tt.manifest {
				t.Fatal("typo not applied")
			}
			err := validate(t, "", broken)
			if err == nil {
				t.Fatalf("%s with %q accepted", tt.name, tt.typo[1])
			}
			if field := strings.SplitN(tt.typo[1], ":", 2)[0]; !strings.Contains(err.Error(), strings.TrimPrefix(field, "ref: {")) {
				t.Errorf("error does not name the typo: %v", err)
			}
		})
	}
	// Flux's patterns and enums still apply.
	if err := validate(t, "", strings.Replace(kustomization, "interval: 10m", "interval: ten minutes", 1)); err == nil {
		t.Error("Kustomization with a malformed interval accepted")
	}
	if err := validate(t, "", strings.Replace(kustomization, "kind: GitRepository", "kind: GitRepo", 1)); err == nil {
		t.Error("Kustomization with an unknown sourceRef kind accepted")
	}
}

func TestEveryFluxKindIsServed(t *testing.T) {
	want := []string{
		"helm.toolkit.fluxcd.io/v2/HelmRelease",
		"image.toolkit.fluxcd.io/v1/ImagePolicy",
		"image.toolkit.fluxcd.io/v1/ImageRepository",
		"image.toolkit.fluxcd.io/v1/ImageUpdateAutomation",
		"kustomize.toolkit.fluxcd.io/v1/Kustomization",
		"notification.toolkit.fluxcd.io/v1/Alert",
		"notification.toolkit.fluxcd.io/v1/Provider",
		"notification.toolkit.fluxcd.io/v1/Receiver",
		"notification.toolkit.fluxcd.io/v1beta3/Alert",
		"notification.toolkit.fluxcd.io/v1beta3/Provider",
		"source.extensions.fluxcd.io/v1beta1/ArtifactGenerator",
		"source.toolkit.fluxcd.io/v1/Bucket",
		"source.toolkit.fluxcd.io/v1/ExternalArtifact",
		"source.toolkit.fluxcd.io/v1/GitRepository",
		"source.toolkit.fluxcd.io/v1/HelmChart",
		"source.toolkit.fluxcd.io/v1/HelmRepository",
		"source.toolkit.fluxcd.io/v1/OCIRepository",
	}
	var got []string
	for _, gvk := range catalog.Kinds("") {
		if strings.Contains(gvk, ".fluxcd.io/") {
			got = append(got, gvk)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("Flux kinds:\n got %v\nwant %v", got, want)
	}
}

// Every schema of every release compiles, and is the same each time it is
// built.
func TestEverySchemaCompiles(t *testing.T) {
	versions := catalog.KubernetesVersions()
	if testing.Short() {
		versions = versions[:1]
	}
	for _, v := range versions {
		for _, gvk := range catalog.Kinds(v) {
			i := strings.LastIndex(gvk, "/")
			s, ok := catalog.Schema(v, gvk[:i], gvk[i+1:])
			if !ok {
				t.Errorf("%s at %s: listed by Kinds but no schema", gvk, v)
				continue
			}
			again, _ := catalog.Schema(v, gvk[:i], gvk[i+1:])
			if !bytes.Equal(s, again) {
				t.Errorf("%s at %s: two builds differ", gvk, v)
			}
			compile(t, gvk, s)
		}
	}
}

func TestCustomResourceDefinitionSchema(t *testing.T) {
	// CustomResourceDefinition embeds the recursive JSONSchemaProps: its
	// schema keeps that one definition under "definitions".
	crd := `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.example.com}
spec:
  group: example.com
  names: {kind: Gadget, plural: gadgets}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              items: {type: array, items: {type: object, properties: {name: {type: string}}}}
              any: {x-kubernetes-preserve-unknown-fields: true}
`
	if err := validate(t, "", crd); err != nil {
		t.Fatalf("valid CRD rejected: %v", err)
	}
	// JSONSchemaPropsOrArray (items) has no schema, but nested properties
	// are JSONSchemaProps again, through the shared definition.
	broken := strings.Replace(crd, "any: {x-kubernetes-preserve-unknown-fields: true}", "any: {x-kubernetes-preserve-unknown-fields: true, typo: 1}", 1)
	err := validate(t, "", broken)
	if err == nil || !strings.Contains(err.Error(), "typo") {
		t.Fatalf("CRD with an unknown keyword deep in its schema: got %v, want an error naming typo", err)
	}
}

func TestFromCRD(t *testing.T) {
	var crd map[string]any
	err := yaml.Unmarshal([]byte(`
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
  - name: v1beta1
    served: false
    storage: false
    schema: {openAPIV3Schema: {type: object}}
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [size]
            properties:
              size: {type: integer, minimum: 1}
              port: {x-kubernetes-int-or-string: true, anyOf: [{type: integer}, {type: string}]}
              values: {type: object, x-kubernetes-preserve-unknown-fields: true}
`), &crd)
	if err != nil {
		t.Fatal(err)
	}
	schemas, err := catalog.FromCRD(crd)
	if err != nil {
		t.Fatal(err)
	}
	if len(schemas) != 1 || schemas["example.com/v1/Widget"] == nil {
		t.Fatalf("FromCRD gave %d schemas, want example.com/v1/Widget only", len(schemas))
	}
	s := compile(t, "Widget", schemas["example.com/v1/Widget"])
	tests := []struct {
		name  string
		obj   string
		valid bool
	}{
		{"valid", `{apiVersion: example.com/v1, kind: Widget, metadata: {name: w, labels: {a: b}}, spec: {size: 2, port: http, values: {x: [1]}}}`, true},
		{"port as integer", `{apiVersion: example.com/v1, kind: Widget, metadata: {name: w}, spec: {size: 2, port: 80}}`, true},
		{"unknown spec field", `{apiVersion: example.com/v1, kind: Widget, metadata: {name: w}, spec: {size: 2, colour: red}}`, false},
		{"unknown metadata field", `{apiVersion: example.com/v1, kind: Widget, metadata: {name: w, nmae: x}, spec: {size: 2}}`, false},
		{"unknown top-level field", `{apiVersion: example.com/v1, kind: Widget, metadata: {name: w}, spec: {size: 2}, data: {}}`, false},
		{"below minimum", `{apiVersion: example.com/v1, kind: Widget, metadata: {name: w}, spec: {size: 0}}`, false},
		{"missing required", `{apiVersion: example.com/v1, kind: Widget, metadata: {name: w}, spec: {}}`, false},
		{"other apiVersion", `{apiVersion: example.com/v2, kind: Widget, metadata: {name: w}, spec: {size: 2}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var obj any
			if err := yaml.Unmarshal([]byte(tt.obj), &obj); err != nil {
				t.Fatal(err)
			}
			err := s.Validate(obj)
			if tt.valid && err != nil {
				t.Errorf("rejected: %v", err)
			}
			if !tt.valid && err == nil {
				t.Error("accepted")
			}
		})
	}

	again, err := catalog.FromCRD(crd)
	if err != nil || !bytes.Equal(again["example.com/v1/Widget"], schemas["example.com/v1/Widget"]) {
		t.Error("FromCRD is not deterministic")
	}
	if _, err := catalog.FromCRD(map[string]any{"apiVersion": "v1", "kind": "ConfigMap"}); err == nil {
		t.Error("FromCRD accepted a ConfigMap")
	}
}

func TestConcurrentUse(t *testing.T) {
	var wg sync.WaitGroup
	results := make([][]byte, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, _ := catalog.Schema("", "apps/v1", "StatefulSet")
			_ = catalog.Kinds("1.36")
			_, _ = catalog.FromCRD(map[string]any{"apiVersion": "v1"})
			results[i] = s
		}()
	}
	wg.Wait()
	for i := range results {
		if len(results[i]) == 0 || !bytes.Equal(results[i], results[0]) {
			t.Fatalf("goroutine %d got a different schema", i)
		}
	}
}

func TestSchemaBytesAreTheCallers(t *testing.T) {
	a, _ := catalog.Schema("", "source.toolkit.fluxcd.io/v1", "GitRepository")
	clear(a)
	b, _ := catalog.Schema("", "source.toolkit.fluxcd.io/v1", "GitRepository")
	if len(b) == 0 || b[0] != '{' {
		t.Fatal("changing returned bytes changed the catalog")
	}
}
