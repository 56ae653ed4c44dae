package cache

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Shard is one part of a partition of a render's units across Count
// runners; Index is 1-based. The zero value is an unsharded run.
type Shard struct {
	Index, Count int
}

// ParseShard reads "i/n" with 1 ≤ i ≤ n.
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return Shard{}, fmt.Errorf("shard %q: want i/n with 1 ≤ i ≤ n, e.g. 2/4", s)
	}
	return Shard{Index: i, Count: n}, nil
}

// String formats the shard as "i/n".
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// Sharded reports whether the run is one shard of several (or of one).
func (s Shard) Sharded() bool { return s.Count > 0 }

// OwnsRepository reports whether the shard reports the findings that
// belong to the repository rather than to a unit (load problems, dependsOn
// cycles, rules over the repository's files): shard 1, or an unsharded run.
func (s Shard) OwnsRepository() bool { return s.Count == 0 || s.Index == 1 }

// Owns reports whether the shard owns what the partition gave to shard
// index (1-based): everything, when the run is not sharded.
func (s Shard) Owns(index int) bool { return !s.Sharded() || index == s.Index }

// Item is one thing to assign to a shard, with its static weight; Shard
// is set by Assign.
type Item struct {
	Key    string
	Weight int
	Shard  int
}

// Assign gives items, heaviest first (ties by key), to the lightest of n
// shards (ties to the lowest index). It sorts items into that order, sets
// each one's Shard and returns the weight of each shard (index 0 is shard
// 1). The same items always give the same assignment.
func Assign(items []Item, n int) []int {
	if n < 1 {
		n = 1
	}
	sort.Slice(items, func(i, j int) bool {
		if items[i].Weight != items[j].Weight {
			return items[i].Weight > items[j].Weight
		}
		return items[i].Key < items[j].Key
	})
	weights := make([]int, n)
	for i := range items {
		lightest := 0
		for s := 1; s < n; s++ {
			if weights[s] < weights[lightest] {
				lightest = s
			}
		}
		items[i].Shard = lightest + 1
		weights[lightest] += items[i].Weight
	}
	return weights
}
