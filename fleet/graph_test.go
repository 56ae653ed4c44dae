package fleet_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/internal/testenv"
)

// kustomizeFile returns a kustomize kustomization.yaml listing resources.
func kustomizeFile(resources ...string) string {
	s := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"
	for _, r := range resources {
		s += "  - " + r + "\n"
	}
	return s
}

func TestEntryPoints(t *testing.T) {
	appsTree := map[string]string{
		"apps/base/kustomization.yaml":    kustomizeFile("deployment.yaml"),
		"apps/base/deployment.yaml":       configMap("deployment"),
		"apps/prod/kustomization.yaml":    kustomizeFile("../base"),
		"apps/staging/kustomization.yaml": kustomizeFile("../base"),
	}
	tests := []struct {
		name  string
		files map[string]string
		opts  fleet.Options
		want  []string
	}{
		{
			name: "bootstrap pattern, one cluster",
			files: merge(appsTree, bootstrap("prod"), map[string]string{
				"clusters/prod/apps.yaml": kustomization("apps", "flux-system", "./apps/prod", "GitRepository", "flux-system"),
			}),
			want: []string{"clusters/prod"},
		},
		{
			name: "bootstrap pattern, two clusters",
			files: merge(appsTree, bootstrap("prod"), bootstrap("staging"), map[string]string{
				"clusters/prod/apps.yaml":    kustomization("apps", "flux-system", "./apps/prod", "GitRepository", "flux-system"),
				"clusters/staging/apps.yaml": kustomization("apps", "flux-system", "./apps/staging", "GitRepository", "flux-system"),
			}),
			want: []string{"clusters/prod", "clusters/staging"},
		},
		{
			name: "declarations below a cluster are part of it",
			files: merge(appsTree, bootstrap("prod"), map[string]string{
				"clusters/prod/tenants/team-a.yaml": kustomization("team-a", "flux-system", "./apps/prod", "GitRepository", "flux-system"),
			}),
			want: []string{"clusters/prod"},
		},
		{
			name: "a directory of declarations that nothing applies",
			files: merge(appsTree, map[string]string{
				"clusters/dev/source.yaml": gitRepository("flux-system", "flux-system", "https://github.com/org/fleet"),
				"clusters/dev/apps.yaml":   kustomization("apps", "flux-system", "./apps/staging", "GitRepository", "flux-system"),
			}),
			want: []string{"clusters/dev"},
		},
		{
			name: "a directory of declarations applied by a cluster",
			files: merge(appsTree, bootstrap("prod"), map[string]string{
				"clusters/prod/platform.yaml": kustomization("platform", "flux-system", "./platform", "GitRepository", "flux-system"),
				"platform/tenants.yaml":       kustomization("tenants", "flux-system", "./apps/prod", "GitRepository", "flux-system"),
			}),
			want: []string{"clusters/prod"},
		},
		{
			name: "cluster kustomization file limits what the cluster reaches",
			files: merge(appsTree, bootstrap("prod"), map[string]string{
				"clusters/prod/kustomization.yaml": kustomizeFile("flux-system", "apps.yaml"),
				"clusters/prod/apps.yaml":          kustomization("apps", "flux-system", "./apps/prod", "GitRepository", "flux-system"),
				// Not listed by clusters/prod/kustomization.yaml: never applied.
				"clusters/prod/unused/extra.yaml": kustomization("extra", "flux-system", "./apps/staging", "GitRepository", "flux-system"),
			}),
			want: []string{"clusters/prod", "clusters/prod/unused"},
		},
		{
			name: "the repository root as the cluster path",
			files: merge(appsTree, map[string]string{
				"flux.yaml": gitRepository("flux-system", "flux-system", "https://github.com/org/fleet") + "---\n" +
					kustomization("flux-system", "flux-system", "./", "GitRepository", "flux-system"),
				"clusters/x/apps.yaml": kustomization("apps", "flux-system", "./apps/prod", "GitRepository", "flux-system"),
			}),
			want: []string{"."},
		},
		{
			// A directory declaring only broken Kustomizations is still an
			// entry point: its problems are rendered, never skipped.
			name: "Kustomizations of remote sources and missing paths declare entry points",
			files: merge(appsTree, bootstrap("prod"), map[string]string{
				"clusters/prod/apps.yaml": kustomization("apps", "flux-system", "./apps/prod", "GitRepository", "flux-system"),
				"remote/source.yaml":      gitRepository("other", "flux-system", "https://github.com/other/repo"),
				"remote/apps.yaml":        kustomization("other", "flux-system", "./deploy", "GitRepository", "other"),
				"missing/apps.yaml":       kustomization("missing", "flux-system", "./does-not-exist", "GitRepository", "flux-system"),
			}),
			want: []string{"clusters/prod", "missing", "remote"},
		},
		{
			name: "explicitly mapped source",
			files: merge(appsTree, map[string]string{
				"vendor/team/kustomization.yaml": kustomizeFile("cm.yaml"),
				"vendor/team/cm.yaml":            configMap("team"),
				"clusters/prod/team.yaml":        kustomization("team", "flux-system", "./", "GitRepository", "team-repo"),
			}),
			opts: fleet.Options{Sources: map[string]string{"GitRepository/flux-system/team-repo": "vendor/team"}},
			want: []string{"clusters/prod"},
		},
		{
			name: "ExternalArtifact of an ArtifactGenerator",
			files: merge(appsTree, map[string]string{
				"platform/source.yaml": gitRepository("flux-system", "flux-system", "https://github.com/org/fleet"),
				"platform/generator.yaml": generator("flux-system",
					"  sources:\n    - alias: repo\n      kind: GitRepository\n      name: flux-system\n"+
						"  artifacts:\n    - name: app\n      copy:\n        - from: \"@repo/apps/prod/**\"\n          to: \"@artifact/\"\n"),
				"platform/app.yaml": kustomization("app", "flux-system", "./", "ExternalArtifact", "app"),
			}),
			want: []string{"platform"},
		},
		{
			name: "plain kustomize overlays",
			files: merge(appsTree, map[string]string{
				"components/ha/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n  - pdb.yaml\n",
				"components/ha/pdb.yaml":           configMap("pdb"),
				"overlays/dev/Kustomization":       kustomizeFile("../../apps/base"),
				"overlays/prod/kustomization.yml":  kustomizeFile("../../apps/prod") + "components:\n  - ../../components/ha\n",
			}),
			want: []string{"apps/staging", "overlays/dev", "overlays/prod"},
		},
		{
			name: "remote resources are not local inclusions",
			files: map[string]string{
				"base/kustomization.yaml": kustomizeFile("cm.yaml"),
				"base/cm.yaml":            configMap("base"),
				"app/kustomization.yaml": kustomizeFile("../base",
					"https://github.com/org/repo//base?ref=v1", "github.com/org/repo/base", "git@github.com:org/repo.git"),
			},
			want: []string{"app"},
		},
		{
			name:  "no kustomization at all",
			files: map[string]string{"cm.yaml": configMap("a")},
			want:  nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := load(t, tt.files, tt.opts)
			if len(r.Problems) > 0 {
				t.Fatalf("unexpected problems: %v", r.Problems)
			}
			if diff := cmp.Diff(tt.want, r.EntryPoints(), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("EntryPoints() (-want +got):\n%s", diff)
			}
		})
	}
}

// joinDocs joins YAML documents with separators and returns the line each
// document starts on.
func joinDocs(docs ...string) (string, []int) {
	var b strings.Builder
	var lines []int
	line := 1
	for i, d := range docs {
		if i > 0 {
			b.WriteString("---\n")
			line++
		}
		lines = append(lines, line)
		b.WriteString(d)
		line += strings.Count(d, "\n")
	}
	return b.String(), lines
}

func helmRelease(name, namespace string, dependsOn ...string) string {
	s := "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: " + name + "\n  namespace: " + namespace + "\n" +
		"spec:\n  interval: 5m\n  chart:\n    spec:\n      chart: " + name + "\n      sourceRef:\n        kind: HelmRepository\n        name: charts\n"
	if len(dependsOn) > 0 {
		s += "  dependsOn:\n"
		for _, d := range dependsOn {
			if ns, n, ok := strings.Cut(d, "/"); ok {
				s += "    - name: " + n + "\n      namespace: " + ns + "\n"
			} else {
				s += "    - name: " + d + "\n"
			}
		}
	}
	return s
}

func TestCheckDependencies(t *testing.T) {
	ks := func(name string, deps ...string) string {
		return kustomization(name, "flux-system", "./apps", "GitRepository", "flux-system", deps...)
	}
	const (
		ksA = "Kustomization/flux-system/a"
		ksB = "Kustomization/flux-system/b"
		ksC = "Kustomization/flux-system/c"
		ksX = "Kustomization/flux-system/x"
	)
	type file struct {
		name string
		docs []string
	}
	// at names the problem's location: a file and the index of the
	// document in it.
	type at struct {
		file string
		doc  int
	}
	tests := []struct {
		name  string
		files []file
		want  []fleet.Problem
		// where holds the location of each wanted problem.
		where []at
	}{
		{
			name:  "no dependencies",
			files: []file{{"k.yaml", []string{ks("a"), ks("b")}}},
		},
		{
			name:  "dependencies found, across files",
			files: []file{{"a.yaml", []string{ks("a", "b", "c")}}, {"b.yaml", []string{ks("b", "c"), ks("c")}}},
		},
		{
			name:  "dependency not found",
			files: []file{{"k.yaml", []string{ks("a"), ks("b", "a", "missing")}}},
			want: []fleet.Problem{{
				Rule: fleet.RuleDependencyNotFound, Severity: fleet.SeverityError, Object: ksB,
				Message: "dependsOn Kustomization/flux-system/missing is not defined in the repository; Flux will not reconcile " + ksB + " until it exists",
			}},
			where: []at{{"k.yaml", 1}},
		},
		{
			name: "dependsOn another namespace",
			files: []file{{"k.yaml", []string{
				kustomization("app", "apps", "./apps", "GitRepository", "flux-system", "flux-system/a", "infra"),
				ks("a"),
			}}},
			want: []fleet.Problem{{
				Rule: fleet.RuleDependencyNotFound, Severity: fleet.SeverityError, Object: "Kustomization/apps/app",
				Message: "dependsOn Kustomization/apps/infra is not defined in the repository; Flux will not reconcile " + "Kustomization/apps/app" + " until it exists",
			}},
			where: []at{{"k.yaml", 0}},
		},
		{
			name: "dependsOn without namespace is the dependent's namespace",
			files: []file{{"k.yaml", []string{
				kustomization("db", "flux-system", "./apps", "GitRepository", "flux-system"),
				kustomization("app", "apps", "./apps", "GitRepository", "flux-system", "db"),
				kustomization("web", "flux-system", "./apps", "GitRepository", "flux-system", "db"),
			}}},
			want: []fleet.Problem{{
				Rule: fleet.RuleDependencyNotFound, Severity: fleet.SeverityError, Object: "Kustomization/apps/app",
				Message: "dependsOn Kustomization/apps/db is not defined in the repository; Flux will not reconcile " + "Kustomization/apps/app" + " until it exists",
			}},
			where: []at{{"k.yaml", 1}},
		},
		{
			// The dependent's namespace comes from the kustomization that
			// builds it (namespace: flux-system), as in ks.yaml files.
			name: "dependent written without namespace",
			files: []file{{"k.yaml", []string{
				ks("a"),
				kustomization("app", "", "./apps", "GitRepository", "flux-system", "a"),
				helmRelease("db", "apps"),
				helmRelease("web", "", "db"),
			}}},
		},
		{
			name: "HelmRelease dependencies are HelmReleases",
			files: []file{{"hr.yaml", []string{
				helmRelease("db", "apps"),
				helmRelease("web", "apps", "db", "infra/cert-manager", "a"),
				ks("a"),
			}}},
			want: []fleet.Problem{
				{
					Rule: fleet.RuleDependencyNotFound, Severity: fleet.SeverityError, Object: "HelmRelease/apps/web",
					Message: "dependsOn HelmRelease/infra/cert-manager is not defined in the repository; Flux will not reconcile " + "HelmRelease/apps/web" + " until it exists",
				},
				{
					Rule: fleet.RuleDependencyNotFound, Severity: fleet.SeverityError, Object: "HelmRelease/apps/web",
					Message: "dependsOn HelmRelease/apps/a is not defined in the repository; Flux will not reconcile " + "HelmRelease/apps/web" + " until it exists",
				},
			},
			where: []at{{"hr.yaml", 1}, {"hr.yaml", 1}},
		},
		{
			name:  "self dependency",
			files: []file{{"k.yaml", []string{ks("b"), ks("a", "a")}}},
			want: []fleet.Problem{{
				Rule: fleet.RuleDependencyCycle, Severity: fleet.SeverityError, Object: ksA,
				Message: "dependsOn cycle: " + ksA + " -> " + ksA,
			}},
			where: []at{{"k.yaml", 1}},
		},
		{
			name:  "cycle across files, reported once",
			files: []file{{"a.yaml", []string{ks("a", "b")}}, {"b.yaml", []string{ks("b", "c"), ks("c", "a")}}},
			want: []fleet.Problem{{
				Rule: fleet.RuleDependencyCycle, Severity: fleet.SeverityError, Object: ksA,
				Message: "dependsOn cycle: " + ksA + " -> " + ksB + " -> " + ksC + " -> " + ksA,
			}},
			where: []at{{"a.yaml", 0}},
		},
		{
			name: "cycle entered from outside, reported at its first member in file order",
			files: []file{
				{"0-x.yaml", []string{ks("x", "b")}},
				{"1-a.yaml", []string{ks("a", "b")}},
				{"2-b.yaml", []string{ks("b", "a")}},
			},
			want: []fleet.Problem{{
				Rule: fleet.RuleDependencyCycle, Severity: fleet.SeverityError, Object: ksA,
				Message: "dependsOn cycle: " + ksA + " -> " + ksB + " -> " + ksA,
			}},
			where: []at{{"1-a.yaml", 0}},
		},
		{
			name: "two cycles and a missing dependency",
			files: []file{{"k.yaml", []string{
				ks("a", "b"),
				ks("b", "a"),
				ks("x", "c", "gone"),
				ks("c", "x"),
			}}},
			want: []fleet.Problem{
				{
					Rule: fleet.RuleDependencyCycle, Severity: fleet.SeverityError, Object: ksA,
					Message: "dependsOn cycle: " + ksA + " -> " + ksB + " -> " + ksA,
				},
				{
					Rule: fleet.RuleDependencyCycle, Severity: fleet.SeverityError, Object: ksX,
					Message: "dependsOn cycle: " + ksX + " -> " + ksC + " -> " + ksX,
				},
				{
					Rule: fleet.RuleDependencyNotFound, Severity: fleet.SeverityError, Object: ksX,
					Message: "dependsOn Kustomization/flux-system/gone is not defined in the repository; Flux will not reconcile " + ksX + " until it exists",
				},
			},
			where: []at{{"k.yaml", 0}, {"k.yaml", 2}, {"k.yaml", 2}},
		},
		{
			name: "a Kustomization and a HelmRelease of the same name do not depend on each other",
			files: []file{{"k.yaml", []string{
				kustomization("a", "apps", "./apps", "GitRepository", "flux-system", "a"),
				helmRelease("a", "apps", "a"),
			}}},
			want: []fleet.Problem{
				{
					Rule: fleet.RuleDependencyCycle, Severity: fleet.SeverityError, Object: "Kustomization/apps/a",
					Message: "dependsOn cycle: Kustomization/apps/a -> Kustomization/apps/a",
				},
				{
					Rule: fleet.RuleDependencyCycle, Severity: fleet.SeverityError, Object: "HelmRelease/apps/a",
					Message: "dependsOn cycle: HelmRelease/apps/a -> HelmRelease/apps/a",
				},
			},
			where: []at{{"k.yaml", 0}, {"k.yaml", 1}},
		},
		{
			name: "a second definition of an object is not checked",
			files: []file{{"k.yaml", []string{
				ks("a"),
				ks("a", "missing"),
			}}},
		},
		{
			name: "kustomize Kustomizations have no dependencies",
			files: []file{{"kustomization.yaml", []string{
				"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nmetadata:\n  name: a\n" +
					"dependsOn:\n  - name: missing\n",
			}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{}
			lines := map[string][]int{}
			for _, f := range tt.files {
				files[f.name], lines[f.name] = joinDocs(f.docs...)
			}
			r := load(t, files, fleet.Options{})
			want := append([]fleet.Problem(nil), tt.want...)
			for i, w := range tt.where {
				want[i].File, want[i].Line = w.file, lines[w.file][w.doc]
			}
			if diff := cmp.Diff(want, r.Problems, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckDependenciesDeprecatedAndBroken(t *testing.T) {
	content, lines := joinDocs(
		// A deprecated version still has its dependencies checked.
		strings.Replace(kustomization("old", "flux-system", "./apps", "GitRepository", "flux-system", "missing"),
			"kustomize.toolkit.fluxcd.io/v1", "kustomize.toolkit.fluxcd.io/v1beta2", 1),
		// One that does not decode is a yaml-invalid problem, nothing more.
		"apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: bad\n  namespace: flux-system\n"+
			"spec:\n  path: [x]\n  dependsOn:\n    - name: missing\n",
	)
	r := load(t, map[string]string{"k.yaml": content}, fleet.Options{})
	want := []fleet.Problem{
		{Rule: fleet.RuleDependencyNotFound, Severity: fleet.SeverityError, File: "k.yaml", Line: lines[0], Object: "Kustomization/flux-system/old"},
		{Rule: fleet.RuleYAMLInvalid, Severity: fleet.SeverityError, File: "k.yaml", Line: lines[1], Object: "Kustomization/flux-system/bad"},
	}
	if diff := cmp.Diff(want, r.Problems, ignoreMessage); diff != "" {
		t.Errorf("Problems (-want +got):\n%s", diff)
	}
}

func TestRemoteBases(t *testing.T) {
	r := load(t, map[string]string{
		"base/kustomization.yaml": kustomizeFile("cm.yaml", "https://github.com/org/repo//base?ref=v1"),
		"base/cm.yaml":            configMap("base"),
		"app/kustomization.yaml": kustomizeFile("../base", "git@github.com:org/repo.git//deploy", "github.com/org/repo/x",
			"ssh://git@example.com/repo", "GH:org/repo", "git::https://example.com/repo", "http://example.com/r") +
			"components:\n  - ../components/remote\n",
		"components/remote/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n" +
			"resources:\n  - https://example.com/component.yaml\n",
		"plain/cm.yaml":                configMap("plain"),
		"plain/sub/kustomization.yaml": kustomizeFile("github.com:org/repo//sub", "github.com-mirror/not-remote"),
		"local/kustomization.yaml":     kustomizeFile("../base/cm.yaml"),
	}, fleet.Options{})
	if len(r.Problems) > 0 {
		t.Fatalf("unexpected problems: %v", r.Problems)
	}
	tests := []struct {
		dir  string
		want []string
	}{
		{
			dir: "app",
			want: []string{
				"app/kustomization.yaml: git@github.com:org/repo.git//deploy",
				"app/kustomization.yaml: github.com/org/repo/x",
				"app/kustomization.yaml: ssh://git@example.com/repo",
				"app/kustomization.yaml: GH:org/repo",
				"app/kustomization.yaml: git::https://example.com/repo",
				"app/kustomization.yaml: http://example.com/r",
				"base/kustomization.yaml: https://github.com/org/repo//base?ref=v1",
				"components/remote/kustomization.yaml: https://example.com/component.yaml",
			},
		},
		{dir: "./base/", want: []string{"base/kustomization.yaml: https://github.com/org/repo//base?ref=v1"}},
		// Without a kustomization file every subdirectory is built.
		{dir: "plain", want: []string{"plain/sub/kustomization.yaml: github.com:org/repo//sub"}},
		// A file of another directory is not a directory included.
		{dir: "local"},
		{dir: "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, r.RemoteBases(tt.dir)); diff != "" {
				t.Errorf("RemoteBases(%q) (-want +got):\n%s", tt.dir, diff)
			}
		})
	}
}

func TestDependsOnAndVariablesInRawDocuments(t *testing.T) {
	dir := testenv.WriteTree(t, map[string]string{
		// Namespaces come from the kustomization; dependsOn names them.
		"apps/kustomization.yaml": "namespace: cert-manager\nresources:\n- cert-manager.yaml\n",
		"apps/cert-manager.yaml": "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: cert-manager\nspec:\n" +
			"  interval: 1h\n  path: ./apps\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n    namespace: flux-system\n",
		"echo/ks.yaml": "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: echo\nspec:\n" +
			"  interval: ${SYNC_INTERVAL:=10m}\n  path: ./echo\n  prune: true\n  dependsOn:\n    - name: cert-manager\n      namespace: cert-manager\n" +
			"  sourceRef:\n    kind: GitRepository\n    name: flux-system\n    namespace: flux-system\n",
	})
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	r, err := fleet.Load(context.Background(), root.FS(), fleet.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Problems) != 0 {
		t.Errorf("problems: %v", r.Problems)
	}
	// The ${VAR} interval does not decode, but the object is still indexed.
	var names []string
	for _, fo := range r.Kustomizations() {
		names = append(names, fo.Doc.Name)
	}
	if diff := cmp.Diff([]string{"cert-manager", "echo"}, names); diff != "" {
		t.Errorf("Kustomizations (-want +got):\n%s", diff)
	}
}

func TestBuildFluxDocs(t *testing.T) {
	r := load(t, map[string]string{
		"apps/kustomization.yaml": kustomizeFile("web.yaml", "../shared/db.yaml", "sub") +
			"patches:\n  - path: web-patch.yaml\n",
		"apps/web.yaml":       helmRelease("web", "apps"),
		"apps/web-patch.yaml": helmRelease("web", "apps"),
		"apps/unlisted.yaml":  helmRelease("unlisted", "apps"),
		"apps/sub/cm.yaml":    configMap("sub"),
		"apps/sub/api.yaml":   helmRelease("api", "apps"),
		"shared/db.yaml":      helmRelease("db", "apps"),
		"plain/a.yaml":        helmRelease("a", "apps"),
		"plain/deep/b.yaml":   helmRelease("b", "apps"),
	}, fleet.Options{})
	tests := []struct {
		dir  string
		want []string
	}{
		// The resources its kustomization files name, files or
		// directories; not patches nor files it does not list.
		{dir: "apps", want: []string{"apps/sub/api.yaml", "apps/web.yaml", "shared/db.yaml"}},
		// Without a kustomization file: every file, subdirectories too.
		{dir: "plain", want: []string{"plain/a.yaml", "plain/deep/b.yaml"}},
		{dir: "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			var got []string
			for _, d := range r.BuildFluxDocs(tt.dir) {
				got = append(got, d.File)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("BuildFluxDocs(%q) (-want +got):\n%s", tt.dir, diff)
			}
		})
	}
}

// TestDependencyNotFoundWhereHidden: a missing dependency is an error
// only when the run sees every place a Flux object may be defined; with a
// remote source, a ResourceSet or a variable it is a warning.
func TestDependencyNotFoundWhereHidden(t *testing.T) {
	ks := func(name string, deps ...string) string {
		return kustomization(name, "flux-system", "./apps", "GitRepository", "flux-system", deps...)
	}
	remote := "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: other\n  namespace: flux-system\nspec:\n  interval: 1h\n  url: https://example.com/other.git\n  ref:\n    branch: main\n"
	resourceSet := "apiVersion: fluxcd.controlplane.io/v1\nkind: ResourceSet\nmetadata:\n  name: apps\n  namespace: flux-system\nspec:\n  resources: []\n"
	tests := []struct {
		name  string
		docs  []string
		want  fleet.Severity
		inMsg string
	}{
		{"all local", []string{ks("a", "missing")}, fleet.SeverityError, "Flux will not reconcile"},
		{"a remote source", []string{ks("a", "missing"), remote, kustomization("o", "flux-system", "./x", "GitRepository", "other")}, fleet.SeverityWarning, "GitRepository/flux-system/other"},
		{"a ResourceSet", []string{ks("a", "missing"), resourceSet}, fleet.SeverityWarning, "ResourceSet"},
		{"a variable", []string{ks("a", "${CLUSTER}-infra")}, fleet.SeverityWarning, "names a variable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			content, _ := joinDocs(tt.docs...)
			r := load(t, map[string]string{"k.yaml": content}, fleet.Options{})
			var got []fleet.Problem
			for _, p := range r.Problems {
				if p.Rule == fleet.RuleDependencyNotFound {
					got = append(got, p)
				}
			}
			if len(got) != 1 || got[0].Severity != tt.want || !strings.Contains(got[0].Message, tt.inMsg) {
				t.Errorf("problems %+v, want one %s saying %q", got, tt.want, tt.inMsg)
			}
		})
	}
}
