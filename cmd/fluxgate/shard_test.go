package main

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/fluxgate/fluxgate/internal/testenv"
	"github.com/fluxgate/fluxgate/validate"
)

// TestShardedValidateMergesToUnsharded validates fleets whole and in 1 to
// 4 shards: the merged JSON, SARIF and JUnit reports equal the unsharded
// ones, repository findings included (the broken fleets have load
// problems and a dependsOn cycle). With as many shards as clusters or
// fewer (two clusters for most, three for kustomize-helm), shards split
// by cluster and render their own clusters only; with more, by unit.
func TestShardedValidateMergesToUnsharded(t *testing.T) {
	for _, name := range []string{"fleet-infra", "plain-overlays", "patterns/multi-tenancy", "patterns/kustomize-helm", "broken/dependson-cycle", "broken/missing-source"} {
		t.Run(name, func(t *testing.T) {
			fleet := filepath.Join(fleets, name)
			dir := t.TempDir()
			whole := map[string]string{}
			for _, f := range []string{"json", "sarif", "junit"} {
				whole[f] = filepath.Join(dir, "whole."+f)
			}
			_, stderr, code := run(t, "validate", fleet, "--fail-on", "none",
				"-o", "json="+whole["json"], "-o", "sarif="+whole["sarif"], "-o", "junit="+whole["junit"])
			if code != 0 {
				t.Fatalf("validate: exit %d: %s", code, stderr)
			}
			var unsharded validate.Report
			readJSON(t, whole["json"], &unsharded)
			clusters := strings.Count(renderJSONClusters(t, fleet), ",") + 1
			for n := 1; n <= 4; n++ {
				shards := map[string][]string{}
				units := 0
				for i := n; i >= 1; i-- { // any order
					base := filepath.Join(dir, "n"+strconv.Itoa(n)+"-"+strconv.Itoa(i))
					args := []string{"validate", fleet, "--fail-on", "none", "--shard", strconv.Itoa(i) + "/" + strconv.Itoa(n)}
					for _, f := range []string{"json", "sarif", "junit"} {
						shards[f] = append(shards[f], base+"."+f)
						args = append(args, "-o", f+"="+base+"."+f)
					}
					_, stderr, code := run(t, args...)
					if code != 0 {
						t.Fatalf("shard %d/%d: exit %d: %s", i, n, code, stderr)
					}
					if byCluster := strings.Contains(stderr, " clusters, "); byCluster != (clusters >= n) {
						t.Errorf("shard %d/%d of %d clusters: %q", i, n, clusters, stderr)
					}
					var part validate.Report
					readJSON(t, base+".json", &part)
					units += part.Summary.Units
				}
				if units != unsharded.Summary.Units {
					t.Errorf("n=%d: shards report %d units, unsharded %d", n, units, unsharded.Summary.Units)
				}
				for _, f := range []string{"json", "sarif", "junit"} {
					out, stderr, code := run(t, append([]string{"report", "merge", "--fail-on", "none", "-o", f}, shards[f]...)...)
					if code != 0 {
						t.Fatalf("merge %s: exit %d: %s", f, code, stderr)
					}
					want, err := os.ReadFile(whole[f])
					if err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff(string(want), out); diff != "" {
						t.Errorf("n=%d: merged %s differs from unsharded (-unsharded +merged):\n%s", n, f, diff)
					}
				}
			}
		})
	}
}

// renderJSONClusters returns the clusters of a fleet, as render -o json
// lists them, joined by commas.
func renderJSONClusters(t *testing.T, fleet string) string {
	t.Helper()
	out, stderr, code := run(t, "render", fleet, "-o", "json")
	if code == 2 {
		t.Fatalf("render: exit %d: %s", code, stderr)
	}
	var r struct{ Clusters []string }
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	return strings.Join(r.Clusters, ",")
}

// crdFleet has two clusters. Cluster a installs a chart of the repository
// whose crds/ define Widget, and commits the CRD of Gadget; cluster b
// holds a Widget and a Gadget, both invalid.
var crdFleet = map[string]string{
	"clusters/a/flux-system/kustomization.yaml": "resources:\n- gotk-sync.yaml\n",
	"clusters/a/flux-system/gotk-sync.yaml":     gotkSync("a"),
	"clusters/a/widget-release.yaml": `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: widget
  namespace: flux-system
spec:
  interval: 10m
  chart:
    spec:
      chart: ./charts/widget
      sourceRef:
        kind: GitRepository
        name: flux-system
`,
	"clusters/a/gadget-crd.yaml":     crd("Gadget", "gadgets"),
	"charts/widget/Chart.yaml":       "apiVersion: v2\nname: widget\nversion: 1.0.0\n",
	"charts/widget/crds/widget.yaml": crd("Widget", "widgets"),
	"charts/widget/templates/cm.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: widget
data:
  size: "1"
`,
	"clusters/b/flux-system/kustomization.yaml": "resources:\n- gotk-sync.yaml\n",
	"clusters/b/flux-system/gotk-sync.yaml":     gotkSync("b"),
	"clusters/b/things.yaml": `apiVersion: example.com/v1
kind: Widget
metadata:
  name: w
  namespace: default
spec:
  size: big
---
apiVersion: example.com/v1
kind: Gadget
metadata:
  name: g
  namespace: default
spec:
  size: big
`,
}

func gotkSync(cluster string) string {
	return `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 1m0s
  ref:
    branch: main
  url: ssh://git@github.com/example/fleet
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 10m0s
  path: ./clusters/` + cluster + `
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
`
}

func crd(kind, plural string) string {
	return `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: ` + plural + `.example.com
spec:
  group: example.com
  names:
    kind: ` + kind + `
    plural: ` + plural + `
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
              size:
                type: integer
`
}

// TestShardedValidateCRDFromAnotherClustersRender shows the one documented
// difference of shards split by cluster: a CRD that only another
// cluster's render outputs (here a chart's crds/) does not reach the
// shard, whose custom resources of that kind are then schema-missing
// rather than checked. A CRD committed in the repository (Gadget) reaches
// every shard, so its custom resources are checked as in an unsharded run.
func TestShardedValidateCRDFromAnotherClustersRender(t *testing.T) {
	fleet := testenv.WriteTree(t, crdFleet)
	dir := t.TempDir()
	whole := filepath.Join(dir, "whole.json")
	if _, stderr, code := run(t, "validate", fleet, "--fail-on", "none", "-o", "json="+whole); code != 0 {
		t.Fatalf("validate: exit %d: %s", code, stderr)
	}
	var want validate.Report
	readJSON(t, whole, &want)
	var parts []string
	for i := 1; i <= 2; i++ {
		p := filepath.Join(dir, strconv.Itoa(i)+".json")
		_, stderr, code := run(t, "validate", fleet, "--fail-on", "none", "--shard", strconv.Itoa(i)+"/2", "-o", "json="+p)
		if code != 0 {
			t.Fatalf("shard %d/2: exit %d: %s", i, code, stderr)
		}
		if !strings.Contains(stderr, "1 of 2 clusters") {
			t.Errorf("shard %d/2 does not render one cluster of two: %q", i, stderr)
		}
		parts = append(parts, p)
	}
	out, stderr, code := run(t, append([]string{"report", "merge", "--fail-on", "none", "-o", "json"}, parts...)...)
	if code != 0 {
		t.Fatalf("merge: exit %d: %s", code, stderr)
	}
	var got validate.Report
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}

	// Unsharded, the Widget is checked against the chart's CRD.
	widget := func(r validate.Report, rule string) []validate.Finding {
		var out []validate.Finding
		for _, f := range r.Findings {
			if f.Rule == rule && f.Object == "Widget/default/w" {
				out = append(out, f)
			}
		}
		return out
	}
	if fs := widget(want, validate.RuleSchemaInvalid); len(fs) != 1 || !strings.Contains(fs[0].Message, "/spec/size") {
		t.Fatalf("unsharded: want one schema-invalid Widget finding, got %+v", want.Findings)
	}
	// Sharded, it is schema-missing, and that is the only difference.
	wantSharded := validate.Report{Summary: want.Summary}
	for _, f := range want.Findings {
		if f.Rule == validate.RuleSchemaInvalid && f.Object == "Widget/default/w" {
			f.Rule, f.Severity, f.Line = validate.RuleSchemaMissing, validate.SeverityWarning, 1
			f.Message = validate.SchemaMissingMessage("example.com/v1/Widget", 1)
			wantSharded.Summary.Errors--
			wantSharded.Summary.Warnings++
		}
		wantSharded.Findings = append(wantSharded.Findings, f)
	}
	validate.Sort(wantSharded.Findings)
	wantSharded.Summary.SkippedKinds = map[string]int{"example.com/v1/Widget": 1}
	// ... and it is counted as skipped rather than checked against a CRD.
	wantSharded.Summary.Checked = maps.Clone(want.Summary.Checked)
	if wantSharded.Summary.Checked["crd"]--; wantSharded.Summary.Checked["crd"] == 0 {
		delete(wantSharded.Summary.Checked, "crd")
	}
	for k, n := range want.Summary.SkippedKinds {
		wantSharded.Summary.SkippedKinds[k] += n
	}
	// The same units, each with as many findings (the Widget's changed
	// rule may move it in the sorted list).
	wantSharded.Units = want.Units
	if diff := cmp.Diff(wantSharded, got, cmpopts.IgnoreFields(validate.Unit{}, "Findings")); diff != "" {
		t.Errorf("merged shards (-unsharded with the documented difference +merged):\n%s", diff)
	}
	for i := range min(len(want.Units), len(got.Units)) {
		w := 0
		for _, k := range want.Units[i].Findings {
			// The Widget's schema-missing belongs to no unit.
			if f := want.Findings[k]; f.Rule != validate.RuleSchemaInvalid || f.Object != "Widget/default/w" {
				w++
			}
		}
		if g := len(got.Units[i].Findings); w != g {
			t.Errorf("unit %s of %s: %d findings merged, %d unsharded", got.Units[i].ID, got.Units[i].Cluster, g, w)
		}
	}
	// The committed Gadget CRD checks the Gadget in every shard.
	var gadget []string
	for _, f := range got.Findings {
		if f.Object == "Gadget/default/g" {
			gadget = append(gadget, f.Rule)
		}
	}
	if diff := cmp.Diff([]string{validate.RuleSchemaInvalid}, gadget); diff != "" {
		t.Errorf("Gadget findings (-want +got):\n%s", diff)
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func TestShardFlagAndMergeErrors(t *testing.T) {
	dir := t.TempDir()
	jsonFile := filepath.Join(dir, "a.json")
	sarifFile := filepath.Join(dir, "b.sarif")
	junk := filepath.Join(dir, "junk.txt")
	if _, stderr, code := run(t, "validate", filepath.Join(fleets, "plain-overlays"), "-o", "json="+jsonFile, "-o", "sarif="+sarifFile); code != 0 {
		t.Fatalf("validate: exit %d: %s", code, stderr)
	}
	if err := os.WriteFile(junk, []byte("not a report\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"shard 0", []string{"validate", fleets + "/plain-overlays", "--shard", "0/2"}, 2, `--shard "0/2": want i/n`},
		{"shard above n", []string{"validate", fleets + "/plain-overlays", "--shard", "3/2"}, 2, "1 ≤ i ≤ n"},
		{"shard not i/n", []string{"render", fleets + "/plain-overlays", "--shard", "2"}, 2, `--shard "2"`},
		{"mixed formats", []string{"report", "merge", jsonFile, sarifFile}, 2, sarifFile + ": reports in different formats: a sarif report among json reports"},
		{"not a report", []string{"report", "merge", jsonFile, junk}, 2, junk + ": not a fluxgate json, sarif or junit report"},
		{"missing file", []string{"report", "merge", filepath.Join(dir, "nope.json")}, 2, "nope.json"},
		{"sarif to text", []string{"report", "merge", "-o", "text", sarifFile}, 2, "sarif reports merge into sarif only"},
		{"json to sarif", []string{"report", "merge", "-o", "sarif", jsonFile}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := run(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d: %s", code, tt.wantCode, stderr)
			}
			if !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantErr, stderr)
			}
		})
	}
}
