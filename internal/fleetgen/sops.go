package fleetgen

import (
	cryptoaes "crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/getsops/sops/v3"
	"github.com/getsops/sops/v3/aes"
	sopsage "github.com/getsops/sops/v3/age"
	"github.com/getsops/sops/v3/config"
	"github.com/getsops/sops/v3/keys"
	sopsyaml "github.com/getsops/sops/v3/stores/yaml"
)

// AgeIdentity is the age private key that opens the SOPS Secrets of every
// generated fleet (for example `fluxgate validate --decryption-key-file`
// with this line in the file). It is published here on purpose, for
// benchmarks: never encrypt real secrets for it.
const AgeIdentity = "AGE-SECRET-KEY-18UAX4MQLSMTRWWWQCUA2R7760NGK0G7CUQ8H3R3J5DT2T35JH9RSDLR955"

// AgeRecipient is the public half of [AgeIdentity].
const AgeRecipient = "age1da4p84gkqam5mhhd9x5mkxtlw435s92vf37mzlah7356t6d89qdsl54kn9"

// sopsDataKey is the SOPS data key of every generated SOPS file, and
// sopsEncryptedDataKey the same key encrypted once for [AgeRecipient]
// (age encryption draws fresh randomness and the age library takes no
// random source, so it is done once and kept here; TestSOPSDataKey checks
// that AgeIdentity opens it to sopsDataKey). Together with value IVs
// derived from the content (detCipher) this keeps SOPS files
// byte-identical for the same Config.
var sopsDataKey = sha256.Sum256([]byte("fluxgate fleetgen SOPS data key"))

const sopsEncryptedDataKey = `-----BEGIN AGE ENCRYPTED FILE-----
YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBwbFFOZHpyRFE0SmJOWWor
ZFJQSS94dFMzbk9WRkdWZjJlaFdTQXNGeTJNCmg4cGpCSHVjNGFBWldwaDNiMWZ2
UkFyOTNOM1Q2L0I3MWp1bmIxOW4xbGMKLS0tIEJBdmxGcTRia053d1VoRXhJZnd3
Mmg0Q1BWOUhFVTFScWdDeVJRY2JLTFUKdqaG/6YKrIPh+fddr4afl4OflzuQRqm7
LeC1p5iDzE+FAXWaqoGTdrI9JIWKrQwQ3DNVnWnI8S2P9oqGHch7iw==
-----END AGE ENCRYPTED FILE-----
`

// sopsLastModified is the lastmodified of every generated SOPS file.
var sopsLastModified = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// sopsVersion is the sops version written into the metadata: the sops
// library in go.mod.
const sopsVersion = "3.13.3"

// detCipher is sops's AES256-GCM value cipher (the same ENC[...] format,
// decryptable by sops) with the IV derived from the file, the value's
// path and the plaintext instead of drawn at random, so that the same
// input always encrypts to the same text. Equal inputs therefore show as
// equal ciphertexts: fine for benchmark data, not for real secrets.
type detCipher struct{ file string }

var _ sops.Cipher = detCipher{}

// Encrypt encrypts a string value (the only type fleetgen's Secrets and
// the MAC hold).
func (c detCipher) Encrypt(plaintext any, key []byte, additionalData string) (string, error) {
	s, ok := plaintext.(string)
	if !ok {
		return "", fmt.Errorf("encrypt %s: value of type %T, only strings are supported", c.file, plaintext)
	}
	if s == "" {
		return "", nil
	}
	block, err := cryptoaes.NewCipher(key)
	if err != nil {
		return "", err
	}
	const nonceSize = 32 // as sops
	gcm, err := cipher.NewGCMWithNonceSize(block, nonceSize)
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s\x00%s\x00%s", c.file, additionalData, s)
	iv := mac.Sum(nil)[:nonceSize]
	out := gcm.Seal(nil, iv, []byte(s), []byte(additionalData))
	n := len(out) - cryptoaes.BlockSize
	return fmt.Sprintf("ENC[AES256_GCM,data:%s,iv:%s,tag:%s,type:str]",
		base64.StdEncoding.EncodeToString(out[:n]),
		base64.StdEncoding.EncodeToString(iv),
		base64.StdEncoding.EncodeToString(out[n:])), nil
}

// Decrypt is sops's.
func (c detCipher) Decrypt(ciphertext string, key []byte, additionalData string) (any, error) {
	return aes.NewCipher().Decrypt(ciphertext, key, additionalData)
}

// sopsEncrypt encrypts the data and stringData of the YAML document plain
// as `sops --encrypt --encrypted-regex '^(data|stringData)$' --age
// AgeRecipient` does, deterministically. file names the file in the
// repository and salts the IVs.
func sopsEncrypt(file, plain string) (string, error) {
	store := sopsyaml.NewStore(&config.YAMLStoreConfig{})
	branches, err := store.LoadPlainFile([]byte(plain))
	if err != nil {
		return "", fmt.Errorf("sops encrypt %s: %w", file, err)
	}
	mk, err := sopsage.MasterKeyFromRecipient(AgeRecipient)
	if err != nil {
		return "", fmt.Errorf("sops encrypt %s: %w", file, err)
	}
	mk.SetEncryptedDataKey([]byte(sopsEncryptedDataKey))
	tree := sops.Tree{Branches: branches, Metadata: sops.Metadata{
		KeyGroups:      []sops.KeyGroup{{keys.MasterKey(mk)}},
		EncryptedRegex: "^(data|stringData)$",
		Version:        sopsVersion,
		LastModified:   sopsLastModified,
	}}
	c := detCipher{file: file}
	key := sopsDataKey[:]
	mac, err := tree.Encrypt(key, c)
	if err != nil {
		return "", fmt.Errorf("sops encrypt %s: %w", file, err)
	}
	if tree.Metadata.MessageAuthenticationCode, err = c.Encrypt(mac, key, sopsLastModified.Format(time.RFC3339)); err != nil {
		return "", fmt.Errorf("sops encrypt %s: %w", file, err)
	}
	out, err := store.EmitEncryptedFile(tree)
	if err != nil {
		return "", fmt.Errorf("sops encrypt %s: %w", file, err)
	}
	return string(out), nil
}
