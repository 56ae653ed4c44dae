// Package workspace turns what a command is pointed at, a directory or a
// Git revision of the repository holding it, into a loaded *fleet.Repo,
// and renders the two revisions a diff compares.
//
// Load reads the work tree, confined to its root, or with Options.Ref the
// tree of a revision, written to a temporary directory from the object
// database (the work tree is never touched). The repository's own remotes
// (its Git config and, in GitHub Actions, GITHUB_REPOSITORY) make the
// GitRepository sources that name it resolve to the local tree.
//
// RenderRevisions loads a base and a head revision sharing one parse cache
// and renders them, the head reusing the base's builds whose inputs did not
// change. Both revisions share one extraction, switched in place, or with
// RevisionOptions.ChangedOnly are read straight from the object database
// and written to disk only as the builds ask for files.
//
// Options.Check refuses option values that cannot be right before
// anything is read; CheckSources refuses a --source whose directory is
// not in the tree and, once rendered (PendingSources.CheckRendered), one
// that no source object in the files or the render matches.
//
// Errors name the command-line flags the options come from (--ref,
// --source, --path, --changed-only, --max-file-size, --workers), as the
// commands report them.
package workspace
