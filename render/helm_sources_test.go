package render_test

import (
	"crypto/rand"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/getsops/sops/v3/config"
	sopsyaml "github.com/getsops/sops/v3/stores/yaml"
	"github.com/google/go-cmp/cmp"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"helm.sh/helm/v3/pkg/chart"
	helmregistry "helm.sh/helm/v3/pkg/registry"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/internal/testenv"
	"github.com/fluxgate/fluxgate/render"
	"github.com/fluxgate/fluxgate/render/sops"
)

// unitOf finds a HelmRelease unit by name.
func unitOf(t *testing.T, res *render.Result, name string) *render.Unit {
	t.Helper()
	for _, u := range res.Units {
		if u.Kind == render.KindHelmRelease && u.Name == name {
			return u
		}
	}
	t.Fatalf("no HelmRelease %s", name)
	return nil
}

// TestHelmLocalChartDependencies builds the dependencies of charts in a
// GitRepository as source-controller does: one from an HTTP repository
// (with the credentials of the namespace's HelmRepository of that URL),
// one by file:// inside the source (with an alias); a missing one is one
// problem on its release.
func TestHelmLocalChartDependencies(t *testing.T) {
	name, data := packChart(t, "", "1.5.0", nil)
	name2, data2 := packChart(t, "", "1.0.0", nil)
	srv := newRepoServer(t, map[string][]byte{name: data, name2: data2}, "", basicAuth(repoUser, repoPass), false)
	t.Setenv("FLUXGATE_HELM_APPS_DEPS_USERNAME", repoUser)
	t.Setenv("FLUXGATE_HELM_APPS_DEPS_PASSWORD", repoPass)
	git := "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: charts\n  namespace: apps\nspec:\n  interval: 10m\n  url: https://example.org/charts.git\n" +
		fmt.Sprintf("---\napiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n  name: deps\n  namespace: apps\nspec:\n  url: %s/\n", srv.URL)
	local := func(chartPath string) string {
		return fmt.Sprintf("  chart:\n    spec:\n      chart: %s\n      sourceRef:\n        kind: GitRepository\n        name: charts\n", chartPath)
	}
	releases := git + helmRelease("umbrella", local("./charts/umbrella")) + helmRelease("broken", local("./charts/broken"))
	dir := writeFleet(t, releases, map[string]string{
		"charts/umbrella/Chart.yaml": fmt.Sprintf(`apiVersion: v2
name: umbrella
version: 0.1.0
dependencies:
- name: demo
  version: 1.x
  repository: %s
- name: common
  alias: shared
  version: ">=0.1.0"
  repository: file://../common
`, srv.URL),
		"charts/umbrella/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: umbrella\ndata:\n  shared: {{ .Values.shared.greeting | quote }}\n",
		"charts/umbrella/values.yaml":       "shared:\n  greeting: from-umbrella\n",
		"charts/common/Chart.yaml":          "apiVersion: v2\nname: common\nversion: 0.2.0\n",
		"charts/common/templates/cm.yaml":   "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Chart.Name }}-common\ndata:\n  greeting: {{ .Values.greeting | quote }}\n",
		"charts/common/values.yaml":         "greeting: hello\n",
		"charts/broken/Chart.yaml":          "apiVersion: v2\nname: broken\nversion: 0.1.0\ndependencies:\n- name: nope\n  version: 1.x\n  repository: file://../nope\n",
		"charts/broken/templates/cm.yaml":   "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken\n",
	})
	res := renderHelmFleet(t, dir, map[string]string{"GitRepository/apps/charts": "."}, render.Options{CacheDir: t.TempDir()})

	umbrella := unitOf(t, res, "umbrella")
	if len(umbrella.Problems) > 0 {
		t.Fatalf("umbrella: %s", problemsOf(res))
	}
	got := map[string]string{}
	for _, o := range umbrella.Objects {
		if o.Object["kind"] == "ConfigMap" {
			got[o.Ref()+" "+o.Template] = nested(o.Object, "data", "chartVersion") + nested(o.Object, "data", "greeting") + nested(o.Object, "data", "shared")
		}
	}
	want := map[string]string{
		"ConfigMap/apps/umbrella umbrella/templates/cm.yaml":                           "from-umbrella",
		"ConfigMap/apps/shared-common umbrella/charts/shared/templates/cm.yaml":        "from-umbrella",
		"ConfigMap/apps/umbrella-values umbrella/charts/demo/templates/configmap.yaml": "1.5.0",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("umbrella objects (-want +got):\n%s", diff)
	}
	broken := unitOf(t, res, "broken")
	if len(broken.Problems) != 1 || broken.Problems[0].Rule != fleet.RuleRenderFailed ||
		!strings.Contains(broken.Problems[0].Message, "failed to add local dependency 'nope': no chart found at 'charts/nope'") {
		t.Errorf("broken: %s", problemsOf(res))
	}
}

// TestHelmOCIRepositoryRef chooses an OCIRepository's chart as
// source-controller does: digest over semver over tag, semverFilter on
// the tags, latest by default; an unknown digest is a problem.
func TestHelmOCIRepositoryRef(t *testing.T) {
	reg := httptest.NewServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(reg.Close)
	host := strings.TrimPrefix(reg.URL, "http://")
	client, err := helmregistry.NewClient(helmregistry.ClientOptPlainHTTP(), helmregistry.ClientOptWriter(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	digests := map[string]string{}
	for _, v := range []string{"1.0.0", "1.5.0", "2.0.0", "2.1.0"} {
		_, data := packChart(t, "", v, nil)
		res, err := client.Push(data, host+"/charts/demo:"+v)
		if err != nil {
			t.Fatal(err)
		}
		digests[v] = res.Manifest.Digest
	}
	_, latest := packChart(t, "", "9.9.9", nil)
	if _, err := client.Push(latest, host+"/charts/demo:latest", helmregistry.PushOptStrictMode(false)); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, ref, want string }{
		{"digest-wins", fmt.Sprintf("digest: %s\n    semver: '>=2.0.0'\n    tag: 2.0.0", digests["1.0.0"]), "1.0.0"},
		{"semver-over-tag", "semver: '>=2.0.0'\n    tag: 1.0.0", "2.1.0"},
		{"semver-filter", "semver: '*'\n    semverFilter: '^1\\.'", "1.5.0"},
		{"tag", "tag: 2.0.0", "2.0.0"},
		{"latest", "", "9.9.9"},
		{"unknown-digest", "digest: sha256:" + strings.Repeat("0", 64), fleet.RuleChartUnavailable},
		{"bad-digest", "digest: not-a-digest", fleet.RuleRenderFailed},
	}
	var releases strings.Builder
	want := map[string]string{}
	for _, c := range cases {
		spec := fmt.Sprintf("---\napiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata:\n  name: %s\n  namespace: apps\nspec:\n  insecure: true\n  url: oci://%s/charts/demo\n", c.name, host)
		if c.ref != "" {
			spec += "  ref:\n    " + c.ref + "\n"
		}
		releases.WriteString(spec + helmRelease(c.name, "  chartRef:\n    kind: OCIRepository\n    name: "+c.name+"\n"))
		want[c.name] = c.want
	}
	dir := writeFleet(t, releases.String(), nil)
	cache := t.TempDir()
	res := renderHelmFleet(t, dir, nil, render.Options{CacheDir: cache})
	if diff := cmp.Diff(want, chartVersions(res)); diff != "" {
		t.Errorf("(-want +got):\n%s\n%s", diff, problemsOf(res))
	}
	if got := unitOf(t, res, "digest-wins").Path; got != fmt.Sprintf("oci://%s/charts/demo@%s", host, digests["1.0.0"]) {
		t.Errorf("path of the digest release = %s", got)
	}
	// Offline, every reference that resolved comes from the cache.
	reg.Close()
	offline := renderHelmFleet(t, dir, nil, render.Options{CacheDir: cache, Offline: true})
	want["unknown-digest"] = fleet.RuleChartUnavailable
	if diff := cmp.Diff(want, chartVersions(offline)); diff != "" {
		t.Errorf("offline (-want +got):\n%s\n%s", diff, problemsOf(offline))
	}
}

// TestHelmChartRefHelmChart renders from HelmChart objects: one of a
// HelmRepository with values files of the chart, one of a GitRepository
// with values files of the source.
func TestHelmChartRefHelmChart(t *testing.T) {
	n1, d1 := packChart(t, "", "1.0.0", nil)
	n2, d2 := packChart(t, "", "1.5.0", nil)
	srv := newRepoServer(t, map[string][]byte{n1: d1, n2: d2}, "", nil, false)
	releases := fmt.Sprintf(`apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: demo
  namespace: apps
spec:
  url: %s
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: charts
  namespace: apps
spec:
  interval: 10m
  url: https://example.org/charts.git
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmChart
metadata:
  name: remote
  namespace: apps
spec:
  chart: demo
  version: 1.x
  sourceRef:
    kind: HelmRepository
    name: demo
  valuesFiles:
  - values.yaml
  - values-prod.yaml
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmChart
metadata:
  name: local
  namespace: apps
spec:
  chart: ./charts/demo
  sourceRef:
    kind: GitRepository
    name: charts
  valuesFiles:
  - charts/demo/values.yaml
  - charts/demo/values-prod.yaml
  - charts/demo/missing.yaml
  ignoreMissingValuesFiles: true
`, srv.URL) + helmRelease("remote", "  chartRef:\n    kind: HelmChart\n    name: remote\n") +
		helmRelease("local", "  chartRef:\n    kind: HelmChart\n    name: local\n") +
		helmRelease("absent", "  chartRef:\n    kind: HelmChart\n    name: absent\n")
	dir := t.TempDir()
	testenv.CopyTree(t, filepath.Join("testdata", "helm", "charts"), filepath.Join(dir, "charts"))
	dir2 := writeFleet(t, releases, nil)
	testenv.CopyTree(t, filepath.Join(dir2, "cluster"), filepath.Join(dir, "cluster"))
	res := renderHelmFleet(t, dir, map[string]string{"GitRepository/apps/charts": "."}, render.Options{CacheDir: t.TempDir()})
	if diff := cmp.Diff(map[string]string{"remote": "1.5.0", "local": "1.2.3", "absent": fleet.RuleSourceNotFound}, chartVersions(res)); diff != "" {
		t.Errorf("(-want +got):\n%s\n%s", diff, problemsOf(res))
	}
	values := map[string]string{}
	for _, name := range []string{"remote", "local"} {
		for _, o := range unitOf(t, res, name).Objects {
			if o.Object["kind"] == "ConfigMap" {
				values[name] = nested(o.Object, "data", "values.json")
			}
		}
	}
	wantValues := map[string]string{
		"remote": `{"image":{"repository":"example.org/demo","tag":"chart-default"},"layers":{"chart":true,"valuesFile":true},"replicas":5}`,
		"local":  `{"image":{"repository":"example.org/demo","tag":"chart-default"},"layers":{"chart":true,"valuesFile":true},"replicas":5}`,
	}
	if diff := cmp.Diff(wantValues, values); diff != "" {
		t.Errorf("values (-want +got):\n%s", diff)
	}
}

// TestHelmChartLimits refuses a chart over source-controller's 10 MiB
// limit and an archive that is not a chart, each one problem on its own
// release; the others render.
func TestHelmChartLimits(t *testing.T) {
	bigName, big := packChart(t, "", "1.0.0", func(c *chart.Chart) {
		c.Metadata.Name = "big"
		for i := 0; i < 3; i++ {
			data := make([]byte, 4<<20) // under Helm's 5 MiB per file
			if _, err := rand.Read(data); err != nil {
				t.Fatal(err)
			}
			c.Files = append(c.Files, &chart.File{Name: fmt.Sprintf("blob%d.bin", i), Data: data})
		}
	})
	okName, ok := packChart(t, "", "1.0.0", nil)
	srv := newRepoServer(t, map[string][]byte{bigName: big, okName: ok, "notachart-1.0.0.tgz": []byte("this is not a gzip archive")}, "", nil, false)
	chartOf := func(name string) string {
		return fmt.Sprintf("  chart:\n    spec:\n      chart: %s\n      version: 1.0.0\n      sourceRef:\n        kind: HelmRepository\n        name: repo\n", name)
	}
	releases := fmt.Sprintf("apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n  name: repo\n  namespace: apps\nspec:\n  url: %s\n", srv.URL) +
		helmRelease("big", chartOf("big")) + helmRelease("notachart", chartOf("notachart")) + helmRelease("ok", chartOf("demo"))
	res := renderHelmFleet(t, writeFleet(t, releases, nil), nil, render.Options{CacheDir: t.TempDir()})
	want := map[string]string{"big": fleet.RuleRenderFailed, "notachart": fleet.RuleRenderFailed, "ok": "1.0.0"}
	if diff := cmp.Diff(want, chartVersions(res)); diff != "" {
		t.Errorf("(-want +got):\n%s\n%s", diff, problemsOf(res))
	}
	for name, msg := range map[string]string{"big": "exceeds the maximum chart size of 10485760 bytes", "notachart": "load chart notachart 1.0.0: "} {
		u := unitOf(t, res, name)
		if len(u.Problems) != 1 || !strings.Contains(u.Problems[0].Message, msg) {
			t.Errorf("%s: want one problem with %q:\n%s", name, msg, problemsOf(res))
		}
	}
}

// TestHelmChartFetchedOnce renders two releases of one chart, twice with
// one cache: the archive is downloaded once, the index fetched once per
// render and revalidated (304) by the second.
func TestHelmChartFetchedOnce(t *testing.T) {
	name, data := packChart(t, "", "1.0.0", nil)
	srv := newRepoServer(t, map[string][]byte{name: data}, "", nil, false)
	releases := fmt.Sprintf("apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n  name: repo\n  namespace: apps\nspec:\n  url: %s\n", srv.URL) +
		helmRelease("a", repoChart("repo", "1.0.0")) + helmRelease("b", repoChart("repo", "1.x"))
	dir := writeFleet(t, releases, nil)
	cache := t.TempDir()
	for i := 1; i <= 2; i++ {
		res := renderHelmFleet(t, dir, nil, render.Options{CacheDir: cache})
		if diff := cmp.Diff(map[string]string{"a": "1.0.0", "b": "1.0.0"}, chartVersions(res)); diff != "" {
			t.Errorf("render %d (-want +got):\n%s", i, diff)
		}
		hits, _ := srv.count("/" + name)
		index, notModified := srv.count("/index.yaml")
		if hits != 1 || index != i || notModified != i-1 {
			t.Errorf("after render %d: chart fetched %d times (want 1), index %d times (want %d) with %d 304s (want %d)", i, hits, index, i, notModified, i-1)
		}
	}
}

// TestHelmValuesFromSOPSSecret takes values from a SOPS-encrypted Secret
// of a Kustomization that declares decryption: the decrypted value
// reaches the chart and is listed as sensitive.
func TestHelmValuesFromSOPSSecret(t *testing.T) {
	id := newIdentity(t)
	yamlStore := sopsyaml.NewStore(&config.YAMLStoreConfig{})
	secret := encrypt(t, yamlStore, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: helm-values\n  namespace: apps\nstringData:\n  values.yaml: |\n    auth:\n      token: "+canary+"-helm\n",
		id.Recipient().String(), "^(data|stringData)$")
	dir := testenv.WriteTree(t, map[string]string{
		"cluster/kustomization.yaml": "resources:\n- app.yaml\n",
		"cluster/app.yaml": "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: app\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./app\n  prune: true\n" +
			"  sourceRef:\n    kind: GitRepository\n    name: flux-system\n  decryption:\n    provider: sops\n    secretRef:\n      name: sops-age\n",
		"app/kustomization.yaml": "resources:\n- release.yaml\n- secret.sops.yaml\n",
		"app/secret.sops.yaml":   secret,
		"app/release.yaml": "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: sops\n  namespace: apps\nspec:\n  interval: 10m\n" +
			"  chart:\n    spec:\n      chart: ./charts/demo\n      sourceRef:\n        kind: GitRepository\n        name: flux-system\n        namespace: flux-system\n" +
			"  valuesFrom:\n  - kind: Secret\n    name: helm-values\n",
	})
	testenv.CopyTree(t, filepath.Join("testdata", "helm", "charts"), filepath.Join(dir, "charts"))
	dec, err := sops.NewDecryptor(id.String())
	if err != nil {
		t.Fatal(err)
	}
	res := renderHelmFleet(t, dir, map[string]string{"GitRepository/flux-system/flux-system": "."}, render.Options{CacheDir: t.TempDir(), Offline: true, Decryptor: dec})
	u := unitOf(t, res, "sops")
	if len(res.Problems()) > 0 {
		t.Fatalf("problems:\n%s", problemsOf(res))
	}
	var values string
	for _, o := range u.Objects {
		if o.Object["kind"] == "ConfigMap" {
			values = nested(o.Object, "data", "values.json")
		}
	}
	if !strings.Contains(values, `"token":"`+canary+`-helm"`) {
		t.Errorf("values: %s", values)
	}
	if !strings.Contains(strings.Join(u.Sensitive, "\n"), canary+"-helm") {
		t.Error("the decrypted values are not in Sensitive")
	}
}

// TestHelmPostRenderedTemplates keeps the chart template of objects that
// survive post-rendering.
func TestHelmPostRenderedTemplates(t *testing.T) {
	releases := "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: charts\n  namespace: apps\nspec:\n  interval: 10m\n  url: https://example.org/charts.git\n" +
		helmRelease("post", `  chart:
    spec:
      chart: ./charts/demo
      sourceRef:
        kind: GitRepository
        name: charts
  postRenderers:
  - kustomize:
      patches:
      - target:
          kind: ConfigMap
        patch: |
          - op: add
            path: /metadata/annotations
            value:
              patched: "yes"
`)
	dir := writeFleet(t, releases, nil)
	testenv.CopyTree(t, filepath.Join("testdata", "helm", "charts"), filepath.Join(dir, "charts"))
	res := renderHelmFleet(t, dir, map[string]string{"GitRepository/apps/charts": "."}, render.Options{CacheDir: t.TempDir(), Offline: true})
	got := map[string]string{}
	for _, o := range unitOf(t, res, "post").Objects {
		got[o.Ref()] = o.Template
	}
	want := map[string]string{
		"ConfigMap/apps/post-values":                   "demo/templates/configmap.yaml",
		"ClusterRole/post-reader":                      "demo/templates/clusterrole.yaml",
		"Widget/apps/post":                             "demo/templates/clusterrole.yaml",
		"CustomResourceDefinition/widgets.example.org": "demo/crds/widgets.yaml",
		"Job/apps/post-migrate":                        "demo/templates/hook.yaml",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("templates (-want +got):\n%s", diff)
	}
}
