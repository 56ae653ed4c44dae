// Package diff compares two renders of a repository (a pull request's base
// and head) object by object: per cluster entry point and unit, the objects
// added, removed, changed and moved between units, each with a minimal
// unified diff of its YAML.
//
// Objects are matched by API group, kind, namespace and name, with the
// hash suffix kustomize gives generated ConfigMaps and Secrets removed, so
// a generator whose content changed is one changed object, not a removal
// and an addition. YAML is written with sorted keys, so key order and
// formatting never show. Secret values are redacted: each value becomes a
// short keyed hash that is the same on both sides of one comparison, so a
// change is visible and the value is not.
package diff
