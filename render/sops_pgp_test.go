package render_test

import (
	"bytes"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	sopsage "github.com/getsops/sops/v3/age"
	"github.com/getsops/sops/v3/config"
	"github.com/getsops/sops/v3/keys"
	sopspgp "github.com/getsops/sops/v3/pgp"
	sopsdotenv "github.com/getsops/sops/v3/stores/dotenv"
	sopsyaml "github.com/getsops/sops/v3/stores/yaml"

	"github.com/fluxgate/fluxgate/internal/testenv"
	"github.com/fluxgate/fluxgate/render"
	"github.com/fluxgate/fluxgate/render/sops"
)

// These tests never run gpg: keys are generated with go-crypto, files are
// encrypted with the sops library (its go-crypto path, from a public
// keyring written for the test), and one fixture was made with gpg.

var (
	rsaKey = &packet.Config{Algorithm: packet.PubKeyAlgoRSA, RSABits: 2048}
	eccKey = &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Curve: packet.Curve25519}
)

// newPGPKey generates an OpenPGP key and returns it with its private key
// armored as `gpg --export-secret-keys --armor` writes it.
func newPGPKey(t *testing.T, cfg *packet.Config) (*openpgp.Entity, string) {
	t.Helper()
	e, err := openpgp.NewEntity("fluxgate test", "", "test@fluxgate.invalid", cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e, armored(t, openpgp.PrivateKeyType, func(w io.Writer) error { return e.SerializePrivate(w, nil) })
}

func armored(t *testing.T, blockType string, write func(io.Writer) error) string {
	t.Helper()
	var raw, out bytes.Buffer
	if err := write(&raw); err != nil {
		t.Fatal(err)
	}
	w, err := armor.Encode(&out, blockType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(raw.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.String() + "\n"
}

// pgpRecipient is the sops master key for e. The sops library encrypts to
// it from a public keyring in the legacy format it reads without gpg.
func pgpRecipient(t *testing.T, e *openpgp.Entity) keys.MasterKey {
	t.Helper()
	var pub bytes.Buffer
	if err := e.Serialize(&pub); err != nil {
		t.Fatal(err)
	}
	ring := filepath.Join(t.TempDir(), "pubring.gpg")
	if err := os.WriteFile(ring, pub.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	mk := sopspgp.NewMasterKeyFromFingerprint(strings.ToUpper(hex.EncodeToString(e.PrimaryKey.Fingerprint)))
	sopspgp.PubRing(ring).ApplyToMasterKey(mk)
	return mk
}

func ageRecipient(t *testing.T, recipient string) keys.MasterKey {
	t.Helper()
	mk, err := sopsage.MasterKeyFromRecipient(recipient)
	if err != nil {
		t.Fatal(err)
	}
	return mk
}

// sopsFleetFor is sopsFleet with its three SOPS files (a Secret resource,
// a secretGenerator env file, a substituteFrom Secret) encrypted for mks.
func sopsFleetFor(t *testing.T, mks ...keys.MasterKey) string {
	t.Helper()
	yamlStore := sopsyaml.NewStore(&config.YAMLStoreConfig{})
	envStore := sopsdotenv.NewStore(&config.DotenvStoreConfig{})
	return testenv.WriteTree(t, map[string]string{
		"clusters/prod/app.yaml": "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: app\n  namespace: flux-system\nspec:\n" +
			"  interval: 10m\n  path: ./app\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n" +
			"  decryption:\n    provider: sops\n    secretRef:\n      name: sops-gpg\n" +
			"  postBuild:\n    substituteFrom:\n      - kind: Secret\n        name: vars\n",
		"app/kustomization.yaml": "namespace: apps\nresources:\n- secret.sops.yaml\n- cm.yaml\nsecretGenerator:\n- name: generated\n  envs:\n  - creds.sops.env\n" +
			"generatorOptions:\n  disableNameSuffixHash: true\n",
		"app/secret.sops.yaml": testenv.SOPSEncrypt(t, yamlStore, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: "+canary+"-db\n", "^(data|stringData)$", mks...),
		"app/creds.sops.env":   testenv.SOPSEncrypt(t, envStore, "TOKEN="+canary+"-env\n", "", mks...),
		"app/cm.yaml":          "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: uses-var\ndata:\n  url: https://user:${var_password}@db.example.com\n",
		"clusters/prod/vars.yaml": testenv.SOPSEncrypt(t, yamlStore, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: vars\n  namespace: flux-system\nstringData:\n  var_password: "+canary+"-var\n",
			"^(data|stringData)$", mks...),
	})
}

// checkDecrypted asserts that the three SOPS files of sopsFleetFor were
// decrypted and used, and that their values are listed as sensitive.
func checkDecrypted(t *testing.T, res *render.Result) {
	t.Helper()
	if p := res.Problems(); len(p) != 0 {
		t.Fatalf("problems: %v", p)
	}
	const unit = "Kustomization/flux-system/app"
	if got := nested(findObject(res, "clusters/prod", unit, "Secret/apps/db").Object, "stringData", "password"); got != canary+"-db" {
		t.Errorf("decrypted Secret = %q", got)
	}
	if findObject(res, "clusters/prod", unit, "Secret/apps/generated") == nil {
		t.Errorf("generated Secret missing")
	}
	if got := nested(findObject(res, "clusters/prod", unit, "ConfigMap/apps/uses-var").Object, "data", "url"); got != "https://user:"+canary+"-var@db.example.com" {
		t.Errorf("substituted from the decrypted Secret: %q", got)
	}
	var sensitive []string
	for _, u := range res.Units {
		if u.ID == unit {
			sensitive = u.Sensitive
		}
	}
	joined := strings.Join(sensitive, "\n")
	for _, v := range []string{canary + "-db", canary + "-env", canary + "-var"} {
		if !strings.Contains(joined, v) {
			t.Errorf("%s not in Sensitive", v)
		}
	}
}

// problemText joins a render's problems, one a line.
func problemText(res *render.Result) string {
	var b strings.Builder
	for _, p := range res.Problems() {
		b.WriteString(p.String() + "\n")
	}
	return b.String()
}

func newDecryptor(t *testing.T, keys ...string) *sops.Decryptor {
	t.Helper()
	dec, err := sops.NewDecryptor(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return dec
}

func TestSOPSDecryptionPGP(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  *packet.Config
	}{
		{name: "RSA", cfg: rsaKey},
		{name: "Curve25519", cfg: eccKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, private := newPGPKey(t, tc.cfg)
			dir := sopsFleetFor(t, pgpRecipient(t, e))
			checkDecrypted(t, renderWith(t, dir, newDecryptor(t, private)))
		})
	}
}

func TestSOPSPGPWrongKey(t *testing.T) {
	e, _ := newPGPKey(t, eccKey)
	_, other := newPGPKey(t, eccKey)
	res := renderWith(t, sopsFleetFor(t, pgpRecipient(t, e)), newDecryptor(t, other))
	msgs := problemText(res)
	fp := strings.ToUpper(hex.EncodeToString(e.PrimaryKey.Fingerprint))
	for _, want := range []string{"secret.sops.yaml", "cannot decrypt with the given keys (encrypted for PGP " + fp + ")"} {
		if !strings.Contains(msgs, want) {
			t.Errorf("problems lack %q:\n%s", want, msgs)
		}
	}
	if strings.Contains(msgs, canary) {
		t.Errorf("problems show a secret value:\n%s", msgs)
	}
}

// A file encrypted for an age recipient and a PGP key opens with either.
func TestSOPSMixedAgeAndPGP(t *testing.T) {
	id := newIdentity(t)
	e, private := newPGPKey(t, eccKey)
	dir := sopsFleetFor(t, ageRecipient(t, id.Recipient().String()), pgpRecipient(t, e))
	_, otherPGP := newPGPKey(t, eccKey)
	otherAge := newIdentity(t).String()
	for _, tc := range []struct {
		name string
		keys []string
	}{
		{name: "age key", keys: []string{id.String()}},
		{name: "PGP key", keys: []string{private}},
		{name: "PGP key, wrong age key", keys: []string{otherAge, private}},
		{name: "age key, wrong PGP key", keys: []string{otherPGP, id.String()}},
		{name: "wrong age and right PGP key in one key file", keys: []string{"# age\n" + otherAge + "\n" + private}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkDecrypted(t, renderWith(t, dir, newDecryptor(t, tc.keys...)))
		})
	}
	t.Run("neither", func(t *testing.T) {
		msgs := problemText(renderWith(t, dir, newDecryptor(t, otherAge, otherPGP)))
		if !strings.Contains(msgs, "cannot decrypt with the given keys (encrypted for PGP ") || !strings.Contains(msgs, id.Recipient().String()) || strings.Contains(msgs, canary) {
			t.Errorf("problems:\n%s", msgs)
		}
	})
}

// gnupgKey and gnupgSecret were made with gpg 2.2.40 (`gpg --quick-gen-key
// ... future-default`, ed25519 with a cv25519 subkey, no passphrase;
// `gpg --export-secret-keys --armor`) and the sops library, which encrypts
// through the gpg binary when the keyring is a pubring.kbx: what real
// repositories hold. A test key, for nothing else.
const gnupgKey = `-----BEGIN PGP PRIVATE KEY BLOCK-----

lFgEawdhQBYJKwYBBAHaRw8BAQdA0Eo4tZ49u9lOHb4Xat1w/J5dSSYCxDYD3yLG
xZ+i8XMAAP42uZpTTjXMgZMvVQmpzdfKkNMStVC6TWc0tDZe9NkV5BELtCVmbHV4
Z2F0ZSB0ZXN0IDx0ZXN0QGZsdXhnYXRlLmludmFsaWQ+iJAEExYIADgWIQQZqdr6
IBvxtqkmw0zF9FC/CRzcBAUCawdhQAIbAwULCQgHAgYVCgkICwIEFgIDAQIeAQIX
gAAKCRDF9FC/CRzcBFKuAQCXAE/ZTSC4W9DiYaA4c5kxrO7SkAYP+xiZ+R47M4DD
NgD+ItZVXqhj8gHt6DePGHR5G/nu8me1xsbRCaGcaCaIagKcXQRrB2FAEgorBgEE
AZdVAQUBAQdAp5M/mjaJD1a8FSSAqIDVHEWlxCPyIpJZqStXEvd4Lk8DAQgHAAD/
VjheiyREZziYkFySCzbo+aMcVZcGFTifzk5jVA8DwwgNAoh4BBgWCAAgFiEEGana
+iAb8bapJsNMxfRQvwkc3AQFAmsHYUACGwwACgkQxfRQvwkc3ATc1QEA/qViHd4h
tmmqmxY+32jIjiXz8fil2Ooi6iKVuzXtVgwA/3EovEWlbh9QB4FLq9PwAhN72h8v
JanO4AIl2Hsd/PsP
=Fabq
-----END PGP PRIVATE KEY BLOCK-----
`

const gnupgSecret = `apiVersion: v1
kind: Secret
metadata:
    name: db
stringData:
    password: ENC[AES256_GCM,data:bjz2BcZZ/DYpz4JWD5Jf,iv:DIxiFYXiYy3asNEcwwuiF8A8u/LjOOQnpvAdtLe+mCs=,tag:xyCDAM/kSGZt+/0fevk4ow==,type:str]
sops:
    encrypted_regex: ^(data|stringData)$
    lastmodified: "2023-11-14T22:13:20Z"
    mac: ENC[AES256_GCM,data:VCsd9nXRAB/xft7qO9B7bXNpk1gOuUHOo4OJPpRXEtFDvfd9Q8fxxozYxPV6sZlDGUECuRWLo3YUTswL9y8ptDoDlqQKA0C4HpH3u/OhGkQ0HYVoi7bsmB4oIGDcPv3a30IozNCb3yXq4tJa0JZUNI6vOL4uRUKASTpiuo46oE0=,iv:4VZzeMdzPbT+Uc2R1/FjhCxUMidZIVnMPTJLzR4U9ms=,tag:8UtNtA/ZuwwXew3mz3gD1A==,type:str]
    pgp:
        - created_at: "2023-11-14T22:13:20Z"
          enc: |-
            -----BEGIN PGP MESSAGE-----

            hF4DH4pAa9ffpM4SAQdAGcynByaSBsWTR6z/wsPLc3CqoxCTbmfTnrF2s6D6sDQw
            08DzozWC4n8n3ibcAAjFpIv/0KK981930sYBVsiehhGFN8JxhQTPNA7I9obY5n7c
            0lwBNq2FbQMinweGMWkI5nbcoC8okTdfoX5aOpBESSS5p85khaqyy3/s31ORNNSQ
            lX3z+InriB2F+85maPzZFsYMWBcmNO7OMql/pr7S32AFIj7J5Nm+gLviLqWI2g==
            =W3cv
            -----END PGP MESSAGE-----
          fp: 19A9DAFA201BF1B6A926C34CC5F450BF091CDC04
    version: 3.13.3
`

func TestSOPSDecryptionPGPFromGnuPG(t *testing.T) {
	plain, err := newDecryptor(t, gnupgKey).Decrypt("secret.sops.yaml", []byte(gnupgSecret))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(plain), "password: canary-gpg-2c4d") {
		t.Errorf("plaintext:\n%s", plain)
	}
}

// Renders decrypt in parallel: one Decryptor serves them all.
func TestSOPSPGPConcurrentDecrypt(t *testing.T) {
	rsa, rsaPrivate := newPGPKey(t, rsaKey)
	ecc, eccPrivate := newPGPKey(t, eccKey)
	dec := newDecryptor(t, rsaPrivate, eccPrivate)
	store := sopsyaml.NewStore(&config.YAMLStoreConfig{})
	files := []string{
		testenv.SOPSEncrypt(t, store, "stringData:\n  v: "+canary+"\n", "", pgpRecipient(t, rsa)),
		testenv.SOPSEncrypt(t, store, "stringData:\n  v: "+canary+"\n", "", pgpRecipient(t, ecc)),
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			plain, err := dec.Decrypt("s.yaml", []byte(files[i%2]))
			if err != nil || !strings.Contains(string(plain), canary) {
				t.Errorf("decrypt: %v", err)
			}
		}()
	}
	wg.Wait()
}

func TestNewDecryptorPGPKeys(t *testing.T) {
	e, private := newPGPKey(t, eccKey)
	public := armored(t, openpgp.PublicKeyType, e.Serialize)
	protected, err := openpgp.NewEntity("fluxgate test", "", "test@fluxgate.invalid", eccKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := protected.EncryptPrivateKeys([]byte("passphrase"), nil); err != nil {
		t.Fatal(err)
	}
	protectedKey := armored(t, openpgp.PrivateKeyType, func(w io.Writer) error { return protected.SerializePrivateWithoutSigning(w, nil) })
	damaged := strings.Replace(private, "\n\n", "\n\nAAAA", 1)
	for _, tc := range []struct {
		name    string
		keys    []string
		wantErr string // "" when the keys are accepted
	}{
		{name: "armored private key", keys: []string{private}},
		{name: "two keys in one file, with text around", keys: []string{"# prod\n" + private + "\n# staging\n" + newPGPKeyText(t)}},
		{name: "public key", keys: []string{public}, wantErr: "PUBLIC KEY BLOCK----- is not a private key block"},
		{name: "passphrase", keys: []string{protectedKey}, wantErr: "protected by a passphrase"},
		{name: "damaged", keys: []string{damaged}, wantErr: "read PGP private key"},
		{name: "no END line", keys: []string{private[:len(private)/2]}, wantErr: "without an END line"},
		{name: "age text beside a PGP key", keys: []string{private + "AGE-SECRET-KEY-1NOTAKEY\n"}, wantErr: "read age identities"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sops.NewDecryptor(tc.keys...)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("rejected: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error = %v, want %q", err, tc.wantErr)
			}
			// Errors never quote key material.
			if err != nil {
				for _, line := range strings.Split(strings.Join(tc.keys, "\n"), "\n") {
					if len(line) > 20 && !strings.HasPrefix(line, "-----") && strings.Contains(err.Error(), line) {
						t.Errorf("error quotes key material: %v", err)
					}
				}
			}
		})
	}
}

func newPGPKeyText(t *testing.T) string {
	t.Helper()
	_, private := newPGPKey(t, eccKey)
	return private
}
