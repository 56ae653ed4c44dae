package render

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"unique"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	kjson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/render/cache"
	"github.com/fluxgate/fluxgate/render/helm"
	"github.com/fluxgate/fluxgate/render/sops"
)

// Unit kinds.
const (
	KindKustomization = "Kustomization"
	// KindOverlay is a plain kustomize overlay built as an entry point of a
	// repository without a Flux Kustomization for it.
	KindOverlay = "Overlay"
	// KindHelmRelease is a Flux HelmRelease: its objects are what
	// helm-controller would install.
	KindHelmRelease = "HelmRelease"
)

// Options configure Render.
type Options struct {
	// Dir is the repository root on disk, absolute. Kustomize builds read
	// from it, confined to the source root; nothing is written to it.
	Dir string
	// Materialize, when set, says that Dir is written on demand and holds
	// no file the ignore rules exclude. It is called before every read of
	// the repository's files with the paths about to be read, relative to
	// Dir: files, or directories standing for the files directly in them
	// (with deep, for everything below them). The paths of a kustomize
	// build are those the repository's graph finds (fleet.Repo.BuildInputs).
	Materialize func(paths []string, deep bool) error
	// Paths are the cluster entry points to render, relative to Dir. Empty
	// means every entry point of the repository.
	Paths []string
	// Workers bounds the units built at once; zero means GOMAXPROCS, and
	// more than fleet.MaxWorkers means fleet.MaxWorkers.
	Workers int
	// AllowRemoteBases lets kustomizations load remote bases (off, as in
	// kustomize-controller started with --no-remote-bases).
	AllowRemoteBases bool
	// EnableHelm turns on kustomize's helmCharts generator (it runs the
	// helm command on PATH); EnableExec turns on exec KRM functions. Flux
	// runs neither, so both are off by default.
	EnableHelm bool
	EnableExec bool
	// Decryptor opens SOPS files for the Kustomizations that declare
	// spec.decryption.provider sops, in memory. Nil: encrypted values are
	// replaced by EncryptedPlaceholder.
	Decryptor *sops.Decryptor
	// Progress, when set, is called once per finished unit, from any
	// goroutine, serialised.
	Progress func(*Unit)
	// KubernetesVersion is the version Helm charts see in .Capabilities;
	// empty means DefaultKubernetesVersion.
	KubernetesVersion string
	// Offline renders HelmReleases from the chart cache only: a remote
	// chart that is not cached is a chart-unavailable problem.
	Offline bool
	// RestrictEgress lets chart fetches reach public addresses only
	// (internal/egress).
	RestrictEgress bool
	// CacheDir is the content-addressed cache of fetched Helm charts;
	// empty means $XDG_CACHE_HOME/fluxgate/charts.
	CacheDir string
	// UnitCacheDir, when set, is the on-disk cache of rendered units: a
	// unit whose inputs (spec, files read, variables, chart and values,
	// Kubernetes version, fluxgate build) are those of a cached one is
	// taken from it instead of built. Units holding Secret values are
	// never written to it. Commands use <cache dir>/units, next to the
	// chart cache's <cache dir>/charts, so one directory holds both.
	UnitCacheDir string
	// UnitCacheMaxBytes bounds the unit cache: after a render that wrote
	// to it, the least recently used entries go until it fits. Zero means
	// DefaultUnitCacheMaxBytes.
	UnitCacheMaxBytes int64
	// Compact keeps each finished unit's objects as JSON rather than
	// decoded maps: Object.Object is nil then, and Object.Value decodes a
	// copy. A fleet's objects take a fraction of the memory; for consumers
	// that read each object a few times, through Value, GVK, Ref and JSON
	// (validate).
	Compact bool
	// Checked, when set, is called once per built unit, from the goroutine
	// that built it, before any other unit can read the unit's objects:
	// the caller may check them and Release those it no longer needs
	// (validate does, so that a fleet's objects are not all held until
	// the end). Up to Workers calls run at once.
	Checked func(*Unit)
	// KeepBuilds keeps the render's kustomize builds in the Result, in
	// memory, for a later render to reuse.
	KeepBuilds bool
	// Reuse is a render of another revision of the same repository made
	// with KeepBuilds: its builds whose inputs are unchanged here are
	// reused instead of run again. With the same Scope, a unit the change
	// does not reach is Reuse's own *Unit, shared by both results.
	Reuse *Result
	// Scope, when set, limits the render to the units a change between
	// two revisions can reach (fleet.ChangeScope): a unit that the change
	// cannot reach, and whose output no other unit depends on, is not
	// built and is marked Skipped. Give the same Scope to the renders of
	// both revisions.
	Scope ChangeScope
	// Plain renders the repository as plain manifests (one unit per
	// directory, documents as written) whatever it holds: for a stream
	// that is already the output of a build (validate -), whose Flux
	// Kustomizations are objects to check, not builds to follow.
	Plain bool
	// Shard, when set, makes the render one part of a partition of the
	// units (see Partition), and records in Unit.Shard the shard that owns
	// each unit. Partitioned by cluster (at least Shard.Count clusters),
	// the render builds the shard's clusters only: Result.Clusters and
	// Result.Units hold nothing of the other shards. Partitioned by unit
	// (fewer clusters than shards), every unit is still built, so that
	// lookups and cross-unit rules see the whole fleet; Result.Owns tells
	// the shard's own units apart.
	Shard Shard
	// SkipForeign, with Shard partitioned by unit, does not build a unit
	// owned by another shard when its output cannot declare units (a HelmRelease, or a
	// build that reads no Flux object): it is marked Skipped. Units that
	// declare units are still built, to reach the shard's units below
	// them. When a substituteFrom or valuesFrom must be looked up across
	// the cluster, the skipped units are built after all before that
	// lookup, so that every shard renders its units as an unsharded run
	// does.
	SkipForeign bool
}

// ChangeScope answers, for a change between two revisions, which builds
// it can reach; fleet.ChangeScope implements it.
type ChangeScope interface {
	// TouchesBuild: a kustomize build of dir by the Flux Kustomization
	// spec (nil for an overlay), its spec.components included, can read a
	// changed file.
	TouchesBuild(dir string, spec map[string]any) bool
	// Leaf: a build of dir by spec declares no Flux object and nothing
	// Flux objects read, in either revision.
	Leaf(dir string, spec map[string]any) bool
	// Quiet: a build of dir (by the Flux Kustomization spec, nil for an
	// overlay) that the change does not reach declares no unit the change
	// reaches, at any depth, and nothing other units look up.
	Quiet(cluster, dir string, spec map[string]any) bool
	// HelmReleaseReached: the change reaches the HelmRelease through its
	// values, its chart's source or its chart's files; at locates it.
	HelmReleaseReached(cluster string, hr map[string]any, at *fleet.Document) bool
	// ValuesChanged: ConfigMaps, Secrets or generators changed.
	ValuesChanged() bool
	// StaticValues: the ConfigMaps and Secrets a Flux object reads values
	// from are files of the repository, not outputs of builds.
	StaticValues(obj map[string]any) bool
}

// Object is one rendered object and the source document it came from.
type Object struct {
	Object map[string]any
	// File and Line locate the document that produced the object, relative
	// to the repository root; Line is 0 when only the file is known.
	File string
	Line int
	// Template is the chart template that produced the object (the
	// "# Source:" path Helm prints) for HelmRelease units; empty otherwise.
	Template string
	// GeneratedBy is the ResourceSet (Kind/namespace/name) that the
	// object was rendered from, at File and Line; empty otherwise.
	GeneratedBy string

	// compact is set once the object is held as JSON (Options.Compact):
	// raw, with its apiVersion and Ref; Object is nil then. kind,
	// namespace and name are parts of ref. Release drops raw and keeps
	// the rest.
	compact               bool
	raw                   []byte
	apiVersion, ref       string
	kind, namespace, name string
}

// Ref names the object as Kind/namespace/name.
func (o *Object) Ref() string {
	if o.compact {
		return o.ref
	}
	u := unstructured.Unstructured{Object: o.Object}
	return fleet.ObjectRef(u.GetKind(), u.GetNamespace(), u.GetName())
}

// NamespacedName returns the object's namespace and name without decoding
// it.
func (o *Object) NamespacedName() (namespace, name string) {
	if o.compact {
		return o.namespace, o.name
	}
	u := unstructured.Unstructured{Object: o.Object}
	return u.GetNamespace(), u.GetName()
}

// Value returns the object: Object, or, for an object a render made with
// Options.Compact holds as JSON, a fresh decoded copy of it; nil once
// released.
func (o *Object) Value() map[string]any {
	if !o.compact {
		return o.Object
	}
	if o.raw == nil {
		return nil // released
	}
	var m map[string]any
	if err := kjson.Unmarshal(o.raw, &m); err != nil {
		return nil // raw is json.Marshal output
	}
	return m
}

// GVK returns the object's apiVersion and kind without decoding it.
func (o *Object) GVK() (apiVersion, kind string) {
	if o.compact {
		return o.apiVersion, o.kind
	}
	apiVersion, _ = o.Object["apiVersion"].(string)
	kind, _ = o.Object["kind"].(string)
	return apiVersion, kind
}

// JSON returns the object encoded as JSON (keys sorted, as json.Marshal
// writes them). The bytes of a compacted object are shared: do not modify
// them.
func (o *Object) JSON() ([]byte, error) {
	if !o.compact {
		return json.Marshal(o.Object)
	}
	if o.raw == nil {
		return nil, fmt.Errorf("%s was released", o.ref)
	}
	return o.raw, nil
}

// Release drops a compacted object's JSON (Options.Compact), keeping its
// apiVersion, kind, namespace, name and origin: Value returns nil
// afterwards. Objects that a later unit's lookups may read, ConfigMaps,
// Secrets and Flux objects (substituteFrom, valuesFrom, chart sources and
// their credentials), keep it, and so does an object that is not
// compacted. Call it from Options.Checked only, before the unit is
// shared.
func (o *Object) Release() {
	if !o.compact || fleet.IsFluxGroup(apiGroup(o.apiVersion)) ||
		(o.apiVersion == "v1" && (o.kind == "ConfigMap" || o.kind == "Secret")) {
		return
	}
	o.raw = nil
}

// Released reports whether Release dropped the object's JSON.
func (o *Object) Released() bool { return o.compact && o.raw == nil }

// apiGroup is the group of an apiVersion, "" for the core group.
func apiGroup(apiVersion string) string {
	group, _, ok := strings.Cut(apiVersion, "/")
	if !ok {
		return ""
	}
	return group
}

// is reports whether the object is kind/namespace/name, without decoding
// it.
func (o *Object) is(kind, namespace, name string) bool {
	if o.compact {
		return o.kind == kind && o.name == name && o.namespace == namespace
	}
	u := unstructured.Unstructured{Object: o.Object}
	return u.GetKind() == kind && u.GetName() == name && u.GetNamespace() == namespace
}

// compactObjects replaces a finished unit's objects by compacted copies
// (Options.Compact): each holds its JSON instead of the decoded map. The
// copies, their JSON and their Refs share three allocations, so that what
// the render keeps of a unit is a few blocks rather than many small ones
// scattered among the garbage of its build. Origins and apiVersions,
// repeated across units and clusters, are interned.
func compactObjects(objs []*Object) {
	raws := make([][]byte, len(objs))
	size := 0
	var refs strings.Builder
	for i, o := range objs {
		if o.compact || o.Object == nil {
			continue
		}
		b, err := json.Marshal(o.Object)
		if err != nil {
			continue
		}
		raws[i] = b
		size += len(b)
		refs.WriteString(o.Ref())
	}
	arena := make([]byte, 0, size)
	allRefs := strings.Clone(refs.String())
	slab := make([]Object, len(objs))
	for i, o := range objs {
		c := &slab[i]
		*c = *o
		c.File, c.Template = unique.Make(o.File).Value(), unique.Make(o.Template).Value()
		if b := raws[i]; b != nil {
			start := len(arena)
			arena = append(arena, b...)
			u := unstructured.Unstructured{Object: o.Object}
			kind, ns, name := u.GetKind(), u.GetNamespace(), u.GetName()
			n := len(fleet.ObjectRef(kind, ns, name))
			c.ref, allRefs = allRefs[:n], allRefs[n:]
			c.kind, c.name = c.ref[:len(kind)], c.ref[len(c.ref)-len(name):]
			if ns != "" {
				c.namespace = c.ref[len(kind)+1 : len(kind)+1+len(ns)]
			}
			api, _ := o.Object["apiVersion"].(string)
			c.apiVersion = unique.Make(api).Value()
			c.compact, c.raw, c.Object = true, arena[start:len(arena):len(arena)], nil
		}
		objs[i] = c
	}
}

// repackObjects moves the JSON of a unit's compacted objects that were
// not released into an allocation of its own: the one compactObjects
// made for all of them is freed then, not held by the few kept.
func repackObjects(objs []*Object) {
	size, released := 0, false
	for _, o := range objs {
		size += len(o.raw)
		released = released || o.Released()
	}
	if !released {
		return
	}
	arena := make([]byte, 0, size)
	for _, o := range objs {
		if o.raw != nil {
			start := len(arena)
			arena = append(arena, o.raw...)
			o.raw = arena[start:len(arena):len(arena)]
		}
	}
}

// DeepCopy returns a copy of the object that shares nothing with it.
func (o *Object) DeepCopy() *Object {
	c := *o
	c.Object, _ = fleet.CopyValue(o.Object).(map[string]any)
	return &c
}

// Unit is the output of one Flux Kustomization (or plain overlay): what
// kustomize-controller would apply for it; or of one HelmRelease: what
// helm-controller would install.
type Unit struct {
	// ID is Kind/namespace/name of the Flux object, or Overlay/<path>.
	ID        string
	Kind      string
	Namespace string
	Name      string
	// Cluster is the entry point the unit was reached from.
	Cluster string
	// File and Line locate the document declaring the unit.
	File string
	Line int
	// Path is the directory built, relative to the repository root; for a
	// HelmRelease, the chart's directory or its repository URL and version.
	Path string
	// Parent is the ID of the unit whose output declared this one.
	Parent    string
	Suspended bool
	// ServiceAccountName and TargetNamespace come from the Kustomization
	// (tenant isolation rules use them).
	ServiceAccountName string
	TargetNamespace    string
	Objects            []*Object
	// Hash covers every input of the unit: its spec, the files the build
	// read and the substitution variables. Equal hashes, equal output.
	Hash     string
	Problems []fleet.Problem
	// Failed is set when the unit could not be built.
	Failed bool
	// Skipped is set when Options.Scope says the change cannot reach the
	// unit: it was not built and has no objects.
	Skipped bool
	// Shard is the shard (1-based) that owns the unit under
	// Options.Shard; 0 in an unsharded render.
	Shard int
	// affected is set, with Options.Scope, when the change may reach the
	// unit's output.
	affected bool
	// expanded is set once the unit's ResourceSets were rendered into it.
	expanded bool
	// Sensitive holds values that came from Secrets (decrypted SOPS data,
	// substituteFrom Secret variables) and may appear in the objects;
	// outputs mask them. Never print it.
	Sensitive []string

	parent *Unit
}

// Result is a render of a repository.
type Result struct {
	// Clusters are the entry points rendered (a shard partitioned by
	// cluster renders its own only).
	Clusters []string
	Units    []*Unit
	// Stats count the builds run, reused and taken from the unit cache.
	Stats Stats
	// Shard is Options.Shard; Assignment the partition it selects from
	// (nil unsharded).
	Shard      Shard
	Assignment *Assignment

	builds *builds
}

func (r *Result) kept() *builds {
	if r == nil {
		return nil
	}
	return r.builds
}

// Problems returns the problems of every unit, in unit order.
func (r *Result) Problems() []fleet.Problem {
	var out []fleet.Problem
	for _, u := range r.Units {
		out = append(out, u.Problems...)
	}
	return out
}

// SensitiveValues lists, longest first, the Secret-derived values of the
// renders' units worth masking in output (very short ones would mask
// unrelated text). Longer values come first so that a value containing
// another is masked whole.
func SensitiveValues(results ...*Result) []string {
	seen := map[string]bool{}
	var out []string
	for _, res := range results {
		if res == nil {
			continue
		}
		for _, u := range res.Units {
			for _, v := range u.Sensitive {
				if len(v) >= 4 && !seen[v] {
					seen[v] = true
					out = append(out, v)
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if len(out[i]) != len(out[j]) {
			return len(out[i]) > len(out[j])
		}
		return out[i] < out[j]
	})
	return out
}

// ObjectCount is the number of rendered objects.
func (r *Result) ObjectCount() int {
	n := 0
	for _, u := range r.Units {
		n += len(u.Objects)
	}
	return n
}

// job is a unit waiting to be built.
type job struct {
	// root is set for an entry point's bootstrap Kustomization read from
	// its file: once built, the unit is built again from its own rendered
	// spec when that differs (patches its kustomization.yaml applies to
	// it), as Flux does after the first apply.
	root    bool
	cluster string
	parent  *Unit
	ks      map[string]any // the Flux Kustomization as rendered, nil for overlays
	hr      map[string]any // the HelmRelease as rendered, for KindHelmRelease
	doc     *fleet.Document
	file    string
	line    int
	path    string // overlay path for KindOverlay
}

// Render builds every unit reachable from the entry points, in parallel.
// Problems in the repository are recorded on the units; an error is
// returned only when rendering cannot go on (context cancelled).
func Render(ctx context.Context, repo *fleet.Repo, opts Options) (*Result, error) {
	opts.Workers = fleet.Workers(opts.Workers)
	clusters := opts.Paths
	if len(clusters) == 0 {
		clusters = repo.EntryPoints()
	}
	if opts.Plain || (len(clusters) == 0 && PlainManifests(repo)) {
		return renderPlain(ctx, repo, opts)
	}
	if (repo.HasIgnored || repo.HasSymlinks || repo.HasSpecial) && opts.Materialize == nil {
		// Flux builds from an artifact without the ignored files, links
		// and special files; so do we.
		tmp, err := os.MkdirTemp("", "fluxgate-artifact-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		if err := materialize(repo, opts.Dir, tmp); err != nil {
			return nil, fmt.Errorf("prepare the source artifact of %s: %w", opts.Dir, err)
		}
		opts.Dir = tmp
	}
	r := &renderer{repo: repo, opts: opts, visited: map[string]bool{}, sem: make(chan struct{}, opts.Workers), unsafe: map[string]string{}, charts: helm.NewFetcher(helm.FetcherOptions{CacheDir: opts.CacheDir, Offline: opts.Offline, RestrictEgress: opts.RestrictEgress}), kept: &builds{}}
	defer r.removeStaging()
	if opts.UnitCacheDir != "" {
		r.ucache = cache.Open(opts.UnitCacheDir, opts.UnitCacheMaxBytes)
		defer r.ucache.Trim()
	}
	for f, reason := range repo.Unsafe {
		r.unsafe[filepath.Join(opts.Dir, filepath.FromSlash(f))] = reason
	}
	res := &Result{Shard: opts.Shard}
	if opts.Shard.Sharded() {
		r.assign = Partition(repo, opts.Paths, opts.Shard.Count)
		res.Assignment = r.assign
	}
	for _, c := range clusters {
		c = cleanCluster(c)
		if r.assign != nil && r.assign.ByCluster && r.assign.ClusterShard(c) != opts.Shard.Index {
			continue // another shard renders this cluster
		}
		res.Clusters = append(res.Clusters, c)
		r.spawn(ctx, r.rootJob(c))
	}
	r.wg.Wait()
	if r.buildSkippedForeign(ctx) {
		r.wg.Wait()
	}
	// Units whose substituteFrom names a ConfigMap or Secret that neither
	// their ancestors nor the repository's files hold wait until everything
	// else is rendered, then look it up in every unit of their cluster (the
	// object usually comes from a unit they depend on).
	r.mu.Lock()
	deferred := r.deferred
	r.deferred, r.final = nil, true
	r.mu.Unlock()
	for _, j := range deferred {
		r.mu.Lock()
		delete(r.visited, j.cluster+"|"+jobID(j))
		r.mu.Unlock()
		r.spawn(ctx, j)
	}
	r.wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sort.SliceStable(r.units, func(i, j int) bool {
		a, b := r.units[i], r.units[j]
		if a.Cluster != b.Cluster {
			return a.Cluster < b.Cluster
		}
		return a.ID < b.ID
	})
	res.Units = r.units
	res.Stats = Stats{Built: r.stats.built.Load(), Reused: r.stats.reused.Load(), Cached: r.stats.cached.Load()}
	if opts.KeepBuilds {
		r.kept.units = make(map[string]*Unit, len(r.units))
		for _, u := range r.units {
			r.kept.units[u.Cluster+"|"+u.ID] = u
		}
		res.builds = r.kept
	}
	return res, nil
}

type renderer struct {
	repo *fleet.Repo
	opts Options
	sem  chan struct{}
	wg   sync.WaitGroup
	// unsafe holds absolute paths of files kustomize must not parse.
	unsafe map[string]string

	mu       sync.Mutex
	visited  map[string]bool
	units    []*Unit
	deferred []job
	// final is set for the second pass, when lookups see every unit.
	final bool
	// charts fetches remote Helm charts for HelmRelease units.
	charts *helm.Fetcher
	// kept holds the builds kept for a later render (Options.KeepBuilds).
	kept *builds
	// assign is the partition of Options.Shard; skippedForeign the units
	// Options.SkipForeign left unbuilt, with their jobs; buildForeign is
	// set once they must be built after all.
	assign         *Assignment
	skippedForeign map[*Unit]job
	buildForeign   bool

	stats stats
	// ucache is the on-disk unit cache (Options.UnitCacheDir), or nil.
	ucache *cache.Dir
	// sums caches file digests for reuse checks (relative path → sha256).
	sums sync.Map
	// artifacts holds the ExternalArtifacts laid out by their copy rules
	// (*artifactSlot), in the staging directory (removed at the end).
	artifacts sync.Map
	staging   string
	// providerSets are the ResourceSets whose inputs come from input
	// providers (guarded by mu).
	providerSets []providerSet
}

// rootJob finds what builds an entry point: the Kustomization of the
// repository whose path is the entry point and that its own build reaches
// (flux-system), or else a plain overlay of that path.
func (r *renderer) rootJob(cluster string) job {
	for _, fo := range r.repo.Kustomizations() {
		ks := fo.Kustomization()
		ns := fo.Doc.Namespace
		srcNS := ks.Spec.SourceRef.Namespace
		if srcNS == "" {
			srcNS = ns
		}
		root, ok := r.repo.SourceDir(ks.Spec.SourceRef.Kind, srcNS, ks.Spec.SourceRef.Name)
		if !ok {
			continue
		}
		if path.Join(root, strings.TrimPrefix(ks.Spec.Path, "/")) != cluster {
			continue
		}
		if !strings.HasPrefix(fo.Doc.File, cluster+"/") && cluster != "." {
			continue
		}
		return job{cluster: cluster, ks: fo.Doc.Object, doc: fo.Doc, file: fo.Doc.File, line: fo.Doc.Line, root: true}
	}
	return job{cluster: cluster, path: cluster}
}

func (r *renderer) spawn(ctx context.Context, j job) {
	key := j.cluster + "|" + jobID(j)
	r.mu.Lock()
	if r.visited[key] {
		r.mu.Unlock()
		return
	}
	r.visited[key] = true
	r.mu.Unlock()
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		select {
		case r.sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		u, children := r.safeBuild(ctx, j)
		if u != nil {
			// Before the unit is shared: its children look up in it.
			if r.assign != nil {
				u.Shard = r.assign.jobShard(j)
			}
			if r.opts.Compact {
				compactObjects(u.Objects)
			}
			if r.opts.Checked != nil {
				r.opts.Checked(u)
				repackObjects(u.Objects)
			}
		}
		<-r.sem
		r.mu.Lock()
		if u == nil {
			r.deferred = append(r.deferred, j)
			r.mu.Unlock()
			return
		}
		r.units = append(r.units, u)
		if r.opts.Progress != nil {
			r.opts.Progress(u)
		}
		r.mu.Unlock()
		for _, c := range children {
			r.spawn(ctx, c)
		}
	}()
}

func jobID(j job) string {
	if j.hr != nil {
		u := unstructured.Unstructured{Object: j.hr}
		return fleet.ObjectRef(u.GetKind(), u.GetNamespace(), u.GetName())
	}
	if j.ks == nil {
		return KindOverlay + "/" + j.path
	}
	u := unstructured.Unstructured{Object: j.ks}
	return fleet.ObjectRef(u.GetKind(), u.GetNamespace(), u.GetName())
}

// build renders one unit and returns the units its output declares. It
// returns a nil unit when the unit must wait for the second pass.
func (r *renderer) build(ctx context.Context, j job) (*Unit, []job) {
	if !r.isFinal() && r.mustDefer(j) {
		return nil, nil
	}
	u := &Unit{ID: jobID(j), Cluster: j.cluster, File: j.file, Line: j.line}
	if j.parent != nil {
		u.Parent, u.parent = j.parent.ID, j.parent
	}
	if j.hr != nil {
		if r.outOfScope(u, j) || r.skipForeign(u, j, "") {
			return u, nil
		}
		r.buildHelmRelease(ctx, u, j)
		return u, r.children(u, j)
	}
	if j.ks == nil {
		u.Kind = KindOverlay
		u.Path = j.path
		u.File = path.Join(j.path, "kustomization.yaml")
		if r.outOfScope(u, j) || r.skipForeign(u, j, u.Path) {
			return u, nil
		}
		if b := r.unchangedUnit(u, j); b != nil {
			return b, r.children(b, j)
		}
		r.buildKustomize(ctx, u, j, ".", nil)
		return u, r.children(u, j)
	}
	obj := unstructured.Unstructured{Object: j.ks}
	u.Kind, u.Namespace, u.Name = KindKustomization, obj.GetNamespace(), obj.GetName()
	u.Suspended, _, _ = unstructured.NestedBool(j.ks, "spec", "suspend")
	u.ServiceAccountName, _, _ = unstructured.NestedString(j.ks, "spec", "serviceAccountName")
	u.TargetNamespace, _, _ = unstructured.NestedString(j.ks, "spec", "targetNamespace")
	if msg := invalidTargetNamespace(u.TargetNamespace); msg != "" {
		u.Failed = true
		u.Problems = append(u.Problems, r.problem(u, fleet.RuleRenderFailed, fleet.SeverityError, msg))
		return u, nil
	}

	kind, _, _ := unstructured.NestedString(j.ks, "spec", "sourceRef", "kind")
	name, _, _ := unstructured.NestedString(j.ks, "spec", "sourceRef", "name")
	ns, _, _ := unstructured.NestedString(j.ks, "spec", "sourceRef", "namespace")
	if ns == "" {
		ns = u.Namespace
	}
	src := r.repo.ResolveSourceIn(j.cluster, kind, ns, name, &fleet.Document{File: u.File, Line: u.Line, Kind: u.Kind, Namespace: u.Namespace, Name: u.Name})
	if src.Problem != nil && kind == "ExternalArtifact" {
		if ga := r.repo.GeneratedArtifactIn(j.cluster, ns, name); ga != nil {
			specPath, _, _ := unstructured.NestedString(j.ks, "spec", "path")
			r.buildFromArtifact(ctx, u, j, ga, specPath)
			return u, r.children(u, j)
		}
	}
	if src.Problem != nil {
		p := *src.Problem
		r.generatedSource(j, kind, ns, name, &p)
		u.Problems = append(u.Problems, p)
		u.Failed = p.Severity == fleet.SeverityError
		return u, nil
	}
	specPath, _, _ := unstructured.NestedString(j.ks, "spec", "path")
	rel := path.Clean("./" + strings.TrimPrefix(specPath, "/"))
	if rel == ".." || strings.HasPrefix(rel, "../") {
		u.Failed = true
		u.Problems = append(u.Problems, r.problem(u, fleet.RulePathEscape, fleet.SeverityError,
			fmt.Sprintf("spec.path %q leaves the source root", specPath)))
		return u, nil
	}
	u.Path = path.Join(src.Dir, rel)
	if !r.repo.IsDir(u.Path) {
		u.Failed = true
		u.Problems = append(u.Problems, r.problem(u, fleet.RulePathNotFound, fleet.SeverityError,
			fmt.Sprintf("spec.path %q does not exist in source %s (%s)", specPath, fleet.ObjectRef(kind, ns, name), u.Path)))
		return u, nil
	}
	if r.outOfScope(u, j) || r.skipForeign(u, j, u.Path) {
		return u, nil
	}
	if b := r.unchangedUnit(u, j); b != nil {
		return b, r.children(b, j)
	}
	r.buildKustomize(ctx, u, j, src.Dir, j.ks)
	if j.root {
		if self := selfIn(u); self != nil && !reflect.DeepEqual(self.Object["spec"], j.ks["spec"]) {
			again := j
			again.root, again.ks = false, self.Object
			return r.build(ctx, again)
		}
	}
	return u, r.children(u, j)
}

// invalidTargetNamespace says why a Kustomization's spec.targetNamespace
// is refused: the API server rejects every object placed in a namespace
// that is not a DNS-1123 label, so Flux applies nothing. Empty when it is
// unset, valid, or still holds a ${var} that no postBuild resolved.
func invalidTargetNamespace(ns string) string {
	if ns == "" || strings.Contains(ns, "${") {
		return ""
	}
	if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
		return fmt.Sprintf("spec.targetNamespace %q is not a valid namespace name: %s", ns, strings.Join(errs, "; "))
	}
	return ""
}

// selfIn finds, among a unit's objects, the Flux Kustomization the unit
// is built from.
func selfIn(u *Unit) *Object {
	for _, o := range u.Objects {
		api, _ := o.Object["apiVersion"].(string)
		if strings.HasPrefix(api, fleet.GroupKustomize+"/") && o.Ref() == u.ID {
			return o
		}
	}
	return nil
}

// safeBuild runs build and turns a panic in a library into a failed unit,
// so one bad unit never stops the others.
func (r *renderer) safeBuild(ctx context.Context, j job) (u *Unit, children []job) {
	defer func() {
		if p := recover(); p != nil {
			u = &Unit{ID: jobID(j), Cluster: j.cluster, File: j.file, Line: j.line, Path: j.path, Failed: true}
			if j.parent != nil {
				u.Parent, u.parent = j.parent.ID, j.parent
			}
			u.Problems = append(u.Problems, r.problem(u, fleet.RuleRenderFailed, fleet.SeverityError, fmt.Sprintf("internal error while rendering: %v", p)))
			children = nil
		}
	}()
	u, children = r.build(ctx, j)
	if u != nil {
		children = append(children, r.expandResourceSets(u, j)...)
	}
	return u, children
}

func (r *renderer) isFinal() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.final
}

// mustDefer reports whether a substituteFrom (Kustomization) or valuesFrom
// (HelmRelease) entry of the job resolves neither from its ancestors nor
// from the repository's files.
func (r *renderer) mustDefer(j job) bool {
	obj, field := j.ks, []string{"spec", "postBuild", "substituteFrom"}
	if j.hr != nil {
		obj, field = j.hr, []string{"spec", "valuesFrom"}
	}
	if obj == nil {
		return false
	}
	ns, _, _ := unstructured.NestedString(obj, "metadata", "namespace")
	refs, _, _ := unstructured.NestedSlice(obj, field...)
	for _, e := range refs {
		ref, _ := e.(map[string]any)
		kind, _ := ref["kind"].(string)
		name, _ := ref["name"].(string)
		if r.lookup(j.parent, kind, ns, name, j.cluster, false) == nil {
			return true
		}
	}
	if j.hr != nil {
		// The chart's source: a HelmRepository, OCIRepository or HelmChart
		// the repository defines only through a sibling's output.
		for _, f := range [][]string{{"spec", "chart", "spec", "sourceRef"}, {"spec", "chartRef"}} {
			ref, ok, _ := unstructured.NestedStringMap(obj, f...)
			if !ok || ref["kind"] == "GitRepository" || ref["kind"] == "Bucket" || ref["kind"] == "ExternalArtifact" {
				continue
			}
			refNS := ref["namespace"]
			if refNS == "" {
				refNS = ns
			}
			if r.lookup(j.parent, ref["kind"], refNS, ref["name"], j.cluster, false) == nil {
				return true
			}
		}
	}
	return false
}

func (r *renderer) problem(u *Unit, rule string, sev fleet.Severity, msg string) fleet.Problem {
	return fleet.Problem{Rule: rule, Severity: sev, File: u.File, Line: u.Line, Object: u.ID, Message: msg}
}

// children turns the Flux Kustomizations and HelmReleases among a unit's
// objects into jobs.
func (r *renderer) children(u *Unit, j job) []job {
	return r.childrenOf(u, j, u.Objects)
}

// childrenOf is children for some of the unit's objects.
func (r *renderer) childrenOf(u *Unit, j job, objs []*Object) []job {
	var out []job
	for _, o := range objs {
		api, _ := o.Object["apiVersion"].(string)
		kind, _ := o.Object["kind"].(string)
		if kind == "HelmRelease" && strings.HasPrefix(api, fleet.GroupHelm+"/") {
			out = append(out, job{cluster: j.cluster, parent: u, hr: o.Object, file: o.File, line: o.Line})
			continue
		}
		if kind != "Kustomization" || !strings.HasPrefix(api, fleet.GroupKustomize+"/") {
			continue
		}
		out = append(out, job{cluster: j.cluster, parent: u, ks: o.Object, file: o.File, line: o.Line})
	}
	return out
}

// hashInputs computes a unit's input hash.
func hashInputs(spec map[string]any, reads []string, vars map[string]string) string {
	h := sha256.New()
	b, _ := json.Marshal(spec)
	h.Write(b)
	h.Write([]byte{0})
	for _, r := range reads {
		h.Write([]byte(r))
		h.Write([]byte{'\n'})
	}
	h.Write([]byte{0})
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "%s=%s\n", k, vars[k])
	}
	return hex.EncodeToString(h.Sum(nil))
}
