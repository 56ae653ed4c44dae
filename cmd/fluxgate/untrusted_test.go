package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/fluxgate/fluxgate/internal/testenv"
)

// TestUntrustedRefusesWhatRunsOrFetches: --untrusted with a flag that
// would run or fetch what the repository asks for, or read a key, is a
// usage error naming the flag, before anything is read.
func TestUntrustedRefusesWhatRunsOrFetches(t *testing.T) {
	key, err := filepath.Abs(filepath.Join(fleets, "keys", "age.agekey"))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(fleets, "fleet-infra")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"validate", dir, "--untrusted", "--allow-remote-bases"}, "--allow-remote-bases"},
		{[]string{"render", dir, "--untrusted", "--enable-helm"}, "--enable-helm"},
		{[]string{"validate", dir, "--untrusted", "--enable-exec"}, "--enable-exec"},
		{[]string{"render", dir, "--untrusted", "--decryption-key-file", key}, "--untrusted reads no decryption key"},
		{[]string{"diff", dir, "--untrusted", "--enable-exec"}, "--enable-exec"},
		{[]string{"validate", dir, "--untrusted", "--schema-location", "https://example.com/{{.ResourceKind}}.json"}, "--untrusted reads no network"},
		{[]string{"validate", dir, "--restrict-egress", "--allow-remote-bases"}, "outside --restrict-egress's guard"},
	} {
		_, stderr, code := run(t, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want 2 and %q", strings.Join(tc.args[2:], " "), code, stderr, tc.want)
		}
	}
}

// TestUntrustedReadsNoDecryptionKey: with SOPS_AGE_KEY_FILE set, a run
// with --untrusted builds no decryptor (without it, the same
// environment gives one) and says on stderr that the key was not read.
func TestUntrustedReadsNoDecryptionKey(t *testing.T) {
	key, err := filepath.Abs(filepath.Join(fleets, "keys", "age.agekey"))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOPS_AGE_KEY", "")
	t.Setenv("SOPS_AGE_KEY_FILE", key)

	trusted := buildOptions{}
	if err := trusted.check(); err != nil || trusted.dec == nil {
		t.Fatalf("without --untrusted: decryptor %v, err %v; want the key read", trusted.dec, err)
	}
	untrusted := buildOptions{untrusted: true}
	if err := untrusted.check(); err != nil {
		t.Fatal(err)
	}
	if untrusted.dec != nil {
		t.Error("--untrusted read the decryption key")
	}
	if !untrusted.offline || !untrusted.restrictEgress {
		t.Errorf("--untrusted: offline %v, restrict-egress %v; want both", untrusted.offline, untrusted.restrictEgress)
	}

	_, stderr, code := run(t, "validate", filepath.Join(fleets, "fleet-infra"), "--untrusted")
	if code != 0 {
		t.Fatalf("validate --untrusted: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "--untrusted: SOPS_AGE_KEY_FILE not read") {
		t.Errorf("stderr does not say the key was not read:\n%s", stderr)
	}
}

// TestRestrictEgressRefusesALoopbackHelmRepository runs validate without
// --offline on a fleet whose HelmRepository points at a server on the
// loopback address: with --restrict-egress the server is never
// contacted and the release is a chart-unavailable finding naming the
// refused address; without it, the server is reached.
func TestRestrictEgressRefusesALoopbackHelmRepository(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.NotFound(w, r)
	}))
	defer srv.Close()
	dir := testenv.WriteTree(t, map[string]string{
		"clusters/x/apps.yaml": `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  interval: 1h
  path: ./apps
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
`,
		"apps/release.yaml": `apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: internal
  namespace: flux-system
spec:
  interval: 1h
  url: ` + srv.URL + `/charts
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: app
  namespace: flux-system
spec:
  interval: 1h
  chart:
    spec:
      chart: app
      version: 1.0.0
      sourceRef:
        kind: HelmRepository
        name: internal
`,
	})
	validate := func(extra ...string) string {
		var out, errb bytes.Buffer
		cmd := newRootCmd(&out, &errb)
		cmd.SetArgs(append([]string{"validate", dir, "--cache-dir", t.TempDir()}, extra...))
		if err := cmd.ExecuteContext(context.Background()); err != nil {
			t.Fatalf("validate %v: %v\n%s", extra, err, errb.String())
		}
		return out.String()
	}
	out := validate("--restrict-egress")
	if n := hits.Load(); n != 0 {
		t.Fatalf("--restrict-egress reached the loopback repository %d times", n)
	}
	if !strings.Contains(out, "refused: a loopback address") || !strings.Contains(out, "[chart-unavailable]") {
		t.Errorf("no chart-unavailable finding naming the refused address:\n%s", out)
	}
	validate()
	if hits.Load() == 0 {
		t.Error("without --restrict-egress the repository was not reached: the test proves nothing")
	}
}
