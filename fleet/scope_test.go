package fleet_test

import (
	"strings"
	"testing"

	"github.com/fluxgate/fluxgate/fleet"
)

// TestChangeScopeQuiet: a build the change does not reach is left out
// with its descendants only when no descendant can differ and nothing it
// declares is looked up by others; anything that may move a child's path
// or chart makes it "not quiet".
func TestChangeScopeQuiet(t *testing.T) {
	const infraSpec = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: infra\n  namespace: flux-system\n" +
		"spec:\n  interval: 10m\n  path: ./infra\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
	child := func(p string) string { return kustomization("app", "flux-system", p, "GitRepository", "flux-system") }
	chartRelease := "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: web\n  namespace: flux-system\n" +
		"spec:\n  interval: 5m\n  chart:\n    spec:\n      chart: ./charts/web\n      sourceRef:\n        kind: GitRepository\n        name: flux-system\n        namespace: flux-system\n"
	tree := func(extra map[string]string) map[string]string {
		return merge(bootstrap("prod"), map[string]string{
			"clusters/prod/infra.yaml":   infraSpec,
			"infra/kustomization.yaml":   kustomizeFile("app.yaml"),
			"infra/app.yaml":             child("./app"),
			"app/cm.yaml":                configMap("app"),
			"charts/web/Chart.yaml":      "apiVersion: v2\nname: web\nversion: 1.0.0\n",
			"charts/web/templates/x.txt": "x\n",
			"other/cm.yaml":              configMap("other"),
		}, extra)
	}
	patchFile := func(kind string) string {
		return kustomizeFile("app.yaml") + "patches:\n  - target:\n      kind: " + kind + "\n    patch: |\n      - op: replace\n        path: /spec/path\n        value: ./other\n"
	}
	tests := []struct {
		name    string
		extra   map[string]string
		spec    string // the Kustomization building infra, default infraSpec
		changed string
		want    bool
	}{
		{name: "nothing below is touched", changed: "other/cm.yaml", want: true},
		{name: "a child's path is touched", changed: "app/cm.yaml", want: false},
		{name: "a variable in a child's path", extra: map[string]string{"infra/app.yaml": child("./app/${env}")}, changed: "other/cm.yaml", want: false},
		{name: "a patch that may target a Flux Kustomization", extra: map[string]string{"infra/kustomization.yaml": patchFile("Kustomization")}, changed: "other/cm.yaml", want: false},
		{name: "a patch of Deployments only", extra: map[string]string{"infra/kustomization.yaml": patchFile("Deployment")}, changed: "other/cm.yaml", want: true},
		{name: "spec.patches of the parent may target children",
			spec:    infraSpec + "  patches:\n    - patch: |\n        - op: replace\n          path: /spec/path\n          value: ./other\n      target:\n        kind: Kustomization\n",
			changed: "other/cm.yaml", want: false},
		{name: "a namespace set over a sourceRef without one",
			extra:   map[string]string{"infra/kustomization.yaml": kustomizeFile("app.yaml") + "namespace: elsewhere\n"},
			changed: "other/cm.yaml", want: false},
		{name: "a namespace set over a sourceRef with one",
			extra: map[string]string{
				"infra/kustomization.yaml": kustomizeFile("app.yaml") + "namespace: elsewhere\n",
				"infra/app.yaml":           strings.Replace(child("./app"), "name: flux-system\n", "name: flux-system\n    namespace: flux-system\n", 1),
			},
			changed: "other/cm.yaml", want: true},
		{name: "it declares a source", extra: map[string]string{
			"infra/kustomization.yaml": kustomizeFile("app.yaml", "repo.yaml"),
			"infra/repo.yaml":          gitRepository("extra", "flux-system", "https://example.com/extra"),
		}, changed: "other/cm.yaml", want: false},
		{name: "it declares a ConfigMap a Kustomization reads", extra: map[string]string{
			"infra/kustomization.yaml": kustomizeFile("app.yaml", "settings.yaml"),
			"infra/settings.yaml":      configMap("settings"),
			"other/ks.yaml":            kustomization("other", "flux-system", "./other", "GitRepository", "flux-system") + "  postBuild:\n    substituteFrom:\n      - kind: ConfigMap\n        name: settings\n",
		}, changed: "other/cm.yaml", want: false},
		{name: "a HelmRelease whose local chart is touched", extra: map[string]string{
			"infra/kustomization.yaml": kustomizeFile("app.yaml", "release.yaml"),
			"infra/release.yaml":       chartRelease,
		}, changed: "charts/web/templates/x.txt", want: false},
		{name: "a HelmRelease whose local chart is not touched", extra: map[string]string{
			"infra/kustomization.yaml": kustomizeFile("app.yaml", "release.yaml"),
			"infra/release.yaml":       chartRelease,
		}, changed: "other/cm.yaml", want: true},
		{name: "a grandchild's path is touched", extra: map[string]string{
			"app/kustomization.yaml": kustomizeFile("cm.yaml", "deeper.yaml"),
			"app/deeper.yaml":        kustomization("deeper", "flux-system", "./other", "GitRepository", "flux-system"),
		}, changed: "other/cm.yaml", want: false},
		{name: "a child's spec.components is touched", extra: map[string]string{
			"infra/app.yaml":                      child("./app") + "  components:\n    - ../components/extra\n",
			"components/extra/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n  - cm.yaml\n",
			"components/extra/cm.yaml":            configMap("extra"),
		}, changed: "components/extra/cm.yaml", want: false},
		{name: "a child building its parent's directory", extra: map[string]string{
			"infra/app.yaml": child("./infra"),
		}, changed: "other/cm.yaml", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo := load(t, tree(tt.extra), fleet.Options{})
			sc := fleet.NewChangeScope(repo, repo, []string{tt.changed})
			spec := tt.spec
			if spec == "" {
				spec = infraSpec
			}
			doc := load(t, map[string]string{"ks.yaml": spec}, fleet.Options{}).DocsInFile("ks.yaml")[0]
			if sc.Touches("infra") {
				t.Fatalf("the change %s reaches infra itself", tt.changed)
			}
			if got := sc.Quiet("clusters/prod", "infra", doc.Object); got != tt.want {
				t.Errorf("Quiet(infra) = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestChangeScopeStaticValues: values read from ConfigMaps and Secrets
// the repository holds as files are static; those only a build makes (a
// generator) or in an unknown namespace are not.
func TestChangeScopeStaticValues(t *testing.T) {
	repo := load(t, map[string]string{
		"settings.yaml":          "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: flux-system\ndata:\n  a: b\n",
		"gen/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nconfigMapGenerator:\n  - name: generated\n    literals: [a=b]\n",
	}, fleet.Options{})
	sc := fleet.NewChangeScope(repo, repo, nil)
	obj := func(ns, name string) map[string]any {
		md := map[string]any{"name": "app"}
		if ns != "" {
			md["namespace"] = ns
		}
		return map[string]any{"metadata": md, "spec": map[string]any{"postBuild": map[string]any{
			"substituteFrom": []any{map[string]any{"kind": "ConfigMap", "name": name}}}}}
	}
	for _, tt := range []struct {
		name string
		obj  map[string]any
		want bool
	}{
		{"a file of the repository", obj("flux-system", "settings"), true},
		{"a generated ConfigMap", obj("flux-system", "generated"), false},
		{"another namespace", obj("apps", "settings"), false},
		{"no namespace", obj("", "settings"), false},
		{"a variable name", obj("flux-system", "${name}"), false},
		{"nothing read", map[string]any{"metadata": map[string]any{"name": "app"}}, true},
	} {
		if got := sc.StaticValues(tt.obj); got != tt.want {
			t.Errorf("%s: StaticValues = %v, want %v", tt.name, got, tt.want)
		}
	}
}
