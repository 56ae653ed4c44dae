// Package kustomize is one kustomize build as kustomize-controller runs it:
// the kustomization file Flux generates from a Kustomization spec
// (Generate), the filesystem the build sees — the source root confined,
// the generated file laid over it in memory, SOPS files decrypted as they
// are read, every read recorded for the unit's input hash (FS) — the build
// itself with plugins off (Build), post-build substitution (Substitute)
// and commonMetadata (SetCommonMetadata).
//
// The unit graph, caches and the lookups of substituteFrom objects stay
// in package render, which composes these.
package kustomize
