package fleet_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/fluxgate/fluxgate/fleet"
)

// bootstrap is what `flux bootstrap` writes for a cluster: the flux-system
// GitRepository and the Kustomization that applies the cluster directory.
func bootstrap(cluster string) map[string]string {
	dir := "clusters/" + cluster + "/flux-system/"
	return map[string]string{
		dir + "gotk-sync.yaml": gitRepository("flux-system", "flux-system", "ssh://git@github.com/org/fleet") + "---\n" +
			kustomization("flux-system", "flux-system", "./clusters/"+cluster, "GitRepository", "flux-system"),
		dir + "kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - gotk-sync.yaml\n",
	}
}

// merge returns the union of file maps; later maps win.
func merge(maps ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func TestSourceResolution(t *testing.T) {
	apps := map[string]string{
		"apps/prod/cm.yaml":   configMap("prod"),
		"infra/base/cm.yaml":  configMap("infra"),
		"vendor/other/x.yaml": configMap("vendored"),
	}
	isFleet := func(url string) bool {
		return strings.TrimSuffix(url, ".git") == "https://github.com/org/fleet"
	}
	never := func(string) bool { return false }
	tests := []struct {
		name        string
		files       map[string]string
		isLocalURL  func(string) bool
		sources     map[string]string
		wantSources []string
	}{
		{
			name:        "bootstrap flux-system GitRepository is the root",
			files:       merge(apps, bootstrap("prod")),
			wantSources: []string{"GitRepository/flux-system/flux-system=."},
		},
		{
			name:        "flux-system resolves by name even when the remote does not match",
			files:       merge(apps, bootstrap("prod")),
			isLocalURL:  never,
			wantSources: []string{"GitRepository/flux-system/flux-system=."},
		},
		{
			name: "IsLocalURL matches a GitRepository",
			files: merge(apps, map[string]string{
				"clusters/prod/source.yaml": gitRepository("fleet", "apps", "https://github.com/org/fleet.git"),
			}),
			isLocalURL:  isFleet,
			wantSources: []string{"GitRepository/apps/fleet=."},
		},
		{
			name: "IsLocalURL does not match",
			files: merge(apps, map[string]string{
				"clusters/prod/source.yaml": gitRepository("other", "apps", "https://github.com/org/other"),
			}),
			isLocalURL: isFleet,
		},
		{
			name: "a known remote turns the path heuristic off",
			files: merge(apps, map[string]string{
				"clusters/prod/source.yaml": gitRepository("mirror", "flux-system", "https://mirror.example.com/fleet"),
				"clusters/prod/apps.yaml":   kustomization("apps", "flux-system", "./apps/prod", "GitRepository", "mirror"),
			}),
			isLocalURL: isFleet,
		},
		{
			name: "heuristic: every Kustomization path exists",
			files: merge(apps, map[string]string{
				"clusters/prod/source.yaml": gitRepository("mirror", "flux-system", "https://mirror.example.com/fleet"),
				"clusters/prod/apps.yaml": kustomization("apps", "flux-system", "./apps/prod", "GitRepository", "mirror") + "---\n" +
					kustomization("infra", "flux-system", "infra/base", "GitRepository", "mirror"),
			}),
			wantSources: []string{"GitRepository/flux-system/mirror=."},
		},
		{
			name: "heuristic: one Kustomization path is missing",
			files: merge(apps, map[string]string{
				"clusters/prod/source.yaml": gitRepository("mirror", "flux-system", "https://mirror.example.com/fleet"),
				"clusters/prod/apps.yaml": kustomization("apps", "flux-system", "./apps/prod", "GitRepository", "mirror") + "---\n" +
					kustomization("remote", "flux-system", "./deploy/production", "GitRepository", "mirror"),
			}),
		},
		{
			name: "heuristic: no Kustomization uses the GitRepository",
			files: merge(apps, map[string]string{
				"clusters/prod/source.yaml": gitRepository("mirror", "flux-system", "https://mirror.example.com/fleet"),
			}),
		},
		{
			// Every repository has a root: a root path proves nothing.
			name: "heuristic: the root path",
			files: merge(apps, map[string]string{
				"clusters/prod/source.yaml": gitRepository("mirror", "flux-system", "https://mirror.example.com/fleet"),
				"clusters/prod/apps.yaml":   kustomization("all", "flux-system", "./", "GitRepository", "mirror"),
			}),
			wantSources: nil,
		},
		{
			name: "heuristic: sourceRef namespace across namespaces",
			files: merge(apps, map[string]string{
				"clusters/prod/source.yaml": gitRepository("mirror", "flux-system", "https://mirror.example.com/fleet"),
				"clusters/prod/apps.yaml": "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n" +
					"metadata:\n  name: tenant\n  namespace: tenants\n" +
					"spec:\n  path: ./apps/prod\n  sourceRef:\n    kind: GitRepository\n    name: mirror\n    namespace: flux-system\n" +
					"---\n" +
					// Another namespace's own "mirror", with a path that is not
					// here: it does not count against flux-system/mirror.
					kustomization("elsewhere", "tenants", "./deploy/production", "GitRepository", "mirror"),
			}),
			wantSources: []string{"GitRepository/flux-system/mirror=."},
		},
		{
			name: "heuristic: only GitRepositories",
			files: merge(apps, map[string]string{
				"clusters/prod/source.yaml": "apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\n" +
					"metadata:\n  name: manifests\n  namespace: flux-system\nspec:\n  url: oci://ghcr.io/org/manifests\n",
				"clusters/prod/apps.yaml": kustomization("apps", "flux-system", "./apps/prod", "OCIRepository", "manifests"),
			}),
		},
		{
			name:        "explicit source for a directory",
			files:       merge(apps, bootstrap("prod")),
			sources:     map[string]string{"GitRepository/flux-system/other": "./vendor/other/"},
			wantSources: []string{"GitRepository/flux-system/flux-system=.", "GitRepository/flux-system/other=vendor/other"},
		},
		{
			name:        "explicit source overrides the bootstrap repository",
			files:       merge(apps, bootstrap("prod")),
			sources:     map[string]string{"GitRepository/flux-system/flux-system": "vendor/other"},
			wantSources: []string{"GitRepository/flux-system/flux-system=vendor/other"},
		},
		{
			name: "explicit source overrides IsLocalURL",
			files: merge(apps, map[string]string{
				"clusters/prod/source.yaml": gitRepository("fleet", "apps", "https://github.com/org/fleet"),
			}),
			isLocalURL:  isFleet,
			sources:     map[string]string{"GitRepository/apps/fleet": "apps"},
			wantSources: []string{"GitRepository/apps/fleet=apps"},
		},
		{
			name:        "explicit source of any kind, defined or not, root as ./",
			files:       apps,
			sources:     map[string]string{"OCIRepository/flux-system/manifests": "./", "Bucket/ns/b": "."},
			wantSources: []string{"Bucket/ns/b=.", "OCIRepository/flux-system/manifests=."},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := load(t, tt.files, fleet.Options{IsLocalURL: tt.isLocalURL, Sources: tt.sources})
			if len(r.Problems) > 0 {
				t.Fatalf("unexpected problems: %v", r.Problems)
			}
			if diff := cmp.Diff(tt.wantSources, r.LocalSources(), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("LocalSources() (-want +got):\n%s", diff)
			}
			for _, s := range tt.wantSources {
				ref, dir, _ := strings.Cut(s, "=")
				parts := strings.SplitN(ref, "/", 3)
				got, ok := r.SourceDir(parts[0], parts[1], parts[2])
				if !ok || got != dir {
					t.Errorf("SourceDir(%s) = %q, %v; want %q, true", ref, got, ok, dir)
				}
			}
		})
	}
}

func TestIsLocalURLCalls(t *testing.T) {
	var calls []string
	r := load(t, merge(bootstrap("prod"), map[string]string{
		"clusters/prod/sources.yaml": gitRepository("a", "flux-system", "https://github.com/org/a") + "---\n" +
			gitRepository("b", "flux-system", "https://github.com/org/b") + "---\n" +
			"apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: no-url\n  namespace: flux-system\n",
	}), fleet.Options{IsLocalURL: func(url string) bool {
		calls = append(calls, url)
		return url == "https://github.com/org/b"
	}})
	// flux-system resolves by name; a GitRepository without a URL is never
	// asked about.
	if diff := cmp.Diff([]string{"https://github.com/org/a", "https://github.com/org/b"}, calls); diff != "" {
		t.Errorf("IsLocalURL calls (-want +got):\n%s", diff)
	}
	want := []string{"GitRepository/flux-system/b=.", "GitRepository/flux-system/flux-system=."}
	if diff := cmp.Diff(want, r.LocalSources()); diff != "" {
		t.Errorf("LocalSources() (-want +got):\n%s", diff)
	}
}

// generator returns a source-watcher ArtifactGenerator.
func generator(namespace, body string) string {
	return "apiVersion: source.extensions.fluxcd.io/v1beta1\nkind: ArtifactGenerator\n" +
		"metadata:\n  name: gen\n  namespace: " + namespace + "\nspec:\n" + body
}

func TestArtifactGenerator(t *testing.T) {
	base := merge(bootstrap("prod"), map[string]string{
		"apps/podinfo/cm.yaml":             configMap("podinfo"),
		"third_party/vendor/deploy/x.yaml": configMap("vendored"),
	})
	const fromFluxSystem = "  sources:\n    - alias: repo\n      kind: GitRepository\n      name: flux-system\n"
	bootstrapSource := "GitRepository/flux-system/flux-system=."
	tests := []struct {
		name        string
		generator   string
		sources     map[string]string
		wantSources []string
	}{
		{
			name: "one directory into the artifact root",
			generator: generator("flux-system", fromFluxSystem+
				"  artifacts:\n    - name: podinfo\n      originRevision: \"@repo\"\n      copy:\n"+
				"        - from: \"@repo/apps/podinfo/**\"\n          to: \"@artifact/\"\n"),
			wantSources: []string{"ExternalArtifact/flux-system/podinfo=apps/podinfo", bootstrapSource},
		},
		{
			name: "the whole source, artifact root without a slash",
			generator: generator("flux-system", fromFluxSystem+
				"  artifacts:\n    - name: all\n      copy:\n        - from: \"@repo/**\"\n          to: \"@artifact\"\n"),
			wantSources: []string{"ExternalArtifact/flux-system/all=.", bootstrapSource},
		},
		{
			name: "several artifacts",
			generator: generator("flux-system", fromFluxSystem+
				"  artifacts:\n"+
				"    - name: one\n      copy:\n        - from: \"@repo/apps/**\"\n          to: \"@artifact/\"\n"+
				"    - name: two\n      copy:\n        - from: \"@repo/apps/podinfo/**\"\n          to: \"@artifact/\"\n"),
			wantSources: []string{"ExternalArtifact/flux-system/one=apps", "ExternalArtifact/flux-system/two=apps/podinfo", bootstrapSource},
		},
		{
			name: "source in another namespace",
			generator: generator("team-a", "  sources:\n    - alias: repo\n      kind: GitRepository\n      name: flux-system\n      namespace: flux-system\n"+
				"  artifacts:\n    - name: podinfo\n      copy:\n        - from: \"@repo/apps/podinfo/**\"\n          to: \"@artifact/\"\n"),
			wantSources: []string{"ExternalArtifact/team-a/podinfo=apps/podinfo", bootstrapSource},
		},
		{
			name:    "explicitly mapped source",
			sources: map[string]string{"GitRepository/flux-system/vendor": "third_party/vendor"},
			generator: generator("flux-system", "  sources:\n    - alias: v\n      kind: GitRepository\n      name: vendor\n"+
				"  artifacts:\n    - name: vendored\n      copy:\n        - from: \"@v/deploy/**\"\n          to: \"@artifact/\"\n"),
			wantSources: []string{
				"ExternalArtifact/flux-system/vendored=third_party/vendor/deploy",
				bootstrapSource,
				"GitRepository/flux-system/vendor=third_party/vendor",
			},
		},
		{
			name: "remote source",
			generator: generator("flux-system", "  sources:\n    - alias: r\n      kind: GitRepository\n      name: remote\n"+
				"  artifacts:\n    - name: x\n      copy:\n        - from: \"@r/deploy/**\"\n          to: \"@artifact/\"\n") +
				"---\n" + gitRepository("remote", "flux-system", "https://github.com/other/repo"),
			wantSources: []string{bootstrapSource},
		},
		{
			name: "unknown alias",
			generator: generator("flux-system", fromFluxSystem+
				"  artifacts:\n    - name: x\n      copy:\n        - from: \"@other/apps/**\"\n          to: \"@artifact/\"\n"),
			wantSources: []string{bootstrapSource},
		},
		{
			name: "several copy rules",
			generator: generator("flux-system", fromFluxSystem+
				"  artifacts:\n    - name: x\n      copy:\n"+
				"        - from: \"@repo/apps/**\"\n          to: \"@artifact/\"\n"+
				"        - from: \"@repo/third_party/**\"\n          to: \"@artifact/\"\n"),
			wantSources: []string{bootstrapSource},
		},
		{
			name: "copy into a subdirectory of the artifact",
			generator: generator("flux-system", fromFluxSystem+
				"  artifacts:\n    - name: x\n      copy:\n        - from: \"@repo/apps/**\"\n          to: \"@artifact/apps/\"\n"),
			// apps/ keeps its place: the artifact is the repository root.
			wantSources: []string{"ExternalArtifact/flux-system/x=.", bootstrapSource},
		},
		{
			name: "copy of a single file",
			generator: generator("flux-system", fromFluxSystem+
				"  artifacts:\n    - name: x\n      copy:\n        - from: \"@repo/apps/podinfo/cm.yaml\"\n          to: \"@artifact/\"\n"),
			wantSources: []string{bootstrapSource},
		},
		{
			name: "artifact without a name",
			generator: generator("flux-system", fromFluxSystem+
				"  artifacts:\n    - copy:\n        - from: \"@repo/apps/**\"\n          to: \"@artifact/\"\n"),
			wantSources: []string{bootstrapSource},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := load(t, merge(base, map[string]string{"clusters/prod/generator.yaml": tt.generator}), fleet.Options{Sources: tt.sources})
			if len(r.Problems) > 0 {
				t.Fatalf("unexpected problems: %v", r.Problems)
			}
			if diff := cmp.Diff(tt.wantSources, r.LocalSources()); diff != "" {
				t.Errorf("LocalSources() (-want +got):\n%s", diff)
			}
			if gens := r.FluxKind("ArtifactGenerator"); len(gens) != 1 || !gens[0].Known || gens[0].Typed != nil {
				t.Errorf("ArtifactGenerator not loaded as a known, untyped Flux object")
			}
		})
	}
}

func TestResolveSource(t *testing.T) {
	from := kustomization("apps", "flux-system", "./apps", "GitRepository", "flux-system")
	r := load(t, merge(bootstrap("prod"), map[string]string{
		"clusters/prod/apps.yaml": from,
		"clusters/prod/other.yaml": "# another team's repository\n" +
			gitRepository("other-team", "flux-system", "https://deploy-bot:s3cr3t@github.com/other/repo"),
		"clusters/prod/bucket.yaml": configMap("first") + "---\n" +
			"apiVersion: source.toolkit.fluxcd.io/v1\nkind: Bucket\nmetadata:\n  name: assets\n  namespace: flux-system\n" +
			"spec:\n  bucketName: assets\n  endpoint: minio.example.com\n",
		"clusters/prod/ssh.yaml": gitRepository("ssh", "flux-system", "ssh://git@github.com/other/ssh-repo"),
	}), fleet.Options{})
	if len(r.Problems) > 0 {
		t.Fatalf("unexpected problems: %v", r.Problems)
	}
	docs := r.Lookup("Kustomization", "flux-system", "apps")
	if len(docs) != 1 {
		t.Fatalf("Kustomization apps: %d documents", len(docs))
	}
	apps := docs[0]
	tests := []struct {
		name                string
		kind, namespace, nm string
		from                *fleet.Document
		want                fleet.SourceResolution
	}{
		{
			name: "local", kind: "GitRepository", namespace: "flux-system", nm: "flux-system", from: apps,
			want: fleet.SourceResolution{Dir: "."},
		},
		{
			name: "not defined", kind: "GitRepository", namespace: "flux-system", nm: "nope", from: apps,
			want: fleet.SourceResolution{Problem: &fleet.Problem{
				Rule: fleet.RuleSourceNotFound, Severity: fleet.SeverityError,
				File: "clusters/prod/apps.yaml", Line: 1, Object: "Kustomization/flux-system/apps",
				Message: "sourceRef GitRepository/flux-system/nope is not defined in the repository " +
					"(map it with --source GitRepository/flux-system/nope=DIR)",
			}},
		},
		{
			name: "not defined, no referring document", kind: "OCIRepository", namespace: "apps", nm: "x",
			want: fleet.SourceResolution{Problem: &fleet.Problem{
				Rule: fleet.RuleSourceNotFound, Severity: fleet.SeverityError,
				Message: "sourceRef OCIRepository/apps/x is not defined in the repository " +
					"(map it with --source OCIRepository/apps/x=DIR)",
			}},
		},
		{
			name: "defined in another namespace only", kind: "GitRepository", namespace: "team-a", nm: "other-team", from: apps,
			want: fleet.SourceResolution{Problem: &fleet.Problem{
				Rule: fleet.RuleSourceNotFound, Severity: fleet.SeverityError,
				File: "clusters/prod/apps.yaml", Line: 1, Object: "Kustomization/flux-system/apps",
				Message: "sourceRef GitRepository/team-a/other-team is not defined in the repository " +
					"(map it with --source GitRepository/team-a/other-team=DIR)",
			}},
		},
		{
			name: "defined with another kind only", kind: "OCIRepository", namespace: "flux-system", nm: "other-team", from: apps,
			want: fleet.SourceResolution{Problem: &fleet.Problem{
				Rule: fleet.RuleSourceNotFound, Severity: fleet.SeverityError,
				File: "clusters/prod/apps.yaml", Line: 1, Object: "Kustomization/flux-system/apps",
				Message: "sourceRef OCIRepository/flux-system/other-team is not defined in the repository " +
					"(map it with --source OCIRepository/flux-system/other-team=DIR)",
			}},
		},
		{
			name: "remote GitRepository, credentials redacted", kind: "GitRepository", namespace: "flux-system", nm: "other-team", from: apps,
			want: fleet.SourceResolution{Problem: &fleet.Problem{
				Rule: fleet.RuleSourceUnavailable, Severity: fleet.SeverityWarning,
				File: "clusters/prod/apps.yaml", Line: 1, Object: "Kustomization/flux-system/apps",
				Message: "source GitRepository/flux-system/other-team (https://github.com/other/repo) defined at " +
					"clusters/prod/other.yaml:2 is not this work tree; its units are not rendered " +
					"(map it with --source GitRepository/flux-system/other-team=DIR)",
			}},
		},
		{
			name: "remote GitRepository over SSH", kind: "GitRepository", namespace: "flux-system", nm: "ssh",
			want: fleet.SourceResolution{Problem: &fleet.Problem{
				Rule: fleet.RuleSourceUnavailable, Severity: fleet.SeverityWarning,
				Message: "source GitRepository/flux-system/ssh (ssh://github.com/other/ssh-repo) defined at " +
					"clusters/prod/ssh.yaml:1 is not this work tree; its units are not rendered " +
					"(map it with --source GitRepository/flux-system/ssh=DIR)",
			}},
		},
		{
			name: "Bucket without a URL", kind: "Bucket", namespace: "flux-system", nm: "assets", from: apps,
			want: fleet.SourceResolution{Problem: &fleet.Problem{
				Rule: fleet.RuleSourceUnavailable, Severity: fleet.SeverityWarning,
				File: "clusters/prod/apps.yaml", Line: 1, Object: "Kustomization/flux-system/apps",
				Message: "source Bucket/flux-system/assets defined at clusters/prod/bucket.yaml:8 is not this work tree; " +
					"its units are not rendered (map it with --source Bucket/flux-system/assets=DIR)",
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := r.ResolveSource(tt.kind, tt.namespace, tt.nm, tt.from)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ResolveSource (-want +got):\n%s", diff)
			}
			if got.Problem != nil && (strings.Contains(got.Problem.Message, "s3cr3t") || strings.Contains(got.Problem.Message, "deploy-bot")) {
				t.Errorf("message leaks credentials: %q", got.Problem.Message)
			}
		})
	}
}

// TestResolveSourceBrokenFleets resolves the Kustomizations of the two
// broken fleets whose source is wrong.
func TestResolveSourceBrokenFleets(t *testing.T) {
	tests := []struct {
		fleet string
		ks    string
		want  fleet.SourceResolution
	}{
		{
			fleet: "missing-source",
			ks:    "broken",
			want: fleet.SourceResolution{Problem: &fleet.Problem{
				Rule: fleet.RuleSourceNotFound, Severity: fleet.SeverityError,
				File: "clusters/test/broken.yaml", Line: 1, Object: "Kustomization/flux-system/broken",
				Message: "sourceRef GitRepository/flux-system/not-defined is not defined in the repository " +
					"(map it with --source GitRepository/flux-system/not-defined=DIR)",
			}},
		},
		{
			fleet: "unavailable-source",
			ks:    "other-team-apps",
			want: fleet.SourceResolution{Problem: &fleet.Problem{
				Rule: fleet.RuleSourceUnavailable, Severity: fleet.SeverityWarning,
				File: "clusters/test/other-team.yaml", Line: 12, Object: "Kustomization/flux-system/other-team-apps",
				Message: "source GitRepository/flux-system/other-team (https://github.com/other/repo) defined at " +
					"clusters/test/other-team.yaml:1 is not this work tree; its units are not rendered " +
					"(map it with --source GitRepository/flux-system/other-team=DIR)",
			}},
		},
		{
			fleet: "unavailable-source",
			ks:    "healthy",
			want:  fleet.SourceResolution{Dir: "."},
		},
	}
	for _, tt := range tests {
		t.Run(tt.fleet+"/"+tt.ks, func(t *testing.T) {
			r := loadDir(t, filepath.Join(fleetsDir, "broken", tt.fleet), fleet.Options{})
			docs := r.Lookup("Kustomization", "flux-system", tt.ks)
			if len(docs) != 1 {
				t.Fatalf("Kustomization %s: %d documents", tt.ks, len(docs))
			}
			var ks *fleet.FluxObject
			for _, fo := range r.Kustomizations() {
				if fo.Doc == docs[0] {
					ks = fo
				}
			}
			if ks == nil {
				t.Fatalf("Kustomization %s is not a decoded Flux Kustomization", tt.ks)
			}
			ref := ks.Kustomization().Spec.SourceRef
			got := r.ResolveSource(ref.Kind, ks.Doc.Namespace, ref.Name, ks.Doc)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ResolveSource (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSourceWithoutNamespace covers sources written without a namespace
// (a kustomization's namespace field places them): they match references
// from any namespace.
func TestSourceWithoutNamespace(t *testing.T) {
	noNamespace := func(name, url string) string {
		return "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: " + name + "\n" +
			"spec:\n  interval: 1m\n  url: " + url + "\n"
	}
	r := load(t, map[string]string{
		"apps/prod/cm.yaml":    configMap("prod"),
		"tenants/sources.yaml": noNamespace("fleet", "https://github.com/org/fleet") + "---\n" + noNamespace("other", "https://github.com/other/repo"),
		"tenants/team-a.yaml":  kustomization("team-a", "team-a", "./apps/prod", "GitRepository", "fleet"),
		"tenants/team-b.yaml":  kustomization("team-b", "team-b", "./deploy", "GitRepository", "other"),
		"tenants/kustomization.yaml": kustomizeFile("sources.yaml", "team-a.yaml", "team-b.yaml") +
			"namespace: tenants\n",
	}, fleet.Options{})
	if len(r.Problems) > 0 {
		t.Fatalf("unexpected problems: %v", r.Problems)
	}
	// The heuristic accepts fleet: the one Kustomization using it, from any
	// namespace, has a path here.
	if diff := cmp.Diff([]string{"GitRepository/fleet=."}, r.LocalSources()); diff != "" {
		t.Errorf("LocalSources() (-want +got):\n%s", diff)
	}
	for _, ns := range []string{"team-a", "tenants", ""} {
		if dir, ok := r.SourceDir("GitRepository", ns, "fleet"); !ok || dir != "." {
			t.Errorf("SourceDir(GitRepository, %q, fleet) = %q, %v; want \".\", true", ns, dir, ok)
		}
	}
	from := r.Lookup("Kustomization", "team-b", "team-b")[0]
	got := r.ResolveSource("GitRepository", "team-b", "other", from)
	want := fleet.SourceResolution{Problem: &fleet.Problem{
		Rule: fleet.RuleSourceUnavailable, Severity: fleet.SeverityWarning,
		File: "tenants/team-b.yaml", Line: 1, Object: "Kustomization/team-b/team-b",
		Message: "source GitRepository/team-b/other (https://github.com/other/repo) defined at tenants/sources.yaml:9 " +
			"is not this work tree; its units are not rendered (map it with --source GitRepository/team-b/other=DIR)",
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ResolveSource(other) (-want +got):\n%s", diff)
	}
}

// TestImplicitFluxSystem covers repositories whose flux-system GitRepository
// is not committed (flux install, the Flux Operator): a reference to it is
// still this repository.
func TestImplicitFluxSystem(t *testing.T) {
	r := load(t, map[string]string{
		"clusters/prod/flux-system.yaml": kustomization("flux-system", "flux-system", "./clusters/prod", "GitRepository", "flux-system"),
		"clusters/prod/apps.yaml":        kustomization("apps", "flux-system", "./apps/prod", "GitRepository", "flux-system"),
		"apps/prod/cm.yaml":              configMap("prod"),
	}, fleet.Options{})
	if len(r.Problems) > 0 {
		t.Fatalf("unexpected problems: %v", r.Problems)
	}
	if dir, ok := r.SourceDir("GitRepository", "flux-system", "flux-system"); !ok || dir != "." {
		t.Errorf("SourceDir(flux-system) = %q, %v; want \".\", true", dir, ok)
	}
	from := r.Lookup("Kustomization", "flux-system", "apps")[0]
	if diff := cmp.Diff(fleet.SourceResolution{Dir: "."}, r.ResolveSource("GitRepository", "flux-system", "flux-system", from)); diff != "" {
		t.Errorf("ResolveSource(flux-system) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"clusters/prod"}, r.EntryPoints()); diff != "" {
		t.Errorf("EntryPoints() (-want +got):\n%s", diff)
	}
	// Only the name flux-system is implicit.
	if _, ok := r.SourceDir("GitRepository", "flux-system", "apps"); ok {
		t.Errorf("SourceDir(GitRepository/flux-system/apps) resolved without a definition")
	}
	if _, ok := r.SourceDir("OCIRepository", "flux-system", "flux-system"); ok {
		t.Errorf("SourceDir(OCIRepository/flux-system/flux-system) resolved without a definition")
	}
}
