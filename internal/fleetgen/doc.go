// Package fleetgen writes synthetic Flux GitOps repositories ("fleets") of a
// chosen size, for benchmarks and load tests of fluxgate.
//
// [Generate] lays out Config.Clusters cluster entry points, each with a
// flux-system bootstrap (GitRepository and Kustomization flux-system), a
// cluster-settings ConfigMap and Config.Kustomizations Flux Kustomizations.
// Every Flux Kustomization points at a per-cluster kustomize overlay of a
// base shared by all clusters, so the number of files grows with
// Clusters×Kustomizations overlays plus Kustomizations×Objects base objects
// rather than with the product of all three:
//
//	clusters/cluster-NNN/flux-system/kustomization.yaml
//	clusters/cluster-NNN/flux-system/gotk-sync.yaml
//	clusters/cluster-NNN/cluster-settings.yaml
//	clusters/cluster-NNN/apps.yaml
//	apps/app-KKK/base/kustomization.yaml
//	apps/app-KKK/base/namespace.yaml
//	apps/app-KKK/base/<kind>-<name>.yaml          (Objects files)
//	apps/app-KKK/overlays/cluster-NNN/kustomization.yaml
//
// Three optional parts complete the mix a real fleet holds (all zero by
// default, which keeps the layout above):
//
//   - Config.HelmReleases HelmReleases per app base, each installing the
//     local chart charts/app (ConfigMap, Service, Deployment) from the
//     flux-system GitRepository (chart.spec.chart ./charts/app), with values
//     completed by post-build substitution. Each is a unit of its own in
//     every cluster.
//   - Config.Secrets SOPS-encrypted Secrets per app base
//     (apps/app-KKK/base/secret-SS.sops.yaml, data and stringData encrypted
//     with AES256-GCM by the sops library, the data key wrapped for
//     [AgeRecipient]), a root .sops.yaml covering them, and spec.decryption
//     (provider sops, Secret sops-age) on every app Kustomization. They
//     validate without a key, as fluxgate checks SOPS files structurally;
//     [AgeIdentity] opens them.
//   - Config.CRDs CustomResourceDefinitions under infrastructure/crds,
//     applied by one more Flux Kustomization per cluster (crds, in
//     clusters/cluster-NNN/infrastructure.yaml) on which every app
//     Kustomization depends, and one custom resource of each kind per app
//     base, valid against the CRD's schema.
//
// [UnitCount] is the number of units fluxgate renders for a Config and
// [FileCount] the number of files written.
//
// The output is a pure function of the [Config]: files are written in a
// fixed order, nothing depends on map iteration, the clock or the
// environment, and Config.Seed drives a small self-contained hash (not
// math/rand) that picks names, regions, replica counts, ports and image
// tags. The same Config therefore always yields byte-identical trees,
// SOPS files included: they share one data key, wrapped for AgeRecipient
// once and kept in the source (age encryption is randomized and the age
// library takes no random source), and each value's IV is derived from
// the file, the value's path and the plaintext instead of drawn at random.
// That makes equal values encrypt equally: fine for benchmark data, never
// for real secrets.
//
// Every kustomization.yaml builds with kustomize, and every object is valid
// Kubernetes once Flux's post-build substitution has replaced the
// ${cluster_name}, ${region}, ${replicas:=1} and ${app_name} variables.
//
// The package never prints; every failure is returned as an error.
package fleetgen
