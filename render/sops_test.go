package render_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"filippo.io/age"
	sopsage "github.com/getsops/sops/v3/age"
	"github.com/getsops/sops/v3/config"
	sopsdotenv "github.com/getsops/sops/v3/stores/dotenv"
	sopsyaml "github.com/getsops/sops/v3/stores/yaml"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/internal/testenv"
	"github.com/fluxgate/fluxgate/render"
	"github.com/fluxgate/fluxgate/render/sops"
)

// encrypt encrypts plain with the sops library for an age recipient, as
// `sops --encrypt --encrypted-regex REGEX` does.
func encrypt(t *testing.T, store testenv.SOPSStore, plain, recipient, regex string) string {
	t.Helper()
	mk, err := sopsage.MasterKeyFromRecipient(recipient)
	if err != nil {
		t.Fatal(err)
	}
	return testenv.SOPSEncrypt(t, store, plain, regex, mk)
}

func newIdentity(t *testing.T) *age.X25519Identity {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

const canary = "canary-7f3c9e21"

func sopsFleet(t *testing.T, recipient string, decryption bool) string {
	t.Helper()
	yamlStore := sopsyaml.NewStore(&config.YAMLStoreConfig{})
	envStore := sopsdotenv.NewStore(&config.DotenvStoreConfig{})
	dec := ""
	if decryption {
		dec = "  decryption:\n    provider: sops\n    secretRef:\n      name: sops-age\n"
	}
	return testenv.WriteTree(t, map[string]string{
		"clusters/prod/app.yaml": "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: app\n  namespace: flux-system\nspec:\n" +
			"  interval: 10m\n  path: ./app\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n" + dec +
			"  postBuild:\n    substituteFrom:\n      - kind: Secret\n        name: vars\n",
		"app/kustomization.yaml": "namespace: apps\nresources:\n- secret.sops.yaml\n- cm.yaml\nsecretGenerator:\n- name: generated\n  envs:\n  - creds.sops.env\n" +
			"generatorOptions:\n  disableNameSuffixHash: true\n",
		"app/secret.sops.yaml": encrypt(t, yamlStore, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: "+canary+"-db\n", recipient, "^(data|stringData)$"),
		"app/creds.sops.env":   encrypt(t, envStore, "TOKEN="+canary+"-env\n", recipient, ""),
		"app/cm.yaml":          "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: uses-var\ndata:\n  url: https://user:${var_password}@db.example.com\n",
		"clusters/prod/vars.yaml": encrypt(t, yamlStore, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: vars\n  namespace: flux-system\nstringData:\n  var_password: "+canary+"-var\n",
			recipient, "^(data|stringData)$"),
	})
}

func renderWith(t *testing.T, dir string, dec *sops.Decryptor) *render.Result {
	t.Helper()
	_, res := renderDirOpts(t, dir, render.Options{Decryptor: dec, Paths: []string{"clusters/prod"}})
	return res
}

func TestSOPSDecryption(t *testing.T) {
	id := newIdentity(t)
	dir := sopsFleet(t, id.Recipient().String(), true)
	dec, err := sops.NewDecryptor("# test key\n" + id.String() + "\n")
	if err != nil {
		t.Fatal(err)
	}
	res := renderWith(t, dir, dec)
	if p := res.Problems(); len(p) != 0 {
		t.Fatalf("problems: %v", p)
	}
	unit := "Kustomization/flux-system/app"
	if got := nested(findObject(res, "clusters/prod", unit, "Secret/apps/db").Object, "stringData", "password"); got != canary+"-db" {
		t.Errorf("decrypted Secret = %q", got)
	}
	gen := findObject(res, "clusters/prod", unit, "Secret/apps/generated")
	if gen == nil || !strings.Contains(nested(gen.Object, "data", "TOKEN"), "") {
		t.Fatalf("generated Secret missing")
	}
	if got := nested(findObject(res, "clusters/prod", unit, "ConfigMap/apps/uses-var").Object, "data", "url"); got != "https://user:"+canary+"-var@db.example.com" {
		t.Errorf("substituted from the decrypted Secret: %q", got)
	}
	// Every decrypted value is listed as sensitive for the outputs to mask.
	var u *render.Unit
	for _, x := range res.Units {
		if x.ID == unit {
			u = x
		}
	}
	joined := strings.Join(u.Sensitive, "\n")
	for _, v := range []string{canary + "-db", canary + "-env", canary + "-var"} {
		if !strings.Contains(joined, v) {
			t.Errorf("%s not in Sensitive", v)
		}
	}
}

func TestSOPSWithoutKeyOrConfiguration(t *testing.T) {
	id := newIdentity(t)
	t.Run("no key: placeholders, no problem", func(t *testing.T) {
		res := renderWith(t, sopsFleet(t, id.Recipient().String(), true), nil)
		for _, p := range res.Problems() {
			if p.Severity == fleet.SeverityError {
				t.Errorf("problem: %s", p)
			}
		}
		if got := nested(findObject(res, "clusters/prod", "Kustomization/flux-system/app", "Secret/apps/db").Object, "stringData", "password"); got != render.EncryptedPlaceholder {
			t.Errorf("password = %q, want the placeholder", got)
		}
	})
	t.Run("wrong key: decryption fails on the unit", func(t *testing.T) {
		other, err := sops.NewDecryptor(newIdentity(t).String())
		if err != nil {
			t.Fatal(err)
		}
		res := renderWith(t, sopsFleet(t, id.Recipient().String(), true), other)
		msgs := ""
		for _, p := range res.Problems() {
			msgs += p.String() + "\n"
		}
		if !strings.Contains(msgs, "cannot decrypt with the given keys (encrypted for "+id.Recipient().String()+")") || strings.Contains(msgs, canary) {
			t.Errorf("problems:\n%s", msgs)
		}
	})
	t.Run("no spec.decryption: Flux refuses the encrypted Secret", func(t *testing.T) {
		dec, err := sops.NewDecryptor(id.String())
		if err != nil {
			t.Fatal(err)
		}
		res := renderWith(t, sopsFleet(t, id.Recipient().String(), false), dec)
		found := false
		for _, p := range res.Problems() {
			if p.Rule == fleet.RuleRenderFailed && p.Object == "Secret/apps/db" && strings.Contains(p.Message, "sets no spec.decryption") {
				found = true
			}
		}
		if !found {
			t.Errorf("problems: %v", res.Problems())
		}
	})
}

func TestNewDecryptorNeedsAKey(t *testing.T) {
	if _, err := sops.NewDecryptor("# only a comment\n"); err == nil {
		t.Error("no identity accepted")
	}
	if _, err := sops.NewDecryptor("AGE-SECRET-KEY-1NOTAKEY"); err == nil {
		t.Error("a malformed identity accepted")
	}
}

// TestSOPSWrongKeyOneFinding: a SOPS file of a build that the given keys
// cannot open fails the unit with one problem on that file, at its sops
// metadata, naming the recipients; kustomize's nested error is not shown.
func TestSOPSWrongKeyOneFinding(t *testing.T) {
	id := newIdentity(t)
	recipient := id.Recipient().String()
	dir := testenv.WriteTree(t, map[string]string{
		"clusters/prod/app.yaml": "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: app\n  namespace: flux-system\nspec:\n" +
			"  interval: 10m\n  path: ./app\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n" +
			"  decryption:\n    provider: sops\n    secretRef:\n      name: sops-age\n",
		"app/kustomization.yaml": "namespace: apps\nresources:\n- cm.yaml\n- secret.sops.yaml\n",
		"app/cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\ndata:\n  a: b\n",
		"app/secret.sops.yaml": encrypt(t, sopsyaml.NewStore(&config.YAMLStoreConfig{}),
			"apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: "+canary+"\n", recipient, "^(data|stringData)$"),
	})
	other, err := sops.NewDecryptor(newIdentity(t).String())
	if err != nil {
		t.Fatal(err)
	}
	res := renderWith(t, dir, other)
	var unit *render.Unit
	for _, u := range res.Units {
		if u.ID == "Kustomization/flux-system/app" {
			unit = u
		}
	}
	if unit == nil {
		t.Fatal("unit Kustomization/flux-system/app not rendered")
	}
	if !unit.Failed {
		t.Error("unit not failed: kustomize-controller fails the whole Kustomization on a decryption error")
	}
	if len(unit.Objects) != 0 {
		t.Errorf("failed unit holds %d objects", len(unit.Objects))
	}
	raw, err := os.ReadFile(filepath.Join(dir, "app", "secret.sops.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want := []fleet.Problem{{
		Rule: fleet.RuleSOPSDecryptFailed, Severity: fleet.SeverityError,
		File: "app/secret.sops.yaml", Line: sops.MetadataLine("secret.sops.yaml", raw),
		Object:  "Kustomization/flux-system/app",
		Message: "cannot decrypt with the given keys (encrypted for " + recipient + ")",
	}}
	if d := cmp.Diff(want, res.Problems()); d != "" {
		t.Errorf("problems (-want +got):\n%s", d)
	}
	if want[0].Line < 2 {
		t.Errorf("sops metadata line = %d, want the sops: key's line", want[0].Line)
	}
}
