package sops

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

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
		return nil, fmt.Errorf("decrypt %s: %s", filepath.Base(name), noKeyOpens(tree.Metadata))
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

// noKeyOpens explains why no given key opened a file: the kinds of keys it
// was encrypted for, and its recipients (public: age recipients, PGP
// fingerprints).
func noKeyOpens(m sops.Metadata) string {
	var age, pgp bool
	var recipients, other []string
	for _, group := range m.KeyGroups {
		for _, k := range group {
			switch kind := k.TypeToIdentifier(); kind {
			case sopsage.KeyTypeIdentifier:
				age = true
				recipients = append(recipients, k.ToString())
			case sopspgp.KeyTypeIdentifier:
				pgp = true
				recipients = append(recipients, "PGP "+k.ToString())
			default:
				if !slices.Contains(other, kind) {
					other = append(other, kind)
				}
			}
		}
	}
	kinds := "age or PGP"
	switch {
	case age && !pgp:
		kinds = "age"
	case pgp && !age:
		kinds = "PGP"
	case !age && !pgp:
		return fmt.Sprintf("it is encrypted only for %s, which fluxgate does not use (age and PGP keys only)", strings.Join(other, ", "))
	}
	return fmt.Sprintf("no given %s key opens it (encrypted for %s)", kinds, strings.Join(recipients, ", "))
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
