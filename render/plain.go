package render

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/render/cache"
)

// KindManifests is a directory of plain Kubernetes manifests, in a
// repository with neither a Flux Kustomization nor a kustomization file:
// its objects are the documents of the directory's files as written, each
// with its file and line, checked one by one as kubeconform checks files.
// Nothing is built: no kustomize, no substitution.
const KindManifests = "Manifests"

// PlainManifests reports whether repo is rendered as plain manifests
// (KindManifests): it has no Flux Kustomization and no kustomization
// file, so there is no build to follow.
func PlainManifests(repo *fleet.Repo) bool {
	if len(repo.Kustomizations()) > 0 {
		return false
	}
	for _, d := range repo.Dirs {
		if repo.HasKustomizationFile(d) {
			return false
		}
	}
	return true
}

// renderPlain renders a repository of plain manifests (PlainManifests):
// one KindManifests unit per directory holding Kubernetes objects, the
// directory its own cluster (objects in two directories are not one
// cluster's duplicates; kubectl apply -f does not descend either). YAML
// that is no Kubernetes object (no apiVersion and kind, a Helm chart's
// files, a templated file that is not YAML) was left out when the tree
// was loaded. With Options.Shard the directories are split by their
// number of documents, as clusters are.
func renderPlain(ctx context.Context, repo *fleet.Repo, opts Options) (*Result, error) {
	skip := map[string]bool{}
	for _, p := range repo.Problems {
		// A templated file that is not YAML: its documents before the
		// template are no manifest either.
		if p.Rule == fleet.RuleYAMLInvalid && p.Severity == fleet.SeverityInfo {
			skip[p.File] = true
		}
	}
	for f := range repo.Unsafe {
		skip[f] = true
	}
	byDir := map[string][]*fleet.Document{}
	for _, d := range repo.Docs {
		if skip[d.File] || strings.HasPrefix(d.APIVersion, "kustomize.config.k8s.io/") {
			continue
		}
		dir := path.Dir(d.File)
		byDir[dir] = append(byDir[dir], d)
	}
	dirs := make([]string, 0, len(byDir))
	for d := range byDir {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)

	res := &Result{Shard: opts.Shard}
	if opts.Shard.Sharded() {
		res.Assignment = plainAssignment(dirs, byDir, opts.Shard.Count)
	}
	var units []*Unit
	for _, dir := range dirs {
		if res.Assignment != nil && res.Assignment.ClusterShard(dir) != opts.Shard.Index {
			continue
		}
		res.Clusters = append(res.Clusters, dir)
		units = append(units, plainUnit(dir, byDir[dir], opts.Shard))
	}

	workers := opts.Workers
	if workers <= 0 {
		workers = 1
	}
	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, u := range units {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if opts.Compact {
				compactObjects(u.Objects)
			}
			if opts.Checked != nil {
				opts.Checked(u)
				repackObjects(u.Objects)
			}
			if opts.Progress != nil {
				mu.Lock()
				opts.Progress(u)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res.Units = units
	return res, nil
}

// plainUnit is the KindManifests unit of the documents of dir.
func plainUnit(dir string, docs []*fleet.Document, shard Shard) *Unit {
	u := &Unit{ID: KindManifests + "/" + dir, Kind: KindManifests, Cluster: dir, File: dir, Path: dir}
	if shard.Sharded() {
		u.Shard = shard.Index
	}
	h := sha256.New()
	for _, d := range docs {
		obj, _ := fleet.CopyValue(d.Object).(map[string]any)
		u.Objects = append(u.Objects, &Object{Object: obj, File: d.File, Line: d.Line})
		b, _ := json.Marshal(obj)
		h.Write([]byte(d.File + ":" + strconv.Itoa(d.Line) + "\n"))
		h.Write(b)
		h.Write([]byte{'\n'})
	}
	u.Hash = hex.EncodeToString(h.Sum(nil))
	return u
}

// plainAssignment splits the directories of plain manifests across n
// shards as Partition splits clusters: heaviest first (weight: the
// directory's documents), onto the lightest shard.
func plainAssignment(dirs []string, byDir map[string][]*fleet.Document, n int) *Assignment {
	items := make([]cache.Item, 0, len(dirs))
	for _, d := range dirs {
		items = append(items, cache.Item{Key: d, Weight: len(byDir[d])})
	}
	a := &Assignment{Count: n, ByCluster: true, Items: items, Weights: cache.Assign(items, n), byKey: make(map[string]int, len(items))}
	for _, it := range a.Items {
		a.byKey[it.Key] = it.Shard
	}
	return a
}
