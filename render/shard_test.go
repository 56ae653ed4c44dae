package render_test

import (
	"fmt"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxgate/fluxgate/render"
)

// shardFleets are fleets with Kustomizations, HelmReleases and plain
// overlays, of one to three clusters: with 1 to 4 shards, both partitions
// (by cluster and by unit) are used.
var shardFleets = []string{"fleet-infra", "plain-overlays", "patterns/home-ops", "patterns/multi-tenancy", "patterns/kustomize-helm"}

// TestShardsPartitionUnits renders fleets in 1 to 4 shards. Every unit is
// owned by exactly one shard. Partitioned by cluster, a shard builds its
// own clusters' units only, exactly as the unsharded render builds them,
// and the shards together build each unit once (their builds add up to
// the unsharded render's). Partitioned by unit, every shard builds every
// unit.
func TestShardsPartitionUnits(t *testing.T) {
	for _, name := range shardFleets {
		t.Run(name, func(t *testing.T) {
			_, all := renderDir(t, fleets+"/"+name, 2)
			want := map[string]string{}
			for _, u := range all.Units {
				want[u.Cluster+"|"+u.ID] = dumpUnit(u)
			}
			for n := 1; n <= 4; n++ {
				owner := map[string]int{}
				built := map[string]string{}
				var builds int64
				var assignment *render.Assignment
				for i := 1; i <= n; i++ {
					_, res := renderDirOpts(t, fleets+"/"+name, render.Options{Workers: 2, Shard: render.Shard{Index: i, Count: n}})
					a := res.Assignment
					if assignment == nil {
						assignment = a
					} else if diff := cmp.Diff(assignment.Items, a.Items); diff != "" {
						t.Fatalf("%d/%d computes another assignment (-first +this):\n%s", i, n, diff)
					}
					if got, want := a.ByCluster, len(all.Clusters) >= n; got != want {
						t.Fatalf("%d/%d: ByCluster %v with %d clusters, want %v", i, n, got, len(all.Clusters), want)
					}
					if !a.ByCluster && len(res.Units) != len(all.Units) {
						t.Errorf("%d/%d by unit: %d units built, want every one of %d", i, n, len(res.Units), len(all.Units))
					}
					builds += res.Stats.Built
					for _, c := range res.Clusters {
						if a.ByCluster && a.ClusterShard(c) != i {
							t.Errorf("%d/%d: renders cluster %s of shard %d", i, n, c, a.ClusterShard(c))
						}
					}
					for _, u := range res.Units {
						if u.Shard < 1 || u.Shard > n {
							t.Errorf("%d/%d: %s in shard %d", i, n, u.ID, u.Shard)
						}
						key := u.Cluster + "|" + u.ID
						if a.ByCluster {
							if !res.Owns(u) {
								t.Errorf("%d/%d: built %s of shard %d", i, n, key, u.Shard)
							}
							if _, dup := built[key]; dup {
								t.Errorf("%d/%d: %s built by two shards", i, n, key)
							}
							built[key] = dumpUnit(u)
						}
						if !res.Owns(u) {
							continue
						}
						if prev, dup := owner[key]; dup {
							t.Errorf("%d/%d: %s is owned by shards %d and %d", i, n, key, prev, i)
						}
						owner[key] = i
					}
				}
				for id := range want {
					if _, ok := owner[id]; !ok {
						t.Errorf("n=%d: no shard owns %s", n, id)
					}
				}
				if assignment.ByCluster {
					if diff := cmp.Diff(want, built); diff != "" {
						t.Errorf("n=%d: units the shards built differ from the unsharded render's (-want +got):\n%s", n, diff)
					}
					if builds != all.Stats.Built {
						t.Errorf("n=%d: the shards ran %d builds, the unsharded render %d", n, builds, all.Stats.Built)
					}
				}
			}
		})
	}
}

// TestPartitionByCluster checks a partition by cluster: its items are the
// clusters, a cluster's weight sums the static weights of the units it
// renders, and a shard renders only its clusters.
func TestPartitionByCluster(t *testing.T) {
	repo, all := renderDir(t, fleets+"/patterns/kustomize-helm", 2)
	a := render.Partition(repo, nil, 2)
	if !a.ByCluster {
		t.Fatalf("3 clusters in 2 shards: partitioned by unit")
	}
	var keys []string
	for _, it := range a.Items {
		keys = append(keys, it.Key)
	}
	if diff := cmp.Diff([]string{"clusters/production", "clusters/production-clone", "clusters/staging"}, sorted(keys)); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}
	// Heaviest first (ties by path) onto the lightest shard (ties to the
	// lowest index).
	load := make([]int, 2)
	for i, it := range a.Items {
		if i > 0 && (it.Weight > a.Items[i-1].Weight || it.Weight == a.Items[i-1].Weight && it.Key < a.Items[i-1].Key) {
			t.Errorf("item %s before %s", a.Items[i-1].Key, it.Key)
		}
		lightest := 1
		if load[1] < load[0] {
			lightest = 2
		}
		if it.Shard != lightest {
			t.Errorf("%s (weight %d) in shard %d, want the lightest, %d (loads %v)", it.Key, it.Weight, it.Shard, lightest, load)
		}
		load[it.Shard-1] += it.Weight
	}
	if diff := cmp.Diff(load, a.Weights); diff != "" {
		t.Errorf("weights (-items +Weights):\n%s", diff)
	}
	// A cluster's weight is that of its units: the unit partition's
	// items, as many times as the cluster renders them.
	units := render.Partition(repo, nil, 99)
	if units.ByCluster {
		t.Fatal("3 clusters in 99 shards: partitioned by cluster")
	}
	itemWeight := map[string]int{}
	for _, it := range units.Items {
		itemWeight[it.Key] = it.Weight
	}
	got := map[string]int{}
	for _, u := range all.Units {
		if w, ok := itemWeight[fmt.Sprintf("%s:%d", u.File, u.Line)]; ok && u.Kind != render.KindOverlay {
			got[u.Cluster] += w
		}
	}
	for _, it := range a.Items {
		if got[it.Key] != it.Weight {
			t.Errorf("cluster %s: weight %d, its rendered units weigh %d", it.Key, it.Weight, got[it.Key])
		}
	}
	for i := 1; i <= 2; i++ {
		_, res := renderDirOpts(t, fleets+"/patterns/kustomize-helm", render.Options{Workers: 2, Shard: render.Shard{Index: i, Count: 2}})
		for _, u := range res.Units {
			if s := a.ClusterShard(u.Cluster); s != i {
				t.Errorf("shard %d built %s of cluster %s (shard %d)", i, u.ID, u.Cluster, s)
			}
		}
	}
}

func sorted(s []string) []string {
	s = append([]string(nil), s...)
	sort.Strings(s)
	return s
}

func TestShardSkipForeignBuildsOnlyWhatTheShardNeeds(t *testing.T) {
	for _, name := range shardFleets {
		t.Run(name, func(t *testing.T) {
			_, all := renderDir(t, fleets+"/"+name, 2)
			want := map[string]string{}
			for _, u := range all.Units {
				want[u.Cluster+"|"+u.ID] = dumpUnit(u)
			}
			n := 3
			got := map[string]string{}
			for i := 1; i <= n; i++ {
				_, res := renderDirOpts(t, fleets+"/"+name, render.Options{Workers: 2, Shard: render.Shard{Index: i, Count: n}, SkipForeign: true})
				for _, u := range res.Units {
					if res.Owns(u) {
						if u.Skipped {
							t.Errorf("shard %d skipped its own unit %s", i, u.ID)
						}
						got[u.Cluster+"|"+u.ID] = dumpUnit(u)
					}
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("owned units of the shards differ from the unsharded render (-want +got):\n%s", diff)
			}
		})
	}
}

// dumpUnit is what a unit renders to, for comparison.
func dumpUnit(u *render.Unit) string {
	s := fmt.Sprintf("%s %s %s:%d %s failed=%v problems=%v\n", u.Cluster, u.ID, u.File, u.Line, u.Path, u.Failed, u.Problems)
	for _, o := range u.Objects {
		s += fmt.Sprintf("%s %s:%d %v\n", o.Ref(), o.File, o.Line, o.Object)
	}
	return s
}

func TestPartitionIsStableAndBalanced(t *testing.T) {
	for _, name := range shardFleets {
		t.Run(name, func(t *testing.T) {
			repo, _ := renderDir(t, fleets+"/"+name, 1)
			for n := 1; n <= 4; n++ {
				a := render.Partition(repo, nil, n)
				for range 5 {
					// Map order must not matter.
					if diff := cmp.Diff(a.Items, render.Partition(repo, nil, n).Items); diff != "" {
						t.Fatalf("n=%d: unstable assignment (-first +again):\n%s", n, diff)
					}
				}
				largest, sum := 0, 0
				for _, it := range a.Items {
					largest = max(largest, it.Weight)
				}
				for _, w := range a.Weights {
					sum += w
				}
				if lo, hi := minOf(a.Weights), maxOf(a.Weights); hi > lo+largest {
					t.Errorf("n=%d: shard weights %v: max %d > min %d + largest item %d", n, a.Weights, hi, lo, largest)
				}
				total := 0
				for _, it := range a.Items {
					total += it.Weight
				}
				if total != sum {
					t.Errorf("n=%d: weights %v sum to %d, items to %d", n, a.Weights, sum, total)
				}
			}
		})
	}
}

func minOf(s []int) int {
	m := s[0]
	for _, v := range s {
		m = min(m, v)
	}
	return m
}

func maxOf(s []int) int {
	m := s[0]
	for _, v := range s {
		m = max(m, v)
	}
	return m
}
