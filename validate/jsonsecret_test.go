package validate_test

import (
	"strings"
	"testing"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/internal/testenv"
	"github.com/fluxgate/fluxgate/validate"
)

// TestJSONSecrets: a plaintext Secret written as JSON is in Git like a
// YAML one, listed by a kustomization or not; JSON that holds no Secret
// (a dashboard) and a Secret of references only are not reported.
func TestJSONSecrets(t *testing.T) {
	plain := `{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "apps"}, "stringData": {"password": "hunter2"}}`
	dir := testenv.WriteTree(t, map[string]string{
		"clusters/test/app.yaml":       unit("app", "flux-system", ""),
		"units/app/kustomization.yaml": "resources:\n- secret.json\n- cm.yaml\n",
		"units/app/cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n",
		"units/app/secret.json":        plain,
		"other/loose.json":             strings.Replace(plain, `"db"`, `"loose"`, 1),
		"other/dashboard.json":         `{"title": "Secrets", "panels": []}`,
		"other/ref.json":               `{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "r"}, "stringData": {"password": "${DB_PASSWORD}"}}`,
	})
	rep := run(t, dir, fleet.Options{}, validate.Options{})
	got := map[string]string{}
	for _, f := range rep.Findings {
		if f.Rule == validate.RuleSecretNotEncrypted {
			got[f.File] = f.Message
			if strings.Contains(f.Message, "hunter2") {
				t.Errorf("a finding holds the value: %s", f.Message)
			}
		}
	}
	for _, want := range []string{"units/app/secret.json", "other/loose.json"} {
		if !strings.Contains(got[want], "plaintext stringData.password in Git") {
			t.Errorf("%s: finding %q, want plaintext stringData.password", want, got[want])
		}
	}
	if len(got) != 2 {
		t.Errorf("findings on %v, want the two JSON Secrets only", got)
	}
}
