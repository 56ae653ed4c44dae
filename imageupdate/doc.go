// Package imageupdate evaluates Flux image policies against registry tags and
// rewrites setter-marked fields in the repository, the work Flux's
// image-reflector-controller and image-automation-controller do in a cluster,
// done instead on a Git checkout.
//
// Tag selection follows the image-reflector-controller exactly: ExcludeTags
// applies an ImageRepository's spec.exclusionList to the listed tags, and
// SelectTag applies an ImagePolicy's spec.filterTags and spec.policy (semver,
// alphabetical or numerical) to what is left, returning the tag the
// controller would report in status.latestRef.
//
// Libraries never print; a spec that cannot be evaluated is an
// *InvalidPolicyError, a policy that matches nothing wraps ErrNoTagMatches.
//
// The package imports no fluxgate package other than fleet.
package imageupdate
