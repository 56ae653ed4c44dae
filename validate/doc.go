// Package validate checks a rendered fleet offline: every object against its
// schema (kubeconform with an embedded catalog of Kubernetes and Flux
// schemas, plus CRDs found in the render), and GitOps rules over the graph.
// Everything wrong becomes a Finding that points at the source file and line.
package validate
