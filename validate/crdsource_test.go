package validate_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/validate"
)

// patternCopy copies the pattern fleet name into a temporary directory,
// with files changed (an empty content removes the file).
func patternCopy(t *testing.T, name string, files map[string]string) string {
	t.Helper()
	src := filepath.Join("..", "testdata", "fleets", "patterns", name)
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	for rel, content := range files {
		p := filepath.Join(dst, filepath.FromSlash(rel))
		if content == "" {
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// schemaErrors returns the schema-invalid findings of a report, as
// "file:line message".
func schemaErrors(rep *validate.Report) []string {
	var out []string
	for _, f := range rep.Findings {
		if f.Rule == validate.RuleSchemaInvalid {
			out = append(out, f.File+":"+strconv.Itoa(f.Line)+" "+f.Message)
		}
	}
	return out
}

const alertOn = `---
apiVersion: notification.toolkit.fluxcd.io/v1
kind: Alert
metadata:
  name: extra
spec:
  providerRef:
    name: slack
  eventSources:
    - kind: KIND
      name: "*"
`

// TestOperatorDistributionSchemas: with a FluxInstance in the render,
// Alert and Receiver are checked against the Flux Operator's CRDs (the
// catalog's with the operator's kinds added, then the FluxInstance's CRD
// patches), and a kind outside the patched enum is still an error.
func TestOperatorDistributionSchemas(t *testing.T) {
	const alertFile = "infrastructure/notifications/extra.yaml"
	kustomization := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: flux-system\nresources:\n  - provider.yaml\n  - alert.yaml\n  - receiver.yaml\n  - extra.yaml\n"
	for _, tc := range []struct {
		name    string
		kind    string
		wantErr bool
	}{
		{name: "operator kind", kind: "ResourceSetInputProvider"},
		{name: "kind added by the FluxInstance's patch", kind: "Terraform"},
		{name: "kind outside the patched enum", kind: "Component", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := patternCopy(t, "flux-operator", map[string]string{
				"infrastructure/notifications/kustomization.yaml": kustomization,
				alertFile: strings.Replace(alertOn, "KIND", tc.kind, 1),
			})
			got := schemaErrors(run(t, dir, fleet.Options{}, validate.Options{}))
			if !tc.wantErr {
				if len(got) != 0 {
					t.Errorf("schema errors: %q", got)
				}
				return
			}
			if len(got) != 1 || !strings.HasPrefix(got[0], alertFile+":10 /spec/eventSources/0/kind: ") ||
				!strings.Contains(got[0], "(schema: the Flux Operator's CRD for FluxInstance/flux-system/flux)") {
				t.Errorf("schema errors: %q, want one on %s:10 naming the operator's CRD", got, alertFile)
			}
		})
	}

	t.Run("without the FluxInstance the catalog's enum holds", func(t *testing.T) {
		dir := patternCopy(t, "flux-operator", map[string]string{"clusters/production/flux-system/flux-instance.yaml": ""})
		got := schemaErrors(run(t, dir, fleet.Options{}, validate.Options{}))
		// FluxInstance, ResourceSet and Terraform in the Alert; the two
		// operator kinds of the Receiver.
		if len(got) != 5 {
			t.Errorf("schema errors: %q, want 5 (the operator's kinds and Terraform)", got)
		}
	})

	t.Run("a patch the operator cannot apply fails the FluxInstance", func(t *testing.T) {
		fi, err := os.ReadFile(filepath.Join("..", "testdata", "fleets", "patterns", "flux-operator", "clusters", "production", "flux-system", "flux-instance.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		broken := strings.Replace(string(fi), "path: /spec/versions/0/schema", "path: /spec/versions/7/schema", 1)
		dir := patternCopy(t, "flux-operator", map[string]string{"clusters/production/flux-system/flux-instance.yaml": broken})
		rep := run(t, dir, fleet.Options{}, validate.Options{})
		var failed []validate.Finding
		for _, f := range rep.Findings {
			if f.Rule == validate.RuleRenderFailed {
				failed = append(failed, f)
			}
		}
		if len(failed) != 1 || failed[0].File != "clusters/production/flux-system/flux-instance.yaml" || failed[0].Object != "FluxInstance/flux-system/flux" ||
			!strings.Contains(failed[0].Message, "spec.kustomize.patches cannot be applied to the Flux CRDs") {
			t.Errorf("render-failed findings: %+v", failed)
		}
		// The operator's own kinds are still accepted; Terraform is not.
		if got := schemaErrors(rep); len(got) != 1 || !strings.Contains(got[0], "/spec/eventSources/3/kind") {
			t.Errorf("schema errors: %q, want the Terraform event source only", got)
		}
	})
}

// TestBootstrapCRDPatches: the CRDs of a bootstrap gotk-components.yaml,
// patched by flux-system/kustomization.yaml, win over the catalog: the
// kind the patch adds is accepted, one outside the enum is an error.
func TestBootstrapCRDPatches(t *testing.T) {
	const alertFile = "infrastructure/tofu/extra.yaml"
	kustomization := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: flux-system\nresources:\n  - notifications.yaml\n  - extra.yaml\n"
	for _, tc := range []struct {
		kind    string
		wantErr bool
	}{
		{kind: "Terraform"},
		{kind: "GitRepository"},
		{kind: "FluxInstance", wantErr: true},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			dir := patternCopy(t, "third-party-notifications", map[string]string{
				"infrastructure/tofu/kustomization.yaml": kustomization,
				alertFile:                                strings.Replace(strings.Replace(alertOn, "KIND", tc.kind, 1), "slack", "msteams", 1),
			})
			got := schemaErrors(run(t, dir, fleet.Options{}, validate.Options{}))
			if !tc.wantErr {
				if len(got) != 0 {
					t.Errorf("schema errors: %q", got)
				}
				return
			}
			if len(got) != 1 || !strings.HasPrefix(got[0], alertFile+":10 /spec/eventSources/0/kind: ") {
				t.Errorf("schema errors: %q, want one on %s:10", got, alertFile)
			}
		})
	}

	t.Run("without the patches Terraform is an error", func(t *testing.T) {
		dir := patternCopy(t, "third-party-notifications", map[string]string{
			"clusters/production/flux-system/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - gotk-components.yaml\n  - gotk-sync.yaml\n",
		})
		got := schemaErrors(run(t, dir, fleet.Options{}, validate.Options{}))
		if len(got) != 2 {
			t.Errorf("schema errors: %q, want the Alert's and the Receiver's Terraform", got)
		}
	})
}
