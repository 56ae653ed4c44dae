package testenv

import (
	"crypto/rand"
	"testing"
	"time"

	"github.com/getsops/sops/v3"
	"github.com/getsops/sops/v3/aes"
	"github.com/getsops/sops/v3/keys"
	sopspgp "github.com/getsops/sops/v3/pgp"
)

// SOPSStore is what SOPSEncrypt needs of a sops store (YAML, JSON,
// dotenv, INI).
type SOPSStore interface {
	LoadPlainFile(in []byte) (sops.TreeBranches, error)
	EmitEncryptedFile(in sops.Tree) ([]byte, error)
}

// SOPSEncrypt encrypts plain with the sops library, as `sops --encrypt
// --encrypted-regex REGEX` does, for every master key in one key group
// (any of them opens the file). The master keys encrypt the data key
// themselves; the gpg binary is never run (a missing go-crypto path fails
// instead of touching a real keyring).
func SOPSEncrypt(t testing.TB, store SOPSStore, plain, regex string, mks ...keys.MasterKey) string {
	t.Helper()
	t.Setenv(sopspgp.SopsGpgExecEnv, "/nonexistent/gpg-not-used-by-these-tests")
	branches, err := store.LoadPlainFile([]byte(plain))
	if err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	for _, mk := range mks {
		if err := mk.Encrypt(key); err != nil {
			t.Fatal(err)
		}
	}
	tree := sops.Tree{Branches: branches, Metadata: sops.Metadata{
		KeyGroups: []sops.KeyGroup{mks}, EncryptedRegex: regex, Version: "3.13.3",
		LastModified: time.Unix(1700000000, 0).UTC(),
	}}
	cipher := aes.NewCipher()
	mac, err := tree.Encrypt(key, cipher)
	if err != nil {
		t.Fatal(err)
	}
	if tree.Metadata.MessageAuthenticationCode, err = cipher.Encrypt(mac, key, tree.Metadata.LastModified.Format(time.RFC3339)); err != nil {
		t.Fatal(err)
	}
	out, err := store.EmitEncryptedFile(tree)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
