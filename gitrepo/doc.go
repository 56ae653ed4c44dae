// Package gitrepo reads Git repositories, local or cloned into memory, and
// writes commits to remotes, through go-git: it never shells out to the
// git command itself and never touches a work tree.
//
// [Open] finds the repository containing a directory, like git does, and
// returns a [Repo]. A Repo resolves revisions ([Repo.Resolve]), lists remote
// URLs ([Repo.RemoteURLs]) and exposes the tree of any commit either as a
// read-only [io/fs.FS] read straight from the object database
// ([Repo.TreeFS]) or written to a fresh directory ([Repo.Extract]), which [Repo.Update] turns
// into another revision by writing only what differs.
// Uncommitted changes in the work tree are never seen by either.
//
// Symbolic links stored in a tree are never followed: TreeFS reports them
// with [io/fs.ModeSymlink] and refuses to read through them ([ErrSymlink]),
// and Extract recreates only links whose target stays inside the
// destination ([ErrUnsafeSymlink]). Submodules are skipped.
//
// [CloneBranch] clones one branch of a remote over HTTP(S), with
// [BasicAuth] credentials (a token goes in the password), into memory; the
// result is a Repo like any other. On it, [Repo.FetchBranch] fetches another
// branch into "origin/<name>", [Repo.CommitFiles] writes a commit that
// replaces or adds files on top of a parent without a work tree,
// [Repo.CommitsBetween] lists the commits of one revision missing from
// another (git log base..head), and [Repo.PushBranch] updates a remote
// branch under a lease (like git push --force-with-lease): it fails with
// [ErrStaleBranch], changing nothing, when the branch moved since the caller
// looked. Credentials never appear in errors or when printed.
//
// [NormalizeURL] and [SameRepository] compare remote URLs written in the
// different forms Git accepts (https, ssh, scp-like).
//
// The package never prints; every failure is returned as an error.
package gitrepo
