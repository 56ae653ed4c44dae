package render_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	helmregistry "helm.sh/helm/v3/pkg/registry"
	"helm.sh/helm/v3/pkg/repo"
	"sigs.k8s.io/yaml"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/internal/testenv"
	"github.com/fluxgate/fluxgate/render"
)

// renderHelmFleet loads dir with sources mapped and renders the cluster
// entry point.
func renderHelmFleet(t *testing.T, dir string, sources map[string]string, opts render.Options) *render.Result {
	t.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	repo, err := fleet.Load(ctx, os.DirFS(abs), fleet.Options{Sources: sources})
	if err != nil {
		t.Fatalf("load %s: %v", dir, err)
	}
	opts.Dir, opts.Paths = abs, []string{"cluster"}
	res, err := render.Render(ctx, repo, opts)
	if err != nil {
		t.Fatalf("render %s: %v", dir, err)
	}
	return res
}

// dumpHelm prints the HelmRelease units with each object's template.
func dumpHelm(t *testing.T, res *render.Result) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, u := range res.Units {
		if u.Kind != render.KindHelmRelease {
			continue
		}
		fmt.Fprintf(&b, "### %s (%s:%d) path=%s parent=%s failed=%v\n", u.ID, u.File, u.Line, u.Path, u.Parent, u.Failed)
		for _, p := range u.Problems {
			fmt.Fprintf(&b, "# problem: %s\n", p.String())
		}
		for _, o := range u.Objects {
			y, err := yaml.Marshal(o.Object)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "--- # from %s:%d template %s\n%s", o.File, o.Line, o.Template, y)
		}
	}
	return b.Bytes()
}

// TestHelmReleaseLocalChartGolden renders charts of the repository through
// a GitRepository: values merge order, valuesFrom (valuesKey, targetPath,
// optional), valuesFiles, the CRD policy, release names (targetNamespace,
// 53-character rule), hooks, namespaces and a missing chart.
func TestHelmReleaseLocalChartGolden(t *testing.T) {
	res := renderHelmFleet(t, filepath.Join("testdata", "helm"), map[string]string{"GitRepository/apps/charts": "."},
		render.Options{Offline: true, CacheDir: t.TempDir()})
	golden(t, "helm-local.txt", dumpHelm(t, res))
}

// chartServer serves a Helm HTTP repository of the demo chart in several
// versions, packaged with the Helm SDK, and counts requests per path.
type chartServer struct {
	*httptest.Server
	mu   sync.Mutex
	hits map[string]int
}

func (s *chartServer) count(p string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[p]
}

func newChartServer(t *testing.T, versions ...string) *chartServer {
	t.Helper()
	dir := t.TempDir()
	idx := repo.NewIndexFile()
	for _, v := range versions {
		c, err := loader.LoadDir(filepath.Join("testdata", "helm", "charts", "demo"))
		if err != nil {
			t.Fatal(err)
		}
		c.Metadata.Version = v
		file, err := chartutil.Save(c, dir)
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if err := idx.MustAdd(c.Metadata, filepath.Base(file), "", hex.EncodeToString(sum[:])); err != nil {
			t.Fatal(err)
		}
	}
	if err := idx.WriteFile(filepath.Join(dir, "index.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := &chartServer{hits: map[string]int{}}
	files := http.FileServer(http.Dir(dir))
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		s.mu.Unlock()
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// writeRemoteFleet writes a fleet whose HelmReleases take the demo chart
// from a HelmRepository at url, one per version constraint.
func writeRemoteFleet(t *testing.T, url string, versions []string) string {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n  name: demo\n  namespace: apps\nspec:\n  interval: 1h\n  url: %s\n", url)
	for i, v := range versions {
		fmt.Fprintf(&b, "---\napiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: r%d\n  namespace: apps\nspec:\n  interval: 1h\n  chart:\n    spec:\n      chart: demo\n      version: %q\n      sourceRef:\n        kind: HelmRepository\n        name: demo\n", i, v)
	}
	if err := os.MkdirAll(filepath.Join(dir, "cluster"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cluster", "releases.yaml"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	kust := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- releases.yaml\n"
	if err := os.WriteFile(filepath.Join(dir, "cluster", "kustomization.yaml"), []byte(kust), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// chartVersions maps each HelmRelease unit to the chart version it
// rendered, or to its first problem's rule.
func chartVersions(res *render.Result) map[string]string {
	out := map[string]string{}
	for _, u := range res.Units {
		if u.Kind != render.KindHelmRelease {
			continue
		}
		if len(u.Problems) > 0 {
			out[u.Name] = u.Problems[0].Rule
			continue
		}
		for _, o := range u.Objects {
			if o.Object["kind"] == "ConfigMap" {
				data, _ := o.Object["data"].(map[string]any)
				out[u.Name], _ = data["chartVersion"].(string)
			}
		}
	}
	return out
}

var remoteVersions = []string{"1.0.0", "1.5.0", "2.0.0", "2.1.0-rc.1", "13.2.1"}

func TestHelmRepositoryVersionConstraints(t *testing.T) {
	srv := newChartServer(t, remoteVersions...)
	cases := []struct{ constraint, want string }{
		{"", "13.2.1"},
		{"*", "13.2.1"},
		{"13.x.x", "13.2.1"},
		{">=1.0.0 <2.0.0", "1.5.0"},
		{"2.x", "2.0.0"},
		{">=2.0.0-0 <3.0.0", "2.1.0-rc.1"},
		{"2.1.0-rc.1", "2.1.0-rc.1"},
		{"1.0.0", "1.0.0"},
		{"99.x", fleet.RuleRenderFailed},
	}
	var constraints []string
	want := map[string]string{}
	for i, c := range cases {
		constraints = append(constraints, c.constraint)
		want[fmt.Sprintf("r%d", i)] = c.want
	}
	dir := writeRemoteFleet(t, srv.URL, constraints)
	res := renderHelmFleet(t, dir, nil, render.Options{CacheDir: t.TempDir()})
	if diff := cmp.Diff(want, chartVersions(res)); diff != "" {
		t.Errorf("chart versions (-want +got):\n%s", diff)
	}
	if n := srv.count("/index.yaml"); n != 1 {
		t.Errorf("index.yaml fetched %d times in one render, want 1", n)
	}
}

func TestHelmChartCache(t *testing.T) {
	srv := newChartServer(t, "1.0.0", "1.5.0")
	dir := writeRemoteFleet(t, srv.URL, []string{"1.x"})
	cache := t.TempDir()
	first := renderHelmFleet(t, dir, nil, render.Options{CacheDir: cache})
	second := renderHelmFleet(t, dir, nil, render.Options{CacheDir: cache})
	want := map[string]string{"r0": "1.5.0"}
	for i, res := range []*render.Result{first, second} {
		if diff := cmp.Diff(want, chartVersions(res)); diff != "" {
			t.Errorf("render %d (-want +got):\n%s", i+1, diff)
		}
	}
	if n := srv.count("/demo-1.5.0.tgz"); n != 1 {
		t.Errorf("chart downloaded %d times over two renders, want 1 (the second from the cache)", n)
	}
	// Offline, the cached index and chart are enough.
	srv.Close()
	offline := renderHelmFleet(t, dir, nil, render.Options{CacheDir: cache, Offline: true})
	if diff := cmp.Diff(want, chartVersions(offline)); diff != "" {
		t.Errorf("offline render from the cache (-want +got):\n%s", diff)
	}
	// A corrupted blob is not trusted.
	blobs, _ := filepath.Glob(filepath.Join(cache, "blobs", "*"))
	for _, b := range blobs {
		if err := os.WriteFile(b, []byte("corrupt"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	corrupt := renderHelmFleet(t, dir, nil, render.Options{CacheDir: cache, Offline: true})
	if diff := cmp.Diff(map[string]string{"r0": fleet.RuleChartUnavailable}, chartVersions(corrupt)); diff != "" {
		t.Errorf("offline render with a corrupted cache (-want +got):\n%s", diff)
	}
}

func TestHelmOfflineEmptyCache(t *testing.T) {
	srv := newChartServer(t, "1.0.0")
	dir := writeRemoteFleet(t, srv.URL, []string{"1.0.0"})
	res := renderHelmFleet(t, dir, nil, render.Options{CacheDir: t.TempDir(), Offline: true})
	if diff := cmp.Diff(map[string]string{"r0": fleet.RuleChartUnavailable}, chartVersions(res)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, u := range res.Units {
		for _, p := range u.Problems {
			if p.Severity != fleet.SeverityWarning || u.Failed {
				t.Errorf("chart-unavailable must be a warning on a unit that is not failed: %s (failed=%v)", p, u.Failed)
			}
		}
	}
	if n := srv.count("/index.yaml"); n != 0 {
		t.Errorf("offline render made %d requests", n)
	}
}

// TestHelmOCIRepository pulls the demo chart from a real in-process OCI
// registry, pushed with Helm's registry client, through an OCI
// HelmRepository and an OCIRepository chartRef.
func TestHelmOCIRepository(t *testing.T) {
	srv := httptest.NewServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	client, err := helmregistry.NewClient(helmregistry.ClientOptPlainHTTP(), helmregistry.ClientOptWriter(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"1.0.0", "1.5.0", "2.0.0"} {
		c, err := loader.LoadDir(filepath.Join("testdata", "helm", "charts", "demo"))
		if err != nil {
			t.Fatal(err)
		}
		c.Metadata.Version = v
		file, err := chartutil.Save(c, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := client.Push(data, host+"/charts/demo:"+v); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	fleetYAML := fmt.Sprintf(`apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: oci
  namespace: apps
spec:
  type: oci
  insecure: true
  url: oci://%[1]s/charts
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: r0
  namespace: apps
spec:
  chart:
    spec:
      chart: demo
      version: 1.x
      sourceRef:
        kind: HelmRepository
        name: oci
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: demo
  namespace: apps
spec:
  insecure: true
  url: oci://%[1]s/charts/demo
  ref:
    semver: ">=2.0.0"
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: r1
  namespace: apps
spec:
  chartRef:
    kind: OCIRepository
    name: demo
`, host)
	if err := os.MkdirAll(filepath.Join(dir, "cluster"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cluster", "releases.yaml"), []byte(fleetYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	kust := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- releases.yaml\n"
	if err := os.WriteFile(filepath.Join(dir, "cluster", "kustomization.yaml"), []byte(kust), 0o644); err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	want := map[string]string{"r0": "1.5.0", "r1": "2.0.0"}
	res := renderHelmFleet(t, dir, nil, render.Options{CacheDir: cache})
	if diff := cmp.Diff(want, chartVersions(res)); diff != "" {
		t.Errorf("online (-want +got):\n%s", diff)
	}
	srv.Close()
	offline := renderHelmFleet(t, dir, nil, render.Options{CacheDir: cache, Offline: true})
	if diff := cmp.Diff(want, chartVersions(offline)); diff != "" {
		t.Errorf("offline from the cache (-want +got):\n%s", diff)
	}
}

// TestHelmPostRenderersAndCommonMetadata runs spec.postRenderers (kustomize
// patches, in order) and spec.commonMetadata as helm-controller does: on
// the release's manifest, not on hooks (Helm 3) nor on the chart's crds/.
func TestHelmPostRenderersAndCommonMetadata(t *testing.T) {
	dir := t.TempDir()
	testenv.CopyTree(t, filepath.Join("testdata", "helm", "charts"), filepath.Join(dir, "charts"))
	releases := `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: charts
  namespace: apps
spec:
  interval: 10m
  url: https://example.org/charts.git
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: post
  namespace: apps
spec:
  interval: 10m
  chart:
    spec:
      chart: ./charts/demo
      sourceRef:
        kind: GitRepository
        name: charts
  commonMetadata:
    labels:
      team: platform
  postRenderers:
  - kustomize:
      patches:
      - target:
          kind: ConfigMap
        patch: |
          - op: add
            path: /metadata/annotations
            value:
              patched: first
  - kustomize:
      patches:
      - target:
          kind: ConfigMap
        patch: |
          apiVersion: v1
          kind: ConfigMap
          metadata:
            name: not-used
            annotations:
              patched: second
`
	for name, content := range map[string]string{"cluster/releases.yaml": releases, "cluster/kustomization.yaml": "resources:\n- releases.yaml\n"} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res := renderHelmFleet(t, dir, map[string]string{"GitRepository/apps/charts": "."}, render.Options{Offline: true, CacheDir: t.TempDir()})
	var unit *render.Unit
	for _, u := range res.Units {
		if u.ID == "HelmRelease/apps/post" {
			unit = u
		}
	}
	if unit == nil || unit.Failed {
		t.Fatalf("unit: %+v", unit)
	}
	got := map[string]string{}
	for _, o := range unit.Objects {
		md, _ := o.Object["metadata"].(map[string]any)
		labels, _ := md["labels"].(map[string]any)
		ann, _ := md["annotations"].(map[string]any)
		got[o.Ref()] = fmt.Sprintf("team=%v patched=%v", labels["team"], ann["patched"])
	}
	want := map[string]string{
		"ConfigMap/apps/post-values":                   "team=platform patched=second",
		"ClusterRole/post-reader":                      "team=platform patched=<nil>",
		"Widget/apps/post":                             "team=platform patched=<nil>",
		"CustomResourceDefinition/widgets.example.org": "team=<nil> patched=<nil>",
		"Job/apps/post-migrate":                        "team=<nil> patched=<nil>",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
}
