package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// complete runs cobra's hidden __complete command and returns the
// suggestions, without the trailing directive line.
func complete(t *testing.T, args ...string) []string {
	t.Helper()
	out, stderr, code := run(t, append([]string{"__complete"}, args...)...)
	if code != 0 {
		t.Fatalf("__complete %v: exit %d: %s", args, code, stderr)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasPrefix(l, ":") {
			got = append(got, strings.SplitN(l, "\t", 2)[0])
		}
	}
	return got
}

// TestCompletionValues: completion suggests output formats per command,
// severities, embedded Kubernetes minors, rule IDs and the entry points of
// the directory argument.
func TestCompletionValues(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"validate", "-o", ""}, []string{"text", "pretty", "json", "junit", "sarif", "github"}},
		{[]string{"diff", "-o", ""}, []string{"text", "json", "markdown"}},
		{[]string{"validate", "--fail-on", ""}, []string{"error", "warning", "info", "none"}},
		{[]string{"validate", filepath.Join(fleets, "fleet-infra"), "--path", ""}, []string{"clusters/production", "clusters/staging"}},
	} {
		if got := complete(t, tc.args...); !slices.Equal(got, tc.want) {
			t.Errorf("%v: got %q, want %q", tc.args, got, tc.want)
		}
	}
	versions := complete(t, "validate", "--kubernetes-version", "")
	if len(versions) == 0 || strings.Count(versions[0], ".") != 1 {
		t.Errorf("kubernetes versions: %q", versions)
	}
	if rules := complete(t, "validate", "--skip-rules", ""); !slices.Contains(rules, "schema-missing") || !slices.Contains(rules, "secret-not-encrypted") {
		t.Errorf("rules: %q", rules)
	}
}
