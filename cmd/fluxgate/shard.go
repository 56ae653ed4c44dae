package main

import (
	"fmt"
	"io"

	"github.com/fluxgate/fluxgate/render"
)

// describeShard tells, on stderr, what a shard renders and owns.
func describeShard(stderr io.Writer, res *render.Result) {
	a := res.Assignment
	owned := 0
	for _, u := range res.Units {
		if res.Owns(u) {
			owned++
		}
	}
	if a.ByCluster {
		fmt.Fprintf(stderr, "shard %s: %d of %d clusters, %d units\n", res.Shard, len(res.Clusters), len(a.Items), owned)
		return
	}
	fmt.Fprintf(stderr, "shard %s: %d of %d units (fewer clusters than shards: split by unit)\n", res.Shard, owned, len(res.Units))
}

// parseShardFlag reads --shard i/n; empty means unsharded.
func parseShardFlag(s string) (render.Shard, error) {
	if s == "" {
		return render.Shard{}, nil
	}
	sh, err := render.ParseShard(s)
	if err != nil {
		return render.Shard{}, fmt.Errorf("--%w", err)
	}
	return sh, nil
}

// ownUnits returns the render restricted to the units its shard owns.
func ownUnits(res *render.Result) *render.Result {
	out := *res
	out.Units = nil
	for _, u := range res.Units {
		if res.Owns(u) {
			out.Units = append(out.Units, u)
		}
	}
	return &out
}
