// Package cache holds what a render keeps across runs and how it splits
// work between runners: the on-disk unit cache (Dir: rendered units and
// the kustomization files Flux generates, keyed by everything that
// decides them, bounded and trimmed least recently used first), the
// identity of the fluxgate build that wrote them (BuildStamp), and shard
// planning (Shard, Assign). It knows nothing of units or kustomize:
// package render names the slots and entries and decides what may be
// cached; the cache only stores, verifies and bounds them.
package cache
