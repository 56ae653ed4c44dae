// Package cluster puts a rendered fleet into a Kubernetes cluster the way
// Flux's controllers do: server-side apply unit by unit in dependsOn order
// (CRDs and Namespaces first, waited for), health checks with kstatus,
// pruning of what a unit no longer renders, and the lifecycle of the
// clusters fluxgate runs itself (kind where a Docker engine is reachable,
// or a local control plane from binaries).
//
// The interfaces here are what the test command and the in-cluster
// controller are built on; their implementations, over client-go and
// fluxcd/pkg/ssa, land with the test command.
package cluster
