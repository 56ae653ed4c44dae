package render

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxgate/fluxgate/internal/testenv"
)

// The copy rules of source-watcher's ArtifactGenerator
// (internal/builder/builder.go), case by case: a rule set applied to a
// source tree gives these files in the artifact.

// copySourceTree is the source every case copies from.
var copySourceTree = map[string]string{
	"apps/base/kustomization.yaml":   "resources: [app.yaml]\n",
	"apps/base/app.yaml":             "kind: ConfigMap\n",
	"apps/base/README.md":            "# base\n",
	"apps/base/testdata/bad.yaml":    "bad\n",
	"apps/base/sub/deep.yaml":        "deep: true\n",
	"apps/prod/values.yaml":          "replicas: 3\ningress:\n  hosts: [b]\n",
	"apps/top.yaml":                  "top: 1\n",
	"shared/values.yaml":             "replicas: 1\nresources:\n  cpu: 100m\ningress:\n  enabled: true\n  hosts: [a]\n",
	"shared/multi.yaml":              "a: 1\nm:\n  x: 1\n---\nb: 2\nm:\n  z: 2\n",
	"charts/podinfo/Chart.yaml":      "name: podinfo\n",
	"charts/podinfo/docs/index.md":   "docs\n",
	"charts/podinfo/templates/a.yml": "a\n",
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestStageCopies(t *testing.T) {
	tests := []struct {
		name  string
		rules []copyRule
		// files are the artifact's files; content, when set, some of
		// their contents.
		files   []string
		content map[string]string
		// origin maps some artifact files to the repository file they
		// come from ("repo/" is the source's directory).
		origin map[string]string
		err    string
	}{
		{
			name:  "dir/** copies what dir holds, subdirectories included",
			rules: []copyRule{{From: "@src/apps/base/**", To: "@artifact/base/"}},
			files: []string{"base/README.md", "base/app.yaml", "base/kustomization.yaml", "base/sub/deep.yaml", "base/testdata/bad.yaml"},
			origin: map[string]string{
				"base/sub/deep.yaml": "repo/apps/base/sub/deep.yaml",
			},
		},
		{
			name:  "@artifact/ is the artifact root",
			rules: []copyRule{{From: "@src/apps/prod/**", To: "@artifact/"}},
			files: []string{"values.yaml"},
		},
		{
			name:  "a glob that is not dir/** keeps the matched path",
			rules: []copyRule{{From: "@src/apps/*.yaml", To: "@artifact/out/"}},
			files: []string{"out/apps/top.yaml"},
		},
		{
			name:  "** matches one path segment, as fs.Glob does",
			rules: []copyRule{{From: "@src/apps/**/*.yaml", To: "@artifact/"}},
			files: []string{"apps/base/app.yaml", "apps/base/kustomization.yaml", "apps/prod/values.yaml"},
		},
		{
			name:  "a file to a path ending in / keeps its name",
			rules: []copyRule{{From: "@src/shared/values.yaml", To: "@artifact/prod/"}},
			files: []string{"prod/values.yaml"},
		},
		{
			name:  "a file to a path renames it",
			rules: []copyRule{{From: "@src/shared/values.yaml", To: "@artifact/prod/defaults.yaml"}},
			files: []string{"prod/defaults.yaml"},
		},
		{
			name: "a file to an existing directory goes into it",
			rules: []copyRule{
				{From: "@src/apps/prod/**", To: "@artifact/prod/"},
				{From: "@src/shared/multi.yaml", To: "@artifact/prod"},
			},
			files: []string{"prod/multi.yaml", "prod/values.yaml"},
		},
		{
			name:  "a directory without glob is copied as a subdirectory",
			rules: []copyRule{{From: "@src/charts/podinfo", To: "@artifact/charts/"}},
			files: []string{"charts/podinfo/Chart.yaml", "charts/podinfo/docs/index.md", "charts/podinfo/templates/a.yml"},
		},
		{
			name: "excludes: a file name pattern at any depth, a directory, a path below the selection",
			rules: []copyRule{{From: "@src/apps/base/**", To: "@artifact/base/",
				Exclude: []string{"*.md", "**/testdata/**", "sub/deep.yaml"}}},
			files: []string{"base/app.yaml", "base/kustomization.yaml"},
		},
		{
			name: "excludes of a directory copy",
			rules: []copyRule{{From: "@src/charts/podinfo", To: "@artifact/",
				Exclude: []string{"docs/**", "*.yml"}}},
			files: []string{"podinfo/Chart.yaml"},
		},
		{
			name: "Overwrite replaces a file",
			rules: []copyRule{
				{From: "@src/shared/values.yaml", To: "@artifact/values.yaml"},
				{From: "@src/apps/prod/values.yaml", To: "@artifact/values.yaml"},
			},
			files:   []string{"values.yaml"},
			content: map[string]string{"values.yaml": "replicas: 3\ningress:\n  hosts: [b]\n"},
			origin:  map[string]string{"values.yaml": "repo/apps/prod/values.yaml"},
		},
		{
			name: "Merge deep-merges maps and replaces lists",
			rules: []copyRule{
				{From: "@src/shared/values.yaml", To: "@artifact/values.yaml"},
				{From: "@src/apps/prod/values.yaml", To: "@artifact/values.yaml", Strategy: copyMerge},
			},
			files:   []string{"values.yaml"},
			content: map[string]string{"values.yaml": "ingress:\n  enabled: true\n  hosts:\n  - b\nreplicas: 3\nresources:\n  cpu: 100m\n"},
			origin:  map[string]string{"values.yaml": "repo/apps/prod/values.yaml"},
		},
		{
			name: "Merge of a multi-document file merges its documents",
			rules: []copyRule{
				{From: "@src/shared/multi.yaml", To: "@artifact/m.yaml"},
				{From: "@src/shared/multi.yaml", To: "@artifact/m.yaml", Strategy: copyMerge},
			},
			files:   []string{"m.yaml"},
			content: map[string]string{"m.yaml": "a: 1\nb: 2\nm:\n  x: 1\n  z: 2\n"},
		},
		{
			name:  "Merge onto nothing copies",
			rules: []copyRule{{From: "@src/shared/multi.yaml", To: "@artifact/m.yaml", Strategy: copyMerge}},
			files: []string{"m.yaml"},
			content: map[string]string{
				"m.yaml": copySourceTree["shared/multi.yaml"],
			},
		},
		{
			name:  "optional rules match nothing quietly",
			rules: []copyRule{{From: "@src/nothing/**", To: "@artifact/", Optional: true}, {From: "@src/none.yaml", To: "@artifact/", Optional: true}},
		},
		{name: "no match", rules: []copyRule{{From: "@src/nothing/*.yaml", To: "@artifact/"}}, err: `no files match "nothing/*.yaml" in @src`},
		{name: "missing file", rules: []copyRule{{From: "@src/none.yaml", To: "@artifact/"}}, err: `source "none.yaml" does not exist in @src`},
		{name: "everything excluded", rules: []copyRule{{From: "@src/apps/*.yaml", To: "@artifact/", Exclude: []string{"*.yaml"}}}, err: "is excluded"},
		{name: "unknown alias", rules: []copyRule{{From: "@other/x/**", To: "@artifact/"}}, err: `source alias "other" is not declared`},
		{name: "destination leaves the artifact", rules: []copyRule{{From: "@src/apps/**", To: "@artifact/../x"}}, err: "within the artifact"},
		{name: "destination without @artifact", rules: []copyRule{{From: "@src/apps/**", To: "base/"}}, err: "@artifact/"},
		{name: "Extract", rules: []copyRule{{From: "@src/*.tgz", To: "@artifact/", Strategy: copyExtract}}, err: "Extract"},
		{name: "Merge of a file that is not YAML", rules: []copyRule{
			{From: "@src/apps/base/README.md", To: "@artifact/r.yaml"},
			{From: "@src/charts/podinfo/templates/a.yml", To: "@artifact/r.yaml", Strategy: copyMerge},
		}, err: "merge"},
	}
	src := testenv.WriteTree(t, copySourceTree)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := t.TempDir()
			st, err := stageCopies(context.Background(), tt.rules, map[string]copySource{"src": {abs: src, rel: "repo"}}, dst)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := testenv.ReadTree(t, dst)
			if diff := cmp.Diff(tt.files, keys(got)); diff != "" && !(len(tt.files) == 0 && len(got) == 0) {
				t.Errorf("artifact files (-want +got):\n%s", diff)
			}
			for f, want := range tt.content {
				if diff := cmp.Diff(want, got[f]); diff != "" {
					t.Errorf("%s (-want +got):\n%s", f, diff)
				}
			}
			for f, want := range tt.origin {
				if st.origin[f] != want {
					t.Errorf("origin of %s = %q, want %q", f, st.origin[f], want)
				}
			}
			for _, f := range keys(got) {
				if st.origin[f] == "" {
					t.Errorf("artifact file %s has no origin", f)
				}
			}
		})
	}
}
