package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	sopsage "github.com/getsops/sops/v3/age"
	"github.com/getsops/sops/v3/config"
	"github.com/getsops/sops/v3/keys"
	sopspgp "github.com/getsops/sops/v3/pgp"
	sopsyaml "github.com/getsops/sops/v3/stores/yaml"

	"github.com/fluxgate/fluxgate/internal/testenv"
	"github.com/fluxgate/fluxgate/render"
	"github.com/fluxgate/fluxgate/workspace"
)

// TestNoSecretValueInAnyOutput renders and validates the example fleet
// with its test age key (the production SOPS Secret is decrypted in
// memory) plus a plaintext Secret and a secretGenerator literal carrying a
// canary, and checks every byte written by every format.
func TestNoSecretValueInAnyOutput(t *testing.T) {
	const canary = "canary-5b1e77d0"
	dir := t.TempDir()
	testenv.CopyTree(t, filepath.Join(fleets, "fleet-infra"), dir)
	add := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	add("teams/team-a/plain-secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: plain\nstringData:\n  token: "+canary+"-plain\ndata:\n  b64: Y2FuYXJ5LTViMWU3N2QwLWI2NA==\n")
	kust, err := os.ReadFile(filepath.Join(dir, "teams/team-a/kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	add("teams/team-a/kustomization.yaml", strings.Replace(string(kust), "resources:\n", "resources:\n  - plain-secret.yaml\n", 1)+
		"secretGenerator:\n  - name: generated\n    literals:\n      - password="+canary+"-literal\n")
	key, err := filepath.Abs(filepath.Join(fleets, "keys", "age.agekey"))
	if err != nil {
		t.Fatal(err)
	}
	// The decrypted production Secret's values, read with the same key.
	t.Setenv("SOPS_AGE_KEY_FILE", key)
	out := t.TempDir()
	var written []string
	for _, args := range [][]string{
		{"render", dir},
		{"render", dir, "-o", "json"},
		{"render", dir, "--show-secrets"}, // not a terminal: still masked
		{"render", dir, "--output-dir", filepath.Join(out, "units")},
		{"validate", dir, "-o", "text", "-o", "json=" + filepath.Join(out, "r.json"), "-o", "sarif=" + filepath.Join(out, "r.sarif"),
			"-o", "junit=" + filepath.Join(out, "r.xml"), "-o", "github=" + filepath.Join(out, "r.github")},
	} {
		stdout, stderr, _ := run(t, args...)
		written = append(written, stdout, stderr)
	}
	err = filepath.Walk(out, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		written = append(written, string(data))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(written, "\n")
	for _, secret := range []string{canary, "Y2FuYXJ5LTViMWU3N2QwLWI2NA==", "postgres://bac", "sk_test_flux"} {
		if strings.Contains(all, secret) {
			t.Errorf("output contains %q", secret)
		}
	}
	if !strings.Contains(all, "backend-credentials") {
		t.Fatalf("the decrypted Secret was not rendered at all")
	}
	// The outputs above were masked, not empty: the key did decrypt.
	dec, err := secretOptions{}.decryptor()
	if err != nil || dec == nil {
		t.Fatalf("decryptor from SOPS_AGE_KEY_FILE: %v", err)
	}
	abs, repo, cleanup, err := workspace.Load(context.Background(), dir, workspace.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	res, err := render.Render(context.Background(), repo, render.Options{Dir: abs, Decryptor: dec, Paths: []string{"clusters/production"}, Offline: true, CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, u := range res.Units {
		for _, v := range u.Sensitive {
			if strings.HasPrefix(v, "postgres://bac") {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("the production SOPS Secret was not decrypted")
	}
}

// pgpTestKey generates an OpenPGP key (no passphrase) and writes its
// armored private and public keys to files outside the repository. It
// returns the sops master key that encrypts to it, from a legacy public
// keyring the sops library reads without gpg.
func pgpTestKey(t *testing.T) (mk keys.MasterKey, privateFile, publicFile string) {
	t.Helper()
	e, err := openpgp.NewEntity("fluxgate test", "", "test@fluxgate.invalid", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Curve: packet.Curve25519})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, blockType string, serialize func(w *bytes.Buffer) error) string {
		var raw, out bytes.Buffer
		if err := serialize(&raw); err != nil {
			t.Fatal(err)
		}
		if blockType != "" {
			w, err := armor.Encode(&out, blockType, nil)
			if err != nil {
				t.Fatal(err)
			}
			w.Write(raw.Bytes())
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			raw = out
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, raw.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	privateFile = write("private.asc", openpgp.PrivateKeyType, func(w *bytes.Buffer) error { return e.SerializePrivate(w, nil) })
	publicFile = write("public.asc", openpgp.PublicKeyType, func(w *bytes.Buffer) error { return e.Serialize(w) })
	ring := write("pubring.gpg", "", func(w *bytes.Buffer) error { return e.Serialize(w) })
	pk := sopspgp.NewMasterKeyFromFingerprint(strings.ToUpper(hex.EncodeToString(e.PrimaryKey.Fingerprint)))
	sopspgp.PubRing(ring).ApplyToMasterKey(pk)
	return pk, privateFile, publicFile
}

// sopsEncryptYAML encrypts a YAML document's data and stringData with the
// sops library for every master key (any of them opens it).
func sopsEncryptYAML(t *testing.T, plain string, mks ...keys.MasterKey) string {
	t.Helper()
	return testenv.SOPSEncrypt(t, sopsyaml.NewStore(&config.YAMLStoreConfig{}), plain, "^(data|stringData)$", mks...)
}

// TestDecryptionKeyFilePGP renders a repository whose SOPS Secrets are
// encrypted for a PGP key (one also for an age key), with the armored
// private key given to --decryption-key-file: the decrypted values are used
// (a substituted URL carries one, masked) and never printed.
func TestDecryptionKeyFilePGP(t *testing.T) {
	const canary = "canary-9d2a4f61"
	pgpKey, privateFile, publicFile := pgpTestKey(t)
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	ageKey, err := sopsage.MasterKeyFromRecipient(id.Recipient().String())
	if err != nil {
		t.Fatal(err)
	}
	dir := testenv.WriteTree(t, map[string]string{
		"clusters/prod/app.yaml": "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: app\n  namespace: flux-system\nspec:\n" +
			"  interval: 10m\n  path: ./app\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n" +
			"  decryption:\n    provider: sops\n    secretRef:\n      name: sops-gpg\n" +
			"  postBuild:\n    substituteFrom:\n      - kind: Secret\n        name: vars\n",
		"app/kustomization.yaml": "namespace: apps\nresources:\n- secret.sops.yaml\n- cm.yaml\n",
		"app/secret.sops.yaml":   sopsEncryptYAML(t, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: "+canary+"-db\n", pgpKey),
		"app/cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: uses-var\ndata:\n  url: https://user:${var_password}@db.example.com\n",
		"clusters/prod/vars.yaml": sopsEncryptYAML(t, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: vars\n  namespace: flux-system\nstringData:\n  var_password: "+canary+"-var\n",
			pgpKey, ageKey),
	})
	// A GNUPGHOME, even an empty one, plays no part.
	t.Setenv("GNUPGHOME", t.TempDir())
	t.Setenv("SOPS_AGE_KEY", "")
	t.Setenv("SOPS_AGE_KEY_FILE", "")
	for _, args := range [][]string{
		{"render", dir, "--decryption-key-file", privateFile},
		{"render", dir, "--decryption-key-file", privateFile, "-o", "json"},
		{"validate", dir, "--decryption-key-file", privateFile, "-o", "json"},
	} {
		stdout, stderr, code := run(t, args...)
		if code != 0 || strings.Contains(stdout+stderr, canary) {
			t.Errorf("%v: exit %d, output:\n%s\n%s", args, code, stdout, stderr)
		}
		if args[0] == "render" && !strings.Contains(stdout, "https://user:"+secretMask+"@db.example.com") {
			t.Errorf("%v: the decrypted variable was not substituted (and masked):\n%s", args, stdout)
		}
	}

	t.Run("the age key opens the file encrypted for both", func(t *testing.T) {
		t.Setenv("SOPS_AGE_KEY", id.String())
		dec, err := secretOptions{}.decryptor()
		if err != nil {
			t.Fatal(err)
		}
		plain, err := dec.Decrypt("vars.yaml", []byte(sopsEncryptYAML(t, "stringData:\n  v: "+canary+"\n", pgpKey, ageKey)))
		if err != nil || !strings.Contains(string(plain), canary) {
			t.Errorf("decrypt with the age key: %v", err)
		}
	})
	t.Run("a wrong PGP key is a finding naming the file", func(t *testing.T) {
		_, otherFile, _ := pgpTestKey(t)
		stdout, stderr, code := run(t, "render", dir, "--decryption-key-file", otherFile)
		out := stdout + stderr
		if code != 1 || !strings.Contains(out, "secret.sops.yaml") || !strings.Contains(out, "cannot decrypt with the given keys (encrypted for PGP ") || strings.Contains(out, canary) {
			t.Errorf("exit %d, output:\n%s", code, out)
		}
	})
	t.Run("a public key file is a usage error naming the file", func(t *testing.T) {
		_, stderr, code := run(t, "render", dir, "--decryption-key-file", publicFile)
		if code != 2 || !strings.Contains(stderr, publicFile) || !strings.Contains(stderr, "not a private key block") {
			t.Errorf("exit %d, stderr:\n%s", code, stderr)
		}
	})
}
