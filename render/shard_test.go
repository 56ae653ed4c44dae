package render_test

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxgate/fluxgate/render"
)

func TestParseShard(t *testing.T) {
	tests := []struct {
		in      string
		want    render.Shard
		wantErr bool
	}{
		{in: "1/1", want: render.Shard{Index: 1, Count: 1}},
		{in: "3/4", want: render.Shard{Index: 3, Count: 4}},
		{in: "0/4", wantErr: true},
		{in: "5/4", wantErr: true},
		{in: "1/0", wantErr: true},
		{in: "-1/2", wantErr: true},
		{in: "2", wantErr: true},
		{in: "a/b", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := render.ParseShard(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseShard(%q) error %v, want error %v", tt.in, err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseShard(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

// shardFleets are fleets with Kustomizations, HelmReleases and plain
// overlays.
var shardFleets = []string{"fleet-infra", "plain-overlays", "patterns/home-ops", "patterns/multi-tenancy"}

func TestShardsPartitionUnits(t *testing.T) {
	for _, name := range shardFleets {
		t.Run(name, func(t *testing.T) {
			_, all := renderDir(t, fleets+"/"+name, 2)
			ids := map[string]bool{}
			for _, u := range all.Units {
				ids[u.Cluster+"|"+u.ID] = true
			}
			for n := 1; n <= 4; n++ {
				owner := map[string]int{}
				var assignment *render.Assignment
				for i := 1; i <= n; i++ {
					_, res := renderDirOpts(t, fleets+"/"+name, render.Options{Workers: 2, Shard: render.Shard{Index: i, Count: n}})
					if len(res.Units) != len(all.Units) {
						t.Errorf("%d/%d: %d units built, want every one of %d", i, n, len(res.Units), len(all.Units))
					}
					if assignment == nil {
						assignment = res.Assignment
					} else if diff := cmp.Diff(assignment.Items, res.Assignment.Items); diff != "" {
						t.Fatalf("%d/%d computes another assignment (-first +this):\n%s", i, n, diff)
					}
					for _, u := range res.Units {
						if u.Shard < 1 || u.Shard > n {
							t.Errorf("%d/%d: %s in shard %d", i, n, u.ID, u.Shard)
						}
						if !res.Owns(u) {
							continue
						}
						key := u.Cluster + "|" + u.ID
						if prev, dup := owner[key]; dup {
							t.Errorf("%d/%d: %s is owned by shards %d and %d", i, n, key, prev, i)
						}
						owner[key] = i
					}
				}
				for id := range ids {
					if _, ok := owner[id]; !ok {
						t.Errorf("n=%d: no shard owns %s", n, id)
					}
				}
			}
		})
	}
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
