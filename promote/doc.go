// Package promote plans environment promotions: which versions move from
// one environment of a fleet to the next (image tags and digests, chart
// versions, copied files, postBuild variables), as a [Plan] of [Change]s
// that name the file, line and YAML path they edit and why.
//
// [Compute] compares pairs of source and target directories of a tree
// (an fs.FS) and plans the edits of the target: each changed scalar is
// spliced into the file's original bytes, so comments, key order and
// formatting stay as written. Nothing outside the target directories is
// edited. [LoadConfig] reads the promotions .fluxgate.yaml declares.
package promote
