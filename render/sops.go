package render

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/getsops/sops/v3"
	"github.com/getsops/sops/v3/aes"
	sopsage "github.com/getsops/sops/v3/age"
	"github.com/getsops/sops/v3/config"
	"github.com/getsops/sops/v3/keyservice"
	sopsdotenv "github.com/getsops/sops/v3/stores/dotenv"
	sopsini "github.com/getsops/sops/v3/stores/ini"
	sopsjson "github.com/getsops/sops/v3/stores/json"
	sopsyaml "github.com/getsops/sops/v3/stores/yaml"
	"google.golang.org/grpc"
)

// Decryptor decrypts SOPS files in memory with the age identities it holds.
// It is safe for concurrent use.
type Decryptor struct {
	identities sopsage.ParsedIdentities
}

// NewDecryptor parses age identities (the content of age key files, or
// the value of SOPS_AGE_KEY: one AGE-SECRET-KEY-1... per line, # comments
// allowed). No identity at all is an error.
func NewDecryptor(keys ...string) (*Decryptor, error) {
	d := &Decryptor{}
	for _, k := range keys {
		if strings.TrimSpace(k) == "" {
			continue
		}
		if err := d.identities.Import(k); err != nil {
			return nil, fmt.Errorf("read age identities: %w", err)
		}
	}
	if len(d.identities) == 0 {
		return nil, errors.New("no age identity given")
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

// IsSOPSEncrypted reports whether a file's content carries SOPS metadata,
// in the format sops writes for its name: YAML, JSON, dotenv, INI, and
// JSON for any other (binary) file.
func IsSOPSEncrypted(name string, data []byte) bool {
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
	key, err := tree.Metadata.GetDataKeyWithKeyServices([]keyservice.KeyServiceClient{ageKeys{d.identities}}, nil)
	if err != nil {
		return nil, fmt.Errorf("decrypt %s: no given age key opens it", filepath.Base(name))
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

// ageKeys is a sops key service that opens data keys with the given age
// identities only: no environment, no key files, no network.
type ageKeys struct{ ids sopsage.ParsedIdentities }

var _ keyservice.KeyServiceClient = ageKeys{}

func (a ageKeys) Encrypt(context.Context, *keyservice.EncryptRequest, ...grpc.CallOption) (*keyservice.EncryptResponse, error) {
	return nil, errors.New("encryption is not supported")
}

func (a ageKeys) Decrypt(_ context.Context, req *keyservice.DecryptRequest, _ ...grpc.CallOption) (*keyservice.DecryptResponse, error) {
	k, ok := req.GetKey().GetKeyType().(*keyservice.Key_AgeKey)
	if !ok {
		return nil, errors.New("only age keys can be used offline")
	}
	mk := &sopsage.MasterKey{Recipient: k.AgeKey.GetRecipient()}
	mk.SetEncryptedDataKey(req.GetCiphertext())
	a.ids.ApplyToMasterKey(mk)
	pt, err := mk.Decrypt()
	if err != nil {
		return nil, err
	}
	return &keyservice.DecryptResponse{Plaintext: pt}, nil
}
