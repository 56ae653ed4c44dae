package cluster

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/fluxcd/cli-utils/pkg/kstatus/polling"
	"github.com/fluxcd/cli-utils/pkg/object"
	"github.com/fluxcd/pkg/ssa"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/fluxgate/fluxgate/render"
)

// FieldManager is the server-side apply field manager of every object
// fluxgate applies.
const FieldManager = "fluxgate"

// Engine applies units and waits for their health with fluxcd/pkg/ssa's
// ResourceManager, the library kustomize-controller and helm-controller
// use. One Engine serves one cluster; its methods are safe for concurrent
// use by units that do not share objects.
type Engine struct {
	client client.Client
	poller *polling.StatusPoller
	// DryRun makes Apply a server-side dry run: admission, schemas and CEL
	// rules are checked, nothing is persisted.
	DryRun bool
	// WaitInterval is how often health is polled; one second when zero.
	WaitInterval time.Duration
}

var (
	_ Applier = (*Engine)(nil)
	_ Waiter  = (*Engine)(nil)
)

// NewEngine connects to the cluster of kubeconfig (its current context,
// or context when not empty).
func NewEngine(kubeconfig []byte, context string) (*Engine, error) {
	cc, err := clientcmd.Load(kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	cfg, err := clientcmd.NewDefaultClientConfig(*cc, &clientcmd.ConfigOverrides{CurrentContext: context}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	return NewEngineForConfig(cfg)
}

// NewEngineForConfig connects to the cluster of a client-go config.
func NewEngineForConfig(cfg *rest.Config) (*Engine, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = 100, 200
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("cluster client: %w", err)
	}
	mapper, err := apiutil.NewDynamicRESTMapper(cfg, hc)
	if err != nil {
		return nil, fmt.Errorf("cluster client: %w", err)
	}
	c, err := client.New(cfg, client.Options{HTTPClient: hc, Mapper: mapper})
	if err != nil {
		return nil, fmt.Errorf("cluster client: %w", err)
	}
	return &Engine{client: c, poller: polling.NewStatusPoller(c, mapper, polling.Options{})}, nil
}

// Client is the controller-runtime client the engine applies with.
func (e *Engine) Client() client.Client { return e.client }

// manager is a ResourceManager whose ownership labels are those of the
// Flux controller that would apply u: kustomize.toolkit.fluxcd.io/name and
// /namespace, or helm.toolkit.fluxcd.io/… for a HelmRelease.
func (e *Engine) manager(u *render.Unit) *ssa.ResourceManager {
	group := "kustomize.toolkit.fluxcd.io"
	if u.Kind == "HelmRelease" {
		group = "helm.toolkit.fluxcd.io"
	}
	rm := ssa.NewResourceManager(e.client, e.poller, ssa.Owner{Field: FieldManager, Group: group})
	rm.SetConcurrency(4)
	return rm
}

// ApplyError is an apply that the API server refused, with the object it
// refused and where that object was written.
type ApplyError struct {
	Object ObjectRef
	// File and Line locate the object's source document; empty when the
	// error names no object of the unit.
	File string
	Line int
	Err  error
}

func (e *ApplyError) Error() string {
	where := ""
	if e.File != "" {
		where = fmt.Sprintf(" (%s:%d)", e.File, e.Line)
	}
	return fmt.Sprintf("apply %s%s: %v", e.Object, where, e.Err)
}

func (e *ApplyError) Unwrap() error { return e.Err }

// String formats the reference as Kind/namespace/name.
func (r ObjectRef) String() string {
	if r.Namespace == "" {
		return r.Kind + "/" + r.Name
	}
	return r.Kind + "/" + r.Namespace + "/" + r.Name
}

// Apply server-side applies u's objects: CRDs, ClusterRoles and
// Namespaces first, waited for until established, then class
// definitions, then the rest, with Flux's ownership labels. A refused
// object comes back as an *ApplyError naming its source file and line.
func (e *Engine) Apply(ctx context.Context, u *render.Unit) (ChangeSet, error) {
	objs, srcs, err := unstructuredOf(u)
	if err != nil {
		return nil, err
	}
	rm := e.manager(u)
	rm.SetOwnerLabels(objs, u.Name, u.Namespace)
	if e.DryRun {
		return e.dryRun(ctx, objs, srcs)
	}
	opts := ssa.DefaultApplyOptions()
	opts.WaitInterval = e.interval()
	opts.WaitTimeout = time.Minute
	cs, err := rm.ApplyAllStaged(ctx, objs, opts)
	if err != nil {
		return changeSetOf(cs), locate(err, objs, srcs)
	}
	return changeSetOf(cs), nil
}

func (e *Engine) interval() time.Duration {
	if e.WaitInterval > 0 {
		return e.WaitInterval
	}
	return time.Second
}

// dryRun server-side applies each object with dryRun=All.
func (e *Engine) dryRun(ctx context.Context, objs []*unstructured.Unstructured, srcs []*render.Object) (ChangeSet, error) {
	var cs ChangeSet
	for i, o := range objs {
		obj := o.DeepCopy()
		obj.SetManagedFields(nil)
		obj.SetResourceVersion("")
		if err := e.client.Patch(ctx, obj, client.Apply, client.FieldOwner(FieldManager), client.ForceOwnership, client.DryRunAll); err != nil {
			return cs, &ApplyError{Object: refOf(o), File: srcs[i].File, Line: srcs[i].Line, Err: err}
		}
		cs = append(cs, Entry{Object: refOf(o), Action: Skipped})
	}
	return cs, nil
}

// Wait waits until every object is Current by kstatus, or the timeout
// passes, or one of them fails; the error names the objects not ready.
func (e *Engine) Wait(ctx context.Context, objects []ObjectRef, timeout time.Duration) error {
	set := make(object.ObjMetadataSet, 0, len(objects))
	for _, r := range objects {
		set = append(set, object.ObjMetadata{
			GroupKind: schema.GroupKind{Group: r.Group, Kind: r.Kind},
			Namespace: r.Namespace, Name: r.Name,
		})
	}
	rm := ssa.NewResourceManager(e.client, e.poller, ssa.Owner{Field: FieldManager, Group: "kustomize.toolkit.fluxcd.io"})
	return rm.WaitForSetWithContext(ctx, set, ssa.WaitOptions{Interval: e.interval(), Timeout: timeout, FailFast: true})
}

// Refs are the references of u's objects.
func Refs(u *render.Unit) []ObjectRef {
	refs := make([]ObjectRef, 0, len(u.Objects))
	for _, o := range u.Objects {
		m := &unstructured.Unstructured{Object: o.Value()}
		refs = append(refs, refOf(m))
	}
	return refs
}

func refOf(o *unstructured.Unstructured) ObjectRef {
	gv, _ := schema.ParseGroupVersion(o.GetAPIVersion())
	return ObjectRef{Group: gv.Group, Version: gv.Version, Kind: o.GetKind(), Namespace: o.GetNamespace(), Name: o.GetName()}
}

func unstructuredOf(u *render.Unit) ([]*unstructured.Unstructured, []*render.Object, error) {
	objs := make([]*unstructured.Unstructured, 0, len(u.Objects))
	srcs := make([]*render.Object, 0, len(u.Objects))
	for _, o := range u.Objects {
		v := o.Value()
		if v == nil {
			return nil, nil, fmt.Errorf("unit %s: object %s was released before apply", u.ID, o.Ref())
		}
		objs = append(objs, (&unstructured.Unstructured{Object: v}).DeepCopy())
		srcs = append(srcs, o)
	}
	return objs, srcs, nil
}

// locate wraps an apply error with the unit's object it names (ssa's
// errors name objects as Kind/namespace/name), the longest match first so
// that a/b does not take the error of a/bc.
func locate(err error, objs []*unstructured.Unstructured, srcs []*render.Object) error {
	msg := err.Error()
	best := -1
	for i, o := range objs {
		id := refOf(o).String()
		if strings.Contains(msg, id) && (best < 0 || len(id) > len(refOf(objs[best]).String())) {
			best = i
		}
	}
	if best < 0 {
		return err
	}
	return &ApplyError{Object: refOf(objs[best]), File: srcs[best].File, Line: srcs[best].Line, Err: err}
}

func changeSetOf(cs *ssa.ChangeSet) ChangeSet {
	if cs == nil {
		return nil
	}
	out := make(ChangeSet, 0, len(cs.Entries))
	for _, en := range cs.Entries {
		gv, _ := schema.ParseGroupVersion(en.GroupVersion)
		out = append(out, Entry{
			Object: ObjectRef{Group: en.ObjMetadata.GroupKind.Group, Version: gv.Version, Kind: en.ObjMetadata.GroupKind.Kind,
				Namespace: en.ObjMetadata.Namespace, Name: en.ObjMetadata.Name},
			Action: Action(en.Action),
		})
	}
	return out
}
