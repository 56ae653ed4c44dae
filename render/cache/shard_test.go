package cache_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxgate/fluxgate/render/cache"
)

func TestParseShard(t *testing.T) {
	tests := []struct {
		in      string
		want    cache.Shard
		wantErr bool
	}{
		{in: "1/1", want: cache.Shard{Index: 1, Count: 1}},
		{in: "3/4", want: cache.Shard{Index: 3, Count: 4}},
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
			got, err := cache.ParseShard(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseShard(%q) error %v, want error %v", tt.in, err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseShard(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

// TestAssignHeaviestToLightest: items go heaviest first, ties by key, to
// the lightest shard, ties to the lowest index, whatever their order in.
func TestAssignHeaviestToLightest(t *testing.T) {
	items := []cache.Item{{Key: "d", Weight: 1}, {Key: "b", Weight: 5}, {Key: "a", Weight: 5}, {Key: "c", Weight: 3}, {Key: "e", Weight: 2}}
	weights := cache.Assign(items, 2)
	want := []cache.Item{{Key: "a", Weight: 5, Shard: 1}, {Key: "b", Weight: 5, Shard: 2}, {Key: "c", Weight: 3, Shard: 1}, {Key: "e", Weight: 2, Shard: 2}, {Key: "d", Weight: 1, Shard: 2}}
	if diff := cmp.Diff(want, items); diff != "" {
		t.Errorf("assignment (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{8, 8}, weights); diff != "" {
		t.Errorf("weights (-want +got):\n%s", diff)
	}
}

func TestShardOwns(t *testing.T) {
	if !(cache.Shard{}).Owns(3) {
		t.Error("an unsharded run does not own shard 3's units")
	}
	s := cache.Shard{Index: 2, Count: 3}
	if !s.Owns(2) || s.Owns(1) || s.Owns(3) {
		t.Errorf("shard 2/3 owns 1,2,3 = %t,%t,%t; want false,true,false", s.Owns(1), s.Owns(2), s.Owns(3))
	}
	if s.OwnsRepository() || !(cache.Shard{Index: 1, Count: 3}).OwnsRepository() {
		t.Error("the repository's findings belong to shard 1 only")
	}
}
