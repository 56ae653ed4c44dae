package controller

import (
	"context"
	"io/fs"

	"github.com/fluxgate/fluxgate/cluster"
)

// Artifact is one fetched revision of the repository.
type Artifact struct {
	// Revision names what was fetched (branch@sha1:..., or an OCI digest).
	Revision string
	// FS is the revision's tree.
	FS fs.FS
}

// Source fetches the newest revision of what the controller follows (a Git
// branch, tag or commit through package gitrepo, or an OCI artifact).
type Source interface {
	Fetch(ctx context.Context) (*Artifact, error)
}

// Inventory stores, per unit, what the controller applied last, so that a
// later reconcile prunes only what it owns.
type Inventory interface {
	Load(ctx context.Context, unit string) ([]cluster.ObjectRef, error)
	Save(ctx context.Context, unit string, objects []cluster.ObjectRef) error
}
