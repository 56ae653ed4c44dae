package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxgate/fluxgate/validate"
)

// TestShardedValidateMergesToUnsharded validates fleets whole and in 1 to
// 4 shards: the merged JSON, SARIF and JUnit reports equal the unsharded
// ones, repository findings included (the broken fleets have load
// problems and a dependsOn cycle).
func TestShardedValidateMergesToUnsharded(t *testing.T) {
	for _, name := range []string{"fleet-infra", "plain-overlays", "patterns/multi-tenancy", "broken/dependson-cycle", "broken/missing-source"} {
		t.Run(name, func(t *testing.T) {
			fleet := filepath.Join(fleets, name)
			dir := t.TempDir()
			whole := map[string]string{}
			for _, f := range []string{"json", "sarif", "junit"} {
				whole[f] = filepath.Join(dir, "whole."+f)
			}
			_, stderr, code := run(t, "validate", fleet, "--fail-on", "none",
				"-o", "json="+whole["json"], "-o", "sarif="+whole["sarif"], "-o", "junit="+whole["junit"])
			if code != 0 {
				t.Fatalf("validate: exit %d: %s", code, stderr)
			}
			var unsharded validate.Report
			readJSON(t, whole["json"], &unsharded)
			for n := 1; n <= 4; n++ {
				shards := map[string][]string{}
				units := 0
				for i := n; i >= 1; i-- { // any order
					base := filepath.Join(dir, "n"+strconv.Itoa(n)+"-"+strconv.Itoa(i))
					args := []string{"validate", fleet, "--fail-on", "none", "--shard", strconv.Itoa(i) + "/" + strconv.Itoa(n)}
					for _, f := range []string{"json", "sarif", "junit"} {
						shards[f] = append(shards[f], base+"."+f)
						args = append(args, "-o", f+"="+base+"."+f)
					}
					if _, stderr, code := run(t, args...); code != 0 {
						t.Fatalf("shard %d/%d: exit %d: %s", i, n, code, stderr)
					}
					var part validate.Report
					readJSON(t, base+".json", &part)
					units += part.Summary.Units
				}
				if units != unsharded.Summary.Units {
					t.Errorf("n=%d: shards report %d units, unsharded %d", n, units, unsharded.Summary.Units)
				}
				for _, f := range []string{"json", "sarif", "junit"} {
					out, stderr, code := run(t, append([]string{"report", "merge", "--fail-on", "none", "-o", f}, shards[f]...)...)
					if code != 0 {
						t.Fatalf("merge %s: exit %d: %s", f, code, stderr)
					}
					want, err := os.ReadFile(whole[f])
					if err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff(string(want), out); diff != "" {
						t.Errorf("n=%d: merged %s differs from unsharded (-unsharded +merged):\n%s", n, f, diff)
					}
				}
			}
		})
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func TestShardFlagAndMergeErrors(t *testing.T) {
	dir := t.TempDir()
	jsonFile := filepath.Join(dir, "a.json")
	sarifFile := filepath.Join(dir, "b.sarif")
	junk := filepath.Join(dir, "junk.txt")
	if _, stderr, code := run(t, "validate", filepath.Join(fleets, "plain-overlays"), "-o", "json="+jsonFile, "-o", "sarif="+sarifFile); code != 0 {
		t.Fatalf("validate: exit %d: %s", code, stderr)
	}
	if err := os.WriteFile(junk, []byte("not a report\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"shard 0", []string{"validate", fleets + "/plain-overlays", "--shard", "0/2"}, 2, `--shard "0/2": want i/n`},
		{"shard above n", []string{"validate", fleets + "/plain-overlays", "--shard", "3/2"}, 2, "1 ≤ i ≤ n"},
		{"shard not i/n", []string{"render", fleets + "/plain-overlays", "--shard", "2"}, 2, `--shard "2"`},
		{"mixed formats", []string{"report", "merge", jsonFile, sarifFile}, 2, sarifFile + ": reports in different formats: a sarif report among json reports"},
		{"not a report", []string{"report", "merge", jsonFile, junk}, 2, junk + ": not a fluxgate json, sarif or junit report"},
		{"missing file", []string{"report", "merge", filepath.Join(dir, "nope.json")}, 2, "nope.json"},
		{"sarif to text", []string{"report", "merge", "-o", "text", sarifFile}, 2, "sarif reports merge into sarif only"},
		{"json to sarif", []string{"report", "merge", "-o", "sarif", jsonFile}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := run(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d: %s", code, tt.wantCode, stderr)
			}
			if !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantErr, stderr)
			}
		})
	}
}
