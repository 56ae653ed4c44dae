package validate_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/internal/testenv"
	"github.com/fluxgate/fluxgate/render"
	"github.com/fluxgate/fluxgate/render/sops"
	"github.com/fluxgate/fluxgate/validate"
)

// run loads, renders and validates a directory.
func run(t *testing.T, dir string, lopts fleet.Options, vopts validate.Options) *validate.Report {
	t.Helper()
	return runRender(t, dir, lopts, vopts, render.Options{})
}

// loadDir loads dir through an os.Root, as the CLI does.
func loadDir(t *testing.T, dir string, lopts fleet.Options) (string, *os.Root, *fleet.Repo) {
	t.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	repo, err := fleet.Load(context.Background(), root.FS(), lopts)
	if err != nil {
		t.Fatal(err)
	}
	return abs, root, repo
}

// runRender is run with render options (Dir, Offline and CacheDir are
// set).
func runRender(t *testing.T, dir string, lopts fleet.Options, vopts validate.Options, ropts render.Options) *validate.Report {
	t.Helper()
	abs, root, repo := loadDir(t, dir, lopts)
	ctx := context.Background()
	ropts.Dir, ropts.Offline, ropts.CacheDir = abs, true, t.TempDir()
	res, err := render.Render(ctx, repo, ropts)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := validate.LoadConfig(root.FS())
	if err != nil {
		t.Fatal(err)
	}
	if vopts.Ignore == nil {
		vopts.Ignore = cfg.Ignore
	}
	rep, err := validate.Validate(ctx, repo, res, vopts)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// runStream is runRender with a streaming Checker: the render made with
// Options.Compact, its units checked and released as they are built. It
// returns the render too.
func runStream(t *testing.T, dir string) (*validate.Report, *render.Result) {
	t.Helper()
	abs, root, repo := loadDir(t, dir, fleet.Options{})
	ctx := context.Background()
	cfg, err := validate.LoadConfig(root.FS())
	if err != nil {
		t.Fatal(err)
	}
	c, err := validate.NewChecker(repo, render.Shard{}, validate.Options{Ignore: cfg.Ignore})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	res, err := render.Render(ctx, repo, render.Options{Dir: abs, Offline: true, CacheDir: t.TempDir(), Compact: true, Checked: c.Unit})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := c.Report(ctx, res)
	if err != nil {
		t.Fatal(err)
	}
	return rep, res
}

type located struct {
	Rule, Severity, File string
	Line                 int
}

// testKey is a decryptor holding the example fleets' public test key
// (testdata/fleets/keys).
func testKey(t *testing.T) *sops.Decryptor {
	t.Helper()
	key, err := os.ReadFile(filepath.Join("..", "testdata", "fleets", "keys", "age.agekey"))
	if err != nil {
		t.Fatal(err)
	}
	dec, err := sops.NewDecryptor(string(key))
	if err != nil {
		t.Fatal(err)
	}
	return dec
}

func TestRules(t *testing.T) {
	tests := []struct {
		rule  string
		want  []located
		lopts fleet.Options
		ropts render.Options
	}{
		{rule: "yaml-invalid", want: []located{
			{"yaml-invalid", "error", "app/cm.yaml", 8},
			{"render-failed", "error", "clusters/test/app.yaml", 1},
		}},
		{rule: "render-failed", want: []located{{"render-failed", "error", "clusters/test/app.yaml", 1}}},
		{rule: "source-not-found", want: []located{{"source-not-found", "error", "clusters/test/app.yaml", 1}}},
		{rule: "source-unavailable", want: []located{{"source-unavailable", "warning", "clusters/test/app.yaml", 12}}},
		{rule: "path-not-found", want: []located{{"path-not-found", "error", "clusters/test/app.yaml", 1}}},
		{rule: "dependency-not-found", want: []located{{"dependency-not-found", "error", "clusters/test/app.yaml", 1}}},
		{rule: "dependency-cycle", want: []located{{"dependency-cycle", "error", "clusters/test/app.yaml", 1}}},
		{rule: "schema-invalid", want: []located{{"schema-invalid", "error", "app/deploy.yaml", 6}}},
		{rule: "schema-missing", want: []located{{"schema-missing", "warning", "app/monitor.yaml", 1}}},
		{rule: "deprecated-api", want: []located{
			// policy/v1beta1 was removed in 1.25; Flux 2.7 CRDs serve
			// only kustomize.toolkit.fluxcd.io/v1: both applies fail.
			{"deprecated-api", "error", "app/pdb.yaml", 1},
			{"deprecated-api", "error", "clusters/test/app.yaml", 1},
		}},
		{rule: "substitution-undefined", want: []located{{"substitution-undefined", "error", "app/cm.yaml", 7}}},
		{rule: "duplicate-object", want: []located{{"duplicate-object", "error", "infra/cm.yaml", 1}}},
		{rule: "tenant-escape", want: []located{{"tenant-escape", "error", "teams/team-a/role.yaml", 1}}},
		{rule: "image-policy-invalid", want: []located{{"image-policy-invalid", "error", "app/policy.yaml", 11}}},
		{rule: "secret-not-encrypted", want: []located{{"secret-not-encrypted", "error", "app/secret.yaml", 1}}},
		{rule: "sops-rule-missing", want: []located{
			{"sops-rule-missing", "warning", ".sops.yaml", 2},
			{"sops-rule-missing", "warning", "app/secret.yaml", 1},
		}},
		// Encrypted for another key than the example fleets' test key
		// given: the unit fails, one finding at the sops: line.
		{rule: "sops-decrypt-failed", ropts: render.Options{Decryptor: testKey(t)}, want: []located{
			{"sops-decrypt-failed", "error", "app/secret.sops.yaml", 7},
		}},
		// The MAC line removed from an encrypted file: seen without a key.
		{rule: "sops-mac", want: []located{{"sops-mac", "warning", "app/secret.sops.yaml", 10}}},
		{rule: "chart-unavailable", want: []located{{"chart-unavailable", "warning", "app/release.yaml", 10}}},
		{rule: "path-escape", want: []located{{"path-escape", "error", "clusters/test/app.yaml", 1}}},
		{rule: "kustomization-field-dropped", want: []located{
			{"kustomization-field-dropped", "warning", "app/kustomization.yaml", 5},
			{"kustomization-field-dropped", "warning", "other/kustomization.yaml", 1},
		}},
		{rule: "name-invalid", want: []located{
			{"name-invalid", "error", "app/objects.yaml", 2},
			{"name-invalid", "error", "app/objects.yaml", 11},
			{"name-invalid", "error", "app/objects.yaml", 21},
			{"name-invalid", "error", "app/objects.yaml", 28},
			{"name-invalid", "error", "app/objects.yaml", 38},
			{"name-invalid", "error", "app/objects.yaml", 55},
			{"name-invalid", "error", "app/objects.yaml", 69},
		}},
		{rule: "symlink-ignored", want: []located{{"symlink-ignored", "warning", "app/copy.yaml", 0}}},
		{rule: "file-too-large", lopts: fleet.Options{MaxFileSize: 1024}, want: []located{
			{"file-too-large", "error", "app/cm.yaml", 0},
		}},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.rule] = true
		t.Run(tt.rule+"/fail", func(t *testing.T) {
			rep := runRender(t, filepath.Join("testdata", "rules", tt.rule, "fail"), tt.lopts, validate.Options{}, tt.ropts)
			var got []located
			for _, f := range rep.Findings {
				if f.Severity == validate.SeverityInfo {
					continue
				}
				got = append(got, located{f.Rule, f.Severity, f.File, f.Line})
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s\nall: %+v", diff, rep.Findings)
			}
		})
		t.Run(tt.rule+"/pass", func(t *testing.T) {
			rep := runRender(t, filepath.Join("testdata", "rules", tt.rule, "pass"), tt.lopts, validate.Options{}, tt.ropts)
			for _, f := range rep.Findings {
				if f.Severity != validate.SeverityInfo {
					t.Errorf("unexpected finding: %+v", f)
				}
			}
		})
	}
	for _, r := range validate.Rules {
		if !covered[r.ID] {
			t.Errorf("rule %s has no fixture", r.ID)
		}
	}
}

// TestCompactRender checks that a render holding its objects as JSON
// (render.Options.Compact, as the validate command renders) gives the same
// report.
func TestCompactRender(t *testing.T) {
	dirs := []string{"../testdata/fleets/fleet-infra"}
	rules, err := filepath.Glob(filepath.Join("testdata", "rules", "*", "*"))
	if err != nil {
		t.Fatal(err)
	}
	dirs = append(dirs, rules...)
	for _, dir := range dirs {
		t.Run(dir, func(t *testing.T) {
			want := run(t, dir, fleet.Options{}, validate.Options{})
			got := runRender(t, dir, fleet.Options{}, validate.Options{}, render.Options{Compact: true})
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("report (-maps +compact):\n%s", diff)
			}
			streamed, _ := runStream(t, dir)
			if diff := cmp.Diff(want, streamed); diff != "" {
				t.Errorf("report (-maps +streamed):\n%s", diff)
			}
		})
	}
}

// TestCheckerReleases checks that a streaming Checker leaves the render
// holding the JSON only of the objects its Report still reads: the
// CustomResourceDefinitions, the kinds whose schema the whole render
// decides, and what render keeps for lookups (ConfigMaps, Secrets).
func TestCheckerReleases(t *testing.T) {
	_, res := runStream(t, "../testdata/fleets/fleet-infra")
	kept := map[string]bool{}
	released := 0
	for _, u := range res.Units {
		for _, o := range u.Objects {
			api, kind := o.GVK()
			if o.Released() {
				released++
				continue
			}
			kept[api+"/"+kind] = true
		}
	}
	for gvk := range kept {
		switch {
		case gvk == "apiextensions.k8s.io/v1/CustomResourceDefinition", gvk == "v1/ConfigMap", gvk == "v1/Secret":
		case strings.HasPrefix(gvk, "apps/") || strings.HasPrefix(gvk, "v1/") || strings.HasPrefix(gvk, "rbac.authorization.k8s.io/"):
			t.Errorf("%s kept: Kubernetes serves it, its schema check is done", gvk)
		}
	}
	if released == 0 {
		t.Error("no object released")
	}
}

func TestExampleFleetIsClean(t *testing.T) {
	rep := run(t, "../testdata/fleets/fleet-infra", fleet.Options{}, validate.Options{})
	var errs []validate.Finding
	for _, f := range rep.Findings {
		if f.Severity == validate.SeverityError {
			errs = append(errs, f)
		}
	}
	if len(errs) != 0 {
		t.Errorf("errors on the example fleet: %+v", errs)
	}
	if rep.Summary.Units < 12 || rep.Summary.Objects == 0 {
		t.Errorf("summary = %+v", rep.Summary)
	}
	// A SOPS-encrypted Secret, a GitHub workflow, a Taskfile and Helm
	// values beside manifests produce nothing.
	for _, f := range rep.Findings {
		switch f.File {
		case "apps/production/backend-secret.sops.yaml", ".github/workflows/validate.yaml", "Taskfile.yaml", "infrastructure/cert-manager/values.yaml":
			t.Errorf("finding on %s: %+v", f.File, f)
		}
	}
}

func TestSchemaLocation(t *testing.T) {
	// The ServiceMonitor schema comes from a kubeconform path template.
	dir := t.TempDir()
	schema := `{"type":"object","properties":{"apiVersion":{"type":"string"},"kind":{"type":"string"},` +
		`"metadata":{"type":"object"},"spec":{"type":"object","properties":{"endpoints":{"type":"array"}},"additionalProperties":false}},"additionalProperties":false}`
	if err := os.WriteFile(filepath.Join(dir, "servicemonitor-monitoring-v1.json"), []byte(schema), 0o644); err != nil {
		t.Fatal(err)
	}
	loc := filepath.Join(dir, "{{ .ResourceKind }}{{ .KindSuffix }}.json")
	rep := run(t, filepath.Join("testdata", "rules", "schema-missing", "fail"), fleet.Options{}, validate.Options{SchemaLocations: []string{loc}})
	if len(rep.Findings) != 0 {
		t.Errorf("findings with --schema-location: %+v", rep.Findings)
	}
	// The same schema rejects an unknown field.
	if err := os.WriteFile(filepath.Join(dir, "servicemonitor-monitoring-v1.json"),
		[]byte(strings.Replace(schema, `"endpoints":{"type":"array"}`, `"selector":{"type":"object"}`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	rep = run(t, filepath.Join("testdata", "rules", "schema-missing", "fail"), fleet.Options{}, validate.Options{SchemaLocations: []string{loc}})
	if len(rep.Findings) != 1 || rep.Findings[0].Rule != validate.RuleSchemaInvalid {
		t.Errorf("findings = %+v", rep.Findings)
	}
}

// TestCommittedCRD checks custom resources against a CRD committed in the
// repository that no unit renders (so that every shard of a run split by
// cluster has it, whichever cluster applies it).
func TestCommittedCRD(t *testing.T) {
	crd := `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: servicemonitors.monitoring.example.com
spec:
  group: monitoring.example.com
  names:
    kind: ServiceMonitor
    plural: servicemonitors
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
              endpoints:
                type: %s
`
	for _, tt := range []struct {
		name, endpoints string
		want            []located
	}{
		{"valid", "array", nil},
		{"invalid", "string", []located{{"schema-invalid", "error", "app/monitor.yaml", 7}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			testenv.CopyTree(t, filepath.Join("testdata", "rules", "schema-missing", "fail"), dir)
			if err := os.MkdirAll(filepath.Join(dir, "crds"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "crds", "servicemonitor.yaml"), []byte(fmt.Sprintf(crd, tt.endpoints)), 0o644); err != nil {
				t.Fatal(err)
			}
			var got []located
			for _, f := range run(t, dir, fleet.Options{}, validate.Options{}).Findings {
				got = append(got, located{f.Rule, f.Severity, f.File, f.Line})
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIgnoreMechanisms(t *testing.T) {
	dir := filepath.Join("testdata", "rules", "schema-invalid", "fail")
	if rep := run(t, dir, fleet.Options{}, validate.Options{Ignore: []validate.IgnoreRule{{Rule: "schema-invalid", Path: "app/**"}}}); len(rep.Findings) != 0 {
		t.Errorf(".fluxgate.yaml ignore by rule and path: %+v", rep.Findings)
	}
	if rep := run(t, dir, fleet.Options{}, validate.Options{Ignore: []validate.IgnoreRule{{Rule: "schema-invalid", Path: "other/**"}}}); len(rep.Findings) != 1 {
		t.Errorf("an ignore for another path must not apply: %+v", rep.Findings)
	}
	// The annotation on the object.
	tmp := t.TempDir()
	testenv.CopyTree(t, dir, tmp)
	p := filepath.Join(tmp, "app", "deploy.yaml")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	annotated := strings.Replace(string(data), "  namespace: default\n", "  namespace: default\n  annotations:\n    fluxgate.io/ignore: deprecated-api, schema-invalid\n", 1)
	if err := os.WriteFile(p, []byte(annotated), 0o644); err != nil {
		t.Fatal(err)
	}
	if rep := run(t, tmp, fleet.Options{}, validate.Options{}); len(rep.Findings) != 0 {
		t.Errorf("fluxgate.io/ignore annotation: %+v", rep.Findings)
	}
}

func TestStrictMakesMissingSchemasErrors(t *testing.T) {
	rep := run(t, filepath.Join("testdata", "rules", "schema-missing", "fail"), fleet.Options{}, validate.Options{Strict: true})
	if len(rep.Findings) != 1 || rep.Findings[0].Severity != validate.SeverityError {
		t.Fatalf("findings = %+v", rep.Findings)
	}
	if diff := cmp.Diff(map[string]int{"monitoring.example.com/v1/ServiceMonitor": 1}, rep.Summary.SkippedKinds); diff != "" {
		t.Errorf("skipped kinds (-want +got):\n%s", diff)
	}
}

func TestDeprecatedButServedFluxAPI(t *testing.T) {
	dir := testenv.WriteTree(t, map[string]string{
		"clusters/test/alerts.yaml": "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: alerts\n  namespace: flux-system\nspec:\n" +
			"  interval: 10m\n  path: ./alerts\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n",
		"alerts/provider.yaml": "apiVersion: notification.toolkit.fluxcd.io/v1beta3\nkind: Provider\nmetadata:\n  name: slack\n  namespace: flux-system\nspec:\n" +
			"  type: slack\n  channel: general\n  secretRef:\n    name: slack-url\n",
	})
	rep := run(t, dir, fleet.Options{}, validate.Options{})
	want := []located{{"deprecated-api", "warning", "alerts/provider.yaml", 1}}
	var got []located
	for _, f := range rep.Findings {
		got = append(got, located{f.Rule, f.Severity, f.File, f.Line})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s\n%+v", diff, rep.Findings)
	}
}

// TestDeprecatedFluxAPIServedByInstalledFlux: a Flux API the current CRDs
// no longer serve is a warning, not an error, when the repository installs
// a Flux release that still serves it, and an error once it installs one
// that does not.
func TestDeprecatedFluxAPIServedByInstalledFlux(t *testing.T) {
	oci := func(tag string) string {
		return "apiVersion: source.toolkit.fluxcd.io/v1beta2\nkind: OCIRepository\nmetadata:\n  name: flux-manifests\n  namespace: flux-system\nspec:\n" +
			"  interval: 10m\n  url: oci://ghcr.io/fluxcd/flux-manifests\n  ref:\n    tag: " + tag + "\n"
	}
	tests := []struct {
		name     string
		tag      string
		severity string
		message  string
	}{
		{"installs Flux 2.3", "v2.3.0", "warning", "served by the Flux v2.3.0 this repository installs (flux/flux.yaml:10); removed in Flux 2.8"},
		{"installs Flux 2.8", "v2.8.0", "error", "no longer served by the Flux v2.8.0 this repository installs (flux/flux.yaml:10; removed in Flux 2.8)"},
		{"installs an unpinned Flux", "latest", "error", "no longer served by Flux's CRDs (removed in Flux 2.8)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := testenv.WriteTree(t, map[string]string{"flux/flux.yaml": oci(tc.tag)})
			rep := run(t, dir, fleet.Options{}, validate.Options{})
			var got []located
			for _, f := range rep.Findings {
				if f.Rule != validate.RuleDeprecatedAPI {
					continue
				}
				got = append(got, located{f.Rule, f.Severity, f.File, f.Line})
				if !strings.Contains(f.Message, tc.message) {
					t.Errorf("message %q does not say %q", f.Message, tc.message)
				}
			}
			want := []located{{"deprecated-api", tc.severity, "flux/flux.yaml", 1}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s\n%+v", diff, rep.Findings)
			}
		})
	}
}

// TestDeprecatedFluxAPIPerCluster: with clusters on different Flux
// releases, an object is judged by the release of the clusters that apply
// it, not by the newest release anywhere in the repository.
func TestDeprecatedFluxAPIPerCluster(t *testing.T) {
	files := map[string]string{}
	for cluster, version := range map[string]string{"staging": "v2.9.0", "production": "v2.7.0"} {
		files["clusters/"+cluster+"/flux-system/gotk-components.yaml"] = "---\n# This manifest was generated by flux. DO NOT EDIT.\n# Flux Version: " + version +
			"\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: flux-system\n"
		files["clusters/"+cluster+"/flux-system/gotk-sync.yaml"] = "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n" +
			"  interval: 1m\n  url: ssh://git@github.com/example/fleet\n  ref:\n    branch: main\n---\n" +
			"apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n" +
			"  interval: 10m\n  path: ./clusters/" + cluster + "\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
		files["clusters/"+cluster+"/flux-system/kustomization.yaml"] = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - gotk-components.yaml\n  - gotk-sync.yaml\n"
		files["clusters/"+cluster+"/apps.yaml"] = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: flux-system\nspec:\n" +
			"  interval: 10m\n  path: ./apps/" + cluster + "\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
		files["apps/"+cluster+"/kustomization.yaml"] = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../base\n"
	}
	repo := func(name string) string {
		return "apiVersion: source.toolkit.fluxcd.io/v1beta2\nkind: HelmRepository\nmetadata:\n  name: " + name + "\n  namespace: default\nspec:\n  interval: 1h\n  url: https://charts.example.org/" + name + "\n"
	}
	files["apps/base/kustomization.yaml"] = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - shared.yaml\n"
	files["apps/base/shared.yaml"] = repo("shared")
	files["apps/production/kustomization.yaml"] = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../base\n  - legacy.yaml\n"
	files["apps/production/legacy.yaml"] = repo("legacy")
	rep := run(t, testenv.WriteTree(t, files), fleet.Options{}, validate.Options{})
	want := []located{
		{"deprecated-api", "warning", "apps/production/legacy.yaml", 1}, // only production (v2.7.0) applies it
		{"deprecated-api", "error", "apps/base/shared.yaml", 1},         // staging (v2.9.0) applies it too
	}
	var got []located
	for _, f := range rep.Findings {
		if f.Rule == validate.RuleDeprecatedAPI {
			got = append(got, located{f.Rule, f.Severity, f.File, f.Line})
		}
	}
	if diff := cmp.Diff(want, got, cmpopts.SortSlices(func(a, b located) bool { return a.File < b.File })); diff != "" {
		t.Errorf("findings (-want +got):\n%s\n%+v", diff, rep.Findings)
	}
}

// TestFluxAPINotYetServedByInstalledFlux: a Flux API version newer than
// the Flux release the repository installs is an error (applying fails),
// and nothing once that release serves it.
func TestFluxAPINotYetServedByInstalledFlux(t *testing.T) {
	gotk := func(version string) string {
		return "---\n# This manifest was generated by flux. DO NOT EDIT.\n# Flux Version: " + version + "\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: flux-system\n"
	}
	release := "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: podinfo\n  namespace: default\nspec:\n  interval: 1h\n" +
		"  chart:\n    spec:\n      chart: podinfo\n      sourceRef:\n        kind: HelmRepository\n        name: podinfo\n"
	tests := []struct {
		name    string
		version string
		want    []located
	}{
		{"installs Flux 2.2", "v2.2.3", []located{{"deprecated-api", "error", "apps/podinfo.yaml", 1}}},
		{"installs Flux 2.3", "v2.3.0", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := testenv.WriteTree(t, map[string]string{
				"clusters/home/flux-system/gotk-components.yaml": gotk(tc.version),
				"apps/podinfo.yaml": release,
			})
			rep := run(t, dir, fleet.Options{}, validate.Options{})
			var got []located
			for _, f := range rep.Findings {
				if f.Rule != validate.RuleDeprecatedAPI {
					continue
				}
				got = append(got, located{f.Rule, f.Severity, f.File, f.Line})
				if want := "not served by the Flux " + tc.version + " this repository installs (clusters/home/flux-system/gotk-components.yaml:3)"; !strings.Contains(f.Message, want) {
					t.Errorf("message %q does not say %q", f.Message, want)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s\n%+v", diff, rep.Findings)
			}
		})
	}
}

// TestFluxInstallNothingApplies: a FluxInstance that no unit applies (an
// example kept in the repository) says nothing about the Flux the
// clusters run.
func TestFluxInstallNothingApplies(t *testing.T) {
	dir := testenv.WriteTree(t, map[string]string{
		"clusters/home/flux-system/gotk-sync.yaml": "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n" +
			"  interval: 1m\n  url: ssh://git@github.com/example/fleet\n  ref:\n    branch: main\n---\n" +
			"apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n" +
			"  interval: 10m\n  path: ./clusters/home\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n",
		"clusters/home/flux-system/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - gotk-sync.yaml\n",
		"clusters/home/podinfo.yaml": "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: podinfo\n  namespace: flux-system\nspec:\n  interval: 1h\n" +
			"  chart:\n    spec:\n      chart: podinfo\n      sourceRef:\n        kind: HelmRepository\n        name: podinfo\n",
		"docs/examples/flux-instance.yaml": "apiVersion: fluxcd.controlplane.io/v1\nkind: FluxInstance\nmetadata:\n  name: flux\n  namespace: flux-system\nspec:\n  distribution:\n    version: 2.2.x\n    registry: ghcr.io/fluxcd\n",
	})
	rep := run(t, dir, fleet.Options{}, validate.Options{})
	for _, f := range rep.Findings {
		if f.Rule == validate.RuleDeprecatedAPI {
			t.Errorf("unexpected finding: %+v", f)
		}
	}
}

func TestSecretFiles(t *testing.T) {
	sopsMeta := "sops:\n  age:\n    - recipient: age1znfha8tp9uf4a5aw62r878sga8de5q6qvfhg7cmpv7dv38efg48sx9vc9u\n      enc: x\n  mac: ENC[AES256_GCM,data:eA==,iv:eA==,tag:eA==,type:str]\n  version: 3.13.3\n"
	enc := "ENC[AES256_GCM,data:eA==,iv:eA==,tag:eA==,type:str]"
	tests := []struct {
		name  string
		files map[string]string
		want  []located
	}{
		{
			name: "named for SOPS but not encrypted",
			files: map[string]string{
				"secrets/db.sops.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: x\n",
			},
			want: []located{
				{"secret-not-encrypted", "error", "secrets/db.sops.yaml", 1},
				{"secret-not-encrypted", "error", "secrets/db.sops.yaml", 1},
			},
		},
		{
			name: "a value left in plaintext in a SOPS file",
			files: map[string]string{
				"secrets/db.sops.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: " + enc + "\n  user: admin\n" + sopsMeta,
			},
			want: []located{{"secret-not-encrypted", "error", "secrets/db.sops.yaml", 7}},
		},
		{
			name: "secretGenerator literals and a plaintext env file",
			files: map[string]string{
				"app/kustomization.yaml": "secretGenerator:\n  - name: a\n    literals:\n      - password=x\n  - name: b\n    envs:\n      - b.env\n  - name: c\n    envs:\n      - c.env\n",
				"app/b.env":              "TOKEN=x\n",
				"app/c.env":              "TOKEN=" + enc + "\nsops_mac=" + enc + "\nsops_version=3.13.3\n",
			},
			want: []located{
				{"secret-not-encrypted", "error", "app/kustomization.yaml", 2},
				{"secret-not-encrypted", "error", "app/kustomization.yaml", 5},
			},
		},
		{
			name: "a plaintext Secret in a file Flux ignores",
			files: map[string]string{
				".github/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: ci\nstringData:\n  token: x\n",
			},
			want: []located{{"secret-not-encrypted", "error", ".github/secret.yaml", 1}},
		},
		{
			name: "SealedSecret, ExternalSecret and an encrypted Secret are fine",
			files: map[string]string{
				"app/sealed.yaml":   "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: s\nspec:\n  encryptedData:\n    a: AgB=\n",
				"app/external.yaml": "apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata:\n  name: e\nspec:\n  data:\n    - secretKey: a\n      remoteRef:\n        key: op://vault/item/field\n",
				"app/db.sops.yaml":  "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: " + enc + "\n" + sopsMeta,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := testenv.WriteTree(t, tt.files)
			rep := run(t, dir, fleet.Options{}, validate.Options{})
			var got []located
			for _, f := range rep.Findings {
				if f.Rule == validate.RuleSecretNotEncrypted || f.Rule == validate.RuleSOPSRuleMissing {
					got = append(got, located{f.Rule, f.Severity, f.File, f.Line})
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s\n%+v", diff, rep.Findings)
			}
		})
	}
}

// TestImagePolicyKinds: no policy kind is an error; two kinds are a
// warning naming the one image-reflector-controller applies.
func TestImagePolicyKinds(t *testing.T) {
	cluster, err := os.ReadFile(filepath.Join("testdata", "rules", "image-policy-invalid", "pass", "clusters", "test", "app.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	policy := func(name, body string) string {
		return "apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImagePolicy\nmetadata:\n  name: " + name +
			"\n  namespace: flux-system\nspec:\n  imageRepositoryRef:\n    name: web\n  policy:" + body + "\n"
	}
	dir := testenv.WriteTree(t, map[string]string{
		"clusters/test/app.yaml": string(cluster),
		"app/two.yaml":           policy("two", "\n    numerical: {order: asc}\n    alphabetical: {order: desc}"),
		"app/none.yaml":          policy("none", " {}"),
	})
	rep := run(t, dir, fleet.Options{}, validate.Options{})
	var got []string
	for _, f := range rep.Findings {
		if f.Rule == validate.RuleImagePolicyInvalid {
			got = append(got, fmt.Sprintf("%s %s:%d %s", f.Severity, f.File, f.Line, f.Message))
		}
	}
	want := []string{
		"error app/none.yaml:9 spec.policy must set one of semver, alphabetical, numerical",
		"warning app/two.yaml:9 spec.policy sets alphabetical and numerical: Flux applies alphabetical only",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
