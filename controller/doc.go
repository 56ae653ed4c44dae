// Package controller is fluxgate's minimal in-cluster pull agent: fetch a
// revision of the repository, render one cluster entry point with package
// render, and for each unit in dependsOn order apply, wait and prune with
// package cluster, correcting drift at every interval. A failed fetch,
// render or apply never prunes.
//
// The types here are the seams the controller command is built on; the
// loop itself lands with that command.
package controller
