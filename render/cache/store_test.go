package cache_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/render/cache"
)

// TestDirRoundTrip: an entry reads back as the very values written, Go
// types included (int64 and float64 apart, an empty list not nil).
func TestDirRoundTrip(t *testing.T) {
	d := cache.Open(t.TempDir(), 0)
	e := &cache.Entry{
		Reads:    []string{"apps/a.yaml 0123", "apps/kustomization.yaml 4567"},
		Overlay:  "apps/kustomization.yaml",
		Own:      []cache.OwnRecord{{Ref: "ConfigMap/default/vars", Object: map[string]any{"data": map[string]any{"k": "v"}}}, {Ref: "ConfigMap/default/missing"}},
		Problems: []fleet.Problem{{Rule: "r", Severity: fleet.SeverityWarning, File: "apps/a.yaml", Line: 3, Object: "ConfigMap/default/a", Message: "m"}},
		Objects: []cache.Object{{File: "apps/a.yaml", Line: 3, Template: "t.yaml", Object: map[string]any{
			"kind": "ConfigMap", "n": int64(3), "f": 1.5, "empty": []any{}, "nil": nil,
		}}},
	}
	slot := "slot"
	name := cache.EntryName(slot, "hash")
	d.Put(slot, name, e)
	got, err := d.Get(slot, name)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(e, got); diff != "" {
		t.Errorf("entry read back (-put +got):\n%s", diff)
	}
	if names := d.Candidates(slot); len(names) != 1 || names[0] != name {
		t.Errorf("candidates %v, want [%s]", names, name)
	}
}

// TestDirCorruptEntryIsAMiss: an entry that is truncated, or that names
// another slot, is an error, never a wrong unit.
func TestDirCorruptEntryIsAMiss(t *testing.T) {
	root := t.TempDir()
	d := cache.Open(root, 0)
	name := cache.EntryName("a", "hash")
	d.Put("a", name, &cache.Entry{Overlay: "x"})
	p := filepath.Join(root, "a", name)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "b", name), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Get("b", name); err == nil {
		t.Error("an entry copied into another slot was read")
	}
	if err := os.WriteFile(p, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Get("a", name); err == nil {
		t.Error("a truncated entry was read")
	}
}

// TestDirKeepsSlotEntries: a slot keeps its SlotEntries newest entries.
func TestDirKeepsSlotEntries(t *testing.T) {
	d := cache.Open(t.TempDir(), 0)
	for i := range cache.SlotEntries + 2 {
		d.Put("s", cache.EntryName("s", string(rune('a'+i))), &cache.Entry{})
	}
	if n := len(d.Candidates("s")); n != cache.SlotEntries {
		t.Errorf("slot holds %d entries, want %d", n, cache.SlotEntries)
	}
}

// TestGeneratedRoundTrip: a kept generated kustomization file reads back;
// a garbled one is a miss; a nil Dir holds nothing.
func TestGeneratedRoundTrip(t *testing.T) {
	root := t.TempDir()
	d := cache.Open(root, 0)
	d.PutGenerated("k", "apps/kustomization.yaml", []byte("resources: [a.yaml]\n"))
	kfile, manifest, ok := d.Generated("k")
	if !ok || kfile != "apps/kustomization.yaml" || string(manifest) != "resources: [a.yaml]\n" {
		t.Fatalf("Generated = %q, %q, %t", kfile, manifest, ok)
	}
	p := filepath.Join(root, "generated", "k")
	data, _ := os.ReadFile(p)
	data[len(data)-2] = 'X'
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := d.Generated("k"); ok {
		t.Error("a garbled generated file was read")
	}
	var none *cache.Dir
	none.PutGenerated("k", "f", nil)
	if _, _, ok := none.Generated("k"); ok {
		t.Error("a nil Dir holds a generated file")
	}
}
