package render_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/internal/testenv"
	"github.com/fluxgate/fluxgate/render"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/golden")

const fleets = "../testdata/fleets"

func renderDir(t *testing.T, dir string, workers int, paths ...string) (*fleet.Repo, *render.Result) {
	t.Helper()
	return renderDirOpts(t, dir, render.Options{Workers: workers, Paths: paths})
}

// renderDirOpts loads dir and renders it with opts (Dir is set here).
func renderDirOpts(t *testing.T, dir string, opts render.Options) (*fleet.Repo, *render.Result) {
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
	ctx := context.Background()
	repo, err := fleet.Load(ctx, root.FS(), fleet.Options{})
	if err != nil {
		t.Fatalf("load %s: %v", dir, err)
	}
	opts.Dir = abs
	if opts.CacheDir == "" {
		// Tests never touch the network: remote charts are chart-unavailable.
		opts.Offline, opts.CacheDir = true, t.TempDir()
	}
	res, err := render.Render(ctx, repo, opts)
	if err != nil {
		t.Fatalf("render %s: %v", dir, err)
	}
	return repo, res
}

// dump prints a render the way a reviewer reads it: each unit with its
// declaration, path and problems, then each object with its origin.
func dump(t *testing.T, res *render.Result) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, u := range res.Units {
		fmt.Fprintf(&b, "### %s %s (%s:%d) path=%s parent=%s failed=%v\n", u.Cluster, u.ID, u.File, u.Line, u.Path, u.Parent, u.Failed)
		for _, p := range u.Problems {
			fmt.Fprintf(&b, "# problem: %s\n", p.String())
		}
		for _, o := range u.Objects {
			y, err := yaml.Marshal(o.Value())
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "--- # from %s:%d\n%s", o.File, o.Line, y)
		}
	}
	return b.Bytes()
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./render -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got), run with -update if intended:\n%s", name, diff)
	}
}

func TestRenderExampleFleetGolden(t *testing.T) {
	_, res := renderDir(t, filepath.Join(fleets, "fleet-infra"), 2)
	if diff := cmp.Diff([]string{"clusters/production", "clusters/staging"}, res.Clusters); diff != "" {
		t.Errorf("clusters (-want +got):\n%s", diff)
	}
	golden(t, "fleet-infra.txt", dump(t, res))
}

func TestRenderIsStableAcrossRunsAndWorkers(t *testing.T) {
	_, first := renderDir(t, filepath.Join(fleets, "fleet-infra"), 1)
	want := dump(t, first)
	for _, workers := range []int{1, 2, 4, 8} {
		for run := 0; run < 2; run++ {
			_, res := renderDir(t, filepath.Join(fleets, "fleet-infra"), workers)
			if got := dump(t, res); !bytes.Equal(want, got) {
				t.Fatalf("workers=%d run=%d: output differs:\n%s", workers, run, cmp.Diff(string(want), string(got)))
			}
		}
	}
}

// TestRenderCompact checks that a render holding its objects as JSON
// (Options.Compact) has the same units and objects, and that lookups
// (substituteFrom, valuesFrom, chart sources) find compacted objects.
func TestRenderCompact(t *testing.T) {
	for _, name := range []string{"fleet-infra", "plain-overlays", "patterns", "broken", "keys"} {
		t.Run(name, func(t *testing.T) {
			_, res := renderDirOpts(t, filepath.Join(fleets, name), render.Options{Workers: 2})
			_, compact := renderDirOpts(t, filepath.Join(fleets, name), render.Options{Workers: 2, Compact: true})
			if diff := cmp.Diff(string(dump(t, res)), string(dump(t, compact))); diff != "" {
				t.Fatalf("render (-maps +compact):\n%s", diff)
			}
			for i, u := range compact.Units {
				for k, o := range u.Objects {
					want := res.Units[i].Objects[k]
					wantAPI, wantKind := want.GVK()
					api, kind := o.GVK()
					if o.Object != nil || o.Ref() != want.Ref() || api != wantAPI || kind != wantKind {
						t.Errorf("%s: object %d: compacted=%v ref %q api %q kind %q, want %q %q %q", u.ID, k, o.Object == nil, o.Ref(), api, kind, want.Ref(), wantAPI, wantKind)
					}
				}
			}
		})
	}
}

// TestRenderCheckedRelease checks Options.Checked: it sees every unit
// once, and releasing every object there leaves the lookups of later
// units (which read ConfigMaps, Secrets and Flux objects, kept) working:
// the render equals one that keeps everything but the JSON of the
// released objects, whose kind, name and origin stay.
func TestRenderCheckedRelease(t *testing.T) {
	for _, name := range []string{"fleet-infra", "patterns"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(fleets, name)
			_, want := renderDirOpts(t, dir, render.Options{Workers: 2, Compact: true})
			var mu sync.Mutex
			seen := map[*render.Unit]int{}
			_, got := renderDirOpts(t, dir, render.Options{Workers: 2, Compact: true, Checked: func(u *render.Unit) {
				mu.Lock()
				seen[u]++
				mu.Unlock()
				for _, o := range u.Objects {
					o.Release()
				}
			}})
			if len(got.Units) != len(want.Units) {
				t.Fatalf("%d units, want %d", len(got.Units), len(want.Units))
			}
			released := 0
			for i, u := range got.Units {
				w := want.Units[i]
				if seen[u] != 1 {
					t.Errorf("%s: Checked called %d times", u.ID, seen[u])
				}
				if u.ID != w.ID || u.Hash != w.Hash || !cmp.Equal(u.Problems, w.Problems) || len(u.Objects) != len(w.Objects) {
					t.Fatalf("unit %s (%d objects, problems %v), want %s (%d objects, problems %v)", u.ID, len(u.Objects), u.Problems, w.ID, len(w.Objects), w.Problems)
				}
				for k, o := range u.Objects {
					wo := w.Objects[k]
					api, kind := o.GVK()
					wantAPI, wantKind := wo.GVK()
					ns, n := o.NamespacedName()
					wantNS, wantName := wo.NamespacedName()
					if o.Ref() != wo.Ref() || api != wantAPI || kind != wantKind || ns != wantNS || n != wantName || o.File != wo.File || o.Line != wo.Line {
						t.Errorf("%s: object %d is %s %s, want %s %s", u.ID, k, api, o.Ref(), wantAPI, wo.Ref())
					}
					group, _, _ := strings.Cut(api, "/")
					lookedUp := kind == "ConfigMap" || kind == "Secret" || fleet.IsFluxGroup(group)
					switch {
					case o.Released():
						released++
						if lookedUp || o.Value() != nil {
							t.Errorf("%s: %s released", u.ID, o.Ref())
						}
					case lookedUp:
						if !cmp.Equal(o.Value(), wo.Value()) {
							t.Errorf("%s: %s kept with another value", u.ID, o.Ref())
						}
					default:
						t.Errorf("%s: %s not released", u.ID, o.Ref())
					}
				}
			}
			if released == 0 {
				t.Error("nothing released")
			}
		})
	}
}

func TestRenderPlainOverlays(t *testing.T) {
	_, res := renderDir(t, filepath.Join(fleets, "plain-overlays"), 2)
	golden(t, "plain-overlays.txt", dump(t, res))
	var ids []string
	for _, u := range res.Units {
		ids = append(ids, u.ID)
	}
	if diff := cmp.Diff([]string{"Overlay/overlays/dev", "Overlay/overlays/prod"}, ids); diff != "" {
		t.Errorf("units (-want +got):\n%s", diff)
	}
}

// findObject returns the object Kind/namespace/name of a unit.
func findObject(res *render.Result, cluster, unit, ref string) *render.Object {
	for _, u := range res.Units {
		if u.Cluster != cluster || u.ID != unit {
			continue
		}
		for _, o := range u.Objects {
			if o.Ref() == ref {
				return o
			}
		}
	}
	return nil
}

func TestRenderFluxSemantics(t *testing.T) {
	_, res := renderDir(t, filepath.Join(fleets, "fleet-infra"), 2)
	tests := []struct {
		name               string
		cluster, unit, obj string
		field              []string
		want               string
		wantFile           string
		wantLine           int
	}{
		{
			name:    "substituteFrom cluster-settings ConfigMap",
			cluster: "clusters/production", unit: "Kustomization/flux-system/apps", obj: "ConfigMap/apps/backend-config",
			field: []string{"data", "CLUSTER_NAME"}, want: "production-eu1",
			wantFile: "apps/base/backend/configmap.yaml", wantLine: 1,
		},
		{
			name:    "substitute disabled annotation keeps the literal",
			cluster: "clusters/production", unit: "Kustomization/flux-system/apps", obj: "ConfigMap/apps/backend-migrate-script",
			field: []string{"data", "migrate.sh"}, want: "#!/bin/sh\nset -eu\n: \"${DATABASE_URL:?DATABASE_URL must be set}\"\necho \"migrating ${NOT_A_VAR} on ${HOSTNAME:-unknown}\"\nexec /app/backend migrate --url \"${DATABASE_URL}\"\n",
		},
		{
			name:    "parent patches reach the child: production team-a gets tenant-settings",
			cluster: "clusters/production", unit: "Kustomization/team-a/team-a", obj: "ConfigMap/team-a/podinfo-config",
			field: []string{"data", "ui-message"}, want: "Hello from team-a on production-eu1",
		},
		{
			name:    "without the parent patch the default applies (staging)",
			cluster: "clusters/staging", unit: "Kustomization/team-a/team-a", obj: "ConfigMap/team-a/podinfo-config",
			field: []string{"data", "ui-message"}, want: "Hello from team-a on unknown",
		},
		{
			name:    "parent patch sets the child's interval",
			cluster: "clusters/production", unit: "Kustomization/flux-system/apps", obj: "Kustomization/team-a/team-a",
			field: []string{"spec", "interval"}, want: "30m",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := findObject(res, tt.cluster, tt.unit, tt.obj)
			if o == nil {
				t.Fatalf("%s not rendered by %s in %s", tt.obj, tt.unit, tt.cluster)
			}
			got := nested(o.Object, tt.field...)
			if got != tt.want {
				t.Errorf("%s = %q, want %q", strings.Join(tt.field, "."), got, tt.want)
			}
			if tt.wantFile != "" && (o.File != tt.wantFile || o.Line != tt.wantLine) {
				t.Errorf("origin = %s:%d, want %s:%d", o.File, o.Line, tt.wantFile, tt.wantLine)
			}
		})
	}
}

func nested(obj map[string]any, fields ...string) string {
	var cur any = obj
	for _, f := range fields {
		m, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = m[f]
	}
	s, _ := cur.(string)
	return s
}

func TestRenderOriginAnnotationsAreStripped(t *testing.T) {
	_, res := renderDir(t, filepath.Join(fleets, "fleet-infra"), 2)
	for _, u := range res.Units {
		for _, o := range u.Objects {
			md, _ := o.Object["metadata"].(map[string]any)
			ann, _ := md["annotations"].(map[string]any)
			if _, ok := ann["config.kubernetes.io/origin"]; ok {
				t.Errorf("%s in %s keeps the origin annotation", o.Ref(), u.ID)
			}
			if o.File == "" {
				t.Errorf("%s in %s has no origin file", o.Ref(), u.ID)
			}
		}
	}
}

func TestRenderDoesNotWriteToTheTree(t *testing.T) {
	src := filepath.Join(fleets, "fleet-infra")
	before := treeDigest(t, src)
	renderDir(t, src, 2)
	if after := treeDigest(t, src); before != after {
		t.Fatalf("render changed the repository tree")
	}
}

func treeDigest(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s %d %v\n", p, info.Size(), info.ModTime().UnixNano())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestRenderUnitHashes(t *testing.T) {
	src := filepath.Join(fleets, "fleet-infra")
	_, a := renderDir(t, src, 2)
	_, b := renderDir(t, src, 1)
	hashes := map[string]string{}
	for _, u := range a.Units {
		if len(u.Hash) != 64 {
			t.Errorf("%s: hash %q", u.ID, u.Hash)
		}
		hashes[u.Cluster+" "+u.ID] = u.Hash
	}
	for _, u := range b.Units {
		if hashes[u.Cluster+" "+u.ID] != u.Hash {
			t.Errorf("%s %s: hash differs between runs", u.Cluster, u.ID)
		}
	}
	// A change to a file a unit reads changes that unit's hash only.
	dir := t.TempDir()
	testenv.CopyTree(t, src, dir)
	p := filepath.Join(dir, "teams", "team-a", "configmap.yaml")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, append(data, []byte("  extra: value\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	_, c := renderDir(t, dir, 2)
	for _, u := range c.Units {
		changed := hashes[u.Cluster+" "+u.ID] != u.Hash
		if want := u.ID == "Kustomization/team-a/team-a"; changed != want {
			t.Errorf("%s %s: hash changed = %v, want %v", u.Cluster, u.ID, changed, want)
		}
	}
}

// problemKey is what a broken-fleet test asserts: rule, file, line, object.
type problemKey struct {
	Rule, File string
	Line       int
	Object     string
}

func TestRenderBrokenFleets(t *testing.T) {
	tests := []struct {
		name string
		want []problemKey
	}{
		{"invalid-yaml", []problemKey{
			{"yaml-invalid", "apps/broken/configmap.yaml", 7, ""},
			{"render-failed", "clusters/test/broken.yaml", 1, "Kustomization/flux-system/broken"},
		}},
		{"missing-path", []problemKey{{"path-not-found", "clusters/test/broken.yaml", 1, "Kustomization/flux-system/broken"}}},
		{"missing-source", []problemKey{{"source-not-found", "clusters/test/broken.yaml", 1, "Kustomization/flux-system/broken"}}},
		{"unavailable-source", []problemKey{{"source-unavailable", "clusters/test/other-team.yaml", 12, "Kustomization/flux-system/other-team-apps"}}},
		{"kustomize-error", []problemKey{{"render-failed", "clusters/test/broken.yaml", 1, "Kustomization/flux-system/broken"}}},
		{"dependson-cycle", []problemKey{{"dependency-cycle", "clusters/test/cycle.yaml", 1, "Kustomization/flux-system/a"}}},
		{"alias-bomb", []problemKey{
			{"yaml-invalid", "apps/broken/bomb.yaml", 2, ""},
			{"render-failed", "clusters/test/broken.yaml", 1, "Kustomization/flux-system/broken"},
		}},
		{"path-escape", []problemKey{
			{"path-escape", "clusters/test/broken.yaml", 1, "Kustomization/flux-system/escape-path"},
			{"render-failed", "clusters/test/broken.yaml", 14, "Kustomization/flux-system/escape-resource"},
		}},
		{"invalid-target-namespace", []problemKey{{"render-failed", "clusters/test/broken.yaml", 1, "Kustomization/flux-system/broken"}}},
		{"undefined-var", []problemKey{{"substitution-undefined", "apps/broken/configmap.yaml", 8, "ConfigMap/default/substituted"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo, res := renderDir(t, filepath.Join(fleets, "broken", tt.name), 2)
			var got []problemKey
			for _, p := range append(append([]fleet.Problem(nil), repo.Problems...), res.Problems()...) {
				got = append(got, problemKey{p.Rule, p.File, p.Line, p.Object})
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			// The healthy sibling still renders.
			var healthy *render.Unit
			for _, u := range res.Units {
				if u.ID == "Kustomization/flux-system/healthy" {
					healthy = u
				}
			}
			if healthy == nil || healthy.Failed || len(healthy.Objects) == 0 {
				t.Errorf("healthy unit not rendered: %+v", healthy)
			}
		})
	}
}

func TestRenderRefusesWhatFluxRefuses(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		wantMsg string
	}{
		{
			name: "remote base without --allow-remote-bases",
			files: map[string]string{
				"app/kustomization.yaml": "resources:\n- https://github.com/example/base//deploy?ref=v1\n",
			},
			wantMsg: "remote bases are not allowed (use --allow-remote-bases): app/kustomization.yaml: https://github.com/example/base//deploy?ref=v1",
		},
		{
			name: "helmCharts generator",
			files: map[string]string{
				"app/kustomization.yaml": "helmCharts:\n- name: podinfo\n  repo: https://charts.example.com\n  version: 6.0.0\n",
			},
			wantMsg: "must specify --enable-helm",
		},
		{
			name: "exec plugin transformer",
			files: map[string]string{
				"app/kustomization.yaml": "resources:\n- cm.yaml\ntransformers:\n- plugin.yaml\n",
				"app/cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
				"app/plugin.yaml":        "apiVersion: example.com/v1\nkind: Evil\nmetadata:\n  name: x\n  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: /bin/sh\n",
			},
			wantMsg: "external plugins disabled",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, res := renderDir(t, testenv.WriteTree(t, tt.files), 1)
			if len(res.Units) != 1 || !res.Units[0].Failed {
				t.Fatalf("want one failed unit, got %+v", res.Units)
			}
			probs := res.Units[0].Problems
			if len(probs) != 1 || probs[0].Rule != fleet.RuleRenderFailed || !strings.Contains(probs[0].Message, tt.wantMsg) {
				t.Errorf("problems = %+v, want render-failed containing %q", probs, tt.wantMsg)
			}
		})
	}
}

func TestRenderSourceWithoutNamespaceInFile(t *testing.T) {
	// The GitRepository's namespace comes from its kustomization's
	// namespace field; the Kustomization refers to it by that namespace.
	dir := testenv.WriteTree(t, map[string]string{
		"clusters/prod/sources/kustomization.yaml": "namespace: flux-system\nresources:\n- repo.yaml\n",
		"clusters/prod/sources/repo.yaml": "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: fleet\nspec:\n" +
			"  interval: 1m\n  url: https://git.example.com/platform/fleet\n",
		"clusters/prod/apps.yaml": "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: flux-system\nspec:\n" +
			"  interval: 10m\n  path: ./apps\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: fleet\n",
		"apps/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: default\n",
	})
	repo, res := renderDir(t, dir, 2)
	if len(repo.Problems) != 0 || len(res.Problems()) != 0 {
		t.Fatalf("problems: %v %v", repo.Problems, res.Problems())
	}
	if o := findObject(res, "clusters/prod", "Kustomization/flux-system/apps", "ConfigMap/default/a"); o == nil {
		t.Fatalf("apps not rendered from the namespace-less source; units: %+v", res.Units)
	}
}

func TestRenderBuildsFromTheArtifactNotTheWorkTree(t *testing.T) {
	// source-controller leaves out .sourceignore matches and its default
	// exclusions (.github/, ...) when it packages the artifact, so a
	// generated kustomization.yaml never lists them.
	dir := testenv.WriteTree(t, map[string]string{
		".sourceignore":                 "app/dev-only.yaml\n",
		"app/deploy.yaml":               "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kept\n  namespace: default\n",
		"app/dev-only.yaml":             "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ignored\n  namespace: default\n",
		"app/.github/workflows/ci.yaml": "name: ci\non: push\njobs: {}\n",
		"clusters/prod/app.yaml": "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: app\n  namespace: flux-system\nspec:\n" +
			"  interval: 10m\n  path: ./app\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n",
	})
	_, res := renderDir(t, dir, 1, "clusters/prod")
	if p := res.Problems(); len(p) != 0 {
		t.Fatalf("problems: %v", p)
	}
	var refs []string
	for _, u := range res.Units {
		for _, o := range u.Objects {
			refs = append(refs, u.ID+" "+o.Ref())
		}
	}
	want := []string{"Kustomization/flux-system/app ConfigMap/default/kept", "Overlay/clusters/prod Kustomization/flux-system/app"}
	if diff := cmp.Diff(want, refs); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
}

func TestRenderExecFunctionsOnlyWhenEnabled(t *testing.T) {
	dir := testenv.WriteTree(t, map[string]string{
		"app/kustomization.yaml": "resources:\n- cm.yaml\ntransformers:\n- fn.yaml\n",
		"app/cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: default\n",
		"app/fn.yaml": "apiVersion: example.com/v1\nkind: AddLabel\nmetadata:\n  name: add\n  annotations:\n" +
			"    config.kubernetes.io/function: |\n      exec:\n        path: ./fn.sh\n",
		// A KRM function: reads the ResourceList, answers with one item.
		"app/fn.sh": "#!/bin/sh\ncat >/dev/null\nprintf '%s\\n' 'apiVersion: config.kubernetes.io/v1' 'kind: ResourceList' 'items:' " +
			"'- apiVersion: v1' '  kind: ConfigMap' '  metadata:' '    name: from-fn' '    namespace: default'\n",
	})
	if err := os.Chmod(filepath.Join(dir, "app", "fn.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, res := renderDir(t, dir, 1)
	if len(res.Units) != 1 || !res.Units[0].Failed {
		t.Fatalf("exec function ran without --enable-exec: %+v", res.Units)
	}
	abs, _ := filepath.Abs(dir)
	root, err := os.OpenRoot(abs)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	repo, err := fleet.Load(context.Background(), root.FS(), fleet.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err = render.Render(context.Background(), repo, render.Options{Dir: abs, EnableExec: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Units) != 1 || res.Units[0].Failed {
		t.Fatalf("with EnableExec: %+v", res.Units[0].Problems)
	}
	var refs []string
	for _, o := range res.Units[0].Objects {
		refs = append(refs, o.Ref())
	}
	if diff := cmp.Diff([]string{"ConfigMap/default/from-fn"}, refs); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
}

func TestRenderBootstrapKustomizationPatchedByItsOwnBuild(t *testing.T) {
	// clusters/prod/flux-system/kustomization.yaml patches the flux-system
	// Kustomization itself; once applied, Flux builds the cluster with the
	// patched spec.
	sync := "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n" +
		"  interval: 1m\n  url: https://git.example.com/fleet\n  ref:\n    branch: main\n---\n" +
		"apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n" +
		"  interval: 10m\n  path: ./clusters/prod\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
	dir := testenv.WriteTree(t, map[string]string{
		"clusters/prod/flux-system/gotk-sync.yaml": sync,
		"clusters/prod/flux-system/kustomization.yaml": "resources:\n- gotk-sync.yaml\npatches:\n- target:\n    kind: Kustomization\n    name: flux-system\n" +
			"  patch: |\n    - op: add\n      path: /spec/postBuild\n      value:\n        substitute:\n          CLUSTER_NAME: prod-eu\n",
		"clusters/prod/settings.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: default\ndata:\n  cluster: ${CLUSTER_NAME}\n",
	})
	_, res := renderDir(t, dir, 2)
	if p := res.Problems(); len(p) != 0 {
		t.Fatalf("problems: %v", p)
	}
	o := findObject(res, "clusters/prod", "Kustomization/flux-system/flux-system", "ConfigMap/default/settings")
	if o == nil {
		t.Fatalf("settings not rendered: %+v", res.Units)
	}
	if got := nested(o.Object, "data", "cluster"); got != "prod-eu" {
		t.Errorf("data.cluster = %q, want the value the patched bootstrap spec substitutes", got)
	}
}

func TestRenderSubstituteFromObjectTheUnitGenerates(t *testing.T) {
	// The unit's own configMapGenerator makes cluster-settings; Flux reads
	// it from the cluster, where the previous apply put it.
	dir := testenv.WriteTree(t, map[string]string{
		"clusters/prod/flux.yaml": "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: flux\n  namespace: flux-system\nspec:\n" +
			"  interval: 10m\n  path: ./flux\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n" +
			"  postBuild:\n    substituteFrom:\n      - kind: ConfigMap\n        name: cluster-settings\n",
		"flux/kustomization.yaml": "namespace: flux-system\nresources:\n- repo.yaml\nconfigMapGenerator:\n- name: cluster-settings\n  envs:\n  - settings.env\n" +
			"generatorOptions:\n  disableNameSuffixHash: true\n",
		"flux/settings.env": "DOMAIN=example.org\n",
		"flux/repo.yaml":    "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n  name: charts\nspec:\n  interval: 1h\n  url: https://charts.${DOMAIN}/stable\n",
	})
	_, res := renderDir(t, dir, 2, "clusters/prod")
	if p := res.Problems(); len(p) != 0 {
		t.Fatalf("problems: %v", p)
	}
	o := findObject(res, "clusters/prod", "Kustomization/flux-system/flux", "HelmRepository/flux-system/charts")
	if o == nil {
		t.Fatalf("HelmRepository not rendered")
	}
	if got := nested(o.Object, "spec", "url"); got != "https://charts.example.org/stable" {
		t.Errorf("spec.url = %q", got)
	}
}
