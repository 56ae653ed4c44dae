// Package cluster puts a rendered fleet into a Kubernetes cluster the way
// Flux's controllers do: server-side apply unit by unit in dependsOn order
// (CRDs and Namespaces first, waited for), health checks with kstatus,
// pruning of what a unit no longer renders, and the lifecycle of the
// clusters fluxgate runs itself (kind where a Docker engine is reachable,
// or a local control plane from binaries).
//
// Engine applies and waits with fluxcd/pkg/ssa's ResourceManager (field
// manager fluxgate, Flux's ownership labels, a server-side dry run on
// request); Run drives units in dependsOn order, independent ones in
// parallel, and returns a UnitResult per unit naming the first failing
// object's source file and line. Local is a control plane from binaries
// (etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok
// with one simulated node) in a temporary directory; Kubeconfig an
// existing cluster. Nothing here prints.
package cluster
