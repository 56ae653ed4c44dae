package render_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/repo"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/internal/testenv"
	"github.com/fluxgate/fluxgate/render"
)

// benchHelmReleases is how many HelmReleases the BenchmarkHelmRelease fleet
// declares; each renders benchChartObjects objects.
const (
	benchHelmReleases = 20
	benchChartObjects = 4
)

// benchChart is a small web-service chart: a ServiceAccount, ConfigMap,
// Service and Deployment driven by values, with named templates.
var benchChart = map[string]string{
	"Chart.yaml": `apiVersion: v2
name: webapp
description: A small web service
type: application
version: 1.4.2
appVersion: "2.7.0"
`,
	"values.yaml": `replicaCount: 1
image:
  repository: ghcr.io/example/webapp
  tag: ""
  pullPolicy: IfNotPresent
serviceAccount:
  create: true
  annotations: {}
service:
  type: ClusterIP
  port: 80
  targetPort: 8080
config:
  LOG_LEVEL: info
  FEATURE_FLAGS: ""
resources:
  requests:
    cpu: 50m
    memory: 64Mi
  limits:
    memory: 128Mi
podAnnotations: {}
nodeSelector: {}
tolerations: []
`,
	"templates/_helpers.tpl": `{{- define "webapp.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "webapp.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "webapp.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "webapp.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "webapp.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{ include "webapp.fullname" . }}
{{- else -}}
default
{{- end -}}
{{- end -}}
`,
	"templates/serviceaccount.yaml": `{{- if .Values.serviceAccount.create -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "webapp.serviceAccountName" . }}
  labels:
    {{- include "webapp.labels" . | nindent 4 }}
  {{- with .Values.serviceAccount.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
`,
	"templates/configmap.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "webapp.fullname" . }}
  labels:
    {{- include "webapp.labels" . | nindent 4 }}
data:
  {{- range $k, $v := .Values.config }}
  {{ $k }}: {{ $v | quote }}
  {{- end }}
`,
	"templates/service.yaml": `apiVersion: v1
kind: Service
metadata:
  name: {{ include "webapp.fullname" . }}
  labels:
    {{- include "webapp.labels" . | nindent 4 }}
spec:
  type: {{ .Values.service.type }}
  ports:
  - port: {{ .Values.service.port }}
    targetPort: http
    protocol: TCP
    name: http
  selector:
    {{- include "webapp.selectorLabels" . | nindent 4 }}
`,
	"templates/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "webapp.fullname" . }}
  labels:
    {{- include "webapp.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.replicaCount }}
  selector:
    matchLabels:
      {{- include "webapp.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      annotations:
        checksum/config: {{ include (print $.Template.BasePath "/configmap.yaml") . | sha256sum }}
        {{- with .Values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      labels:
        {{- include "webapp.selectorLabels" . | nindent 8 }}
    spec:
      serviceAccountName: {{ include "webapp.serviceAccountName" . }}
      containers:
      - name: {{ .Chart.Name }}
        image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
        imagePullPolicy: {{ .Values.image.pullPolicy }}
        ports:
        - name: http
          containerPort: {{ .Values.service.targetPort }}
          protocol: TCP
        envFrom:
        - configMapRef:
            name: {{ include "webapp.fullname" . }}
        readinessProbe:
          httpGet:
            path: /healthz
            port: http
        resources:
          {{- toYaml .Values.resources | nindent 10 }}
      {{- with .Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
`,
}

// newBenchChartServer packages benchChart with the Helm SDK and serves it
// with its index.yaml as a Helm HTTP repository; *charts counts the chart
// archives served.
func newBenchChartServer(b *testing.B, charts *atomic.Int64) *httptest.Server {
	b.Helper()
	src := testenv.WriteTree(b, benchChart)
	c, err := loader.LoadDir(src)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	file, err := chartutil.Save(c, dir)
	if err != nil {
		b.Fatal(err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		b.Fatal(err)
	}
	sum := sha256.Sum256(data)
	idx := repo.NewIndexFile()
	if err := idx.MustAdd(c.Metadata, filepath.Base(file), "", hex.EncodeToString(sum[:])); err != nil {
		b.Fatal(err)
	}
	if err := idx.WriteFile(filepath.Join(dir, "index.yaml"), 0o644); err != nil {
		b.Fatal(err)
	}
	files := http.FileServer(http.Dir(dir))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ".tgz") {
			charts.Add(1)
		}
		files.ServeHTTP(w, r)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// writeHelmBenchFleet writes a cluster bootstrapped by flux-system whose one
// app Kustomization, helm-apps, holds a HelmRepository at url and n
// HelmReleases of the webapp chart, each in its own namespace with its own
// values.
func writeHelmBenchFleet(b *testing.B, url string, n int) string {
	b.Helper()
	var rel strings.Builder
	rel.WriteString("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- repository.yaml\n")
	for i := range n {
		fmt.Fprintf(&rel, "- team-%02d.yaml\n", i)
	}
	files := map[string]string{
		"clusters/bench/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- gotk-sync.yaml\n- apps.yaml\n",
		"clusters/bench/gotk-sync.yaml": `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 1m0s
  url: ssh://git@example.com/fleet/bench
  ref:
    branch: main
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 10m
  path: ./clusters/bench
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
`,
		"clusters/bench/apps.yaml": `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: helm-apps
  namespace: flux-system
spec:
  interval: 10m
  path: ./apps/helm
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
`,
		"apps/helm/kustomization.yaml": rel.String(),
		"apps/helm/repository.yaml": fmt.Sprintf(`apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: charts
  namespace: flux-system
spec:
  interval: 1h
  url: %s
`, url),
	}
	for i := range n {
		files[fmt.Sprintf("apps/helm/team-%02d.yaml", i)] = fmt.Sprintf(`apiVersion: v1
kind: Namespace
metadata:
  name: team-%02[1]d
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: web-%02[1]d
  namespace: team-%02[1]d
spec:
  interval: 30m
  chart:
    spec:
      chart: webapp
      version: ">=1.0.0 <2.0.0"
      sourceRef:
        kind: HelmRepository
        name: charts
        namespace: flux-system
  values:
    replicaCount: %[2]d
    image:
      tag: "2.7.%[1]d"
    config:
      LOG_LEVEL: debug
      TEAM: team-%02[1]d
    podAnnotations:
      team: team-%02[1]d
`, i, 1+i%3)
	}
	dir, err := filepath.Abs(testenv.WriteTree(b, files))
	if err != nil {
		b.Fatal(err)
	}
	return dir
}

// renderHelmBench is one iteration: load the fleet, render the cluster and
// check that every HelmRelease rendered the chart without errors.
func renderHelmBench(ctx context.Context, dir string, opts render.Options) error {
	r, err := fleet.Load(ctx, os.DirFS(dir), fleet.Options{})
	if err != nil {
		return fmt.Errorf("fleet.Load: %w", err)
	}
	opts.Dir, opts.Paths = dir, []string{"clusters/bench"}
	res, err := render.Render(ctx, r, opts)
	if err != nil {
		return fmt.Errorf("render.Render: %w", err)
	}
	if errs := genFleetErrors(r, res); len(errs) > 0 {
		return fmt.Errorf("%d errors, first: %s", len(errs), errs[0])
	}
	hrs := 0
	for _, u := range res.Units {
		if u.Kind != render.KindHelmRelease {
			continue
		}
		hrs++
		if len(u.Objects) != benchChartObjects {
			return fmt.Errorf("%s rendered %d objects, want %d (problems: %v)", u.ID, len(u.Objects), benchChartObjects, u.Problems)
		}
	}
	if hrs != benchHelmReleases {
		return fmt.Errorf("rendered %d HelmReleases, want %d", hrs, benchHelmReleases)
	}
	return nil
}

// BenchmarkHelmRelease measures fleet.Load plus render.Render of a cluster
// whose one Kustomization holds benchHelmReleases HelmReleases of a chart
// served by an in-process Helm HTTP repository. cold starts every iteration
// from an empty chart cache (index and chart downloaded); cached renders
// offline from a cache warmed before the timer.
func BenchmarkHelmRelease(b *testing.B) {
	var charts atomic.Int64
	srv := newBenchChartServer(b, &charts)
	dir := writeHelmBenchFleet(b, srv.URL, benchHelmReleases)
	ctx := context.Background()
	report := func(b *testing.B) {
		b.ReportMetric(float64(benchHelmReleases*b.N)/b.Elapsed().Seconds(), "helmreleases/s")
	}

	b.Run("cold", func(b *testing.B) {
		charts.Store(0)
		for range b.N {
			b.StopTimer()
			cache := b.TempDir()
			b.StartTimer()
			if err := renderHelmBench(ctx, dir, render.Options{CacheDir: cache}); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		if n := charts.Load(); n < int64(b.N) {
			b.Fatalf("%d chart downloads in %d cold iterations, want at least one each", n, b.N)
		}
		report(b)
	})

	b.Run("cached", func(b *testing.B) {
		cache := b.TempDir()
		if err := renderHelmBench(ctx, dir, render.Options{CacheDir: cache}); err != nil {
			b.Fatalf("warming the cache: %v", err)
		}
		charts.Store(0)
		b.ResetTimer()
		for range b.N {
			if err := renderHelmBench(ctx, dir, render.Options{CacheDir: cache, Offline: true}); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		if n := charts.Load(); n != 0 {
			b.Fatalf("%d chart downloads while rendering offline from the cache", n)
		}
		report(b)
	})
}
