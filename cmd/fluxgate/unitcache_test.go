package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// runWithCache executes the CLI in-process with the given cache directory
// (run gives every call a fresh one).
func runWithCache(t *testing.T, cacheDir string, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := newRootCmd(&out, &errb)
	cmd.SetArgs(append(args, "--offline", "--cache-dir", cacheDir))
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		t.Fatalf("fluxgate %v: %v\n%s", args, err, errb.String())
	}
	return out.String()
}

// TestRenderCommandUnitCache: a second render with the same --cache-dir
// prints exactly what the first printed, in YAML and JSON, from the
// units/ directory next to charts/; --no-unit-cache leaves units/ alone.
func TestRenderCommandUnitCache(t *testing.T) {
	fleet := filepath.Join(fleets, "fleet-infra")
	for _, format := range []string{"yaml", "json"} {
		t.Run(format, func(t *testing.T) {
			cache := t.TempDir()
			cold := runWithCache(t, cache, "render", fleet, "-o", format)
			entries, err := os.ReadDir(filepath.Join(cache, "units"))
			if err != nil || len(entries) == 0 {
				t.Fatalf("no unit cache under %s/units: %v", cache, err)
			}
			warm := runWithCache(t, cache, "render", fleet, "-o", format)
			if diff := cmp.Diff(cold, warm); diff != "" {
				t.Fatalf("warm render differs (-cold +warm):\n%s", diff)
			}
		})
	}
	t.Run("no-unit-cache", func(t *testing.T) {
		cache := t.TempDir()
		runWithCache(t, cache, "render", fleet, "--no-unit-cache")
		if _, err := os.Stat(filepath.Join(cache, "units")); !os.IsNotExist(err) {
			t.Errorf("--no-unit-cache wrote %s/units (%v)", cache, err)
		}
	})
}
