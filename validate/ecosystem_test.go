package validate_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/internal/testenv"
	"github.com/fluxgate/fluxgate/validate"
)

// runCR validates a fleet whose one unit applies the given files (name to
// content) from app/.
func runCR(t *testing.T, files map[string]string) []located {
	t.Helper()
	dir := t.TempDir()
	testenv.CopyTree(t, filepath.Join("testdata", "rules", "schema-missing", "fail"), dir)
	if err := os.Remove(filepath.Join(dir, "app", "monitor.yaml")); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		p := filepath.Join(dir, "app", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var got []located
	for _, f := range run(t, dir, fleet.Options{}, validate.Options{}).Findings {
		got = append(got, located{f.Rule, f.Severity, f.File, f.Line})
	}
	return got
}

// TestEcosystemCatalog checks one valid and one broken custom resource of
// each operator of the ecosystem catalog: the broken one gives
// schema-invalid at the line of the bad field.
func TestEcosystemCatalog(t *testing.T) {
	for _, tt := range []struct {
		name, valid, broken string
		line                int
	}{
		{
			name: "external-secrets",
			valid: `apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
  name: db
  namespace: default
spec:
  refreshInterval: 1h
  secretStoreRef:
    kind: ClusterSecretStore
    name: vault
  target:
    name: db
  data:
    - secretKey: password
      remoteRef:
        key: db/password
`,
			// remoteRef.key is required.
			broken: `apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
  name: db
  namespace: default
spec:
  secretStoreRef:
    kind: ClusterSecretStore
    name: vault
  data:
    - secretKey: password
      remoteRef:
        property: password
`,
			line: 12,
		},
		{
			name: "prometheus-operator",
			valid: `apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: web
  namespace: default
spec:
  groups:
    - name: web
      rules:
        - alert: WebDown
          expr: up{job="web"} == 0
          for: 5m
`,
			// for must be a duration string.
			broken: `apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: web
  namespace: default
spec:
  groups:
    - name: web
      rules:
        - alert: WebDown
          expr: up{job="web"} == 0
          for: 5 minutes
`,
			line: 12,
		},
		{
			name: "gateway-api",
			valid: `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: web
  namespace: default
spec:
  parentRefs:
    - name: internal
      namespace: network
      sectionName: https
  hostnames: ["web.example.com"]
  rules:
    - backendRefs:
        - name: web
          port: 80
`,
			// a backend port is a number.
			broken: `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: web
  namespace: default
spec:
  parentRefs:
    - name: internal
  rules:
    - backendRefs:
        - name: web
          port: http
`,
			line: 12,
		},
		{
			name: "cert-manager",
			valid: `apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: web
  namespace: default
spec:
  secretName: web-tls
  dnsNames: ["web.example.com"]
  issuerRef:
    kind: ClusterIssuer
    name: letsencrypt
`,
			// dnsNames is a list.
			broken: `apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: web
  namespace: default
spec:
  secretName: web-tls
  dnsNames: web.example.com
  issuerRef:
    kind: ClusterIssuer
    name: letsencrypt
`,
			line: 8,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := runCR(t, map[string]string{"cr.yaml": tt.valid}); len(got) != 0 {
				t.Errorf("valid %s: findings %+v", tt.name, got)
			}
			want := []located{{"schema-invalid", "error", "app/cr.yaml", tt.line}}
			if diff := cmp.Diff(want, runCR(t, map[string]string{"cr.yaml": tt.broken})); diff != "" {
				t.Errorf("broken %s (-want +got):\n%s", tt.name, diff)
			}
		})
	}
}

// TestRepositoryCRDBeatsEcosystemCatalog checks that a CRD the repository
// ships is used instead of the ecosystem catalog's schema for its kinds.
func TestRepositoryCRDBeatsEcosystemCatalog(t *testing.T) {
	cert := `apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: web
  namespace: default
spec:
  secretName: web-tls
  issuerRef:
    name: letsencrypt
`
	// The committed CRD, unlike cert-manager's, has no spec.secretName.
	crd := `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: certificates.cert-manager.io
spec:
  group: cert-manager.io
  names:
    kind: Certificate
    plural: certificates
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
              issuerRef:
                type: object
                x-kubernetes-preserve-unknown-fields: true
`
	if got := runCR(t, map[string]string{"cert.yaml": cert}); len(got) != 0 {
		t.Fatalf("against the catalog: findings %+v", got)
	}
	got := runCR(t, map[string]string{"cert.yaml": cert, "crds/certificate.yaml": crd})
	// An unknown field is reported on the object that has it.
	want := []located{{"schema-invalid", "error", "app/cert.yaml", 6}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("with the repository's CRD (-want +got):\n%s", diff)
	}
}

// TestSummaryCountsSources checks that Summary.Checked counts objects by
// where their schema came from.
func TestSummaryCountsSources(t *testing.T) {
	dir := t.TempDir()
	testenv.CopyTree(t, filepath.Join("testdata", "rules", "schema-missing", "fail"), dir)
	cert := "apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata:\n  name: web\n  namespace: default\nspec:\n  secretName: web-tls\n  issuerRef:\n    name: letsencrypt\n"
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n  namespace: default\n"
	for name, content := range map[string]string{"cert.yaml": cert, "cm.yaml": cm} {
		if err := os.WriteFile(filepath.Join(dir, "app", name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rep := run(t, dir, fleet.Options{}, validate.Options{})
	want := map[string]int{validate.SourceKubernetes: 1, validate.SourceFlux: 1, validate.SourceEcosystem: 1}
	if diff := cmp.Diff(want, rep.Summary.Checked); diff != "" {
		t.Errorf("Checked (-want +got):\n%s", diff)
	}
	if rep.Summary.SkippedKinds["monitoring.example.com/v1/ServiceMonitor"] != 1 {
		t.Errorf("SkippedKinds = %v", rep.Summary.SkippedKinds)
	}
}
