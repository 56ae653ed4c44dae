// Package gitrepo reads a local Git repository through go-git, without
// shelling out to the git command and without touching the work tree.
//
// [Open] finds the repository containing a directory, like git does, and
// returns a [Repo]. A Repo resolves revisions ([Repo.Resolve]), lists remote
// URLs ([Repo.RemoteURLs]) and exposes the tree of any commit either as a
// read-only [io/fs.FS] read straight from the object database
// ([Repo.TreeFS]) or written to a fresh directory ([Repo.Extract]).
// Uncommitted changes in the work tree are never seen by either.
//
// Symbolic links stored in a tree are never followed: TreeFS reports them
// with [io/fs.ModeSymlink] and refuses to read through them ([ErrSymlink]),
// and Extract recreates only links whose target stays inside the
// destination ([ErrUnsafeSymlink]). Submodules are skipped.
//
// [NormalizeURL] and [SameRepository] compare remote URLs written in the
// different forms Git accepts (https, ssh, scp-like).
//
// The package never prints; every failure is returned as an error.
package gitrepo
