// Package sops decrypts SOPS-encrypted files in memory, the way
// kustomize-controller does for a Kustomization with spec.decryption: age
// identities and armored OpenPGP private keys only, opened by an offline key
// service (no environment, no key files, no gpg binary, no network), and no
// MAC check, since a kustomize patch may have changed a document after it
// was encrypted. render composes it; validate uses IsEncrypted to tell
// encrypted files from plaintext ones.
package sops
