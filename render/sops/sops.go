package sops

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/getsops/sops/v3"
	"github.com/getsops/sops/v3/aes"
	sopsage "github.com/getsops/sops/v3/age"
	"github.com/getsops/sops/v3/config"
	"github.com/getsops/sops/v3/keyservice"
	sopspgp "github.com/getsops/sops/v3/pgp"
	sopsdotenv "github.com/getsops/sops/v3/stores/dotenv"
	sopsini "github.com/getsops/sops/v3/stores/ini"
	sopsjson "github.com/getsops/sops/v3/stores/json"
	sopsyaml "github.com/getsops/sops/v3/stores/yaml"
	"google.golang.org/grpc"
)

// Decryptor decrypts SOPS files in memory with the age identities and
// OpenPGP private keys it holds, as kustomize-controller does with the
// `*.agekey` and `*.asc` entries of a decryption Secret. Nothing is written
// to disk and no gpg binary, agent or keyring is used. It is safe for
// concurrent use.
type Decryptor struct {
	identities sopsage.ParsedIdentities
	pgp        openpgp.EntityList
}

// NewDecryptor reads decryption keys, each the content of a key file or of
// SOPS_AGE_KEY. The kind is told by content: ASCII-armored OpenPGP private
// keys (`-----BEGIN PGP PRIVATE KEY BLOCK-----`, as `gpg --export-secret-keys
// --armor` writes them, without a passphrase) are read as PGP keys, and the
// rest as age identities (one AGE-SECRET-KEY-1... per line, # comments
// allowed). No key at all is an error, and so is a PGP key with no private
// part or protected by a passphrase.
func NewDecryptor(keys ...string) (*Decryptor, error) {
	d := &Decryptor{}
	for _, k := range keys {
		rest, ring, err := readPGPKeys(k)
		if err != nil {
			return nil, err
		}
		d.pgp = append(d.pgp, ring...)
		if strings.TrimSpace(rest) == "" {
			continue
		}
		if err := d.identities.Import(rest); err != nil {
			return nil, fmt.Errorf("read age identities: %w", err)
		}
	}
	if len(d.identities) == 0 && len(d.pgp) == 0 {
		return nil, errors.New("no age identity or PGP private key given")
	}
	return d, nil
}

// sopsStore is what the sops stores share.
type sopsStore interface {
	LoadEncryptedFile(in []byte) (sops.Tree, error)
	EmitPlainFile(in sops.TreeBranches) ([]byte, error)
}

// storeFor picks the SOPS store by file name, as sops does.
func storeFor(name string) sopsStore {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".json":
		return sopsjson.NewStore(&config.JSONStoreConfig{})
	case ".env":
		return sopsdotenv.NewStore(&config.DotenvStoreConfig{})
	case ".ini":
		return sopsini.NewStore(&config.INIStoreConfig{})
	default:
		return sopsyaml.NewStore(&config.YAMLStoreConfig{})
	}
}

// IsEncrypted reports whether a file's content carries SOPS metadata,
// in the format sops writes for its name: YAML, JSON, dotenv, INI, and
// JSON for any other (binary) file.
func IsEncrypted(name string, data []byte) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml":
		return bytes.Contains(data, []byte("\nsops:")) || bytes.HasPrefix(data, []byte("sops:"))
	case ".env":
		return bytes.Contains(data, []byte("sops_mac="))
	case ".ini":
		return bytes.Contains(data, []byte("[sops]"))
	default:
		return bytes.Contains(data, []byte(`"sops"`)) && bytes.Contains(data, []byte("ENC[AES256_GCM"))
	}
}

// MetadataLine returns the 1-based line of a SOPS file's metadata (the
// "sops:" key of YAML, "sops" of JSON, the sops_ entries of dotenv, the
// [sops] section of INI), or 1 when it has none.
func MetadataLine(name string, data []byte) int {
	for i, line := range strings.Split(string(data), "\n") {
		switch strings.ToLower(filepath.Ext(name)) {
		case ".yaml", ".yml":
			if strings.HasPrefix(line, "sops:") {
				return i + 1
			}
		case ".env":
			if strings.HasPrefix(line, "sops_") {
				return i + 1
			}
		case ".ini":
			if strings.TrimSpace(line) == "[sops]" {
				return i + 1
			}
		default:
			if strings.HasPrefix(strings.TrimSpace(line), `"sops"`) {
				return i + 1
			}
		}
	}
	return 1
}

// Decrypt returns the plaintext of a SOPS-encrypted file. Like
// kustomize-controller it does not check the MAC (a kustomize patch may
// have changed the document since it was encrypted). The plaintext stays
// in memory.
func (d *Decryptor) Decrypt(name string, data []byte) ([]byte, error) {
	store := storeFor(name)
	tree, err := store.LoadEncryptedFile(data)
	if err != nil {
		return nil, fmt.Errorf("read SOPS metadata of %s: %w", filepath.Base(name), err)
	}
	key, err := tree.Metadata.GetDataKeyWithKeyServices([]keyservice.KeyServiceClient{offlineKeys{d}}, nil)
	if err != nil {
		return nil, newNoKeyError(filepath.Base(name), tree.Metadata)
	}
	if _, err := tree.Decrypt(key, aes.NewCipher()); err != nil {
		return nil, fmt.Errorf("decrypt %s: %w", filepath.Base(name), err)
	}
	out, err := store.EmitPlainFile(tree.Branches)
	if err != nil {
		return nil, fmt.Errorf("decrypt %s: %w", filepath.Base(name), err)
	}
	return out, nil
}

// NoKeyError is a SOPS file that none of the given keys opens: the
// error Decrypt returns then. It names the file and the keys the file was
// encrypted for (public: age recipients, PGP fingerprints), never a value.
type NoKeyError struct {
	// File is the base name of the file.
	File string
	// Recipients are the age recipients and PGP fingerprints ("PGP
	// FINGERPRINT") the file was encrypted for.
	Recipients []string
	// Kinds are the key kinds it was encrypted for ("age", "PGP", or
	// "age or PGP"); Other lists the kinds fluxgate does not use (cloud
	// KMS, Vault), when it was encrypted for nothing else.
	Kinds string
	Other []string
}

func (e *NoKeyError) Error() string {
	if len(e.Recipients) == 0 {
		return fmt.Sprintf("decrypt %s: it is encrypted only for %s, which fluxgate does not use (age and PGP keys only)", e.File, strings.Join(e.Other, ", "))
	}
	return fmt.Sprintf("decrypt %s: no given %s key opens it (encrypted for %s)", e.File, e.Kinds, strings.Join(e.Recipients, ", "))
}

// Message is what a finding on the file says: that the given keys cannot
// open it, and what it was encrypted for.
func (e *NoKeyError) Message() string {
	if len(e.Recipients) == 0 {
		return fmt.Sprintf("cannot decrypt with the given keys (encrypted only for %s, which fluxgate does not use: age and PGP keys only)", strings.Join(e.Other, ", "))
	}
	return fmt.Sprintf("cannot decrypt with the given keys (encrypted for %s)", strings.Join(e.Recipients, ", "))
}

// newNoKeyError explains why no given key opened a file: the kinds of
// keys it was encrypted for, and its recipients.
func newNoKeyError(file string, m sops.Metadata) *NoKeyError {
	e := &NoKeyError{File: file}
	var age, pgp bool
	for _, group := range m.KeyGroups {
		for _, k := range group {
			switch kind := k.TypeToIdentifier(); kind {
			case sopsage.KeyTypeIdentifier:
				age = true
				e.Recipients = append(e.Recipients, k.ToString())
			case sopspgp.KeyTypeIdentifier:
				pgp = true
				e.Recipients = append(e.Recipients, "PGP "+k.ToString())
			default:
				if !slices.Contains(e.Other, kind) {
					e.Other = append(e.Other, kind)
				}
			}
		}
	}
	switch {
	case age && !pgp:
		e.Kinds = "age"
	case pgp && !age:
		e.Kinds = "PGP"
	default:
		e.Kinds = "age or PGP"
	}
	return e
}

// offlineKeys is a sops key service that opens data keys with the
// Decryptor's age identities and PGP private keys only: no environment, no
// key files, no gpg, no network.
type offlineKeys struct{ d *Decryptor }

var _ keyservice.KeyServiceClient = offlineKeys{}

func (offlineKeys) Encrypt(context.Context, *keyservice.EncryptRequest, ...grpc.CallOption) (*keyservice.EncryptResponse, error) {
	return nil, errors.New("encryption is not supported")
}

func (o offlineKeys) Decrypt(_ context.Context, req *keyservice.DecryptRequest, _ ...grpc.CallOption) (*keyservice.DecryptResponse, error) {
	var pt []byte
	var err error
	switch k := req.GetKey().GetKeyType().(type) {
	case *keyservice.Key_AgeKey:
		pt, err = o.d.decryptAge(k.AgeKey.GetRecipient(), req.GetCiphertext())
	case *keyservice.Key_PgpKey:
		pt, err = o.d.decryptPGP(req.GetCiphertext())
	default:
		return nil, errors.New("only age and PGP keys can be used offline")
	}
	if err != nil {
		return nil, err
	}
	return &keyservice.DecryptResponse{Plaintext: pt}, nil
}

// decryptAge opens a data key encrypted for an age recipient.
func (d *Decryptor) decryptAge(recipient string, ciphertext []byte) ([]byte, error) {
	if len(d.identities) == 0 {
		return nil, errors.New("no age identity given")
	}
	mk := &sopsage.MasterKey{Recipient: recipient}
	mk.SetEncryptedDataKey(ciphertext)
	d.identities.ApplyToMasterKey(mk)
	return mk.Decrypt()
}

// MAC problems: what CheckMAC and MACMissing report.
var (
	// ErrMACMissing is a SOPS file whose metadata has no mac.
	ErrMACMissing = errors.New("its SOPS metadata has no mac")
	// ErrMACMismatch is a SOPS file whose content no longer matches its
	// mac: a value or key was changed, added or removed outside sops.
	ErrMACMismatch = errors.New("its content does not match the SOPS mac (changed outside sops)")
)

// MACMissing reports whether a SOPS file's metadata lacks a mac (without
// a key: the structure check). A file that does not parse as SOPS is not
// reported here.
func MACMissing(name string, data []byte) bool {
	tree, err := storeFor(name).LoadEncryptedFile(data)
	return err == nil && tree.Metadata.MessageAuthenticationCode == ""
}

// CheckMAC decrypts a SOPS file as sops does and compares the MAC of its
// content with the one stored in it: ErrMACMissing or ErrMACMismatch when
// they differ, nil when they match, and the decryption error when no key
// opens it. kustomize-controller does not check the MAC (its option is
// off by default, since objects are changed after encryption), but sops
// itself refuses such a file; fluxgate reports it, not the plaintext.
func (d *Decryptor) CheckMAC(name string, data []byte) (err error) {
	defer func() {
		// Malformed metadata can make sops panic.
		if p := recover(); p != nil {
			err = fmt.Errorf("check the SOPS mac of %s: %v", filepath.Base(name), p)
		}
	}()
	tree, err := storeFor(name).LoadEncryptedFile(data)
	if err != nil {
		return fmt.Errorf("read SOPS metadata of %s: %w", filepath.Base(name), err)
	}
	key, err := tree.Metadata.GetDataKeyWithKeyServices([]keyservice.KeyServiceClient{offlineKeys{d}}, nil)
	if err != nil {
		return newNoKeyError(filepath.Base(name), tree.Metadata)
	}
	cipher := aes.NewCipher()
	computed, err := tree.Decrypt(key, cipher)
	if err != nil {
		return fmt.Errorf("decrypt %s: %w", filepath.Base(name), err)
	}
	if tree.Metadata.MessageAuthenticationCode == "" {
		return ErrMACMissing
	}
	stored, err := cipher.Decrypt(tree.Metadata.MessageAuthenticationCode, key, tree.Metadata.LastModified.Format(time.RFC3339))
	if err != nil || stored != computed {
		return ErrMACMismatch
	}
	return nil
}
