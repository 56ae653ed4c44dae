package render_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"io/fs"
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
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	helmregistry "helm.sh/helm/v3/pkg/registry"
	"helm.sh/helm/v3/pkg/repo"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/internal/testenv"
	"github.com/fluxgate/fluxgate/render"
)

// packChart packages the chart at dir (testdata/helm/charts/demo when
// empty) with the Helm SDK, as version, after edit; it returns the
// archive's file name and content.
func packChart(t *testing.T, dir, version string, edit func(*chart.Chart)) (string, []byte) {
	t.Helper()
	if dir == "" {
		dir = filepath.Join("testdata", "helm", "charts", "demo")
	}
	c, err := loader.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	c.Metadata.Version = version
	if edit != nil {
		edit(c)
	}
	file, err := chartutil.Save(c, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Base(file), data
}

// repoServer is a Helm HTTP chart repository serving archives (and an
// index.yaml over them) behind an optional middleware, counting requests
// and 304 answers per path.
type repoServer struct {
	*httptest.Server
	mu          sync.Mutex
	hits        map[string]int
	notModified map[string]int
}

func (s *repoServer) count(p string) (hits, notModified int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[p], s.notModified[p]
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// newRepoServer serves archives (file name → content). baseURL, when set,
// makes the index's chart URLs absolute on another server; wrap guards
// the handler (authentication); useTLS serves HTTPS.
func newRepoServer(t *testing.T, archives map[string][]byte, baseURL string, wrap func(http.Handler) http.Handler, useTLS bool) *repoServer {
	t.Helper()
	dir := t.TempDir()
	idx := repo.NewIndexFile()
	for name, data := range archives {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
		md := &chart.Metadata{APIVersion: "v2", Name: strings.TrimSuffix(name, ".tgz"), Version: "0.0.0"}
		if c, err := loader.Load(filepath.Join(dir, name)); err == nil {
			md = c.Metadata
		} else {
			// Not a chart: index it under the name before the last dash.
			i := strings.LastIndex(md.Name, "-")
			md.Name, md.Version = md.Name[:i], md.Name[i+1:]
		}
		sum := sha256.Sum256(data)
		if err := idx.MustAdd(md, name, baseURL, hex.EncodeToString(sum[:])); err != nil {
			t.Fatal(err)
		}
	}
	if err := idx.WriteFile(filepath.Join(dir, "index.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := &repoServer{hits: map[string]int{}, notModified: map[string]int{}}
	var h http.Handler = http.FileServer(http.Dir(dir))
	if wrap != nil {
		h = wrap(h)
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		s.mu.Lock()
		s.hits[r.URL.Path]++
		if rec.status == http.StatusNotModified {
			s.notModified[r.URL.Path]++
		}
		s.mu.Unlock()
	})
	if useTLS {
		s.Server = httptest.NewUnstartedServer(handler)
		s.Server.Config.ErrorLog = log.New(io.Discard, "", 0)
		s.Server.StartTLS()
	} else {
		s.Server = httptest.NewServer(handler)
	}
	t.Cleanup(s.Close)
	return s
}

// basicAuth answers 401 to requests without the credentials.
func basicAuth(user, pass string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, p, ok := r.BasicAuth()
			if !ok || u != user || p != pass {
				w.Header().Set("WWW-Authenticate", `Basic realm="fluxgate-test"`)
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// writeFleet writes a fleet whose cluster entry point holds releases.yaml.
func writeFleet(t *testing.T, releases string, extra map[string]string) string {
	t.Helper()
	files := map[string]string{
		"cluster/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- releases.yaml\n",
		"cluster/releases.yaml":      releases,
	}
	for k, v := range extra {
		files[k] = v
	}
	return testenv.WriteTree(t, files)
}

func helmRelease(name, chartSpec string) string {
	return fmt.Sprintf("---\napiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: %s\n  namespace: apps\nspec:\n  interval: 1h\n%s", name, chartSpec)
}

func repoChart(repoName, version string) string {
	return fmt.Sprintf("  chart:\n    spec:\n      chart: demo\n      version: %q\n      sourceRef:\n        kind: HelmRepository\n        name: %s\n", version, repoName)
}

func secretYAML(name string, typ string, data map[string]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n  namespace: apps\n", name)
	if typ != "" {
		fmt.Fprintf(&b, "type: %s\n", typ)
	}
	b.WriteString("data:\n")
	for k, v := range data {
		fmt.Fprintf(&b, "  %s: %s\n", k, base64.StdEncoding.EncodeToString([]byte(v)))
	}
	return b.String()
}

// problemsOf maps each HelmRelease to its problems' messages.
func problemsOf(res *render.Result) string {
	var b strings.Builder
	for _, u := range res.Units {
		for _, p := range u.Problems {
			fmt.Fprintf(&b, "%s [%s] %s\n", u.Name, p.Rule, p.Message)
		}
	}
	return b.String()
}

// assertNoLeak fails when secret appears in a problem or in the cache.
func assertNoLeak(t *testing.T, res *render.Result, cache, secret string) {
	t.Helper()
	if strings.Contains(problemsOf(res), secret) {
		t.Errorf("a problem shows the credential:\n%s", problemsOf(res))
	}
	_ = filepath.WalkDir(cache, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if strings.Contains(p, secret) {
			t.Errorf("cache path %s holds the credential", p)
		}
		if data, err := os.ReadFile(p); err == nil && strings.Contains(string(data), secret) {
			t.Errorf("cache file %s holds the credential", p)
		}
		return nil
	})
}

const (
	repoUser = "fleet-reader"
	repoPass = "pw-5b1d0c7e"
)

func TestHelmRepositoryBasicAuth(t *testing.T) {
	name, data := packChart(t, "", "1.0.0", nil)
	srv := newRepoServer(t, map[string][]byte{name: data}, "", basicAuth(repoUser, repoPass), false)
	repoYAML := fmt.Sprintf("apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n  name: private\n  namespace: apps\nspec:\n  url: %s\n  secretRef:\n    name: repo-creds\n", srv.URL)
	releases := repoYAML + helmRelease("r0", repoChart("private", "1.x"))
	env := render.HelmCredentialsEnv("apps", "private")
	if env != "FLUXGATE_HELM_APPS_PRIVATE" {
		t.Fatalf("env prefix %q", env)
	}

	cases := []struct {
		name    string
		secret  string
		env     map[string]string
		want    string
		message string
	}{
		{name: "no credentials", want: fleet.RuleChartUnavailable, message: "set FLUXGATE_HELM_APPS_PRIVATE_USERNAME and FLUXGATE_HELM_APPS_PRIVATE_PASSWORD"},
		{name: "from the environment", env: map[string]string{env + "_USERNAME": repoUser, env + "_PASSWORD": repoPass}, want: "1.0.0"},
		{name: "from the Secret", secret: secretYAML("repo-creds", "", map[string]string{"username": repoUser, "password": repoPass}), want: "1.0.0"},
		{name: "wrong Secret", secret: secretYAML("repo-creds", "", map[string]string{"username": repoUser, "password": "wrong-" + repoPass}),
			want: fleet.RuleChartUnavailable, message: "the credentials from Secret/apps/repo-creds were rejected"},
		{name: "environment wins over the Secret", secret: secretYAML("repo-creds", "", map[string]string{"username": repoUser, "password": "wrong-" + repoPass}),
			env: map[string]string{env + "_USERNAME": repoUser, env + "_PASSWORD": repoPass}, want: "1.0.0"},
		{name: "half a Secret", secret: secretYAML("repo-creds", "", map[string]string{"username": repoUser}),
			want: fleet.RuleRenderFailed, message: "required fields 'username' and 'password'"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			cache := t.TempDir()
			res := renderHelmFleet(t, writeFleet(t, releases+c.secret, nil), nil, render.Options{CacheDir: cache})
			if diff := cmp.Diff(map[string]string{"r0": c.want}, chartVersions(res)); diff != "" {
				t.Errorf("(-want +got):\n%s\n%s", diff, problemsOf(res))
			}
			if !strings.Contains(problemsOf(res), c.message) {
				t.Errorf("problems do not say %q:\n%s", c.message, problemsOf(res))
			}
			assertNoLeak(t, res, cache, repoPass)
		})
	}
}

// TestHelmRepositoryPassCredentials serves the index on one host and the
// charts on another: the credentials go to the second only with
// spec.passCredentials, as Helm's getter decides.
func TestHelmRepositoryPassCredentials(t *testing.T) {
	name, data := packChart(t, "", "1.0.0", nil)
	charts := newRepoServer(t, map[string][]byte{name: data}, "", basicAuth(repoUser, repoPass), false)
	index := newRepoServer(t, map[string][]byte{name: data}, charts.URL, basicAuth(repoUser, repoPass), false)
	t.Setenv("FLUXGATE_HELM_APPS_PRIVATE_USERNAME", repoUser)
	t.Setenv("FLUXGATE_HELM_APPS_PRIVATE_PASSWORD", repoPass)
	for _, pass := range []bool{false, true} {
		t.Run(fmt.Sprint("passCredentials=", pass), func(t *testing.T) {
			releases := fmt.Sprintf("apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n  name: private\n  namespace: apps\nspec:\n  url: %s\n  passCredentials: %v\n", index.URL, pass) +
				helmRelease("r0", repoChart("private", "1.0.0"))
			res := renderHelmFleet(t, writeFleet(t, releases, nil), nil, render.Options{CacheDir: t.TempDir()})
			want := map[string]string{"r0": fleet.RuleChartUnavailable}
			if pass {
				want["r0"] = "1.0.0"
			}
			if diff := cmp.Diff(want, chartVersions(res)); diff != "" {
				t.Errorf("(-want +got):\n%s\n%s", diff, problemsOf(res))
			}
		})
	}
}

// TestHelmRepositoryTLS serves the repository over HTTPS with a test CA,
// trusted through certSecretRef's ca.crt or the _CA_FILE variable.
func TestHelmRepositoryTLS(t *testing.T) {
	name, data := packChart(t, "", "1.0.0", nil)
	srv := newRepoServer(t, map[string][]byte{name: data}, "", nil, true)
	caPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
	repoYAML := func(certRef string) string {
		s := fmt.Sprintf("apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n  name: tls\n  namespace: apps\nspec:\n  url: %s\n", srv.URL)
		if certRef != "" {
			s += "  certSecretRef:\n    name: " + certRef + "\n"
		}
		return s
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, []byte(caPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		releases string
		env      map[string]string
		want     string
	}{
		{"untrusted", repoYAML("") + helmRelease("r0", repoChart("tls", "1.0.0")), nil, fleet.RuleChartUnavailable},
		{"certSecretRef", repoYAML("repo-ca") + secretYAML("repo-ca", "", map[string]string{"ca.crt": caPEM}) + helmRelease("r0", repoChart("tls", "1.0.0")), nil, "1.0.0"},
		{"environment", repoYAML("repo-ca") + helmRelease("r0", repoChart("tls", "1.0.0")), map[string]string{"FLUXGATE_HELM_APPS_TLS_CA_FILE": caFile}, "1.0.0"},
		{"bad ca.crt", repoYAML("repo-ca") + secretYAML("repo-ca", "", map[string]string{"ca.crt": "not a certificate"}) + helmRelease("r0", repoChart("tls", "1.0.0")), nil, fleet.RuleRenderFailed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			res := renderHelmFleet(t, writeFleet(t, c.releases, nil), nil, render.Options{CacheDir: t.TempDir()})
			if diff := cmp.Diff(map[string]string{"r0": c.want}, chartVersions(res)); diff != "" {
				t.Errorf("(-want +got):\n%s\n%s", diff, problemsOf(res))
			}
		})
	}
}

// authRegistry is an in-process OCI registry behind basic auth with the
// demo chart pushed in versions; it returns the host and each version's
// manifest digest.
func authRegistry(t *testing.T, versions ...string) (string, map[string]string) {
	t.Helper()
	reg := ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(basicAuth(repoUser, repoPass)(reg))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	client, err := helmregistry.NewClient(helmregistry.ClientOptPlainHTTP(), helmregistry.ClientOptWriter(io.Discard),
		helmregistry.ClientOptBasicAuth(repoUser, repoPass))
	if err != nil {
		t.Fatal(err)
	}
	digests := map[string]string{}
	for _, v := range versions {
		_, data := packChart(t, "", v, nil)
		res, err := client.Push(data, host+"/charts/demo:"+strings.ReplaceAll(v, "+", "_"))
		if err != nil {
			t.Fatal(err)
		}
		digests[v] = res.Manifest.Digest
	}
	return host, digests
}

// TestHelmOCIAuth pulls from a registry behind basic auth: an OCI
// HelmRepository with a dockerconfigjson Secret, an OCIRepository with
// credentials from the environment, one with the ambient Docker config
// and one without any credentials.
func TestHelmOCIAuth(t *testing.T) {
	host, _ := authRegistry(t, "1.0.0", "1.5.0")
	// No user configuration leaks into the test.
	t.Setenv("HELM_CONFIG_HOME", t.TempDir())
	dockerDir := t.TempDir()
	dockerAuth := base64.StdEncoding.EncodeToString([]byte(repoUser + ":" + repoPass))
	if err := os.WriteFile(filepath.Join(dockerDir, "config.json"), []byte(fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, host, dockerAuth)), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // empty for now
	t.Setenv("FLUXGATE_HELM_APPS_ENV_USERNAME", repoUser)
	t.Setenv("FLUXGATE_HELM_APPS_ENV_PASSWORD", repoPass)

	ociRepo := func(name string) string {
		return fmt.Sprintf("---\napiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata:\n  name: %s\n  namespace: apps\nspec:\n  insecure: true\n  url: oci://%s/charts/demo\n  ref:\n    semver: 1.x\n", name, host)
	}
	releases := fmt.Sprintf("apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n  name: oci\n  namespace: apps\nspec:\n  type: oci\n  insecure: true\n  url: oci://%s/charts\n  secretRef:\n    name: regcred\n", host) +
		secretYAML("regcred", "kubernetes.io/dockerconfigjson", map[string]string{".dockerconfigjson": fmt.Sprintf(`{"auths":{%q:{"username":%q,"password":%q}}}`, host, repoUser, repoPass)}) +
		helmRelease("secret", repoChart("oci", "1.0.0")) +
		ociRepo("env") + helmRelease("env", "  chartRef:\n    kind: OCIRepository\n    name: env\n") +
		ociRepo("docker") + helmRelease("docker", "  chartRef:\n    kind: OCIRepository\n    name: docker\n")
	dir := writeFleet(t, releases, nil)

	cache := t.TempDir()
	res := renderHelmFleet(t, dir, nil, render.Options{CacheDir: cache})
	want := map[string]string{"secret": "1.0.0", "env": "1.5.0", "docker": fleet.RuleChartUnavailable}
	if diff := cmp.Diff(want, chartVersions(res)); diff != "" {
		t.Errorf("without a Docker config (-want +got):\n%s\n%s", diff, problemsOf(res))
	}
	if !strings.Contains(problemsOf(res), "FLUXGATE_HELM_APPS_DOCKER_USERNAME") {
		t.Errorf("the problem does not name the variables:\n%s", problemsOf(res))
	}
	assertNoLeak(t, res, cache, repoPass)

	t.Setenv("DOCKER_CONFIG", dockerDir)
	res = renderHelmFleet(t, dir, nil, render.Options{CacheDir: t.TempDir()})
	want["docker"] = "1.5.0"
	if diff := cmp.Diff(want, chartVersions(res)); diff != "" {
		t.Errorf("with a Docker config (-want +got):\n%s\n%s", diff, problemsOf(res))
	}
}
