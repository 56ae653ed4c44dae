package cluster

import (
	"context"
	"time"

	"github.com/fluxgate/fluxgate/render"
)

// ObjectRef names an object in a cluster.
type ObjectRef struct {
	Group, Version, Kind string
	Namespace, Name      string
}

// Action is what an apply or a prune did to one object.
type Action string

// The actions of a change set, as Flux reports them.
const (
	Created    Action = "created"
	Configured Action = "configured"
	Unchanged  Action = "unchanged"
	Deleted    Action = "deleted"
	Skipped    Action = "skipped"
)

// Entry is one object's part of a ChangeSet.
type Entry struct {
	Object ObjectRef
	Action Action
	// Fields are the changed field paths, for drift reports.
	Fields []string
}

// ChangeSet is what applying or pruning one unit did.
type ChangeSet []Entry

// Applier server-side applies a unit's objects with fluxgate's field
// manager, the way kustomize-controller does.
type Applier interface {
	Apply(ctx context.Context, u *render.Unit) (ChangeSet, error)
}

// Pruner deletes the objects of a previous inventory that a unit no
// longer renders, honouring Flux's prune annotations.
type Pruner interface {
	Prune(ctx context.Context, previous []ObjectRef, u *render.Unit) (ChangeSet, error)
}

// Waiter waits until objects are healthy (kstatus Current) or the timeout
// passes, and says which are not.
type Waiter interface {
	Wait(ctx context.Context, objects []ObjectRef, timeout time.Duration) error
}

// ControlPlane is a cluster fluxgate starts and stops itself.
type ControlPlane interface {
	// Start brings the cluster up and returns a kubeconfig for it.
	Start(ctx context.Context) (kubeconfig []byte, err error)
	// Stop tears it down, also after a failed Start.
	Stop(ctx context.Context) error
}
