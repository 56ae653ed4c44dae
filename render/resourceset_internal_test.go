package render

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"
)

// ResourceSets rendered as flux-operator's builder renders them
// (internal/builder/resourceset.go), case by case.
func TestBuildResourceSet(t *testing.T) {
	tests := []struct {
		name string
		rset string
		// want is the rendered objects as YAML documents.
		want []string
		err  string
	}{
		{
			name: "spec.resources once per input, with the provider block, numbers through int",
			rset: `
metadata: {name: app1, namespace: apps}
spec:
  inputs:
    - tenant: team1
      replicas: "2"
    - tenant: team2
      replicas: "3"
  resources:
    - apiVersion: helm.toolkit.fluxcd.io/v2
      kind: HelmRelease
      metadata:
        name: << inputs.tenant >>-app1
        namespace: << inputs.provider.namespace >>
      spec:
        chartRef:
          kind: OCIRepository
          name: << inputs.tenant >>-app1
        values:
          replicas: << inputs.replicas | int >>
          owner: << inputs.provider.kind >>/<< inputs.provider.name >>
`,
			want: []string{`apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  labels:
    resourceset.fluxcd.controlplane.io/name: app1
    resourceset.fluxcd.controlplane.io/namespace: apps
  name: team1-app1
  namespace: apps
spec:
  chartRef:
    kind: OCIRepository
    name: team1-app1
  values:
    owner: ResourceSet/app1
    replicas: 2
`, `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  labels:
    resourceset.fluxcd.controlplane.io/name: app1
    resourceset.fluxcd.controlplane.io/namespace: apps
  name: team2-app1
  namespace: apps
spec:
  chartRef:
    kind: OCIRepository
    name: team2-app1
  values:
    owner: ResourceSet/app1
    replicas: 3
`},
		},
		{
			name: "resourcesTemplate: slugify, toYaml, sprig; spec.resources win duplicates; commonMetadata; namespace defaulted",
			rset: `
metadata: {name: tenants, namespace: flux-system}
spec:
  commonMetadata:
    labels: {team: platform}
    annotations: {owner: ops}
  inputs:
    - tenant: "Team Alpha!"
      quota: {pods: "20"}
  resources:
    - apiVersion: v1
      kind: ServiceAccount
      metadata:
        name: flux
        namespace: << inputs.tenant | slugify >>
        labels: {from: resources}
  resourcesTemplate: |
    apiVersion: v1
    kind: ServiceAccount
    metadata:
      name: flux
      namespace: << inputs.tenant | slugify >>
      labels: {from: template}
    ---
    apiVersion: v1
    kind: ResourceQuota
    metadata:
      name: << printf "%s-%s" "quota" (inputs.tenant | slugify) | trunc 15 >>
    spec:
      hard:
        << inputs.quota | toYaml | nindent 4 >>
    ---
    # an empty document is skipped
`,
			want: []string{`apiVersion: v1
kind: ServiceAccount
metadata:
  annotations:
    owner: ops
  labels:
    from: resources
    resourceset.fluxcd.controlplane.io/name: tenants
    resourceset.fluxcd.controlplane.io/namespace: flux-system
    team: platform
  name: flux
  namespace: team-alpha
`, `apiVersion: v1
kind: ResourceQuota
metadata:
  annotations:
    owner: ops
  labels:
    resourceset.fluxcd.controlplane.io/name: tenants
    resourceset.fluxcd.controlplane.io/namespace: flux-system
    team: platform
  name: quota-team-alph
  namespace: flux-system
spec:
  hard:
    pods: "20"
`},
		},
		{
			name: "no inputs: rendered once; cluster-scoped objects keep no namespace; a disabled object stays in",
			rset: `
metadata: {name: ns, namespace: flux-system}
spec:
  resources:
    - apiVersion: v1
      kind: Namespace
      metadata:
        name: shared
        annotations:
          fluxcd.controlplane.io/reconcile: disabled
`,
			want: []string{`apiVersion: v1
kind: Namespace
metadata:
  annotations:
    fluxcd.controlplane.io/reconcile: disabled
  labels:
    resourceset.fluxcd.controlplane.io/name: ns
    resourceset.fluxcd.controlplane.io/namespace: flux-system
  name: shared
`},
		},
		{
			name: "with inputs, objects annotated reconcile: disabled are left out",
			rset: `
metadata: {name: ns, namespace: flux-system}
spec:
  inputs: [{ns: a}, {ns: b}]
  resources:
    - apiVersion: v1
      kind: Namespace
      metadata:
        name: << inputs.ns >>
        annotations:
          fluxcd.controlplane.io/reconcile: << if eq inputs.ns "b" >>disabled<< else >>enabled<< end >>
`,
			want: []string{`apiVersion: v1
kind: Namespace
metadata:
  annotations:
    fluxcd.controlplane.io/reconcile: enabled
  labels:
    resourceset.fluxcd.controlplane.io/name: ns
    resourceset.fluxcd.controlplane.io/namespace: flux-system
  name: a
`},
		},
		{
			name: "a missing input is an error",
			rset: `
metadata: {name: x, namespace: apps}
spec:
  inputs: [{a: 1}]
  resources:
    - apiVersion: v1
      kind: ConfigMap
      metadata: {name: << inputs.b >>}
`,
			err: `map has no entry for key "b"`,
		},
		{
			name: "a template that does not parse is an error",
			rset: `
metadata: {name: x, namespace: apps}
spec:
  resourcesTemplate: "kind: << if >>"
`,
			err: "parse template",
		},
		{
			name: "an object without a name is an error",
			rset: `
metadata: {name: x, namespace: apps}
spec:
  resourcesTemplate: "apiVersion: v1\nkind: ConfigMap\n"
`,
			err: "without apiVersion, kind or name",
		},
		{
			name: "Permute is not rendered",
			rset: `
metadata: {name: x, namespace: apps}
spec:
  inputStrategy: {name: Permute}
  resourcesTemplate: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"
`,
			err: "Permute",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var obj map[string]any
			if err := yaml.Unmarshal([]byte("apiVersion: fluxcd.controlplane.io/v1\nkind: ResourceSet\n"+tt.rset), &obj); err != nil {
				t.Fatal(err)
			}
			objs, err := buildResourceSet(obj)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range objs {
				b, err := yaml.Marshal(o.obj)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, string(b))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
		})
	}
}

func TestProviderSetMay(t *testing.T) {
	var obj map[string]any
	if err := yaml.Unmarshal([]byte(`
spec:
  inputsFrom: [{kind: ResourceSetInputProvider, name: prs}]
  resources:
    - apiVersion: source.toolkit.fluxcd.io/v1
      kind: OCIRepository
      metadata: {name: app-<< inputs.id >>, namespace: apps}
  resourcesTemplate: |
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: GitRepository
    metadata:
      name: fixed
      namespace: << inputs.provider.namespace >>
`), &obj); err != nil {
		t.Fatal(err)
	}
	p := providerSet{templates: resourceTemplates(obj)}
	if diff := cmp.Diff([]string{"ResourceSetInputProvider/prs"}, inputProviders(obj)); diff != "" {
		t.Errorf("providers (-want +got):\n%s", diff)
	}
	for _, c := range []struct {
		kind, ns, name string
		want           bool
	}{
		{"OCIRepository", "apps", "app-42", true},
		{"OCIRepository", "other", "app-42", false},
		{"HelmRepository", "apps", "app-42", false},
		{"GitRepository", "anywhere", "fixed", true},
		{"GitRepository", "anywhere", "other", false},
	} {
		if got := p.may(c.kind, c.ns, c.name); got != c.want {
			t.Errorf("may(%s/%s/%s) = %v, want %v", c.kind, c.ns, c.name, got, c.want)
		}
	}
}

func TestBuildResourceSetTemplateWithoutInputsDropsDisabled(t *testing.T) {
	var obj map[string]any
	if err := yaml.Unmarshal([]byte(`
apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSet
metadata: {name: x, namespace: apps}
spec:
  resourcesTemplate: |
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: paused
      annotations: {fluxcd.controlplane.io/reconcile: disabled}
`), &obj); err != nil {
		t.Fatal(err)
	}
	objs, err := buildResourceSet(obj)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 0 {
		t.Errorf("got %d objects, want the disabled one left out", len(objs))
	}
}

// TestSourceLines: the lines of a ResourceSet's templates in its file, for
// findings about the objects they render.
func TestSourceLines(t *testing.T) {
	file := `---
# other document
kind: ConfigMap
---
apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSet
metadata:
  name: apps
spec:
  inputs:
    - resources: {}
  resources:
    - apiVersion: v1
      kind: Namespace
      metadata:
        name: a
    # a comment between items
    - apiVersion: v1
      kind: ConfigMap
      data:
        resources:
          - not an item of spec.resources
  resourcesTemplate: |
    # leading comment
    apiVersion: v1
    kind: ServiceAccount
    ---

    apiVersion: v1
    kind: Secret
  wait: true
---
spec:
  resources:
    - apiVersion: v1
`
	res, docs := sourceLines(strings.Split(file, "\n"), 5)
	if diff := cmp.Diff([]int{13, 18}, res); diff != "" {
		t.Errorf("spec.resources lines (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{25, 29}, docs); diff != "" {
		t.Errorf("spec.resourcesTemplate document lines (-want +got):\n%s", diff)
	}
	if got := len(templateDocs("# c\n---\na: 1\n---\n# only a comment\n---\nb: 2\n")); got != 2 {
		t.Errorf("templateDocs: %d documents, want 2", got)
	}
}
