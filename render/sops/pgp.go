package sops

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// PGP decryption is done in memory with github.com/ProtonMail/go-crypto,
// the library sops itself tries before it falls back to the gpg binary.
// kustomize-controller imports the `*.asc` keys of its decryption Secret
// into a temporary GNUPGHOME and lets sops run gpg; fluxgate reads the same
// armored keys into an in-memory keyring instead, so no key file is written,
// no gpg binary or agent is needed (it runs in a distroless image), and
// nothing prompts for a passphrase.

const (
	armorBegin    = "-----BEGIN PGP "
	armorEnd      = "-----END PGP "
	privateHeader = "-----BEGIN PGP PRIVATE KEY BLOCK-----"
)

// readPGPKeys reads the ASCII-armored OpenPGP private key blocks in text.
// It returns the text outside the blocks (age identities may share a
// file) and the keys. A block that holds no private key, or whose private
// keys are protected by a passphrase, is an error. Errors never quote key
// material.
func readPGPKeys(text string) (rest string, ring openpgp.EntityList, err error) {
	var outside strings.Builder
	for {
		i := strings.Index(text, armorBegin)
		if i < 0 {
			outside.WriteString(text)
			break
		}
		outside.WriteString(text[:i])
		text = text[i:]
		j := strings.Index(text, armorEnd)
		if j < 0 {
			return "", nil, errors.New("read PGP key: armored block without an END line")
		}
		end := j + len(armorEnd)
		if nl := strings.IndexByte(text[end:], '\n'); nl >= 0 {
			end += nl + 1
		} else {
			end = len(text)
		}
		block := text[:end]
		text = text[end:]
		if !strings.HasPrefix(block, privateHeader) {
			header, _, _ := strings.Cut(block, "\n")
			return "", nil, fmt.Errorf("read PGP key: %s is not a private key block (export one with gpg --export-secret-keys --armor)",
				strings.TrimSpace(header))
		}
		el, err := openpgp.ReadArmoredKeyRing(strings.NewReader(block))
		if err != nil {
			return "", nil, fmt.Errorf("read PGP private key: %w", err)
		}
		for _, e := range el {
			if err := usablePGPKey(e); err != nil {
				return "", nil, err
			}
		}
		ring = append(ring, el...)
	}
	return outside.String(), ring, nil
}

// usablePGPKey checks that an entity carries private keys that open
// messages without a passphrase (gnu-dummy stubs, as `gpg
// --export-secret-subkeys` writes for the primary key, are skipped).
func usablePGPKey(e *openpgp.Entity) error {
	fp := strings.ToUpper(hex.EncodeToString(e.PrimaryKey.Fingerprint))
	privs := []*packet.PrivateKey{e.PrivateKey}
	for _, s := range e.Subkeys {
		privs = append(privs, s.PrivateKey)
	}
	found := false
	for _, k := range privs {
		if k == nil || k.Dummy() {
			continue
		}
		if k.Encrypted {
			return fmt.Errorf("read PGP private key %s: it is protected by a passphrase; fluxgate, like kustomize-controller, needs a key without one", fp)
		}
		found = true
	}
	if !found {
		return fmt.Errorf("read PGP private key %s: it holds no private key", fp)
	}
	return nil
}

// decryptPGP opens a SOPS data key encrypted to a PGP key (the armored
// message of a `pgp:` entry's `enc`) with the Decryptor's keyring.
func (d *Decryptor) decryptPGP(ciphertext []byte) ([]byte, error) {
	if len(d.pgp) == 0 {
		return nil, errors.New("no PGP private key given")
	}
	block, err := armor.Decode(bytes.NewReader(ciphertext))
	if err != nil {
		return nil, fmt.Errorf("read PGP message: %w", err)
	}
	md, err := openpgp.ReadMessage(block.Body, d.pgp, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("read PGP message: %w", err)
	}
	if !md.IsEncrypted || md.DecryptedWith.PrivateKey == nil {
		return nil, errors.New("read PGP message: not encrypted to a PGP key")
	}
	// Reading to the end checks the message's integrity (MDC or AEAD tag).
	key, err := io.ReadAll(md.UnverifiedBody)
	if err != nil {
		return nil, fmt.Errorf("read PGP message: %w", err)
	}
	return key, nil
}
