// Package render builds what Flux would apply, unit by unit.
//
// A unit is one Flux Kustomization (or, in a repository without Flux
// objects, one kustomize overlay). Starting from a cluster entry point,
// Render builds each Kustomization the way kustomize-controller does, with
// github.com/fluxcd/pkg/kustomize: the kustomization.yaml Flux generates
// from the spec (patches, images, components, targetNamespace,
// namePrefix/nameSuffix), a build confined to the source root with plugins
// disabled, post-build variable substitution with Flux's envsubst rules, and
// spec.commonMetadata. The Flux Kustomizations a unit outputs, as rendered
// (so a parent's patches and substitutions apply to them), become units in
// turn.
//
// A repository with neither a Flux Kustomization nor a kustomization file
// renders as plain manifests (KindManifests, plain.go): one unit per
// directory, its Kubernetes documents as written, nothing built.
//
// Nothing is written to the repository: the generated kustomization file is
// laid over the tree in memory. Every object carries the file and line of the
// document it came from (kustomize origin annotations, used internally and
// removed from the output), and every unit a hash of all its inputs. Units
// build in parallel on a bounded pool; fluxcd/pkg/kustomize serialises the
// kustomize build itself, the rest overlaps.
//
// With Options.UnitCacheDir, rendered units are kept on disk across runs,
// keyed by their input hash and checked against the digests of the files
// their build read, so a run over an unchanged repository builds nothing.
// Units holding Secret values (decrypted SOPS data, variables or Helm
// values from Secrets, Secrets with values in their output) are never
// written there.
package render
