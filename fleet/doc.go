// Package fleet loads a Flux repository once: every YAML document of the
// tree with its file and 1-based line, the Flux objects decoded with Flux's
// own API types (every served version, the written version remembered), the
// kustomize inclusion graph, the dependsOn graph and the cluster entry points.
//
// Loading never fails on the user's content: what is wrong in the repository
// becomes a Problem with file, line and object, and loading goes on. An error
// is returned only when the tree itself cannot be read.
//
// The package imports no other fluxgate package.
package fleet
