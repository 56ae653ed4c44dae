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
// The output is a pure function of the [Config]: files are written in a
// fixed order, nothing depends on map iteration, the clock or the
// environment, and Config.Seed drives a small self-contained hash (not
// math/rand) that picks names, regions, replica counts, ports and image
// tags. The same Config therefore always yields byte-identical trees.
//
// Every kustomization.yaml builds with kustomize, and every object is valid
// Kubernetes once Flux's post-build substitution has replaced the
// ${cluster_name}, ${region}, ${replicas:=1} and ${app_name} variables.
//
// The package never prints; every failure is returned as an error.
package fleetgen
