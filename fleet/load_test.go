package fleet_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/internal/testenv"
)

// fleetsDir holds the example fleets shared by every package's tests.
const fleetsDir = "../testdata/fleets"

// loadDir loads dir through an os.Root, as the CLI does.
func loadDir(t *testing.T, dir string, opts fleet.Options) *fleet.Repo {
	t.Helper()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	r, err := fleet.Load(context.Background(), root.FS(), opts)
	if err != nil {
		t.Fatalf("Load(%s): %v", dir, err)
	}
	return r
}

// load writes files into a temporary tree and loads it.
func load(t *testing.T, files map[string]string, opts fleet.Options) *fleet.Repo {
	t.Helper()
	return loadDir(t, testenv.WriteTree(t, files), opts)
}

// ignoreMessage compares problems by rule, severity, file, line and object;
// messages are checked separately where they matter.
var ignoreMessage = cmpopts.IgnoreFields(fleet.Problem{}, "Message")

// kustomization returns a Flux Kustomization manifest.
func kustomization(name, namespace, path, sourceKind, sourceName string, dependsOn ...string) string {
	var b strings.Builder
	b.WriteString("apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n")
	b.WriteString("  name: " + name + "\n  namespace: " + namespace + "\n")
	b.WriteString("spec:\n  interval: 10m\n  prune: true\n  path: " + path + "\n")
	b.WriteString("  sourceRef:\n    kind: " + sourceKind + "\n    name: " + sourceName + "\n")
	if len(dependsOn) > 0 {
		b.WriteString("  dependsOn:\n")
		for _, d := range dependsOn {
			if ns, n, ok := strings.Cut(d, "/"); ok {
				b.WriteString("    - name: " + n + "\n      namespace: " + ns + "\n")
			} else {
				b.WriteString("    - name: " + d + "\n")
			}
		}
	}
	return b.String()
}

// gitRepository returns a Flux GitRepository manifest.
func gitRepository(name, namespace, url string) string {
	return "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n" +
		"  name: " + name + "\n  namespace: " + namespace + "\n" +
		"spec:\n  interval: 1m\n  ref:\n    branch: main\n  url: " + url + "\n"
}

func configMap(name string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\ndata:\n  key: value\n"
}

// docPos is where a document was found.
type docPos struct {
	Index int
	Line  int
	Ref   string
}

func TestLoadDocumentLines(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    []docPos
	}{
		{
			name:    "single document",
			content: configMap("a"),
			want:    []docPos{{Index: 0, Line: 1, Ref: "ConfigMap/a"}},
		},
		{
			name:    "leading comments and blank lines",
			content: "# A config map.\n\n# Another comment.\n" + configMap("a"),
			want:    []docPos{{Index: 0, Line: 4, Ref: "ConfigMap/a"}},
		},
		{
			name:    "leading separator",
			content: "---\n" + configMap("a"),
			want:    []docPos{{Index: 0, Line: 2, Ref: "ConfigMap/a"}},
		},
		{
			name: "several documents with comments and separators",
			content: "# header\n" + // 1
				"---\n" + // 2
				"# first\n" + // 3
				configMap("a") + // 4-9
				"---\n" + // 10
				"\n" + // 11
				"# second\n" + // 12
				"# (two comment lines)\n" + // 13
				"apiVersion: v1\n" + // 14
				"kind: Secret\n" +
				"metadata:\n" +
				"  name: b\n" +
				"  namespace: ns\n" + // 18
				"--- # trailing comment on the separator\n" + // 19
				configMap("c") + // 20-25
				"...\n", // 26
			want: []docPos{
				{Index: 0, Line: 4, Ref: "ConfigMap/a"},
				{Index: 1, Line: 14, Ref: "Secret/ns/b"},
				{Index: 2, Line: 20, Ref: "ConfigMap/c"},
			},
		},
		{
			name: "documents that are not objects keep their index",
			content: "just: values\n" + // index 0, no apiVersion/kind
				"---\n" +
				"- a\n- list\n" + // index 1, not a mapping
				"---\n" +
				"apiVersion: v1\n" + // index 2, no kind
				"---\n" +
				"kind: ConfigMap\n" + // index 3, no apiVersion
				"---\n" +
				configMap("a"), // index 4, line 10
			want: []docPos{{Index: 4, Line: 10, Ref: "ConfigMap/a"}},
		},
		{
			name:    "empty documents between separators",
			content: configMap("a") + "---\n---\n" + configMap("b"),
			want: []docPos{
				{Index: 0, Line: 1, Ref: "ConfigMap/a"},
				{Index: 2, Line: 9, Ref: "ConfigMap/b"},
			},
		},
		{
			name:    "CRLF line endings",
			content: strings.ReplaceAll("# c\n"+configMap("a")+"---\n"+configMap("b"), "\n", "\r\n"),
			want: []docPos{
				{Index: 0, Line: 2, Ref: "ConfigMap/a"},
				{Index: 1, Line: 9, Ref: "ConfigMap/b"},
			},
		},
		{
			name:    "flow mapping",
			content: "\n{apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n",
			want:    []docPos{{Index: 0, Line: 2, Ref: "ConfigMap/a"}},
		},
		{
			name:    "no documents",
			content: "# only a comment\n",
			want:    nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := load(t, map[string]string{"manifests.yaml": tt.content}, fleet.Options{})
			if len(r.Problems) > 0 {
				t.Fatalf("unexpected problems: %v", r.Problems)
			}
			var got []docPos
			for _, d := range r.DocsInFile("manifests.yaml") {
				if d.File != "manifests.yaml" {
					t.Errorf("doc %s: File = %q", d.Ref(), d.File)
				}
				got = append(got, docPos{Index: d.Index, Line: d.Line, Ref: d.Ref()})
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("documents (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(r.DocsInFile("manifests.yaml"), r.Docs, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Docs differ from DocsInFile (-DocsInFile +Docs):\n%s", diff)
			}
		})
	}
}

func TestLoadDocumentFields(t *testing.T) {
	r := load(t, map[string]string{
		"apps/app.yml": `# comment
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels:
    app: web
spec:
  replicas: 3
  ratio: 0.5
  enabled: true
  nothing: null
  date: 2024-01-02
  huge: 18446744073709551615
  quoted: "42"
  ints: [1, 2]
  1: numeric key
  anchored: &x {a: 1}
  aliased: *x
`,
	}, fleet.Options{})
	if len(r.Problems) > 0 {
		t.Fatalf("unexpected problems: %v", r.Problems)
	}
	if len(r.Docs) != 1 {
		t.Fatalf("got %d docs, want 1", len(r.Docs))
	}
	d := r.Docs[0]
	type fields struct {
		File, APIVersion, Kind, Name, Namespace, Group, Version, Ref string
		Line, Index                                                  int
	}
	got := fields{
		File: d.File, APIVersion: d.APIVersion, Kind: d.Kind, Name: d.Name, Namespace: d.Namespace,
		Group: d.Group(), Version: d.Version(), Ref: d.Ref(), Line: d.Line, Index: d.Index,
	}
	want := fields{
		File: "apps/app.yml", APIVersion: "apps/v1", Kind: "Deployment", Name: "web", Namespace: "shop",
		Group: "apps", Version: "v1", Ref: "Deployment/shop/web", Line: 2, Index: 0,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("document fields (-want +got):\n%s", diff)
	}
	// The object is JSON-compatible: int64, float64, string keys, and the
	// timestamp kept as written.
	wantObj := map[string]any{
		"apiVersion": "apps/v1",
		"kind":       "Deployment",
		"metadata": map[string]any{
			"name": "web", "namespace": "shop",
			"labels": map[string]any{"app": "web"},
		},
		"spec": map[string]any{
			"replicas": int64(3),
			"ratio":    0.5,
			"enabled":  true,
			"nothing":  nil,
			"date":     "2024-01-02",
			"huge":     float64(18446744073709551615),
			"quoted":   "42",
			"ints":     []any{int64(1), int64(2)},
			"1":        "numeric key",
			"anchored": map[string]any{"a": int64(1)},
			"aliased":  map[string]any{"a": int64(1)},
		},
	}
	if diff := cmp.Diff(wantObj, d.Object); diff != "" {
		t.Errorf("Object (-want +got):\n%s", diff)
	}
	if got := r.Lookup("Deployment", "shop", "web"); len(got) != 1 || got[0] != d {
		t.Errorf("Lookup(Deployment, shop, web) = %v, want the document", got)
	}
	if got := r.Lookup("Deployment", "", "web"); len(got) != 0 {
		t.Errorf("Lookup without namespace = %v, want none", got)
	}
}

func TestDocumentCoreGroup(t *testing.T) {
	d := &fleet.Document{APIVersion: "v1", Kind: "ConfigMap", Name: "a"}
	if d.Group() != "" || d.Version() != "v1" || d.Ref() != "ConfigMap/a" {
		t.Errorf("Group, Version, Ref = %q, %q, %q; want \"\", v1, ConfigMap/a", d.Group(), d.Version(), d.Ref())
	}
	if got := fleet.ObjectRef("Kustomization", "flux-system", "apps"); got != "Kustomization/flux-system/apps" {
		t.Errorf("ObjectRef = %q", got)
	}
}

func TestLoadTree(t *testing.T) {
	r := load(t, map[string]string{
		"README.md":                  "# not YAML\n",
		"config.json":                `{"apiVersion": "v1", "kind": "ConfigMap"}`,
		".git/config.yaml":           configMap("git"),
		"apps/a.yaml":                configMap("a"),
		"apps/b.yml":                 configMap("b"),
		"apps/nested/deep/c.yaml":    configMap("c"),
		"base/Kustomization":         "resources:\n  - cm.yaml\n",
		"base/cm.yaml":               configMap("base"),
		"values/values.yaml":         "replicaCount: 2\nimage:\n  tag: latest\n",
		"empty/.keep":                "",
		"workflows/not-ignored.yaml": "on: push\njobs: {}\n",
		"apps/nested/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\n" +
			"kind: Kustomization\nresources:\n  - deep\n",
	}, fleet.Options{})
	if len(r.Problems) > 0 {
		t.Fatalf("unexpected problems: %v", r.Problems)
	}
	wantFiles := []string{
		"apps/a.yaml",
		"apps/b.yml",
		"apps/nested/deep/c.yaml",
		"apps/nested/kustomization.yaml",
		"base/Kustomization",
		"base/cm.yaml",
		"values/values.yaml",
		"workflows/not-ignored.yaml",
	}
	if diff := cmp.Diff(wantFiles, r.Files); diff != "" {
		t.Errorf("Files (-want +got):\n%s", diff)
	}
	// Tree is every file Flux would package, YAML or not, in walk order.
	wantTree := []string{
		"README.md",
		"apps/a.yaml",
		"apps/b.yml",
		"apps/nested/deep/c.yaml",
		"apps/nested/kustomization.yaml",
		"base/Kustomization",
		"base/cm.yaml",
		"config.json",
		"empty/.keep",
		"values/values.yaml",
		"workflows/not-ignored.yaml",
	}
	if diff := cmp.Diff(wantTree, r.Tree); diff != "" {
		t.Errorf("Tree (-want +got):\n%s", diff)
	}
	if r.HasIgnored {
		t.Errorf("HasIgnored = true; .git is not an ignore rule")
	}
	wantDirs := []string{".", "apps", "apps/nested", "apps/nested/deep", "base", "empty", "values", "workflows"}
	if diff := cmp.Diff(wantDirs, r.Dirs); diff != "" {
		t.Errorf("Dirs (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		dir  string
		want bool
	}{
		{".", true}, {"apps", true}, {"apps/nested/", true}, {"./apps/nested/deep", true},
		{".git", false}, {"missing", false}, {"apps/a.yaml", false},
	} {
		if got := r.IsDir(tc.dir); got != tc.want {
			t.Errorf("IsDir(%q) = %v, want %v", tc.dir, got, tc.want)
		}
	}
	for _, tc := range []struct {
		dir  string
		want bool
	}{
		{"apps/nested", true}, {"base", true}, {"base/", true}, {"apps", false}, {".", false},
	} {
		if got := r.HasKustomizationFile(tc.dir); got != tc.want {
			t.Errorf("HasKustomizationFile(%q) = %v, want %v", tc.dir, got, tc.want)
		}
	}
	if got := r.DocsInFile("values/values.yaml"); len(got) != 0 {
		t.Errorf("values.yaml produced documents: %v", got)
	}
	if got := r.DocsInFile("workflows/not-ignored.yaml"); len(got) != 0 {
		t.Errorf("workflow produced documents: %v", got)
	}
	if len(r.Flux) != 0 {
		t.Errorf("Flux = %v, want none", r.Flux)
	}
	if len(r.Unsafe) != 0 || len(r.Ignored) != 0 {
		t.Errorf("Unsafe = %v, Ignored = %v; want none", r.Unsafe, r.Ignored)
	}
}

func TestLoadProblems(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		opts  fleet.Options
		want  []fleet.Problem
		// wantMessage holds a substring of each problem's message.
		wantMessage []string
		// wantDocs lists the documents still loaded.
		wantDocs []string
	}{
		{
			name: "syntax error in the second document",
			files: map[string]string{"bad.yaml": configMap("first") + // 1-6
				"---\n" + // 7
				"apiVersion: v1\nkind: ConfigMap\nmetadata:\n" + // 8-10
				"  name: [second\n"}, // 11
			want:        []fleet.Problem{{Rule: fleet.RuleYAMLInvalid, Severity: fleet.SeverityError, File: "bad.yaml", Line: 11}},
			wantMessage: []string{"invalid YAML: line 11: did not find expected ',' or ']'"},
			wantDocs:    []string{"ConfigMap/first"},
		},
		// The YAML library counts lines from 0 in parser errors and from 1
		// in scanner errors; problems count from 1.
		{
			name:        "block mapping: expected key",
			files:       map[string]string{"key.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n labels: {}\n"},
			want:        []fleet.Problem{{Rule: fleet.RuleYAMLInvalid, Severity: fleet.SeverityError, File: "key.yaml", Line: 5}},
			wantMessage: []string{"invalid YAML: line 5: did not find expected key"},
		},
		{
			// Reported where the unfinished sequence starts.
			name:        "block sequence: expected '-' indicator",
			files:       map[string]string{"seq.yaml": "# c\n- a\n- b\nc: d\n"},
			want:        []fleet.Problem{{Rule: fleet.RuleYAMLInvalid, Severity: fleet.SeverityError, File: "seq.yaml", Line: 2}},
			wantMessage: []string{"invalid YAML: line 2: did not find expected '-' indicator"},
		},
		{
			name:        "undefined tag handle",
			files:       map[string]string{"tag.yaml": configMap("a") + "---\napiVersion: v1\nkind: !x!y ConfigMap\n"},
			want:        []fleet.Problem{{Rule: fleet.RuleYAMLInvalid, Severity: fleet.SeverityError, File: "tag.yaml", Line: 9}},
			wantMessage: []string{"invalid YAML: line 9: found undefined tag handle"},
			wantDocs:    []string{"ConfigMap/a"},
		},
		{
			name:        "flow mapping not closed",
			files:       map[string]string{"flow.yaml": "x: 1\n---\na: {1: 2\nb: 3\n"},
			want:        []fleet.Problem{{Rule: fleet.RuleYAMLInvalid, Severity: fleet.SeverityError, File: "flow.yaml", Line: 3}},
			wantMessage: []string{"invalid YAML: line 3: did not find expected ',' or '}'"},
		},
		{
			name:        "tab indentation",
			files:       map[string]string{"tab.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: x\n"},
			want:        []fleet.Problem{{Rule: fleet.RuleYAMLInvalid, Severity: fleet.SeverityError, File: "tab.yaml", Line: 4}},
			wantMessage: []string{"invalid YAML: line 4: found character that cannot start any token"},
		},
		{
			name: "duplicate key reported on one line",
			files: map[string]string{"dup.yaml": "# c\napiVersion: v1\nkind: ConfigMap\nmetadata:\n" +
				"  name: a\n  name: b\n"},
			want:        []fleet.Problem{{Rule: fleet.RuleYAMLInvalid, Severity: fleet.SeverityError, File: "dup.yaml", Line: 6}},
			wantMessage: []string{`invalid YAML: unmarshal errors: line 6: mapping key "name" already defined at line 5`},
		},
		{
			name: "problems in several files, sorted by file",
			files: map[string]string{
				"z.yaml":     "a: [\n",
				"a/b.yaml":   "x: y\n  z: w\n",
				"good.yaml":  configMap("good"),
				"a/ok.yaml":  configMap("ok"),
				"m/big.yaml": configMap("big") + strings.Repeat("# padding\n", 20),
			},
			opts: fleet.Options{MaxFileSize: 150},
			want: []fleet.Problem{
				{Rule: fleet.RuleYAMLInvalid, Severity: fleet.SeverityError, File: "a/b.yaml", Line: 2},
				{Rule: fleet.RuleFileTooLarge, Severity: fleet.SeverityError, File: "m/big.yaml"},
				{Rule: fleet.RuleYAMLInvalid, Severity: fleet.SeverityError, File: "z.yaml", Line: 2},
			},
			wantMessage: []string{
				"invalid YAML: line 2: mapping values are not allowed in this context",
				"over the limit of 150 bytes",
				"invalid YAML: line 2: did not find expected node content",
			},
			wantDocs: []string{"ConfigMap/ok", "ConfigMap/good"},
		},
		{
			name: "templated file outside a chart is info",
			files: map[string]string{"deploy/template.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n" +
				"  name: {{ .Values.name }}\n  labels:\n    {{- include \"labels\" . | nindent 4 }}\n"},
			want:        []fleet.Problem{{Rule: fleet.RuleYAMLInvalid, Severity: fleet.SeverityInfo, File: "deploy/template.yaml", Line: 6}},
			wantMessage: []string{"not valid YAML (templated file), ignored: invalid YAML: line 6: did not find expected node content"},
		},
		{
			name: "templated file that is valid YAML loads",
			files: map[string]string{"deploy/quoted.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n" +
				"  name: \"{{ .Values.name }}\"\n"},
			wantDocs: []string{"ConfigMap/{{ .Values.name }}"},
		},
		{
			name: "invalid YAML without templates stays an error",
			files: map[string]string{"deploy/broken.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n" +
				"  name: x\n   bad: indent\n"},
			want: []fleet.Problem{{Rule: fleet.RuleYAMLInvalid, Severity: fleet.SeverityError, File: "deploy/broken.yaml", Line: 5}},
		},
		{
			name: "Flux object that does not decode",
			files: map[string]string{"clusters/bad.yaml": configMap("before") + "---\n" +
				"apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n" +
				"  name: bad\n  namespace: flux-system\nspec:\n  path: [a, b]\n"},
			want: []fleet.Problem{{
				Rule: fleet.RuleYAMLInvalid, Severity: fleet.SeverityError, File: "clusters/bad.yaml", Line: 8,
				Object: "Kustomization/flux-system/bad",
			}},
			wantMessage: []string{"decode Kustomization/flux-system/bad (clusters/bad.yaml:8): json: cannot unmarshal array"},
			wantDocs:    []string{"ConfigMap/before", "Kustomization/flux-system/bad"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := load(t, tt.files, tt.opts)
			if diff := cmp.Diff(tt.want, r.Problems, ignoreMessage, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Problems (-want +got):\n%s", diff)
			}
			for i, sub := range tt.wantMessage {
				if i < len(r.Problems) && !strings.Contains(r.Problems[i].Message, sub) {
					t.Errorf("problem %d message = %q, want it to contain %q", i, r.Problems[i].Message, sub)
				}
			}
			for _, p := range r.Problems {
				if strings.Contains(p.Message, "\n") {
					t.Errorf("problem message spans lines: %q", p.Message)
				}
			}
			var docs []string
			for _, d := range r.Docs {
				docs = append(docs, d.Ref())
			}
			if diff := cmp.Diff(tt.wantDocs, docs); diff != "" {
				t.Errorf("Docs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadFluxVersions(t *testing.T) {
	tests := []struct {
		apiVersion  string
		kind        string
		extra       string
		wantKnown   bool
		wantCurrent string
		// wantTyped is the Go type the object decodes into; nil for none.
		wantTyped any
	}{
		{apiVersion: "kustomize.toolkit.fluxcd.io/v1", kind: "Kustomization", wantKnown: true, wantTyped: &kustomizev1.Kustomization{}},
		{apiVersion: "kustomize.toolkit.fluxcd.io/v1beta2", kind: "Kustomization", wantKnown: true, wantCurrent: "v1", wantTyped: &kustomizev1.Kustomization{}},
		{apiVersion: "kustomize.toolkit.fluxcd.io/v1beta1", kind: "Kustomization", wantKnown: true, wantCurrent: "v1", wantTyped: &kustomizev1.Kustomization{}},
		{apiVersion: "kustomize.toolkit.fluxcd.io/v9", kind: "Kustomization", wantKnown: false},
		{apiVersion: "helm.toolkit.fluxcd.io/v2", kind: "HelmRelease", wantKnown: true, wantTyped: &helmv2.HelmRelease{}},
		{apiVersion: "helm.toolkit.fluxcd.io/v2beta2", kind: "HelmRelease", wantKnown: true, wantCurrent: "v2", wantTyped: &helmv2.HelmRelease{}},
		{apiVersion: "helm.toolkit.fluxcd.io/v2beta1", kind: "HelmRelease", wantKnown: true, wantCurrent: "v2", wantTyped: &helmv2.HelmRelease{}},
		{apiVersion: "helm.toolkit.fluxcd.io/v1", kind: "HelmRelease", wantKnown: false},
		{apiVersion: "source.toolkit.fluxcd.io/v1", kind: "GitRepository", wantKnown: true, wantTyped: &sourcev1.GitRepository{}},
		{apiVersion: "source.toolkit.fluxcd.io/v1beta2", kind: "GitRepository", wantKnown: true, wantCurrent: "v1", wantTyped: &sourcev1.GitRepository{}},
		{apiVersion: "source.toolkit.fluxcd.io/v1beta2", kind: "OCIRepository", wantKnown: true, wantCurrent: "v1", wantTyped: &sourcev1.OCIRepository{}},
		{apiVersion: "source.toolkit.fluxcd.io/v1beta1", kind: "OCIRepository", wantKnown: false},
		{apiVersion: "source.toolkit.fluxcd.io/v1", kind: "Bucket", wantKnown: true, wantTyped: &sourcev1.Bucket{}},
		{apiVersion: "source.toolkit.fluxcd.io/v1", kind: "ExternalArtifact", wantKnown: true, wantTyped: &sourcev1.ExternalArtifact{}},
		{apiVersion: "source.toolkit.fluxcd.io/v1", kind: "NotAKind", wantKnown: false},
		{apiVersion: "notification.toolkit.fluxcd.io/v1beta3", kind: "Alert", wantKnown: true, wantCurrent: "v1"},
		{apiVersion: "notification.toolkit.fluxcd.io/v1beta2", kind: "Receiver", wantKnown: true, wantCurrent: "v1"},
		{apiVersion: "image.toolkit.fluxcd.io/v1beta2", kind: "ImagePolicy", wantKnown: true, wantCurrent: "v1"},
		{apiVersion: "source.extensions.fluxcd.io/v1beta1", kind: "ArtifactGenerator", wantKnown: true},
	}
	for _, tt := range tests {
		t.Run(tt.apiVersion+"/"+tt.kind, func(t *testing.T) {
			r := load(t, map[string]string{"flux.yaml": configMap("plain") + "---\n" +
				"apiVersion: " + tt.apiVersion + "\nkind: " + tt.kind + "\nmetadata:\n  name: obj\n  namespace: flux-system\n" +
				"spec:\n  interval: 5m\n"}, fleet.Options{})
			if len(r.Problems) > 0 {
				t.Fatalf("unexpected problems: %v", r.Problems)
			}
			if len(r.Docs) != 2 || len(r.Flux) != 1 {
				t.Fatalf("got %d docs, %d Flux objects; want 2 and 1", len(r.Docs), len(r.Flux))
			}
			fo := r.Flux[0]
			if fo.Doc != r.Docs[1] {
				t.Errorf("FluxObject.Doc is not the document")
			}
			if fo.Known != tt.wantKnown || fo.Current != tt.wantCurrent {
				t.Errorf("Known, Current = %v, %q; want %v, %q", fo.Known, fo.Current, tt.wantKnown, tt.wantCurrent)
			}
			if fo.DecodeError != nil {
				t.Errorf("DecodeError = %v", fo.DecodeError)
			}
			if tt.wantTyped != nil && reflect.TypeOf(fo.Typed) != reflect.TypeOf(tt.wantTyped) {
				t.Errorf("Typed is %T, want %T", fo.Typed, tt.wantTyped)
			}
			if tt.kind == "ArtifactGenerator" && fo.Typed != nil {
				t.Errorf("Typed = %T, want nil for a kind without a Go type", fo.Typed)
			}
			if got := r.FluxKind(tt.kind); len(got) != 1 || got[0] != fo {
				t.Errorf("FluxKind(%s) = %v, want the object", tt.kind, got)
			}
		})
	}
}

func TestLoadDeprecatedVersionsDecode(t *testing.T) {
	r := load(t, map[string]string{
		"clusters/prod/apps.yaml": `apiVersion: kustomize.toolkit.fluxcd.io/v1beta2
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  interval: 10m
  path: ./apps/prod
  prune: true
  validation: client
  sourceRef:
    kind: GitRepository
    name: flux-system
`,
		"apps/prod/release.yaml": `apiVersion: helm.toolkit.fluxcd.io/v2beta1
kind: HelmRelease
metadata:
  name: podinfo
  namespace: apps
spec:
  interval: 5m
  chart:
    spec:
      chart: podinfo
      version: "6.x"
      sourceRef:
        kind: HelmRepository
        name: podinfo
`,
	}, fleet.Options{})
	if len(r.Problems) > 0 {
		t.Fatalf("unexpected problems: %v", r.Problems)
	}
	ks := r.Kustomizations()
	if len(ks) != 1 {
		t.Fatalf("Kustomizations() = %d, want 1", len(ks))
	}
	k := ks[0].Kustomization()
	if ks[0].Doc.APIVersion != "kustomize.toolkit.fluxcd.io/v1beta2" || ks[0].Current != "v1" {
		t.Errorf("APIVersion, Current = %q, %q", ks[0].Doc.APIVersion, ks[0].Current)
	}
	if k.Spec.Path != "./apps/prod" || k.Spec.SourceRef.Name != "flux-system" || !k.Spec.Prune {
		t.Errorf("Kustomization spec = %+v", k.Spec)
	}
	hrs := r.FluxKind("HelmRelease")
	if len(hrs) != 1 {
		t.Fatalf("FluxKind(HelmRelease) = %d, want 1", len(hrs))
	}
	hr, ok := hrs[0].Typed.(*helmv2.HelmRelease)
	if !ok {
		t.Fatalf("Typed = %T", hrs[0].Typed)
	}
	if hrs[0].Current != "v2" || hr.Spec.Chart == nil || hr.Spec.Chart.Spec.Chart != "podinfo" || hr.Spec.Chart.Spec.SourceRef.Name != "podinfo" {
		t.Errorf("HelmRelease Current = %q, spec = %+v", hrs[0].Current, hr.Spec)
	}
	if hrs[0].Kustomization() != nil {
		t.Errorf("HelmRelease.Kustomization() is not nil")
	}
}

func TestLoadDecodeError(t *testing.T) {
	r := load(t, map[string]string{
		"clusters/bad.yaml": kustomization("good", "flux-system", "./apps", "GitRepository", "flux-system") +
			"---\n" +
			"apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: bad\n  namespace: flux-system\n" +
			"spec:\n  path:\n    - ./a\n    - ./b\n",
	}, fleet.Options{})
	if len(r.Flux) != 2 {
		t.Fatalf("Flux = %d objects, want 2", len(r.Flux))
	}
	bad := r.Flux[1]
	if bad.DecodeError == nil {
		t.Fatal("DecodeError is nil for spec.path: [list]")
	}
	if bad.Typed != nil || bad.Kustomization() != nil {
		t.Errorf("Typed = %v, want nil", bad.Typed)
	}
	if !bad.Known {
		t.Errorf("Known = false for kustomize.toolkit.fluxcd.io/v1")
	}
	if got := r.Kustomizations(); len(got) != 1 || got[0].Doc.Name != "good" {
		t.Errorf("Kustomizations() should hold only the decodable one, got %d", len(got))
	}
	want := []fleet.Problem{{
		Rule: fleet.RuleYAMLInvalid, Severity: fleet.SeverityError, File: "clusters/bad.yaml", Line: 14,
		Object: "Kustomization/flux-system/bad", Message: bad.DecodeError.Error(),
	}}
	if diff := cmp.Diff(want, r.Problems); diff != "" {
		t.Errorf("Problems (-want +got):\n%s", diff)
	}
}

func TestFluxKinds(t *testing.T) {
	kinds := fleet.FluxKinds()
	if len(kinds) != 15 {
		t.Errorf("FluxKinds() has %d kinds, want 15: %v", len(kinds), kinds)
	}
	for i := 1; i < len(kinds); i++ {
		a, b := kinds[i-1], kinds[i]
		if a[0] > b[0] || (a[0] == b[0] && a[1] >= b[1]) {
			t.Errorf("FluxKinds() not sorted at %d: %v then %v", i, a, b)
		}
	}
	for _, k := range kinds {
		if !fleet.IsFluxGroup(k[0]) {
			t.Errorf("IsFluxGroup(%q) = false", k[0])
		}
		if len(fleet.FluxVersions(k[0], k[1])) == 0 {
			t.Errorf("FluxVersions(%q, %q) is empty", k[0], k[1])
		}
	}
	for _, g := range []string{"", "apps", "kustomize.config.k8s.io", "toolkit.fluxcd.io"} {
		if fleet.IsFluxGroup(g) {
			t.Errorf("IsFluxGroup(%q) = true", g)
		}
	}
	if diff := cmp.Diff([]string{"v2", "v2beta2", "v2beta1"}, fleet.FluxVersions(fleet.GroupHelm, "HelmRelease")); diff != "" {
		t.Errorf("FluxVersions(helm, HelmRelease) (-want +got):\n%s", diff)
	}
	if got := fleet.FluxVersions(fleet.GroupKustomize, "HelmRelease"); got != nil {
		t.Errorf("FluxVersions(kustomize, HelmRelease) = %v, want nil", got)
	}
}

func TestLoadNonFluxKustomization(t *testing.T) {
	r := load(t, map[string]string{
		"apps/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [cm.yaml]\n",
		"apps/cm.yaml":            configMap("a"),
	}, fleet.Options{})
	if len(r.Flux) != 0 || len(r.Kustomizations()) != 0 {
		t.Errorf("a kustomize.config.k8s.io Kustomization was taken for a Flux one: %v", r.Flux)
	}
	if len(r.Docs) != 2 {
		t.Errorf("Docs = %d, want 2 (the kustomization file is a document too)", len(r.Docs))
	}
}

func TestLoadSourceIgnore(t *testing.T) {
	r := load(t, map[string]string{
		".sourceignore":                 "# drafts are not deployed\ndrafts/\n*.draft.yaml\n!keep.draft.yaml\n",
		"apps/.sourceignore":            "local.yaml\n/scratch/\n",
		"apps/app.yaml":                 configMap("app"),
		"apps/local.yaml":               configMap("local"),
		"apps/sub/local.yaml":           configMap("sub-local"),
		"apps/scratch/x.yaml":           configMap("scratch"),
		"apps/sub/scratch/y.yaml":       configMap("sub-scratch"),
		"apps/wip.draft.yaml":           configMap("wip"),
		"apps/keep.draft.yaml":          configMap("keep"),
		"drafts/one.yaml":               configMap("one"),
		"drafts/nested/two.yaml":        configMap("two"),
		"other/local.yaml":              configMap("other-local"),
		".github/workflows/ci.yaml":     "on: push\n",
		".sops.yaml":                    "creation_rules: []\n",
		".goreleaser.yml":               "builds: []\n",
		"clusters/prod/.flux.yaml":      configMap("flux-yaml"),
		"clusters/prod/cluster.yaml":    configMap("cluster"),
		"clusters/prod/image.png.yaml":  configMap("not-an-image"),
		"clusters/prod/notes/plain.txt": "text\n",
	}, fleet.Options{})
	if len(r.Problems) > 0 {
		t.Fatalf("unexpected problems: %v", r.Problems)
	}
	wantFiles := []string{
		"apps/app.yaml",
		"apps/keep.draft.yaml",
		"apps/sub/scratch/y.yaml",
		"clusters/prod/cluster.yaml",
		"clusters/prod/image.png.yaml",
		"other/local.yaml",
	}
	if diff := cmp.Diff(wantFiles, r.Files); diff != "" {
		t.Errorf("Files (-want +got):\n%s", diff)
	}
	wantIgnored := []string{
		".github/workflows/ci.yaml",
		".goreleaser.yml",
		".sops.yaml",
		"apps/local.yaml",
		"apps/scratch/x.yaml",
		"apps/sub/local.yaml",
		"apps/wip.draft.yaml",
		"clusters/prod/.flux.yaml",
		"drafts/nested/two.yaml",
		"drafts/one.yaml",
	}
	if diff := cmp.Diff(wantIgnored, r.Ignored); diff != "" {
		t.Errorf("Ignored (-want +got):\n%s", diff)
	}
	// The .sourceignore files themselves are not part of the tree.
	wantTree := append(wantFiles[:3:3], "clusters/prod/cluster.yaml", "clusters/prod/image.png.yaml",
		"clusters/prod/notes/plain.txt", "other/local.yaml")
	if diff := cmp.Diff(wantTree, r.Tree); diff != "" {
		t.Errorf("Tree (-want +got):\n%s", diff)
	}
	if !r.HasIgnored {
		t.Errorf("HasIgnored = false")
	}
	for _, dir := range []string{"drafts", "drafts/nested", "apps/scratch", ".github", ".github/workflows"} {
		if r.IsDir(dir) {
			t.Errorf("IsDir(%q) = true for an ignored directory", dir)
		}
	}
	for _, dir := range []string{"apps", "apps/sub", "apps/sub/scratch", "clusters/prod/notes"} {
		if !r.IsDir(dir) {
			t.Errorf("IsDir(%q) = false", dir)
		}
	}
	if got := r.Lookup("ConfigMap", "", "wip"); len(got) != 0 {
		t.Errorf("ignored document loaded: %v", got)
	}
}

func TestLoadHelmChartSkipped(t *testing.T) {
	r := load(t, map[string]string{
		"charts/web/Chart.yaml":                 "apiVersion: v2\nname: web\nversion: 0.1.0\n",
		"charts/web/values.yaml":                "replicas: 1\n",
		"charts/web/templates/deployment.yaml":  "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n  labels:\n    {{- include \"web.labels\" . | nindent 4 }}\n",
		"charts/web/templates/configmap.yaml":   configMap("static-in-chart"),
		"charts/web/charts/sub/Chart.yaml":      "apiVersion: v2\nname: sub\nversion: 0.1.0\n",
		"charts/web/charts/sub/templates/x.yml": "{{ if .Values.x }}\nkind: X\n{{ end }}\n",
		"charts/web/crds/crd.yaml":              "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: x\n",
		"charts/README.yaml":                    configMap("beside-the-chart"),
		"apps/release.yaml":                     configMap("app"),
	}, fleet.Options{})
	if len(r.Problems) > 0 {
		t.Fatalf("templates inside a chart produced problems: %v", r.Problems)
	}
	if diff := cmp.Diff([]string{"apps/release.yaml", "charts/README.yaml"}, r.Files); diff != "" {
		t.Errorf("Files (-want +got):\n%s", diff)
	}
	var docs []string
	for _, d := range r.Docs {
		docs = append(docs, d.Ref())
	}
	if diff := cmp.Diff([]string{"ConfigMap/app", "ConfigMap/beside-the-chart"}, docs); diff != "" {
		t.Errorf("Docs (-want +got):\n%s", diff)
	}
	if len(r.Ignored) != 0 {
		t.Errorf("chart files are skipped, not ignored by rules: Ignored = %v", r.Ignored)
	}
}

func TestLoadMaxFileSize(t *testing.T) {
	small := configMap("small")
	big := configMap("big") + "# " + strings.Repeat("padding ", 25) + "\n"
	tests := []struct {
		name    string
		max     int64
		content string
		want    []fleet.Problem
	}{
		{name: "default limit", max: 0, content: big},
		{name: "under the limit", max: 100, content: small},
		{name: "exactly the limit", max: int64(len(small)), content: small},
		{
			name: "one byte over", max: int64(len(small)) - 1, content: small,
			want: []fleet.Problem{{
				Rule: fleet.RuleFileTooLarge, Severity: fleet.SeverityError, File: "apps/cm.yaml",
				Message: fmt.Sprintf("file is %d bytes, over the limit of %d bytes (--max-file-size)", len(small), len(small)-1),
			}},
		},
		{
			name: "far over", max: 100, content: big,
			want: []fleet.Problem{{
				Rule: fleet.RuleFileTooLarge, Severity: fleet.SeverityError, File: "apps/cm.yaml",
				Message: fmt.Sprintf("file is %d bytes, over the limit of 100 bytes (--max-file-size)", len(big)),
			}},
		},
	}
	if len(small) >= 100 || len(big) <= 100 {
		t.Fatalf("fixture sizes: %d, %d", len(small), len(big))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := load(t, map[string]string{"apps/cm.yaml": tt.content}, fleet.Options{MaxFileSize: tt.max})
			if diff := cmp.Diff(tt.want, r.Problems, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Problems (-want +got):\n%s", diff)
			}
			// A file over the limit is listed but not parsed.
			if diff := cmp.Diff([]string{"apps/cm.yaml"}, r.Files); diff != "" {
				t.Errorf("Files (-want +got):\n%s", diff)
			}
			if wantDocs := len(tt.want) == 0; (len(r.Docs) == 1) != wantDocs {
				t.Errorf("got %d docs, want a document only when under the limit", len(r.Docs))
			}
		})
	}
}

// symlink creates a symbolic link or skips the test where links are not
// supported.
func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("symlinks not supported: %v", err)
	}
}

// TestLoadSymlinks checks that links are left out as source-controller
// leaves them out of its artifacts (flux2#3619): never followed, inside the
// tree or out of it, and reported where they could stand for manifests.
func TestLoadSymlinks(t *testing.T) {
	outside := testenv.WriteTree(t, map[string]string{
		"secret.yaml":     configMap("outside-secret"),
		"dir/inside.yaml": configMap("outside-dir"),
	})
	dir := testenv.WriteTree(t, map[string]string{
		"apps/real.yaml":     configMap("real"),
		"apps/sub/sub.yaml":  configMap("sub"),
		"apps/not-yaml.txt":  "text",
		"clusters/prod.yaml": configMap("prod"),
		"ignored/x.txt":      "x",
		".sourceignore":      "ignored/\n",
	})
	// Escaping by absolute and by relative target.
	symlink(t, filepath.Join(outside, "secret.yaml"), filepath.Join(dir, "apps", "leak.yaml"))
	symlink(t, filepath.Join("..", "..", filepath.Base(outside), "secret.yaml"), filepath.Join(dir, "clusters", "relative-leak.yml"))
	symlink(t, filepath.Join(outside, "dir"), filepath.Join(dir, "apps", "linked-dir"))
	// A non-YAML link is left out without a word.
	symlink(t, filepath.Join(outside, "secret.yaml"), filepath.Join(dir, "apps", "leak.txt"))
	symlink(t, filepath.Join(dir, "apps", "missing.yaml"), filepath.Join(dir, "apps", "dangling.yaml"))
	// Links inside the tree are left out too: a file and a directory.
	symlink(t, "real.yaml", filepath.Join(dir, "apps", "alias.yaml"))
	symlink(t, "sub", filepath.Join(dir, "apps", "sub-link"))
	// An ignored link is not reported.
	symlink(t, "x.txt", filepath.Join(dir, "ignored", "link.yaml"))

	r := loadDir(t, dir, fleet.Options{})
	var want []fleet.Problem
	for _, f := range []string{"apps/alias.yaml", "apps/dangling.yaml", "apps/leak.yaml", "apps/linked-dir", "apps/sub-link", "clusters/relative-leak.yml"} {
		want = append(want, fleet.Problem{Rule: fleet.RuleSymlinkIgnored, Severity: fleet.SeverityWarning, File: f})
	}
	if diff := cmp.Diff(want, r.Problems, ignoreMessage); diff != "" {
		t.Errorf("Problems (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"apps/real.yaml", "apps/sub/sub.yaml", "clusters/prod.yaml"}, r.Files); diff != "" {
		t.Errorf("Files (-want +got):\n%s", diff)
	}
	for _, f := range r.Tree {
		if strings.Contains(f, "leak") || strings.Contains(f, "alias") || strings.Contains(f, "link") {
			t.Errorf("Tree holds the link %s; the artifact would not", f)
		}
	}
	for _, name := range []string{"outside-secret", "outside-dir"} {
		if got := r.Lookup("ConfigMap", "", name); len(got) != 0 {
			t.Errorf("content from outside the tree was loaded: %v", got[0].File)
		}
	}
	if got := r.Lookup("ConfigMap", "", "real"); len(got) != 1 || got[0].File != "apps/real.yaml" {
		t.Errorf("Lookup(real) = %d docs, want only the file itself", len(got))
	}
	if r.IsDir("apps/linked-dir") || r.IsDir("apps/sub-link") {
		t.Errorf("linked directories are not descended into")
	}
	if !r.HasSymlinks {
		t.Errorf("HasSymlinks is not set")
	}
}

func TestLoadAliasBomb(t *testing.T) {
	var bomb strings.Builder
	bomb.WriteString("# billion laughs\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lol\ndata:\n")
	bomb.WriteString("  a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n")
	prev := "a"
	for _, c := range "bcdefghi" {
		cur := string(c)
		bomb.WriteString("  " + cur + ": &" + cur + " [" + strings.TrimSuffix(strings.Repeat("*"+prev+",", 9), ",") + "]\n")
		prev = cur
	}
	r := load(t, map[string]string{
		"apps/broken/bomb.yaml":    bomb.String(),
		"apps/healthy/aliases.yml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n  labels: &l {a: b}\n  annotations: *l\n",
	}, fleet.Options{})
	want := []fleet.Problem{{Rule: fleet.RuleYAMLInvalid, Severity: fleet.SeverityError, File: "apps/broken/bomb.yaml", Line: 2}}
	if diff := cmp.Diff(want, r.Problems, ignoreMessage); diff != "" {
		t.Errorf("Problems (-want +got):\n%s", diff)
	}
	if len(r.Problems) == 1 && !strings.Contains(r.Problems[0].Message, "excessive aliasing") {
		t.Errorf("message = %q", r.Problems[0].Message)
	}
	if diff := cmp.Diff([]string{"apps/broken/bomb.yaml"}, sortedKeys(r.Unsafe)); diff != "" {
		t.Errorf("Unsafe (-want +got):\n%s", diff)
	}
	if got := r.Lookup("ConfigMap", "", "ok"); len(got) != 1 {
		t.Errorf("a file with a few aliases did not load")
	}
	if got := r.Lookup("ConfigMap", "", "lol"); len(got) != 0 {
		t.Errorf("the alias bomb was loaded as a document")
	}
}

func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}

func TestLoadCanceled(t *testing.T) {
	files := map[string]string{}
	for i := range 200 {
		files[fmt.Sprintf("apps/d%d/cm%d.yaml", i%10, i)] = configMap(fmt.Sprint("cm", i))
	}
	dir := testenv.WriteTree(t, files)
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r, err := fleet.Load(ctx, root.FS(), fleet.Options{Workers: 1})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Load with a canceled context = %v, %v; want context.Canceled", r, err)
	}
}

func TestLoadUnreadableTree(t *testing.T) {
	r, err := fleet.Load(context.Background(), os.DirFS(filepath.Join(t.TempDir(), "missing")), fleet.Options{})
	if err == nil {
		t.Fatalf("Load of a missing tree = %v, want an error", r)
	}
	if !strings.HasPrefix(err.Error(), "read repository: ") {
		t.Errorf("error = %q, want it to start with \"read repository: \"", err)
	}
}

func TestLoadWorkersAgree(t *testing.T) {
	files := map[string]string{}
	for _, d := range []string{"a", "b", "c", "d/e", "f"} {
		for _, n := range []string{"1", "2", "3"} {
			files[d+"/cm"+n+".yaml"] = configMap(strings.ReplaceAll(d, "/", "-") + n)
		}
	}
	files["b/bad.yaml"] = "a: [\n"
	dir := testenv.WriteTree(t, files)
	one := loadDir(t, dir, fleet.Options{Workers: 1})
	many := loadDir(t, dir, fleet.Options{Workers: 8})
	refs := func(r *fleet.Repo) []string {
		var out []string
		for _, d := range r.Docs {
			out = append(out, d.File+":"+d.Ref())
		}
		return out
	}
	if diff := cmp.Diff(refs(one), refs(many)); diff != "" {
		t.Errorf("document order depends on workers (-1 +8):\n%s", diff)
	}
	if diff := cmp.Diff(one.Problems, many.Problems); diff != "" {
		t.Errorf("problems depend on workers (-1 +8):\n%s", diff)
	}
}

func TestProblemString(t *testing.T) {
	tests := []struct {
		name string
		p    fleet.Problem
		want string
	}{
		{
			name: "everything",
			p: fleet.Problem{
				Rule: fleet.RuleDependencyNotFound, Severity: fleet.SeverityWarning,
				File: "clusters/prod/apps.yaml", Line: 12, Object: "Kustomization/flux-system/apps",
				Message: "dependsOn Kustomization/flux-system/infra is not defined in the repository",
			},
			want: "clusters/prod/apps.yaml:12: warning: Kustomization/flux-system/apps: dependsOn Kustomization/flux-system/infra is not defined in the repository [dependency-not-found]",
		},
		{
			name: "no line",
			p:    fleet.Problem{Rule: fleet.RuleFileTooLarge, Severity: fleet.SeverityError, File: "big.yaml", Message: "too big"},
			want: "big.yaml: error: too big [file-too-large]",
		},
		{
			name: "no object",
			p:    fleet.Problem{Rule: fleet.RuleYAMLInvalid, Severity: fleet.SeverityInfo, File: "t.yaml", Line: 3, Message: "templated"},
			want: "t.yaml:3: info: templated [yaml-invalid]",
		},
		{
			name: "no file",
			p:    fleet.Problem{Rule: fleet.RuleSourceNotFound, Severity: fleet.SeverityError, Object: "Kustomization/apps", Message: "m"},
			want: ".: error: Kustomization/apps: m [source-not-found]",
		},
		{
			name: "line without file",
			p:    fleet.Problem{Rule: "r", Severity: fleet.SeverityError, Line: 4, Message: "m"},
			want: ":4: error: m [r]",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.p.String()); diff != "" {
				t.Errorf("String() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadExampleFleets(t *testing.T) {
	tests := []struct {
		fleet           string
		wantEntryPoints []string
		wantSources     []string
		wantIgnored     []string
		// noDocs are YAML files loaded that hold no Kubernetes object.
		noDocs []string
	}{
		{
			fleet:           "fleet-infra",
			wantEntryPoints: []string{"clusters/production", "clusters/staging"},
			wantSources:     []string{"GitRepository/flux-system/flux-system=.", "GitRepository/team-a/team-a=."},
			wantIgnored:     []string{".github/workflows/validate.yaml", ".sops.yaml"},
			noDocs:          []string{"Taskfile.yaml", "infrastructure/cert-manager/values.yaml"},
		},
		{
			fleet:           "plain-overlays",
			wantEntryPoints: []string{"overlays/dev", "overlays/prod"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.fleet, func(t *testing.T) {
			r := loadDir(t, filepath.Join(fleetsDir, tt.fleet), fleet.Options{})
			if len(r.Problems) > 0 {
				t.Errorf("unexpected problems: %v", r.Problems)
			}
			if diff := cmp.Diff(tt.wantEntryPoints, r.EntryPoints()); diff != "" {
				t.Errorf("EntryPoints() (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantSources, r.LocalSources()); diff != "" {
				t.Errorf("LocalSources() (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantIgnored, r.Ignored); diff != "" {
				t.Errorf("Ignored (-want +got):\n%s", diff)
			}
			if len(r.Unsafe) != 0 {
				t.Errorf("Unsafe = %v", r.Unsafe)
			}
			if r.HasIgnored != (len(tt.wantIgnored) > 0) {
				t.Errorf("HasIgnored = %v", r.HasIgnored)
			}
			files := map[string]bool{}
			for _, f := range r.Files {
				files[f] = true
			}
			for _, f := range tt.noDocs {
				if !files[f] {
					t.Errorf("%s was not loaded", f)
				}
				if got := r.DocsInFile(f); len(got) != 0 {
					t.Errorf("%s: %d documents, want none", f, len(got))
				}
			}
			for _, fo := range r.Flux {
				if fo.DecodeError != nil || !fo.Known {
					t.Errorf("%s: Known %v, DecodeError %v", fo.Doc.Ref(), fo.Known, fo.DecodeError)
				}
			}
		})
	}
}

// TestLoadBrokenFleets checks the problems the fleet package itself finds in
// each broken example fleet; most of them break only at render time.
func TestLoadBrokenFleets(t *testing.T) {
	tests := map[string]struct {
		want        []fleet.Problem
		wantMessage []string
		wantUnsafe  []string
	}{
		"alias-bomb": {
			want:        []fleet.Problem{{Rule: fleet.RuleYAMLInvalid, Severity: fleet.SeverityError, File: "apps/broken/bomb.yaml", Line: 2}},
			wantMessage: []string{"invalid YAML: document contains excessive aliasing"},
			wantUnsafe:  []string{"apps/broken/bomb.yaml"},
		},
		"dependson-cycle": {
			want: []fleet.Problem{{
				Rule: fleet.RuleDependencyCycle, Severity: fleet.SeverityError, File: "clusters/test/cycle.yaml", Line: 1,
				Object: "Kustomization/flux-system/a",
			}},
			wantMessage: []string{"dependsOn cycle: Kustomization/flux-system/a -> Kustomization/flux-system/b -> " +
				"Kustomization/flux-system/c -> Kustomization/flux-system/a"},
		},
		"invalid-yaml": {
			want:        []fleet.Problem{{Rule: fleet.RuleYAMLInvalid, Severity: fleet.SeverityError, File: "apps/broken/configmap.yaml", Line: 7}},
			wantMessage: []string{"invalid YAML: line 7: mapping values are not allowed in this context"},
		},
		// The rest fail when rendered, not when loaded.
		"invalid-target-namespace": {},
		"kustomize-error":          {},
		"missing-path":             {},
		"missing-source":           {},
		"path-escape":              {},
		"unavailable-source":       {},
		"undefined-var":            {},
	}
	cases, err := filepath.Glob(filepath.Join(fleetsDir, "broken", "*", "README.md"))
	if err != nil || len(cases) == 0 {
		t.Fatalf("no broken fleets found: %v", err)
	}
	for _, readme := range cases {
		dir := filepath.Dir(readme)
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			tt, ok := tests[name]
			if !ok {
				t.Fatalf("broken fleet %s has no test case", name)
			}
			r := loadDir(t, dir, fleet.Options{})
			if diff := cmp.Diff(tt.want, r.Problems, ignoreMessage, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Problems (-want +got):\n%s", diff)
			}
			for i, msg := range tt.wantMessage {
				if i < len(r.Problems) && r.Problems[i].Message != msg {
					t.Errorf("problem %d message = %q, want %q", i, r.Problems[i].Message, msg)
				}
			}
			if diff := cmp.Diff(tt.wantUnsafe, sortedKeys(r.Unsafe)); diff != "" {
				t.Errorf("Unsafe (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"clusters/test"}, r.EntryPoints()); diff != "" {
				t.Errorf("EntryPoints() (-want +got):\n%s", diff)
			}
			if got := r.Lookup("Kustomization", "flux-system", "healthy"); len(got) != 1 {
				t.Errorf("Kustomization healthy: %d definitions, want 1", len(got))
			}
		})
	}
	if len(cases) != len(tests) {
		t.Errorf("%d broken fleets on disk, %d test cases", len(cases), len(tests))
	}
}

func TestLoadCatchesAliasBombOutsideObjects(t *testing.T) {
	dir := t.TempDir()
	bomb := "a: &a [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]\n" +
		"b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n" +
		"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n" +
		"f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n" +
		"h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\ni: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n"
	if err := os.WriteFile(filepath.Join(dir, "values.yaml"), []byte(bomb), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "anchors.yaml"), []byte("base: &base {a: 1}\nother:\n  <<: *base\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	repo, err := fleet.Load(context.Background(), root.FS(), fleet.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := repo.Unsafe["values.yaml"]; !ok {
		t.Errorf("alias bomb in a non-object document not marked unsafe; problems: %v", repo.Problems)
	}
	if _, ok := repo.Unsafe["anchors.yaml"]; ok {
		t.Errorf("ordinary anchors marked unsafe")
	}
}

func TestLoadParseCache(t *testing.T) {
	base := map[string]string{
		"apps/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [cm1.yaml, cm2.yaml]\n",
		"apps/cm1.yaml":           configMap("one"),
		"apps/cm2.yaml":           configMap("two"),
		"apps/bad.yaml":           "a: [\n",
		"clusters/prod/apps.yaml": "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: flux-system\nspec:\n  interval: 1m\n  path: ./apps\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n",
	}
	head := maps.Clone(base)
	head["apps/cm2.yaml"] = configMap("two-changed")
	head["apps/cm3.yaml"] = configMap("one") // same content as cm1, another path
	cache := fleet.NewParseCache()
	gotBase := load(t, base, fleet.Options{Parsed: cache})
	gotHead := load(t, head, fleet.Options{Parsed: cache})
	for _, tt := range []struct {
		name      string
		got, want *fleet.Repo
	}{
		{"base", gotBase, load(t, base, fleet.Options{})},
		{"head", gotHead, load(t, head, fleet.Options{})},
	} {
		if diff := cmp.Diff(tt.want.Docs, tt.got.Docs); diff != "" {
			t.Errorf("%s: documents with the cache (-without +with):\n%s", tt.name, diff)
		}
		if diff := cmp.Diff(tt.want.Problems, tt.got.Problems); diff != "" {
			t.Errorf("%s: problems with the cache (-without +with):\n%s", tt.name, diff)
		}
		if w, g := tt.want.BuildSize("apps"), tt.got.BuildSize("apps"); w != g || !tt.got.HasKustomizationFile("apps") {
			t.Errorf("%s: BuildSize(apps) = %d with the cache, %d without", tt.name, g, w)
		}
	}
	// The loads share no document: changing one leaves the other alone.
	gotHead.DocsInFile("apps/cm1.yaml")[0].Object["data"].(map[string]any)["k"] = "changed"
	if _, ok := gotBase.DocsInFile("apps/cm1.yaml")[0].Object["data"].(map[string]any)["k"]; ok {
		t.Error("a document of one load changed with the other's")
	}
}

func TestDedupeProblems(t *testing.T) {
	a := fleet.Problem{Rule: "r", Severity: fleet.SeverityWarning, File: "a.yaml", Line: 1, Message: "m"}
	b := a
	b.Line = 2
	got := fleet.DedupeProblems([]fleet.Problem{a, b, a, b, a})
	if d := cmp.Diff([]fleet.Problem{a, b}, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}
