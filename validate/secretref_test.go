package validate_test

import (
	"strings"
	"testing"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/internal/testenv"
	"github.com/fluxgate/fluxgate/validate"
)

func TestSecretReferencesAreNoPlaintext(t *testing.T) {
	const secret = `apiVersion: v1
kind: Secret
metadata:
  name: app
  namespace: apps
`
	tests := []struct {
		name string
		body string
		want string // the finding's message part naming keys; "" for none
	}{
		{name: "1Password references", body: "stringData:\n  password: op://prod/db/password\n"},
		{name: "vals references", body: "stringData:\n  token: ref+vault://secret/app#token\n  key: ref+awssecrets://app/key\n"},
		{name: "argocd-vault-plugin placeholders", body: "stringData:\n  password: <path:secret/data/app#password>\n"},
		{name: "postBuild variables", body: "stringData:\n  password: ${DB_PASSWORD}\n  both: ${USER:=app}${PASS}\n"},
		{name: "empty values", body: "stringData:\n  password: \"\"\ndata:\n  token: \"\"\n"},
		{name: "a base64 reference in data", body: "data:\n  password: b3A6Ly9wcm9kL2RiL3Bhc3N3b3Jk\n"}, // op://prod/db/password
		{name: "real values beside references", body: "stringData:\n  ref: op://prod/db/password\n  password: hunter2\n  url: postgres://app:${PASS}@db\ndata:\n  token: aHVudGVyMg==\n",
			want: "data.token, stringData.password, stringData.url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := testenv.WriteTree(t, map[string]string{
				"clusters/test/app.yaml": unit("app", "flux-system", ""),
				"units/app/secret.yaml":  secret + tt.body,
			})
			rep := run(t, dir, fleet.Options{}, validate.Options{})
			var got []string
			for _, f := range rep.Findings {
				if f.Rule == validate.RuleSecretNotEncrypted {
					got = append(got, f.Message)
				}
			}
			switch {
			case tt.want == "" && len(got) > 0:
				t.Errorf("references reported as plaintext: %q", got)
			case tt.want != "" && (len(got) != 1 || !strings.Contains(got[0], "plaintext "+tt.want+" in Git")):
				t.Errorf("findings %q, want one naming %s", got, tt.want)
			}
			for _, m := range got {
				if strings.Contains(m, "hunter2") {
					t.Errorf("a finding holds the secret value: %s", m)
				}
			}
		})
	}
}

func TestSOPSEmptyValueIsNoPlaintext(t *testing.T) {
	const doc = `apiVersion: v1
kind: Secret
metadata:
  name: app
  namespace: apps
stringData:
  password: ENC[AES256_GCM,data:Zm9v,iv:aXY=,tag:dGFn,type:str]
  optional: ""
  %s
sops:
  age:
    - recipient: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p
  lastmodified: "2026-01-01T00:00:00Z"
  mac: ENC[AES256_GCM,data:bWFj,iv:aXY=,tag:dGFn,type:str]
  version: 3.13.3
`
	for _, tt := range []struct{ extra, want string }{
		{extra: "", want: ""},
		{extra: "leaked: hunter2", want: "stringData.leaked is in plaintext in a SOPS file"},
	} {
		dir := testenv.WriteTree(t, map[string]string{
			"clusters/test/app.yaml":     unit("app", "flux-system", ""),
			"units/app/secret.sops.yaml": strings.Replace(doc, "%s", tt.extra, 1),
		})
		rep := run(t, dir, fleet.Options{}, validate.Options{})
		var got []string
		for _, f := range rep.Findings {
			if f.Rule == validate.RuleSecretNotEncrypted {
				got = append(got, f.Message)
			}
		}
		if (tt.want == "" && len(got) > 0) || (tt.want != "" && (len(got) != 1 || !strings.Contains(got[0], tt.want))) {
			t.Errorf("with %q: findings %q, want %q", tt.extra, got, tt.want)
		}
	}
}

// argocd-vault-plugin fills generic placeholders (<key>) from the path its
// annotation names; without the annotation <key> is a value.
func TestAVPGenericPlaceholders(t *testing.T) {
	const secret = `apiVersion: v1
kind: Secret
metadata:
  name: app
  namespace: apps
%s
stringData:
  client-id: <client-id>
  client-secret: <client-secret | base64decode>
`
	for _, tt := range []struct {
		name, annotations string
		want              int
	}{
		{name: "with the path annotation", annotations: "  annotations:\n    avp.kubernetes.io/path: secret/data/app", want: 0},
		{name: "without it", annotations: "", want: 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := testenv.WriteTree(t, map[string]string{
				"clusters/test/app.yaml": unit("app", "flux-system", ""),
				"units/app/secret.yaml":  strings.Replace(secret, "%s\n", tt.annotations+"\n", 1),
			})
			rep := run(t, dir, fleet.Options{}, validate.Options{})
			got := 0
			for _, f := range rep.Findings {
				if f.Rule == validate.RuleSecretNotEncrypted {
					got++
				}
			}
			if got != tt.want {
				t.Errorf("%d secret-not-encrypted findings, want %d: %+v", got, tt.want, rep.Findings)
			}
		})
	}
}

// A .sops.yaml creation rule is owed by files that hold secret values, not
// by Secrets made only of references and variables.
func TestSOPSRuleOnlyForSecretValues(t *testing.T) {
	const secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n  namespace: apps\nstringData:\n  password: %s\n"
	dir := testenv.WriteTree(t, map[string]string{
		".sops.yaml":                   "creation_rules:\n  - path_regex: .*\\.sops\\.yaml$\n    encrypted_regex: ^(data|stringData)$\n    age: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\n",
		"clusters/test/app.yaml":       unit("app", "flux-system", ""),
		"units/app/kustomization.yaml": "resources: [refs.yaml, vars.yaml, value.yaml]\n",
		"units/app/refs.yaml":          strings.Replace(strings.Replace(secret, "%s", "refs", 1), "%s", "op://prod/db/password", 1),
		"units/app/vars.yaml":          strings.Replace(strings.Replace(secret, "%s", "vars", 1), "%s", "${DB_PASSWORD}", 1),
		"units/app/value.yaml":         strings.Replace(strings.Replace(secret, "%s", "value", 1), "%s", "hunter2", 1),
	})
	rep := run(t, dir, fleet.Options{}, validate.Options{})
	var got []string
	for _, f := range rep.Findings {
		if f.Rule == validate.RuleSOPSRuleMissing {
			got = append(got, f.File)
		}
	}
	if want := []string{"units/app/value.yaml"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("sops-rule-missing on %v, want %v", got, want)
	}
}
