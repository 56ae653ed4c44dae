package render

import (
	"context"
	"path"
	"path/filepath"

	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/render/cache"
)

// Shard is one part of a partition of a render's units (cache.Shard).
type Shard = cache.Shard

// ParseShard reads "i/n" with 1 ≤ i ≤ n.
func ParseShard(s string) (Shard, error) { return cache.ParseShard(s) }

// Assignment is a partition of a repository's units into shards. It is
// computed from the loaded tree alone, before anything is built, so every
// runner computes the same one from the same tree and paths.
//
// When the render has at least Count clusters (entry points), the
// partition is by cluster (ByCluster): its items are the clusters, keyed
// by path, and every unit belongs to the shard of its Unit.Cluster. A
// cluster's weight is the sum of the static weights of the units it
// reaches (see below), found by following, from its entry point, the Flux
// Kustomization and HelmRelease documents each build may output
// (fleet.Repo.BuildFluxDocs). A shard's render then builds its own
// clusters only: lookups never cross a cluster, so each unit renders as in
// an unsharded run, and rules over one cluster's units stay exact.
//
// With fewer clusters than shards, the partition is by unit: its items
// are the Flux Kustomization and HelmRelease documents of the repository,
// keyed by file:line (a unit built from a document carries the
// document's origin), and the entry points built as plain overlays, keyed
// by unit ID. Each has a static weight: for a Kustomization, 1 + the
// documents its build reads (fleet.Repo.BuildSize); for a HelmRelease,
// 1 + the files of a chart in the repository, or RemoteChartWeight. A unit
// whose origin is not an item (one a chart's output or a renamed copy
// declares) belongs to its parent's shard. A shard's render still builds
// every unit (see Options.Shard).
//
// Either way, cache.Assign gives items, heaviest first (ties by key), to
// the lightest shard (ties to the lowest index).
type Assignment struct {
	Count int
	// ByCluster is set when the items are clusters rather than units.
	ByCluster bool
	// Items in assignment order: weight descending, then key.
	Items []cache.Item
	// Weights sums the weight of the items of each shard (index 0 is
	// shard 1).
	Weights []int

	byKey map[string]int
}

// RemoteChartWeight is the static weight of a HelmRelease whose chart is
// not in the repository: templating a typical chart costs about as much
// as a kustomize build of fifty documents.
const RemoteChartWeight = 50

// Partition assigns the units reachable from paths (every entry point when
// empty) to n shards: by cluster when there are at least n clusters, by
// unit otherwise.
func Partition(repo *fleet.Repo, paths []string, n int) *Assignment {
	if n < 1 {
		n = 1
	}
	var clusters []string
	seen := map[string]bool{}
	if len(paths) == 0 {
		paths = repo.EntryPoints()
	}
	for _, c := range paths {
		if c = cleanCluster(c); !seen[c] {
			seen[c] = true
			clusters = append(clusters, c)
		}
	}
	r := &renderer{repo: repo}
	var items []cache.Item
	byCluster := len(clusters) >= n
	if byCluster {
		for _, c := range clusters {
			items = append(items, cache.Item{Key: c, Weight: clusterWeight(r, c)})
		}
	} else {
		items = unitItems(r, clusters)
	}
	a := &Assignment{Count: n, ByCluster: byCluster, Items: items, Weights: cache.Assign(items, n), byKey: make(map[string]int, len(items))}
	for _, it := range a.Items {
		a.byKey[it.Key] = it.Shard
	}
	return a
}

// cleanCluster is the form of an entry point path Render and Partition
// key clusters by.
func cleanCluster(c string) string {
	return path.Clean(strings.TrimPrefix(filepath.ToSlash(c), "./"))
}

// unitItems lists the items of a partition by unit: every Flux
// Kustomization and HelmRelease document, and the clusters built as plain
// overlays.
func unitItems(r *renderer, clusters []string) []cache.Item {
	var items []cache.Item
	seen := map[string]bool{}
	add := func(key string, w int) {
		if !seen[key] {
			seen[key] = true
			items = append(items, cache.Item{Key: key, Weight: w})
		}
	}
	for _, fo := range r.repo.Flux {
		if w, ok := unitWeight(r.repo, fo.Doc); ok {
			add(docKey(fo.Doc.File, fo.Doc.Line), w)
		}
	}
	for _, c := range clusters {
		if j := r.rootJob(c); j.ks == nil {
			add(jobID(j), 1+r.repo.BuildSize(c))
		}
	}
	return items
}

// unitWeight is the static weight of a Flux Kustomization or HelmRelease
// document; ok is false for any other document.
func unitWeight(repo *fleet.Repo, d *fleet.Document) (w int, ok bool) {
	switch {
	case d.Kind == "Kustomization" && strings.HasPrefix(d.APIVersion, fleet.GroupKustomize+"/"):
		if dir, ok := kustomizationDir(repo, d); ok {
			return 1 + repo.BuildSize(dir), true
		}
		return 1, true
	case d.Kind == "HelmRelease" && strings.HasPrefix(d.APIVersion, fleet.GroupHelm+"/"):
		return 1 + helmReleaseWeight(repo, d), true
	}
	return 0, false
}

// clusterWeight sums the static weights of the units a cluster reaches:
// its entry point's unit, then, transitively, every Flux Kustomization
// and HelmRelease document that a reached Kustomization's build may
// output. A document counts once per cluster, as the render builds it
// once per cluster.
func clusterWeight(r *renderer, cluster string) int {
	total := 0
	seen := map[string]bool{}
	var visit func(d *fleet.Document)
	visit = func(d *fleet.Document) {
		key := docKey(d.File, d.Line)
		w, ok := unitWeight(r.repo, d)
		if !ok || seen[key] {
			return
		}
		seen[key] = true
		total += w
		if dir, ok := kustomizationDir(r.repo, d); ok && d.Kind == "Kustomization" {
			for _, c := range r.repo.BuildFluxDocs(dir) {
				visit(c)
			}
		}
	}
	j := r.rootJob(cluster)
	if j.ks != nil {
		visit(j.doc)
		return total
	}
	total += 1 + r.repo.BuildSize(cluster)
	for _, c := range r.repo.BuildFluxDocs(cluster) {
		visit(c)
	}
	return total
}

// ShardOf returns the shard (1-based) owning a unit of a render made with
// this assignment's repository and paths.
func (a *Assignment) ShardOf(u *Unit) int {
	if a.ByCluster {
		return a.clusterShard(u.Cluster)
	}
	key := docKey(u.File, u.Line)
	if u.Kind == KindOverlay {
		key = u.ID
	}
	return a.shardOf(key, u.parent)
}

// ClusterShard returns the shard (1-based) owning a cluster's units in a
// partition by cluster; 0 in a partition by unit, whose clusters are
// shared.
func (a *Assignment) ClusterShard(cluster string) int {
	if !a.ByCluster {
		return 0
	}
	return a.clusterShard(cleanCluster(cluster))
}

func (a *Assignment) clusterShard(cluster string) int {
	if s, ok := a.byKey[cluster]; ok {
		return s
	}
	return 1
}

func (a *Assignment) shardOf(key string, parent *Unit) int {
	if s, ok := a.byKey[key]; ok {
		return s
	}
	if parent != nil && parent.Shard > 0 {
		return parent.Shard
	}
	return 1
}

// jobShard is the shard owning the unit a job builds.
func (a *Assignment) jobShard(j job) int {
	if a.ByCluster {
		return a.clusterShard(j.cluster)
	}
	key := docKey(j.file, j.line)
	if j.ks == nil && j.hr == nil {
		key = jobID(j)
	}
	return a.shardOf(key, j.parent)
}

func docKey(file string, line int) string { return file + ":" + strconv.Itoa(line) }

// kustomizationDir is the directory a Flux Kustomization document
// builds, when its source is in the repository.
func kustomizationDir(repo *fleet.Repo, d *fleet.Document) (string, bool) {
	spec, _ := d.Object["spec"].(map[string]any)
	p, _ := spec["path"].(string)
	ref, _ := spec["sourceRef"].(map[string]any)
	kind, _ := ref["kind"].(string)
	name, _ := ref["name"].(string)
	ns, _ := ref["namespace"].(string)
	if ns == "" {
		ns = d.Namespace
	}
	root, ok := repo.SourceDir(kind, ns, name)
	if !ok {
		return "", false
	}
	return path.Join(root, strings.TrimPrefix(p, "/")), true
}

// helmReleaseWeight is the number of files of a chart in the repository,
// or RemoteChartWeight.
func helmReleaseWeight(repo *fleet.Repo, d *fleet.Document) int {
	kind, _, _ := unstructured.NestedString(d.Object, "spec", "chart", "spec", "sourceRef", "kind")
	if kind != "GitRepository" && kind != "Bucket" {
		return RemoteChartWeight
	}
	name, _, _ := unstructured.NestedString(d.Object, "spec", "chart", "spec", "sourceRef", "name")
	ns, _, _ := unstructured.NestedString(d.Object, "spec", "chart", "spec", "sourceRef", "namespace")
	if ns == "" {
		ns = d.Namespace
	}
	chart, _, _ := unstructured.NestedString(d.Object, "spec", "chart", "spec", "chart")
	root, ok := repo.SourceDir(kind, ns, name)
	if !ok {
		return RemoteChartWeight
	}
	if n := repo.TreeSize(path.Join(root, strings.TrimPrefix(chart, "/"))); n > 0 {
		return n
	}
	return RemoteChartWeight
}

// Owns reports whether the render's shard owns the unit: its objects and
// problems are the shard's to report. Every unit of an unsharded render
// is owned.
func (r *Result) Owns(u *Unit) bool { return r.Shard.Owns(u.Shard) }

// skipForeign decides, with Options.SkipForeign, whether a unit another
// shard owns need not be built: a HelmRelease (dir empty), or a kustomize
// build of dir that cannot output a Flux object. It marks the unit Skipped.
func (r *renderer) skipForeign(u *Unit, j job, dir string) bool {
	if r.assign == nil || !r.opts.SkipForeign || r.assign.jobShard(j) == r.opts.Shard.Index {
		return false
	}
	if j.hr == nil && (r.opts.AllowRemoteBases || r.opts.EnableHelm || r.repo.DeclaresFlux(dir)) {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.buildForeign {
		return false
	}
	if r.skippedForeign == nil {
		r.skippedForeign = map[*Unit]job{}
	}
	r.skippedForeign[u] = j
	u.Skipped = true
	return true
}

// buildSkippedForeign builds the units skipForeign left out when a unit
// waits for a cluster-wide lookup, which may find its object in any of
// them. It reports whether it started builds.
func (r *renderer) buildSkippedForeign(ctx context.Context) bool {
	r.mu.Lock()
	if len(r.deferred) == 0 || len(r.skippedForeign) == 0 {
		r.mu.Unlock()
		return false
	}
	r.buildForeign = true
	skipped := r.skippedForeign
	r.skippedForeign = nil
	kept := r.units[:0]
	for _, u := range r.units {
		if _, ok := skipped[u]; !ok {
			kept = append(kept, u)
		}
	}
	r.units = kept
	jobs := make([]job, 0, len(skipped))
	for _, j := range skipped {
		delete(r.visited, j.cluster+"|"+jobID(j))
		jobs = append(jobs, j)
	}
	r.mu.Unlock()
	for _, j := range jobs {
		r.spawn(ctx, j)
	}
	return true
}
