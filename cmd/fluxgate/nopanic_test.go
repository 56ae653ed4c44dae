package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoInternalError runs validate and render over every test fleet, the
// broken ones included, and fails on any "internal error": that is a
// recovered panic, a bug to fix, never a finding to show a user.
func TestNoInternalError(t *testing.T) {
	var fleets []string
	for _, glob := range []string{"fleet-infra", "plain-overlays", "broken/*", "patterns/*"} {
		m, err := filepath.Glob(filepath.Join("..", "..", "testdata", "fleets", glob))
		if err != nil {
			t.Fatal(err)
		}
		fleets = append(fleets, m...)
	}
	if len(fleets) < 20 {
		t.Fatalf("found %d test fleets, want the whole set", len(fleets))
	}
	key := filepath.Join("..", "..", "testdata", "fleets", "keys", "age.agekey")
	for _, dir := range fleets {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			continue
		}
		name, _ := filepath.Rel(filepath.Join("..", "..", "testdata", "fleets"), dir)
		t.Run(name, func(t *testing.T) {
			for _, args := range [][]string{
				{"validate", dir, "-o", "json"},
				{"validate", dir, "--decryption-key-file", key},
				{"render", dir},
			} {
				stdout, stderr, code := run(t, args...)
				if code > 1 && !strings.Contains(stderr, "fluxgate:") {
					t.Errorf("%v: exit %d without a message", args, code)
				}
				for _, s := range []string{stdout, stderr} {
					if strings.Contains(s, "internal error") || strings.Contains(s, "panic:") || strings.Contains(s, "goroutine ") {
						t.Errorf("%v: %s", args, firstLineWith(s, "internal error"))
					}
				}
			}
		})
	}
}

func firstLineWith(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return strings.SplitN(s, "\n", 2)[0]
}
